//! A system: named stateright actors on a network with a fault budget.
//!
//! [`System`] wraps stateright's [`ActorModel`] and adds what splitbrain needs on top:
//! actor names for the story, a *bounded* message-loss budget (stateright's lossy
//! network loses without limit), the client history, and the property declarations.

use crate::client::{Client, ClientState};
use crate::forgetting::settled;
use crate::history::{Event, History, Op, Reply, ReqId};
use crate::property::Property;
use crate::trace::{Forgetting, Narrate, Step, Told};
use serde::Serialize;
use stateright::actor::{
    Actor, ActorModel, ActorModelAction, ActorModelState, Envelope, Id, LossyNetwork, Network,
};
use stateright::Model;
use std::fmt::Debug;
use std::hash::Hash;

/// Every message in a splitbrain model: client requests and replies, plus the model's own
/// messages between servers (`P`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Msg<P> {
    /// A client asks a server to perform `op`.
    Request {
        /// Which attempt of which request.
        id: ReqId,
        /// What is asked.
        op: Op,
        /// Session token: the newest version this client has written or read (0: none, or
        /// the client does not send tokens).
        token: u8,
    },
    /// A server answers a request.
    Reply {
        /// The attempt answered.
        id: ReqId,
        /// The answer.
        reply: Reply,
    },
    /// A message between servers (replication, forwarding...).
    Peer(P),
}

/// Timers used by the building blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timer {
    /// A client's request timeout.
    Request,
    /// A server's timeout while waiting on another server (an app server waiting for
    /// the database, a coordinator waiting for replicas).
    Backend,
    /// A periodic background task of a server (anti-entropy, hinted handoff).
    Background,
}

/// How the network treats messages in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum NetworkKind {
    /// Per-channel FIFO: messages from one node to another arrive in the order sent.
    Ordered,
    /// Any message in flight can arrive next; each arrives at most once.
    Unordered,
    /// Any message in flight can arrive next, and may arrive again (duplicates).
    Duplicating,
}

impl NetworkKind {
    /// An empty stateright network of this kind.
    pub fn empty<M: Clone + Debug + Eq + Hash + Ord>(self) -> Network<M> {
        match self {
            NetworkKind::Ordered => Network::new_ordered([]),
            NetworkKind::Unordered => Network::new_unordered_nonduplicating([]),
            NetworkKind::Duplicating => Network::new_unordered_duplicating([]),
        }
    }

    /// The name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkKind::Ordered => "ordered",
            NetworkKind::Unordered => "unordered",
            NetworkKind::Duplicating => "duplicating",
        }
    }
}

/// The faults a system may suffer in one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Faults {
    /// Network semantics.
    pub network: NetworkKind,
    /// At most this many messages are lost in one run (0: reliable network).
    pub loss: u8,
    /// At most this many servers are down at the same time (crash, then restart
    /// from durable storage).
    pub crashes: u8,
}

/// What a model's actor type tells the harness, beyond stateright's [`Actor`].
pub trait Node:
    Actor<
        Msg = Msg<Self::Peer>,
        Timer = Timer,
        State: Send + Sync + 'static,
        Storage: Send + Sync + 'static,
        Random: Send + Sync + 'static,
    > + Clone
    + Debug
    + Send
    + Sync
    + 'static
{
    /// Messages between servers.
    type Peer: Clone + Debug + Eq + Hash + Ord + Send + Sync + 'static;

    /// The client building block inside this actor, if it is a client.
    fn as_client(&self) -> Option<&Client>;

    /// The client state inside this actor state, if it is a client's.
    fn client_state(state: &Self::State) -> Option<&ClientState>;

    /// Short named facts about an actor state, for traces ("balance" = "10"). A step prints
    /// the facts it changed.
    fn facts(&self, state: &Self::State) -> Vec<(&'static str, String)>;

    /// A server-to-server message in the model's words ("replicate withdraw $10").
    fn describe_peer(msg: &Self::Peer) -> String;

    /// Whether the network may lose this message (within the loss budget). By default
    /// any message may be lost; a model whose replication stream retransmits says no for it.
    fn lossy(msg: &Msg<Self::Peer>) -> bool {
        let _ = msg;
        true
    }

    /// Whether this actor sends clients nothing but replies, at most one per attempt of
    /// their requests (while the attempt is unanswered and no other reply to it is in
    /// flight). The partial-order reduction (`--reduce por`) relies on it to know that a
    /// client whose unanswered attempts all have their replies in flight will receive
    /// nothing else until it acts; [`crate::reduction::audit`] checks it over whole state
    /// spaces. A system with an actor that does not declare it (the default) is never
    /// reduced.
    fn replies_once(&self) -> bool {
        false
    }

    /// Whether this actor, in `state`, ignores `msg` from `src` for good: receiving it
    /// changes nothing and sends nothing, in this state and in every state the actor can
    /// reach from it, through a crash and restart too. Losing such a message is no work
    /// left to do (a run whose other steps are crashes has come to rest), and `--reduce
    /// por` forgets it (see [`crate::forgetting`]);
    /// [`crate::reduction::audit`] checks the answers over whole state spaces. By
    /// default a client ignores replies to attempts it no longer waits for
    /// ([`Client::ignores_for_good`]) and a server ignores nothing.
    fn ignores_for_good(&self, state: &Self::State, src: Id, msg: &Msg<Self::Peer>) -> bool {
        let _ = src;
        match (self.as_client(), Self::client_state(state)) {
            (Some(client), Some(st)) => client.ignores_for_good(st, msg),
            _ => false,
        }
    }

    /// The part of a reply that something reads: the reply with what no actor's step and
    /// no property's check ever reads set to a fixed value (a client must react to both
    /// the same way). `--reduce por` keeps replies this way, in flight and in client logs,
    /// so that states that differ only there are searched once; traces replay the full
    /// states (see [`crate::forgetting`]). A model that changes replies here answers
    /// [`Node::client_state_mut`]; [`crate::reduction::audit`] checks both over whole
    /// state spaces. By default the whole reply is read.
    fn reply_as_read(reply: Reply) -> Reply {
        reply
    }

    /// The client state inside this actor state, to rewrite its log (see
    /// [`Node::reply_as_read`] and [`Node::history_unread`]). `None` by default.
    fn client_state_mut(state: &mut Self::State) -> Option<&mut ClientState> {
        let _ = state;
        None
    }

    /// Whether no step of this model's actors reads what a client keeps of the operations
    /// it finished: the answered attempts of its log (and the real-time history), kept
    /// for the properties only. A client's steps write its log and read only what it is
    /// waiting for. `--reduce por` then forgets them once every property left undecided
    /// reads only the servers (see [`crate::forgetting`]); the model answers
    /// [`Node::client_state_mut`], and [`crate::reduction::audit`] checks the claim over
    /// whole state spaces. `false` by default.
    fn history_unread() -> bool {
        false
    }

    /// Symmetry reduction (`--reduce symmetry`, see [`crate::symmetry`]): this actor state
    /// with the system's interchangeable actors renamed by `r` (ids, per-actor vectors,
    /// bit sets). `None` (the default): the model does not rename; a model that declares
    /// a symmetry group must answer for every state.
    fn renamed_state(state: &Self::State, r: &crate::symmetry::Renaming) -> Option<Self::State> {
        let _ = (state, r);
        None
    }

    /// Whether every renaming leaves this actor state as it is (nothing in it names an
    /// interchangeable actor): the engine then takes the state's own hash for the renamed
    /// state's instead of building it (see [`Node::renamed_state`]; the symmetry audit
    /// checks the two agree). `false` by default.
    fn renaming_keeps(state: &Self::State) -> bool {
        let _ = state;
        false
    }

    /// What this actor's state says about each interchangeable actor it names:
    /// `note(j, what)` for actor `j` (by index). The symmetry reduction sorts the
    /// interchangeable actors by what they hold, what is in flight to and from them and
    /// what the others say about them, and takes actors that look alike in all of that
    /// as alike (one order among them is tried): a state that names an interchangeable
    /// actor must note it here, or that actor and another may look alike while the state
    /// tells them apart (the symmetry audit then fails: the state and its renaming get
    /// different keys). What is noted must follow renaming: `renamed_state(state, r)`
    /// notes `what` about `r.index(j)` wherever `state` notes it about `j`. Only actors
    /// outside the group are asked. Nothing by default.
    fn mentions(state: &Self::State, note: &mut dyn FnMut(usize, u64)) {
        let _ = (state, note);
    }

    /// What a server-to-server message says about each interchangeable actor it names
    /// (besides its sender and receiver), as [`Node::mentions`] for states: `note(j,
    /// what)` for actor `j`, following renaming as [`Node::renamed_peer`] does. Nothing by
    /// default.
    fn peer_mentions(msg: &Self::Peer, note: &mut dyn FnMut(usize, u64)) {
        let _ = (msg, note);
    }

    /// A server-to-server message renamed (see [`Node::renamed_state`]).
    fn renamed_peer(msg: &Self::Peer, r: &crate::symmetry::Renaming) -> Option<Self::Peer> {
        let _ = (msg, r);
        None
    }

    /// What an actor keeps on disk, renamed (see [`Node::renamed_state`]).
    fn renamed_storage(
        storage: &Self::Storage,
        r: &crate::symmetry::Renaming,
    ) -> Option<Self::Storage> {
        let _ = (storage, r);
        None
    }

    /// An actor's pending random choices, renamed, in the order the renamed actor would
    /// offer them (see [`Node::renamed_state`]).
    fn renamed_choices(
        choices: &[Self::Random],
        r: &crate::symmetry::Renaming,
    ) -> Option<Vec<Self::Random>> {
        let _ = (choices, r);
        None
    }

    /// Whether this actor may crash (within the crash budget). By default servers may and
    /// clients may not.
    fn crashable(&self) -> bool {
        self.as_client().is_none()
    }
}

/// A model: named actors, network, fault budget and properties.
pub struct System<A: Node> {
    /// The stateright actor model underneath.
    pub actors: ActorModel<A>,
    /// One name per actor, in actor order ("jose", "master1").
    pub names: Vec<String>,
    /// Faults allowed in one run.
    pub faults: Faults,
    /// The properties declared for this model.
    pub properties: Vec<Property<System<A>>>,
    /// Whether states record the real-time order of register operations (on when the
    /// model declares `linearizable`; it makes states history-dependent).
    pub real_time: bool,
    /// The actor states and messages of the exhaustive engine's packed states.
    tables: crate::compact::Tables<A>,
    /// The interchangeable actors, if the model declares some
    /// ([`System::with_symmetry`]).
    pub(crate) symmetry: Option<crate::symmetry::Symmetry>,
    /// Which actors keep nothing ([`System::with_stateless`]), by actor index.
    pub(crate) stateless: Vec<bool>,
    /// Which actors are sinks ([`System::with_sinks`]), by actor index.
    pub(crate) sinks: Vec<bool>,
    /// Which servers can no longer change in a state, if the model says
    /// ([`System::with_frozen`]).
    pub(crate) frozen: Option<crate::reduction::Frozen<A>>,
    /// Which messages servers handle without their state, if the model says
    /// ([`System::with_handled_without_state`]).
    pub(crate) without_state: Option<crate::reduction::WithoutState<A>>,
    /// Which messages servers take in without answering, if the model says
    /// ([`System::with_absorbed`]).
    pub(crate) absorbed: Option<crate::reduction::Absorbed<A>>,
    /// Which actors nothing more will be sent to until they act, if the model says
    /// ([`System::with_quiet`]).
    pub(crate) quiet: Option<crate::reduction::Quiet<A>>,
    /// Linearizability verdicts worked out so far, by history hash: states reached by
    /// different paths often carry equal histories, each its own copy.
    linearizable_histories: std::sync::RwLock<std::collections::HashMap<u64, bool>>,
}

pub use crate::real_time::{RealTime, RegisterHistory};

/// A state of a [`System`]: the actors and network, and how many messages were lost so far.
pub struct SysState<A: Node> {
    /// Actor states, network, timers, crashes.
    pub net: ActorModelState<A>,
    /// Messages lost so far in this run.
    pub lost: u8,
    /// Real-time order of register operations, when the model asks for it.
    pub real_time: Option<std::sync::Arc<RealTime>>,
    /// Hashes of the actor states, worked out once (see [`Memo`]).
    pub(crate) memo: Memo,
}

/// The hash of each actor's state ([`state_hash`]), kept with a state so that its
/// successors, which share most actor states with it, and its packing need not hash them
/// again. An entry holds the address of the `Arc` it was worked out for and counts only
/// while the state still holds that `Arc` (stateright replaces an actor's `Arc` whenever
/// its state changes, never writes through it, so the address names the value).
#[derive(Clone, Default)]
pub(crate) struct Memo {
    states: Vec<(usize, u64)>,
}

impl Memo {
    /// The hashes of `states`, taken from `like` (a memo and the states it belongs to)
    /// where it holds the same `Arc` and that `Arc` is still its state's, else worked out.
    /// (An entry whose `Arc` its state no longer holds, replaced when the search took
    /// something out of the state, names an address the allocator may give to another
    /// state's `Arc`.)
    pub(crate) fn of<S: Hash>(
        states: &[std::sync::Arc<S>],
        like: Option<(&Memo, &[std::sync::Arc<S>])>,
    ) -> Memo {
        let (known, theirs) = like.map_or((&[][..], &[][..]), |(m, s)| (m.states.as_slice(), s));
        Memo {
            states: states
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let at = std::sync::Arc::as_ptr(s) as usize;
                    let still_theirs = |p: usize| {
                        theirs
                            .get(i)
                            .is_some_and(|t| std::sync::Arc::as_ptr(t) as usize == p)
                    };
                    match known.get(i) {
                        Some(&(p, h)) if p == at && still_theirs(p) => (p, h),
                        _ => (at, state_hash(&**s)),
                    }
                })
                .collect(),
        }
    }

    /// A memo of hashes known to belong to `states` (as the packed tables hold them).
    pub(crate) fn known<S>(states: &[std::sync::Arc<S>], hashes: Vec<u64>) -> Memo {
        Memo {
            states: states
                .iter()
                .map(|s| std::sync::Arc::as_ptr(s) as usize)
                .zip(hashes)
                .collect(),
        }
    }

    /// The hash of `states[i]`: remembered if this memo was worked out for that `Arc`.
    pub(crate) fn state<S: Hash>(&self, states: &[std::sync::Arc<S>], i: usize) -> u64 {
        match self.states.get(i) {
            Some(&(p, h)) if p == std::sync::Arc::as_ptr(&states[i]) as usize => h,
            _ => state_hash(&*states[i]),
        }
    }
}

/// The hash of one actor's state, as it enters its part of the fingerprint (and as the
/// packed tables store it).
pub(crate) fn state_hash<S: Hash + ?Sized>(state: &S) -> u64 {
    use std::hash::BuildHasher;
    parts().hash_one(state)
}

// Written by hand: derived impls would require them of the actor type `A` itself.
impl<A: Node> Clone for SysState<A> {
    fn clone(&self) -> Self {
        SysState {
            net: self.net.clone(),
            lost: self.lost,
            real_time: self.real_time.clone(),
            memo: self.memo.clone(),
        }
    }
}
impl<A: Node> PartialEq for SysState<A> {
    fn eq(&self, other: &Self) -> bool {
        self.lost == other.lost && self.net == other.net && self.real_time == other.real_time
    }
}
impl<A: Node> Eq for SysState<A> where A::State: Eq {}
// A state hashes as one number, [`SysState::composed`]: a sum of one hash per actor and
// one per message in flight, so that the exhaustive engine can tell where a delivery
// leads (and skip it when that state was seen) without building the state
// ([`System::successor_fingerprints`]). Equal states compose to equal numbers.
impl<A: Node> Hash for SysState<A> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        h.write_u64(self.composed());
    }
}

/// The hasher of the parts a state's fingerprint is composed of (fixed seed).
fn parts() -> foldhash::fast::FixedState {
    foldhash::fast::FixedState::with_seed(0x9e37_79b9_7f4a_7c15)
}

/// The timers set for one actor, as a bit set.
pub(crate) fn timer_bits(timers: &stateright::actor::Timers<Timer>) -> u8 {
    timers.iter().fold(0, |bits, t| bits | 1 << (*t as u8))
}

impl<A: Node> SysState<A> {
    /// The hash of actor `i`'s share of the state: its state, timers, crash flag, durable
    /// storage and pending random choices.
    fn actor_part(&self, i: usize) -> u64 {
        let net = &self.net;
        self.actor_part_with(
            i,
            self.memo.state(&net.actor_states, i),
            net.timers_set.get(i).map_or(0, timer_bits),
            net.actor_storages.get(i),
        )
    }

    /// Actor `i`'s part, given the hash of its state ([`state_hash`]), its timers and
    /// storage; the rest as in this state.
    fn actor_part_with(
        &self,
        i: usize,
        state: u64,
        timers: u8,
        storage: Option<&Option<A::Storage>>,
    ) -> u64 {
        let net = &self.net;
        let random = net.random_choices.get(i).filter(|c| !c.map.is_empty());
        Self::actor_part_at(i, state, timers, net.crashed.get(i), storage, random)
    }

    /// The hash of an actor's share of a state, given each piece: the actor's index, the
    /// hash of its state ([`state_hash`]), timers, crash flag, durable storage and pending
    /// random choices (`None` when there are none).
    pub(crate) fn actor_part_at(
        i: usize,
        state: u64,
        timers: u8,
        crashed: Option<&bool>,
        storage: Option<&Option<A::Storage>>,
        random: Option<&stateright::actor::RandomChoices<A::Random>>,
    ) -> u64 {
        use std::hash::BuildHasher;
        parts().hash_one((i, state, timers, crashed, storage, random))
    }

    /// The hash of one message in flight.
    pub(crate) fn envelope_part(env: Envelope<&Msg<A::Peer>>) -> u64 {
        use std::hash::BuildHasher;
        parts().hash_one((env.src, env.dst, env.msg))
    }

    /// The hash of the network: for the unordered non-duplicating network (a multiset)
    /// the sum of its messages' hashes, one per copy.
    fn network_part(&self) -> u64 {
        Self::network_part_of(&self.net.network)
    }

    /// [`SysState::network_part`] of a given network.
    pub(crate) fn network_part_of(network: &Network<Msg<A::Peer>>) -> u64 {
        use std::hash::BuildHasher;
        match network {
            Network::UnorderedNonDuplicating(multiset) => {
                multiset.iter().fold(0u64, |sum, (env, copies)| {
                    let e = Self::envelope_part(Envelope {
                        src: env.src,
                        dst: env.dst,
                        msg: &env.msg,
                    });
                    sum.wrapping_add(e.wrapping_mul(*copies as u64))
                })
            }
            Network::UnorderedDuplicating(set, last) => {
                let mut hashes: Vec<u64> = set
                    .iter()
                    .map(|env| {
                        Self::envelope_part(Envelope {
                            src: env.src,
                            dst: env.dst,
                            msg: &env.msg,
                        })
                    })
                    .collect();
                hashes.sort_unstable();
                parts().hash_one((2u8, hashes, last))
            }
            Network::Ordered(channels) => parts().hash_one((3u8, channels)),
        }
    }

    /// The rest: messages lost so far and the real-time history.
    pub(crate) fn rest_part(&self) -> u64 {
        Self::rest_part_of(self.lost, self.history_hash())
    }

    /// The hash of the real-time history, if the state records one.
    fn history_hash(&self) -> Option<u64> {
        self.real_time.as_ref().map(|r| r.history_hash())
    }

    /// [`SysState::rest_part`], given the messages lost and the real-time history's hash.
    fn rest_part_of(lost: u8, real_time: Option<u64>) -> u64 {
        use std::hash::BuildHasher;
        parts().hash_one((0xfe_u8, lost, real_time))
    }

    /// The number a state hashes as: the sum (wrapping) of its actors' parts, its
    /// network's part and the rest. Two equal states compose to the same number.
    pub fn composed(&self) -> u64 {
        self.composed_with((0..self.net.actor_states.len()).map(|i| self.actor_part(i)))
    }

    /// [`SysState::composed`], given the actors' parts.
    fn composed_with(&self, actor_parts: impl Iterator<Item = u64>) -> u64 {
        actor_parts
            .fold(0u64, u64::wrapping_add)
            .wrapping_add(self.network_part())
            .wrapping_add(self.rest_part())
    }
}

impl<A: Node> Debug for SysState<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SysState")
            .field("net", &self.net)
            .field("lost", &self.lost)
            .field("real_time", &self.real_time)
            .finish()
    }
}

/// An actor's handling of a delivery or a timer going off, run on a borrowed state
/// ([`System::handle`]).
pub(crate) struct Handled<'s, A: Node> {
    /// The actor's index.
    i: usize,
    /// Its state before.
    pub(crate) before: &'s A::State,
    /// Its state after (still borrowed if unchanged).
    pub(crate) after: std::borrow::Cow<'s, A::State>,
    /// What it asked for.
    pub(crate) out: stateright::actor::Out<A>,
}

impl<A: Node> System<A> {
    /// Builds a system from named actors, a fault budget and properties.
    pub fn new(
        actors: Vec<(String, A)>,
        faults: Faults,
        properties: Vec<Property<System<A>>>,
    ) -> Self {
        let (names, actors): (Vec<_>, Vec<_>) = actors.into_iter().unzip();
        let model = ActorModel::new((), ())
            .actors(actors)
            .init_network(faults.network.empty())
            .lossy_network(if faults.loss > 0 {
                LossyNetwork::Yes
            } else {
                LossyNetwork::No
            })
            .max_crashes(faults.crashes as usize);
        let real_time = properties
            .iter()
            .any(|p| p.name == crate::session::LINEARIZABLE);
        System {
            actors: model,
            names,
            faults,
            properties,
            real_time,
            tables: crate::compact::Tables::new(),
            symmetry: None,
            stateless: Vec::new(),
            sinks: Vec::new(),
            frozen: None,
            without_state: None,
            absorbed: None,
            quiet: None,
            linearizable_histories: Default::default(),
        }
    }

    /// The same system with tables of its own (see [`crate::compact`]), for a search that
    /// runs beside another: two searches packing states into the same tables take turns at
    /// their locks.
    pub(crate) fn twin(&self) -> Self {
        System {
            actors: self.actors.clone(),
            names: self.names.clone(),
            faults: self.faults,
            properties: self.properties.clone(),
            real_time: self.real_time,
            tables: crate::compact::Tables::new(),
            symmetry: self.symmetry.clone(),
            stateless: self.stateless.clone(),
            sinks: self.sinks.clone(),
            frozen: self.frozen,
            without_state: self.without_state,
            absorbed: self.absorbed,
            quiet: self.quiet,
            linearizable_histories: Default::default(),
        }
    }

    /// [`RealTime::is_consistent`], looked up first among the verdicts this system has
    /// worked out for an equal history (by its 64-bit hash, as states are told apart).
    pub fn is_linearizable(&self, history: &RealTime) -> bool {
        if let Some(verdict) = history.known_verdict() {
            return verdict;
        }
        if history.is_judged() {
            return history.is_consistent();
        }
        let key = history.history_hash();
        let known = self
            .linearizable_histories
            .read()
            .expect("verdict lock")
            .get(&key)
            .copied();
        let verdict = known.unwrap_or_else(|| {
            let verdict = history.is_consistent();
            self.linearizable_histories
                .write()
                .expect("verdict lock")
                .insert(key, verdict);
            verdict
        });
        history.set_verdict(verdict)
    }

    /// Feeds the register operations that started or ended between two states to the
    /// real-time history: returns first, then invocations (a reply and the client's
    /// next request happen in one step).
    fn record_real_time(&self, before: Option<&ActorModelState<A>>, after: &mut SysState<A>) {
        let Some(tester) = after.real_time.as_mut() else {
            return;
        };
        // What happened, in order: returns first, then invocations. The history is shared
        // with the state before (`Arc`) and copied only when something did.
        let (mut returns, mut invokes) = (Vec::new(), Vec::new());
        for (i, now) in after.net.actor_states.iter().enumerate() {
            let then = before.map(|b| &b.actor_states[i]);
            if then.is_some_and(|t| std::sync::Arc::ptr_eq(t, now)) {
                continue;
            }
            Self::register_events(then.map(|t| &**t), now, &mut returns, &mut invokes);
        }
        if returns.is_empty() && invokes.is_empty() {
            return;
        }
        let real_time = std::sync::Arc::make_mut(tester);
        for (id, ret) in returns {
            real_time.returned(id, ret);
        }
        for (id, op) in invokes {
            real_time.invoked(id, op);
        }
    }

    /// The register operations an actor's step from `then` (`None`: before the start) to
    /// `now` ended (`returns`) and began (`invokes`), if it is a client.
    fn register_events(
        then: Option<&A::State>,
        now: &A::State,
        returns: &mut Vec<(ReqId, stateright::semantics::register::RegisterRet<u8>)>,
        invokes: &mut Vec<(ReqId, stateright::semantics::register::RegisterOp<u8>)>,
    ) {
        let Some(now) = A::client_state(now) else {
            return;
        };
        let old: &[crate::history::Event] = then
            .and_then(|t| A::client_state(t))
            .map_or(&[], |c| c.log.as_slice());
        for (o, n) in old.iter().zip(now.log.iter()) {
            if o.outcome == crate::history::Outcome::Pending {
                if let crate::history::Outcome::Replied(r) = n.outcome {
                    if let Some(ret) = crate::session::register_ret(&r) {
                        returns.push((n.id, ret));
                    }
                }
            }
        }
        for n in now.log.iter().skip(old.len()) {
            if let Some(op) = crate::session::register_op(&n.op) {
                invokes.push((n.id, op));
            }
        }
    }

    /// `sum` (a number composed from `state`'s parts) with the rest part changed as an
    /// actor's step from `before` to `after` changes the real-time history; `None` where
    /// the engine had better build the state.
    fn with_real_time_of(
        &self,
        state: &SysState<A>,
        sum: u64,
        before: &A::State,
        after: &A::State,
    ) -> Option<u64> {
        if !self.real_time {
            return Some(sum);
        }
        let (mut returns, mut invokes) = (Vec::new(), Vec::new());
        Self::register_events(Some(before), after, &mut returns, &mut invokes);
        if returns.is_empty() && invokes.is_empty() {
            return Some(sum);
        }
        // A search that reads no order of client steps keeps none.
        let Some(real_time) = state.real_time.as_ref() else {
            return Some(sum);
        };
        let history = real_time.hash_after(&returns, &invokes)?;
        Some(
            sum.wrapping_sub(state.rest_part())
                .wrapping_add(SysState::<A>::rest_part_of(state.lost, Some(history))),
        )
    }

    /// How the actor a delivery or a timeout is for handles it in `state`, run as
    /// stateright runs it, on a borrowed state: `Some(None)` where the step leads nowhere
    /// (a delivery to a crashed actor, or one that changes nothing and sends nothing,
    /// except on an ordered network, where it consumes the message; a timeout that only
    /// sets its timer again), `None` for any other step.
    pub(crate) fn handle<'s>(
        &self,
        state: &'s SysState<A>,
        action: &<Self as Model>::Action,
    ) -> Option<Option<Handled<'s, A>>> {
        use stateright::actor::{is_no_op, is_no_op_with_timer, Out};
        use std::borrow::Cow;
        let net = &state.net;
        // Actor `i`'s handling, not run yet (`None`: no such actor).
        let start = |i: usize| {
            net.actor_states.get(i).map(|before| Handled {
                i,
                before: &**before,
                after: Cow::Borrowed(&**before),
                out: Out::new(),
            })
        };
        match action {
            ActorModelAction::Deliver { src, dst, msg } => {
                let i = usize::from(*dst);
                let Some(mut h) = start(i).filter(|_| !net.crashed[i]) else {
                    return Some(None);
                };
                self.actors.actors[i].on_msg(*dst, &mut h.after, *src, msg.clone(), &mut h.out);
                let leads =
                    matches!(net.network, Network::Ordered(_)) || !is_no_op(&h.after, &h.out);
                Some(leads.then_some(h))
            }
            ActorModelAction::Timeout(id, timer) => {
                let Some(mut h) = start(usize::from(*id)) else {
                    return Some(None);
                };
                self.actors.actors[h.i].on_timeout(*id, &mut h.after, timer, &mut h.out);
                let leads = !is_no_op_with_timer(&h.after, &h.out, timer);
                Some(leads.then_some(h))
            }
            _ => None,
        }
    }

    /// Whether `action` leads somewhere from `state`: deliveries and timeouts may lead
    /// nowhere ([`System::handle`]); every other step leads somewhere.
    fn leads(&self, state: &SysState<A>, action: &<Self as Model>::Action) -> bool {
        self.handle(state, action).is_none_or(|h| h.is_some())
    }

    /// Tells where the steps `which` of `actions` lead (see
    /// [`Narrate::successor_fingerprints`]): `out` is made one entry per action, and the
    /// entries of `which` are filled (on the unordered, non-duplicating network only).
    fn tell_fingerprints(
        &self,
        state: &SysState<A>,
        actions: &[<Self as Model>::Action],
        which: impl Iterator<Item = usize>,
        forget: Forgetting,
        out: &mut Vec<Option<Option<u64>>>,
    ) {
        // On the unordered, non-duplicating network: a delivery or a timeout changes its
        // actor's part and adds what it sends (the delivered message leaves), a loss takes
        // the message away and counts it, a crash changes its actor's part. Restarts,
        // random choices and other networks the engine builds.
        if !matches!(state.net.network, Network::UnorderedNonDuplicating(_)) {
            return;
        }
        let actor_parts: smallvec::SmallVec<[u64; 16]> = (0..state.net.actor_states.len())
            .map(|i| state.actor_part(i))
            .collect();
        let base = state.composed_with(actor_parts.iter().copied());
        let part = |id: &Id| actor_parts.get(usize::from(*id)).copied().unwrap_or(0);
        out.resize(actions.len(), None);
        for k in which {
            let (Some(a), Some(slot)) = (actions.get(k), out.get_mut(k)) else {
                continue;
            };
            *slot = match a {
                ActorModelAction::Deliver { .. } | ActorModelAction::Timeout(..) => {
                    self.handled_fingerprint(state, base, &actor_parts, a, forget)
                }
                ActorModelAction::Drop(env) => Some(Some(self.drop_fingerprint(state, base, env))),
                ActorModelAction::Crash(id) => Some(Some(self.crash_fingerprint(
                    state,
                    base,
                    part(id),
                    usize::from(*id),
                ))),
                _ => None,
            };
        }
    }

    /// The fingerprint of the state a delivery or a timeout leads to (see
    /// [`Narrate::successor_fingerprints`]; on the unordered, non-duplicating network):
    /// `base` is `state.composed()` and `parts` its actors' parts. The delivered message
    /// leaves (stateright cancels a timer that goes off before the actor's commands), the
    /// actor's part changes, what it sends arrives, and a client's step changes the
    /// real-time history. With `forget`, what the step makes forgettable leaves too (see
    /// [`crate::forgetting`]). `None` where the engine had better build the state.
    fn handled_fingerprint(
        &self,
        state: &SysState<A>,
        base: u64,
        parts: &[u64],
        action: &<Self as Model>::Action,
        forget: Forgetting,
    ) -> Option<Option<u64>> {
        let Some(mut h) = self.handle(state, action)? else {
            return Some(None);
        };
        // A client whose operation was answered: what the search forgets of it goes before
        // its part is worked out.
        if forget.settled && A::client_state(&h.after).is_some_and(|c| c.log.iter().any(settled)) {
            let mut after =
                std::mem::replace(&mut h.after, std::borrow::Cow::Borrowed(h.before)).into_owned();
            A::client_state_mut(&mut after)?.log.retain(|e| !settled(e));
            h.after = std::borrow::Cow::Owned(after);
        }
        let forget = forget.unread;
        let i = h.i;
        let timers = state.net.timers_set.get(i).map_or(0, timer_bits);
        let (sum, timers) = match action {
            ActorModelAction::Deliver { src, dst, msg } => (
                base.wrapping_sub(SysState::<A>::envelope_part(Envelope {
                    src: *src,
                    dst: *dst,
                    msg,
                })),
                timers,
            ),
            ActorModelAction::Timeout(_, timer) => (base, timers & !(1 << (*timer as u8))),
            _ => return None,
        };
        let mut sum = self.with_real_time_of(state, sum, h.before, &h.after)?;
        if forget && matches!(h.after, std::borrow::Cow::Owned(_)) {
            let gone = match action {
                ActorModelAction::Deliver { src, dst, msg } => Some(Envelope {
                    src: *src,
                    dst: *dst,
                    msg,
                }),
                _ => None,
            };
            let changed = (i, &*h.after);
            sum = sum.wrapping_sub(self.newly_forgotten_part(state, changed, gone));
        }
        self.commands_fingerprint(state, sum, parts.get(i).copied()?, &h, timers, forget)
    }

    /// The fingerprint after actor `h.i` handled an event: `sum` is the state's composed
    /// number less whatever the event took away, `part` the actor's old part, `timers` its
    /// timers before its commands are carried out; with `forget`, messages sent that may
    /// be forgotten do not arrive. `None` where a command is one the engine leaves to
    /// stateright (random choices, vectors that would grow).
    fn commands_fingerprint(
        &self,
        state: &SysState<A>,
        sum: u64,
        part: u64,
        h: &Handled<'_, A>,
        mut timers: u8,
        forget: bool,
    ) -> Option<Option<u64>> {
        use stateright::actor::Command;
        let (net, i) = (&state.net, h.i);
        let id = Id::from(i);
        let mut storage = net.actor_storages.get(i).cloned();
        let mut sum = sum.wrapping_sub(part);
        for c in h.out.iter() {
            match c {
                Command::Send(to, m) => {
                    let mut kept = None;
                    if forget {
                        let to_state = match usize::from(*to) {
                            j if j == i => &*h.after,
                            j => &**net.actor_states.get(j)?,
                        };
                        if self.forgettable(to_state, id, *to, m) {
                            continue;
                        }
                        kept = crate::forgetting::msg_as_read::<A>(m);
                    }
                    sum = sum.wrapping_add(SysState::<A>::envelope_part(Envelope {
                        src: id,
                        dst: *to,
                        msg: kept.as_ref().unwrap_or(m),
                    }));
                }
                Command::SetTimer(t, _) if i < net.timers_set.len() => timers |= 1 << (*t as u8),
                Command::CancelTimer(t) if i < net.timers_set.len() => timers &= !(1 << (*t as u8)),
                Command::Save(s) if i < net.actor_storages.len() => storage = Some(Some(s.clone())),
                // Random choices, or vectors stateright would have to grow: build the state.
                _ => return None,
            }
        }
        let after = state_hash(&*h.after);
        let sum = sum.wrapping_add(state.actor_part_with(i, after, timers, storage.as_ref()));
        Some(Some(crate::exhaustive::fingerprint(&sum)))
    }

    /// The fingerprint of the state that losing one copy of `env` leads to: the message
    /// leaves, one more message is lost.
    fn drop_fingerprint(
        &self,
        state: &SysState<A>,
        base: u64,
        env: &Envelope<Msg<A::Peer>>,
    ) -> u64 {
        let sum = base
            .wrapping_sub(SysState::<A>::envelope_part(Envelope {
                src: env.src,
                dst: env.dst,
                msg: &env.msg,
            }))
            .wrapping_sub(state.rest_part())
            .wrapping_add(SysState::<A>::rest_part_of(
                state.lost + 1,
                state.history_hash(),
            ));
        crate::exhaustive::fingerprint(&sum)
    }

    /// The fingerprint of the state that crashing actor `i` leads to: its timers and
    /// pending random choices are gone and it is marked crashed; its state and storage
    /// stay.
    fn crash_fingerprint(&self, state: &SysState<A>, base: u64, part: u64, i: usize) -> u64 {
        let net = &state.net;
        let crashed = net.crashed.get(i).map(|_| &true);
        let new_part = SysState::<A>::actor_part_at(
            i,
            state.memo.state(&net.actor_states, i),
            0,
            crashed,
            net.actor_storages.get(i),
            None,
        );
        crate::exhaustive::fingerprint(&base.wrapping_sub(part).wrapping_add(new_part))
    }

    /// Whether every actor declares [`Node::replies_once`].
    pub fn replies_once(&self) -> bool {
        self.actors.actors.iter().all(Node::replies_once)
    }

    /// Whether the network may still lose `msg` in `state` (a lossy message, with loss
    /// budget left).
    pub(crate) fn may_lose(&self, state: &SysState<A>, msg: &Msg<A::Peer>) -> bool {
        state.lost < self.faults.loss && A::lossy(msg)
    }

    /// The name of an actor.
    pub fn name(&self, id: Id) -> &str {
        self.names
            .get(usize::from(id))
            .map(String::as_str)
            .unwrap_or("?")
    }

    /// The names of the client actors, by client index.
    pub fn client_names(&self) -> Vec<String> {
        let mut clients: Vec<(u8, String)> = self
            .actors
            .actors
            .iter()
            .zip(&self.names)
            .filter_map(|(a, n)| a.as_client().map(|c| (c.index, n.clone())))
            .collect();
        clients.sort();
        clients.into_iter().map(|(_, n)| n).collect()
    }

    /// The index of the actor with this name.
    pub fn id_of(&self, name: &str) -> Option<Id> {
        self.names.iter().position(|n| n == name).map(Id::from)
    }

    /// Every actor with its name and state.
    pub fn nodes<'a>(
        &'a self,
        state: &'a SysState<A>,
    ) -> impl Iterator<Item = (&'a str, &'a A, &'a A::State)> + 'a {
        self.names
            .iter()
            .zip(self.actors.actors.iter())
            .zip(state.net.actor_states.iter())
            .map(|((n, a), s)| (n.as_str(), a, &**s))
    }

    /// The part `pick` takes of each node's state in `state`, where it takes one, with the
    /// node's name, in node order (borrowed, for checks that run on every state).
    pub fn picked<'a, T: 'a>(
        &'a self,
        state: &'a SysState<A>,
        pick: impl Fn(&'a A::State) -> Option<&'a T> + 'a,
    ) -> impl Iterator<Item = (&'a str, &'a T)> + 'a {
        self.nodes(state)
            .filter_map(move |(n, _, st)| pick(st).map(|t| (n, t)))
    }

    /// The client history of a state: every attempt of every client, client by client.
    pub fn history(&self, state: &SysState<A>) -> History {
        self.events(state).copied().collect()
    }

    /// The events of [`System::history`], client by client, without building it.
    pub fn events<'s>(&self, state: &'s SysState<A>) -> impl Iterator<Item = &'s Event> + 's {
        self.client_logs(state).flatten()
    }

    /// Each client's attempts, in its order, client by client (the parts of
    /// [`System::history`]).
    pub fn client_logs<'s>(
        &self,
        state: &'s SysState<A>,
    ) -> impl Iterator<Item = &'s [Event]> + 's {
        state
            .net
            .actor_states
            .iter()
            .filter_map(|s| A::client_state(s))
            .map(|c| c.log.as_slice())
    }

    /// Messages in flight (each once, even on a duplicating network).
    pub fn in_flight<'a>(
        &self,
        state: &'a SysState<A>,
    ) -> impl Iterator<Item = Envelope<&'a Msg<A::Peer>>> + 'a {
        state.net.network.iter_deliverable()
    }

    pub(crate) fn describe_msg(&self, msg: &Msg<A::Peer>, src: Id, dst: Id) -> String {
        match msg {
            Msg::Request { id, op, .. } => {
                let label = self.actors.actors[usize::from(src)]
                    .as_client()
                    .and_then(|c| c.workload.get(id.seq as usize))
                    .map(|r| format!(" ({})", r.label))
                    .unwrap_or_default();
                let retry = if id.attempt > 0 {
                    format!(", retry {}", id.attempt)
                } else {
                    String::new()
                };
                format!("{op}{label}{retry}")
            }
            Msg::Reply { id, reply } => {
                let label = self.actors.actors[usize::from(dst)]
                    .as_client()
                    .and_then(|c| c.workload.get(id.seq as usize))
                    .map(|r| format!(" {}", r.label))
                    .unwrap_or_default();
                format!("reply:{label} {reply}")
            }
            Msg::Peer(p) => A::describe_peer(p),
        }
    }

    fn fact_lines(&self, index: usize, state: &SysState<A>) -> Vec<(String, String)> {
        let actor = &self.actors.actors[index];
        actor
            .facts(&state.net.actor_states[index])
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }

    fn changes(&self, before: &SysState<A>, after: &SysState<A>) -> Vec<String> {
        let mut out = Vec::new();
        for index in 0..self.names.len() {
            let name = &self.names[index];
            if before.net.crashed[index] != after.net.crashed[index] {
                out.push(format!(
                    "{name} {}",
                    if after.net.crashed[index] {
                        "down"
                    } else {
                        "up again"
                    }
                ));
            }
            if before.net.actor_states[index] == after.net.actor_states[index] {
                continue;
            }
            let old = self.fact_lines(index, before);
            let new = self.fact_lines(index, after);
            for ((key, o), (_, n)) in old.iter().zip(new.iter()) {
                if o != n {
                    let key = if key.is_empty() {
                        String::new()
                    } else {
                        format!(" {key}")
                    };
                    out.push(format!("{name}{key}: {o} -> {n}"));
                }
            }
        }
        out
    }
}

impl<A: Node> Model for System<A>
where
    A::Msg: Ord,
{
    type State = SysState<A>;
    type Action = ActorModelAction<Msg<A::Peer>, Timer, A::Random>;

    fn init_states(&self) -> Vec<Self::State> {
        self.actors
            .init_states()
            .into_iter()
            .map(|net| {
                let mut s = SysState {
                    memo: Memo::of(&net.actor_states, None),
                    net,
                    lost: 0,
                    real_time: self.real_time.then(|| std::sync::Arc::new(RealTime::new())),
                };
                self.record_real_time(None, &mut s);
                s
            })
            .collect()
    }

    fn actions(&self, state: &Self::State, actions: &mut Vec<Self::Action>) {
        self.actors.actions(&state.net, actions);
        actions.retain(|a| match a {
            ActorModelAction::Drop(env) => self.may_lose(state, &env.msg),
            ActorModelAction::Crash(id) => self.actors.actors[usize::from(*id)].crashable(),
            _ => true,
        });
    }

    fn next_state(&self, last: &Self::State, action: Self::Action) -> Option<Self::State> {
        let lost = last.lost + u8::from(matches!(action, ActorModelAction::Drop(_)));
        let net = self.actors.next_state(&last.net, action)?;
        let mut next = SysState {
            memo: Memo::of(
                &net.actor_states,
                Some((&last.memo, &last.net.actor_states)),
            ),
            net,
            lost,
            real_time: last.real_time.clone(),
        };
        self.record_real_time(Some(&last.net), &mut next);
        Some(next)
    }

    fn format_action(&self, action: &Self::Action) -> String {
        match action {
            ActorModelAction::Deliver { src, dst, msg } => format!(
                "{} -> {}: {}",
                self.name(*src),
                self.name(*dst),
                self.describe_msg(msg, *src, *dst)
            ),
            ActorModelAction::Drop(env) => format!(
                "lost {} -> {}: {}",
                self.name(env.src),
                self.name(env.dst),
                self.describe_msg(&env.msg, env.src, env.dst)
            ),
            ActorModelAction::Timeout(id, _) => format!("{} times out", self.name(*id)),
            ActorModelAction::Crash(id) => format!("{} crashes", self.name(*id)),
            ActorModelAction::Recover(id) => format!("{} restarts", self.name(*id)),
            ActorModelAction::SelectRandom { actor, random, .. } => {
                format!("{} picks {random:?}", self.name(*actor))
            }
        }
    }

    fn properties(&self) -> Vec<stateright::Property<Self>> {
        self.properties.iter().map(|p| p.to_stateright()).collect()
    }
}

impl<A: Node> Narrate for System<A> {
    type Packed = crate::compact::PackedState<A>;

    fn pack(&self, state: SysState<A>) -> Self::Packed {
        crate::compact::pack(&self.tables, state)
    }

    fn unpack(&self, packed: &Self::Packed) -> SysState<A> {
        crate::compact::unpack(&self.tables, packed)
    }

    fn spontaneous(&self, state: &Self::State, action: &Self::Action) -> bool {
        match action {
            ActorModelAction::Crash(_) => true,
            ActorModelAction::Drop(env) => self.ignored_for_good(state, env.src, env.dst, &env.msg),
            _ => false,
        }
    }

    fn successor_fingerprints(
        &self,
        state: &Self::State,
        actions: &[Self::Action],
        forget: Forgetting,
        out: &mut Vec<Option<Option<u64>>>,
    ) {
        self.tell_fingerprints(state, actions, 0..actions.len(), forget, out);
    }

    fn successor_fingerprints_of(
        &self,
        state: &Self::State,
        actions: &[Self::Action],
        which: &[usize],
        forget: Forgetting,
        out: &mut Vec<Option<Option<u64>>>,
    ) {
        if !which.is_empty() {
            self.tell_fingerprints(state, actions, which.iter().copied(), forget, out);
        }
    }

    fn successors_enabled(
        &self,
        state: &Self::State,
        actions: &[Self::Action],
        out: &mut Vec<Option<bool>>,
    ) {
        out.extend(actions.iter().map(|a| Some(self.leads(state, a))));
    }

    fn successors_enabled_since(
        &self,
        before: Told<'_, Self>,
        state: &Self::State,
        actions: &[Self::Action],
        out: &mut Vec<Option<bool>>,
    ) {
        // A delivery or a timeout leads somewhere or not by its actor's part and whether
        // that actor is down (see `System::handle`). Where both states share that very
        // part (one `Arc`: a shared part never changes, and `before` keeps it alive, so
        // its address is not reused) and the actor is up or down in both, a step that was
        // there before is answered as it was, whatever `before` is. Along a walk, steps
        // that stay keep their order (the network's iteration order), so `before`'s are
        // looked for from just after the last one found.
        let (now, then) = (&state.net, &before.state.net);
        let untouched = |i: usize| match (now.actor_states.get(i), then.actor_states.get(i)) {
            (Some(a), Some(b)) => std::sync::Arc::ptr_eq(a, b) && now.crashed[i] == then.crashed[i],
            _ => false,
        };
        let mut from = 0;
        for a in actions {
            let actor = match a {
                ActorModelAction::Deliver { dst, .. } => usize::from(*dst),
                ActorModelAction::Timeout(id, _) => usize::from(*id),
                _ => {
                    out.push(Some(true));
                    continue;
                }
            };
            let again = if untouched(actor) {
                before.actions[from..]
                    .iter()
                    .position(|b| b == a)
                    .and_then(|k| {
                        from += k + 1;
                        before.enabled.get(from - 1).copied().flatten()
                    })
            } else {
                None
            };
            out.push(Some(again.unwrap_or_else(|| self.leads(state, a))));
        }
    }

    fn persistent_set(
        &self,
        state: &Self::State,
        actions: &[Self::Action],
        client_steps: bool,
        out: &mut Vec<usize>,
    ) {
        self.smallest_persistent_set(state, actions, client_steps, out);
    }

    fn only_delays(&self, state: &Self::State, action: &Self::Action) -> bool {
        self.crash_only_delays(state, action)
    }

    fn is_loss(&self, action: &Self::Action) -> bool {
        matches!(action, ActorModelAction::Drop(_))
    }

    fn has_step(&self, state: &Self::State, action: &Self::Action) -> bool {
        // On the unordered, non-duplicating network, asked of the state's parts as
        // `Model::actions` would list the step (every message in flight to an actor may
        // be delivered, and lost within the budget, every timer set may go off, any
        // server may crash within the budget, a crashed one restart, and every choice
        // pending be made); elsewhere, by listing the steps.
        let net = &state.net;
        let Network::UnorderedNonDuplicating(multiset) = &net.network else {
            let mut steps = Vec::new();
            self.actions(state, &mut steps);
            return steps.contains(action);
        };
        let actors = self.actors.actors.len();
        let crashed = |id: &Id| net.crashed.get(usize::from(*id)).copied();
        match action {
            ActorModelAction::Deliver { src, dst, msg } => {
                usize::from(*dst) < actors
                    && multiset.contains_key(&Envelope {
                        src: *src,
                        dst: *dst,
                        msg: msg.clone(),
                    })
            }
            ActorModelAction::Drop(env) => {
                self.actors.lossy_network == LossyNetwork::Yes
                    && multiset.contains_key(env)
                    && self.may_lose(state, &env.msg)
            }
            ActorModelAction::Timeout(id, timer) => net
                .timers_set
                .get(usize::from(*id))
                .is_some_and(|t| t.iter().any(|set| set == timer)),
            ActorModelAction::Crash(id) => {
                crashed(id) == Some(false)
                    && net.crashed.iter().filter(|&&c| c).count() < self.actors.max_crashes
                    && self.actors.actors[usize::from(*id)].crashable()
            }
            ActorModelAction::Recover(id) => crashed(id) == Some(true),
            ActorModelAction::SelectRandom { actor, key, random } => net
                .random_choices
                .get(usize::from(*actor))
                .and_then(|c| c.map.get(key))
                .is_some_and(|choices| choices.contains(random)),
        }
    }

    fn losses_wait(
        &self,
        state: &Self::State,
        actions: &[Self::Action],
        told: &[Option<Option<u64>>],
    ) -> bool {
        self.losses_may_wait(state, actions, told)
    }

    fn twin(&self) -> Option<Self> {
        Some(System::twin(self))
    }

    fn forget_order(&self, state: &mut Self::State) -> bool {
        state.real_time.take().is_some()
    }

    fn forget_settled(&self, state: &mut Self::State) -> bool {
        self.forget_settled_operations(state)
    }

    fn forgets_settled(&self) -> bool {
        A::history_unread()
    }

    fn only_for_eventually(&self, _state: &Self::State, action: &Self::Action) -> bool {
        self.sink_step(action)
    }

    fn forget(&self, state: &mut Self::State) -> bool {
        // The start state's history is kept as judged; its successors' come so.
        if let Some(history) = state.real_time.as_mut() {
            if !history.is_judged() {
                std::sync::Arc::make_mut(history).keep_as_judged();
            }
        }
        let blurred = self.keep_replies_as_read(state);
        self.forget_ignored(state) || blurred
    }

    fn reduction_blocker(&self) -> Option<String> {
        self.persistent_set_blocker()
    }

    fn keeps_rest_paths(&self) -> bool {
        self.sets_keep_rest_paths()
    }

    fn keeps_violation_paths(&self) -> bool {
        self.sets_keep_violation_paths()
    }

    fn symmetric_fingerprint(&self, state: &Self::State, own: u64) -> Option<u64> {
        self.orbit_fingerprint_knowing(state, Some(own))
    }

    fn interchangeable(&self) -> Vec<String> {
        self.symmetry.as_ref().map_or(Vec::new(), |s| {
            s.group.iter().map(|&i| self.names[i].clone()).collect()
        })
    }

    fn start(&self, state: &Self::State) -> Vec<String> {
        (0..self.names.len())
            .map(|i| {
                let facts = self
                    .fact_lines(i, state)
                    .into_iter()
                    .map(|(k, v)| if k.is_empty() { v } else { format!("{k} {v}") })
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("{} {}", self.names[i], facts)
                    .trim_end()
                    .to_string()
            })
            .collect()
    }

    fn step(&self, before: &Self::State, action: &Self::Action, after: &Self::State) -> Step {
        let changes = self.changes(before, after);
        let (actor, to, kind, text) = match action {
            ActorModelAction::Deliver { src, dst, msg } => (
                self.name(*src).to_string(),
                Some(self.name(*dst).to_string()),
                "deliver",
                self.describe_msg(msg, *src, *dst),
            ),
            ActorModelAction::Drop(env) => (
                self.name(env.src).to_string(),
                Some(self.name(env.dst).to_string()),
                "lose",
                format!("LOST: {}", self.describe_msg(&env.msg, env.src, env.dst)),
            ),
            ActorModelAction::Timeout(id, _) => {
                let what = self.actors.actors[usize::from(*id)]
                    .as_client()
                    .zip(A::client_state(&before.net.actor_states[usize::from(*id)]))
                    .and_then(|(c, s)| c.current(s))
                    .map(|r| format!(" waiting for {}", r.label))
                    .unwrap_or_default();
                (
                    self.name(*id).to_string(),
                    None,
                    "timeout",
                    format!("times out{what}"),
                )
            }
            ActorModelAction::Crash(id) => (
                self.name(*id).to_string(),
                None,
                "crash",
                "crashes".to_string(),
            ),
            ActorModelAction::Recover(id) => (
                self.name(*id).to_string(),
                None,
                "restart",
                "restarts from its durable state".to_string(),
            ),
            ActorModelAction::SelectRandom { actor, random, .. } => (
                self.name(*actor).to_string(),
                None,
                "choose",
                format!("picks {random:?}"),
            ),
        };
        Step {
            step: 0,
            actor,
            to,
            action: kind.to_string(),
            text,
            changes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{state_hash, Memo};
    use std::sync::Arc;

    /// A memo entry is taken over only while its state still holds the `Arc` it was worked
    /// out for: an `Arc` the search replaced (and the allocator may have freed and handed
    /// to a successor's new state) does not lend its old hash.
    #[test]
    fn a_memo_entry_counts_only_while_its_state_holds_the_arc() {
        let (held, replaced) = (Arc::new(1u64), Arc::new(2u64));
        // A memo that names `held`'s address with a wrong hash, as a stale entry would.
        let stale = Memo::known(std::slice::from_ref(&held), vec![12345]);
        // Its state now holds `replaced`: the entry for `held`'s address must not count.
        let child = Memo::of(
            std::slice::from_ref(&held),
            Some((&stale, std::slice::from_ref(&replaced))),
        );
        assert_eq!(
            child.state(std::slice::from_ref(&held), 0),
            state_hash(&1u64)
        );
        // While its state still holds the `Arc`, the entry is taken as it is.
        let kept = Memo::of(
            std::slice::from_ref(&held),
            Some((&stale, std::slice::from_ref(&held))),
        );
        assert_eq!(kept.state(std::slice::from_ref(&held), 0), 12345);
    }
}
