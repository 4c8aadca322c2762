//! Your own design, in your own words: servers you write, clients and faults the harness
//! supplies, checked by the same engines and told by the same stories as the catalog.
//!
//! A design names its own types (the operations clients ask for, the replies, the
//! messages between servers, the timers, what a server keeps in memory and on disk) and
//! implements [`Design`]: the servers' names, how a server starts, what it does with a
//! request and with a message. Clients are the harness's ([`Client`]): each runs a
//! program that picks its next request from the outcomes so far. A [`Harness`] puts a
//! design, its clients, the faults and the properties together; [`crate::check()`] searches
//! every interleaving and returns verdicts with the shortest counterexamples.
//!
//! Messages travel on an unordered, duplicating or per-channel ordered network
//! ([`NetworkKind`]); `loss` messages may be lost and `crashes` crashes happen in a run. A
//! crashed server loses its memory and keeps its disk ([`Io::save`]); it restarts with
//! [`Design::start`]. Deliveries to a crashed server wait for its restart.
//!
//! A property may keep a record of its own ([`Design::observe`]), updated on every step
//! from the step taken, kept outside every server so no crash erases it.
//!
//! See `examples/two_phase_commit.rs`, `examples/queue_consumer.rs` and
//! `examples/failover.rs`.

use crate::property::Property;
use crate::system::{Faults, NetworkKind};
use crate::trace::{Narrate, Step};
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Arc;

pub use crate::tell::Tell;

/// What every type a design names must be: comparable, hashable (states are told apart
/// by fingerprint) and told in words.
pub trait Item: Clone + Debug + Hash + Eq + Ord + Send + Sync + Tell + 'static {}
impl<T: Clone + Debug + Hash + Eq + Ord + Send + Sync + Tell + 'static> Item for T {}

/// A design: its servers and what they do. Four methods are required.
pub trait Design: Send + Sync + Sized + 'static {
    /// What a client asks for.
    type Op: Item;
    /// What a server answers.
    type Reply: Item;
    /// A message between servers.
    type Msg: Item;
    /// A server's timer (`()` if none).
    type Timer: Item;
    /// What a server keeps in memory (lost in a crash).
    type Server: Item;
    /// What a server keeps on disk (kept through a crash; `()` if nothing).
    type Disk: Item + Default;
    /// What the properties record of the run, outside every server (`()` if nothing).
    type Record: Item + Default;

    /// The servers' names, in the order their indexes follow.
    fn servers(&self) -> Vec<String>;
    /// A server's memory when it starts, and when it restarts after a crash: `io` tells
    /// which server ([`Io::me`]) and its disk ([`Io::disk`]), and may send messages and
    /// set timers (a restarted server resumes its work).
    fn start(&self, io: &mut Io<Self>) -> Self::Server;
    /// A client's request arrives at a server; answer it now or later with [`Io::reply`].
    fn on_request(&self, io: &mut Io<Self>, state: &mut Self::Server, op: &Self::Op);
    /// A message from server `from` arrives.
    fn on_message(&self, io: &mut Io<Self>, state: &mut Self::Server, from: usize, msg: &Self::Msg);

    /// A timer set with [`Io::set_timer`] fires. Nothing by default.
    fn on_timer(&self, io: &mut Io<Self>, state: &mut Self::Server, timer: &Self::Timer) {
        let _ = (io, state, timer);
    }
    /// Updates the properties' record after every step, from the step and the state it
    /// led to (whose own record is the default while it is being updated). Nothing by
    /// default.
    fn observe(&self, record: &mut Self::Record, event: &EventOf<Self>, after: &World<Self>) {
        let _ = (record, event, after);
    }
}

/// Who sent a request: the client and its request number, to answer it later.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Caller {
    /// The client's index among the clients.
    pub client: usize,
    /// Its request number.
    pub request: u8,
}

impl Tell for Caller {
    fn tell(&self) -> String {
        format!("client {} request {}", self.client, self.request)
    }
}

/// What a server may do while it handles an event.
pub struct Io<'a, D: Design> {
    me: usize,
    caller: Option<Caller>,
    disk: &'a mut D::Disk,
    sends: Vec<(Node, BodyOf<D>)>,
    timers: Vec<(D::Timer, bool)>,
}

impl<D: Design> Io<'_, D> {
    /// This server's index.
    pub fn me(&self) -> usize {
        self.me
    }
    /// The caller of the request being handled. Only [`Design::on_request`] has one:
    /// asked anywhere else, this panics with a message that says so.
    pub fn caller(&self) -> Caller {
        self.caller
            .expect("Io::caller is asked only while handling a request (Design::on_request)")
    }
    /// Answers the request being handled.
    pub fn reply(&mut self, reply: D::Reply) {
        let c = self.caller();
        self.reply_to(c, reply);
    }
    /// Answers an earlier request.
    pub fn reply_to(&mut self, caller: Caller, reply: D::Reply) {
        self.sends.push((
            Node::Client(caller.client),
            Body::Reply {
                request: caller.request,
                reply,
            },
        ));
    }
    /// Sends a message to server `to`.
    pub fn send(&mut self, to: usize, msg: D::Msg) {
        self.sends.push((Node::Server(to), Body::Msg(msg)));
    }
    /// Sets a timer (setting a set timer changes nothing).
    pub fn set_timer(&mut self, timer: D::Timer) {
        self.timers.push((timer, true));
    }
    /// Cancels a timer.
    pub fn cancel_timer(&mut self, timer: D::Timer) {
        self.timers.push((timer, false));
    }
    /// What this server keeps on disk.
    pub fn disk(&self) -> &D::Disk {
        self.disk
    }
    /// Writes this server's disk (durably: a crash keeps it).
    pub fn save(&mut self, disk: D::Disk) {
        *self.disk = disk;
    }
}

/// The contents of a message in flight.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Body<Op, Reply, Msg> {
    /// A client's request.
    Request {
        /// Its number.
        request: u8,
        /// What is asked.
        op: Op,
    },
    /// A server's reply.
    Reply {
        /// The request answered.
        request: u8,
        /// The answer.
        reply: Reply,
    },
    /// A message between servers.
    Msg(Msg),
}

/// The contents of a message of design `D`.
pub type BodyOf<D> = Body<<D as Design>::Op, <D as Design>::Reply, <D as Design>::Msg>;

/// Where a message goes or comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    /// A server, by index.
    Server(usize),
    /// A client, by index.
    Client(usize),
}

/// A message in flight.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Packet<B> {
    /// Sender.
    pub src: Node,
    /// Receiver.
    pub dst: Node,
    /// Contents.
    pub body: B,
}

/// A message of design `D` in flight.
pub type PacketOf<D> = Packet<BodyOf<D>>;

/// How one of a client's requests ended.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome<R> {
    /// The server answered.
    Replied(R),
    /// The client gave up waiting.
    TimedOut,
}

/// One finished request of a client.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Done<Op, Reply> {
    /// The server asked.
    pub server: usize,
    /// What was asked.
    pub op: Op,
    /// How it ended.
    pub outcome: Outcome<Reply>,
}

/// A finished request of a client of design `D`.
pub type DoneOf<D> = Done<<D as Design>::Op, <D as Design>::Reply>;

/// A client's next request: the server to ask and the operation, or `None` to stop.
pub type Next<D> = Option<(usize, <D as Design>::Op)>;

type Program<D> = Arc<dyn Fn(&[DoneOf<D>]) -> Next<D> + Send + Sync>;

/// A client of the harness: a name, a program and whether it gives up waiting.
pub struct Client<D: Design> {
    name: String,
    program: Program<D>,
    timeout: bool,
}

impl<D: Design> Clone for Client<D> {
    fn clone(&self) -> Self {
        Client {
            name: self.name.clone(),
            program: self.program.clone(),
            timeout: self.timeout,
        }
    }
}

impl<D: Design> Client<D> {
    /// A client that asks `requests` in order, whatever the answers.
    pub fn script(name: &str, requests: Vec<(usize, D::Op)>) -> Client<D> {
        Client::program(name, move |done: &[DoneOf<D>]| {
            requests.get(done.len()).cloned()
        })
    }
    /// A client whose next request is computed from the outcomes so far (retry on a
    /// timeout, use a token from a reply, stop on an error...).
    pub fn program(
        name: &str,
        program: impl Fn(&[DoneOf<D>]) -> Next<D> + Send + Sync + 'static,
    ) -> Client<D> {
        Client {
            name: name.to_string(),
            program: Arc::new(program),
            timeout: false,
        }
    }
    /// The client gives up waiting (a timeout, taken at any moment while it waits).
    pub fn with_timeout(self) -> Client<D> {
        Client {
            timeout: true,
            ..self
        }
    }
}

/// A client's part of the world.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientRun<Op, Reply> {
    /// Finished requests, in order.
    pub done: Vec<Done<Op, Reply>>,
    /// The request waited for: its number, server and operation.
    pub waiting: Option<(u8, usize, Op)>,
}

/// A state of the whole system.
pub struct World<D: Design> {
    /// Each server's memory (`None` while crashed).
    pub servers: Vec<Option<D::Server>>,
    /// Each server's disk.
    pub disks: Vec<D::Disk>,
    /// Each server's timers that are set.
    pub timers: Vec<Vec<D::Timer>>,
    /// Each client's requests.
    pub clients: Vec<ClientRun<D::Op, D::Reply>>,
    /// Messages in flight (sorted, except on the ordered network: in the order sent).
    pub network: Vec<PacketOf<D>>,
    /// What the properties recorded.
    pub record: D::Record,
    /// The real-time order of register requests, per key, once
    /// [`Harness::linearizable`] asks for it (empty otherwise).
    pub real_time: crate::register::RealTimes,
    /// Messages lost so far.
    pub lost: u8,
    /// Crashes so far.
    pub crashed: u8,
}

impl<D: Design> World<D> {
    fn parts(&self) -> impl PartialEq + Hash + Debug + '_ {
        (
            &self.servers,
            &self.disks,
            &self.timers,
            &self.clients,
            &self.network,
            &self.record,
            &self.real_time,
            self.lost,
            self.crashed,
        )
    }
}
impl<D: Design> Clone for World<D> {
    fn clone(&self) -> Self {
        World {
            servers: self.servers.clone(),
            disks: self.disks.clone(),
            timers: self.timers.clone(),
            clients: self.clients.clone(),
            network: self.network.clone(),
            record: self.record.clone(),
            real_time: self.real_time.clone(),
            lost: self.lost,
            crashed: self.crashed,
        }
    }
}
impl<D: Design> PartialEq for World<D> {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}
impl<D: Design> Eq for World<D> {}
impl<D: Design> Hash for World<D> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.parts().hash(h)
    }
}
impl<D: Design> Debug for World<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.parts().fmt(f)
    }
}

/// One step of a run.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Event<P, Timer> {
    /// A message is delivered.
    Deliver(P),
    /// A message is lost.
    Lose(P),
    /// A server's timer fires.
    Timer(usize, Timer),
    /// A client gives up waiting.
    GiveUp(usize),
    /// A server crashes.
    Crash(usize),
    /// A crashed server restarts.
    Restart(usize),
}

/// A property of design `D` (`PropertyOf::<MyDesign>::always(..)` lets its closures' types
/// be inferred).
pub type PropertyOf<D> = Property<Harness<D>>;

/// A step of a run of design `D`.
pub type EventOf<D> = Event<PacketOf<D>, <D as Design>::Timer>;

/// A design with its clients, faults and properties: a model the engines check.
pub struct Harness<D: Design> {
    /// The design.
    pub design: D,
    name: String,
    clients: Vec<Client<D>>,
    faults: Faults,
    properties: Vec<Property<Harness<D>>>,
    server_names: Vec<String>,
    real_time: Option<RecordRealTime<D>>,
}

/// Records a register request sent (no reply yet) or answered, in real-time order.
type RecordRealTime<D> = fn(
    &mut crate::register::RealTimes,
    (usize, usize),
    &<D as Design>::Op,
    Option<&<D as Design>::Reply>,
);

impl<D: Design> Harness<D> {
    /// A harness for `design`, named `name` in reports (the name of its test, say), with
    /// no client, an unordered network and no fault.
    pub fn new(name: &str, design: D) -> Harness<D> {
        let server_names = design.servers();
        Harness {
            design,
            name: name.to_string(),
            clients: Vec::new(),
            faults: Faults {
                network: NetworkKind::Unordered,
                loss: 0,
                crashes: 0,
            },
            properties: Vec::new(),
            server_names,
            real_time: None,
        }
    }
    /// Adds a client.
    pub fn client(mut self, client: Client<D>) -> Self {
        self.clients.push(client);
        self
    }
    /// Sets the network and the fault budget.
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }
    /// Adds a property.
    pub fn property(mut self, property: Property<Harness<D>>) -> Self {
        self.properties.push(property);
        self
    }
    /// Adds the property `linearizable` (for each register, some single order of its
    /// operations, respecting real time, explains every value read), and records the
    /// real-time order of register requests it reads.
    pub fn linearizable(mut self) -> Self
    where
        D::Op: crate::register::Register<D::Reply>,
    {
        self.real_time = Some(crate::register::record::<D::Op, D::Reply>);
        self.property(crate::register::linearizable())
    }
    /// The clients' names, in the order their indexes follow.
    pub fn client_names(&self) -> Vec<&str> {
        self.clients.iter().map(|c| c.name.as_str()).collect()
    }
    /// The harness's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The properties.
    pub fn properties(&self) -> &[Property<Harness<D>>] {
        &self.properties
    }

    fn node_name(&self, n: Node) -> &str {
        match n {
            Node::Server(i) => &self.server_names[i],
            Node::Client(i) => &self.clients[i].name,
        }
    }

    /// Asks client `c`'s program for its next request and sends it.
    fn next_request(&self, w: &mut World<D>, c: usize) {
        let run = &mut w.clients[c];
        if let Some((server, op)) = (self.clients[c].program)(&run.done) {
            let request = run.done.len() as u8;
            if let Some(record) = self.real_time {
                record(&mut w.real_time, (c, run.done.len()), &op, None);
            }
            run.waiting = Some((request, server, op.clone()));
            w.network.push(Packet {
                src: Node::Client(c),
                dst: Node::Server(server),
                body: Body::Request { request, op },
            });
        }
    }

    fn settle(&self, w: &mut World<D>) {
        if self.faults.network != NetworkKind::Ordered {
            w.network.sort();
        }
    }

    fn deliverable(&self, w: &World<D>, i: usize) -> bool {
        let p = &w.network[i];
        if let Node::Server(s) = p.dst {
            if w.servers[s].is_none() {
                return false;
            }
        }
        if i > 0 && w.network[i - 1] == *p {
            return false; // the same message twice: one delivery step
        }
        self.faults.network != NetworkKind::Ordered
            || !w.network[..i]
                .iter()
                .any(|q| q.src == p.src && q.dst == p.dst)
    }

    /// Runs a server's handler and applies what it did.
    fn handle(
        &self,
        w: &mut World<D>,
        server: usize,
        caller: Option<Caller>,
        run: impl FnOnce(&D, &mut Io<D>, &mut D::Server),
    ) {
        let Some(mut state) = w.servers[server].take() else {
            return;
        };
        let mut io = Io {
            me: server,
            caller,
            disk: &mut w.disks[server],
            sends: Vec::new(),
            timers: Vec::new(),
        };
        run(&self.design, &mut io, &mut state);
        let (sends, timers) = (io.sends, io.timers);
        w.servers[server] = Some(state);
        self.effects(w, server, sends, timers);
    }

    /// Starts (or restarts) server `server` from its disk.
    fn boot(&self, w: &mut World<D>, server: usize) {
        let mut io = Io {
            me: server,
            caller: None,
            disk: &mut w.disks[server],
            sends: Vec::new(),
            timers: Vec::new(),
        };
        let state = self.design.start(&mut io);
        let (sends, timers) = (io.sends, io.timers);
        w.servers[server] = Some(state);
        self.effects(w, server, sends, timers);
    }

    /// Puts what a handler sent in flight and sets or cancels its timers.
    fn effects(
        &self,
        w: &mut World<D>,
        server: usize,
        sends: Vec<(Node, BodyOf<D>)>,
        timers: Vec<(D::Timer, bool)>,
    ) {
        for (dst, body) in sends {
            w.network.push(Packet {
                src: Node::Server(server),
                dst,
                body,
            });
        }
        for (t, on) in timers {
            let set = &mut w.timers[server];
            match (on, set.iter().position(|x| *x == t)) {
                (true, None) => {
                    set.push(t);
                    set.sort();
                }
                (false, Some(i)) => {
                    set.remove(i);
                }
                _ => {}
            }
        }
    }

    fn apply(&self, w: &mut World<D>, event: &EventOf<D>) {
        match event {
            Event::Deliver(p) => {
                if self.faults.network != NetworkKind::Duplicating {
                    let i = w.network.iter().position(|q| q == p).expect("in flight");
                    w.network.remove(i);
                }
                match (p.dst, &p.body) {
                    (Node::Server(s), Body::Request { request, op }) => {
                        let Node::Client(client) = p.src else { return };
                        let caller = Caller {
                            client,
                            request: *request,
                        };
                        self.handle(w, s, Some(caller), |d, io, st| d.on_request(io, st, op));
                    }
                    (Node::Server(s), Body::Msg(m)) => {
                        let Node::Server(from) = p.src else { return };
                        self.handle(w, s, None, |d, io, st| d.on_message(io, st, from, m));
                    }
                    (Node::Client(c), Body::Reply { request, reply }) => {
                        let run = &mut w.clients[c];
                        if let Some((r, server, op)) = run.waiting.clone() {
                            if r == *request {
                                if let Some(record) = self.real_time {
                                    record(&mut w.real_time, (c, r.into()), &op, Some(reply));
                                }
                                run.waiting = None;
                                run.done.push(Done {
                                    server,
                                    op,
                                    outcome: Outcome::Replied(reply.clone()),
                                });
                                self.next_request(w, c);
                            }
                        }
                    }
                    _ => {}
                }
            }
            Event::Lose(p) => {
                let i = w.network.iter().position(|q| q == p).expect("in flight");
                w.network.remove(i);
                w.lost += 1;
            }
            Event::Timer(s, t) => {
                w.timers[*s].retain(|x| x != t);
                self.handle(w, *s, None, |d, io, st| d.on_timer(io, st, t));
            }
            Event::GiveUp(c) => {
                let run = &mut w.clients[*c];
                if let Some((_, server, op)) = run.waiting.take() {
                    run.done.push(Done {
                        server,
                        op,
                        outcome: Outcome::TimedOut,
                    });
                    self.next_request(w, *c);
                }
            }
            Event::Crash(s) => {
                w.servers[*s] = None;
                w.timers[*s].clear();
                w.crashed += 1;
            }
            Event::Restart(s) => self.boot(w, *s),
        }
        self.settle(w);
    }
}

impl<D: Design> stateright::Model for Harness<D> {
    type State = World<D>;
    type Action = EventOf<D>;

    fn init_states(&self) -> Vec<World<D>> {
        let disks: Vec<D::Disk> = self
            .server_names
            .iter()
            .map(|_| D::Disk::default())
            .collect();
        let mut w = World {
            servers: vec![None; disks.len()],
            timers: vec![Vec::new(); disks.len()],
            disks,
            clients: (self.clients.iter())
                .map(|_| ClientRun {
                    done: Vec::new(),
                    waiting: None,
                })
                .collect(),
            network: Vec::new(),
            record: D::Record::default(),
            real_time: Vec::new(),
            lost: 0,
            crashed: 0,
        };
        for s in 0..w.servers.len() {
            self.boot(&mut w, s);
        }
        for c in 0..self.clients.len() {
            self.next_request(&mut w, c);
        }
        self.settle(&mut w);
        vec![w]
    }

    fn actions(&self, w: &World<D>, out: &mut Vec<EventOf<D>>) {
        for (i, p) in w.network.iter().enumerate() {
            if self.deliverable(w, i) {
                out.push(Event::Deliver(p.clone()));
                if w.lost < self.faults.loss {
                    out.push(Event::Lose(p.clone()));
                }
            }
        }
        for (s, timers) in w.timers.iter().enumerate() {
            for t in timers {
                out.push(Event::Timer(s, t.clone()));
            }
        }
        for (c, run) in w.clients.iter().enumerate() {
            if run.waiting.is_some() && self.clients[c].timeout {
                out.push(Event::GiveUp(c));
            }
        }
        for (s, st) in w.servers.iter().enumerate() {
            match st {
                Some(_) if w.crashed < self.faults.crashes => out.push(Event::Crash(s)),
                None => out.push(Event::Restart(s)),
                Some(_) => {}
            }
        }
    }

    fn next_state(&self, last: &World<D>, event: EventOf<D>) -> Option<World<D>> {
        let mut next = last.clone();
        self.apply(&mut next, &event);
        let mut record = std::mem::take(&mut next.record);
        self.design.observe(&mut record, &event, &next);
        next.record = record;
        // A step that changes nothing is no step (a message delivered again on a
        // duplicating network that its receiver ignores).
        (next != *last).then_some(next)
    }

    fn properties(&self) -> Vec<stateright::Property<Self>> {
        self.properties.iter().map(|p| p.to_stateright()).collect()
    }
}

impl<D: Design> Narrate for Harness<D> {
    type Packed = World<D>;
    fn pack(&self, state: World<D>) -> World<D> {
        state
    }
    fn unpack(&self, packed: &World<D>) -> World<D> {
        packed.clone()
    }

    fn start(&self, w: &World<D>) -> Vec<String> {
        let mut lines: Vec<String> = (w.servers.iter().enumerate())
            .map(|(i, s)| format!("{} {}", self.server_names[i], server_words(s)))
            .collect();
        for (c, run) in w.clients.iter().enumerate() {
            lines.push(format!("{} {}", self.clients[c].name, client_words(run)));
        }
        lines
    }

    fn step(&self, before: &World<D>, event: &EventOf<D>, after: &World<D>) -> Step {
        let (actor, to, action, text) = match event {
            Event::Deliver(p) => (p.src, Some(p.dst), "deliver", body_words(&p.body)),
            Event::Lose(p) => (
                p.src,
                Some(p.dst),
                "lose",
                format!("lost: {}", body_words(&p.body)),
            ),
            Event::Timer(s, t) => (
                Node::Server(*s),
                None,
                "timeout",
                format!("timer: {}", t.tell()),
            ),
            Event::GiveUp(c) => (
                Node::Client(*c),
                None,
                "timeout",
                "gives up waiting".to_string(),
            ),
            Event::Crash(s) => (
                Node::Server(*s),
                None,
                "crash",
                "crashes (memory lost, disk kept)".into(),
            ),
            Event::Restart(s) => (
                Node::Server(*s),
                None,
                "restart",
                "restarts from its disk".into(),
            ),
        };
        Step {
            step: 0,
            actor: self.node_name(actor).to_string(),
            to: to.map(|n| self.node_name(n).to_string()),
            action: action.to_string(),
            text,
            changes: self.changes(before, after),
        }
    }

    fn in_flight(&self, w: &World<D>, event: &EventOf<D>) -> bool {
        matches!(event, Event::Deliver(p) if w.network.contains(p))
    }

    fn spontaneous(&self, _: &World<D>, event: &EventOf<D>) -> bool {
        matches!(event, Event::Crash(_))
    }

    fn is_loss(&self, event: &EventOf<D>) -> bool {
        matches!(event, Event::Lose(_))
    }
}

impl<D: Design> Harness<D> {
    fn changes(&self, before: &World<D>, after: &World<D>) -> Vec<String> {
        let mut out = Vec::new();
        let pairs = before.servers.iter().zip(&after.servers).enumerate();
        for (i, (b, a)) in pairs {
            let (b, a) = (server_words(b), server_words(a));
            if b != a {
                out.push(format!("{}: {} -> {}", self.server_names[i], b, a));
            }
            // A disk that tells what the memory tells (a server that saves every change)
            // adds nothing to the story.
            if before.disks[i] != after.disks[i] && after.disks[i].tell() != a {
                out.push(format!(
                    "{} disk: {} -> {}",
                    self.server_names[i],
                    before.disks[i].tell(),
                    after.disks[i].tell()
                ));
            }
        }
        for (c, (b, a)) in before.clients.iter().zip(&after.clients).enumerate() {
            if b != a {
                let got = match a.done.last() {
                    Some(d) if a.done.len() > b.done.len() => match &d.outcome {
                        Outcome::Replied(r) => format!("got {}; ", r.tell()),
                        Outcome::TimedOut => "gave up; ".to_string(),
                    },
                    _ => String::new(),
                };
                out.push(format!(
                    "{}: {got}{}",
                    self.clients[c].name,
                    client_words(a)
                ));
            }
        }
        if before.record != after.record {
            out.push(format!("record: {}", after.record.tell()));
        }
        out
    }
}

fn server_words<S: Tell>(s: &Option<S>) -> String {
    match s {
        Some(s) => s.tell(),
        None => "(crashed)".to_string(),
    }
}

fn client_words<O: Tell, R>(run: &ClientRun<O, R>) -> String {
    match &run.waiting {
        Some((_, _, op)) => format!("waiting for {}", op.tell()),
        None => "done".to_string(),
    }
}

fn body_words<O: Tell, R: Tell, M: Tell>(b: &Body<O, R, M>) -> String {
    match b {
        Body::Request { op, .. } => op.tell(),
        Body::Reply { reply, .. } => format!("reply: {}", reply.tell()),
        Body::Msg(m) => m.tell(),
    }
}

/// A check of a [`Harness`] being set up: options in a builder, then [`Checking::run`].
pub struct Checking<'a, D: Design> {
    harness: &'a Harness<D>,
    opts: crate::check::CheckOptions,
    expect: Vec<(&'static str, crate::report::Verdict)>,
}

/// Starts a check of `harness` by breadth-first search (shortest counterexamples), with
/// at most 2,000,000 states unless told otherwise.
pub fn check<D: Design>(harness: &Harness<D>) -> Checking<'_, D> {
    let mut opts = crate::check::CheckOptions::default();
    opts.limits.max_states = Some(crate::testing::DEFAULT_MAX_STATES);
    Checking {
        harness,
        opts,
        expect: Vec::new(),
    }
}

impl<D: Design> Checking<'_, D> {
    /// Stops after this many unique states (the verdicts left open are incomplete).
    pub fn max_states(mut self, n: usize) -> Self {
        self.opts.limits.max_states = Some(n);
        self
    }
    /// Stops after this much wall time.
    pub fn timeout(mut self, t: std::time::Duration) -> Self {
        self.opts.limits.timeout = Some(t);
        self
    }
    /// Searches with this many threads (traces stay shortest).
    pub fn threads(mut self, n: usize) -> Self {
        self.opts.threads = n.max(1);
        self
    }
    /// Checks only these properties.
    pub fn properties(mut self, names: &[&str]) -> Self {
        self.opts.properties = names.iter().map(|n| n.to_string()).collect();
        self
    }
    /// The verdict expected of a property (holds, by default): a report says where a
    /// verdict differs.
    pub fn expect(mut self, property: &'static str, verdict: crate::report::Verdict) -> Self {
        self.expect.push((property, verdict));
        self
    }
    /// Checks `property` alone and panics, with its counterexample told as a story,
    /// unless the search finished and it holds (for a test).
    pub fn assert_holds(self, property: &str) {
        let r = self
            .properties(&[property])
            .run()
            .unwrap_or_else(|e| panic!("{e}"));
        let p = &r.results[0];
        if p.verdict != crate::report::Verdict::Holds || !r.complete {
            panic!("'{property}' does not hold:\n{}", r.to_text());
        }
    }
    /// Checks `property` alone and returns its shortest counterexample; panics unless it
    /// is violated in at most `max_steps` steps (for a test).
    pub fn assert_violated_within(self, property: &str, max_steps: usize) -> crate::trace::Trace {
        let r = self
            .properties(&[property])
            .run()
            .unwrap_or_else(|e| panic!("{e}"));
        match &r.results[0].trace {
            Some(t) if r.results[0].verdict == crate::report::Verdict::Violated => {
                if t.len() > max_steps {
                    panic!(
                        "'{property}' is violated in {} steps, more than {max_steps}:\n{}",
                        t.len(),
                        r.to_text()
                    );
                }
                t.clone()
            }
            _ => panic!("'{property}' is not violated:\n{}", r.to_text()),
        }
    }
    /// Runs the search.
    pub fn run(self) -> Result<crate::report::CheckReport, crate::error::Error> {
        let f = self.harness.faults;
        let bounds = crate::bounds::Bounds {
            clients: self.harness.clients.len() as u8,
            ops: 0,
            servers: self.harness.server_names.len() as u8,
            balance: 0,
            network: f.network,
            loss: f.loss,
            crashes: f.crashes,
        };
        let subject = crate::check::Subject {
            model: self.harness.name(),
            variant: "design",
            expect: &self.expect,
            bounds,
            defaults: bounds,
        };
        let mut report =
            crate::check::run(self.harness, &self.harness.properties, &subject, &self.opts)?;
        // A design outside the catalog is found again by its test's name.
        let name = self.harness.name();
        report.command = format!("cargo test {name}");
        report.setting = format!(
            "clients={} servers={} network={} loss={} crashes={}",
            bounds.clients,
            bounds.servers,
            f.network.as_str(),
            f.loss,
            f.crashes
        );
        for r in &mut report.results {
            r.reproduce = Some(format!("cargo test {name}"));
        }
        Ok(report)
    }
}
