//! Master-master asynchronous replication: the burrito and the taco.
//!
//! Jose has $10. He buys a $10 burrito, and the request goes to master1; later a $5 taco,
//! and that request goes to master2, which has not yet heard of the burrito. Both are
//! approved. Replicating the operations drives the balance to -$5; replicating the
//! balances instead, highest timestamp winning, keeps $5 after $15 of food.
//!
//! Actors: clients with a scripted workload of withdrawals (burrito $10, taco $5, ...)
//! against one shared account, and `servers` masters. Client requests and replies may be
//! lost (`--loss`); replication streams are reliable (databases retransmit their log).
//! Masters keep their data on disk: a crash (`--crashes`) loses nothing but time.

use crate::architecture::{Architecture, Buildable, Variant};
use crate::bounds::Bounds;
use crate::client::{Client, ClientState, Request, RetryPolicy};
use crate::error::Error;
use crate::history::{Op, Outcome, Reply, ReqId};
use crate::property::{ClientSteps, Kind, Property};
use crate::report::Verdict;
use crate::system::{Msg, NetworkKind, Node as NodeTrait, SysState, System, Timer};
use stateright::actor::{Actor, Id, Out};
use std::borrow::Cow;

/// How the masters keep each other up to date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Each master checks its own balance, applies, replies, then sends the operation to
    /// the other masters, which apply it unconditionally.
    AsyncOps,
    /// Each master sends its new balance with a Lamport timestamp; the highest timestamp
    /// wins (ties go to the higher master number).
    Lww,
    /// The account lives on master1: other masters forward its writes there, and
    /// master1 replicates the operations it approved.
    HomeMaster,
}

/// A seeded bug (a mutant of the `home-master` fix), for proving the properties catch it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bug {
    /// The home master approves without looking at the balance.
    NoBalanceCheck,
    /// Masters apply a replicated withdrawal twice.
    DoubleApply,
    /// The home master never replicates what it approved.
    NoReplication,
    /// A non-home master tells the client "approved" as soon as it forwards the request.
    AckBeforeForward,
    /// Masters credit a replicated withdrawal instead of debiting it.
    CreditReplica,
}

/// Messages between masters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Peer {
    /// Apply a withdrawal another master approved.
    ApplyOp {
        /// Dollars withdrawn.
        amount: i16,
    },
    /// Take this balance if its timestamp is newer than yours.
    SetBalance {
        /// The sender's balance.
        balance: i16,
        /// Lamport clock and writer number.
        stamp: (u8, u8),
    },
    /// A request forwarded to the account's home master.
    Forward {
        /// The client's request id.
        id: ReqId,
        /// The operation.
        op: Op,
        /// Who to reply to.
        client: Id,
    },
}

/// A master database.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Master {
    /// 0-based master number.
    pub index: u8,
    /// The other masters.
    pub peers: Vec<Id>,
    /// Replication mode.
    pub mode: Mode,
    /// Starting balance of the account.
    pub balance: i16,
    /// The home master of the account (HomeMaster mode).
    pub home: Id,
    /// A seeded bug, in mutants only.
    pub bug: Option<Bug>,
}

/// A master's durable state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MasterState {
    /// The account balance as this master sees it.
    pub balance: i16,
    /// Timestamp of the balance (Lww mode).
    pub stamp: (u8, u8),
    /// Dollars of withdrawals this master approved.
    pub approved: i16,
}

/// The actors of this model.
#[derive(Clone, Debug)]
pub enum Node {
    /// A master database.
    Master(Master),
    /// A client.
    Client(Client),
}

/// Actor states.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NodeState {
    /// A master's.
    Master(MasterState),
    /// A client's.
    Client(ClientState),
}

impl Master {
    /// Handles a withdrawal request at a master that may approve it.
    fn decide(&self, st: &mut MasterState, id: ReqId, op: Op, client: Id, o: &mut Out<Node>) {
        let Op::Withdraw { amount, .. } = op else {
            o.send(
                client,
                Msg::Reply {
                    id,
                    reply: Reply::Error,
                },
            );
            return;
        };
        if st.balance < amount && self.bug != Some(Bug::NoBalanceCheck) {
            o.send(
                client,
                Msg::Reply {
                    id,
                    reply: Reply::Declined {
                        balance: st.balance,
                    },
                },
            );
            return;
        }
        st.balance -= amount;
        st.approved += amount;
        o.send(
            client,
            Msg::Reply {
                id,
                reply: Reply::Approved {
                    balance: st.balance,
                },
            },
        );
        match self.mode {
            Mode::AsyncOps | Mode::HomeMaster if self.bug != Some(Bug::NoReplication) => {
                for &p in &self.peers {
                    o.send(p, Msg::Peer(Peer::ApplyOp { amount }));
                }
            }
            Mode::AsyncOps | Mode::HomeMaster => {}
            Mode::Lww => {
                st.stamp = (st.stamp.0 + 1, self.index);
                for &p in &self.peers {
                    o.send(
                        p,
                        Msg::Peer(Peer::SetBalance {
                            balance: st.balance,
                            stamp: st.stamp,
                        }),
                    );
                }
            }
        }
        o.save(Box::new(st.clone()));
    }

    fn on_msg(&self, st: &mut MasterState, src: Id, msg: Msg<Peer>, o: &mut Out<Node>) {
        match msg {
            Msg::Request { id, op, .. } => {
                if self.mode == Mode::HomeMaster && self.home != self.id() {
                    if self.bug == Some(Bug::AckBeforeForward) {
                        o.send(
                            src,
                            Msg::Reply {
                                id,
                                reply: Reply::Approved {
                                    balance: st.balance,
                                },
                            },
                        );
                    }
                    o.send(
                        self.home,
                        Msg::Peer(Peer::Forward {
                            id,
                            op,
                            client: src,
                        }),
                    );
                } else {
                    self.decide(st, id, op, src, o);
                }
            }
            Msg::Peer(Peer::Forward { id, op, client }) => self.decide(st, id, op, client, o),
            Msg::Peer(Peer::ApplyOp { amount }) => {
                match self.bug {
                    // Saturating: on a duplicating network one operation may be applied
                    // again and again, without end.
                    Some(Bug::DoubleApply) => st.balance = st.balance.saturating_sub(2 * amount),
                    Some(Bug::CreditReplica) => st.balance = st.balance.saturating_add(amount),
                    _ => st.balance = st.balance.saturating_sub(amount),
                }
                o.save(Box::new(st.clone()));
            }
            // A balance with an older timestamp than the master's loses: it changes
            // nothing (its clock is already past it), and the master ignores it for good.
            Msg::Peer(Peer::SetBalance { balance, stamp }) => {
                if stamp > st.stamp {
                    st.balance = balance;
                    st.stamp = stamp;
                    o.save(Box::new(st.clone()));
                }
            }
            Msg::Reply { .. } => {}
        }
    }

    fn id(&self) -> Id {
        Id::from(self.index as usize)
    }
}

impl Actor for Node {
    type Msg = Msg<Peer>;
    type Timer = Timer;
    type State = NodeState;
    type Storage = Box<MasterState>;
    type Random = ();

    fn on_start(&self, _id: Id, storage: &Option<Self::Storage>, o: &mut Out<Self>) -> NodeState {
        match self {
            Node::Master(m) => NodeState::Master(match storage {
                Some(saved) => (**saved).clone(),
                None => MasterState {
                    balance: m.balance,
                    stamp: (0, 0),
                    approved: 0,
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
            (Node::Master(m), NodeState::Master(st)) => {
                let mut next = st.clone();
                m.on_msg(&mut next, src, msg, o);
                if next != *st || !o.is_empty() {
                    *state.to_mut() = NodeState::Master(next);
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

    // Masters answer each attempt once, except the mutant that acknowledges a forwarded
    // withdrawal itself (and the home master answers it again).
    fn replies_once(&self) -> bool {
        !matches!(self, Node::Master(m) if m.bug == Some(Bug::AckBeforeForward))
    }

    fn as_client(&self) -> Option<&Client> {
        match self {
            Node::Client(c) => Some(c),
            Node::Master(_) => None,
        }
    }

    fn client_state(state: &NodeState) -> Option<&ClientState> {
        match state {
            NodeState::Client(c) => Some(c),
            NodeState::Master(_) => None,
        }
    }

    fn facts(&self, state: &NodeState) -> Vec<(&'static str, String)> {
        match (self, state) {
            (Node::Client(c), NodeState::Client(s)) => c.facts(s),
            (_, NodeState::Master(s)) => vec![("balance", s.balance.to_string())],
            _ => Vec::new(),
        }
    }

    fn describe_peer(msg: &Peer) -> String {
        match msg {
            Peer::ApplyOp { amount } => format!("replicate withdraw ${amount}"),
            Peer::SetBalance { balance, stamp } => {
                format!(
                    "replicate balance ${balance} (timestamp {}.{})",
                    stamp.0,
                    stamp.1 + 1
                )
            }
            Peer::Forward { op, .. } => format!("forward {op} to the home master"),
        }
    }

    fn lossy(msg: &Msg<Peer>) -> bool {
        !matches!(msg, Msg::Peer(_))
    }

    fn crashable(&self) -> bool {
        matches!(self, Node::Master(_))
    }

    // A master's timestamp only grows (it is saved with every change), so a balance
    // stamped older than it loses now and always will; clients ignore old replies.
    fn ignores_for_good(&self, state: &NodeState, _src: Id, msg: &Msg<Peer>) -> bool {
        match (self, state) {
            (Node::Master(_), NodeState::Master(st)) => {
                matches!(msg, Msg::Peer(Peer::SetBalance { stamp, .. }) if *stamp <= st.stamp)
            }
            (Node::Client(c), NodeState::Client(st)) => c.ignores_for_good(st, msg),
            _ => false,
        }
    }

    // No client and no property reads the balance a reply carries: the story tells it
    // (it is the master's balance after the step), clients only move on.
    fn reply_as_read(reply: Reply) -> Reply {
        match reply {
            Reply::Approved { .. } => Reply::Approved { balance: 0 },
            Reply::Declined { .. } => Reply::Declined { balance: 0 },
            other => other,
        }
    }

    fn client_state_mut(state: &mut NodeState) -> Option<&mut ClientState> {
        match state {
            NodeState::Client(c) => Some(c),
            NodeState::Master(_) => None,
        }
    }

    fn history_unread() -> bool {
        true
    }
}

/// The model type: masters and clients.
pub type MasterMasterSystem = System<Node>;

/// The masters of `s` with their names, in order (borrowed: properties check every state
/// the search finds).
fn masters<'a>(
    sys: &'a MasterMasterSystem,
    s: &'a SysState<Node>,
) -> impl Iterator<Item = (&'a str, &'a MasterState)> + 'a {
    sys.picked(s, |st| match st {
        NodeState::Master(m) => Some(m),
        NodeState::Client(_) => None,
    })
}

fn start_balance(sys: &MasterMasterSystem) -> i16 {
    sys.actors
        .actors
        .iter()
        .find_map(|a| match a {
            Node::Master(m) => Some(m.balance),
            Node::Client(_) => None,
        })
        .unwrap_or(0)
}

fn balances_text(sys: &MasterMasterSystem, s: &SysState<Node>) -> String {
    masters(sys, s)
        .map(|(n, m)| format!("{n} holds {}", m.balance))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The replication messages in flight, each with whether its master will still apply it
/// (one stamped older than the master's balance never will).
fn replication<'a>(
    sys: &'a MasterMasterSystem,
    s: &'a SysState<Node>,
) -> impl Iterator<Item = (stateright::actor::Envelope<&'a Msg<Peer>>, bool)> + 'a {
    // A forward is a withdrawal on its way to the home master, not replication: nothing
    // was approved or applied yet.
    sys.in_flight(s)
        .filter(|e| {
            matches!(
                e.msg,
                Msg::Peer(Peer::ApplyOp { .. } | Peer::SetBalance { .. })
            )
        })
        .map(|e| (e, !sys.ignored_for_good(s, e.src, e.dst, e.msg)))
}

/// Whether a replication message is on its way that its master will still apply:
/// replication has settled without the others.
fn replication_in_flight(sys: &MasterMasterSystem, s: &SysState<Node>) -> bool {
    replication(sys, s).any(|(_, applies)| applies)
}

fn approved_by_clients(sys: &MasterMasterSystem, s: &SysState<Node>) -> i16 {
    sys.events(s)
        .filter_map(|e| match (e.op, e.outcome) {
            (Op::Withdraw { amount, .. }, Outcome::Replied(Reply::Approved { .. })) => Some(amount),
            _ => None,
        })
        .sum()
}

/// The properties of the master-master model, each declared once.
pub fn properties() -> Vec<Property<MasterMasterSystem>> {
    vec![
        Property {
            name: "no_negative_balance",
            claim: "no account balance is ever below zero",
            kind: Kind::Always,
            client_steps: ClientSteps::Invisible,
            check: |sys, s| masters(sys, s).all(|(_, m)| m.balance >= 0),
            values: balances_text,
        },
        Property {
            name: "money_conserved",
            claim: "once replication settles, every master holds the starting balance minus the approved withdrawals",
            kind: Kind::Always,
            client_steps: ClientSteps::Invisible,
            check: |sys, s| {
                if replication_in_flight(sys, s) {
                    return true;
                }
                let approved: i16 = masters(sys, s).map(|(_, m)| m.approved).sum();
                let left = start_balance(sys) - approved;
                masters(sys, s).all(|(_, m)| m.balance == left)
            },
            values: |sys, s| {
                let approved: i16 = masters(sys, s).map(|(_, m)| m.approved).sum();
                let mut text = format!(
                    "${approved} approved out of ${}, so every master should hold {}; {}",
                    start_balance(sys),
                    start_balance(sys) - approved,
                    balances_text(sys, s)
                );
                // Replication still in flight that will never be applied: say why.
                for (e, _) in replication(sys, s).filter(|(_, applies)| !applies) {
                    text.push_str(&format!(
                        "; {} -> {} {} is older than what {} holds and is ignored",
                        sys.name(e.src),
                        sys.name(e.dst),
                        sys.describe_msg(e.msg, e.src, e.dst),
                        sys.name(e.dst)
                    ));
                }
                text
            },
        },
        Property {
            name: "replicas_converge",
            claim: "when nothing is left to deliver, every master holds the same balance",
            kind: Kind::Eventually,
            client_steps: ClientSteps::Invisible,
            check: |sys, s| {
                let mut balances = masters(sys, s).map(|(_, m)| m.balance);
                let first = balances.next();
                balances.all(|b| Some(b) == first)
            },
            values: balances_text,
        },
        Property {
            name: "approvals_within_funds",
            claim: "the withdrawals clients saw approved never add up to more than the starting balance",
            kind: Kind::Always,
            client_steps: ClientSteps::Stable,
            check: |sys, s| approved_by_clients(sys, s) <= start_balance(sys),
            values: |sys, s| {
                format!(
                    "clients were approved ${} against a starting balance of ${}",
                    approved_by_clients(sys, s),
                    start_balance(sys)
                )
            },
        },
    ]
}

const CLIENT_NAMES: [&str; 8] = [
    "jose", "maria", "ana", "luis", "sofia", "pedro", "lucia", "diego",
];

/// Whether `node` handles `msg` without its state (see
/// [`System::with_handled_without_state`]): a master other than the home master forwards a
/// request to it whatever it holds (unless the seeded bug has it answer with its balance
/// first).
fn forwards_without_state(node: &Node, msg: &Msg<Peer>) -> bool {
    matches!((node, msg), (Node::Master(m), Msg::Request { .. })
        if m.mode == Mode::HomeMaster && m.home != m.id() && m.bug != Some(Bug::AckBeforeForward))
}

/// Whether master `i` takes `msg` in without answering (see [`System::with_absorbed`]): in
/// `home-master`, a master other than the home master applying a withdrawal the home
/// master approved. It only lowers its balance, which undoes no negative balance, and it
/// forwards every request without its state, so nothing it does reads the balance the
/// withdrawal changes. Not in the seeded bugs that credit the withdrawal or answer with
/// the balance.
fn absorbs(sys: &MasterMasterSystem, _: &SysState<Node>, i: usize, msg: &Msg<Peer>) -> bool {
    matches!((&sys.actors.actors[i], msg), (Node::Master(m), Msg::Peer(Peer::ApplyOp { .. }))
        if m.mode == Mode::HomeMaster
            && m.home != m.id()
            && !matches!(m.bug, Some(Bug::AckBeforeForward | Bug::CreditReplica)))
}

/// Builds the model for a variant's mode at `bounds`.
pub fn build(mode: Mode, bounds: &Bounds) -> MasterMasterSystem {
    build_with(mode, None, bounds)
}

/// Builds the model for a mode, with a seeded bug or none.
pub fn build_with(mode: Mode, bug: Option<Bug>, bounds: &Bounds) -> MasterMasterSystem {
    let servers = bounds.servers as usize;
    let master_ids: Vec<Id> = (0..servers).map(Id::from).collect();
    let mut actors: Vec<(String, Node)> = (0..servers)
        .map(|i| {
            (
                format!("master{}", i + 1),
                Node::Master(Master {
                    index: i as u8,
                    peers: master_ids
                        .iter()
                        .copied()
                        .filter(|&p| p != Id::from(i))
                        .collect(),
                    mode,
                    balance: bounds.balance,
                    home: master_ids[0],
                    bug,
                }),
            )
        })
        .collect();
    for c in 0..bounds.clients as usize {
        let workload = (0..bounds.ops as usize)
            .map(|k| {
                let (amount, label) = if (c + k) % 2 == 0 {
                    (10, "burrito")
                } else {
                    (5, "taco")
                };
                Request {
                    dst: master_ids[(c + k) % servers],
                    op: Op::Withdraw { account: 0, amount },
                    label,
                }
            })
            .collect();
        actors.push((
            CLIENT_NAMES[c].to_string(),
            Node::Client(Client {
                index: c as u8,
                workload,
                policy: RetryPolicy::default(),
            }),
        ));
    }
    System::new(actors, bounds.faults(), properties())
        .with_handled_without_state(forwards_without_state)
        .with_absorbed(absorbs)
}

const VARIANTS: &[Variant] = &[
    Variant {
        name: "async-ops",
        about: "each master checks its own balance, applies, then replicates the operation asynchronously",
        expect: &[
            ("no_negative_balance", Verdict::Violated),
            ("money_conserved", Verdict::Holds),
            ("replicas_converge", Verdict::Holds),
            ("approvals_within_funds", Verdict::Violated),
        ],
    },
    Variant {
        name: "lww",
        about: "each master replicates its new balance with a timestamp; the highest timestamp wins",
        expect: &[
            ("no_negative_balance", Verdict::Holds),
            ("money_conserved", Verdict::Violated),
            ("replicas_converge", Verdict::Holds),
            ("approvals_within_funds", Verdict::Violated),
        ],
    },
    Variant {
        name: "home-master",
        about: "the fix: every write for the account goes to master1, which replicates what it approved",
        expect: ALL_HOLD,
    },
];

/// Every property holds: what the fix, and so each of its mutants, is expected to get.
const ALL_HOLD: &[(&str, Verdict)] = &[
    ("no_negative_balance", Verdict::Holds),
    ("money_conserved", Verdict::Holds),
    ("replicas_converge", Verdict::Holds),
    ("approvals_within_funds", Verdict::Holds),
];

/// Seeded bugs in the `home-master` fix; each must be caught by some property.
const MUTANTS: &[Variant] = &[
    Variant {
        name: "mutant-no-balance-check",
        about: "seeded bug: the home master approves without checking the balance",
        expect: ALL_HOLD,
    },
    Variant {
        name: "mutant-double-apply",
        about: "seeded bug: masters apply a replicated withdrawal twice",
        expect: ALL_HOLD,
    },
    Variant {
        name: "mutant-no-replication",
        about: "seeded bug: the home master never replicates what it approved",
        expect: ALL_HOLD,
    },
    Variant {
        name: "mutant-ack-before-forward",
        about: "seeded bug: a non-home master says approved as soon as it forwards",
        expect: ALL_HOLD,
    },
    Variant {
        name: "mutant-credit-replica",
        about: "seeded bug: masters credit a replicated withdrawal instead of debiting it",
        expect: ALL_HOLD,
    },
];

fn mode_of(variant: &Variant) -> (Mode, Option<Bug>) {
    match variant.name {
        "lww" => (Mode::Lww, None),
        "home-master" => (Mode::HomeMaster, None),
        "mutant-no-balance-check" => (Mode::HomeMaster, Some(Bug::NoBalanceCheck)),
        "mutant-double-apply" => (Mode::HomeMaster, Some(Bug::DoubleApply)),
        "mutant-no-replication" => (Mode::HomeMaster, Some(Bug::NoReplication)),
        "mutant-ack-before-forward" => (Mode::HomeMaster, Some(Bug::AckBeforeForward)),
        "mutant-credit-replica" => (Mode::HomeMaster, Some(Bug::CreditReplica)),
        _ => (Mode::AsyncOps, None),
    }
}

fn build_variant(variant: &Variant, bounds: &Bounds) -> MasterMasterSystem {
    let (mode, bug) = mode_of(variant);
    build_with(mode, bug, bounds)
}

/// The master-master architecture of the catalog.
pub struct MasterMaster;

impl MasterMaster {
    fn validate(bounds: &Bounds) -> Result<(), Error> {
        Bounds::require(
            "servers",
            bounds.servers.into(),
            2,
            5,
            "masters replicate to each other",
        )?;
        Bounds::require(
            "clients",
            bounds.clients.into(),
            1,
            CLIENT_NAMES.len() as i64,
            "one name per client",
        )?;
        Bounds::require("ops", bounds.ops.into(), 1, 12, "workload length")?;
        Bounds::require(
            "balance",
            bounds.balance.into(),
            0,
            1000,
            "dollars in the account",
        )?;
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
            i64::from(bounds.servers) - 1,
            "masters down at once; one must stay up",
        )?;
        let total = i64::from(bounds.clients) * i64::from(bounds.ops);
        if total > 24 {
            return Err(Error::BadInput(format!(
                "--clients {} x --ops {} = {total} withdrawals is too large: at most 24 in one run",
                bounds.clients, bounds.ops
            )));
        }
        Ok(())
    }
}

impl Architecture for MasterMaster {
    fn name(&self) -> &'static str {
        "master-master"
    }

    fn about(&self) -> &'static str {
        "two masters replicate asynchronously: the burrito and the taco"
    }

    fn variants(&self) -> &'static [Variant] {
        VARIANTS
    }

    fn mutants(&self) -> &'static [Variant] {
        MUTANTS
    }

    fn default_bounds(&self) -> Bounds {
        Bounds {
            clients: 1,
            ops: 2,
            servers: 2,
            balance: 10,
            network: NetworkKind::Unordered,
            loss: 0,
            crashes: 0,
        }
    }

    fn proof_bounds(&self) -> Vec<Bounds> {
        let d = self.default_bounds();
        vec![
            d,
            Bounds {
                clients: 2,
                servers: 3,
                loss: 1,
                crashes: 1,
                ..d
            },
            Bounds {
                clients: 2,
                ops: 3,
                network: NetworkKind::Ordered,
                loss: 1,
                crashes: 1,
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
                servers: 3,
                ..d
            },
            // Three withdrawals each at $100: every one is approved, so nothing is violated
            // early (but lww's money_conserved) and the search must cover the whole space.
            Bounds {
                clients: 3,
                servers: 3,
                ops: 3,
                balance: 100,
                ..d
            },
            // A bug deep in a large workload: $90 of food against $60, six clients, three
            // masters. BFS runs out of states long before the violation's depth.
            Bounds {
                clients: 6,
                servers: 3,
                balance: 60,
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

    #[test]
    fn the_article_story_breaks_no_negative_balance_in_four_steps() {
        let arch = MasterMaster;
        let v = arch.variant("async-ops").unwrap();
        let opts = CheckOptions {
            properties: vec!["no_negative_balance".into()],
            ..CheckOptions::default()
        };
        let r = arch.check(v, &arch.default_bounds(), &opts).unwrap();
        let t = r.results[0].trace.as_ref().expect("a counterexample");
        assert_eq!(t.len(), 4, "{}", r.to_text());
        assert!(t.values.contains("-5"), "{}", t.values);
    }

    #[test]
    fn model_has_a_start_state() {
        let sys = build(Mode::AsyncOps, &MasterMaster.default_bounds());
        assert_eq!(sys.init_states().len(), 1);
    }
}
