//! Failover to an asynchronous replica that loses acknowledged writes.
//!
//! A client writes to the primary, then reads. When the primary does not answer in time
//! the client fails over and reads from the replica. The broken primary acknowledges a
//! write at once and ships it to the replica later (a timer); a client that fails over
//! before the shipment reads a value older than one it was told is written. The fix
//! ships first and acknowledges once the replica has the write.
//!
//! The claim is kept by an observer: a record of the writes acknowledged to clients,
//! outside every server, so no crash erases it.
//!
//! `cargo run --example failover` prints both stories and exits 0 when the verdicts are
//! the expected ones.

use splitbrain::design::{Client, Design, EventOf, Harness, Io, Outcome, Tell, World};
use splitbrain::property::Property;
use splitbrain::report::{CheckReport, Verdict};
use splitbrain::system::{Faults, NetworkKind};

const PRIMARY: usize = 0;
const REPLICA: usize = 1;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Op {
    Write(u8),
    Read,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Reply {
    Written(u8),
    Value(u8),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Msg {
    Ship(u8),
    Shipped(u8),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct ShipLater;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Db {
    value: u8,
    waiting: Option<splitbrain::design::Caller>,
}

/// The balance a server keeps on disk.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Saved(u8);

impl Tell for Saved {
    fn tell(&self) -> String {
        format!("balance={}", self.0)
    }
}

/// The newest write acknowledged to a client, and a read that came back older.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Acked {
    newest: u8,
    lost: Option<(u8, u8)>,
}

impl Tell for Op {
    fn tell(&self) -> String {
        match self {
            Op::Write(v) => format!("write balance={v}"),
            Op::Read => "read balance".into(),
        }
    }
}
impl Tell for Reply {
    fn tell(&self) -> String {
        match self {
            Reply::Written(v) => format!("balance={v} written"),
            Reply::Value(v) => format!("balance is {v}"),
        }
    }
}
impl Tell for Msg {
    fn tell(&self) -> String {
        match self {
            Msg::Ship(v) => format!("ship balance={v}"),
            Msg::Shipped(v) => format!("have balance={v}"),
        }
    }
}
impl Tell for ShipLater {
    fn tell(&self) -> String {
        "ship the log to the replica".into()
    }
}
impl Tell for Db {
    fn tell(&self) -> String {
        format!("balance={}", self.value)
    }
}
impl Tell for Acked {
    fn tell(&self) -> String {
        match self.lost {
            Some((w, r)) => format!("balance={w} acknowledged, then read {r}"),
            None => format!("balance={} acknowledged", self.newest),
        }
    }
}

/// A primary and its replica; `ack_after_ship` is the fix.
struct Failover {
    ack_after_ship: bool,
}

impl Design for Failover {
    type Op = Op;
    type Reply = Reply;
    type Msg = Msg;
    type Timer = ShipLater;
    type Server = Db;
    type Disk = Saved;
    type Record = Acked;

    fn servers(&self) -> Vec<String> {
        vec!["primary".into(), "replica".into()]
    }

    fn start(&self, io: &mut Io<Self>) -> Db {
        Db {
            value: io.disk().0,
            waiting: None,
        }
    }

    fn on_request(&self, io: &mut Io<Self>, db: &mut Db, op: &Op) {
        match op {
            Op::Read => io.reply(Reply::Value(db.value)),
            Op::Write(v) => {
                db.value = *v;
                io.save(Saved(*v));
                if self.ack_after_ship {
                    db.waiting = Some(io.caller());
                    io.send(REPLICA, Msg::Ship(*v));
                } else {
                    io.reply(Reply::Written(*v));
                    io.set_timer(ShipLater);
                }
            }
        }
    }

    fn on_message(&self, io: &mut Io<Self>, db: &mut Db, from: usize, msg: &Msg) {
        match msg {
            Msg::Ship(v) => {
                db.value = *v;
                io.save(Saved(*v));
                io.send(from, Msg::Shipped(*v));
            }
            Msg::Shipped(v) => {
                if let Some(c) = db.waiting.take() {
                    io.reply_to(c, Reply::Written(*v));
                }
            }
        }
    }

    fn on_timer(&self, io: &mut Io<Self>, db: &mut Db, _: &ShipLater) {
        io.send(REPLICA, Msg::Ship(db.value));
    }

    fn observe(&self, acked: &mut Acked, event: &EventOf<Self>, after: &World<Self>) {
        let splitbrain::design::Event::Deliver(p) = event else {
            return;
        };
        let (splitbrain::design::Node::Client(c), splitbrain::design::Body::Reply { reply, .. }) =
            (p.dst, &p.body)
        else {
            return;
        };
        // Only a reply the client took counts (not one to a request it gave up on).
        let last = after.clients[c].done.last().map(|d| &d.outcome);
        if last != Some(&Outcome::Replied(reply.clone())) {
            return;
        }
        match reply {
            Reply::Written(v) => acked.newest = acked.newest.max(*v),
            Reply::Value(v) if *v < acked.newest && acked.lost.is_none() => {
                acked.lost = Some((acked.newest, *v))
            }
            Reply::Value(_) => {}
        }
    }
}

/// Write 7; then read from the primary, and from the replica if the primary is silent.
fn client() -> Client<Failover> {
    Client::program("jose", |done| match done {
        [] => Some((PRIMARY, Op::Write(7))),
        [w] if w.outcome == Outcome::TimedOut => Some((PRIMARY, Op::Write(7))),
        [.., last] if matches!(last.outcome, Outcome::Replied(Reply::Written(_))) => {
            Some((PRIMARY, Op::Read))
        }
        [.., last] if last.outcome == Outcome::TimedOut && last.server == PRIMARY => {
            Some((REPLICA, Op::Read))
        }
        _ => None,
    })
    .with_timeout()
}

fn harness(name: &str, ack_after_ship: bool) -> Harness<Failover> {
    Harness::new(name, Failover { ack_after_ship })
        .client(client())
        .faults(Faults {
            network: NetworkKind::Unordered,
            loss: 0,
            crashes: 1,
        })
        .property(
            Property::always(
                "acknowledged_writes_survive_failover",
                "no read returns a value older than a write already acknowledged",
                |_, w: &World<Failover>| w.record.lost.is_none(),
            )
            .with_values(|_, w: &World<Failover>| w.record.tell()),
        )
}

fn check(name: &str, ack_after_ship: bool, expect: Verdict) -> CheckReport {
    splitbrain::check(&harness(name, ack_after_ship))
        .expect("acknowledged_writes_survive_failover", expect)
        .run()
        .expect("the check runs")
}

fn main() {
    let broken = check("failover_async", false, Verdict::Violated);
    let fixed = check("failover_ack_after_ship", true, Verdict::Holds);
    print!("{}\n{}", broken.to_text(), fixed.to_text());
    std::process::exit(splitbrain::report::exit_code(&[broken, fixed]));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failover_async() {
        let r = check("failover_async", false, Verdict::Violated);
        let t = r.results[0].trace.as_ref().expect("a counterexample");
        assert_eq!(t.len(), 5, "{}", r.to_text());
        assert!(t.to_text().contains("balance is 0"), "{}", r.to_text());
    }

    #[test]
    fn failover_ack_after_ship() {
        let r = check("failover_ack_after_ship", true, Verdict::Holds);
        assert!(r.complete);
        assert_eq!(r.results[0].verdict, Verdict::Holds, "{}", r.to_text());
    }
}
