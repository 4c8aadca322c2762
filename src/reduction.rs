//! Partial-order reduction (`--reduce por`): the orders of steps that cannot matter are
//! left unexplored, and the checker still finds every violation. Seven kinds of step sets
//! are named, the steps of a settled client, a delivery to a stateless server, to a
//! frozen one or of a message handled without state, a delivery to a sink, one of a
//! message its server absorbs, and the steps of an actor the rest of the system waits on,
//! crashes that only delay are left out, and losses wait for the end of a run. Messages nobody will read are forgotten as
//! well (see [`crate::forgetting`]).
//!
//! # Settled clients
//!
//! A client whose every unanswered attempt already has its reply in flight will receive
//! nothing else until it acts: servers send clients nothing but one reply per attempt
//! ([`Node::replies_once`]). Its steps (deliveries to it, losses of messages to it, its
//! timeouts) then commute ahead of every step of every other actor, and the other actors
//! cannot disable its deliveries or its timeouts: they form a *stubborn set* (Valmari's
//! strong stubborn sets, of which persistent sets are the special case), and the
//! exhaustive engine may expand only them. A loss commutes ahead too: taken first, it
//! only counts one more loss, and where the other steps lose messages as well, the loss
//! budget allowed all of them in either order (it may disable a loss of another message,
//! which a stubborn set allows as long as a loss is never the step that must stay
//! enabled: a set is named only where one of its steps that leads somewhere is not a
//! loss). What the engine adds ([`crate::exhaustive`]):
//!
//! - *visibility*: it names a client's steps only while every undecided
//!   `always`/`sometimes` property declares client steps [`ClientSteps::Invisible`] or
//!   [`ClientSteps::Stable`];
//! - *cycles*: a reduced state's successors must all be new at the next depth (so every
//!   cycle of the reduced graph passes a fully expanded state);
//! - *shortest paths*: a path found by the reduced search is replaced by the shortest one,
//!   found by a search without step sets down to its depth, unless it is shortest as
//!   found (see below). That search still leaves out what keeps distances from the start:
//!   it forgets what nobody will read, lets losses wait (see *Losses last*), and, unless
//!   it searches an `eventually` property, leaves out crashes that only delay (a shortest
//!   run to a violation takes none). The search apart of the properties that read the
//!   order of client steps (below) does the same.
//!
//! The real-time history `linearizable` reads (kept in the state when a model declares
//! it) is the one thing client steps do not commute on: which of two clients' steps
//! came first is exactly what it records (kept as judged under `por`, see
//! [`crate::forgetting`], it tells fewer states apart, but still some).
//! `linearizable` therefore declares client steps [`ClientSteps::Order`]: it reads only
//! the history, which no other step changes, and a broken history stays broken. Under
//! `por` it is searched apart, without step sets ([`crate::exhaustive::search_on`]), and
//! the other properties' search, where no property reads the history, forgets it
//! ([`crate::trace::Narrate::forget_order`]; the audit checks that no other check
//! changes without it): there client steps commute, and every argument above holds. A
//! [`ClientSteps::Visible`] property turns client sets off while it is undecided; the
//! history, where it is kept, never changes what any actor does, so once such a property
//! is decided every argument above holds for the states without it, and the reduced
//! search still reaches, for every reachable state, one equal to it but for the history.
//! Every client step adds to its client's log, so no cycle of the reduced graph takes
//! one: the cycle proviso holds without the history too.
//!
//! # Stateless servers
//!
//! A server declared stateless ([`System::with_stateless`]: an app server that relays
//! requests to a database and its answers back) keeps nothing: its state never changes,
//! it sets no timers, makes no random choices and saves nothing, so what it does with a
//! message depends on the message alone. On an unordered, non-duplicating network the
//! delivery of one message `m` to such a server, with the loss of `m`, is a stubborn set
//! too:
//!
//! - *it commutes ahead*: whatever other steps come first, delivering `m` first and then
//!   taking them reaches the same state. The other deliveries to the same server find it
//!   in the same state either way, and sends only add to an unordered multiset. The loss
//!   of `m` commutes ahead as a client's losses do.
//! - *its delivery stays enabled*: no step outside the set takes `m` away. A crash of the
//!   server would hold it back, but a stateless server's crash only delays (see below)
//!   and is never taken.
//! - *it is invisible*: no property's check changes when a stateless server receives,
//!   loses, crashes or restarts.
//!
//! This needs no property to be decided, so it applies while `linearizable` or
//! `exactly_once_transfer` is still open. On an ordered network it does not hold (what
//! the server sends to one destination would queue in the order it received).
//!
//! The engine's cycle and shortest-path provisos apply to these sets as to the clients'.
//! Where both kinds are named, the smaller set is taken.
//!
//! # Frozen servers
//!
//! A server may also keep nothing *from some state on*: a model may say, per state,
//! which servers nothing they will still receive can change ([`System::with_frozen`]:
//! read-replica's databases once no write can reach the primary, and no newer copy is on
//! its way to the replica). Such a server is stateless from then on: its state stays as
//! it is along every run, so what it does with a message depends on the message alone,
//! and its deliveries commute ahead exactly as a stateless server's do (it must not be
//! able to crash here, hold a timer or a random choice). The audit checks, in every
//! state, that every step keeps a frozen server's state and leaves it frozen, that its
//! deliveries only send, and that no `always`/`sometimes` check changes by them.
//!
//! # Messages handled without state
//!
//! A model may also say which messages a server handles without its state
//! ([`System::with_handled_without_state`]: a non-home master forwards a withdrawal to
//! the home master whatever it holds). Delivering such a message does the same in every
//! state the server can be in and leaves it as it was, so it commutes ahead of every
//! other step, the server's own included, exactly as a delivery to a stateless server
//! does. The audit checks every such delivery in every reachable state against the same
//! delivery to the server in its start state.
//!
//! # Sinks
//!
//! A server declared a sink ([`System::with_sinks`]: a replica that nobody reads from)
//! only receives: it sends nothing, sets no timer, makes no random choice, and only
//! `eventually` properties read it. Where it cannot crash, on an unordered,
//! non-duplicating network, the delivery of one message `m` to it, with the loss of `m`,
//! is a stubborn set, provided any two deliveries to it end the same in either order, or
//! the later one makes the earlier one a message it ignores for good (a replica that gets
//! version 2 before version 1 ends at 2 either way, with 1 forgotten):
//!
//! - *it commutes ahead*: other actors' steps neither read the sink nor are fed by it,
//!   and other deliveries to it end the same in either order, with the messages nobody
//!   will read forgotten;
//! - *its delivery stays enabled, or is absorbed*: only a loss of `m` (in the set) or a
//!   later delivery to the sink that makes `m` ignored takes it away, and then taking
//!   `m` first ends where the later delivery alone does, so a run without `m` has a twin
//!   through `m` that is no longer;
//! - *it is invisible*: no `always`/`sometimes` property's check changes, and states at
//!   rest are kept (a state where the delivery is still enabled is not at rest).
//!
//! The audit checks the declaration (no timer, no random choice, nothing sent; no check
//! changed by a delivery to a sink or a loss of a message to one) and every set named one
//! step deep, absorption included, comparing states with the messages nobody will read
//! forgotten.
//!
//! # Absorbed messages
//!
//! A model may say which messages a server takes in without answering
//! ([`System::with_absorbed`]: a master other than the home master applying a withdrawal
//! the home master approved). Delivering such a message `m` only changes the server (it
//! sends nothing, sets no timer, makes no random choice), and where the server cannot
//! crash, on an unordered, non-duplicating network, the delivery with the loss of `m` is
//! a stubborn set:
//!
//! - *it commutes ahead*: other actors' steps do not touch the server, and every other
//!   delivery the server may get while `m` is on its way ends the same before or after
//!   it (the master forwards requests without its state; two withdrawals subtract in
//!   either order);
//! - *its delivery stays enabled*: only the loss of `m`, in the set, takes it away;
//! - *it never undoes a violation*: the server's state is read by `always` checks (a
//!   master's balance must not go below zero), so the step is not invisible, but it never
//!   turns a violated check into one that holds (nor a `sometimes` example into none), as
//!   [`ClientSteps::Stable`] client steps. A run that leaves the delivery out and ends in
//!   a violation has a twin that takes it first and ends in that state with the delivery
//!   applied, still a violation, one step longer: the path found is then shortened as for
//!   every set. States at rest are kept, as for sinks.
//!
//! The audit checks every delivery of such a message in flight, in every reachable
//! state, not only the one a search would take: that it only changes the server, that
//! no `always`/`sometimes` check goes from violated to holding by it, and that with its
//! loss it is a stubborn set one step deep, with every other step. Together these make
//! it commute ahead of every path that leaves it out.
//!
//! # Quiet actors
//!
//! A model may say, per state, which actors the rest of the system waits on
//! ([`System::with_quiet`]: in leaderless replication, a replica that the one reader
//! holding the turn cannot finish without, or the client holding the turn once every
//! answer it can still get is on its way). Until such an actor `i` takes a step (a
//! delivery to it, the loss of a message to it, a timeout, a random choice), no other
//! actor's step sends it anything it does not ignore for good or changes an
//! `always`/`sometimes` check. Where `i` cannot crash, on an unordered, non-duplicating
//! network, all of `i`'s steps form a stubborn set:
//!
//! - *they commute ahead*: other actors' steps neither read nor change `i`'s state, take
//!   no message to `i` away (its deliveries and losses are its own steps) and add none it
//!   reads, and `i`'s steps only add messages for others to an unordered multiset (losses
//!   share the budget as above);
//! - *one stays enabled*: a step of `i` that leads somewhere and is neither a loss nor a
//!   crash still does after any other actor's steps, which leave `i`, its messages, timers
//!   and choices as they were;
//! - *visibility*: a server's steps change no `always`/`sometimes` check; a client's are
//!   named only while its steps are [`ClientSteps::Invisible`] or [`ClientSteps::Stable`]
//!   to every undecided property, as for settled clients.
//!
//! The audit checks the declaration in every reachable state: every other actor's step
//! sends `i` nothing it does not ignore for good, changes no `always`/`sometimes` check,
//! and leaves `i` quiet (so no run of other actors' steps does either); a server's own
//! steps change no such check; and the set is a stubborn set one step deep with no
//! absorbing allowed.
//!
//! # Losses last
//!
//! On an unordered, non-duplicating network a loss changes nothing but what is in flight
//! and the loss count, which no check reads (the audit checks every loss), and no step
//! but the lost message's own delivery depends on it: losing `m` is delaying it for good.
//! So a run that loses `m` midway has a twin that keeps `m` in flight instead, through
//! states with the same actors and the same checks, one step shorter, with more of the
//! budget left; and in any run the losses commute to its end (a loss of `m` commutes
//! with every step but `m`'s delivery, and losses with each other, within the budget).
//! Where no set is named, `--reduce por` therefore leaves a state's losses out
//! ([`crate::trace::Narrate::losses_wait`]) unless the state is at rest but for messages
//! it may still lose: every step that leads somewhere, but for losses and crashes, is the
//! delivery of a message that may be lost, and the budget covers every copy of them.
//!
//! - *Violations of `always` and `sometimes` checks*: a shortest run to one takes no loss
//!   (its twin would be shorter), so the reduced search still has it.
//! - *States at rest*, where `eventually` properties are judged: a shortest run to one,
//!   with its losses moved to its end, is a run without losses to a state where only the
//!   lost messages' deliveries are left to do (they were lost within the budget), which
//!   the search expands with its losses, and so on to the state at rest: the same state,
//!   as far from the start.
//! - *With sets*: a named set is expanded as before, its losses included. A run from the
//!   state to a state at rest, losses moved to its end, either takes a step of the set
//!   before them, which commutes to the front as above (or, for a sink, has a twin that
//!   takes it first), or loses a message of the set at its end (the set's step that must
//!   stay enabled is then a delivery, which only a loss of its message takes away, and
//!   every kind of set holds the losses of its deliveries' messages), and that loss
//!   commutes to the front. So every state at rest
//!   is still reached, as far from the start where the sets keep such paths (below), and
//!   violations are found as before.
//!
//! Nothing is counted as a reduced state for it, and no path is shortened for it. On
//! `leaderless` at the proof bounds it took `quorum` from 168 states to 129 under `--reduce
//! all`, `r1-w1` from 309 to 202, before the rule below took them to 97 and 139.
//!
//! *Under symmetry, losses last before sets.* A named set holds the losses of its
//! deliveries, so a state expanded with one explores a loss at once, where expanded
//! without it (its losses waiting) it explores none; and under the symmetry reduction the
//! deliveries a set would put off often lead to states of one orbit. So under `--reduce
//! all` a set that holds a loss is not named where the state's losses wait (expanding a
//! state with all its steps is always sound). On `leaderless` this takes every variant to
//! fewer states: at the proof bounds `quorum` from 129 to 97 and `r1-w1` from 202 to 139,
//! at the bench's three clients `sloppy-quorum` from 6,809 to 4,624. Without symmetry the
//! sets stay: on `central-db` with a loss and a crash they are worth more than the losses
//! they explore (`retry` at two clients: 2,850 states with them, 6,042 without).
//!
//! # Paths shortest as found
//!
//! A reduced search may reach a violation by a longer path than the shortest, which is
//! then shortened (above). Three cases need no shortening, and the engine keeps the path it
//! found ([`crate::trace::Narrate::keeps_rest_paths`],
//! [`crate::trace::Narrate::keeps_violation_paths`]):
//!
//! - *Violations found before any set was taken above them.* A shortest run to a
//!   violation takes no loss and no crash that only delays (each has a shorter twin,
//!   above), and while every state is expanded without a set, each state of such a run is
//!   reached at its place in it: a violation found at depth `d` when no state above depth
//!   `d - 1` was expanded with a set is at its shortest distance. A state at rest is, when
//!   no state above its own depth was expanded with a set or with a crash left out.
//! - *States at rest*, where `eventually` properties are judged, when every set named
//!   holds a step that still leads somewhere after any steps outside the set (every kind
//!   but the sinks', whose delivery a later one may absorb; the audit allows absorbing
//!   for sinks' sets only). A run from a reduced state `s` to a state at rest must take a
//!   step of the set (else that step would still lead somewhere at rest); the first such
//!   step commutes to the front, so a run of the same length starts with a step the
//!   reduced search takes, and by induction the reduced search reaches every state at
//!   rest at its shortest distance.
//! - *Every violation*, when the only sets named are quiet actors' (and crashes that only
//!   delay are left out, whose twins are shorter): a run from `s` to a violation changes
//!   a check on its way, which no step outside the set does before a step of the set, so
//!   the run takes a step of the set before the violation, and that step commutes to the
//!   front as above.
//!
//! The engine's cycle proviso only expands more steps. `tests/engines.rs` checks that
//! these paths have the length of the unreduced search's on the whole catalog.
//!
//! # Crashes that only delay
//!
//! A crash cancels the actor's timers and random choices and holds back every delivery
//! to it until it restarts, from what it saved. Where it has no timer set and no random
//! choice pending, and starting again from what it saved gives exactly the state it has
//! and does nothing else (a server that saves after every change, a stateless one), the
//! crash and the restart change nothing but its crashed flag, and nothing happens to it
//! in between: every run through such a crash has a twin without the crash and its
//! restart, which only delays the same deliveries (the network may delay any message),
//! through the same states but for that flag. The crash budget counts actors down at
//! once, so fewer crashes only allow more. No property reads the flag, so every check is
//! the same along both runs, and such crashes are left out of every expansion
//! ([`crate::trace::Narrate::only_delays`]); states where one was left out count as
//! reduced, and paths are shortened as for persistent sets. Crashes that lose something
//! (a timer, state not yet saved) are explored as before.
//!
//! [`audit`] checks what the reduction relies on (the reply contract, each property's
//! [`ClientSteps`], the stateless servers, the quiet actors, that no property sees a crash
//! that only delays, and every named set's stubborn-set conditions one step deep) over a whole
//! unreduced state space; `tests/engines.rs` runs it on every catalog model, variant and
//! mutant, `tests/topology.rs` on every shipped topology file.

use crate::history::Outcome;
use crate::property::{ClientSteps, Kind};
use crate::system::{Msg, Node, SysState, System};
use crate::trace::Narrate;
use serde::Serialize;
use stateright::actor::{ActorModelAction, Id, Network};
use stateright::Model;

/// Which state-space reduction a search applies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Reduce {
    /// Every interleaving is explored.
    #[default]
    None,
    /// Partial-order reduction: settled clients' steps, deliveries to stateless servers,
    /// crashes that only delay (see the module documentation), messages nobody will read
    /// (see [`crate::forgetting`]).
    Por,
    /// Symmetry reduction: states that differ only by which interchangeable server is
    /// which are searched once (see [`crate::symmetry`]).
    Symmetry,
    /// Both: partial-order and symmetry reduction.
    All,
}

impl Reduce {
    /// The name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Reduce::None => "none",
            Reduce::Por => "por",
            Reduce::Symmetry => "symmetry",
            Reduce::All => "all",
        }
    }

    /// Whether the partial-order reduction is on.
    pub fn por(self) -> bool {
        matches!(self, Reduce::Por | Reduce::All)
    }

    /// Whether the symmetry reduction is on.
    pub fn symmetry(self) -> bool {
        matches!(self, Reduce::Symmetry | Reduce::All)
    }

    /// This setting without the symmetry reduction.
    pub fn without_symmetry(self) -> Reduce {
        if self.por() {
            Reduce::Por
        } else {
            Reduce::None
        }
    }

    /// This setting without the partial-order reduction (what shortens its paths: the
    /// symmetry reduction keeps distances from the start).
    pub fn without_por(self) -> Reduce {
        if self.symmetry() {
            Reduce::Symmetry
        } else {
            Reduce::None
        }
    }
}

/// The actor an action belongs to.
fn actor_of<M, T, R>(action: &ActorModelAction<M, T, R>) -> Id {
    match action {
        ActorModelAction::Deliver { dst, .. } => *dst,
        ActorModelAction::Drop(env) => env.dst,
        ActorModelAction::Timeout(id, _) => *id,
        ActorModelAction::Crash(id) | ActorModelAction::Recover(id) => *id,
        ActorModelAction::SelectRandom { actor, .. } => *actor,
    }
}

/// The index in `actions` of the loss of the message that `delivery` delivers, if the
/// network may lose it here (none if `delivery` is no delivery).
fn loss_of_delivery<M: PartialEq, T, R>(
    actions: &[ActorModelAction<M, T, R>],
    delivery: &ActorModelAction<M, T, R>,
) -> Option<usize> {
    let ActorModelAction::Deliver { src, dst, msg } = delivery else {
        return None;
    };
    actions.iter().position(|a| {
        matches!(a, ActorModelAction::Drop(env)
            if env.src == *src && env.dst == *dst && env.msg == *msg)
    })
}

/// Whether `action` can be the step of a stubborn set that stays enabled: it is not a
/// loss (another loss may spend the budget first), nor a crash (a state at rest may still
/// allow one), and it `leads` somewhere.
fn can_be_key<M, T, R>(action: &ActorModelAction<M, T, R>, leads: impl FnOnce() -> bool) -> bool {
    !matches!(
        action,
        ActorModelAction::Drop(_) | ActorModelAction::Crash(_)
    ) && leads()
}

/// Whether actor `i` holds a timer or a pending random choice in `state`.
fn waits<A: Node>(state: &SysState<A>, i: usize) -> bool {
    let net = &state.net;
    net.timers_set
        .get(i)
        .is_some_and(|t| t.iter().next().is_some())
        || net.random_choices.get(i).is_some_and(|c| !c.map.is_empty())
}

/// Every message in flight, each copy once: (source, destination, message). (stateright
/// 0.31's `Network::iter_all` never ends on an ordered network with a channel holding
/// two messages or more.)
fn each_message<'n, M: Clone + Eq + std::hash::Hash + Ord>(
    net: &'n Network<M>,
    mut f: impl FnMut(Id, Id, &'n M),
) {
    match net {
        Network::Ordered(channels) => {
            for (&(src, dst), queue) in channels {
                for m in queue {
                    f(src, dst, m);
                }
            }
        }
        Network::UnorderedNonDuplicating(multiset) => {
            for (env, &copies) in multiset.iter() {
                for _ in 0..copies {
                    f(env.src, env.dst, &env.msg);
                }
            }
        }
        Network::UnorderedDuplicating(set, _) => {
            for env in set.iter() {
                f(env.src, env.dst, &env.msg);
            }
        }
    }
}

/// A model's account of which messages servers handle without their state (see
/// [`System::with_handled_without_state`]).
pub type WithoutState<A> = fn(&A, &Msg<<A as Node>::Peer>) -> bool;

/// A model's account of which messages servers take in without answering:
/// `absorbed(sys, state, i, msg)` for a message `msg` on its way to server `i` in `state`
/// (see [`System::with_absorbed`]).
pub type Absorbed<A> = fn(&System<A>, &SysState<A>, usize, &Msg<<A as Node>::Peer>) -> bool;

/// A model's account of which actors nothing more will be sent to until they act:
/// `quiet(sys, state, i)` (see [`System::with_quiet`]).
pub type Quiet<A> = fn(&System<A>, &SysState<A>, usize) -> bool;

/// What a step sends, in order.
type Sends<P> = Vec<(Id, Msg<P>)>;

/// A model's account of which servers can no longer change: `frozen(sys, state)` has one
/// flag per actor, true only where no step from `state` on changes that server's state
/// (see [`System::with_frozen`]).
pub type Frozen<A> = fn(&System<A>, &SysState<A>) -> Vec<bool>;

impl<A: Node> System<A> {
    /// Declares when a server can no longer change (see the module documentation): where
    /// `frozen(sys, state)[i]` is true, no step from `state` on changes server `i`'s state
    /// (nothing it will still receive changes it), it holds no timer and no random
    /// choice, and what it does with a message depends on the message alone, as a
    /// stateless server's does. `--reduce por` may then deliver a message to it ahead of
    /// every other step. [`audit`] checks the declaration: the flag stays set after every
    /// step, the server's state stays the same, its deliveries only send, and no
    /// `always`/`sometimes` check changes by them.
    pub fn with_frozen(mut self, frozen: Frozen<A>) -> Self {
        self.frozen = Some(frozen);
        self
    }

    /// Which servers can no longer change in `state` (see [`System::with_frozen`]) and
    /// cannot crash here (a crash would hold a delivery back): one flag per actor, empty
    /// when the model declares nothing.
    fn frozen_servers(&self, state: &SysState<A>) -> Vec<bool> {
        let Some(frozen) = self.frozen else {
            return Vec::new();
        };
        let mut flags = frozen(self, state);
        for (i, flag) in flags.iter_mut().enumerate() {
            let actor = &self.actors.actors[i];
            *flag = *flag
                && actor.as_client().is_none()
                && (self.faults.crashes == 0 || !actor.crashable())
                && !waits(state, i);
        }
        flags
    }

    /// Declares which messages servers handle without their state: where
    /// `without_state(server, msg)` is true, in every state the server can be in it does
    /// the same with `msg` (the same sends, no timer, no random choice, nothing saved) and
    /// stays as it was (a non-home master forwarding a request to the home master).
    /// `--reduce por` may then deliver such a message ahead of every other step, as to a
    /// stateless server (see the module documentation). [`audit`] checks the declaration
    /// in every reachable state against the server's start state.
    pub fn with_handled_without_state(mut self, without_state: WithoutState<A>) -> Self {
        self.without_state = Some(without_state);
        self
    }

    /// Whether server `i` handles `msg` without its state, as declared
    /// ([`System::with_handled_without_state`]), and cannot crash here (a crash would hold
    /// the delivery back).
    fn handled_without_state(&self, i: usize, msg: &Msg<A::Peer>) -> bool {
        let actor = &self.actors.actors[i];
        self.without_state.is_some_and(|declared| {
            actor.as_client().is_none()
                && (self.faults.crashes == 0 || !actor.crashable())
                && declared(actor, msg)
        })
    }

    /// Declares which messages servers take in without answering: where
    /// `absorbed(sys, state, i, msg)` is true for `msg` on its way to server `i`,
    /// delivering it only changes the server's state (it sends nothing, sets no timer,
    /// makes no random choice), it commutes with every other delivery the server may get
    /// while `msg` is on its way (another message it absorbs, one it handles without its
    /// state), it never undoes a violation of an `always` check (nor the example of a
    /// `sometimes` one), and it stays so after every step that leaves `msg` on its way: a
    /// master applying a withdrawal its home master approved. `--reduce por` may then
    /// deliver such a message ahead of every other step (see the module documentation).
    /// [`audit`] checks the declaration in every reachable state, for every such message
    /// in flight.
    pub fn with_absorbed(mut self, absorbed: Absorbed<A>) -> Self {
        self.absorbed = Some(absorbed);
        self
    }

    /// Whether server `i` takes `msg` in without answering in `state`, as declared
    /// ([`System::with_absorbed`]), and cannot crash here (a crash would hold the delivery
    /// back).
    fn absorbs(&self, state: &SysState<A>, i: usize, msg: &Msg<A::Peer>) -> bool {
        let actor = &self.actors.actors[i];
        self.absorbed.is_some_and(|declared| {
            actor.as_client().is_none()
                && (self.faults.crashes == 0 || !actor.crashable())
                && declared(self, state, i, msg)
        })
    }

    /// Declares when the rest of the system waits on an actor: where
    /// `quiet(sys, state, i)` is true, until `i` takes a step of its own (a delivery to
    /// it, the loss of a message to it, a timeout, a random choice), no step of another
    /// actor sends `i` a message it does not ignore for good ([`Node::ignores_for_good`])
    /// or changes an `always`/`sometimes` check: a replica that the only reader waits on,
    /// while no write can start. `--reduce por` may then take every step of `i` and
    /// nothing else, and where these are the only sets named, the paths it finds are
    /// shortest as found (see the module documentation). [`audit`] checks the declaration
    /// in every reachable state: every other actor's step sends `i` nothing it does not
    /// ignore for good, changes no such check and leaves `i` quiet, and where `i` is a
    /// server, no such check changes by its own steps.
    pub fn with_quiet(mut self, quiet: Quiet<A>) -> Self {
        self.quiet = Some(quiet);
        self
    }

    /// Whether actor `i` is declared quiet in `state` ([`System::with_quiet`]) and cannot
    /// crash here (a crash would hold its deliveries back).
    fn is_quiet(&self, state: &SysState<A>, i: usize) -> bool {
        self.quiet.is_some_and(|declared| {
            (self.faults.crashes == 0 || !self.actors.actors[i].crashable())
                && declared(self, state, i)
        })
    }

    /// Every step of the quiet actor with the fewest steps (see [`System::with_quiet`]),
    /// clients only when `client_steps`; nothing off the unordered, non-duplicating
    /// network, or when that would be every step or no step leads anywhere but losses.
    fn quiet_persistent_set(
        &self,
        state: &SysState<A>,
        actions: &[<Self as Model>::Action],
        client_steps: bool,
        out: &mut Vec<usize>,
    ) {
        if self.quiet.is_none() || !matches!(state.net.network, Network::UnorderedNonDuplicating(_))
        {
            return;
        }
        let eligible = |i: usize| {
            let id = Id::from(i);
            (client_steps || self.actors.actors[i].as_client().is_none())
                && self.is_quiet(state, i)
                && actions
                    .iter()
                    .any(|a| actor_of(a) == id && self.is_key(state, a))
        };
        self.steps_of_fewest(actions, eligible, out);
    }

    /// Declares the servers `actors` stateless (see the module documentation): they keep
    /// nothing, so `--reduce por` may deliver a message to one of them ahead of every
    /// other step. [`audit`] checks the declaration.
    ///
    /// # Panics
    ///
    /// If one of them is a client or not an actor of this system.
    pub fn with_stateless(mut self, actors: Vec<usize>) -> Self {
        self.stateless = self.servers_marked(actors, "stateless");
        self
    }

    /// One flag per actor, set for `actors`, which must be servers of this system (else
    /// a panic saying that only servers may be declared `what`).
    fn servers_marked(&self, actors: Vec<usize>, what: &str) -> Vec<bool> {
        let n = self.actors.actors.len();
        let mut marked = vec![false; n];
        for i in actors {
            assert!(
                i < n && self.actors.actors[i].as_client().is_none(),
                "only servers may be declared {what}"
            );
            marked[i] = true;
        }
        marked
    }

    /// Whether actor `i` is declared stateless.
    fn is_stateless(&self, i: usize) -> bool {
        self.stateless.get(i).copied().unwrap_or(false)
    }

    /// Declares the servers `actors` sinks (see the module documentation): in this
    /// system they receive and never send, set no timer and make no random choice, any
    /// two deliveries to one of them end the same in either order (or the later one
    /// makes the earlier one a message nobody will read), and only `eventually`
    /// properties read them. `--reduce por` then delivers a message to one of them ahead
    /// of every other step. [`audit`] checks the declaration.
    ///
    /// # Panics
    ///
    /// If one of them is a client or not an actor of this system.
    pub fn with_sinks(mut self, actors: Vec<usize>) -> Self {
        self.sinks = self.servers_marked(actors, "sinks");
        self
    }

    /// Whether actor `i` is declared a sink and cannot crash here (a crash would hold a
    /// delivery to it back).
    fn is_sink(&self, i: usize) -> bool {
        self.sinks.get(i).copied().unwrap_or(false)
            && (self.faults.crashes == 0 || !self.actors.actors[i].crashable())
    }

    /// Whether `action` is a delivery to a sink that cannot crash here, or the loss of a
    /// message to one: it changes only the sink, which only `eventually` properties read
    /// and which sends nothing, so a search without them may leave it out
    /// ([`crate::trace::Narrate::only_for_eventually`]). Taken out of a run, such steps
    /// leave a run no longer whose other steps are all still enabled (they enable nothing)
    /// and whose states differ only in the sink, what is on its way to it and the losses
    /// counted, which no `always`/`sometimes` check reads (the audit checks that no such
    /// step changes one).
    pub(crate) fn sink_step(&self, action: &<Self as Model>::Action) -> bool {
        match action {
            ActorModelAction::Deliver { dst, .. } => self.is_sink(usize::from(*dst)),
            ActorModelAction::Drop(env) => self.is_sink(usize::from(env.dst)),
            _ => false,
        }
    }

    /// The smallest persistent subset of `actions` this module knows (see
    /// [`crate::trace::Narrate::persistent_set`]): a delivery to a stateless server or a
    /// sink, or every step of a settled client when `client_steps`. `out` is left empty
    /// when there is none.
    pub(crate) fn smallest_persistent_set(
        &self,
        state: &SysState<A>,
        actions: &[<Self as Model>::Action],
        client_steps: bool,
        out: &mut Vec<usize>,
    ) {
        self.stateless_persistent_set(state, actions, out);
        if out.len() != 1 {
            let mut quiet = Vec::new();
            self.quiet_persistent_set(state, actions, client_steps, &mut quiet);
            if !quiet.is_empty() && (out.is_empty() || quiet.len() < out.len()) {
                *out = quiet;
            }
        }
        if client_steps && out.len() != 1 {
            let mut client = Vec::new();
            self.client_persistent_set(state, actions, &mut client);
            let smaller = out.is_empty() || client.len() < out.len();
            if !client.is_empty() && smaller && self.has_key(state, actions, &client) {
                *out = client;
            }
        }
    }

    /// Whether one of the steps `set` names can be the step that stays enabled whatever
    /// the other steps do ([`can_be_key`]). A set whose only steps that lead somewhere are
    /// losses is no stubborn set.
    fn has_key(
        &self,
        state: &SysState<A>,
        actions: &[<Self as Model>::Action],
        set: &[usize],
    ) -> bool {
        set.iter().any(|&k| self.is_key(state, &actions[k]))
    }

    /// Whether `action` can be the step of a set that stays enabled ([`can_be_key`]).
    fn is_key(&self, state: &SysState<A>, action: &<Self as Model>::Action) -> bool {
        // (A random choice or a restart always leads somewhere: `handle` does not run them.)
        can_be_key(action, || {
            self.handle(state, action).is_none_or(|h| h.is_some())
        })
    }

    /// Every step in `actions` of the actor with the fewest steps among those `eligible`
    /// accepts (the first such actor on a tie), into `out`; nothing when no actor has
    /// steps, or the only one has every step. `eligible` is asked only of actors that
    /// would be smaller than the best found so far.
    fn steps_of_fewest(
        &self,
        actions: &[<Self as Model>::Action],
        mut eligible: impl FnMut(usize) -> bool,
        out: &mut Vec<usize>,
    ) {
        let mut steps: smallvec::SmallVec<[usize; 16]> =
            smallvec::smallvec![0; self.actors.actors.len()];
        for a in actions {
            steps[usize::from(actor_of(a))] += 1;
        }
        let mut best: Option<(usize, usize)> = None; // (actor, steps)
        for (i, &n) in steps.iter().enumerate() {
            if n > 0 && n < actions.len() && best.is_none_or(|(_, m)| n < m) && eligible(i) {
                best = Some((i, n));
            }
        }
        if let Some((i, _)) = best {
            let id = Id::from(i);
            out.extend((0..actions.len()).filter(|&k| actor_of(&actions[k]) == id));
        }
    }

    /// The first delivery to a stateless server (or else to a sink, or of a message its
    /// server absorbs) that leads somewhere,
    /// with the loss of the same message if the network may still lose it; nothing off
    /// the unordered, non-duplicating network or when that would be every step.
    fn stateless_persistent_set(
        &self,
        state: &SysState<A>,
        actions: &[<Self as Model>::Action],
        out: &mut Vec<usize>,
    ) {
        if !matches!(state.net.network, Network::UnorderedNonDuplicating(_)) {
            return;
        }
        let first_to = |to: &dyn Fn(usize, &Msg<A::Peer>) -> bool| {
            actions.iter().position(|a| match a {
                ActorModelAction::Deliver { dst, msg, .. } => {
                    to(usize::from(*dst), msg) && matches!(self.handle(state, a), Some(Some(_)))
                }
                _ => false,
            })
        };
        let frozen = self.frozen_servers(state);
        let is_frozen = |i: usize| frozen.get(i).copied().unwrap_or(false);
        let Some(k) = first_to(&|i, msg| {
            self.is_stateless(i) || is_frozen(i) || self.handled_without_state(i, msg)
        })
        .or_else(|| {
            first_to(&|i, msg| self.is_sink(i) || (self.absorbs(state, i, msg) && !waits(state, i)))
        }) else {
            return;
        };
        out.push(k);
        out.extend(loss_of_delivery(actions, &actions[k]));
        if out.len() == actions.len() {
            out.clear();
        }
    }

    /// Whether `action` is the crash of an actor that a restart gives back unchanged: it
    /// has no timer set and no random choice pending, and starting again from what it
    /// saved gives the state it has and does nothing else (see the module
    /// documentation).
    /// Whether the losses enabled in `state` may wait (see [`Narrate::losses_wait`] and
    /// "Losses last" above): on an unordered, non-duplicating network, unless every step
    /// of `actions` that leads somewhere, but for losses and crashes, is the delivery of
    /// a message that may be lost, with every copy of them within the loss budget.
    /// `told[k]`, where known, says whether step `k` leads somewhere.
    pub(crate) fn losses_may_wait(
        &self,
        state: &SysState<A>,
        actions: &[<Self as Model>::Action],
        told: &[Option<Option<u64>>],
    ) -> bool {
        let Network::UnorderedNonDuplicating(in_flight) = &state.net.network else {
            return false;
        };
        let left = usize::from(self.faults.loss.saturating_sub(state.lost));
        let copies_kept = in_flight.values().any(|&c| c > 1);
        let mut to_lose = 0usize;
        for (k, a) in actions.iter().enumerate() {
            let leads = |a| match told.get(k) {
                Some(Some(None)) => false,
                Some(Some(Some(_))) => true,
                _ => !matches!(self.handle(state, a), Some(None)),
            };
            match a {
                ActorModelAction::Drop(_) | ActorModelAction::Crash(_) => {}
                ActorModelAction::Deliver { src, dst, msg } => {
                    if !leads(a) {
                        continue;
                    }
                    if !self.may_lose(state, msg) {
                        return true;
                    }
                    to_lose += if copies_kept {
                        let env = stateright::actor::Envelope {
                            src: *src,
                            dst: *dst,
                            msg: msg.clone(),
                        };
                        in_flight.get(&env).copied().unwrap_or(1)
                    } else {
                        1
                    };
                    if to_lose > left {
                        return true;
                    }
                }
                ActorModelAction::Timeout(..) => {
                    if leads(a) {
                        return true;
                    }
                }
                _ => return true,
            }
        }
        false
    }

    pub(crate) fn crash_only_delays(
        &self,
        state: &SysState<A>,
        action: &<Self as Model>::Action,
    ) -> bool {
        let ActorModelAction::Crash(id) = action else {
            return false;
        };
        let (i, net) = (usize::from(*id), &state.net);
        if waits(state, i) {
            return false;
        }
        let mut out = stateright::actor::Out::new();
        let restarted = self.actors.actors[i].on_start(*id, &net.actor_storages[i], &mut out);
        out.is_empty() && restarted == *net.actor_states[i]
    }

    /// Whether every set [`System::smallest_persistent_set`] names holds a step that still
    /// leads somewhere after any steps outside it (see [`crate::trace::Narrate::keeps_rest_paths`]):
    /// true unless the system has sinks, whose delivery a later one may absorb. [`audit`]
    /// checks the other sets one step deep with no absorbing allowed.
    pub(crate) fn sets_keep_rest_paths(&self) -> bool {
        !self.sinks.iter().any(|&s| s)
    }

    /// Whether the only sets [`System::smallest_persistent_set`] names are those of quiet
    /// actors ([`System::with_quiet`]): no server is declared stateless, a sink or frozen,
    /// no message handled without state or absorbed, and no client sets are named (not
    /// every actor declares [`Node::replies_once`]); so no sinks, and
    /// [`System::sets_keep_rest_paths`] holds too. Then a path the reduced search finds
    /// to a violation is a shortest one (see [`crate::trace::Narrate::keeps_violation_paths`]).
    pub(crate) fn sets_keep_violation_paths(&self) -> bool {
        self.quiet.is_some()
            && !self.stateless.iter().chain(&self.sinks).any(|&s| s)
            && self.frozen.is_none()
            && self.without_state.is_none()
            && self.absorbed.is_none()
            && !self.replies_once()
    }

    /// Why [`System::smallest_persistent_set`] never names a set for this system, if so.
    pub(crate) fn persistent_set_blocker(&self) -> Option<String> {
        let network = self.faults.network;
        if network == crate::system::NetworkKind::Duplicating {
            return Some("a duplicating network remembers the last delivery".to_string());
        }
        let stateless = self.stateless.iter().any(|&s| s)
            || self.sinks.iter().any(|&s| s)
            || self.frozen.is_some()
            || self.without_state.is_some()
            || self.absorbed.is_some()
            || self.quiet.is_some();
        if stateless && network == crate::system::NetworkKind::Unordered {
            return None;
        }
        let clients = self.client_reduction_blocker()?;
        Some(if stateless {
            format!(
                "{clients}; deliveries to stateless servers, sinks and quiet actors commute only on an unordered network"
            )
        } else {
            format!(
                "{clients}; no server is declared stateless or a sink, and no actor quiet (System::with_stateless, System::with_sinks, System::with_quiet)"
            )
        })
    }

    /// The client `i` will receive nothing more until it acts: it cannot crash, has no
    /// random choice pending, every message to it is a reply, and every attempt of its
    /// not yet answered has its reply in flight.
    fn client_is_settled(&self, state: &SysState<A>, i: usize) -> bool {
        let actor = &self.actors.actors[i];
        if actor.as_client().is_none() || actor.crashable() {
            return false;
        }
        if state
            .net
            .random_choices
            .get(i)
            .is_some_and(|c| !c.map.is_empty())
        {
            return false;
        }
        let Some(client) = A::client_state(&state.net.actor_states[i]) else {
            return false;
        };
        let id = Id::from(i);
        let mut replies = Vec::new();
        let mut other = false;
        each_message(&state.net.network, |_, dst, msg| {
            if dst != id {
                return;
            }
            match msg {
                Msg::Reply { id, .. } => replies.push(*id),
                _ => other = true,
            }
        });
        if other {
            return false;
        }
        client
            .log
            .iter()
            .all(|e| matches!(e.outcome, Outcome::Replied(_)) || replies.contains(&e.id))
    }

    /// A persistent subset of `actions` (see the module documentation): every step of
    /// the settled client with the fewest steps, or nothing (`out` left empty) when no
    /// client is settled or the system is not one the reduction covers.
    fn client_persistent_set(
        &self,
        state: &SysState<A>,
        actions: &[<Self as Model>::Action],
        out: &mut Vec<usize>,
    ) {
        // A duplicating network remembers the last delivery: client steps do not commute.
        if !self.replies_once() || matches!(state.net.network, Network::UnorderedDuplicating(..)) {
            return;
        }
        self.steps_of_fewest(actions, |i| self.client_is_settled(state, i), out);
    }

    /// Why [`System::client_persistent_set`] never names a set for this system, if so.
    fn client_reduction_blocker(&self) -> Option<String> {
        if !self.replies_once() {
            let who = self
                .actors
                .actors
                .iter()
                .position(|a| !a.replies_once())
                .map_or("?", |i| self.names[i].as_str());
            return Some(format!(
                "{who} does not declare that it sends clients nothing but one reply per attempt (Node::replies_once)"
            ));
        }
        None
    }

    /// What keeps `set` (named at `state`, whose steps `actions` lead to `nexts`) from
    /// being a stubborn set, checked one step deep: it must hold a step that leads
    /// somewhere and is neither a loss nor a crash, and for every other step `u` (but
    /// crashes that only delay, which the reduction never takes), one such step must
    /// still lead somewhere after `u` (or, where `may_absorb`, as for a sink's set, have
    /// `u` absorb it: taken before `u`, it ends where `u` alone does), and every step `t`
    /// of the set that leads somewhere after `u` must also lead somewhere before it, with
    /// `u` then leading to the same state. States are compared with the messages nobody
    /// will read forgotten, as the reduced search sees them, and but for the real-time
    /// history (see the module documentation).
    fn stubborn_breach(
        &self,
        state: &SysState<A>,
        actions: &[<Self as Model>::Action],
        nexts: &[Option<SysState<A>>],
        set: &[usize],
        may_absorb: bool,
    ) -> Option<String> {
        let keys: Vec<usize> = (set.iter().copied())
            .filter(|&k| can_be_key(&actions[k], || nexts[k].is_some()))
            .collect();
        if keys.is_empty() {
            return Some("a set was named with no step that leads somewhere but losses".into());
        }
        // Where `action` leads from `from`, if it is a step there.
        let step = |from: &SysState<A>, action: &<Self as Model>::Action| {
            let mut there = Vec::new();
            self.actions(from, &mut there);
            there
                .contains(action)
                .then(|| self.next_state(from, action.clone()))
                .flatten()
        };
        // Equal with the messages nobody will read forgotten, and but for the real-time
        // history, which records the order of two clients' steps: client sets are named
        // only once no property reads it.
        let same = |a: &SysState<A>, b: &SysState<A>| {
            if a.net == b.net && a.lost == b.lost {
                return true;
            }
            let (mut a, mut b) = (a.clone(), b.clone());
            self.forget_ignored(&mut a);
            self.forget_ignored(&mut b);
            a.net == b.net && a.lost == b.lost
        };
        for (u, after_u) in nexts.iter().enumerate() {
            if set.contains(&u) || self.crash_only_delays(state, &actions[u]) {
                continue;
            }
            let Some(after_u) = after_u else { continue };
            let name = |k: usize| self.format_action(&actions[k]);
            let absorbs = |k: usize| {
                let t_then_u = nexts[k]
                    .as_ref()
                    .and_then(|after_t| step(after_t, &actions[u]));
                t_then_u.is_some_and(|s| same(&s, after_u))
            };
            if !keys
                .iter()
                .any(|&k| step(after_u, &actions[k]).is_some() || (may_absorb && absorbs(k)))
            {
                return Some(format!(
                    "'{}', outside the set, leaves none of its steps that must stay enabled",
                    name(u)
                ));
            }
            for &t in set {
                let Some(u_then_t) = step(after_u, &actions[t]) else {
                    continue;
                };
                let t_then_u = nexts[t]
                    .as_ref()
                    .and_then(|after_t| step(after_t, &actions[u]));
                if !t_then_u.is_some_and(|s| same(&s, &u_then_t)) {
                    return Some(format!(
                        "'{}', in the set, does not commute ahead of '{}'",
                        name(t),
                        name(u)
                    ));
                }
            }
        }
        None
    }

    /// The first breach, in `state`, of what [`System::with_quiet`] declares, for each
    /// actor declared quiet here (counted into `checked`): a step of another actor that
    /// sends it a message it does not ignore for good, that changes an
    /// `always`/`sometimes` check, or after which it is no longer declared quiet; and,
    /// where it is a server, a step of its own that changes such a check (client steps are
    /// held to their [`ClientSteps`]).
    fn quiet_breach(
        &self,
        state: &SysState<A>,
        actions: &[<Self as Model>::Action],
        nexts: &[Option<SysState<A>>],
        checked: &mut usize,
    ) -> Option<String> {
        self.quiet?;
        let quiet: Vec<usize> = (0..self.actors.actors.len())
            .filter(|&i| self.is_quiet(state, i))
            .collect();
        if quiet.is_empty() {
            return None;
        }
        // What is on its way to actor `i` in `s` that it does not ignore for good.
        let heard = |s: &'_ SysState<A>, i: usize| {
            let (actor, mut heard) = (&self.actors.actors[i], Vec::new());
            each_message(&s.net.network, |src, dst, msg| {
                if usize::from(dst) == i
                    && !actor.ignores_for_good(&s.net.actor_states[i], src, msg)
                {
                    heard.push((src, msg.clone()));
                }
            });
            heard
        };
        let checks: Vec<bool> = self
            .properties
            .iter()
            .map(|p| (p.check)(self, state))
            .collect();
        // The `always`/`sometimes` property each step turns, if any (worked out once).
        let turned: Vec<Option<&str>> = nexts
            .iter()
            .map(|next| {
                let next = next.as_ref()?;
                (self.properties.iter().zip(&checks))
                    .find(|(p, &before)| {
                        p.kind != Kind::Eventually && (p.check)(self, next) != before
                    })
                    .map(|(p, _)| p.name)
            })
            .collect();
        for i in quiet {
            *checked += 1;
            let (id, before) = (Id::from(i), heard(state, i));
            let server = self.actors.actors[i].as_client().is_none();
            for ((action, next), turned) in actions.iter().zip(nexts).zip(&turned) {
                let Some(next) = next else { continue };
                let told = |what: String| {
                    format!(
                        "{} is declared quiet, but '{}' {what}",
                        self.names[i],
                        self.format_action(action)
                    )
                };
                let own = actor_of(action) == id;
                if let (true, Some(name)) = (!own || server, turned) {
                    return Some(told(format!("changes the check of {name}")));
                }
                if own {
                    continue;
                }
                let mut left = before.clone();
                for (src, msg) in heard(next, i) {
                    match left.iter().position(|(s, m)| *s == src && *m == msg) {
                        Some(at) => {
                            left.swap_remove(at);
                        }
                        None => {
                            return Some(told(format!(
                                "sends it {msg:?} from {}",
                                self.names[usize::from(src)]
                            )))
                        }
                    }
                }
                if !self.is_quiet(next, i) {
                    return Some(told("leaves it no longer quiet".into()));
                }
            }
        }
        None
    }

    /// The first breach, in `state`, of what [`Node::ignores_for_good`] declares and
    /// forgetting relies on (see [`crate::forgetting`]): a message in flight that its
    /// recipient is declared to ignore, but whose delivery would change something, or
    /// that some step's next state no longer ignores; a property whose check changes
    /// when those messages are taken out, or with one loss fewer counted; at rest, an
    /// `eventually` property whose check changes when a message in flight is taken out.
    /// Counts the messages declared ignored into `ignored`.
    fn ignored_breach(
        &self,
        state: &SysState<A>,
        actions: &[<Self as Model>::Action],
        nexts: &[Option<SysState<A>>],
        ignored: &mut usize,
    ) -> Option<String> {
        use stateright::actor::{is_no_op, Out};
        use std::borrow::Cow;
        let net = &state.net;
        let mut breach = None;
        each_message(&net.network, |src, dst, msg| {
            let (i, actor) = (usize::from(dst), &self.actors.actors[usize::from(dst)]);
            if breach.is_some() || !actor.ignores_for_good(&net.actor_states[i], src, msg) {
                return;
            }
            *ignored += 1;
            let what = || {
                format!(
                    "{} is declared to ignore {} for good",
                    self.names[i],
                    self.describe_msg(msg, src, dst)
                )
            };
            let mut after = Cow::Borrowed(&*net.actor_states[i]);
            let mut out = Out::new();
            actor.on_msg(dst, &mut after, src, msg.clone(), &mut out);
            if !is_no_op(&after, &out) {
                breach = Some(format!("{}, but receiving it changes something", what()));
                return;
            }
            for (action, next) in actions.iter().zip(nexts) {
                let Some(next) = next else { continue };
                if !actor.ignores_for_good(&next.net.actor_states[i], src, msg) {
                    breach = Some(format!(
                        "{}, but no longer after '{}'",
                        what(),
                        self.format_action(action)
                    ));
                    return;
                }
            }
        });
        if breach.is_some() {
            return breach;
        }
        let same_checks = |other: &SysState<A>, eventually_only: bool, what: &str| {
            let p = self.properties.iter().find(|p| {
                (!eventually_only || p.kind == Kind::Eventually)
                    && (p.check)(self, state) != (p.check)(self, other)
            })?;
            Some(format!("the check of {} changes {what}", p.name))
        };
        let mut kept = state.clone();
        if self.forget_ignored(&mut kept) {
            if let Some(b) = same_checks(
                &kept,
                false,
                "when the messages nobody will read are forgotten",
            ) {
                return Some(b);
            }
        }
        if state.lost > 0 {
            let mut fewer = state.clone();
            fewer.lost -= 1;
            if let Some(b) = same_checks(&fewer, false, "with one loss fewer counted") {
                return Some(b);
            }
        }
        let at_rest = (actions.iter().zip(nexts))
            .all(|(a, n)| n.is_none() || crate::trace::Narrate::spontaneous(self, state, a));
        if at_rest {
            let mut breach = None;
            each_message(&net.network, |src, dst, msg| {
                if breach.is_some() {
                    return;
                }
                let mut without = state.clone();
                if let Network::UnorderedNonDuplicating(m) = &mut without.net.network {
                    let env = stateright::actor::Envelope {
                        src,
                        dst,
                        msg: msg.clone(),
                    };
                    if let Some(copies) = m.get_mut(&env) {
                        *copies -= 1;
                        if *copies == 0 {
                            m.remove(&env);
                        }
                    }
                    breach = same_checks(
                        &without,
                        true,
                        "at rest when a message in flight is taken out",
                    );
                }
            });
            return breach;
        }
        None
    }

    /// The first breach, in `state`, of what [`Node::reply_as_read`] declares: with its
    /// replies kept as read, a property's check changes, or a step leads somewhere else
    /// (also kept as read) than the same step, its message kept as read, from the state
    /// kept as read. True in `blurred` if some reply in `state` was kept in part.
    fn reply_breach(
        &self,
        state: &SysState<A>,
        actions: &[<Self as Model>::Action],
        nexts: &[Option<SysState<A>>],
        blurred: &mut bool,
    ) -> Option<String> {
        let mut kept = state.clone();
        *blurred = self.keep_replies_as_read(&mut kept);
        if !*blurred {
            return None;
        }
        if let Some(p) =
            (self.properties.iter()).find(|p| (p.check)(self, state) != (p.check)(self, &kept))
        {
            return Some(format!(
                "the check of {} changes when replies are kept as the model reads them",
                p.name
            ));
        }
        let as_read = |s: &SysState<A>| {
            let mut s = s.clone();
            self.keep_replies_as_read(&mut s);
            s
        };
        let mut there = Vec::new();
        self.actions(&kept, &mut there);
        for (action, next) in actions.iter().zip(nexts) {
            let read = |msg: &Msg<A::Peer>| {
                crate::forgetting::msg_as_read::<A>(msg).unwrap_or_else(|| msg.clone())
            };
            let counterpart = match action {
                ActorModelAction::Deliver { src, dst, msg } => ActorModelAction::Deliver {
                    src: *src,
                    dst: *dst,
                    msg: read(msg),
                },
                ActorModelAction::Drop(env) => {
                    ActorModelAction::Drop(stateright::actor::Envelope {
                        src: env.src,
                        dst: env.dst,
                        msg: read(&env.msg),
                    })
                }
                other => other.clone(),
            };
            let leads = there
                .contains(&counterpart)
                .then(|| self.next_state(&kept, counterpart))
                .flatten();
            let same = match (next, &leads) {
                (None, None) => true,
                (Some(n), Some(l)) => as_read(n) == as_read(l),
                _ => false,
            };
            if !same {
                return Some(format!(
                    "'{}' does not lead to the same state when replies are kept as the model reads them",
                    self.format_action(action)
                ));
            }
        }
        None
    }

    /// The first breach, in `state`, of what [`Node::history_unread`] declares (see
    /// [`crate::forgetting`]): with the operations clients finished taken out, the steps
    /// differ, or the persistent sets, or which steps are no work or only delay others, or
    /// whether the state is within the boundary, or a step leads to a state that differs
    /// once both are taken out (also with what nobody will read forgotten), or the check
    /// of a property declared to read only the servers changes. True in `taken` if
    /// something was taken out of `state`.
    fn settled_breach(
        &self,
        state: &SysState<A>,
        actions: &[<Self as Model>::Action],
        nexts: &[Option<SysState<A>>],
        taken: &mut bool,
    ) -> Option<String> {
        const TAKEN: &str = "when the operations clients finished are taken out";
        let mut without = state.clone();
        *taken = self.forget_settled_operations(&mut without);
        if !*taken {
            return None;
        }
        if let Some(p) = self.properties.iter().find(|p| {
            p.client_steps == ClientSteps::Invisible
                && (p.check)(self, state) != (p.check)(self, &without)
        }) {
            return Some(format!(
                "{} is declared to read only the servers, but its check changes {TAKEN}",
                p.name
            ));
        }
        if self.within_boundary(state) != self.within_boundary(&without) {
            return Some(format!(
                "whether the state is within the boundary changes {TAKEN}"
            ));
        }
        let mut there = Vec::new();
        self.actions(&without, &mut there);
        if there != actions {
            return Some(format!("the steps change {TAKEN}"));
        }
        for client_steps in [true, false] {
            let (mut here_set, mut there_set) = (Vec::new(), Vec::new());
            self.smallest_persistent_set(state, actions, client_steps, &mut here_set);
            self.smallest_persistent_set(&without, &there, client_steps, &mut there_set);
            if here_set != there_set {
                return Some(format!("the persistent set changes {TAKEN}"));
            }
        }
        let taken_out = |s: &SysState<A>, unread: bool| {
            let mut s = s.clone();
            if unread {
                Narrate::forget(self, &mut s);
            }
            self.forget_settled_operations(&mut s);
            s
        };
        for (action, next) in actions.iter().zip(nexts) {
            let step = || self.format_action(action);
            if Narrate::spontaneous(self, state, action)
                != Narrate::spontaneous(self, &without, action)
                || Narrate::only_delays(self, state, action)
                    != Narrate::only_delays(self, &without, action)
            {
                return Some(format!(
                    "whether '{}' is work left or only delays others changes {TAKEN}",
                    step()
                ));
            }
            let leads = self.next_state(&without, action.clone());
            let same = match (next, &leads) {
                (None, None) => true,
                (Some(n), Some(l)) => [false, true]
                    .into_iter()
                    .all(|unread| taken_out(n, unread) == taken_out(l, unread)),
                _ => false,
            };
            if !same {
                return Some(format!(
                    "'{}' does not lead to the same state {TAKEN}",
                    step()
                ));
            }
        }
        None
    }

    /// A sink (see [`System::with_sinks`]) in `state` with a timer set or a random choice
    /// pending, or one that some step of `actions` makes send something, told.
    fn sink_breach(
        &self,
        state: &SysState<A>,
        actions: &[<Self as Model>::Action],
    ) -> Option<String> {
        use stateright::actor::Command;
        let sink = |i: usize| self.sinks.get(i).copied().unwrap_or(false);
        if let Some(i) = (0..self.sinks.len()).find(|&i| sink(i) && waits(state, i)) {
            return Some(format!(
                "{} is declared a sink, but holds a timer or a pending random choice",
                self.names[i]
            ));
        }
        for action in actions {
            let ActorModelAction::Deliver { dst, .. } = action else {
                continue;
            };
            if !sink(usize::from(*dst)) {
                continue;
            }
            if let Some(Some(h)) = self.handle(state, action) {
                if h.out.iter().any(|c| !matches!(c, Command::Save(_))) {
                    return Some(format!(
                        "{} is declared a sink, but '{}' makes it send, set a timer or choose",
                        self.names[usize::from(*dst)],
                        self.format_action(action)
                    ));
                }
            }
        }
        None
    }

    /// A server declared frozen in `state` (see [`System::with_frozen`]) that some step of
    /// `actions` changes, leaves no longer frozen, or (a delivery to it) makes set a timer,
    /// choose or save, told; `frozen` counts the frozen servers checked.
    fn frozen_breach(
        &self,
        state: &SysState<A>,
        actions: &[<Self as Model>::Action],
        nexts: &[Option<SysState<A>>],
        frozen: &mut usize,
    ) -> Option<String> {
        use stateright::actor::Command;
        let now = self.frozen_servers(state);
        if !now.contains(&true) {
            return None;
        }
        let after: Vec<Option<Vec<bool>>> = nexts
            .iter()
            .map(|n| n.as_ref().map(|n| self.frozen_servers(n)))
            .collect();
        for i in (0..now.len()).filter(|&i| now[i]) {
            *frozen += 1;
            for ((action, next), after) in actions.iter().zip(nexts).zip(&after) {
                let (Some(next), Some(after)) = (next, after) else {
                    continue;
                };
                let breach = if next.net.actor_states[i] != state.net.actor_states[i] {
                    "changes its state"
                } else if !after[i] {
                    "leaves it no longer frozen"
                } else if actor_of(action) == Id::from(i)
                    && matches!(self.handle(state, action), Some(Some(h))
                        if h.out.iter().any(|c| !matches!(c, Command::Send(..))))
                {
                    "makes it set a timer, choose or save"
                } else {
                    continue;
                };
                return Some(format!(
                    "{} is declared frozen, but '{}' {breach}",
                    self.names[i],
                    self.format_action(action)
                ));
            }
        }
        None
    }

    /// A delivery in `actions` of a message its server is declared to handle without its
    /// state ([`System::with_handled_without_state`]) that changes the server, does anything but
    /// send, or sends otherwise than the same delivery to the server in its start state
    /// (`start`) does, told; `checked` counts the deliveries checked.
    fn without_state_breach(
        &self,
        state: &SysState<A>,
        actions: &[<Self as Model>::Action],
        start: &SysState<A>,
        checked: &mut usize,
    ) -> Option<String> {
        use stateright::actor::Command;
        for action in actions {
            let ActorModelAction::Deliver { dst, msg, .. } = action else {
                continue;
            };
            let i = usize::from(*dst);
            if !self.handled_without_state(i, msg) {
                continue;
            }
            *checked += 1;
            let sends = |s: &SysState<A>| -> Result<Sends<A::Peer>, &'static str> {
                let Some(Some(h)) = self.handle(s, action) else {
                    return Ok(Vec::new());
                };
                if *h.after != *h.before {
                    return Err("changes its state");
                }
                h.out
                    .iter()
                    .map(|c| match c {
                        Command::Send(to, m) => Ok((*to, m.clone())),
                        _ => Err("makes it set a timer, choose or save"),
                    })
                    .collect()
            };
            let mut elsewhere = state.clone();
            elsewhere.net.actor_states[i] = start.net.actor_states[i].clone();
            let breach = match (sends(state), sends(&elsewhere)) {
                (Err(e), _) | (_, Err(e)) => e,
                (Ok(here), Ok(there)) if here != there => "sends otherwise than in its start state",
                _ => continue,
            };
            return Some(format!(
                "{} declares it handles the message without its state, but '{}' {breach}",
                self.names[i],
                self.format_action(action)
            ));
        }
        None
    }

    /// A delivery in `actions` of a message its server is declared to absorb
    /// ([`System::with_absorbed`]) that sends, sets a timer or chooses, undoes a violation
    /// of an `always` check (or the example of a `sometimes` one), or, with the loss of the
    /// same message, is no stubborn set one step deep ([`System::stubborn_breach`]), told;
    /// `checked` counts the deliveries checked. Every such delivery in flight is checked,
    /// not only the one a reduced search would take: together, in every reachable state,
    /// these make the delivery commute ahead of every path that leaves it out.
    fn absorbed_breach(
        &self,
        state: &SysState<A>,
        actions: &[<Self as Model>::Action],
        nexts: &[Option<SysState<A>>],
        checked: &mut usize,
    ) -> Option<String> {
        use stateright::actor::Command;
        // The steps of each successor, worked out once for all the absorbed deliveries.
        let mut steps_after: Vec<Option<Vec<<Self as Model>::Action>>> =
            (0..nexts.len()).map(|_| None).collect();
        for (k, action) in actions.iter().enumerate() {
            let ActorModelAction::Deliver { dst, msg, .. } = action else {
                continue;
            };
            let i = usize::from(*dst);
            let Some(after) = &nexts[k] else { continue };
            if !self.absorbs(state, i, msg) || waits(state, i) {
                continue;
            }
            *checked += 1;
            let told = |what: String| {
                format!(
                    "{} is declared to absorb the message, but '{}' {what}",
                    self.names[i],
                    self.format_action(action)
                )
            };
            if matches!(self.handle(state, action), Some(Some(h))
                if h.out.iter().any(|c| !matches!(c, Command::Save(_))))
            {
                return Some(told("makes it send, set a timer or choose".into()));
            }
            for p in self
                .properties
                .iter()
                .filter(|p| p.kind != Kind::Eventually)
            {
                let bad = |v: bool| (p.kind == Kind::Always) != v;
                if bad((p.check)(self, state)) && !bad((p.check)(self, after)) {
                    return Some(told(format!("undoes a violation of {}", p.name)));
                }
            }
            // Still absorbed after every step that leaves it on its way.
            for (u, after_u) in nexts.iter().enumerate() {
                let Some(after_u) = after_u.as_ref().filter(|_| u != k) else {
                    continue;
                };
                let there = steps_after[u].get_or_insert_with(|| {
                    let mut steps = Vec::new();
                    self.actions(after_u, &mut steps);
                    steps
                });
                if there.contains(action) && !self.absorbs(after_u, i, msg) {
                    return Some(told(format!(
                        "is no longer declared absorbed after '{}'",
                        self.format_action(&actions[u])
                    )));
                }
            }
            let mut set = vec![k];
            set.extend(loss_of_delivery(actions, action));
            if let Some(breach) = self.stubborn_breach(state, actions, nexts, &set, false) {
                return Some(told(format!("is no stubborn set: {breach}")));
            }
        }
        None
    }

    /// A stateless server (see [`System::with_stateless`]) in `state` with a timer set,
    /// a random choice pending or something saved, told.
    fn stateless_breach(&self, state: &SysState<A>) -> Option<String> {
        let saved = |i: usize| state.net.actor_storages.get(i).is_some_and(Option::is_some);
        let i = (0..self.stateless.len())
            .find(|&i| self.stateless[i] && (waits(state, i) || saved(i)))?;
        Some(format!(
            "{} is declared stateless, but holds a timer, a pending random choice or saved data",
            self.names[i]
        ))
    }

    /// Whether `action` is a client's step.
    fn is_client_step(&self, action: &<Self as Model>::Action) -> bool {
        self.actors
            .actors
            .get(usize::from(actor_of(action)))
            .is_some_and(|a| a.as_client().is_some())
    }

    /// The first breach of the reply contract in the step `before` -> `after`: a message
    /// sent to a client that is not the one reply to one of its unanswered attempts.
    fn reply_contract_breach(&self, before: &SysState<A>, after: &SysState<A>) -> Option<String> {
        // The messages to clients in flight, as a sorted multiset.
        fn to_clients<'s, A: Node>(
            sys: &System<A>,
            s: &'s SysState<A>,
        ) -> Vec<(Id, &'s Msg<A::Peer>)> {
            let mut v: Vec<(Id, &Msg<A::Peer>)> = Vec::new();
            each_message(&s.net.network, |_, dst, msg| {
                if sys.actors.actors[usize::from(dst)].as_client().is_some() {
                    v.push((dst, msg));
                }
            });
            v.sort();
            v
        }
        let (then, now) = (to_clients(self, before), to_clients(self, after));
        let mut rest = then.iter().peekable();
        for &(dst, msg) in &now {
            // Skip what was already in flight before the step.
            while rest.peek().is_some_and(|&&m| m < (dst, msg)) {
                rest.next();
            }
            if rest.peek() == Some(&&(dst, msg)) {
                rest.next();
                continue;
            }
            let to = self.name(dst);
            let Msg::Reply { id, .. } = msg else {
                return Some(format!("{to} was sent something other than a reply"));
            };
            let unanswered = A::client_state(&after.net.actor_states[usize::from(dst)])
                .is_some_and(|c| {
                    c.log
                        .iter()
                        .any(|e| e.id == *id && !matches!(e.outcome, Outcome::Replied(_)))
                });
            if !unanswered {
                return Some(format!(
                    "{to} was sent a reply to an attempt it has no unanswered record of"
                ));
            }
            let replies = now
                .iter()
                .filter(|(d, m)| *d == dst && matches!(m, Msg::Reply { id: r, .. } if r == id))
                .count();
            if replies > 1 {
                return Some(format!("{to} was sent a second reply to one attempt"));
            }
        }
        None
    }
}

/// What [`audit`] looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Audit {
    /// Unique states visited.
    pub states: usize,
    /// Steps checked.
    pub steps: usize,
    /// Sets the reduction names, each checked to be a stubborn set one step deep.
    pub sets: usize,
    /// Messages in flight declared ignored for good by their recipients, each checked.
    pub ignored: usize,
    /// States with a reply the model reads only in part ([`Node::reply_as_read`]), each
    /// checked with every step.
    pub replies_kept: usize,
    /// Servers declared frozen ([`System::with_frozen`]), counted once per state where they
    /// are, each checked with every step.
    pub frozen: usize,
    /// Deliveries of messages their server is declared to handle without its state
    /// ([`System::with_handled_without_state`]), each checked against the server's start
    /// state.
    pub without_state: usize,
    /// Deliveries of messages their server is declared to absorb
    /// ([`System::with_absorbed`]), each checked with every other step.
    pub absorbed: usize,
    /// Actors declared quiet ([`System::with_quiet`]), counted once per state where they
    /// are, each checked with every step.
    pub quiet: usize,
    /// Real-time histories judged both by stateright's linearizability tester and as
    /// `--reduce por` keeps them (see [`crate::forgetting`]), each to the same verdict.
    pub histories_judged: usize,
    /// States with operations clients finished, where the model declares no step reads
    /// them ([`Node::history_unread`]), each checked with every step taken out and not.
    pub settled: usize,
}

/// Checks, over every state reachable within `max_states` (unreduced), the declarations
/// `--reduce por` relies on: when every actor declares [`Node::replies_once`], every
/// message sent to a client is the one reply to one of its unanswered attempts; for
/// every `always`/`sometimes` property, client steps never change a check declared
/// [`ClientSteps::Invisible`], and no step undoes a violation (for `sometimes`: an
/// example) of a check declared [`ClientSteps::Stable`]; every server declared
/// stateless ([`System::with_stateless`]) keeps its first state, sets no timer, makes no
/// random choice and saves nothing, and its steps (deliveries to it, losses of messages
/// to it, its crashes and restarts) change no property's check; and no crash that only
/// delays, and no restart that gives an actor back the state it had, changes a check;
/// every message declared ignored for good ([`Node::ignores_for_good`]) changes nothing
/// when delivered and is still ignored after every step, and no property's check changes
/// when such messages are forgotten or one loss fewer is counted, nor, at rest, an
/// `eventually` check when a message in flight is taken out; and where the model reads
/// replies only in part ([`Node::reply_as_read`]), no check changes and every step leads
/// to the same state when replies are kept as read; and every real-time history gets the
/// same linearizability verdict from stateright's tester and kept as `por` keeps it; and
/// where the model declares that no step reads the operations clients finished
/// ([`Node::history_unread`]), taking them out changes no step, no persistent set, no
/// state a step leads to (taken out too) and no check of a property declared to read only
/// the servers.
/// Returns the first breach, told with the step that breaks it.
pub fn audit<A: Node>(sys: &System<A>, max_states: usize) -> Result<Audit, String> {
    let (mut steps, mut sets, mut ignored, mut replies_kept) = (0, 0, 0, 0);
    let (mut histories_judged, mut frozen, mut without_state, mut absorbed) = (0, 0, 0, 0);
    let (mut quiet, mut settled) = (0, 0);
    let start = sys.init_states().into_iter().next();
    let mut set = Vec::new();
    let states = crate::exhaustive::walk(sys, max_states, |state, actions, nexts| {
        if let Some(breach) = sys.stateless_breach(state) {
            return Err(breach);
        }
        if let Some(breach) = sys.sink_breach(state, actions) {
            return Err(format!("at [{state:?}]: {breach}"));
        }
        if let Some(breach) = sys.frozen_breach(state, actions, nexts, &mut frozen) {
            return Err(format!("at [{state:?}]: {breach}"));
        }
        if let Some(start) = &start {
            if let Some(breach) =
                sys.without_state_breach(state, actions, start, &mut without_state)
            {
                return Err(format!("at [{state:?}]: {breach}"));
            }
        }
        if let Some(breach) = sys.absorbed_breach(state, actions, nexts, &mut absorbed) {
            return Err(format!("at [{state:?}]: {breach}"));
        }
        if let Some(breach) = sys.quiet_breach(state, actions, nexts, &mut quiet) {
            return Err(format!("at [{state:?}]: {breach}"));
        }
        if let Some(breach) = sys.ignored_breach(state, actions, nexts, &mut ignored) {
            return Err(format!("at [{state:?}]: {breach}"));
        }
        let mut blurred = false;
        if let Some(breach) = sys.reply_breach(state, actions, nexts, &mut blurred) {
            return Err(format!("at [{state:?}]: {breach}"));
        }
        replies_kept += usize::from(blurred);
        let mut taken = false;
        if let Some(breach) = sys.settled_breach(state, actions, nexts, &mut taken) {
            return Err(format!("at [{state:?}]: {breach}"));
        }
        settled += usize::from(taken);
        if let Some(history) = &state.real_time {
            // Searches of properties that do not read the order of client steps forget it.
            let mut without = state.clone();
            without.real_time = None;
            if let Some(p) = sys.properties.iter().find(|p| {
                p.client_steps != ClientSteps::Order
                    && (p.check)(sys, state) != (p.check)(sys, &without)
            }) {
                return Err(format!(
                    "at [{state:?}]: {} does not declare that it reads the order of client steps, but its check changes when the real-time history is taken out",
                    p.name
                ));
            }
            histories_judged += 1;
            let (tester, judged) = (history.is_consistent(), history.consistent_as_judged());
            if tester != judged {
                return Err(format!(
                    "at [{state:?}]: stateright's tester finds the history linearizable: {tester}, kept as judged: {judged}"
                ));
            }
        }
        // The sets named with client steps and without (while a property that sees them
        // is undecided), each once; only a sink's set may have its step absorbed.
        let mut named: Vec<Vec<usize>> = Vec::new();
        for client_steps in [true, false] {
            set.clear();
            sys.smallest_persistent_set(state, actions, client_steps, &mut set);
            if !set.is_empty() && !named.contains(&set) {
                named.push(set.clone());
            }
        }
        for set in &named {
            sets += 1;
            let sink_set = set.iter().any(|&k| sys.sink_step(&actions[k]));
            if let Some(breach) = sys.stubborn_breach(state, actions, nexts, set, sink_set) {
                return Err(format!("at [{state:?}]: {breach}"));
            }
        }
        let frozen_now = sys.frozen_servers(state);
        let checks: Vec<bool> = sys
            .properties
            .iter()
            .map(|p| (p.check)(sys, state))
            .collect();
        for (action, next) in actions.iter().zip(nexts) {
            let Some(next) = next else { continue };
            steps += 1;
            let step = || sys.format_action(action);
            // Losses last: a loss changes only what is in flight and the loss count, which
            // no check may read.
            if let ActorModelAction::Drop(_) = action {
                let changed = sys
                    .properties
                    .iter()
                    .zip(&checks)
                    .find(|(p, &before)| (p.check)(sys, next) != before);
                if let Some((p, _)) = changed {
                    return Err(format!(
                        "at [{state:?}]: {}'s check changes by '{}': a check may not read the messages in flight or the losses counted (losses wait, see crate::reduction)",
                        p.name,
                        step()
                    ));
                }
            }
            if sys.replies_once() {
                if let Some(breach) = sys.reply_contract_breach(state, next) {
                    return Err(format!("reply contract broken by '{}': {breach}", step()));
                }
            }
            // Steps no property may see: a stateless server's, a delivery to a sink or a
            // loss of a message to one, a crash that only delays, a restart that gives an
            // actor back the state it had.
            let to_sink = match action {
                ActorModelAction::Deliver { dst, .. } => sys.sinks.get(usize::from(*dst)),
                ActorModelAction::Drop(env) => sys.sinks.get(usize::from(env.dst)),
                _ => None,
            };
            let unseen = to_sink == Some(&true)
                || sys.is_stateless(usize::from(actor_of(action)))
                || frozen_now.get(usize::from(actor_of(action))) == Some(&true)
                || matches!(action, ActorModelAction::Deliver { dst, msg, .. }
                    if sys.handled_without_state(usize::from(*dst), msg))
                || sys.crash_only_delays(state, action)
                || matches!(action, ActorModelAction::Recover(id)
                    if next.net.actor_states[usize::from(*id)] == state.net.actor_states[usize::from(*id)]);
            for (i, keeps) in sys.stateless.iter().enumerate() {
                if *keeps && next.net.actor_states[i] != state.net.actor_states[i] {
                    return Err(format!(
                        "{} is declared stateless, but '{}' changes its state",
                        sys.names[i],
                        step()
                    ));
                }
            }
            for (p, &before) in sys.properties.iter().zip(&checks) {
                if p.kind == Kind::Eventually {
                    continue;
                }
                let after = (p.check)(sys, next);
                if unseen && before != after {
                    return Err(format!(
                        "'{}' (a stateless or frozen server's step, a sink's, or a crash or restart that changes nothing) turns the check of {} from {before} to {after}",
                        step(),
                        p.name
                    ));
                }
                let bad = |v: bool| (p.kind == Kind::Always) != v;
                let broken = match p.client_steps {
                    ClientSteps::Invisible => sys.is_client_step(action) && before != after,
                    ClientSteps::Stable => bad(before) && !bad(after),
                    ClientSteps::Order => {
                        (!sys.is_client_step(action) && before != after)
                            || (bad(before) && !bad(after))
                    }
                    ClientSteps::Visible => false,
                };
                if broken {
                    return Err(format!(
                        "{} is declared {:?} to client steps, but '{}' turns its check from {before} to {after}",
                        p.name,
                        p.client_steps,
                        step()
                    ));
                }
            }
        }
        Ok(())
    })?;
    Ok(Audit {
        states,
        steps,
        sets,
        ignored,
        replies_kept,
        frozen,
        without_state,
        absorbed,
        quiet,
        histories_judged,
        settled,
    })
}
