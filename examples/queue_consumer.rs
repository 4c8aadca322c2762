//! An at-least-once queue whose consumer charges a card, then acknowledges.
//!
//! A shop publishes an order to a queue. The queue keeps the message on disk, delivers it
//! to the billing consumer and, until the consumer acknowledges it, delivers it again
//! when its visibility timeout runs out (at most twice; then the message goes to a
//! dead-letter queue). Billing charges the card, writing the charge to its ledger, and
//! acknowledges.
//!
//! Three consumers:
//! - `trusting` charges whatever arrives: a redelivery charges twice, with no fault at
//!   all (the timeout ran out while the acknowledgement was on its way);
//! - `remembering` keeps the ids it has charged in memory: a crash forgets them, and the
//!   redelivery after the restart charges twice;
//! - `same_write` (the fix) writes the message id into the ledger in the same write as
//!   the charge, and acknowledges without charging a message whose id is there.
//!
//! `cargo run --example queue_consumer` prints the three stories and exits 0 when the
//! verdicts are the expected ones.

use splitbrain::design::{Client, Design, Harness, Io, Tell, World};
use splitbrain::property::Property;
use splitbrain::report::{CheckReport, Verdict};
use splitbrain::system::{Faults, NetworkKind};

const QUEUE: usize = 0;
const BILLING: usize = 1;
/// Deliveries of one message before it is dead-lettered.
const MAX_DELIVERIES: u8 = 2;

/// An order to charge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Order {
    id: u8,
    cents: u16,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Op {
    Publish(Order),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Reply {
    Queued(u8),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Msg {
    /// The queue hands a message to the consumer (`delivery` counts from 1).
    Deliver { order: Order, delivery: u8 },
    /// The consumer is done with message `id`.
    Ack(u8),
}

/// The visibility timeout of message `id` runs out.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Visible(u8);

/// What a server keeps in memory.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Server {
    /// The queue works from its disk.
    Queue,
    /// Billing: the ids charged, as the `remembering` consumer keeps them.
    Billing { charged: Vec<u8> },
}

/// A charge written to billing's ledger: the amount and, in the fix, the message id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Charge {
    cents: u16,
    message: Option<u8>,
}

/// The disks: the queue's messages (with their deliveries so far) and dead letters;
/// billing's ledger.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Disk {
    messages: Vec<(Order, u8)>,
    dead: Vec<Order>,
    ledger: Vec<Charge>,
}

/// How billing avoids charging a redelivered message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Consumer {
    Trusting,
    Remembering,
    SameWrite,
}

impl Tell for Order {
    fn tell(&self) -> String {
        format!(
            "order {} (${}.{:02})",
            self.id,
            self.cents / 100,
            self.cents % 100
        )
    }
}
impl Tell for Op {
    fn tell(&self) -> String {
        let Op::Publish(o) = self;
        format!("publish {}", o.tell())
    }
}
impl Tell for Reply {
    fn tell(&self) -> String {
        let Reply::Queued(id) = self;
        format!("order {id} queued")
    }
}
impl Tell for Msg {
    fn tell(&self) -> String {
        match self {
            Msg::Deliver { order, delivery } => format!("deliver {} #{delivery}", order.tell()),
            Msg::Ack(id) => format!("ack order {id}"),
        }
    }
}
impl Tell for Visible {
    fn tell(&self) -> String {
        format!("order {} visible again", self.0)
    }
}
impl Tell for Server {
    fn tell(&self) -> String {
        match self {
            Server::Queue => "up".into(),
            Server::Billing { charged } if charged.is_empty() => "up".into(),
            Server::Billing { charged } => format!("remembers {charged:?} charged"),
        }
    }
}
impl Tell for Charge {
    fn tell(&self) -> String {
        match self.message {
            Some(id) => format!(
                "${}.{:02} for order {id}",
                self.cents / 100,
                self.cents % 100
            ),
            None => format!("${}.{:02}", self.cents / 100, self.cents % 100),
        }
    }
}
impl Tell for Disk {
    fn tell(&self) -> String {
        let mut parts = Vec::new();
        for (o, n) in &self.messages {
            parts.push(format!("order {} delivered {n}x", o.id));
        }
        for o in &self.dead {
            parts.push(format!("order {} dead-lettered", o.id));
        }
        if !self.ledger.is_empty() {
            let charges: Vec<_> = self.ledger.iter().map(Charge::tell).collect();
            parts.push(format!("charged {}", charges.join(", ")));
        }
        if parts.is_empty() {
            "empty".into()
        } else {
            parts.join("; ")
        }
    }
}

/// A queue and its billing consumer.
struct Billing {
    consumer: Consumer,
}

impl Billing {
    /// Delivers message `order` again (its `delivery`th time) and restarts its timeout.
    fn deliver(&self, io: &mut Io<Self>, order: Order, delivery: u8) {
        io.send(BILLING, Msg::Deliver { order, delivery });
        io.set_timer(Visible(order.id));
    }

    fn charge(&self, io: &mut Io<Self>, charged: &mut Vec<u8>, order: Order) {
        let mut disk = io.disk().clone();
        let done = match self.consumer {
            Consumer::Trusting => false,
            Consumer::Remembering => charged.contains(&order.id),
            Consumer::SameWrite => disk.ledger.iter().any(|c| c.message == Some(order.id)),
        };
        if !done {
            let message = (self.consumer == Consumer::SameWrite).then_some(order.id);
            disk.ledger.push(Charge {
                cents: order.cents,
                message,
            });
            io.save(disk);
            if self.consumer == Consumer::Remembering {
                charged.push(order.id);
            }
        }
        io.send(QUEUE, Msg::Ack(order.id));
    }
}

impl Design for Billing {
    type Op = Op;
    type Reply = Reply;
    type Msg = Msg;
    type Timer = Visible;
    type Server = Server;
    type Disk = Disk;
    type Record = ();

    fn servers(&self) -> Vec<String> {
        vec!["queue".into(), "billing".into()]
    }

    fn start(&self, io: &mut Io<Self>) -> Server {
        if io.me() == BILLING {
            return Server::Billing {
                charged: Vec::new(),
            };
        }
        // A restarted queue times out again every message it still holds.
        for (order, _) in io.disk().messages.clone() {
            io.set_timer(Visible(order.id));
        }
        Server::Queue
    }

    fn on_request(&self, io: &mut Io<Self>, _: &mut Server, op: &Op) {
        let Op::Publish(order) = *op;
        let mut disk = io.disk().clone();
        disk.messages.push((order, 1));
        io.save(disk);
        io.reply(Reply::Queued(order.id));
        self.deliver(io, order, 1);
    }

    fn on_message(&self, io: &mut Io<Self>, server: &mut Server, _: usize, msg: &Msg) {
        match (msg, server) {
            (Msg::Deliver { order, .. }, Server::Billing { charged }) => {
                self.charge(io, charged, *order)
            }
            (Msg::Ack(id), Server::Queue) => {
                let mut disk = io.disk().clone();
                disk.messages.retain(|(o, _)| o.id != *id);
                io.save(disk);
                io.cancel_timer(Visible(*id));
            }
            _ => {}
        }
    }

    fn on_timer(&self, io: &mut Io<Self>, _: &mut Server, timer: &Visible) {
        let mut disk = io.disk().clone();
        let Some(i) = disk.messages.iter().position(|(o, _)| o.id == timer.0) else {
            return;
        };
        let (order, delivered) = disk.messages[i];
        if delivered < MAX_DELIVERIES {
            disk.messages[i].1 += 1;
            io.save(disk);
            self.deliver(io, order, delivered + 1);
        } else {
            disk.messages.remove(i);
            disk.dead.push(order);
            io.save(disk);
        }
    }
}

fn charged_once() -> Property<Harness<Billing>> {
    Property::always(
        "charged_once",
        "the card is charged at most once for each order",
        |_, w: &World<Billing>| w.disks[BILLING].ledger.len() <= 1,
    )
    .with_values(|_, w: &World<Billing>| format!("billing ledger: {}", w.disks[BILLING].tell()))
}

fn queued_orders_are_charged() -> Property<Harness<Billing>> {
    Property::eventually(
        "queued_orders_are_charged",
        "an order the queue told the shop it took is charged in the end",
        |_, w: &World<Billing>| w.clients[0].done.is_empty() || !w.disks[BILLING].ledger.is_empty(),
    )
}

fn harness(name: &str, consumer: Consumer) -> Harness<Billing> {
    let order = Order { id: 1, cents: 2500 };
    Harness::new(name, Billing { consumer })
        .client(Client::script("shop", vec![(QUEUE, Op::Publish(order))]))
        .faults(Faults {
            network: NetworkKind::Unordered,
            loss: 1,
            crashes: 1,
        })
        .property(charged_once())
        .property(queued_orders_are_charged())
}

fn check(name: &str, consumer: Consumer, charged_once: Verdict) -> CheckReport {
    splitbrain::check(&harness(name, consumer))
        .expect("charged_once", charged_once)
        .run()
        .expect("the check runs")
}

fn main() {
    let reports = [
        check(
            "queue_consumer_trusting",
            Consumer::Trusting,
            Verdict::Violated,
        ),
        check(
            "queue_consumer_remembering",
            Consumer::Remembering,
            Verdict::Violated,
        ),
        check(
            "queue_consumer_same_write",
            Consumer::SameWrite,
            Verdict::Holds,
        ),
    ];
    for r in &reports {
        println!("{}", r.to_text());
    }
    std::process::exit(splitbrain::report::exit_code(&reports));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn charged_once_trace(r: &CheckReport) -> &splitbrain::trace::Trace {
        let p = (r.results.iter())
            .find(|p| p.property == "charged_once")
            .expect("charged_once is checked");
        assert_eq!(p.verdict, Verdict::Violated, "{}", r.to_text());
        p.trace.as_ref().expect("a counterexample")
    }

    #[test]
    fn queue_consumer_trusting() {
        let r = check(
            "queue_consumer_trusting",
            Consumer::Trusting,
            Verdict::Violated,
        );
        let t = charged_once_trace(&r);
        assert_eq!(t.len(), 4, "{}", r.to_text());
        assert!(
            t.to_text().contains("order 1 visible again"),
            "{}",
            r.to_text()
        );
        assert!(!t.steps.iter().any(|s| s.action == "crash"));
    }

    #[test]
    fn queue_consumer_remembering() {
        let r = check(
            "queue_consumer_remembering",
            Consumer::Remembering,
            Verdict::Violated,
        );
        let t = charged_once_trace(&r);
        assert_eq!(t.len(), 6, "{}", r.to_text());
        assert!(
            t.steps.iter().any(|s| s.action == "crash"),
            "{}",
            r.to_text()
        );
    }

    #[test]
    fn queue_consumer_same_write() {
        let r = check(
            "queue_consumer_same_write",
            Consumer::SameWrite,
            Verdict::Holds,
        );
        assert!(r.complete, "{}", r.to_text());
        for p in &r.results {
            assert_eq!(p.verdict, Verdict::Holds, "{}", r.to_text());
        }
    }
}
