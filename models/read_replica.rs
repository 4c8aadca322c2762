//! An asynchronous read replica: the missing transaction.
//!
//! Jose sends money to Carlos; the write goes to the primary, which saves it and says so.
//! Jose opens his transaction history; the read goes to a replica, which has not yet
//! received the transaction: Jose does not see what he just did (read-your-writes
//! broken). Once replication catches up, the databases agree again (eventual
//! consistency). With two replicas, Jose can even see the transaction on one page load
//! and not on the next (monotonic reads broken).
//!
//! The history page is one register, `x`: a write appends a transaction to the primary's
//! log, and a version is a log position (0: empty). The primary streams its newest
//! position to every replica asynchronously; a replica takes a position newer than its
//! own. Client requests and replies may be lost (`--loss`); the replication stream
//! retransmits and is not. Databases keep their data on disk across crashes.
//!
//! Workload: each client writes once, then reads `ops - 1` times, its k-th read going to
//! replica k (round robin), unless the variant routes it elsewhere.

use crate::architecture::{Architecture, Buildable, Variant};
use crate::bounds::Bounds;
use crate::client::{Client, ClientState, Request, RetryPolicy};
use crate::error::Error;
use crate::history::{key_name, Op, Reply, ReqId};
use crate::property::{ClientSteps, Kind, Property};
use crate::report::Verdict;
use crate::session;
use crate::system::{Msg, NetworkKind, Node as NodeTrait, SysState, System, Timer};
use stateright::actor::{Actor, Id, Out};
use std::borrow::Cow;

/// How reads are served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Reads go to the replicas, whatever they have.
    Async,
    /// A client's reads that follow its own write go to the primary.
    ReadPrimaryAfterWrite,
    /// Requests carry the client's session token (the newest version it has seen); a
    /// replica that is behind the token forwards the read to the primary.
    SessionToken,
}

/// A seeded bug (a mutant of a fix), for proving the properties catch it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bug {
    /// Replicas never forward, whatever the token says.
    IgnoreToken,
    /// Replicas forward only when two or more versions behind the token.
    TokenOffByOne,
    /// The primary acknowledges a write without applying it.
    AckWithoutApply,
    /// Replicas take any replicated version, even an older one.
    ReplicaRegresses,
    /// The primary never replicates to its last replica.
    SkipLastReplica,
}

/// Messages between databases.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Peer {
    /// The primary's newest log position and the value written there.
    Replicate {
        /// Log position.
        version: u8,
        /// Value at that position.
        value: u8,
    },
    /// A read a lagging replica hands to the primary.
    Forward {
        /// The client's request id.
        id: ReqId,
        /// The read.
        op: Op,
        /// Who to answer.
        client: Id,
    },
}

/// A database: the primary or a replica.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Db {
    /// True for the primary.
    pub primary: bool,
    /// The primary (for forwarding).
    pub primary_id: Id,
    /// The replicas (the primary streams to them).
    pub replicas: Vec<Id>,
    /// How reads are served.
    pub mode: Mode,
    /// A seeded bug, in mutants only.
    pub bug: Option<Bug>,
}

/// A database's durable state: its newest log position and the value there.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DbState {
    /// Log position (0: nothing written).
    pub version: u8,
    /// Value at that position.
    pub value: u8,
}

/// The actors of this model.
#[derive(Clone, Debug)]
pub enum Node {
    /// A database.
    Db(Db),
    /// A client.
    Client(Client),
}

/// Actor states.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NodeState {
    /// A database's.
    Db(DbState),
    /// A client's.
    Client(ClientState),
}

impl Db {
    fn answer_read(&self, st: &DbState, id: ReqId, client: Id, o: &mut Out<Node>) {
        o.send(
            client,
            Msg::Reply {
                id,
                reply: Reply::Value {
                    value: st.value,
                    version: st.version,
                },
            },
        );
    }

    fn on_msg(&self, st: &mut DbState, src: Id, msg: Msg<Peer>, o: &mut Out<Node>) {
        match msg {
            Msg::Request {
                id,
                op: Op::Write { value, .. },
                ..
            } if self.primary => {
                if self.bug == Some(Bug::AckWithoutApply) {
                    let version = st.version + 1;
                    o.send(
                        src,
                        Msg::Reply {
                            id,
                            reply: Reply::Written { version },
                        },
                    );
                    return;
                }
                st.version += 1;
                st.value = value;
                o.send(
                    src,
                    Msg::Reply {
                        id,
                        reply: Reply::Written {
                            version: st.version,
                        },
                    },
                );
                let skip = usize::from(self.bug == Some(Bug::SkipLastReplica));
                for &r in &self.replicas[..self.replicas.len() - skip] {
                    o.send(
                        r,
                        Msg::Peer(Peer::Replicate {
                            version: st.version,
                            value,
                        }),
                    );
                }
                o.save(Box::new(st.clone()));
            }
            Msg::Request {
                id,
                op: op @ Op::Read { .. },
                token,
            } => {
                let behind = match self.bug {
                    Some(Bug::IgnoreToken) => false,
                    Some(Bug::TokenOffByOne) => token > st.version.saturating_add(1),
                    _ => token > st.version,
                };
                if !self.primary && self.mode == Mode::SessionToken && behind {
                    o.send(
                        self.primary_id,
                        Msg::Peer(Peer::Forward {
                            id,
                            op,
                            client: src,
                        }),
                    );
                } else {
                    self.answer_read(st, id, src, o);
                }
            }
            Msg::Request { id, .. } => {
                // A write sent to a replica: replicas are read-only.
                o.send(
                    src,
                    Msg::Reply {
                        id,
                        reply: Reply::Error,
                    },
                );
            }
            Msg::Peer(Peer::Forward { id, client, .. }) => self.answer_read(st, id, client, o),
            Msg::Peer(Peer::Replicate { version, value }) => {
                if version > st.version || self.bug == Some(Bug::ReplicaRegresses) {
                    st.version = version;
                    st.value = value;
                    o.save(Box::new(st.clone()));
                }
            }
            Msg::Reply { .. } => {}
        }
    }
}

impl Actor for Node {
    type Msg = Msg<Peer>;
    type Timer = Timer;
    type State = NodeState;
    type Storage = Box<DbState>;
    type Random = ();

    fn on_start(&self, _id: Id, storage: &Option<Self::Storage>, o: &mut Out<Self>) -> NodeState {
        match self {
            Node::Db(_) => NodeState::Db(match storage {
                Some(saved) => (**saved).clone(),
                None => DbState {
                    version: 0,
                    value: 0,
                },
            }),
            Node::Client(c) => NodeState::Client(c.start(o)),
        }
    }

    fn on_msg(
        &self,
        _id: Id,
        state: &mut Cow<NodeState>,
        src: Id,
        msg: Msg<Peer>,
        o: &mut Out<Self>,
    ) {
        match (self, &**state) {
            (Node::Db(db), NodeState::Db(st)) => {
                let mut next = st.clone();
                db.on_msg(&mut next, src, msg, o);
                if next != *st || !o.is_empty() {
                    *state.to_mut() = NodeState::Db(next);
                }
            }
            (Node::Client(c), NodeState::Client(st)) => {
                if let Some(cs) = c.receive(st, msg, o) {
                    *state.to_mut() = NodeState::Client(cs);
                }
            }
            _ => {}
        }
    }

    fn on_timeout(&self, _id: Id, state: &mut Cow<NodeState>, _t: &Timer, o: &mut Out<Self>) {
        if let (Node::Client(c), NodeState::Client(st)) = (self, &**state) {
            if let Some(cs) = c.time_out(st, o) {
                *state.to_mut() = NodeState::Client(cs);
            }
        }
    }
}

impl NodeTrait for Node {
    type Peer = Peer;

    // Servers answer each attempt once; clients send clients nothing.
    fn replies_once(&self) -> bool {
        true
    }

    // A database never reads a reply, nor a copy of a version it already holds (versions
    // only grow, and a restart gives back what was saved with each).
    fn ignores_for_good(&self, state: &NodeState, _src: Id, msg: &Msg<Peer>) -> bool {
        match (self, state) {
            (Node::Db(db), NodeState::Db(st)) => match msg {
                Msg::Reply { .. } => true,
                Msg::Peer(Peer::Replicate { version, .. }) => {
                    *version <= st.version && db.bug != Some(Bug::ReplicaRegresses)
                }
                _ => false,
            },
            (Node::Client(c), NodeState::Client(st)) => c.ignores_for_good(st, msg),
            _ => false,
        }
    }

    fn as_client(&self) -> Option<&Client> {
        match self {
            Node::Client(c) => Some(c),
            Node::Db(_) => None,
        }
    }

    fn client_state(state: &NodeState) -> Option<&ClientState> {
        match state {
            NodeState::Client(c) => Some(c),
            NodeState::Db(_) => None,
        }
    }

    fn client_state_mut(state: &mut NodeState) -> Option<&mut ClientState> {
        match state {
            NodeState::Client(c) => Some(c),
            NodeState::Db(_) => None,
        }
    }

    fn history_unread() -> bool {
        true
    }

    fn facts(&self, state: &NodeState) -> Vec<(&'static str, String)> {
        match (self, state) {
            (Node::Client(c), NodeState::Client(s)) => c.facts(s),
            (_, NodeState::Db(s)) => vec![("x", format!("v{}", s.version))],
            _ => Vec::new(),
        }
    }

    fn describe_peer(msg: &Peer) -> String {
        match msg {
            Peer::Replicate { version, .. } => format!("replicate log up to v{version}"),
            Peer::Forward { op, .. } => format!("forward {op} (replica is behind the token)"),
        }
    }

    fn lossy(msg: &Msg<Peer>) -> bool {
        !matches!(msg, Msg::Peer(_))
    }
}

/// The model type.
pub type ReadReplicaSystem = System<Node>;

/// The databases of `s` with their names, primary first (borrowed: properties check every
/// state the search finds).
fn dbs<'a>(
    sys: &'a ReadReplicaSystem,
    s: &'a SysState<Node>,
) -> impl Iterator<Item = (&'a str, &'a DbState)> + 'a {
    sys.picked(s, |st| match st {
        NodeState::Db(d) => Some(d),
        NodeState::Client(_) => None,
    })
}

/// The properties of the read-replica model, each declared once.
pub fn properties() -> Vec<Property<ReadReplicaSystem>> {
    vec![
        session::read_your_writes_property::<Node>(),
        session::monotonic_reads_property::<Node>(),
        session::monotonic_writes_property::<Node>(),
        session::writes_follow_reads_property::<Node>(),
        session::linearizable_property::<Node>(),
        Property {
            name: "replicas_converge",
            claim: "when nothing is left to deliver, every replica holds what the primary holds",
            kind: Kind::Eventually,
            client_steps: ClientSteps::Invisible,
            check: |sys, s| {
                let mut d = dbs(sys, s).map(|(_, d)| d);
                let first = d.next();
                d.all(|x| Some(x) == first)
            },
            values: |sys, s| {
                dbs(sys, s)
                    .map(|(n, d)| format!("{n} holds {} at v{}", key_name(0), d.version))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        },
    ]
}

/// Which databases can no longer change in `s` (see [`System::with_frozen`]): none
/// while a write can still reach the primary (one in flight, or a client not yet past its
/// write, which it may still send or retry); after that, no copy will be sent again, so
/// the primary and every replica with no newer copy in flight to it are frozen. What a
/// frozen database does with a read or a forwarded read depends on the message alone.
fn frozen(sys: &ReadReplicaSystem, s: &SysState<Node>) -> Vec<bool> {
    let n = sys.names.len();
    let writing = |r: &Request| matches!(r.op, Op::Write { .. });
    let writes_to_come = sys.nodes(s).any(|(_, node, st)| match (node, st) {
        (Node::Client(c), NodeState::Client(cs)) => {
            c.workload.iter().skip(usize::from(cs.seq)).any(writing)
        }
        _ => false,
    });
    let mut frozen = vec![false; n];
    if writes_to_come {
        return frozen;
    }
    for (flag, node) in frozen.iter_mut().zip(&sys.actors.actors) {
        *flag = matches!(node, Node::Db(_));
    }
    for env in sys.in_flight(s) {
        let i = usize::from(env.dst);
        let changes = match (env.msg, &sys.actors.actors[i], &*s.net.actor_states[i]) {
            (
                Msg::Request {
                    op: Op::Write { .. },
                    ..
                },
                Node::Db(_),
                _,
            ) => true,
            (Msg::Peer(Peer::Replicate { version, .. }), Node::Db(db), NodeState::Db(st)) => {
                *version > st.version || db.bug == Some(Bug::ReplicaRegresses)
            }
            _ => false,
        };
        if changes {
            if matches!(env.msg, Msg::Request { .. }) {
                // A write on its way: the primary will still send copies.
                return vec![false; n];
            }
            frozen[i] = false;
        }
    }
    frozen
}

const CLIENT_NAMES: [&str; 6] = ["jose", "maria", "ana", "luis", "sofia", "pedro"];

/// Builds the model for a mode at `bounds` (`servers` = number of replicas).
pub fn build(mode: Mode, bounds: &Bounds) -> ReadReplicaSystem {
    build_with(mode, None, bounds)
}

/// Builds the model for a mode, with a seeded bug or none.
pub fn build_with(mode: Mode, bug: Option<Bug>, bounds: &Bounds) -> ReadReplicaSystem {
    let replicas = bounds.servers as usize;
    let primary = Id::from(0);
    let replica_ids: Vec<Id> = (1..=replicas).map(Id::from).collect();
    let db = |is_primary| Db {
        primary: is_primary,
        primary_id: primary,
        replicas: if is_primary {
            replica_ids.clone()
        } else {
            Vec::new()
        },
        mode,
        bug,
    };
    let mut actors: Vec<(String, Node)> = vec![("primary".to_string(), Node::Db(db(true)))];
    for i in 0..replicas {
        actors.push((format!("replica{}", i + 1), Node::Db(db(false))));
    }
    for c in 0..bounds.clients as usize {
        let mut workload = vec![Request {
            dst: primary,
            op: Op::Write {
                key: 0,
                value: c as u8 + 1,
            },
            label: "transfer",
        }];
        for k in 0..bounds.ops.saturating_sub(1) as usize {
            let dst = match mode {
                Mode::ReadPrimaryAfterWrite => primary,
                Mode::Async | Mode::SessionToken => replica_ids[(c + k) % replicas],
            };
            workload.push(Request {
                dst,
                op: Op::Read { key: 0 },
                label: "history page",
            });
        }
        actors.push((
            CLIENT_NAMES[c].to_string(),
            Node::Client(Client {
                index: c as u8,
                workload,
                policy: RetryPolicy {
                    session_token: mode == Mode::SessionToken,
                    ..RetryPolicy::default()
                },
            }),
        ));
    }
    let sys = System::new(actors, bounds.faults(), properties()).with_frozen(frozen);
    // Reading from the primary, nobody asks a replica anything: replicas only apply
    // copies (in either order they end at the newer one), and only `replicas_converge`
    // reads them.
    if mode == Mode::ReadPrimaryAfterWrite {
        sys.with_sinks((1..=replicas).collect())
    } else {
        sys
    }
}

const VARIANTS: &[Variant] = &[
    Variant {
        name: "async",
        about: "writes go to the primary, reads to asynchronously replicated replicas",
        expect: &[
            ("read_your_writes", Verdict::Violated),
            ("monotonic_reads", Verdict::Violated),
            ("monotonic_writes", Verdict::Holds),
            ("writes_follow_reads", Verdict::Holds),
            ("linearizable", Verdict::Violated),
            ("replicas_converge", Verdict::Holds),
        ],
    },
    Variant {
        name: "read-primary-after-write",
        about: "the fix: a client's reads that follow its own write go to the primary",
        expect: &[
            ("read_your_writes", Verdict::Holds),
            ("monotonic_reads", Verdict::Holds),
            ("monotonic_writes", Verdict::Holds),
            ("writes_follow_reads", Verdict::Holds),
            ("linearizable", Verdict::Holds),
            ("replicas_converge", Verdict::Holds),
        ],
    },
    Variant {
        name: "session-token",
        about: "the fix: reads carry the client's newest version; a replica behind it forwards the read to the primary (a session guarantee: another client's newer write can still be missed, so not linearizable)",
        expect: SESSION_TOKEN,
    },
];

const SESSION_TOKEN: &[(&str, Verdict)] = &[
    ("read_your_writes", Verdict::Holds),
    ("monotonic_reads", Verdict::Holds),
    ("monotonic_writes", Verdict::Holds),
    ("writes_follow_reads", Verdict::Holds),
    ("linearizable", Verdict::Violated),
    ("replicas_converge", Verdict::Holds),
];

/// Seeded bugs in the session-token fix; each must be caught by some property.
const MUTANTS: &[Variant] = &[
    Variant {
        name: "mutant-ignore-token",
        about: "seeded bug: replicas never forward, whatever the token says",
        expect: SESSION_TOKEN,
    },
    Variant {
        name: "mutant-token-off-by-one",
        about: "seeded bug: replicas forward only when two versions behind the token",
        expect: SESSION_TOKEN,
    },
    Variant {
        name: "mutant-ack-without-apply",
        about: "seeded bug: the primary acknowledges a write without applying it",
        expect: SESSION_TOKEN,
    },
    Variant {
        name: "mutant-replica-regresses",
        about: "seeded bug: replicas take any replicated version, even an older one",
        expect: SESSION_TOKEN,
    },
    Variant {
        name: "mutant-skip-last-replica",
        about: "seeded bug: the primary never replicates to its last replica",
        expect: SESSION_TOKEN,
    },
];

fn mode_of(variant: &Variant) -> (Mode, Option<Bug>) {
    let bug = match variant.name {
        "mutant-ignore-token" => Bug::IgnoreToken,
        "mutant-token-off-by-one" => Bug::TokenOffByOne,
        "mutant-ack-without-apply" => Bug::AckWithoutApply,
        "mutant-replica-regresses" => Bug::ReplicaRegresses,
        "mutant-skip-last-replica" => Bug::SkipLastReplica,
        "read-primary-after-write" => return (Mode::ReadPrimaryAfterWrite, None),
        "session-token" => return (Mode::SessionToken, None),
        _ => return (Mode::Async, None),
    };
    (Mode::SessionToken, Some(bug))
}

fn build_variant(variant: &Variant, bounds: &Bounds) -> ReadReplicaSystem {
    let (mode, bug) = mode_of(variant);
    build_with(mode, bug, bounds)
}

/// The read-replica architecture of the catalog.
pub struct ReadReplica;

impl ReadReplica {
    fn validate(bounds: &Bounds) -> Result<(), Error> {
        Bounds::require(
            "servers",
            bounds.servers.into(),
            1,
            4,
            "replicas behind the primary",
        )?;
        Bounds::require(
            "clients",
            bounds.clients.into(),
            1,
            CLIENT_NAMES.len() as i64,
            "one name per client",
        )?;
        Bounds::require("ops", bounds.ops.into(), 1, 8, "one write, then reads")?;
        Bounds::require(
            "loss",
            bounds.loss.into(),
            0,
            8,
            "lost client messages per run",
        )?;
        Bounds::require(
            "crashes",
            bounds.crashes.into(),
            0,
            bounds.servers.into(),
            "databases down at once; the primary or a replica",
        )?;
        if bounds.balance != ReadReplica.default_bounds().balance {
            return Err(Error::BadInput(format!(
                "--balance {} does not apply to read-replica: its data is a transaction history, not a balance",
                bounds.balance
            )));
        }
        Ok(())
    }
}

impl Architecture for ReadReplica {
    fn name(&self) -> &'static str {
        "read-replica"
    }

    fn about(&self) -> &'static str {
        "writes to a primary, reads from asynchronous replicas: the missing transaction"
    }

    fn variants(&self) -> &'static [Variant] {
        VARIANTS
    }

    fn mutants(&self) -> &'static [Variant] {
        MUTANTS
    }

    fn default_bounds(&self) -> Bounds {
        Bounds {
            clients: 2,
            ops: 3,
            servers: 2,
            balance: 0,
            network: NetworkKind::Unordered,
            loss: 0,
            crashes: 0,
        }
    }

    fn proof_bounds(&self) -> Vec<Bounds> {
        let d = self.default_bounds();
        vec![
            d,
            Bounds { loss: 1, ..d },
            Bounds { crashes: 1, ..d },
            Bounds {
                servers: 3,
                network: NetworkKind::Ordered,
                ..d
            },
        ]
    }

    fn bench_bounds(&self) -> Vec<Bounds> {
        let d = self.default_bounds();
        vec![
            d,
            Bounds {
                clients: 3,
                ops: 3,
                servers: 3,
                ..d
            },
        ]
    }

    fn build(&self, variant: &Variant, bounds: &Bounds) -> Result<Box<dyn Buildable>, Error> {
        Self::validate(bounds)?;
        Ok(Box::new(build_variant(variant, bounds)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::CheckOptions;
    use stateright::Model;

    fn shortest(variant: &str, property: &str) -> Option<usize> {
        let arch = ReadReplica;
        let opts = CheckOptions {
            properties: vec![property.into()],
            ..CheckOptions::default()
        };
        let r = arch
            .check(
                arch.variant(variant).unwrap(),
                &arch.default_bounds(),
                &opts,
            )
            .unwrap();
        r.results[0].trace.as_ref().map(|t| t.len())
    }

    #[test]
    fn the_missing_transaction_takes_four_steps() {
        // write delivered, ack delivered, read delivered to a stale replica, stale answer.
        assert_eq!(shortest("async", "read_your_writes"), Some(4));
    }

    #[test]
    fn the_fixes_keep_read_your_writes() {
        assert_eq!(
            shortest("read-primary-after-write", "read_your_writes"),
            None
        );
        assert_eq!(shortest("session-token", "read_your_writes"), None);
    }

    #[test]
    fn model_has_a_start_state() {
        let sys = build(Mode::Async, &ReadReplica.default_bounds());
        assert_eq!(sys.init_states().len(), 1);
    }
}
