//! Leaderless replication, Dynamo style: the sequel the article promises.
//!
//! One register `x` is kept by N replicas (`--servers`, default 3). There is no leader:
//! each client's driver coordinates its own operations. A write goes to all N replicas
//! and is done after W acknowledgements; a read goes to the replicas and returns, after R
//! replies, the value with the highest version among those R replies. With R + W > N
//! every read quorum meets every write quorum; with R + W <= N it need not.
//!
//! **Versions.** The j-th write of the run (in turn order, below) writes the value j as
//! version j: versions are unique per write and totally ordered, and a write that starts
//! later carries a higher version (a client clock that never runs backwards). A replica
//! keeps the highest version it has seen (last writer wins).
//!
//! **Turns, or when a read "starts after" a write.** Clients take turns, round robin: the
//! writer does its first operation, then sends the reader "your turn"; the reader does
//! its first operation and hands the turn back; and so on. A client starts an operation
//! only when it holds the turn and passes the turn only once its operation has completed,
//! so every operation of turn t starts after every operation of the earlier turns was
//! answered. `reads_see_latest_write` checks exactly that: a read of turn t returns at
//! least the highest version acknowledged in turns before t. (No client operation
//! overlaps another, so what quorums do when a read overlaps a write is outside these
//! workloads; late messages of finished operations still overlap everything.)
//!
//! **Workload.** The `writer` alternates writes and reads, starting with a write; the
//! other clients (`reader`, `reader2`, ...) only read. The default run: writer writes
//! x=1; reader reads x; writer reads x; reader reads x.
//!
//! **Reads.** A read goes to all N replicas and the first R replies win. A replica does
//! not change when it is read and a client ignores late replies, so the model leaves the
//! other N - R requests out (they would only multiply the states) and lets the driver
//! pick which R replicas answer first; the checker tries every pick, and a trace shows it
//! as "reader picks replica2, replica3 to read from". With read repair, the read then
//! sends the newest version it saw to every replica not known to hold it: the ones that
//! answered older *and* the N - R it did not wait for (Dynamo asks them and repairs the
//! stale answers; sending them the version ends the same, as a replica keeps the newer
//! one). The driver remembers which version each replica acknowledged or answered and
//! repairs only those behind.
//!
//! **Faults.** `--loss N`: at most N messages between clients and replicas or the
//! fallback (writes, acks, reads, replies, repairs, hinted writes) are lost in a run. A
//! lost read or reply leaves its read waiting for good (clients have no timeout). Handing
//! the turn over and the fallback's hinted handoff are reliable (a handoff is retried
//! until it arrives). `--crashes N`: at most N replicas (or the fallback) are down at
//! once; they keep their data on disk, so a crash only delays the messages sent to them.
//! `--network`: per-channel FIFO, unordered (default) or duplicating.
//! (With `--crashes` above 0 some server can always crash next, so the harness sees no
//! run come to rest and judges no `eventually` property: `replicas_converge` then
//! "holds" without having been checked. The proof bounds keep crashes at 0.)
//!
//! **Sloppy quorum and the partition.** A coordinator cannot tell a partitioned replica
//! from a slow one: it gives up on a replica that has not acknowledged when it has waited
//! long enough. There is no clock in the model, so the sloppy-quorum writer may give up
//! at any moment on any home replica still silent ("writer picks replica2 to give up on
//! (no ack in time)"): the partition it suffers is any delay long enough to look like
//! one, and `--crashes 1` adds real outages. Which replica it gives up on is a choice of
//! its own (one per silent replica, offered again as acknowledgements arrive), so no
//! replica is singled out and the replicas stay interchangeable. It hands that replica's
//! copy to the fallback node, which keeps it as a hint, acknowledges in that replica's
//! place (counted toward W) and, on its next periodic scan, hands it off to the home
//! replica. One fallback node holds one copy, so a sloppy write has at least W - 1 copies
//! on home replicas; reads ask home replicas only. A stale read therefore needs
//! R + W - 1 <= N: true at N = 3 and 5 (R = W = 2, 3), false at N = 4 (R = W = 3), where
//! `reads_see_latest_write` holds.
//!
//! **Expected verdicts** (at the proof bounds: unordered network, one lost message):
//! - `r1-w1` (R = W = 1): `reads_see_latest_write` violated: the write is acknowledged by
//!   replica1 and the reader asks replica2, which has not got it yet. `read_your_writes`
//!   and `monotonic_reads` are violated the same way (the writer's own read; the reader
//!   reading replica1, then replica2). `replicas_converge` is violated: a write lost on
//!   its way to a replica is never sent again, and nothing repairs it.
//! - `quorum` (R = W = 2 of 3): the three read properties hold: a read of 2 replicas
//!   meets the 2 that acknowledged every earlier write. `replicas_converge` is violated
//!   by the lost write, as in `r1-w1` (with `--loss 0` every write reaches every replica
//!   and it holds).
//! - `quorum-read-repair`: every property holds. The replica that lost a write gets the
//!   newest version from the next read, and the workload ends with a read. Limits, shown
//!   by the unit tests: with `--loss 2` a write can reach too few replicas to be
//!   acknowledged and stay on one replica only; a write that no later read follows (say
//!   `--clients 1 --ops 3`) is repaired by no one.
//! - `sloppy-quorum`: `reads_see_latest_write`, `read_your_writes` and `monotonic_reads`
//!   violated: replica1 and the fallback (for replica2) acknowledge the write, and a read
//!   of replica2 and replica3 misses it. `replicas_converge` is violated by a lost write
//!   as in `quorum` (with `--loss 0` hinted handoff completes every home replica and it
//!   holds).
//!
//! Other networks change verdicts: with per-channel FIFO (`--network ordered`) the sloppy
//! writer's own reads travel behind its writes and `read_your_writes` holds; on a
//! duplicating network replicas answer every duplicate and runs never come to rest, so
//! no `eventually` property is judged.
//!
//! `--balance` has no meaning here (there is no account) and must stay 0.

use crate::architecture::{Architecture, Buildable, Variant};
use crate::bounds::Bounds;
use crate::client::{Client, ClientState, Request, RetryPolicy};
use crate::error::Error;
use crate::history::{key_name, Event, History, Op, Outcome, Reply, ReqId};
use crate::property::{ClientSteps, Kind, Property};
use crate::report::Verdict;
use crate::session::{monotonic_reads_property, read_your_writes_property};
use crate::symmetry::Renaming;
use crate::system::{Msg, NetworkKind, Node as NodeTrait, SysState, System, Timer};
use stateright::actor::{model_timeout, Actor, Id, Out};
use std::borrow::Cow;

/// The one register of the model.
const KEY: u8 = 0;

/// The key of the sloppy-quorum writer's choice of a home replica to give up on.
const GIVE_UP: &str = "give up";

/// How reads and writes are coordinated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// R = W = 1: one reply and one acknowledgement suffice.
    R1W1,
    /// R = W = majority of N: strict quorums, the home replicas only.
    Quorum,
    /// Strict quorums, and each read sends the newest version it saw to every replica
    /// not known to hold it (read repair).
    QuorumReadRepair,
    /// Quorums where a fallback node may acknowledge writes for unreachable home replicas
    /// (hinted handoff).
    SloppyQuorum,
}

/// The quorum settings of a mode at N replicas.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Config {
    /// Replicas of the register (N).
    pub n: u8,
    /// Replies a read waits for (R).
    pub r: u8,
    /// Acknowledgements a write waits for (W).
    pub w: u8,
    /// Whether a read sends the newest version it saw to every replica not known to
    /// hold it.
    pub read_repair: bool,
    /// Whether a write may give up on a silent home replica and go to the fallback node
    /// in its place (sloppy quorum).
    pub sloppy: bool,
}

impl Mode {
    /// The quorum settings of this mode at `n` replicas.
    pub fn config(self, n: u8) -> Config {
        let majority = n / 2 + 1;
        let quorum = Config {
            n,
            r: majority,
            w: majority,
            read_repair: false,
            sloppy: false,
        };
        match self {
            Mode::R1W1 => Config {
                r: 1,
                w: 1,
                ..quorum
            },
            Mode::Quorum => quorum,
            Mode::QuorumReadRepair => Config {
                read_repair: true,
                ..quorum
            },
            Mode::SloppyQuorum => Config {
                sloppy: true,
                ..quorum
            },
        }
    }
}

/// Messages between clients, replicas and the fallback node.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Peer {
    /// Client to replica: store this version of x if it is newer than yours.
    Write {
        /// The client's operation (position in its workload).
        seq: u8,
        /// Value written.
        value: u8,
        /// Its version.
        version: u8,
    },
    /// Replica to client: the write of operation `seq` is stored.
    Ack {
        /// The client's operation.
        seq: u8,
        /// Version acknowledged.
        version: u8,
    },
    /// Fallback to client: the write of operation `seq` is kept for home replica `home`;
    /// it counts as that replica's acknowledgement.
    HintAck {
        /// The client's operation.
        seq: u8,
        /// Version acknowledged.
        version: u8,
        /// The home replica it stands in for (0-based).
        home: u8,
    },
    /// Client to replica: what do you hold for x?
    Read {
        /// The client's operation.
        seq: u8,
    },
    /// Replica to client: x's value and version.
    Value {
        /// The client's operation.
        seq: u8,
        /// Value held.
        value: u8,
        /// Its version.
        version: u8,
    },
    /// Client to a replica not known to hold it: the newest version a read saw (read
    /// repair).
    Repair {
        /// Value.
        value: u8,
        /// Version.
        version: u8,
    },
    /// Client to fallback: keep this write for home replica `home` and acknowledge it
    /// in its place.
    Hinted {
        /// The client's operation.
        seq: u8,
        /// Value written.
        value: u8,
        /// Its version.
        version: u8,
        /// The home replica it stands in for (0-based).
        home: u8,
    },
    /// Fallback to home replica: the write it kept for you.
    Handoff {
        /// Value.
        value: u8,
        /// Version.
        version: u8,
    },
    /// Client to client: the turn passes to you.
    Turn {
        /// The turn handed over (0-based).
        turn: u8,
    },
}

/// A driver's choice.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pick {
    /// The replicas a read asks: bit i for replica i + 1 (R of the N).
    Ask(u8),
    /// The sloppy-quorum writer stops waiting for home replica i + 1 (0-based `i`), which
    /// has not acknowledged, and hands its copy to the fallback.
    GiveUp(u8),
}

impl std::fmt::Debug for Pick {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pick::Ask(mask) => write!(f, "{} to read from", replica_names(*mask)),
            Pick::GiveUp(i) => write!(f, "replica{} to give up on (no ack in time)", i + 1),
        }
    }
}

/// A replica of x.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Replica {
    /// 0-based replica number.
    pub index: u8,
    /// A seeded bug, in mutants only.
    pub bug: Option<Bug>,
}

/// A seeded bug (a mutant of the `quorum-read-repair` fix), for proving the properties
/// catch it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bug {
    /// Writes complete one acknowledgement short of a majority.
    WriteQuorumOffByOne,
    /// Reads complete one reply short of a majority.
    ReadQuorumOffByOne,
    /// A read returns the oldest version among its replies.
    OldestWins,
    /// A read works out the repairs but never sends them.
    NoRepairSent,
    /// A replica acknowledges a write without storing it.
    AckBeforeStore,
}

/// The fallback node of the sloppy quorum.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Fallback {
    /// The home replicas, by replica number.
    pub replicas: Vec<Id>,
}

/// A client and its driver, which coordinates the client's reads and writes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Driver {
    /// A seeded bug, in mutants only.
    pub bug: Option<Bug>,
    /// The scripted workload (the requests' `dst` is unused: every operation goes to
    /// all replicas).
    pub client: Client,
    /// Quorum settings.
    pub config: Config,
    /// The home replicas, by replica number.
    pub replicas: Vec<Id>,
    /// The fallback node (sloppy quorum only).
    pub fallback: Option<Id>,
    /// The client that gets the turn after this one.
    pub next: Id,
    /// Number of clients taking turns.
    pub clients: u8,
    /// The version of each write of the workload (0 for reads).
    pub versions: Vec<u8>,
}

/// The actors of this model.
#[derive(Clone, Debug)]
pub enum Node {
    /// A replica.
    Replica(Replica),
    /// The fallback node.
    Fallback(Fallback),
    /// A client.
    Client(Driver),
}

/// A replica's register: what it holds for x. Kept on disk.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Register {
    /// Value of x (0: never written).
    pub value: u8,
    /// Its version (0: never written).
    pub version: u8,
}

/// A write the fallback keeps for a home replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hint {
    /// The home replica (0-based).
    pub home: u8,
    /// Value.
    pub value: u8,
    /// Version.
    pub version: u8,
}

/// The fallback's hints, sorted by home replica, one per home (the newest). Kept on disk.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Hints {
    /// The hints.
    pub hints: Vec<Hint>,
}

/// A read collecting the replies of the replicas it picked.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ReadRound {
    /// The client's operation.
    pub seq: u8,
    /// Per replica: `(version, value)` once it answered (`None`: not yet, or not asked).
    pub replies: Vec<Option<(u8, u8)>>,
}

/// The operation a client is working on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum InProgress {
    /// A write waiting for W acknowledgements.
    Write {
        /// Home replicas acknowledged, by themselves or by the fallback standing in
        /// for them: bit i for replica i + 1.
        acked: u8,
        /// Whether the write was handed to the fallback.
        hinted: bool,
    },
    /// A read waiting for R replies.
    Read(ReadRound),
}

/// A client's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DriverState {
    /// Position in the workload and the history (one event per operation).
    pub client: ClientState,
    /// The operation in progress, while the client holds the turn.
    pub busy: Option<InProgress>,
    /// Per replica, the newest version the client knows it holds (read repair only).
    pub known: Vec<u8>,
}

/// Actor states.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NodeState {
    /// A replica's.
    Replica(Register),
    /// The fallback's.
    Fallback(Hints),
    /// A client's.
    Client(DriverState),
}

/// What replicas and the fallback keep on disk.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Saved {
    /// A replica's register.
    Register(Register),
    /// The fallback's hints.
    Hints(Hints),
}

fn count(mask: u8) -> u8 {
    mask.count_ones() as u8
}

fn replica_names(mask: u8) -> String {
    (0..7)
        .filter(|i| mask & (1 << i) != 0)
        .map(|i| format!("replica{}", i + 1))
        .collect::<Vec<_>>()
        .join(", ")
}

fn newest(replies: &[Option<(u8, u8)>]) -> Option<(u8, u8)> {
    replies.iter().flatten().copied().max()
}

impl Register {
    /// Keeps `(value, version)` if it is newer; true if it changed.
    fn store(&mut self, value: u8, version: u8) -> bool {
        if version > self.version {
            self.value = value;
            self.version = version;
            true
        } else {
            false
        }
    }
}

impl Replica {
    fn on_msg(&self, st: &mut Register, src: Id, msg: Msg<Peer>, o: &mut Out<Node>) {
        let Msg::Peer(p) = msg else { return };
        match p {
            Peer::Write {
                seq,
                value,
                version,
            } => {
                if self.bug != Some(Bug::AckBeforeStore) {
                    Self::keep(st, value, version, o);
                }
                o.send(src, Msg::Peer(Peer::Ack { seq, version }));
            }
            Peer::Read { seq } => o.send(
                src,
                Msg::Peer(Peer::Value {
                    seq,
                    value: st.value,
                    version: st.version,
                }),
            ),
            Peer::Repair { value, version } | Peer::Handoff { value, version } => {
                Self::keep(st, value, version, o)
            }
            _ => {}
        }
    }

    /// Keeps `(value, version)` if it is newer, on disk too.
    fn keep(st: &mut Register, value: u8, version: u8, o: &mut Out<Node>) {
        if st.store(value, version) {
            o.save(Saved::Register(st.clone()));
        }
    }
}

impl Fallback {
    fn on_msg(&self, st: &mut Hints, src: Id, msg: Msg<Peer>, o: &mut Out<Node>) {
        if let Msg::Peer(Peer::Hinted {
            seq,
            value,
            version,
            home,
        }) = msg
        {
            let hint = Hint {
                home,
                value,
                version,
            };
            match st.hints.iter_mut().find(|h| h.home == home) {
                Some(h) if h.version >= version => {}
                Some(h) => *h = hint,
                None => {
                    st.hints.push(hint);
                    st.hints.sort();
                }
            }
            o.save(Saved::Hints(st.clone()));
            o.set_timer(Timer::Background, model_timeout());
            o.send(src, Msg::Peer(Peer::HintAck { seq, version, home }));
        }
    }

    /// The periodic scan: hand every hint to its home replica.
    fn on_timeout(&self, st: &mut Hints, o: &mut Out<Node>) {
        for h in st.hints.drain(..) {
            o.send(
                self.replicas[h.home as usize],
                Msg::Peer(Peer::Handoff {
                    value: h.value,
                    version: h.version,
                }),
            );
        }
        o.save(Saved::Hints(st.clone()));
    }
}

impl Driver {
    fn turn_of(&self, seq: u8) -> u8 {
        seq * self.clients + self.client.index
    }

    fn total_turns(&self) -> u8 {
        self.clients * self.client.workload.len() as u8
    }

    fn replica_index(&self, id: Id) -> Option<usize> {
        self.replicas.iter().position(|&r| r == id)
    }

    fn idle(&self) -> DriverState {
        DriverState {
            client: ClientState {
                seq: 0,
                attempt: 0,
                log: Vec::new(),
                token: 0,
            },
            busy: None,
            known: if self.config.read_repair {
                vec![0; self.replicas.len()]
            } else {
                Vec::new()
            },
        }
    }

    /// Starts the operation at the client's position in its workload.
    fn begin(&self, st: &mut DriverState, o: &mut Out<Node>) {
        let seq = st.client.seq;
        let Some(req) = self.client.workload.get(seq as usize) else {
            return;
        };
        st.client.log.push(Event {
            id: ReqId {
                client: self.client.index,
                seq,
                attempt: 0,
            },
            op: req.op,
            outcome: Outcome::Pending,
        });
        match req.op {
            Op::Write { value, .. } => {
                let version = self.versions[seq as usize];
                for &r in &self.replicas {
                    o.send(
                        r,
                        Msg::Peer(Peer::Write {
                            seq,
                            value,
                            version,
                        }),
                    );
                }
                st.busy = Some(InProgress::Write {
                    acked: 0,
                    hinted: false,
                });
                self.offer_give_up(st, o);
            }
            _ => {
                let n = self.replicas.len() as u8;
                let choices: Vec<Pick> = (1u8..(1 << n))
                    .filter(|m| count(*m) == self.config.r)
                    .map(Pick::Ask)
                    .collect();
                o.choose_random("ask", choices);
                st.busy = Some(InProgress::Read(ReadRound {
                    seq,
                    replies: vec![None; self.replicas.len()],
                }));
            }
        }
    }

    /// The operation in progress is done: record the reply, pass the turn.
    fn finish(&self, st: &mut DriverState, reply: Reply, o: &mut Out<Node>) {
        if let Some(last) = st.client.log.last_mut() {
            last.outcome = Outcome::Replied(reply);
        }
        if matches!(st.busy, Some(InProgress::Write { hinted: false, .. }))
            && self.fallback.is_some()
        {
            o.remove_random(GIVE_UP);
        }
        st.busy = None;
        let next_turn = self.turn_of(st.client.seq) + 1;
        st.client.seq += 1;
        if next_turn >= self.total_turns() {
            return;
        }
        if self.clients == 1 {
            self.begin(st, o);
        } else {
            o.send(self.next, Msg::Peer(Peer::Turn { turn: next_turn }));
        }
    }

    /// Read repair: the newest version a read saw goes to every replica not known to
    /// hold it (those that answered older, and those not asked that are not known to be
    /// up to date).
    fn repair(&self, st: &mut DriverState, round: &ReadRound, o: &mut Out<Node>) {
        let Some((version, value)) = newest(&round.replies) else {
            return;
        };
        for (i, &reply) in round.replies.iter().enumerate() {
            if let Some((v, _)) = reply {
                self.learn(st, i, v);
            }
            if st.known[i] < version {
                if self.bug != Some(Bug::NoRepairSent) {
                    o.send(self.replicas[i], Msg::Peer(Peer::Repair { value, version }));
                }
                st.known[i] = version;
            }
        }
    }

    /// Remembers that replica `i` holds `version` or newer (read repair only: it spares
    /// repairs to replicas known to be up to date).
    fn learn(&self, st: &mut DriverState, i: usize, version: u8) {
        if self.config.read_repair {
            st.known[i] = st.known[i].max(version);
        }
    }

    fn on_msg(&self, st: &mut DriverState, src: Id, msg: Msg<Peer>, o: &mut Out<Node>) {
        let Msg::Peer(p) = msg else { return };
        match p {
            Peer::Turn { turn } if st.busy.is_none() && turn == self.turn_of(st.client.seq) => {
                self.begin(st, o);
            }
            Peer::Ack { seq, version } | Peer::HintAck { seq, version, .. } => {
                let (bits, from) = match p {
                    Peer::HintAck { home, .. } if Some(src) == self.fallback => (1 << home, None),
                    Peer::Ack { .. } => match self.replica_index(src) {
                        Some(i) => (1 << i, Some(i)),
                        None => return,
                    },
                    _ => return,
                };
                if seq != st.client.seq {
                    return;
                }
                let Some(InProgress::Write { acked, .. }) = &mut st.busy else {
                    return;
                };
                if *acked | bits == *acked {
                    return;
                }
                *acked |= bits;
                let done = count(*acked) >= self.config.w;
                if let Some(i) = from {
                    self.learn(st, i, version);
                }
                if done {
                    let version = self.versions[seq as usize];
                    self.finish(st, Reply::Written { version }, o);
                } else {
                    self.offer_give_up(st, o);
                }
            }
            Peer::Value {
                seq,
                value,
                version,
            } => {
                let Some(i) = self.replica_index(src) else {
                    return;
                };
                let Some(InProgress::Read(round)) = &mut st.busy else {
                    return;
                };
                if round.seq != seq || round.replies[i].is_some() {
                    return;
                }
                round.replies[i] = Some((version, value));
                if round.replies.iter().flatten().count() >= self.config.r as usize {
                    let round = round.clone();
                    let (version, value) = if self.bug == Some(Bug::OldestWins) {
                        round.replies.iter().flatten().copied().min()
                    } else {
                        newest(&round.replies)
                    }
                    .unwrap_or((0, 0));
                    if self.config.read_repair {
                        self.repair(st, &round, o);
                    }
                    self.finish(st, Reply::Value { value, version }, o);
                }
            }
            _ => {}
        }
    }

    /// The sloppy-quorum writer may stop waiting, at any moment (there is no clock), for
    /// any home replica that has not acknowledged yet: one choice per such replica,
    /// offered again as acknowledgements arrive, until it gives one up or the write is
    /// done.
    fn offer_give_up(&self, st: &DriverState, o: &mut Out<Node>) {
        let Some(InProgress::Write {
            acked,
            hinted: false,
        }) = st.busy
        else {
            return;
        };
        if self.fallback.is_none() {
            return;
        }
        let late: Vec<Pick> = (0..self.replicas.len() as u8)
            .filter(|i| acked & (1 << i) == 0)
            .map(Pick::GiveUp)
            .collect();
        o.choose_random(GIVE_UP, late);
    }

    /// The sloppy-quorum writer gives up on home replica `home`, which has not
    /// acknowledged, and hands its copy to the fallback (one node, one copy).
    fn give_up(&self, st: &mut DriverState, home: u8, o: &mut Out<Node>) {
        let (Some(fallback), Some(InProgress::Write { hinted, .. })) =
            (self.fallback, &mut st.busy)
        else {
            return;
        };
        // (Its choices are offered again at every acknowledgement: `home` has none.)
        if *hinted {
            return;
        }
        *hinted = true;
        let seq = st.client.seq;
        let value = match self.client.workload[seq as usize].op {
            Op::Write { value, .. } => value,
            _ => 0,
        };
        o.send(
            fallback,
            Msg::Peer(Peer::Hinted {
                seq,
                value,
                version: self.versions[seq as usize],
                home,
            }),
        );
    }

    fn status(&self, st: &DriverState) -> String {
        let w = self.config.w;
        let r = self.config.r;
        match &st.busy {
            Some(InProgress::Write { acked, hinted }) => {
                let value = match self.client.current(&st.client).map(|q| q.op) {
                    Some(Op::Write { value, .. }) => value,
                    _ => 0,
                };
                format!(
                    "writing {}={value} ({}/{w} acks{})",
                    key_name(KEY),
                    count(*acked),
                    if *hinted { ", hinted to fallback" } else { "" }
                )
            }
            Some(InProgress::Read(round)) => format!(
                "reading {} ({}/{r} replies)",
                key_name(KEY),
                round.replies.iter().flatten().count()
            ),
            None => {
                let what = if st.client.seq as usize >= self.client.workload.len() {
                    "done"
                } else {
                    "waiting for its turn"
                };
                let last = match st.client.log.last().map(|e| e.outcome) {
                    Some(Outcome::Replied(Reply::Value { value, version })) => {
                        format!(", read {}={value} (v{version})", key_name(KEY))
                    }
                    Some(Outcome::Replied(Reply::Written { version })) => {
                        format!(", wrote v{version}")
                    }
                    _ => String::new(),
                };
                format!("{what}{last}")
            }
        }
    }
}

impl Actor for Node {
    type Msg = Msg<Peer>;
    type Timer = Timer;
    type State = NodeState;
    type Storage = Saved;
    type Random = Pick;

    fn on_start(&self, _id: Id, storage: &Option<Saved>, o: &mut Out<Self>) -> NodeState {
        match self {
            Node::Replica(_) => NodeState::Replica(match storage {
                Some(Saved::Register(r)) => r.clone(),
                _ => Register::default(),
            }),
            Node::Fallback(_) => {
                let hints = match storage {
                    Some(Saved::Hints(h)) => h.clone(),
                    _ => Hints::default(),
                };
                if !hints.hints.is_empty() {
                    o.set_timer(Timer::Background, model_timeout());
                }
                NodeState::Fallback(hints)
            }
            Node::Client(d) => {
                let mut st = d.idle();
                if d.turn_of(0) == 0 {
                    d.begin(&mut st, o);
                }
                NodeState::Client(st)
            }
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
        let mut next = (**state).clone();
        match (self, &mut next) {
            (Node::Replica(r), NodeState::Replica(st)) => r.on_msg(st, src, msg, o),
            (Node::Fallback(f), NodeState::Fallback(st)) => f.on_msg(st, src, msg, o),
            (Node::Client(d), NodeState::Client(st)) => d.on_msg(st, src, msg, o),
            _ => {}
        }
        if next != **state {
            *state.to_mut() = next;
        }
    }

    fn on_random(&self, _id: Id, state: &mut Cow<NodeState>, random: &Pick, o: &mut Out<Self>) {
        let (Node::Client(d), NodeState::Client(st)) = (self, &**state) else {
            return;
        };
        match (random, &st.busy) {
            (Pick::Ask(mask), Some(InProgress::Read(round))) => {
                for (i, &r) in d.replicas.iter().enumerate() {
                    if mask & (1 << i) != 0 {
                        o.send(r, Msg::Peer(Peer::Read { seq: round.seq }));
                    }
                }
            }
            (Pick::GiveUp(home), Some(InProgress::Write { .. })) => {
                let mut next = st.clone();
                d.give_up(&mut next, *home, o);
                if next != *st {
                    *state.to_mut() = NodeState::Client(next);
                }
            }
            _ => {}
        }
    }

    fn on_timeout(&self, _id: Id, state: &mut Cow<NodeState>, _t: &Timer, o: &mut Out<Self>) {
        let mut next = (**state).clone();
        // Only the fallback sets a timer (its periodic scan).
        if let (Node::Fallback(f), NodeState::Fallback(st)) = (self, &mut next) {
            f.on_timeout(st, o);
        }
        if next != **state {
            *state.to_mut() = next;
        }
    }
}

impl NodeTrait for Node {
    type Peer = Peer;

    fn as_client(&self) -> Option<&Client> {
        match self {
            Node::Client(d) => Some(&d.client),
            _ => None,
        }
    }

    fn client_state(state: &NodeState) -> Option<&ClientState> {
        match state {
            NodeState::Client(d) => Some(&d.client),
            _ => None,
        }
    }

    fn client_state_mut(state: &mut NodeState) -> Option<&mut ClientState> {
        match state {
            NodeState::Client(d) => Some(&mut d.client),
            _ => None,
        }
    }

    /// A driver reads its log only to tell a trace what it last did.
    fn history_unread() -> bool {
        true
    }

    fn facts(&self, state: &NodeState) -> Vec<(&'static str, String)> {
        match (self, state) {
            (Node::Replica(_), NodeState::Replica(r)) => {
                vec![("x", format!("v{}", r.version))]
            }
            (Node::Fallback(_), NodeState::Fallback(h)) => {
                let text = if h.hints.is_empty() {
                    "none".to_string()
                } else {
                    h.hints
                        .iter()
                        .map(|h| format!("x v{} for replica{}", h.version, h.home + 1))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                vec![("hints", text)]
            }
            (Node::Client(d), NodeState::Client(s)) => vec![("", d.status(s))],
            _ => Vec::new(),
        }
    }

    fn describe_peer(msg: &Peer) -> String {
        let x = key_name(KEY);
        match msg {
            Peer::Write { value, version, .. } => format!("write {x}={value} (version {version})"),
            Peer::Ack { version, .. } => format!("ack (version {version})"),
            Peer::HintAck { version, home, .. } => {
                format!("ack for replica{} (version {version})", home + 1)
            }
            Peer::Read { .. } => format!("read {x}"),
            Peer::Value { value, version, .. } => format!("{x}={value} (version {version})"),
            Peer::Repair { value, version } => {
                format!("read repair: {x}={value} (version {version})")
            }
            Peer::Hinted {
                value,
                version,
                home,
                ..
            } => format!(
                "hinted write {x}={value} (version {version}) for replica{}",
                home + 1
            ),
            Peer::Handoff { value, version } => {
                format!("hinted handoff: {x}={value} (version {version})")
            }
            Peer::Turn { turn } => format!("your turn (turn {})", turn + 1),
        }
    }

    fn lossy(msg: &Msg<Peer>) -> bool {
        !matches!(msg, Msg::Peer(Peer::Turn { .. } | Peer::Handoff { .. }))
    }

    // A replica ignores a copy of a version no newer than its own (versions only grow,
    // and it saves each); a client ignores answers to an operation it has finished (its
    // operation number only grows).
    fn ignores_for_good(&self, state: &NodeState, _src: Id, msg: &Msg<Peer>) -> bool {
        let Msg::Peer(p) = msg else { return false };
        match (self, state, p) {
            (
                Node::Replica(_),
                NodeState::Replica(reg),
                Peer::Repair { version, .. } | Peer::Handoff { version, .. },
            ) => *version <= reg.version,
            (
                Node::Client(_),
                NodeState::Client(d),
                Peer::Ack { seq, .. } | Peer::HintAck { seq, .. } | Peer::Value { seq, .. },
            ) => *seq < d.client.seq,
            _ => false,
        }
    }

    fn crashable(&self) -> bool {
        !matches!(self, Node::Client(_))
    }

    // Replicas are actors 0..N, and replica numbers in bit sets, vectors and hints are
    // their actor indices.
    fn renamed_state(state: &NodeState, r: &Renaming) -> Option<NodeState> {
        Some(match state {
            NodeState::Replica(reg) => NodeState::Replica(reg.clone()),
            NodeState::Fallback(h) => NodeState::Fallback(h.renamed(r)),
            NodeState::Client(d) => NodeState::Client(DriverState {
                client: d.client.clone(),
                busy: d.busy.as_ref().map(|b| match b {
                    InProgress::Write { acked, hinted } => InProgress::Write {
                        acked: r.mask(*acked, 0),
                        hinted: *hinted,
                    },
                    InProgress::Read(round) => InProgress::Read(ReadRound {
                        seq: round.seq,
                        replies: r.reorder(&round.replies, 0),
                    }),
                }),
                known: r.reorder(&d.known, 0),
            }),
        })
    }

    // A register names no replica; a client names them only in the operation under way
    // (acks, replies) and in what it knows each holds (read repair).
    fn renaming_keeps(state: &NodeState) -> bool {
        match state {
            NodeState::Replica(_) => true,
            NodeState::Fallback(h) => h.hints.is_empty(),
            NodeState::Client(d) => {
                d.busy.is_none() && d.known.iter().all(|&k| Some(&k) == d.known.first())
            }
        }
    }

    // A client's acks, replies and known versions, and the fallback's hints, per replica.
    fn mentions(state: &NodeState, note: &mut dyn FnMut(usize, u64)) {
        match state {
            NodeState::Replica(_) => {}
            NodeState::Fallback(h) => {
                for hint in &h.hints {
                    let what = u64::from(hint.value) << 8 | u64::from(hint.version) << 16;
                    note(usize::from(hint.home), 1 | what);
                }
            }
            NodeState::Client(d) => {
                match &d.busy {
                    Some(InProgress::Write { acked, .. }) => {
                        for j in (0..8).filter(|j| acked & (1 << j) != 0) {
                            note(j, 2);
                        }
                    }
                    Some(InProgress::Read(round)) => {
                        for (j, reply) in round.replies.iter().enumerate() {
                            if let Some((version, value)) = reply {
                                note(j, 3 | u64::from(*version) << 8 | u64::from(*value) << 16);
                            }
                        }
                    }
                    None => {}
                }
                for (j, &known) in d.known.iter().enumerate() {
                    note(j, 4 | u64::from(known) << 8);
                }
            }
        }
    }

    // A hint and its acknowledgement name the home replica they stand in for.
    fn peer_mentions(msg: &Peer, note: &mut dyn FnMut(usize, u64)) {
        match *msg {
            Peer::HintAck { seq, version, home } => note(
                usize::from(home),
                1 | u64::from(seq) << 8 | u64::from(version) << 16,
            ),
            Peer::Hinted {
                seq,
                value,
                version,
                home,
            } => note(
                usize::from(home),
                2 | u64::from(seq) << 8 | u64::from(version) << 16 | u64::from(value) << 24,
            ),
            _ => {}
        }
    }

    fn renamed_peer(msg: &Peer, r: &Renaming) -> Option<Peer> {
        let home = |h: u8| r.index(usize::from(h)) as u8;
        Some(match *msg {
            Peer::HintAck {
                seq,
                version,
                home: h,
            } => Peer::HintAck {
                seq,
                version,
                home: home(h),
            },
            Peer::Hinted {
                seq,
                value,
                version,
                home: h,
            } => Peer::Hinted {
                seq,
                value,
                version,
                home: home(h),
            },
            ref other => other.clone(),
        })
    }

    fn renamed_storage(saved: &Saved, r: &Renaming) -> Option<Saved> {
        Some(match saved {
            Saved::Register(reg) => Saved::Register(reg.clone()),
            Saved::Hints(h) => Saved::Hints(h.renamed(r)),
        })
    }

    // A driver offers its picks in increasing order (of their bit sets, of the replicas
    // it may give up on).
    fn renamed_choices(choices: &[Pick], r: &Renaming) -> Option<Vec<Pick>> {
        let mut out: Vec<Pick> = choices
            .iter()
            .map(|p| match *p {
                Pick::Ask(mask) => Pick::Ask(r.mask(mask, 0)),
                Pick::GiveUp(i) => Pick::GiveUp(r.index(usize::from(i)) as u8),
            })
            .collect();
        out.sort();
        Some(out)
    }
}

impl Hints {
    /// The hints with their home replicas renamed, sorted by home again.
    fn renamed(&self, r: &Renaming) -> Hints {
        let mut hints: Vec<Hint> = self
            .hints
            .iter()
            .map(|h| Hint {
                home: r.index(usize::from(h.home)) as u8,
                ..*h
            })
            .collect();
        hints.sort();
        Hints { hints }
    }
}

/// The model type: replicas, maybe a fallback, and clients.
pub type LeaderlessSystem = System<Node>;

/// The replicas' registers in `s` with their names, in order (borrowed: properties check
/// every state the search finds).
fn registers<'a>(
    sys: &'a LeaderlessSystem,
    s: &'a SysState<Node>,
) -> impl Iterator<Item = (&'a str, &'a Register)> + 'a {
    sys.picked(s, |st| match st {
        NodeState::Replica(r) => Some(r),
        _ => None,
    })
}

fn registers_text(sys: &LeaderlessSystem, s: &SysState<Node>) -> String {
    registers(sys, s)
        .map(|(n, r)| {
            format!(
                "{n} holds {}={} (version {})",
                key_name(KEY),
                r.value,
                r.version
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// How many clients take turns (a property's check asks for each new state: no names built).
fn client_count(sys: &LeaderlessSystem) -> u8 {
    sys.actors
        .actors
        .iter()
        .filter(|a| a.as_client().is_some())
        .count() as u8
}

fn client_names(sys: &LeaderlessSystem) -> Vec<String> {
    sys.actors
        .actors
        .iter()
        .zip(&sys.names)
        .filter(|(a, _)| a.as_client().is_some())
        .map(|(_, n)| n.clone())
        .collect()
}

/// A read that returned an older version than a write acknowledged in an earlier turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StaleRead {
    /// The reading client.
    pub reader: u8,
    /// The turn of the read (0-based).
    pub read_turn: usize,
    /// What it returned: `(value, version)`.
    pub got: (u8, u8),
    /// The client whose write it missed.
    pub writer: u8,
    /// The turn of that write (0-based).
    pub write_turn: usize,
    /// The write: `(value, version)`.
    pub written: (u8, u8),
}

/// Checks `reads_see_latest_write` on a history of `clients` clients taking turns round
/// robin (request `seq` of client `c` is turn `seq * clients + c`): every read returns at
/// least the newest version acknowledged in an earlier turn. The first read that does not
/// is returned.
pub fn stale_read(h: &History, clients: u8) -> Option<StaleRead> {
    stale_read_among(h.iter(), clients)
}

/// [`stale_read`] over the events of a history in any order (a state's client logs,
/// gathered without building the history).
fn stale_read_among<'e>(
    history: impl Iterator<Item = &'e Event>,
    clients: u8,
) -> Option<StaleRead> {
    let turn = |e: &Event| e.id.seq as usize * clients as usize + e.id.client as usize;
    let mut events: smallvec::SmallVec<[&Event; 32]> = history.collect();
    events.sort_by_key(|e| turn(e));
    // The newest acknowledged write so far: (version, value, client, turn).
    let mut newest: Option<(u8, u8, u8, usize)> = None;
    for e in events {
        match (e.op, e.outcome) {
            (Op::Write { value, .. }, Outcome::Replied(Reply::Written { version })) => {
                let newer = match newest {
                    Some((v, ..)) => version > v,
                    None => true,
                };
                if newer {
                    newest = Some((version, value, e.id.client, turn(e)));
                }
            }
            (Op::Read { .. }, Outcome::Replied(Reply::Value { value, version })) => {
                if let Some((wv, wval, writer, write_turn)) = newest {
                    if version < wv {
                        return Some(StaleRead {
                            reader: e.id.client,
                            read_turn: turn(e),
                            got: (value, version),
                            writer,
                            write_turn,
                            written: (wval, wv),
                        });
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// The properties of the leaderless model, each declared once.
pub fn properties() -> Vec<Property<LeaderlessSystem>> {
    vec![
        Property {
            name: "reads_see_latest_write",
            claim: "a read that starts after a write was acknowledged returns that write's version or a newer one",
            kind: Kind::Always,
            client_steps: ClientSteps::Stable,
            check: |sys, s| stale_read_among(sys.events(s), client_count(sys)).is_none(),
            values: |sys, s| {
                let names = client_names(sys);
                match stale_read(&sys.history(s), names.len() as u8) {
                    None => "every read returned the newest acknowledged version or a newer one"
                        .to_string(),
                    Some(st) => {
                        let x = key_name(KEY);
                        format!(
                            "{} read {x}={} (version {}) in turn {}, after {}'s write {x}={} (version {}) was acknowledged in turn {}",
                            names[st.reader as usize],
                            st.got.0,
                            st.got.1,
                            st.read_turn + 1,
                            names[st.writer as usize],
                            st.written.0,
                            st.written.1,
                            st.write_turn + 1
                        )
                    }
                }
            },
        },
        Property {
            name: "replicas_converge",
            claim: "when nothing is left to deliver, every replica holds the same version",
            kind: Kind::Eventually,
            client_steps: ClientSteps::Invisible,
            check: |sys, s| {
                let mut versions = registers(sys, s).map(|(_, r)| r.version);
                let first = versions.next();
                versions.all(|v| Some(v) == first)
            },
            values: registers_text,
        },
        read_your_writes_property::<Node>(),
        monotonic_reads_property::<Node>(),
    ]
}

const CLIENT_NAMES: [&str; 6] = [
    "writer", "reader", "reader2", "reader3", "reader4", "reader5",
];

/// Labels of the writes, by value (the label of a request must be `'static`). The writer
/// writes every other operation, so `--ops 8` writes 4 times.
const WRITE_LABELS: [&str; 4] = ["write x=1", "write x=2", "write x=3", "write x=4"];

/// Operations (all clients together) one run may have.
const MAX_OPERATIONS: i64 = 12;

/// Whether request `k` of client `c` is a write: the writer (client 0) alternates writes
/// and reads, starting with a write; the other clients only read.
fn is_write(c: usize, k: usize) -> bool {
    c == 0 && k % 2 == 0
}

/// Builds the model for a variant's mode at `bounds`.
pub fn build(mode: Mode, bounds: &Bounds) -> LeaderlessSystem {
    build_with(mode, None, bounds)
}

/// Builds the model for a mode, with a seeded bug or none.
pub fn build_with(mode: Mode, bug: Option<Bug>, bounds: &Bounds) -> LeaderlessSystem {
    let n = bounds.servers as usize;
    let clients = bounds.clients as usize;
    let ops = bounds.ops as usize;
    let mut config = mode.config(bounds.servers);
    match bug {
        Some(Bug::WriteQuorumOffByOne) => config.w -= 1,
        Some(Bug::ReadQuorumOffByOne) => config.r -= 1,
        _ => {}
    }
    let replica_ids: Vec<Id> = (0..n).map(Id::from).collect();
    let mut actors: Vec<(String, Node)> = (0..n)
        .map(|i| {
            (
                format!("replica{}", i + 1),
                Node::Replica(Replica {
                    index: i as u8,
                    bug,
                }),
            )
        })
        .collect();
    let fallback = if config.sloppy {
        actors.push((
            "fallback".to_string(),
            Node::Fallback(Fallback {
                replicas: replica_ids.clone(),
            }),
        ));
        Some(Id::from(n))
    } else {
        None
    };
    let first_client = actors.len();
    // Versions in turn order: the j-th write of the run writes value j as version j.
    let mut versions = vec![vec![0u8; ops]; clients];
    let mut written = 0u8;
    for k in 0..ops {
        for (c, row) in versions.iter_mut().enumerate() {
            if is_write(c, k) {
                written += 1;
                row[k] = written;
            }
        }
    }
    for (c, row) in versions.into_iter().enumerate() {
        let workload = row
            .iter()
            .enumerate()
            .map(|(k, &version)| {
                let (op, label) = if is_write(c, k) {
                    (
                        Op::Write {
                            key: KEY,
                            value: version,
                        },
                        WRITE_LABELS[version as usize - 1],
                    )
                } else {
                    (Op::Read { key: KEY }, "read x")
                };
                Request {
                    dst: replica_ids[0],
                    op,
                    label,
                }
            })
            .collect();
        actors.push((
            CLIENT_NAMES[c].to_string(),
            Node::Client(Driver {
                bug,
                client: Client {
                    index: c as u8,
                    workload,
                    policy: RetryPolicy::default(),
                },
                config,
                replicas: replica_ids.clone(),
                fallback,
                next: Id::from(first_client + (c + 1) % clients),
                clients: clients as u8,
                versions: row,
            }),
        ));
    }
    // The replicas are interchangeable: every write goes to all of them, a read may pick
    // any R, and the sloppy writer may give up on any that has not acknowledged.
    let symmetric = if n > crate::symmetry::MAX_GROUP {
        Vec::new()
    } else {
        (0..n).collect()
    };
    System::new(actors, bounds.faults(), properties())
        .with_symmetry(symmetric)
        .with_quiet(quiet)
}

/// Whether the rest of the system waits on actor `i` (see [`System::with_quiet`]): until
/// it takes a step, nobody sends it anything it does not ignore, and no client's history
/// changes. Only the client holding the turn starts or ends operations, so:
/// - a client is quiet while it holds the turn, or the turn is on its way to it, once no
///   request of its current operation (a write, a read, a hinted write) is on its way:
///   every answer it can still get is then in flight, and no other client can act;
/// - a replica is quiet when no client will act before it does: every client is done, or
///   the one holding the turn is reading, has picked whom to ask, and cannot count R
///   answers without this replica's step (it asked it, or a request it sent was lost),
///   with no turn on its way; and in the sloppy quorum, no write is under way (the writer
///   may still give up on a replica), no hinted write is on its way and the fallback
///   holds no hint for it (it hands hints off until they arrive).
fn quiet(sys: &LeaderlessSystem, state: &SysState<Node>, i: usize) -> bool {
    let net = &state.net;
    let stateright::actor::Network::UnorderedNonDuplicating(in_flight) = &net.network else {
        return false;
    };
    let id = Id::from(i);
    let done = |d: &Driver, st: &DriverState| st.client.seq as usize >= d.client.workload.len();
    match (&sys.actors.actors[i], &*net.actor_states[i]) {
        (Node::Client(_), NodeState::Client(st)) => {
            let mut turn_to_it = false;
            for env in in_flight.keys() {
                match &env.msg {
                    Msg::Peer(
                        Peer::Write { seq, .. } | Peer::Read { seq } | Peer::Hinted { seq, .. },
                    ) if env.src == id && *seq == st.client.seq => return false,
                    Msg::Peer(Peer::Turn { .. }) if env.dst == id => turn_to_it = true,
                    _ => {}
                }
            }
            st.busy.is_some() || turn_to_it
        }
        (Node::Replica(r), NodeState::Replica(_)) => {
            let (mut all_done, mut writing, mut reader) = (true, false, None);
            for c in 0..sys.actors.actors.len() {
                let (Node::Client(d), NodeState::Client(st)) =
                    (&sys.actors.actors[c], &*net.actor_states[c])
                else {
                    continue;
                };
                all_done &= done(d, st);
                match &st.busy {
                    Some(InProgress::Write { .. }) => writing = true,
                    // (Once it has picked whom to ask: until then, it may ask anyone.)
                    Some(InProgress::Read(round))
                        if round.seq == st.client.seq
                            && net.random_choices.get(c).is_none_or(|r| r.map.is_empty()) =>
                    {
                        reader = Some((Id::from(c), d, round))
                    }
                    Some(InProgress::Read(_)) => return false,
                    _ => {}
                }
            }
            let fallback = sys
                .actors
                .actors
                .iter()
                .position(|a| matches!(a, Node::Fallback(_)));
            if let Some(f) = fallback {
                let held = matches!(&*net.actor_states[f], NodeState::Fallback(h)
                    if h.hints.iter().any(|h| h.home == r.index));
                if writing || held {
                    return false;
                }
            }
            // What is on its way: a turn, a hinted write, and the answers the reader has or
            // may get with no step of this replica (bit j: replica j + 1's).
            let (mut turn, mut hinted, mut others) = (false, false, 0u8);
            for env in in_flight.keys() {
                match (&env.msg, reader) {
                    (Msg::Peer(Peer::Turn { .. }), _) => turn = true,
                    (Msg::Peer(Peer::Hinted { .. }), _) => hinted = true,
                    (Msg::Peer(Peer::Read { seq }), Some((c, d, round)))
                        if env.src == c && *seq == round.seq =>
                    {
                        match d.replica_index(env.dst) {
                            Some(j) if env.dst != id => others |= 1 << j,
                            _ => {}
                        }
                    }
                    (Msg::Peer(Peer::Value { seq, .. }), Some((c, d, round)))
                        if env.dst == c && *seq == round.seq =>
                    {
                        if let Some(j) = d.replica_index(env.src) {
                            others |= 1 << j;
                        }
                    }
                    _ => {}
                }
            }
            if fallback.is_some() && hinted {
                return false;
            }
            if all_done {
                return true;
            }
            let Some((_, d, round)) = reader else {
                return false;
            };
            for (j, reply) in round.replies.iter().enumerate() {
                if reply.is_some() {
                    others |= 1 << j;
                }
            }
            !turn && count(others) < d.config.r
        }
        _ => false,
    }
}

const VARIANTS: &[Variant] = &[
    Variant {
        name: "r1-w1",
        about: "R = W = 1 (R + W <= N): a read can ask a replica that the acknowledged write has not reached yet",
        expect: &[
            ("reads_see_latest_write", Verdict::Violated),
            ("replicas_converge", Verdict::Violated),
            ("read_your_writes", Verdict::Violated),
            ("monotonic_reads", Verdict::Violated),
        ],
    },
    Variant {
        name: "quorum",
        about: "R = W = majority (R + W > N): every read meets the replicas that acknowledged the write; a replica that lost a write keeps the old version",
        expect: &[
            ("reads_see_latest_write", Verdict::Holds),
            ("replicas_converge", Verdict::Violated),
            ("read_your_writes", Verdict::Holds),
            ("monotonic_reads", Verdict::Holds),
        ],
    },
    Variant {
        name: "quorum-read-repair",
        about: "the fix: majority quorums, and each read sends the newest version it saw to every replica not known to hold it",
        expect: ALL_HOLD,
    },
    Variant {
        name: "sloppy-quorum",
        about: "majority quorums, but when a home replica does not answer in time a fallback node acknowledges the write for it (hinted handoff); reads ask home replicas and miss it",
        expect: &[
            ("reads_see_latest_write", Verdict::Violated),
            ("replicas_converge", Verdict::Violated),
            ("read_your_writes", Verdict::Violated),
            ("monotonic_reads", Verdict::Violated),
        ],
    },
];

/// Every property holds: what the fix, and so each of its mutants, is expected to get.
const ALL_HOLD: &[(&str, Verdict)] = &[
    ("reads_see_latest_write", Verdict::Holds),
    ("replicas_converge", Verdict::Holds),
    ("read_your_writes", Verdict::Holds),
    ("monotonic_reads", Verdict::Holds),
];

/// Seeded bugs in the `quorum-read-repair` fix; each must be caught by some property.
const MUTANTS: &[Variant] = &[
    Variant {
        name: "mutant-write-quorum-off-by-one",
        about: "seeded bug: writes complete one acknowledgement short of a majority",
        expect: ALL_HOLD,
    },
    Variant {
        name: "mutant-read-quorum-off-by-one",
        about: "seeded bug: reads complete one reply short of a majority",
        expect: ALL_HOLD,
    },
    Variant {
        name: "mutant-oldest-wins",
        about: "seeded bug: a read returns the oldest version among its replies",
        expect: ALL_HOLD,
    },
    Variant {
        name: "mutant-no-repair-sent",
        about: "seeded bug: a read works out the repairs but never sends them",
        expect: ALL_HOLD,
    },
    Variant {
        name: "mutant-ack-before-store",
        about: "seeded bug: a replica acknowledges a write without storing it",
        expect: ALL_HOLD,
    },
];

fn mode_of(variant: &Variant) -> Mode {
    match variant.name {
        "r1-w1" => Mode::R1W1,
        "quorum-read-repair" => Mode::QuorumReadRepair,
        "sloppy-quorum" => Mode::SloppyQuorum,
        name if name.starts_with("mutant-") => Mode::QuorumReadRepair,
        _ => Mode::Quorum,
    }
}

fn bug_of(variant: &Variant) -> Option<Bug> {
    match variant.name {
        "mutant-write-quorum-off-by-one" => Some(Bug::WriteQuorumOffByOne),
        "mutant-read-quorum-off-by-one" => Some(Bug::ReadQuorumOffByOne),
        "mutant-oldest-wins" => Some(Bug::OldestWins),
        "mutant-no-repair-sent" => Some(Bug::NoRepairSent),
        "mutant-ack-before-store" => Some(Bug::AckBeforeStore),
        _ => None,
    }
}

fn build_variant(variant: &Variant, bounds: &Bounds) -> LeaderlessSystem {
    build_with(mode_of(variant), bug_of(variant), bounds)
}

/// The leaderless architecture of the catalog.
pub struct Leaderless;

impl Leaderless {
    fn validate(bounds: &Bounds) -> Result<(), Error> {
        Bounds::require(
            "servers",
            bounds.servers.into(),
            2,
            5,
            "replicas of x; more do not finish exhaustively",
        )?;
        Bounds::require(
            "clients",
            bounds.clients.into(),
            1,
            CLIENT_NAMES.len() as i64,
            "one name per client",
        )?;
        Bounds::require("ops", bounds.ops.into(), 1, 8, "workload length")?;
        if bounds.balance != 0 {
            return Err(Error::BadInput(format!(
                "--balance {} has no meaning in model 'leaderless' (one register x, no account); leave it out",
                bounds.balance
            )));
        }
        Bounds::require(
            "loss",
            bounds.loss.into(),
            0,
            4,
            "lost client-replica messages per run",
        )?;
        Bounds::require(
            "crashes",
            bounds.crashes.into(),
            0,
            i64::from(bounds.servers) - 1,
            "replicas down at once; one must stay up",
        )?;
        let total = i64::from(bounds.clients) * i64::from(bounds.ops);
        if total > MAX_OPERATIONS {
            return Err(Error::BadInput(format!(
                "--clients {} x --ops {} = {total} operations is too large: at most {MAX_OPERATIONS} in one run",
                bounds.clients, bounds.ops
            )));
        }
        Ok(())
    }
}

impl Architecture for Leaderless {
    fn name(&self) -> &'static str {
        "leaderless"
    }

    fn about(&self) -> &'static str {
        "Dynamo-style replication: clients write to W and read from R of N replicas, newest version wins"
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
            ops: 2,
            servers: 3,
            balance: 0,
            network: NetworkKind::Unordered,
            loss: 1,
            crashes: 0,
        }
    }

    /// The defaults (writer and reader, two operations each), then a third client that
    /// reads twice (six turns). Both keep one lost message and an unordered network: the
    /// verdicts depend on them (see the module documentation).
    fn proof_bounds(&self) -> Vec<Bounds> {
        let d = self.default_bounds();
        vec![d, Bounds { clients: 3, ..d }]
    }

    fn bench_bounds(&self) -> Vec<Bounds> {
        let d = self.default_bounds();
        vec![
            d,
            Bounds { clients: 3, ..d },
            // Five replicas, R = W = 3: read repair and the sloppy quorum run past the
            // benchmark's state limit; r1-w1 and quorum finish.
            Bounds { servers: 5, ..d },
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
    use crate::exhaustive::{self, Limits};
    use crate::report::CheckReport;
    use stateright::Model;

    fn check(variant: &str, bounds: &Bounds, properties: &[&str]) -> CheckReport {
        let arch = Leaderless;
        let opts = CheckOptions {
            properties: properties.iter().map(|p| p.to_string()).collect(),
            ..CheckOptions::default()
        };
        arch.check(arch.variant(variant).unwrap(), bounds, &opts)
            .unwrap()
    }

    fn verdict(r: &CheckReport, property: &str) -> Verdict {
        assert!(r.complete, "{}", r.to_text());
        r.results
            .iter()
            .find(|p| p.property == property)
            .unwrap()
            .verdict
    }

    fn defaults() -> Bounds {
        Leaderless.default_bounds()
    }

    #[test]
    fn r1_w1_stale_read_is_the_six_step_story() {
        let r = check("r1-w1", &defaults(), &["reads_see_latest_write"]);
        let t = r.results[0].trace.as_ref().expect("a counterexample");
        let lines: Vec<String> = t
            .steps
            .iter()
            .map(|s| match &s.to {
                Some(to) => format!("{} -> {}: {}", s.actor, to, s.text),
                None => format!("{} {}", s.actor, s.text),
            })
            .collect();
        assert_eq!(
            lines,
            [
                "writer -> replica1: write x=1 (version 1)",
                "replica1 -> writer: ack (version 1)",
                "writer -> reader: your turn (turn 2)",
                "reader picks replica2 to read from",
                "reader -> replica2: read x",
                "replica2 -> reader: x=0 (version 0)",
            ],
            "{}",
            r.to_text()
        );
        assert_eq!(t.steps[0].changes, ["replica1 x: v0 -> v1"]);
        assert!(t.values.contains("reader read x=0 (version 0) in turn 2"));
        assert!(t.values.contains("writer's write x=1 (version 1)"));
    }

    #[test]
    fn quorum_reads_hold_at_every_proof_bound() {
        for b in Leaderless.proof_bounds() {
            let r = check(
                "quorum",
                &b,
                &[
                    "reads_see_latest_write",
                    "read_your_writes",
                    "monotonic_reads",
                ],
            );
            for p in &r.results {
                assert_eq!(p.verdict, Verdict::Holds, "{}", r.to_text());
            }
        }
    }

    #[test]
    fn read_repair_converges_where_quorum_keeps_a_lost_write_out() {
        let b = defaults();
        assert_eq!(b.loss, 1);
        let q = check("quorum", &b, &["replicas_converge"]);
        assert_eq!(verdict(&q, "replicas_converge"), Verdict::Violated);
        let t = q.results[0].trace.as_ref().unwrap();
        assert!(
            t.steps[0].action == "lose" && t.steps[0].text.contains("write x=1"),
            "{}",
            q.to_text()
        );
        let rr = check("quorum-read-repair", &b, &["replicas_converge"]);
        assert_eq!(verdict(&rr, "replicas_converge"), Verdict::Holds);
        // Without loss, every write reaches every replica: quorum converges too.
        let reliable = Bounds { loss: 0, ..b };
        let q0 = check("quorum", &reliable, &["replicas_converge"]);
        assert_eq!(verdict(&q0, "replicas_converge"), Verdict::Holds);
    }

    #[test]
    fn read_repair_limits_two_losses_and_an_unread_last_write() {
        let two = Bounds {
            loss: 2,
            ..defaults()
        };
        let r = check("quorum-read-repair", &two, &["replicas_converge"]);
        assert_eq!(verdict(&r, "replicas_converge"), Verdict::Violated);
        let unread = Bounds {
            clients: 1,
            ops: 3,
            ..defaults()
        };
        let r = check("quorum-read-repair", &unread, &["replicas_converge"]);
        assert_eq!(verdict(&r, "replicas_converge"), Verdict::Violated);
    }

    #[test]
    fn sloppy_quorum_story_goes_through_the_fallback() {
        let r = check("sloppy-quorum", &defaults(), &["reads_see_latest_write"]);
        let t = r.results[0].trace.as_ref().expect("a counterexample");
        let text = t.to_text();
        assert!(
            text.contains("writer              picks replica2 to give up on (no ack in time)"),
            "{text}"
        );
        assert!(
            text.contains("hinted write x=1 (version 1) for replica2"),
            "{text}"
        );
        assert!(
            text.contains("fallback hints: none -> x v1 for replica2"),
            "{text}"
        );
        assert!(text.contains("reader -> replica2  read x"), "{text}");
        assert_eq!(t.len(), 11, "{text}");
        // Hinted handoff completes the home replicas when nothing is lost.
        let reliable = Bounds {
            loss: 0,
            ..defaults()
        };
        let r = check("sloppy-quorum", &reliable, &["replicas_converge"]);
        assert_eq!(verdict(&r, "replicas_converge"), Verdict::Holds);
    }

    #[test]
    fn one_fallback_cannot_make_four_replicas_stale() {
        // N = 4, R = W = 3: a sloppy write keeps 2 home copies; every read of 3 meets one.
        let b = Bounds {
            servers: 4,
            clients: 2,
            ops: 1,
            ..defaults()
        };
        let r = check("sloppy-quorum", &b, &["reads_see_latest_write"]);
        assert_eq!(verdict(&r, "reads_see_latest_write"), Verdict::Holds);
        let b3 = Bounds { servers: 3, ..b };
        let r = check("sloppy-quorum", &b3, &["reads_see_latest_write"]);
        assert_eq!(verdict(&r, "reads_see_latest_write"), Verdict::Violated);
    }

    /// The soundness of `reads_see_latest_write` rests on turns: no client works on an
    /// operation while another does.
    #[test]
    fn one_client_works_at_a_time_in_every_variant() {
        let busy = |sys: &LeaderlessSystem, s: &SysState<Node>| {
            sys.nodes(s)
                .filter(|(_, _, st)| matches!(st, NodeState::Client(d) if d.busy.is_some()))
                .count()
        };
        let once = Property::<LeaderlessSystem> {
            name: "one_turn_at_a_time",
            claim: "at most one client has an operation in progress",
            kind: Kind::Always,
            client_steps: ClientSteps::Visible,
            check: |sys, s| {
                sys.nodes(s)
                    .filter(|(_, _, st)| matches!(st, NodeState::Client(d) if d.busy.is_some()))
                    .count()
                    <= 1
            },
            values: |_, _| String::new(),
        };
        for v in VARIANTS {
            let sys = build(mode_of(v), &defaults());
            let s = exhaustive::search(&sys, &[once], &Limits::default());
            assert!(s.findings[0].path.is_none(), "{}", v.name);
            assert!(s.unique_states > 100);
            let start = &sys.init_states()[0];
            assert_eq!(busy(&sys, start), 1);
        }
    }

    #[test]
    fn stale_read_on_hand_written_histories() {
        let ev = |client, seq, op, reply| Event {
            id: ReqId {
                client,
                seq,
                attempt: 0,
            },
            op,
            outcome: Outcome::Replied(reply),
        };
        let w = |c, s, v| {
            ev(
                c,
                s,
                Op::Write { key: 0, value: v },
                Reply::Written { version: v },
            )
        };
        let r = |c, s, v| {
            ev(
                c,
                s,
                Op::Read { key: 0 },
                Reply::Value {
                    value: v,
                    version: v,
                },
            )
        };
        // Two clients: turns are w(0,0)=0, r(1,0)=1, (0,1)=2, (1,1)=3.
        assert_eq!(stale_read(&vec![w(0, 0, 1), r(1, 0, 1)], 2), None);
        let st = stale_read(&vec![w(0, 0, 1), r(1, 0, 0)], 2).unwrap();
        assert_eq!((st.reader, st.read_turn, st.got), (1, 1, (0, 0)));
        assert_eq!((st.writer, st.write_turn, st.written), (0, 0, (1, 1)));
        // History order does not matter, turn order does.
        assert!(stale_read(&vec![r(1, 0, 0), w(0, 0, 1)], 2).is_some());
        // A read in an earlier turn than the write is not after it.
        assert_eq!(stale_read(&vec![r(0, 0, 0), w(1, 0, 1)], 2), None);
        // A write that was never acknowledged creates no obligation.
        let pending = Event {
            outcome: Outcome::Pending,
            ..w(0, 0, 1)
        };
        assert_eq!(stale_read(&vec![pending, r(1, 0, 0)], 2), None);
        // Newer than the latest acknowledged write is fine; older than any is not.
        assert_eq!(stale_read(&vec![w(0, 0, 1), r(1, 0, 2)], 2), None);
        assert!(stale_read(&vec![w(0, 0, 1), r(1, 0, 1), w(0, 1, 2), r(1, 1, 1)], 2).is_some());
    }

    #[test]
    fn bad_bounds_say_what_is_wrong() {
        let err = |b: Bounds| match Leaderless.check(&VARIANTS[0], &b, &CheckOptions::default()) {
            Err(Error::BadInput(m)) => m,
            Ok(_) => panic!("accepted {b:?}"),
        };
        let d = defaults();
        assert!(err(Bounds { balance: 10, ..d }).contains("--balance 10 has no meaning"));
        assert!(err(Bounds { servers: 9, ..d }).contains("--servers 9 is too large"));
        assert!(err(Bounds { servers: 1, ..d }).contains("--servers 1 is too small"));
        assert!(err(Bounds { crashes: 3, ..d }).contains("--crashes 3 is too large"));
        assert!(err(Bounds {
            clients: 6,
            ops: 3,
            ..d
        })
        .contains("18 operations is too large"));
    }

    #[test]
    fn stateright_bfs_visits_the_same_states() {
        let arch = Leaderless;
        for v in VARIANTS {
            let ours = check(v.name, &defaults(), &[]);
            let theirs = arch.baseline(v, &defaults(), 10_000_000).unwrap();
            assert!(theirs.complete);
            assert_eq!(
                theirs.unique_states, ours.results[0].unique_states,
                "{}",
                v.name
            );
        }
    }

    #[test]
    fn model_has_one_start_state_per_variant() {
        for v in VARIANTS {
            let sys = build(mode_of(v), &defaults());
            assert_eq!(sys.init_states().len(), 1);
            let actors = if mode_of(v) == Mode::SloppyQuorum {
                6
            } else {
                5
            };
            assert_eq!(sys.names.len(), actors, "{}", v.name);
        }
    }
}
