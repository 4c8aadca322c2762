//! Compact states for the exhaustive engine's frontier.
//!
//! The breadth-first search holds a whole level of states waiting to be expanded. A
//! stateright actor-model state keeps every per-actor collection in its own heap
//! allocation (timers and random choices as hash sets and maps, one per actor, even
//! empty), which costs about 2 KB a state at the benchmark bounds. [`PackedState`] keeps
//! the same content in a few boxed slices: actor states shared with the state it came
//! from (`Arc`), the network as a slice of (message, copies), timers as one bit set per
//! actor. Packing and unpacking are exact: `unpack(pack(s)) == s`.

use crate::system::{timer_bits, Msg, Node, RealTime, SysState, Timer};
use stateright::actor::{ActorModelState, Envelope, Network, RandomChoices, Timers};
use std::sync::Arc;

/// A message in flight and how many copies of it.
type Copies<A> = (Envelope<Msg<<A as Node>::Peer>>, usize);

/// The network of a packed state.
enum PackedNetwork<A: Node> {
    /// The unordered non-duplicating network: each distinct message and its copies.
    Multiset(Box<[Copies<A>]>),
    /// Other networks, kept as they are.
    Other(Network<Msg<A::Peer>>),
}

/// A [`SysState`] in compact form (see the module documentation).
pub struct PackedState<A: Node> {
    actors: Box<[Arc<A::State>]>,
    network: PackedNetwork<A>,
    timers: Box<[u8]>,
    /// `None` when every actor's random choices are empty (then: how many actors have).
    random: Result<Box<[RandomChoices<A::Random>]>, usize>,
    crashed: Box<[bool]>,
    storages: Box<[Option<A::Storage>]>,
    lost: u8,
    real_time: Option<Arc<RealTime>>,
}

const TIMERS: [Timer; 3] = [Timer::Request, Timer::Backend, Timer::Background];

/// Packs a state for the frontier.
pub fn pack<A: Node>(state: SysState<A>) -> PackedState<A> {
    let SysState {
        net,
        lost,
        real_time,
    } = state;
    let network = match net.network {
        Network::UnorderedNonDuplicating(multiset) => PackedNetwork::Multiset(
            multiset
                .iter()
                .map(|(env, copies)| (env.clone(), *copies))
                .collect(),
        ),
        other => PackedNetwork::Other(other),
    };
    let random = if net.random_choices.iter().all(|c| c.map.is_empty()) {
        Err(net.random_choices.len())
    } else {
        Ok(net.random_choices.into_boxed_slice())
    };
    PackedState {
        actors: net.actor_states.into_boxed_slice(),
        network,
        timers: net.timers_set.iter().map(timer_bits).collect(),
        random,
        crashed: net.crashed.into_boxed_slice(),
        storages: net.actor_storages.into_boxed_slice(),
        lost,
        real_time,
    }
}

/// Unpacks a state packed by [`pack`].
pub fn unpack<A: Node>(packed: &PackedState<A>) -> SysState<A> {
    let network = match &packed.network {
        PackedNetwork::Multiset(entries) => {
            Network::UnorderedNonDuplicating(entries.iter().cloned().collect())
        }
        PackedNetwork::Other(n) => n.clone(),
    };
    let timers_set = packed
        .timers
        .iter()
        .map(|bits| {
            let mut timers = Timers::new();
            for t in TIMERS {
                if bits & (1 << (t as u8)) != 0 {
                    timers.set(t);
                }
            }
            timers
        })
        .collect();
    let random_choices = match &packed.random {
        Ok(choices) => choices.to_vec(),
        Err(n) => vec![RandomChoices::default(); *n],
    };
    SysState {
        net: ActorModelState {
            actor_states: packed.actors.to_vec(),
            network,
            timers_set,
            random_choices,
            crashed: packed.crashed.to_vec(),
            history: (),
            actor_storages: packed.storages.to_vec(),
        },
        lost: packed.lost,
        real_time: packed.real_time.clone(),
    }
}
