//! Compact states for the exhaustive engine's frontier.
//!
//! The breadth-first search holds a whole level of states waiting to be expanded. A
//! stateright actor-model state keeps every per-actor collection in its own heap
//! allocation (timers and random choices as hash sets and maps, one per actor, even
//! empty), which costs about 2 KB a state at the benchmark bounds. A [`PackedState`] is
//! one slice of 32-bit words: each actor state and each message in flight is stored once
//! for the whole search in the system's [`Tables`] (and copied once into each thread's
//! copy of them) and named by its index there, timers
//! and crash flags take a byte per actor. What rarely occurs (random choices pending,
//! durable storage, networks other than the unordered non-duplicating one, a message with
//! more than 255 copies) is kept aside as it is. Packing and unpacking are exact:
//! `unpack(pack(s)) == s`.

use crate::system::{timer_bits, Memo, Msg, Node, RealTime, SysState, Timer};
use stateright::actor::{ActorModelState, Envelope, Network, RandomChoices, Timers};
use stateright::util::HashableHashMap;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use thread_local::ThreadLocal;

/// Values stored once and named by their index (append-only; lives as long as the system).
///
/// Every thread that packs or unpacks keeps a copy of the table (of every entry there was
/// when it last caught up) and reads its own: with two threads, the lock's word and the
/// shared values' reference counts, written by every lookup, would otherwise move from
/// core to core on every state. A thread takes the lock only to catch up with entries
/// other threads added, and to add new ones.
struct Table<T: Send> {
    shared: RwLock<TableInner<T>>,
    /// Each thread's copy of the first entries of `shared` (same indices), with contents
    /// of its own ([`Replica::replica`]).
    copies: ThreadLocal<RefCell<TableInner<T>>>,
}

struct TableInner<T> {
    values: Vec<T>,
    /// Index -> the value's hash (as the caller worked it out).
    hashes: Vec<u64>,
    /// Hash of a value -> index of the latest value with that hash.
    latest: HashMap<u64, u32>,
    /// Index -> the index of the value with the same hash stored before it (`u32::MAX`:
    /// none).
    earlier: Vec<u32>,
}

/// A copy of a value for another thread's table: one that shares no memory other threads
/// write to (an `Arc`'s reference count).
trait Replica {
    fn replica(&self) -> Self;
}

impl<S: Clone> Replica for Arc<S> {
    fn replica(&self) -> Self {
        Arc::new(S::clone(self))
    }
}

/// A clone: the catalog's messages hold no shared parts (a model's message that held an
/// `Arc` would share its count between threads, which costs time, not correctness).
impl<M: Clone> Replica for Envelope<M> {
    fn replica(&self) -> Self {
        self.clone()
    }
}

impl<T> Default for TableInner<T> {
    fn default() -> Self {
        TableInner {
            values: Vec::new(),
            hashes: Vec::new(),
            latest: HashMap::new(),
            earlier: Vec::new(),
        }
    }
}

impl<T: PartialEq> TableInner<T> {
    fn find(&self, hash: u64, value: &T) -> Option<u32> {
        let mut at = *self.latest.get(&hash)?;
        while at != u32::MAX {
            if self.values[at as usize] == *value {
                return Some(at);
            }
            at = self.earlier[at as usize];
        }
        None
    }

    /// Adds `value` at the end; its index.
    fn push(&mut self, value: T, hash: u64) -> u32 {
        let at = u32::try_from(self.values.len()).expect("under 2^32 values");
        let earlier = self.latest.insert(hash, at).unwrap_or(u32::MAX);
        self.values.push(value);
        self.hashes.push(hash);
        self.earlier.push(earlier);
        at
    }
}

impl<T: PartialEq + Clone + Replica + Send> Table<T> {
    fn new() -> Self {
        Table {
            shared: RwLock::new(TableInner::default()),
            copies: ThreadLocal::new(),
        }
    }

    /// Copies into `copy` the entries of `shared` it lacks (same indices, same chains).
    fn catch_up(copy: &mut TableInner<T>, shared: &TableInner<T>) {
        for i in copy.values.len()..shared.values.len() {
            copy.push(shared.values[i].replica(), shared.hashes[i]);
        }
    }

    /// The indices of `values`, each given with its hash (equal values must come with
    /// equal hashes), storing those not seen before: looked up in this thread's copy,
    /// then (for those not found) in the shared table under a read lock, and stored under
    /// a write lock only if something is new.
    fn intern<'v>(&self, values: impl Iterator<Item = (&'v T, u64)> + Clone, out: &mut Vec<u32>)
    where
        T: 'v,
    {
        let mut copy = self.copies.get_or_default().borrow_mut();
        let start = out.len();
        let mut missing = false;
        for (v, hash) in values.clone() {
            let found = copy.find(hash, v);
            missing |= found.is_none();
            out.push(found.unwrap_or(u32::MAX));
        }
        if !missing {
            return;
        }
        // Added by other threads since this one last caught up?
        Self::catch_up(&mut copy, &self.shared.read().expect("table lock"));
        missing = false;
        for (slot, (v, hash)) in out[start..].iter_mut().zip(values.clone()) {
            if *slot == u32::MAX {
                *slot = copy.find(hash, v).unwrap_or(u32::MAX);
                missing |= *slot == u32::MAX;
            }
        }
        if !missing {
            return;
        }
        let mut shared = self.shared.write().expect("table lock");
        for (k, (v, hash)) in values.enumerate() {
            let slot = &mut out[start + k];
            if *slot != u32::MAX {
                continue;
            }
            *slot = match shared.find(hash, v) {
                Some(at) => at,
                None => shared.push(v.clone(), hash),
            };
        }
        Self::catch_up(&mut copy, &shared);
    }

    /// The values at `indices` with their hashes, from this thread's copy (caught up with
    /// the shared table under a read lock where it lacks one).
    fn get(&self, indices: impl Iterator<Item = u32>, mut each: impl FnMut(&T, u64)) {
        let mut copy = self.copies.get_or_default().borrow_mut();
        for i in indices {
            let i = i as usize;
            if i >= copy.values.len() {
                Self::catch_up(&mut copy, &self.shared.read().expect("table lock"));
            }
            each(&copy.values[i], copy.hashes[i]);
        }
    }
}

/// The actor states and messages of a system's packed states, each stored once.
pub struct Tables<A: Node> {
    states: Table<Arc<A::State>>,
    envelopes: Table<Envelope<Msg<A::Peer>>>,
    /// An empty timer set, network and set of random choices, cloned for unpacked states:
    /// a new one seeds its hasher from a counter all threads share, which costs more than
    /// the clone and makes two threads wait on each other.
    empty_timers: Timers<Timer>,
    empty_network: HashableHashMap<Envelope<Msg<A::Peer>>, usize>,
    empty_random: RandomChoices<A::Random>,
}

impl<A: Node> Tables<A> {
    /// Empty tables.
    pub fn new() -> Self {
        Tables {
            states: Table::new(),
            envelopes: Table::new(),
            empty_timers: Timers::new(),
            empty_network: HashableHashMap::new(),
            empty_random: RandomChoices::default(),
        }
    }
}

impl<A: Node> Default for Tables<A> {
    fn default() -> Self {
        Tables::new()
    }
}

/// What a packed state rarely has, kept as it is.
struct Rare<A: Node> {
    /// The network, when it is not a multiset of up to 255 copies a message.
    network: Option<Network<Msg<A::Peer>>>,
    /// Random choices, when some actor has one pending.
    random: Option<Box<[RandomChoices<A::Random>]>>,
    /// Durable storage, when some actor has saved.
    storages: Option<Box<[Option<A::Storage>]>>,
}

/// A [`SysState`] in compact form (see the module documentation).
pub struct PackedState<A: Node> {
    /// Lengths (timers, crash flags, random choices, storages: a byte each), lost
    /// messages, the actor states' indices, a byte per actor of timers (bits 0-6) and
    /// crash flag (bit 7), four to a word, then per message in flight its index << 8 |
    /// its copies.
    words: Box<[u32]>,
    rare: Option<Box<Rare<A>>>,
    real_time: Option<Arc<RealTime>>,
}

const TIMERS: [Timer; 3] = [Timer::Request, Timer::Backend, Timer::Background];

fn len_byte(n: usize) -> u32 {
    u32::try_from(n)
        .ok()
        .filter(|&n| n < 256)
        .expect("under 256 actors")
}

/// Packs a state for the frontier.
pub fn pack<A: Node>(tables: &Tables<A>, state: SysState<A>) -> PackedState<A> {
    let SysState {
        net,
        lost,
        real_time,
        memo,
    } = state;
    let n = net.actor_states.len();
    let flags = net.timers_set.len().max(net.crashed.len());
    let mut words: Vec<u32> = Vec::with_capacity(2 + n + flags.div_ceil(4) + 16);
    words.push(
        len_byte(net.timers_set.len())
            | len_byte(net.crashed.len()) << 8
            | len_byte(net.random_choices.len()) << 16
            | len_byte(net.actor_storages.len()) << 24,
    );
    words.push(u32::from(lost) | len_byte(n) << 8);
    let states = &net.actor_states;
    tables.states.intern(
        states
            .iter()
            .enumerate()
            .map(|(i, s)| (s, memo.state(states, i))),
        &mut words,
    );
    for first in (0..flags).step_by(4) {
        let mut w = 0u32;
        for i in first..flags.min(first + 4) {
            let timers = net.timers_set.get(i).map_or(0, timer_bits);
            let crashed = net.crashed.get(i).is_some_and(|&c| c);
            w |= (u32::from(timers) | u32::from(crashed) << 7) << (8 * (i - first));
        }
        words.push(w);
    }
    let mut rare = Rare {
        network: None,
        random: None,
        storages: None,
    };
    match net.network {
        Network::UnorderedNonDuplicating(multiset) if multiset.values().all(|&c| c < 256) => {
            let start = words.len();
            let hashed = multiset.keys().map(|env| {
                let part = SysState::<A>::envelope_part(Envelope {
                    src: env.src,
                    dst: env.dst,
                    msg: &env.msg,
                });
                (env, part)
            });
            tables.envelopes.intern(hashed, &mut words);
            for (w, copies) in words[start..].iter_mut().zip(multiset.values()) {
                *w = *w << 8 | *copies as u32;
            }
        }
        other => rare.network = Some(other),
    }
    if net.random_choices.iter().any(|c| !c.map.is_empty()) {
        rare.random = Some(net.random_choices.into_boxed_slice());
    }
    if net.actor_storages.iter().any(Option::is_some) {
        rare.storages = Some(net.actor_storages.into_boxed_slice());
    }
    let rare = (rare.network.is_some() || rare.random.is_some() || rare.storages.is_some())
        .then(|| Box::new(rare));
    PackedState {
        words: words.into_boxed_slice(),
        rare,
        real_time,
    }
}

/// Unpacks a state packed by [`pack`].
pub fn unpack<A: Node>(tables: &Tables<A>, packed: &PackedState<A>) -> SysState<A> {
    let w = &packed.words;
    let len = |k: u32| (w[0] >> (8 * k) & 0xff) as usize;
    let (timers_len, crashed_len, random_len, storages_len) = (len(0), len(1), len(2), len(3));
    let lost = (w[1] & 0xff) as u8;
    let n = (w[1] >> 8 & 0xff) as usize;
    let mut actor_states = Vec::with_capacity(n);
    let mut hashes = Vec::with_capacity(n);
    tables.states.get(w[2..2 + n].iter().copied(), |s, hash| {
        actor_states.push(Arc::clone(s));
        hashes.push(hash);
    });
    let flags_at = 2 + n;
    let flags = timers_len.max(crashed_len);
    let flag = |i: usize| (w[flags_at + i / 4] >> (8 * (i % 4)) & 0xff) as u8;
    let timers_set = (0..timers_len)
        .map(|i| {
            let mut timers = tables.empty_timers.clone();
            for t in TIMERS {
                if flag(i) & (1 << (t as u8)) != 0 {
                    timers.set(t);
                }
            }
            timers
        })
        .collect();
    let crashed = (0..crashed_len).map(|i| flag(i) & 0x80 != 0).collect();
    let rare = packed.rare.as_deref();
    let network = match rare.and_then(|r| r.network.as_ref()) {
        Some(n) => n.clone(),
        None => {
            let entries = &w[flags_at + flags.div_ceil(4)..];
            let mut copies = entries.iter().map(|e| (e & 0xff) as usize);
            let mut multiset = tables.empty_network.clone();
            multiset.reserve(entries.len());
            tables
                .envelopes
                .get(entries.iter().map(|e| e >> 8), |env, _| {
                    multiset.insert(env.clone(), copies.next().unwrap_or(1));
                });
            Network::UnorderedNonDuplicating(multiset)
        }
    };
    let random_choices = match rare.and_then(|r| r.random.as_ref()) {
        Some(r) => r.to_vec(),
        None => vec![tables.empty_random.clone(); random_len],
    };
    let actor_storages = match rare.and_then(|r| r.storages.as_ref()) {
        Some(s) => s.to_vec(),
        None => vec![None; storages_len],
    };
    SysState {
        memo: Memo::known(&actor_states, hashes),
        net: ActorModelState {
            actor_states,
            network,
            timers_set,
            random_choices,
            crashed,
            history: (),
            actor_storages,
        },
        lost,
        real_time: packed.real_time.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::Table;
    use std::sync::Arc;

    /// Threads interning overlapping values in different orders (each on its own copy of
    /// the table) agree on every value's index, and read back the values they stored and
    /// the ones the other thread stored.
    #[test]
    fn threads_agree_on_indices_through_their_own_copies() {
        let table: Table<Arc<u64>> = Table::new();
        let values: Vec<Arc<u64>> = (0..2000u64).map(Arc::new).collect();
        // Few distinct hashes, so that chains of equal hashes are walked too.
        let hash = |v: &u64| v % 7;
        let intern_all = |order: Vec<usize>| -> Vec<(u64, u32)> {
            order
                .chunks(3)
                .flat_map(|chunk| {
                    let mut out = Vec::new();
                    table.intern(
                        chunk.iter().map(|&i| (&values[i], hash(&values[i]))),
                        &mut out,
                    );
                    chunk
                        .iter()
                        .map(|&i| *values[i])
                        .zip(out)
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| intern_all((0..2000).collect()));
            let b = s.spawn(|| intern_all((0..2000).rev().collect()));
            (a.join().unwrap(), b.join().unwrap())
        });
        let mut index = std::collections::HashMap::new();
        for (v, at) in a.iter().chain(&b) {
            assert_eq!(*index.entry(*v).or_insert(*at), *at, "value {v}");
        }
        assert_eq!(index.len(), 2000);
        let mut distinct: Vec<u32> = index.values().copied().collect();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), 2000, "two values share an index");
        // Read back on this thread (a third copy) and on another.
        for reader in 0..2 {
            let check = || {
                let mut seen = Vec::new();
                table.get(index.values().copied(), |v, h| seen.push((**v, h)));
                for ((v, at), (read, h)) in index.iter().zip(seen) {
                    assert_eq!(read, *v, "index {at}");
                    assert_eq!(h, hash(v));
                }
            };
            if reader == 0 {
                check();
            } else {
                std::thread::scope(|s| s.spawn(check).join().unwrap());
            }
        }
    }
}
