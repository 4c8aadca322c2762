//! Forgetting messages nobody will read (`--reduce por`): a message in flight that its
//! recipient ignores for good ([`Node::ignores_for_good`]: a replica's copy of a version
//! it already holds, a reply to an attempt the client gave up on) and that the network can
//! no longer lose is taken out of the state. States that differ only by such messages are
//! then searched once.
//!
//! # Why it changes no verdict and no shortest path
//!
//! Write `f(s)` for the state `s` with every such message taken out. Nothing can happen to
//! a forgotten message `m` in `s`: its delivery changes nothing (so it is no step, see
//! [`System::handle`]) and the network cannot lose it (no loss budget is left, or the
//! model says it is never lost; the budget only shrinks). Every other step of `s` is a
//! step of `f(s)`, and the other way round, and it leads to states `t` and `t'` with
//! `f(t) = f(t')`: the same actors change the same way, the same messages are sent, and
//! what `s` held beyond `f(s)` is still ignored for good in `t` (the recipient's later
//! states ignore it too) and still cannot be lost. So `s -> f(s)` is a bisimulation that
//! keeps depths: the reduced search reaches, at each depth, the images of the states the
//! full search reaches there, and a state at rest is at rest in both. No property's check
//! reads the forgotten messages (the audit compares every check on `s` and `f(s)`), so
//! every verdict and every shortest path length is that of the full search. A path found
//! is replayed on full states (the messages are still there, undelivered), so traces tell
//! what really happened.
//!
//! Messages the network may still lose are kept: losing one spends budget another loss
//! might have needed, and a state where only such a loss is left is not at rest.
//!
//! Only on the unordered, non-duplicating network: in a per-channel queue a message holds
//! back those behind it, and a duplicating network keeps every message anyway.
//!
//! [`crate::reduction::audit`] checks the declarations over whole unreduced state spaces:
//! that delivering a message declared ignored changes nothing, that its recipient still
//! ignores it after every step, and that every property's check is the same without the
//! messages forgotten.

use crate::system::{Msg, Node, SysState, System};
use stateright::actor::{Envelope, Id, Network};

impl<A: Node> System<A> {
    /// Whether the message `msg` from `src` to `dst`, whose state is `dst_state`, may be
    /// forgotten where `lost` messages were lost so far: the network cannot lose it any
    /// more and `dst` ignores it for good.
    pub(crate) fn forgettable(
        &self,
        lost: u8,
        dst_state: &A::State,
        src: Id,
        dst: Id,
        msg: &Msg<A::Peer>,
    ) -> bool {
        let may_lose = lost < self.faults.loss && A::lossy(msg);
        !may_lose
            && self
                .actors
                .actors
                .get(usize::from(dst))
                .is_some_and(|a| a.ignores_for_good(dst_state, src, msg))
    }

    /// Takes out of `state` every message it may forget ([`System::forgettable`]); true if
    /// it took one.
    pub(crate) fn forget_ignored(&self, state: &mut SysState<A>) -> bool {
        let SysState { net, lost, .. } = state;
        let Network::UnorderedNonDuplicating(multiset) = &mut net.network else {
            return false;
        };
        let before = multiset.len();
        let states = &net.actor_states;
        multiset.retain(|env, _| {
            let Some(dst_state) = states.get(usize::from(env.dst)) else {
                return true;
            };
            !self.forgettable(*lost, dst_state, env.src, env.dst, &env.msg)
        });
        multiset.len() < before
    }

    /// The sum of the parts ([`SysState::envelope_part`]) of the messages in `state`'s
    /// network that become forgettable when actor `changed` takes the state `after`
    /// (`None`: no actor changes) and `lost` messages are lost, less one copy of `gone`
    /// (the message the step delivers or loses, already taken out). `state` must hold
    /// nothing forgettable itself.
    pub(crate) fn newly_forgotten_part(
        &self,
        state: &SysState<A>,
        changed: Option<(usize, &A::State)>,
        lost: u8,
        gone: Option<Envelope<&Msg<A::Peer>>>,
    ) -> u64 {
        let Network::UnorderedNonDuplicating(multiset) = &state.net.network else {
            return 0;
        };
        let budget_spent = lost != state.lost;
        let mut sum = 0u64;
        for (env, &copies) in multiset.iter() {
            let dst = usize::from(env.dst);
            let dst_state = match changed {
                Some((i, after)) if i == dst => after,
                // Nothing else changed for this message: it was not forgettable before.
                _ if !budget_spent => continue,
                _ => match state.net.actor_states.get(dst) {
                    Some(s) => &**s,
                    None => continue,
                },
            };
            if !self.forgettable(lost, dst_state, env.src, env.dst, &env.msg) {
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
