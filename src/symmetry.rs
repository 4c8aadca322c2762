//! Symmetry reduction (`--reduce symmetry`): states that differ only by which of several
//! interchangeable servers is which are searched once.
//!
//! A model declares a group of actors as interchangeable ([`System::with_symmetry`]):
//! servers with the same code, which clients treat alike (a load balancer that may pick
//! any of its servers, a coordinator that writes to every replica and reads from any R).
//! Renaming them by any permutation then maps every run to a run, and every property's
//! check to itself. The exhaustive engine keys its visited set by the fingerprint of
//! each state renamed so that its interchangeable actors come in order of what they hold
//! and what is in flight to and from them ([`System::orbit_fingerprint`]), so one state
//! stands for its whole orbit. Distances from the start are preserved, so the
//! first path found is still a shortest one.
//!
//! The model says how a renaming acts on what its actors keep and send
//! ([`Node::renamed_state`] and its siblings: ids, per-replica vectors and bit sets);
//! [`audit`] checks, over a whole unreduced state space, that every renaming maps each
//! state's steps onto the renamed state's steps and keeps every property's check, and
//! that the renamed state gets the state's orbit key (what sorts the servers, including
//! what other actors say about them, [`Node::mentions`], follows the renaming).

use crate::system::{state_hash, timer_bits, Memo};
use crate::system::{Msg, Node, SysState, System};
use crate::trace::Narrate;
use smallvec::SmallVec;
use stateright::actor::{Envelope, Id, Network, RandomChoices};
use stateright::util::{HashableHashMap, HashableHashSet};
use stateright::Model;
use std::sync::Arc;

/// Actors (and group members) a renaming keeps inline, without a heap allocation: the
/// catalog's systems have fewer (a larger system spills to the heap).
const INLINE: usize = 16;

/// Most actors a symmetry group may hold (5! = 120 renamings per state).
pub const MAX_GROUP: usize = 5;

/// Whether taking a group's members in `order` moves any of them (else the renaming
/// [`Renaming::placing`] builds from it leaves every actor where it is).
fn moves_any(order: &[usize]) -> bool {
    order.iter().enumerate().any(|(slot, &k)| slot != k)
}

/// A permutation of a system's actors that moves interchangeable ones only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Renaming {
    to: SmallVec<[usize; INLINE]>,
}

impl Renaming {
    /// The renaming that puts the members of `group`, taken in `order` (indices into
    /// `group`), at the group's places in turn, among `actors` actors (the others stay
    /// where they are).
    fn placing(group: &[usize], order: &[usize], actors: usize) -> Self {
        let mut to: SmallVec<[usize; INLINE]> = (0..actors).collect();
        for (slot, &k) in order.iter().enumerate() {
            to[group[k]] = group[slot];
        }
        Renaming { to }
    }

    /// The actor that actor `i` becomes.
    pub fn index(&self, i: usize) -> usize {
        self.to.get(i).copied().unwrap_or(i)
    }

    /// The id that `id` becomes.
    pub fn id(&self, id: Id) -> Id {
        Id::from(self.index(usize::from(id)))
    }

    /// The actors this renaming moves, in words ("replica1 -> replica2, replica2 ->
    /// replica1"), given every actor's name.
    pub fn describe(&self, names: &[String]) -> String {
        let name = |i: usize| names.get(i).map_or("?", String::as_str);
        self.to
            .iter()
            .enumerate()
            .filter(|(from, to)| from != *to)
            .map(|(from, &to)| format!("{} -> {}", name(from), name(to)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A bit set over actors `first`, `first + 1`, ... (bit k for actor `first + k`),
    /// renamed.
    pub fn mask(&self, mask: u8, first: usize) -> u8 {
        (0..8usize)
            .filter(|k| mask & (1 << k) != 0)
            .filter_map(|k| self.index(first + k).checked_sub(first))
            .filter(|&to| to < 8)
            .fold(0, |out, to| out | 1 << to)
    }

    /// A vector with one item per actor `first`, `first + 1`, ..., renamed: the item of
    /// actor `first + k` moves to the slot of the actor it becomes.
    pub fn reorder<T: Clone>(&self, items: &[T], first: usize) -> Vec<T> {
        let mut out = items.to_vec();
        for (k, item) in items.iter().enumerate() {
            let to = self.index(first + k).checked_sub(first);
            if let Some(slot) = to.and_then(|to| out.get_mut(to)) {
                *slot = item.clone();
            }
        }
        out
    }
}

/// The interchangeable actors of a system and every renaming of them but the identity.
#[derive(Clone, Debug)]
pub struct Symmetry {
    /// The interchangeable actors, by index.
    pub group: Vec<usize>,
    renamings: Vec<Renaming>,
}

impl Symmetry {
    /// Every permutation of `group` (at most [`MAX_GROUP`] actors) among `actors` actors.
    pub fn new(group: Vec<usize>, actors: usize) -> Self {
        assert!(
            group.len() <= MAX_GROUP,
            "a symmetry group of {} actors: at most {MAX_GROUP}",
            group.len()
        );
        use itertools::Itertools;
        let renamings = (0..group.len())
            .permutations(group.len())
            .filter(|order| moves_any(order))
            .map(|order| Renaming::placing(&group, &order, actors))
            .collect();
        Symmetry { group, renamings }
    }

    /// Every renaming but the identity.
    pub fn renamings(&self) -> &[Renaming] {
        &self.renamings
    }
}

impl<A: Node> System<A> {
    /// Declares the actors `group` interchangeable: `--reduce symmetry` then searches
    /// states up to renaming them. They must be servers (the real-time history names
    /// clients), at most [`MAX_GROUP`], and the model must rename its states
    /// ([`Node::renamed_state`] and siblings).
    pub fn with_symmetry(mut self, group: Vec<usize>) -> Self {
        assert!(
            group.iter().all(|&i| self
                .actors
                .actors
                .get(i)
                .is_some_and(|a| a.as_client().is_none())),
            "only servers may be declared interchangeable"
        );
        if group.len() >= 2 {
            self.symmetry = Some(Symmetry::new(group, self.actors.actors.len()));
        }
        self
    }

    /// A message renamed (client requests and replies name no server).
    fn renamed_msg<'m>(
        msg: &'m Msg<A::Peer>,
        r: &Renaming,
    ) -> Option<std::borrow::Cow<'m, Msg<A::Peer>>> {
        use std::borrow::Cow;
        match msg {
            Msg::Peer(p) => A::renamed_peer(p, r).map(|p| Cow::Owned(Msg::Peer(p))),
            other => Some(Cow::Borrowed(other)),
        }
    }

    fn renamed_envelope(
        env: &Envelope<Msg<A::Peer>>,
        r: &Renaming,
    ) -> Option<Envelope<Msg<A::Peer>>> {
        Some(Envelope {
            src: r.id(env.src),
            dst: r.id(env.dst),
            msg: Self::renamed_msg(&env.msg, r)?.into_owned(),
        })
    }

    /// An actor's storage slot (nothing saved yet, or what it saved) renamed.
    fn renamed_storage_slot(slot: &Option<A::Storage>, r: &Renaming) -> Option<Option<A::Storage>> {
        match slot {
            Some(s) => Some(Some(A::renamed_storage(s, r)?)),
            None => Some(None),
        }
    }

    /// An actor's pending random choices renamed, borrowing `choices` where the renaming
    /// changes none of them (reads offered every set of R replicas, say).
    fn renamed_random<'c>(
        choices: &'c RandomChoices<A::Random>,
        r: &Renaming,
    ) -> Option<std::borrow::Cow<'c, RandomChoices<A::Random>>> {
        use std::borrow::Cow;
        let mut renamed: Option<RandomChoices<A::Random>> = None;
        for (key, offered) in choices.map.iter() {
            let new = A::renamed_choices(offered, r)?;
            if new != *offered {
                renamed
                    .get_or_insert_with(|| choices.clone())
                    .map
                    .insert(key.clone(), new);
            }
        }
        Some(renamed.map_or(Cow::Borrowed(choices), Cow::Owned))
    }

    fn renamed_network(
        network: &Network<Msg<A::Peer>>,
        r: &Renaming,
    ) -> Option<Network<Msg<A::Peer>>> {
        Some(match network {
            Network::UnorderedNonDuplicating(multiset) => {
                let mut out = HashableHashMap::with_capacity(multiset.len());
                for (env, copies) in multiset.iter() {
                    out.insert(Self::renamed_envelope(env, r)?, *copies);
                }
                Network::UnorderedNonDuplicating(out)
            }
            Network::UnorderedDuplicating(set, last) => {
                let mut out = HashableHashSet::with_capacity(set.len());
                for env in set.iter() {
                    out.insert(Self::renamed_envelope(env, r)?);
                }
                let last = match last {
                    Some(env) => Some(Self::renamed_envelope(env, r)?),
                    None => None,
                };
                Network::UnorderedDuplicating(out, last)
            }
            Network::Ordered(channels) => {
                let mut out = std::collections::BTreeMap::new();
                for (&(src, dst), messages) in channels {
                    let renamed: Option<std::collections::VecDeque<_>> = messages
                        .iter()
                        .map(|m| Some(Self::renamed_msg(m, r)?.into_owned()))
                        .collect();
                    out.insert((r.id(src), r.id(dst)), renamed?);
                }
                Network::Ordered(out)
            }
        })
    }

    /// `state` with its actors renamed by `r`, or `None` if the model does not rename.
    pub fn renamed(&self, state: &SysState<A>, r: &Renaming) -> Option<SysState<A>> {
        let net = &state.net;
        let mut out = net.clone();
        for i in 0..net.actor_states.len() {
            let j = r.index(i);
            out.actor_states[j] = Arc::new(A::renamed_state(&net.actor_states[i], r)?);
            if let (Some(t), Some(slot)) = (net.timers_set.get(i), out.timers_set.get_mut(j)) {
                *slot = t.clone();
            }
            if let (Some(c), Some(slot)) = (net.crashed.get(i), out.crashed.get_mut(j)) {
                *slot = *c;
            }
            if let (Some(s), Some(slot)) =
                (net.actor_storages.get(i), out.actor_storages.get_mut(j))
            {
                *slot = Self::renamed_storage_slot(s, r)?;
            }
            if let (Some(c), Some(slot)) =
                (net.random_choices.get(i), out.random_choices.get_mut(j))
            {
                *slot = Self::renamed_random(c, r)?.into_owned();
            }
        }
        out.network = Self::renamed_network(&net.network, r)?;
        Some(SysState {
            memo: Memo::of(&out.actor_states, None),
            net: out,
            lost: state.lost,
            real_time: state.real_time.clone(),
        })
    }

    /// The fingerprint `renamed(state, r)` would have, worked out without building it
    /// (the sum of its parts, as [`SysState::composed`]).
    fn renamed_fingerprint(&self, state: &SysState<A>, r: &Renaming) -> Option<u64> {
        let net = &state.net;
        let mut sum = state.rest_part();
        for (i, s) in net.actor_states.iter().enumerate() {
            let renamed = if A::renaming_keeps(s) {
                state.memo.state(&net.actor_states, i)
            } else {
                state_hash(&A::renamed_state(s, r)?)
            };
            let storage = match net.actor_storages.get(i) {
                Some(st) => Some(Self::renamed_storage_slot(st, r)?),
                None => None,
            };
            let random = match net.random_choices.get(i).filter(|c| !c.map.is_empty()) {
                Some(c) => Some(Self::renamed_random(c, r)?),
                None => None,
            };
            sum = sum.wrapping_add(SysState::<A>::actor_part_at(
                r.index(i),
                renamed,
                net.timers_set.get(i).map_or(0, timer_bits),
                net.crashed.get(i),
                storage.as_ref(),
                random.as_deref(),
            ));
        }
        let network = match &net.network {
            Network::UnorderedNonDuplicating(multiset) => {
                let mut part = 0u64;
                for (env, copies) in multiset.iter() {
                    let msg = Self::renamed_msg(&env.msg, r)?;
                    let e = SysState::<A>::envelope_part(Envelope {
                        src: r.id(env.src),
                        dst: r.id(env.dst),
                        msg: &*msg,
                    });
                    part = part.wrapping_add(e.wrapping_mul(*copies as u64));
                }
                part
            }
            other => SysState::<A>::network_part_of(&Self::renamed_network(other, r)?),
        };
        Some(crate::exhaustive::fingerprint(&sum.wrapping_add(network)))
    }

    /// The renaming that puts `state`'s interchangeable actors in order of what they hold
    /// and what is in flight to and from them ([`System::looks`]: a renaming does not
    /// change it), actors that look alike in their order by index. Actors that look
    /// alike in every respect the looks see are alike: renaming one as the other leaves
    /// the state as it is, so any order among them gives the same renamed state (the
    /// catalog's audit checks it, state by state: see [`audit`]; where a model broke it,
    /// keys would stay sound, each the fingerprint of the state renamed, but an orbit
    /// could be stored under more than one key). `None` where they are in order already
    /// (the renaming would move no actor).
    fn sorting_renaming(&self, symmetry: &Symmetry, state: &SysState<A>) -> Option<Renaming> {
        let looks = self.looks(symmetry, state);
        let group = &symmetry.group;
        let mut order: SmallVec<[usize; INLINE]> = (0..group.len()).collect();
        order.sort_by_key(|&k| (looks[k], k));
        moves_any(&order).then(|| Renaming::placing(group, &order, state.net.actor_states.len()))
    }

    /// What each interchangeable actor looks like in `state`, whatever its name: what it
    /// holds, what is in flight to and from it, what the other actors say about it (a
    /// renaming does not change it).
    fn looks(&self, symmetry: &Symmetry, state: &SysState<A>) -> SmallVec<[u64; INLINE]> {
        use std::hash::BuildHasher;
        let hasher = foldhash::fast::FixedState::with_seed(0x51_3e_77_0d);
        let net = &state.net;
        let group = &symmetry.group;
        let mut looks: SmallVec<[u64; INLINE]> = group
            .iter()
            .map(|&i| {
                hasher.hash_one((
                    state.memo.state(&net.actor_states, i),
                    net.timers_set.get(i).map_or(0, timer_bits),
                    net.crashed.get(i),
                    net.actor_storages.get(i),
                ))
            })
            .collect();
        // What the other actors say about them.
        for (i, s) in net.actor_states.iter().enumerate() {
            if group.contains(&i) {
                continue;
            }
            A::mentions(s, &mut |j, what| {
                if let Some(k) = group.iter().position(|&g| g == j) {
                    looks[k] = looks[k].wrapping_add(hasher.hash_one((2u8, i, what)));
                }
            });
        }
        // An end of a message as a renaming keeps it: the actor, unless interchangeable.
        let kept = |who: Id| {
            let who = usize::from(who);
            if group.contains(&who) {
                usize::MAX
            } else {
                who
            }
        };
        // A message, by its end at the actor and the actor at its other end, and what it
        // says about the actors it names ([`Node::peer_mentions`]).
        let mut note = |src: Id, dst: Id, msg: &Msg<A::Peer>, copies: u64| {
            for (end, who, other) in [(0u8, dst, src), (1u8, src, dst)] {
                if let Some(k) = group.iter().position(|&g| g == usize::from(who)) {
                    let h = hasher
                        .hash_one((end, kept(other), msg))
                        .wrapping_mul(copies);
                    looks[k] = looks[k].wrapping_add(h);
                }
            }
            if let Msg::Peer(p) = msg {
                A::peer_mentions(p, &mut |j, what| {
                    if let Some(k) = group.iter().position(|&g| g == j) {
                        let h = hasher.hash_one((3u8, kept(src), kept(dst), what));
                        looks[k] = looks[k].wrapping_add(h.wrapping_mul(copies));
                    }
                });
            }
        };
        match &net.network {
            Network::UnorderedNonDuplicating(multiset) => {
                for (env, copies) in multiset.iter() {
                    note(env.src, env.dst, &env.msg, *copies as u64);
                }
            }
            Network::UnorderedDuplicating(set, _) => {
                for env in set.iter() {
                    note(env.src, env.dst, &env.msg, 1);
                }
            }
            Network::Ordered(channels) => {
                for (&(src, dst), messages) in channels {
                    for (k, m) in messages.iter().enumerate() {
                        note(src, dst, m, k as u64 + 1);
                    }
                }
            }
        }
        looks
    }

    /// The key of `state`'s orbit: the fingerprint of `state` renamed so that its
    /// interchangeable actors are in order (`System::sorting_renaming`); `None` when the
    /// system declares no symmetry. It is the fingerprint of a state of the orbit it
    /// names, so equal keys mean states equal up to renaming (sound); the order makes
    /// the states of each orbit share one key (the reduction).
    pub fn orbit_fingerprint(&self, state: &SysState<A>) -> Option<u64> {
        self.orbit_fingerprint_knowing(state, None)
    }

    /// [`System::orbit_fingerprint`], given the state's own fingerprint where known.
    pub(crate) fn orbit_fingerprint_knowing(
        &self,
        state: &SysState<A>,
        own: Option<u64>,
    ) -> Option<u64> {
        let symmetry = self.symmetry.as_ref()?;
        let own = || own.unwrap_or_else(|| crate::exhaustive::fingerprint(state));
        // Where no actor moves, the state is its own renaming.
        self.sorting_renaming(symmetry, state)
            .and_then(|r| self.renamed_fingerprint(state, &r))
            .or_else(|| Some(own()))
    }
}

/// What [`audit`] looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Audit {
    /// Unique states visited.
    pub states: usize,
    /// Renamings checked (states times renamings).
    pub renamings: usize,
}

/// Checks, over every state reachable within `max_states` (unreduced), that the declared
/// symmetry is one: for every renaming, the model renames the state (and the fingerprint
/// the engine works out for it is the renamed state's), every property's
/// check gives the same answer on the renamed state, and the renamed state's steps lead
/// exactly to the renamed successors (as sets of fingerprints), and taking the answered
/// operations out (see [`crate::forgetting`]) commutes with renaming; and the start states
/// are closed under renaming. Returns the first breach, told with the state's actors' facts.
pub fn audit<A: Node>(sys: &System<A>, max_states: usize) -> Result<Audit, String> {
    let Some(symmetry) = sys.symmetry.clone() else {
        return Ok(Audit {
            states: 0,
            renamings: 0,
        });
    };
    use crate::exhaustive::fingerprint;
    let starts: std::collections::BTreeSet<u64> =
        sys.init_states().iter().map(fingerprint).collect();
    let mut renamings = 0;
    let mut actions = Vec::new();
    let states = crate::exhaustive::walk(sys, max_states, |state, _, nexts| {
        let orbit = sys.orbit_fingerprint(state);
        // The state with its answered operations taken out (see `crate::forgetting`), if
        // it held any.
        let mut settled = state.clone();
        let settled = sys
            .forget_settled_operations(&mut settled)
            .then_some(settled);
        for r in symmetry.renamings() {
            renamings += 1;
            let where_ = || {
                format!(
                    "renaming {} in the state [{}]",
                    r.describe(&sys.names),
                    sys.start(state).join("; ")
                )
            };
            let Some(renamed) = sys.renamed(state, r) else {
                return Err(format!("the model could not rename: {}", where_()));
            };
            // The engine works the renamed fingerprint out without building the state.
            if sys.renamed_fingerprint(state, r) != Some(fingerprint(&renamed)) {
                return Err(format!(
                    "the fingerprint worked out for the renamed state is not its own: {}",
                    where_()
                ));
            }
            for p in &sys.properties {
                if (p.check)(sys, state) != (p.check)(sys, &renamed) {
                    return Err(format!(
                        "{} does not keep its check under {}",
                        p.name,
                        where_()
                    ));
                }
            }
            let mut expected = std::collections::BTreeSet::new();
            for next in nexts.iter().flatten() {
                let Some(n) = sys.renamed(next, r) else {
                    return Err(format!(
                        "the model could not rename a successor: {}",
                        where_()
                    ));
                };
                expected.insert(fingerprint(&n));
            }
            actions.clear();
            sys.actions(&renamed, &mut actions);
            let got: std::collections::BTreeSet<u64> = actions
                .iter()
                .filter_map(|a| sys.next_state(&renamed, a.clone()))
                .map(|s| fingerprint(&s))
                .collect();
            if got != expected {
                return Err(format!(
                    "the renamed state's steps do not lead to the renamed successors ({} vs {}): {}",
                    got.len(),
                    expected.len(),
                    where_()
                ));
            }
            // Not needed for soundness (any renaming gives a sound key), but for the
            // reduction to be whole: what sorts the actors follows renaming, and actors
            // that look alike are alike (renaming one as the other changes nothing).
            if orbit != sys.orbit_fingerprint(&renamed) {
                return Err(format!(
                    "the renamed state gets another orbit key than the state (what sorts \
                     the interchangeable actors, see Node::mentions, does not follow the \
                     renaming, or actors that look alike are not alike): {}",
                    where_()
                ));
            }
            // `--reduce all` renames states with their answered operations taken out: the
            // same as taking them out of the renamed state.
            if let Some(settled) = &settled {
                let mut renamed_settled = renamed.clone();
                sys.forget_settled_operations(&mut renamed_settled);
                if sys.renamed(settled, r).as_ref() != Some(&renamed_settled) {
                    return Err(format!(
                        "taking the answered operations out and renaming do not commute: {}",
                        where_()
                    ));
                }
            }
            if starts.contains(&fingerprint(state)) && !starts.contains(&fingerprint(&renamed)) {
                return Err(format!(
                    "a renamed start state is not a start state: {}",
                    where_()
                ));
            }
        }
        Ok(())
    })?;
    Ok(Audit { states, renamings })
}
