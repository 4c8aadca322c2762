//! Forgetting messages nobody will read (`--reduce por`): a message in flight that its
//! recipient ignores for good ([`Node::ignores_for_good`]: a replica's copy of a version
//! it already holds, a reply to an attempt the client gave up on) is taken out of the
//! state, so that states that differ only by such messages are searched once.
//!
//! # What may happen to such a message
//!
//! Its delivery changes nothing, so it is no step (see `System::handle`). Its loss only
//! spends loss budget: it is *spontaneous* ([`crate::trace::Narrate::spontaneous`]), not
//! work left to do, so a state whose other steps are all crashes has come to rest, with
//! or without the loss taken, and the searches, reduced or not, judge `eventually`
//! properties there.
//!
//! # Why forgetting changes no verdict and no shortest path
//!
//! First, losses of such messages may be left out. A run that takes one has a twin
//! without it, no longer: each later step is still a step (a later loss finds more
//! budget, not less; the message stays undelivered), to states that differ only by the
//! message and by one loss fewer counted, and no property's check reads either (the
//! audit compares every check with the message forgotten and with a loss fewer counted).
//! Where the run ends at rest, its twin ends where only steps the first run could not
//! take may be left: losses the budget now allows, each of a message whose delivery
//! changes nothing at the end (or the end would not have been at rest). Taking them, one
//! for each loss left out, comes to rest in no more steps, with the same checks: at
//! rest, no `eventually` property's check changes when a message in flight is taken
//! out (audited). So the shortest path to every violation takes no such loss.
//!
//! Without those losses nothing at all happens to the message. Write `f(s)` for the
//! state `s` with every such message taken out. Every step of `s` but those losses is a
//! step of `f(s)`, and the other way round, and it leads to states `t` and `t'` with
//! `f(t) = f(t')`: the same actors change the same way, the same messages are sent, and
//! what `s` held beyond `f(s)` is still ignored for good in `t` (the recipient's later
//! states ignore it too). So `s -> f(s)` is a bisimulation that keeps depths and states
//! at rest. No property's check reads the forgotten messages, so every verdict and every
//! shortest path length is that of the full search. A path found is replayed on full
//! states (the messages are still there, undelivered), so traces tell what really
//! happened.
//!
//! Only on the unordered, non-duplicating network: in a per-channel queue a message holds
//! back those behind it, and a duplicating network keeps every message anyway.
//!
//! # Replies kept as read
//!
//! A model may also declare what of a reply nothing reads ([`Node::reply_as_read`]:
//! master-master's clients only move on, and no property looks at the balance an
//! approval carries). Write `g(s)` for `s` with every reply in flight and in every client
//! log kept as read. Each step of `s` has a step of `g(s)`, the same but for its message
//! kept as read, and the two lead to states `t` and `t'` with `g(t) = g(t')`: a client
//! reacts to both replies alike, and no server reads a reply. Every step of `g(s)` is such
//! a counterpart, and every property's check is the same on `s` and `g(s)`. So `g` is a
//! bisimulation that keeps depths, like forgetting, and the search keeps states as `g`
//! gives them (a reply sent is kept as read before it is hashed, see
//! [`crate::trace::Narrate::successor_fingerprints`]); paths are replayed on the full states. The audit
//! checks the two claims on every state of the unreduced space that holds a reply read in
//! part, with every step.
//!
//! # Histories kept as judged
//!
//! Where a model declares `linearizable`, a state holds the real-time history of register
//! operations, and two runs that order one client's reply before or after another's
//! request differ by it, even where no verdict ever will. `--reduce por` keeps the
//! history as `linearizable` will ever judge it (`RealTime::keep_as_judged` in `src/real_time.rs`,
//! Lowe's just-in-time linearization): the attempts in flight, and every way the
//! operations so far could have taken effect in one order respecting real time (the
//! register's value, and which attempts in flight took effect, returning what). An
//! event's ways are a function of the ways before it, and the history is linearizable
//! exactly while one is left; so histories with the same attempts in flight and the same
//! ways get the same verdict after any events, and every history no order explains is
//! one. Write `h(s)` for `s` with its history kept so: each step of `s` is a step of
//! `h(s)` (the history never changes what an actor does) to a state `t'` with
//! `h(t) = h(t')`, and every check is the same on `s` and `h(s)`, so `h` is a
//! bisimulation that keeps depths, like forgetting. Paths are replayed on full states, so
//! traces and their "no order explains" lines are stateright's tester's. The audit
//! judges every history of the unreduced space both ways and compares the verdicts, and
//! a property test in `src/real_time.rs` does so on random histories, invalid ones
//! included.
//!
//! # Operations clients finished
//!
//! A client's log keeps every attempt and its outcome, and the real-time history keeps
//! the order of them all; where the model declares that no step reads the attempts that
//! were answered ([`Node::history_unread`]: a client reads only what it still waits
//! for), they are there for the properties alone. (Attempts that timed out stay: whether
//! their replies may still come decides which client steps the reduction may put first.) Once every property still undecided
//! reads only the servers and the messages between them
//! ([`crate::property::ClientSteps::Invisible`]: `always` and `sometimes` ones found, the
//! rest such), `--reduce por` takes them out of every state found from the next level
//! on: write `e(s)` for `s` with the answered attempts taken out of every client
//! log and without the real-time history. Each step of `s` is a step of `e(s)` and the
//! other way round (the same actions, as no step reads what was taken out), to states
//! `t` and `t'` with `e(t) = e(t')`, and every undecided property's check is the same on
//! `s` and `e(s)`, as is whether a state is at rest. So `e` is a bisimulation that keeps
//! depths, like forgetting, and the search from that level on is the search of the
//! states as `e` gives them, started from the level's states: it finds every state at
//! rest and every violation left at its distance from the start. States the search met
//! before the switch may be met again (their keys change), which costs time, never a
//! verdict. Paths are replayed on full states, each key worked out the way it was at its
//! depth. The audit checks, on every state of the unreduced space, that `e` gives the
//! same steps, to states that `e` makes equal (what nobody will read forgotten too), the
//! same persistent sets and losses that are no work, and the same checks of the
//! properties declared to read only the servers.
//!
//! [`crate::reduction::audit`] checks the declarations over whole unreduced state spaces:
//! that delivering a message declared ignored changes nothing, that its recipient still
//! ignores it after every step, that every property's check is the same without the
//! messages forgotten and with a loss fewer counted, and that at rest no `eventually`
//! check changes when a message in flight is taken out.

use crate::history::{Event, Outcome};
use crate::system::{Msg, Node, SysState, System};
use stateright::actor::{Envelope, Id, Network};
use std::sync::Arc;

/// `msg` as the search keeps it ([`Node::reply_as_read`]): `Some` when that differs.
pub(crate) fn msg_as_read<A: Node>(msg: &Msg<A::Peer>) -> Option<Msg<A::Peer>> {
    match msg {
        Msg::Reply { id, reply } => {
            let kept = A::reply_as_read(*reply);
            (kept != *reply).then_some(Msg::Reply {
                id: *id,
                reply: kept,
            })
        }
        _ => None,
    }
}

/// Whether `event` is an attempt that was answered: an operation its client finished (see
/// [`Node::history_unread`]).
pub(crate) fn settled(event: &Event) -> bool {
    matches!(event.outcome, Outcome::Replied(_))
}

impl<A: Node> System<A> {
    /// Takes out of `state` the answered attempts of client logs and the
    /// real-time history, where the model declares that no step reads them
    /// ([`Node::history_unread`]); true if it took something.
    pub(crate) fn forget_settled_operations(&self, state: &mut SysState<A>) -> bool {
        if !A::history_unread() {
            return false;
        }
        let mut changed = state.real_time.take().is_some();
        for slot in state.net.actor_states.iter_mut() {
            if A::client_state(slot).is_none_or(|c| !c.log.iter().any(settled)) {
                continue;
            }
            let mut st = (**slot).clone();
            if let Some(c) = A::client_state_mut(&mut st) {
                c.log.retain(|e| !settled(e));
                *slot = Arc::new(st);
                changed = true;
            }
        }
        changed
    }

    /// Whether `dst`, whose state is `dst_state`, ignores the message `msg` from `src` for
    /// good ([`Node::ignores_for_good`]).
    pub(crate) fn forgettable(
        &self,
        dst_state: &A::State,
        src: Id,
        dst: Id,
        msg: &Msg<A::Peer>,
    ) -> bool {
        self.actors
            .actors
            .get(usize::from(dst))
            .is_some_and(|a| a.ignores_for_good(dst_state, src, msg))
    }

    /// Whether `dst` ignores the message `msg` from `src` for good in `state`.
    pub(crate) fn ignored_for_good(
        &self,
        state: &SysState<A>,
        src: Id,
        dst: Id,
        msg: &Msg<A::Peer>,
    ) -> bool {
        (state.net.actor_states.get(usize::from(dst)))
            .is_some_and(|d| self.forgettable(d, src, dst, msg))
    }

    /// Takes out of `state` every message its recipient ignores for good, on the
    /// unordered, non-duplicating network; true if it took one.
    pub(crate) fn forget_ignored(&self, state: &mut SysState<A>) -> bool {
        let net = &mut state.net;
        let Network::UnorderedNonDuplicating(multiset) = &mut net.network else {
            return false;
        };
        let before = multiset.len();
        let states = &net.actor_states;
        multiset.retain(|env, _| {
            let Some(dst_state) = states.get(usize::from(env.dst)) else {
                return true;
            };
            !self.forgettable(dst_state, env.src, env.dst, &env.msg)
        });
        multiset.len() < before
    }

    /// Keeps every reply in `state` as the model reads it ([`Node::reply_as_read`]): those
    /// in flight, on the unordered, non-duplicating network, and those in client logs;
    /// true if one changed.
    pub(crate) fn keep_replies_as_read(&self, state: &mut SysState<A>) -> bool {
        let net = &mut state.net;
        let Network::UnorderedNonDuplicating(multiset) = &mut net.network else {
            return false;
        };
        let mut changed = false;
        let blurred: Vec<_> = multiset
            .iter()
            .filter_map(|(env, &copies)| {
                msg_as_read::<A>(&env.msg).map(|kept| (env.clone(), kept, copies))
            })
            .collect();
        for (env, kept, copies) in blurred {
            multiset.remove(&env);
            let kept = Envelope {
                src: env.src,
                dst: env.dst,
                msg: kept,
            };
            *multiset.entry(kept).or_insert(0) += copies;
            changed = true;
        }
        let read = |e: &crate::history::Event| match e.outcome {
            Outcome::Replied(r) => A::reply_as_read(r) == r,
            _ => true,
        };
        for slot in net.actor_states.iter_mut() {
            if A::client_state(slot).is_none_or(|c| c.log.iter().all(read)) {
                continue;
            }
            let mut st = (**slot).clone();
            if let Some(c) = A::client_state_mut(&mut st) {
                for e in &mut c.log {
                    if let Outcome::Replied(r) = &mut e.outcome {
                        *r = A::reply_as_read(*r);
                    }
                }
                *slot = Arc::new(st);
                changed = true;
            }
        }
        changed
    }

    /// The sum of the parts ([`SysState::envelope_part`]) of the messages in `state`'s
    /// network to actor `changed.0` that it ignores for good once it takes the state
    /// `changed.1`, less one copy of `gone` (the message the step delivers, already taken
    /// out). `state` must hold no message its recipient ignores for good.
    pub(crate) fn newly_forgotten_part(
        &self,
        state: &SysState<A>,
        changed: (usize, &A::State),
        gone: Option<Envelope<&Msg<A::Peer>>>,
    ) -> u64 {
        let Network::UnorderedNonDuplicating(multiset) = &state.net.network else {
            return 0;
        };
        let (i, after) = changed;
        let mut sum = 0u64;
        for (env, &copies) in multiset.iter() {
            if usize::from(env.dst) != i || !self.forgettable(after, env.src, env.dst, &env.msg) {
                continue;
            }
            let this = Envelope {
                src: env.src,
                dst: env.dst,
                msg: &env.msg,
            };
            let taken = usize::from(gone == Some(this));
            let part = SysState::<A>::envelope_part(this);
            sum = sum.wrapping_add(part.wrapping_mul((copies - taken) as u64));
        }
        sum
    }
}
