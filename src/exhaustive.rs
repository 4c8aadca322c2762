//! The exhaustive engine: a breadth-first search of splitbrain's own over a stateright
//! [`Model`] that returns the *shortest* counterexample of every property.
//!
//! stateright 0.31's BFS keeps the last violating state of a batch, not the first, so its
//! paths are not always the shortest. Here states are expanded strictly level by level
//! and every property is checked when a state is first discovered; the first violating
//! state found therefore lies at the smallest depth, and its parent chain is a shortest
//! path. Visited states are kept as 64-bit fingerprints with a link to their parent
//! (about 16 bytes of payload per state: see `link`); the path is rebuilt by replaying
//! the model.

use crate::progress::{Progress, Tick};
use crate::property::{ClientSteps, Kind, Property};
use crate::reduction::Reduce;
use crate::trace::{Forgetting, Narrate, Path, Told};
use foldhash::fast::FixedState;
use stateright::Model;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Where a search must stop even if it has not finished.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// Stop after this many unique states.
    pub max_states: Option<usize>,
    /// Do not expand states at this depth (number of steps from the start).
    pub max_depth: Option<usize>,
    /// Stop after this much wall time.
    pub timeout: Option<Duration>,
    /// Stop when the process's resident memory exceeds this many bytes (checked every
    /// few thousand states; Linux only).
    pub max_memory: Option<u64>,
    /// Stop as soon as every property has its path (the search then ends incomplete).
    pub until_found: bool,
}

/// Set when the user asks the running check to stop (Ctrl-C): searches end as
/// incomplete with what they found so far.
pub static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// True once the user has asked the running check to stop.
pub fn interrupted() -> bool {
    INTERRUPTED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Resident memory of this process in bytes (Linux `/proc/self/statm`), if known.
pub fn resident_memory_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Why a search ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// Every reachable state was visited.
    Complete,
    /// A limit was hit first; the text says which, with its figure.
    Limit(String),
}

/// What the search found for one property.
pub struct Finding<M: Model> {
    /// For `always`/`eventually`: a shortest counterexample. For `sometimes`: a shortest example.
    pub path: Option<Path<M>>,
    /// Seconds from the start of the search until `path` was found.
    pub seconds: Option<f64>,
    /// Whether `path` is known to be a shortest one (false only when a reduced search's
    /// path could not be shortened within the limits).
    pub shortest: bool,
}

/// The result of one exhaustive search.
pub struct Search<M: Model> {
    /// One finding per property, in the order given.
    pub findings: Vec<Finding<M>>,
    /// Unique states visited.
    pub unique_states: usize,
    /// Transitions taken (states generated, counting repeats).
    pub transitions: usize,
    /// Depth of the deepest state visited.
    pub max_depth: usize,
    /// Wall time of the search.
    pub seconds: f64,
    /// Whether the search finished.
    pub end: End,
    /// States expanded with a persistent subset of their steps, or without steps that only
    /// hold back others (`--reduce por`).
    pub reduced_states: usize,
    /// States found with what nobody will read forgotten (messages, parts of replies) (`--reduce por`, see
    /// [`crate::forgetting`]).
    pub forgetting_states: usize,
    /// States expanded with their losses left for the end of the run (`--reduce por`, see
    /// "Losses last" in [`crate::reduction`]).
    pub losses_waited: usize,
    /// The unreduced search that shortened a reduced search's paths, if one ran.
    pub shortening: Option<Shortening>,
    /// The depth after which the operations clients finished were forgotten
    /// ([`Narrate::forget_settled`]): from there on, every undecided property read only
    /// the servers.
    pub settled_after: Option<usize>,
    /// The search of the properties that read the order of client steps, when they were
    /// searched apart from the others (see [`search_on`]); its figures are included in the
    /// ones above.
    pub apart: Option<Apart>,
}

/// The search, without persistent sets, of the properties that read only the order of
/// client steps ([`ClientSteps::Order`]), run apart from the others' under `--reduce por`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Apart {
    /// Which properties it searched (indices into the properties given).
    pub properties: Vec<usize>,
    /// Unique states it visited.
    pub unique_states: usize,
    /// The deepest level it reached.
    pub max_depth: usize,
    /// Its wall time.
    pub seconds: f64,
    /// Whether it stopped once every property it searched was found.
    pub stopped_when_found: bool,
}

/// The unreduced searches that replaced a reduced search's paths by shortest ones.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Shortening {
    /// The deepest they searched down to (the longest path the reduced search found).
    pub depth: usize,
    /// Unique states they visited, in all.
    pub unique_states: usize,
    /// Their wall time (included in [`Search::seconds`]).
    pub seconds: f64,
}

/// The search, without partial-order reduction, for a shortest path to `property` of at
/// most `depth` steps (a reduced search found one of `depth`), stopped as soon as it
/// finds one.
fn shortest_within<M>(
    model: &M,
    property: &Property<M>,
    limits: &Limits,
    threads: usize,
    reduce: Reduce,
    depth: usize,
) -> Search<M>
where
    M: Narrate + Send + Sync + 'static,
    M::State: Hash + Clone + Send + Sync + 'static,
    M::Action: Clone + Send + 'static,
{
    let bounded = Limits {
        max_depth: Some(depth),
        until_found: true,
        ..*limits
    };
    search_forgetting(
        model,
        std::slice::from_ref(property),
        &bounded,
        threads,
        reduce.without_por(),
        Lean::Distances,
        &Progress::hidden(),
    )
}

/// The finding of a reduced search that found a path of `depth` steps, once
/// [`shortest_within`] that depth gave `short` (done `seconds` after the search began):
/// the shortest path that search found, or the reduced search's own (`path` rebuilds it:
/// only then) kept and marked not shortest if a limit stopped it first.
fn shortened<M: Model>(
    path: impl FnOnce() -> Path<M>,
    depth: usize,
    short: Search<M>,
    seconds: f64,
    stats: &mut Shortening,
) -> Finding<M> {
    stats.depth = stats.depth.max(depth);
    stats.unique_states += short.unique_states;
    stats.seconds += short.seconds;
    let found = short.findings.into_iter().next().and_then(|f| f.path);
    Finding {
        shortest: found.is_some(),
        path: Some(found.unwrap_or_else(path)),
        seconds: Some(seconds),
    }
}

impl Forgetting {
    /// What a search with `forget` on forgets, searching `properties`.
    fn of<M: Model>(forget: bool, properties: &[Property<M>]) -> Forgetting {
        Forgetting {
            unread: forget,
            order: forget
                && properties
                    .iter()
                    .all(|p| p.client_steps != ClientSteps::Order),
            // Switched on during the search, see `search_forgetting`.
            settled: false,
        }
    }

    /// Takes it out of `state`; whether something nobody will read was.
    fn apply<M: Narrate>(self, model: &M, state: &mut M::State) -> bool {
        let forgot = self.unread && model.forget(state);
        if self.order {
            model.forget_order(state);
        }
        if self.settled {
            model.forget_settled(state);
        }
        forgot
    }

    /// What is forgotten from the states found at `depth` by a search that forgot the
    /// operations clients finished from the states after depth `settled_after` on.
    fn at_depth(self, depth: usize, settled_after: Option<usize>) -> Forgetting {
        Forgetting {
            settled: settled_after.is_some_and(|d| depth > d),
            ..self
        }
    }
}

/// The state `action` leads to from `state`, with what the search forgets taken out, and
/// whether something nobody will read was.
fn next_state<M: Narrate>(
    model: &M,
    forget: Forgetting,
    state: &M::State,
    action: M::Action,
) -> Option<(M::State, bool)> {
    let mut next = model.next_state(state, action)?;
    let forgot = forget.apply(model, &mut next);
    Some((next, forgot))
}

/// A state's 64-bit fingerprint (deterministic across runs and machines: foldhash with a
/// fixed seed, never 0, which marks "no parent").
pub fn fingerprint<T: Hash>(value: &T) -> u64 {
    FixedState::with_seed(FINGERPRINT_SEED)
        .hash_one(value)
        .max(1)
}

/// The key of `state` in the visited set: its fingerprint, or with the symmetry reduction
/// on, its orbit's ([`Narrate::symmetric_fingerprint`]).
fn key<M: Narrate>(model: &M, reduce: Reduce, state: &M::State) -> u64
where
    M::State: Hash,
{
    let own = fingerprint(state);
    if reduce.symmetry() {
        if let Some(fp) = model.symmetric_fingerprint(state, own) {
            return fp;
        }
    }
    own
}

/// A worker's memory of the orbit keys it worked out under the symmetry reduction, by
/// each state's own fingerprint: a state reached again (most successors are) gets its
/// orbit's key without trying renamings, and where the model tells the state's own
/// fingerprint, without being built. A state's orbit key is a function of the state, so
/// what is remembered changes no result, whatever the threads.
#[derive(Default)]
struct OrbitMemo(HashMap<u64, u64, BuildHasherDefault<PassThrough>>);

/// Orbit keys a worker remembers before it forgets them all and starts again.
const ORBIT_MEMO_MAX: usize = 1 << 22;

impl OrbitMemo {
    /// The orbit key of the state whose own fingerprint is `own`, if remembered.
    fn get(&self, own: u64) -> Option<u64> {
        self.0.get(&own).copied()
    }

    /// The key of `state` in the visited set ([`key`]), remembered by its own fingerprint
    /// (`own`, where the model told it: see [`Narrate::successor_fingerprints`]).
    fn key<M: Narrate>(
        &mut self,
        model: &M,
        reduce: Reduce,
        state: &M::State,
        own: Option<u64>,
    ) -> u64
    where
        M::State: Hash,
    {
        let own = own.unwrap_or_else(|| fingerprint(state));
        if !reduce.symmetry() {
            return own;
        }
        if let Some(k) = self.get(own) {
            return k;
        }
        let k = model.symmetric_fingerprint(state, own).unwrap_or(own);
        if self.0.len() >= ORBIT_MEMO_MAX {
            self.0.clear();
        }
        self.0.insert(own, k);
        k
    }
}

/// The key of the state step `k` leads to, where the model told its fingerprint
/// (`told[k]`, see [`Narrate::successor_fingerprints`]; `Some(None)`: it leads nowhere)
/// and, under the symmetry reduction, the worker remembers that state's orbit; `None`:
/// build the state to know.
fn told_key(
    told: &[Option<Option<u64>>],
    k: usize,
    reduce: Reduce,
    orbits: &OrbitMemo,
) -> Option<Option<u64>> {
    match told.get(k) {
        Some(Some(None)) => Some(None),
        Some(Some(Some(own))) if !reduce.symmetry() => Some(Some(*own)),
        Some(Some(Some(own))) => orbits.get(*own).map(Some),
        _ => None,
    }
}

/// The own fingerprint of the state step `k` leads to, where the model told it.
fn told_own(told: &[Option<Option<u64>>], k: usize) -> Option<u64> {
    told.get(k).copied().flatten().flatten()
}

/// Seed of [`fingerprint`]: any fixed value; changing it changes no verdict or count.
const FINGERPRINT_SEED: u64 = 0x5b1d_b7a1_2c0f_fee5;

/// The visited set is keyed by fingerprints, which are already well mixed: hashing them
/// again would be wasted work.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Visited states: key -> link to the parent ([`link`]; 0 for a start state).
type Visited = HashMap<u64, u64, BuildHasherDefault<PassThrough>>;

/// The link a visited state keeps to its parent: the parent's key, with the place of the
/// step taken from it (in the model's list of the parent's steps) mixed in, in the same 8
/// bytes. A path is rebuilt by taking that step again rather than by trying them all
/// ([`parent_of`] reads it back: mixing the same place in again gives the parent back).
fn link(parent: u64, step: u32) -> u64 {
    parent ^ STEP_MIX.wrapping_mul(u64::from(step) + 1)
}

/// Mixes a step's place into a link ([`link`]): any odd constant with its bits spread.
const STEP_MIX: u64 = 0x9e37_79b9_7f4a_7c15;

/// Places tried when a link is read back ([`parent_of`]): more than any state has steps.
const MAX_STEP_PLACES: u32 = 1 << 16;

/// The steps back from the visited state of key `target` to a start state, by the parent
/// links: each step's parent key and its place among the parent's steps, last step first.
fn links_back(parents: &Visited, target: u64) -> impl Iterator<Item = (u64, u32)> + '_ {
    let mut cur = target;
    std::iter::from_fn(move || {
        let l = *parents.get(&cur)?;
        if l == 0 {
            return None;
        }
        let (p, place) =
            parent_of(parents, l).expect("every visited state's link names a visited parent");
        cur = p;
        Some((p, place))
    })
}

/// The parent key and the step's place a link holds ([`link`]): the one place that turns
/// the link into a visited key. Another place would do so only if an unrelated 64-bit
/// value were a visited key (odds of about one in 2^64 / states per place tried, those of
/// two states sharing a fingerprint); the path rebuilt is checked step by step anyway.
fn parent_of(parents: &Visited, link: u64) -> Option<(u64, u32)> {
    (0..MAX_STEP_PLACES).find_map(|step| {
        let parent = self::link(link, step);
        parents.contains_key(&parent).then_some((parent, step))
    })
}

/// Keeps the steps `keep` accepts, and with each its place in the model's list
/// (`places[k]` is the place of `actions[k]`).
fn keep_steps<A>(actions: &mut Vec<A>, places: &mut Vec<u32>, mut keep: impl FnMut(&A) -> bool) {
    let (mut read, mut write) = (0, 0);
    actions.retain(|a| {
        let kept = keep(a);
        if kept {
            places[write] = places[read];
            write += 1;
        }
        read += 1;
        kept
    });
    places.truncate(write);
}

type Fingerprints = std::collections::HashSet<u64, BuildHasherDefault<PassThrough>>;

/// Parent states expanded between two looks at the limits, the clock and Ctrl-C.
const CHUNK: usize = 512;

/// The fewest parent states a search that stops once every property is found
/// ([`Limits::until_found`]) expands between two looks (what it expands after the first
/// finding is wasted): a 64th of the level, at least this, at most [`CHUNK`].
const UNTIL_FOUND_CHUNK: usize = 16;

/// A level of fewer states than this holds its successors whole in the frontier, not
/// packed: there packing and unpacking would cost more time than the memory they save is
/// worth (a level of this size takes a few megabytes whole).
const HELD_WHOLE_BELOW: usize = 2048;

/// The pool of `threads` threads, built the first time a search on this thread asks for
/// that many and kept for the thread's later searches (the shortening searches and the
/// searches of its next check among them): starting threads for each would cost more
/// than a small search. Each calling thread has pools of its own, so that searches
/// started side by side (tests, library callers) never queue behind each other. `None`
/// if the threads cannot be started.
fn pool_of(threads: usize) -> Option<std::sync::Arc<rayon::ThreadPool>> {
    use std::sync::Arc;
    thread_local! {
        static POOLS: std::cell::RefCell<Vec<(usize, Arc<rayon::ThreadPool>)>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }
    POOLS.with_borrow_mut(|pools| {
        if let Some((_, pool)) = pools.iter().find(|(n, _)| *n == threads) {
            return Some(Arc::clone(pool));
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .ok()?;
        let pool = Arc::new(pool);
        pools.push((threads, Arc::clone(&pool)));
        Some(pool)
    })
}

/// The fewest parents a run split between the pool's threads holds.
const FEWEST_SHARED: usize = 16;

/// A run of parents is split between the pool's threads only if expanding it on one
/// thread should take at least this long (seconds), by the average time a parent took in
/// the search's runs expanded on one thread so far: handing a run to the pool and
/// waiting for its threads costs tens of microseconds. (Leaderless `quorum` unreduced,
/// 1,218 states at about a microsecond each in levels of 64-150, took 2.1 ms on two
/// threads when every run of 64 parents or more was split, 1.4 ms on one.)
const SHARE_ABOVE_SECONDS: f64 = 200e-6;

/// The fewest states found at the next depth for a search to hand a shortening search to
/// the pool: with fewer, it is about to end and would only wait for the pool (a thread of
/// the pool takes tens of microseconds to wake, what a very small search takes in all).
const SIDE_FRONTIER: usize = 8;

/// How long the search that handed a shortening search to the pool waits for it awake,
/// in microseconds, before it sleeps until it ends.
const SPIN_MICROS: u64 = 200;

/// What a shortening search found, and when it ended (seconds after the search that
/// started it began).
type Shortest<M> = (Search<M>, f64);

/// A shortening search handed to the pool.
type ShorteningJob<M> = Arc<SideJob<Shortest<M>>>;

/// A job handed to the pool (a shortening search): the first to claim it runs it, a
/// thread of the pool or the search that handed it over, once that has nothing else left
/// to do (so a small search never waits for a pool thread to wake up).
struct SideJob<T> {
    claimed: AtomicBool,
    /// Set once `result` holds what the job gave (or its panic).
    finished: AtomicBool,
    result: Mutex<Option<std::thread::Result<T>>>,
    ended: Condvar,
}

impl<T> Default for SideJob<T> {
    fn default() -> Self {
        SideJob {
            claimed: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            result: Mutex::new(None),
            ended: Condvar::new(),
        }
    }
}

impl<T> SideJob<T> {
    /// Runs `job` on this thread of the pool, unless it was claimed already.
    fn run(&self, job: impl FnOnce() -> T) {
        if self.claimed.swap(true, Ordering::AcqRel) {
            return;
        }
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
        *self.result.lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
        self.finished.store(true, Ordering::Release);
        self.ended.notify_all();
    }

    /// What the job gave, waiting for it if a thread of the pool runs it (its panic, if
    /// it panicked, goes on here); `None` if none has started it (it is now the caller's
    /// to run).
    fn claim(&self) -> Option<T> {
        if !self.claimed.swap(true, Ordering::AcqRel) {
            return None;
        }
        // A small search ends soon: waiting for it awake costs less than being woken.
        let waiting = Instant::now();
        while !self.finished.load(Ordering::Acquire)
            && waiting.elapsed() < Duration::from_micros(SPIN_MICROS)
        {
            std::hint::spin_loop();
        }
        let mut result = self.result.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            match result.take() {
                Some(Ok(found)) => return Some(found),
                Some(Err(panic)) => std::panic::resume_unwind(panic),
                None => {
                    result = self
                        .ended
                        .wait(result)
                        .unwrap_or_else(PoisonError::into_inner)
                }
            }
        }
    }
}

/// A state waiting in the frontier to be expanded: packed ([`Narrate::pack`]), or whole
/// where levels are small (see [`HELD_WHOLE_BELOW`]).
enum Held<M: Narrate> {
    /// Packed, to be unpacked when expanded.
    Packed(M::Packed),
    /// As it is.
    Whole(Box<M::State>),
}

impl<M: Narrate> Held<M> {
    /// `state`, packed if `pack`.
    fn new(model: &M, state: M::State, pack: bool) -> Self {
        if pack {
            Held::Packed(model.pack(state))
        } else {
            Held::Whole(Box::new(state))
        }
    }

    /// The state held, unpacked into `unpacked` if it was packed.
    fn state<'s>(&'s self, model: &M, unpacked: &'s mut Option<M::State>) -> &'s M::State {
        match self {
            Held::Packed(p) => unpacked.insert(model.unpack(p)),
            Held::Whole(s) => s,
        }
    }
}

/// A step of the search: where the model told it leads (the state not built yet), or
/// the state built.
enum Step<S, A> {
    Told(u64, A),
    Built(S),
}

/// What the partial-order reduction may do while a level is expanded.
#[derive(Clone, Copy)]
enum Por {
    /// Nothing: every state is expanded with all its steps.
    Off,
    /// Expand states with a persistent set where the model names one; sets of client
    /// steps only while `client_steps` (no undecided property sees them).
    On { client_steps: bool },
    /// No sets, but what keeps distances from the start is still left out (a search
    /// serving a reduced one, see [`Lean::Distances`]): losses wait, and crashes that only
    /// delay are left out where `crashes_out`.
    Keep { crashes_out: bool },
}

/// What a search leaves out besides what `--reduce` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lean {
    /// Nothing more.
    Full,
    /// What nobody will read is forgotten ([`Narrate::forget`]): the search of
    /// `--reduce por`.
    Forget,
    /// A search without persistent sets serving a reduced one (shortening its paths, or
    /// searching properties apart), which must reach every violation at its shortest
    /// distance: it forgets what nobody will read, lets losses wait for the end of a run,
    /// and, where no `eventually` property is searched, leaves out crashes that only
    /// delay. Each keeps those distances (see `crate::reduction`: a shortest run to a
    /// violation takes no loss and no such crash, and a state at rest is as far from the
    /// start with its losses moved to the end).
    Distances,
}

/// A new state found: (the state held, its key, its link to its parent, the open
/// properties it decides, whether messages were forgotten in it).
type Successor<M> = (Held<M>, u64, u64, Vec<u16>, bool);

/// What expanding a run of parent states produced, in order.
struct Expansion<M: Narrate> {
    /// The new states found, in discovery order.
    successors: Vec<Successor<M>>,
    /// Parents at rest (nothing but a crash can happen), with the `eventually`
    /// properties they fail.
    at_rest_failures: Vec<(u64, Vec<usize>)>,
    /// Transitions taken.
    transitions: usize,
    /// Whether a parent at the depth limit still had somewhere to go.
    cut_by_depth: bool,
    /// Parents expanded with a persistent subset of their steps, or with crashes that only
    /// delay left out.
    reduced: usize,
    /// Parents expanded with a persistent subset of their steps.
    sets_taken: usize,
    /// Parents expanded with crashes that only delay left out.
    delays_left_out: usize,
    /// Parents expanded with their losses left for the end of the run.
    losses_waited: usize,
    /// Orbit keys worked out by this worker (symmetry reduction).
    orbits: OrbitMemo,
    /// The worker's working lists, kept from run to run (a search of a few states per
    /// level would otherwise spend much of its time allocating them).
    scratch: Scratch<M>,
}

/// The lists a worker fills and empties for every state it expands.
struct Scratch<M: Narrate> {
    /// The state's steps.
    actions: Vec<M::Action>,
    /// The place of each step in the model's list (see [`keep_steps`]).
    places: Vec<u32>,
    /// The keys of the successors this worker found in this run.
    mine: Fingerprints,
    /// Where each step leads, where the model tells it.
    told: Vec<Option<Option<u64>>>,
    /// The persistent set named (steps by their place in `actions`).
    persistent: Vec<usize>,
    /// The steps of the persistent set taken.
    taken: Vec<usize>,
    /// The states built to tell where steps of the set lead, by step.
    prebuilt: Vec<(usize, (M::State, bool))>,
    /// The steps outside the persistent set.
    rest: Vec<usize>,
}

impl<M: Narrate> Default for Scratch<M> {
    fn default() -> Self {
        Scratch {
            actions: Vec::new(),
            places: Vec::new(),
            mine: Fingerprints::default(),
            told: Vec::new(),
            persistent: Vec::new(),
            taken: Vec::new(),
            prebuilt: Vec::new(),
            rest: Vec::new(),
        }
    }
}

impl<M: Narrate> Expansion<M> {
    fn empty() -> Self {
        Expansion {
            successors: Vec::new(),
            at_rest_failures: Vec::new(),
            transitions: 0,
            cut_by_depth: false,
            reduced: 0,
            sets_taken: 0,
            delays_left_out: 0,
            losses_waited: 0,
            orbits: OrbitMemo::default(),
            scratch: Scratch::default(),
        }
    }
}

/// Splits `items` into one contiguous run per buffer and applies `f` to each run with its
/// buffer, each on a thread of `pool` (inline, on this thread, when there is no pool or
/// one buffer).
fn in_parallel<T: Sync, B: Send>(
    pool: Option<&rayon::ThreadPool>,
    items: &[T],
    buffers: &mut [B],
    f: impl Fn(&[T], &mut B) + Sync,
) {
    let pool = pool.filter(|_| buffers.len() > 1);
    let Some(pool) = pool else {
        if let Some(b) = buffers.first_mut() {
            f(items, b);
        }
        return;
    };
    let per = items.len().div_ceil(buffers.len());
    let f = &f;
    pool.scope(|scope| {
        let mut runs = items.chunks(per).zip(buffers.iter_mut());
        let first = runs.next();
        for (run, b) in runs {
            scope.spawn(move |_| f(run, b));
        }
        if let Some((run, b)) = first {
            f(run, b);
        }
    });
}

/// Breadth-first search of every state of `model` reachable within `limits`, checking
/// `properties` as it goes. Found paths are shortest.
pub fn search<M>(model: &M, properties: &[Property<M>], limits: &Limits) -> Search<M>
where
    M: Narrate + Send + Sync + 'static,
    M::State: Hash + Clone + Send + Sync + 'static,
    M::Action: Clone + Send + 'static,
{
    search_with_progress(model, properties, limits, &Progress::hidden())
}

/// [`search`], reporting its progress every few thousand states.
pub fn search_with_progress<M>(
    model: &M,
    properties: &[Property<M>],
    limits: &Limits,
    progress: &Progress,
) -> Search<M>
where
    M: Narrate + Send + Sync + 'static,
    M::State: Hash + Clone + Send + Sync + 'static,
    M::Action: Clone + Send + 'static,
{
    search_on(model, properties, limits, 1, Reduce::None, progress)
}

/// [`search_with_progress`] on `threads` threads. States are expanded level by level,
/// each level in runs of a few thousand states split between the threads; successors are
/// then merged into the visited set in the order one thread would have found them, so
/// the states, the verdicts and the paths found are the same for any number of threads.
///
/// With [`Reduce::Por`], states where the model names a persistent set of steps
/// ([`Narrate::persistent_set`]) are expanded with those steps only (sets of client
/// steps only while every undecided `always`/`sometimes` property declares them
/// invisible or its verdict stable), and only when all the steps lead to states new at
/// the next depth (so every cycle passes a fully expanded state); steps that only hold
/// back others ([`Narrate::only_delays`]) are left out of every expansion. A path found
/// once some state was reduced is replaced by a shortest one from a search without sets
/// down to its depth ([`Search::shortening`]; it leaves out only what keeps distances
/// from the start, see `crate::reduction`), started as soon as the path is found
/// (with two threads or more it runs beside the reduced search, on the pool), unless the
/// model's sets keep it shortest as found ([`Narrate::keeps_rest_paths`] for
/// `eventually` properties, [`Narrate::keeps_violation_paths`] for all). Properties that
/// read only the order of client steps ([`ClientSteps::Order`]) are searched apart, by a
/// search without persistent sets that stops once they are found, and the others' search
/// forgets that order ([`Search::apart`]).
///
/// With [`Reduce::Symmetry`], where the model declares interchangeable actors, the
/// visited set is keyed by each state's orbit ([`Narrate::symmetric_fingerprint`]):
/// distances from the start are those of the unreduced search, so paths found are
/// shortest as found. [`Reduce::All`] does both.
pub fn search_on<M>(
    model: &M,
    properties: &[Property<M>],
    limits: &Limits,
    threads: usize,
    reduce: Reduce,
    progress: &Progress,
) -> Search<M>
where
    M: Narrate + Send + Sync + 'static,
    M::State: Hash + Clone + Send + Sync + 'static,
    M::Action: Clone + Send + 'static,
{
    let order =
        |p: &Property<M>| p.client_steps == ClientSteps::Order && p.kind != Kind::Eventually;
    if reduce.por() && properties.iter().any(order) {
        let apart: Vec<usize> = (0..properties.len())
            .filter(|&i| order(&properties[i]))
            .collect();
        return search_apart(model, properties, &apart, limits, threads, reduce, progress);
    }
    search_forgetting(
        model,
        properties,
        limits,
        threads,
        reduce,
        if reduce.por() {
            Lean::Forget
        } else {
            Lean::Full
        },
        progress,
    )
}

/// [`search_on`] with `--reduce por` where some properties read only the order of client
/// steps ([`ClientSteps::Order`], e.g. `linearizable`). While such a property is undecided
/// no client steps may be reordered, and a path found with persistent sets must be
/// shortened by a search without them anyway. So the properties listed in `apart` are
/// searched on their own, without persistent sets but leaving out what keeps distances
/// ([`Lean::Distances`]: paths found are shortest), stopping once they are all found; the
/// others are searched with the partial-order reduction, which may then reorder client
/// steps from the start. With two threads or more, the two searches run side by side, the
/// search apart as a job of the pool the others' search expands its levels on. The
/// result adds up both; [`Search::apart`] tells them apart.
fn search_apart<M>(
    model: &M,
    properties: &[Property<M>],
    apart: &[usize],
    limits: &Limits,
    threads: usize,
    reduce: Reduce,
    progress: &Progress,
) -> Search<M>
where
    M: Narrate + Send + Sync + 'static,
    M::State: Hash + Clone + Send + Sync + 'static,
    M::Action: Clone + Send + 'static,
{
    let started = Instant::now();
    let others: Vec<usize> = (0..properties.len())
        .filter(|i| !apart.contains(i))
        .collect();
    let pick =
        |which: &[usize]| -> Vec<Property<M>> { which.iter().map(|&i| properties[i]).collect() };
    let (ordered, rest) = (pick(apart), pick(&others));
    // One after the other, the second search has what time the first left.
    let time_left = |limits: &Limits| Limits {
        timeout: limits.timeout.map(|t| t.saturating_sub(started.elapsed())),
        ..*limits
    };
    let ordered_limits = Limits {
        until_found: true,
        ..*limits
    };
    let hidden = Progress::hidden();
    let ordered_progress = if rest.is_empty() { progress } else { &hidden };
    let search_ordered = |on: &M| {
        let began = started.elapsed().as_secs_f64();
        let s = search_forgetting(
            on,
            &ordered,
            &ordered_limits,
            1,
            reduce.without_por(),
            Lean::Distances,
            ordered_progress,
        );
        (s, began)
    };
    let search_rest = |threads: usize| {
        (!rest.is_empty()).then(|| {
            let began = started.elapsed().as_secs_f64();
            let limits = time_left(limits);
            let s = search_forgetting(
                model,
                &rest,
                &limits,
                threads,
                reduce,
                Lean::Forget,
                progress,
            );
            (s, began)
        })
    };
    // Side by side: the search apart runs as a job of the pool the others' search
    // expands its levels on, so that once it ends (it stops once it finds what it
    // searches, often early) its thread helps that search instead of standing idle.
    let pool = (threads > 1 && !rest.is_empty())
        .then(|| pool_of(threads))
        .flatten();
    let ((a, a_began), b) = if let Some(pool) = pool {
        // The search apart packs its states into tables of its own, where the model has any.
        let twin = model.twin();
        let on = twin.as_ref().unwrap_or(model);
        let mut a = None;
        let b = pool.in_place_scope(|scope| {
            scope.spawn(|_| a = Some(search_ordered(on)));
            search_rest(threads)
        });
        (a.expect("the search apart ran in the scope"), b)
    } else {
        (search_ordered(model), search_rest(1))
    };
    // Stopping once every property it searched is found leaves nothing undecided.
    let stopped_when_found = a.end != End::Complete && a.findings.iter().all(|f| f.path.is_some());
    let a_end = if stopped_when_found {
        End::Complete
    } else {
        a.end.clone()
    };
    // The second search, one after the other, had only the time left: say which timeout.
    let b_end = b.as_ref().map(|(b, _)| match (&b.end, limits.timeout) {
        (End::Limit(why), Some(t)) if why.starts_with("timeout of ") => {
            End::Limit(format!("timeout of {}s reached", t.as_secs_f64()))
        }
        (end, _) => end.clone(),
    });
    let end = match (&a_end, b_end.as_ref()) {
        (End::Limit(_), _) => a_end.clone(),
        (_, Some(b_end)) => b_end.clone(),
        _ => a_end.clone(),
    };
    let later = |f: Finding<M>, began: f64| Finding {
        seconds: f.seconds.map(|s| s + began),
        ..f
    };
    let mut findings: Vec<Option<Finding<M>>> = (0..properties.len()).map(|_| None).collect();
    for (&i, f) in apart.iter().zip(a.findings) {
        findings[i] = Some(later(f, a_began));
    }
    let (mut unique_states, mut transitions, mut max_depth) =
        (a.unique_states, a.transitions, a.max_depth);
    let (mut reduced_states, mut forgetting_states, mut shortening) =
        (a.reduced_states, a.forgetting_states, a.shortening);
    let mut losses_waited = a.losses_waited;
    let mut settled_after = a.settled_after;
    if let Some((b, b_began)) = b {
        for (&i, f) in others.iter().zip(b.findings) {
            findings[i] = Some(later(f, b_began));
        }
        unique_states += b.unique_states;
        transitions += b.transitions;
        max_depth = max_depth.max(b.max_depth);
        reduced_states += b.reduced_states;
        forgetting_states += b.forgetting_states;
        losses_waited += b.losses_waited;
        shortening = b.shortening.or(shortening);
        settled_after = b.settled_after.or(settled_after);
    }
    Search {
        findings: findings.into_iter().flatten().collect(),
        unique_states,
        transitions,
        max_depth,
        seconds: started.elapsed().as_secs_f64(),
        end,
        reduced_states,
        forgetting_states,
        losses_waited,
        shortening,
        settled_after,
        apart: Some(Apart {
            properties: apart.to_vec(),
            unique_states: a.unique_states,
            max_depth: a.max_depth,
            seconds: a.seconds,
            stopped_when_found,
        }),
    }
}

/// [`search_on`], leaving out what `lean` says besides what `reduce` does: what the model
/// may forget is taken out of every state ([`Narrate::forget`]) unless [`Lean::Full`].
/// Forgetting keeps depths (it is a bisimulation, see [`crate::forgetting`]), and so does
/// the rest of [`Lean::Distances`]: without `por` the paths found are shortest as found,
/// which the shortening searches and the search apart rely on.
fn search_forgetting<M>(
    model: &M,
    properties: &[Property<M>],
    limits: &Limits,
    threads: usize,
    reduce: Reduce,
    lean: Lean,
    progress: &Progress,
) -> Search<M>
where
    M: Narrate + Send + Sync + 'static,
    M::State: Hash + Clone + Send + Sync + 'static,
    M::Action: Clone + Send + 'static,
{
    let started = Instant::now();
    let threads = threads.max(1);
    // Symmetry reduction only where the model declares interchangeable actors (elsewhere
    // its keys would be the states' own fingerprints, worked out the long way).
    let reduce = if model.interchangeable().is_empty() {
        reduce.without_symmetry()
    } else {
        reduce
    };
    // key -> link to the parent (see `link`; 0 for a start state)
    let mut parents: Visited = Visited::default();
    let mut found: Vec<Option<(u64, f64)>> = vec![None; properties.len()];
    let mut max_depth = 0;
    let mut transitions = 0;
    let mut reduced_states = 0;
    // The first depths at which a state was expanded with a persistent set, and with a
    // crash that only delays left out (see `exact` below).
    let (mut first_set, mut first_left_out): (Option<usize>, Option<usize>) = (None, None);
    let mut forgetting_states = 0;
    let mut losses_waited = 0;
    let mut end = End::Complete;
    // Findings whose path is final (shortened, where the search had reduced a state
    // before finding it), and what shortening them cost.
    let mut settled: Vec<Option<Finding<M>>> = (0..properties.len()).map(|_| None).collect();
    let mut shortening = Shortening::default();
    // The fingerprints found at the depth being discovered (with `parents`, they tell a
    // state seen at this depth or before from one found at the next): kept for `por`.
    let mut next_fps: Fingerprints = Fingerprints::default();

    // The not-yet-decided `always`/`sometimes` properties, and which of them a new state
    // decides (checked on the workers, before the state is packed).
    let open_properties = |found: &[Option<(u64, f64)>]| -> Vec<usize> {
        (0..properties.len())
            .filter(|&i| found[i].is_none() && properties[i].kind != Kind::Eventually)
            .collect()
    };
    let decides = |open: &[usize], state: &M::State| -> Vec<u16> {
        open.iter()
            .filter(|&&i| {
                let p = &properties[i];
                (p.kind == Kind::Always) != (p.check)(model, state)
            })
            .map(|&i| i as u16)
            .collect()
    };

    // The frontier holds states packed (see `Narrate::pack`) once levels are large; new
    // states are checked before they are packed, and unpacked one run at a time to be
    // expanded.
    let mut level: Vec<(Held<M>, u64)> = Vec::new();
    // What no step will read is forgotten (see `Narrate::forget`), and the order of
    // client steps where no property searched reads it.
    let forget = lean != Lean::Full;
    let mut forgetting = Forgetting::of(forget, properties);
    // Once every undecided property reads only the servers, the states found after this
    // depth have the operations clients finished taken out (see `Narrate::forget_settled`).
    let mut settled_after: Option<usize> = None;
    let (keeps_rest_paths, keeps_violation_paths) =
        (model.keeps_rest_paths(), model.keeps_violation_paths());
    for mut s in model.init_states() {
        forgetting.apply(model, &mut s);
        if !model.within_boundary(&s) {
            continue;
        }
        let fp = key(model, reduce, &s);
        if let Entry::Vacant(e) = parents.entry(fp) {
            e.insert(0);
            for i in decides(&open_properties(&found), &s) {
                found[usize::from(i)] = Some((fp, started.elapsed().as_secs_f64()));
            }
            level.push((Held::Whole(Box::new(s)), fp));
        }
    }

    // A search that stops once everything is found looks at that more often while its
    // levels are small (on a large level, looking costs more than it saves).
    let chunk_size = |level: usize| {
        if limits.until_found {
            (level / 64).clamp(UNTIL_FOUND_CHUNK, CHUNK)
        } else {
            CHUNK
        }
    };
    let no_eventually = forget && properties.iter().all(|p| p.kind != Kind::Eventually);
    let expand = |run: &[(Held<M>, u64)],
                  at_depth_limit: bool,
                  pack: bool,
                  seen: &Visited,
                  next_fps: &Fingerprints,
                  open: &[usize],
                  por: Por,
                  forgetting: Forgetting,
                  tell: bool,
                  out: &mut Expansion<M>| {
        let Scratch {
            actions,
            places,
            mine,
            told,
            persistent,
            taken,
            prebuilt,
            rest,
        } = &mut out.scratch;
        mine.clear();
        let mut unpacked = None;
        for (held, fp) in run {
            let state = held.state(model, &mut unpacked);
            actions.clear();
            model.actions(state, actions);
            places.clear();
            places.extend(0..actions.len() as u32);
            // Partial-order reduction: steps that only hold back others are left out.
            let mut left_out = false;
            if let Por::On { .. } | Por::Keep { crashes_out: true } = por {
                let all = actions.len();
                keep_steps(actions, places, |a| !model.only_delays(state, a));
                left_out = actions.len() < all;
            }
            // Steps only `eventually` properties see, where none is searched for (this keeps
            // distances: no path gets longer).
            if no_eventually {
                keep_steps(actions, places, |a| !model.only_for_eventually(state, a));
            }
            // Where steps lead, told by the model: under the partial-order reduction, the
            // persistent set's steps first, the others only if the set is not taken.
            told.clear();
            let sets = matches!(por, Por::On { .. }) && !at_depth_limit;
            if tell && !sets {
                model.successor_fingerprints(state, actions, forgetting, told);
            }
            // Partial-order reduction: only the persistent set's steps that lead
            // somewhere, if they all lead to states not seen at this depth or before
            // (states built to tell are kept for the expansion below).
            taken.clear();
            prebuilt.clear();
            persistent.clear();
            // Whether the state's losses wait, where already worked out.
            let mut losses_may_wait = None;
            // Whether the model was asked where every step leads.
            let mut told_all = false;
            if let (Por::On { client_steps }, false) = (por, at_depth_limit) {
                model.persistent_set(state, actions, client_steps, persistent);
                // Under symmetry, a set that holds a loss is not taken where the state's
                // losses wait: expanded without them, the state explores no loss at all,
                // and the deliveries the set would put off often lead to one orbit.
                if reduce.symmetry() && persistent.iter().any(|&k| model.is_loss(&actions[k])) {
                    // Whether they wait asks which steps lead somewhere, and where they
                    // do, every step is told below: told once, first.
                    if tell {
                        model.successor_fingerprints(state, actions, forgetting, told);
                        told_all = true;
                    }
                    let wait = model.losses_wait(state, actions, told);
                    losses_may_wait = Some(wait);
                    if wait {
                        persistent.clear();
                    }
                }
                if tell && !told_all {
                    model.successor_fingerprints_of(state, actions, persistent, forgetting, told);
                }
                for &k in persistent.iter() {
                    let nfp = match told_key(told, k, reduce, &out.orbits) {
                        Some(None) => continue,
                        Some(Some(nfp)) => nfp,
                        None => match next_state(model, forgetting, state, actions[k].clone()) {
                            None => continue,
                            Some(next) if model.within_boundary(&next.0) => {
                                let nfp = out.orbits.key(model, reduce, &next.0, told_own(told, k));
                                prebuilt.push((k, next));
                                nfp
                            }
                            Some(_) => {
                                taken.clear();
                                break;
                            }
                        },
                    };
                    if seen.contains_key(&nfp) && !next_fps.contains(&nfp) {
                        taken.clear();
                        break;
                    }
                    taken.push(k);
                }
            }
            // (No set is ever taken without `Por::On`.)
            if !matches!(por, Por::Off) && !at_depth_limit {
                out.reduced += usize::from(!taken.is_empty() || left_out);
                out.sets_taken += usize::from(!taken.is_empty());
                out.delays_left_out += usize::from(left_out);
            }
            if tell && sets && taken.is_empty() && !told_all {
                rest.clear();
                rest.extend((0..actions.len()).filter(|k| !persistent.contains(k)));
                model.successor_fingerprints_of(state, actions, rest, forgetting, told);
            }
            // Partial-order reduction, losses last: where no set was taken, losses wait
            // until the state is at rest but for them (see `crate::reduction`).
            let losses_wait = matches!(por, Por::On { .. } | Por::Keep { .. })
                && taken.is_empty()
                && actions.iter().any(|a| model.is_loss(a))
                && losses_may_wait.unwrap_or_else(|| model.losses_wait(state, actions, told));
            out.losses_waited += usize::from(losses_wait);
            // Whether some step that leads somewhere is not spontaneous (else the state is
            // at rest).
            let mut work_left = false;
            for (k, action) in actions.drain(..).enumerate() {
                if !taken.is_empty() && !taken.contains(&k) {
                    continue;
                }
                if losses_wait && model.is_loss(&action) {
                    // (A loss leads somewhere: it counts as work, as it would taken.)
                    work_left |= !model.spontaneous(state, &action);
                    continue;
                }
                // (Asked only until one is found.)
                let is_work = !work_left && !model.spontaneous(state, &action);
                // Where the step leads: told by the model (the state is built only if it
                // is new), or built now.
                let step = match told_key(told, k, reduce, &out.orbits) {
                    Some(None) => continue,
                    Some(Some(nfp)) => Step::Told(nfp, action),
                    None => match prebuilt.iter().position(|(j, _)| *j == k) {
                        Some(at) => Step::Built(prebuilt.swap_remove(at).1),
                        None => match next_state(model, forgetting, state, action) {
                            Some(next) => Step::Built(next),
                            None => continue,
                        },
                    },
                };
                work_left |= is_work;
                if at_depth_limit {
                    out.cut_by_depth = true;
                    break;
                }
                out.transitions += 1;
                let nfp = match &step {
                    Step::Told(nfp, _) => *nfp,
                    Step::Built((next, _)) if model.within_boundary(next) => {
                        out.orbits.key(model, reduce, next, told_own(told, k))
                    }
                    Step::Built(_) => continue,
                };
                // Most successors were seen before: drop them here, on the worker.
                if seen.contains_key(&nfp) || !mine.insert(nfp) {
                    continue;
                }
                let next = match step {
                    Step::Built(next) => next,
                    Step::Told(_, action) => {
                        let Some(next) = next_state(model, forgetting, state, action) else {
                            debug_assert!(false, "a step told to lead somewhere led nowhere");
                            continue;
                        };
                        debug_assert_eq!(key(model, reduce, &next.0), nfp, "a told fingerprint");
                        next
                    }
                };
                // Properties are checked here, on the worker, before the state is packed;
                // the merge keeps what the first new state in order decides.
                let (next, forgot) = next;
                let decided = decides(open, &next);
                out.successors.push((
                    Held::new(model, next, pack),
                    nfp,
                    link(*fp, places[k]),
                    decided,
                    forgot,
                ));
            }
            if !work_left {
                // A state at rest (nothing but a crash can happen): judge the
                // `eventually` properties.
                let failing: Vec<usize> = properties
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.kind == Kind::Eventually && !(p.check)(model, state))
                    .map(|(i, _)| i)
                    .collect();
                if !failing.is_empty() {
                    out.at_rest_failures.push((*fp, failing));
                }
            }
        }
    };
    // One buffer per thread, kept from run to run: fresh buffers for every run cost more
    // in page faults than the search itself.
    let mut buffers: Vec<Expansion<M>> = (0..threads).map(|_| Expansion::empty()).collect();
    let mut run_buffer: Vec<(Held<M>, u64)> = Vec::new();

    let mut depth = 0usize;
    // Runs of states are expanded on a pool of `threads` threads (see `pool_of`: kept for
    // this thread's later searches), where levels are large enough to share; the search
    // itself stays on this thread. A one-thread search (every shortening search of a
    // one-thread check among them) uses no pool.
    let pool = (threads > 1).then(|| pool_of(threads)).flatten();
    // Seconds and parents of the runs expanded on this thread alone, where there is a
    // pool: what a parent takes, by which a run is split or not (see `SHARE_ABOVE_SECONDS`;
    // before any was measured, runs are not split).
    let (mut alone_seconds, mut alone_parents) = (0.0f64, 0usize);
    // Shortening searches handed to the pool, to run beside this one (their findings are
    // settled once it ends), each with the key and the depth of the state the reduced
    // search found.
    let mut beside: Vec<(usize, u64, usize, ShorteningJob<M>)> = Vec::new();
    // The shortening search for property `i` down to `depth`, run on this thread.
    let shorten_here = |i: usize, depth: usize| -> Shortest<M> {
        let short = shortest_within(model, &properties[i], limits, threads, reduce, depth);
        (short, started.elapsed().as_secs_f64())
    };
    let mut levels = || {
        'search: while !level.is_empty() {
            max_depth = depth;
            let at_depth_limit = limits.max_depth.is_some_and(|d| depth >= d);
            // The operations clients finished are forgotten from the next level on, once
            // every property left undecided reads only the servers.
            if forget
                && settled_after.is_none()
                && model.forgets_settled()
                && (0..properties.len()).all(|i| {
                    found[i].is_some() || properties[i].client_steps == ClientSteps::Invisible
                })
            {
                settled_after = Some(depth);
                forgetting.settled = true;
            }
            // The model tells where steps lead only from states that hold nothing the
            // search forgets: not from the level's at the switch.
            let tell = settled_after != Some(depth);
            // Name sets of client steps at this level only if every property open at its
            // start allows it (decided at the start of the level, so that the result does
            // not depend on the threads).
            let por = if reduce.por() {
                Por::On {
                    client_steps: open_properties(&found).iter().all(|&i| {
                        matches!(
                            properties[i].client_steps,
                            ClientSteps::Invisible | ClientSteps::Stable
                        )
                    }),
                }
            } else if lean == Lean::Distances {
                Por::Keep {
                    crashes_out: properties.iter().all(|p| p.kind != Kind::Eventually),
                }
            } else {
                Por::Off
            };
            next_fps.clear();
            let mut next_level: Vec<(Held<M>, u64)> = Vec::new();
            let pack = level.len() >= HELD_WHOLE_BELOW;
            // Parents are taken out of the level run by run and dropped once expanded, so that
            // memory is freed as it was allocated (all at once fragments the allocator).
            let run_len = chunk_size(level.len());
            let mut parents_left = std::mem::take(&mut level).into_iter();
            loop {
                run_buffer.clear();
                run_buffer.extend(parents_left.by_ref().take(run_len * threads));
                if run_buffer.is_empty() {
                    break;
                }
                let chunk = &run_buffer[..];
                if interrupted() {
                    end = End::Limit("interrupted (Ctrl-C)".to_string());
                    break 'search;
                }
                if let Some(t) = limits.timeout {
                    if started.elapsed() >= t {
                        end = End::Limit(format!("timeout of {}s reached", t.as_secs_f64()));
                        break 'search;
                    }
                }
                if let Some(max) = limits.max_memory {
                    if resident_memory_bytes().is_some_and(|m| m > max) {
                        end = End::Limit(format!("memory limit of {} MB reached", max / 1_000_000));
                        break 'search;
                    }
                }
                progress.tick(Tick {
                    explored: transitions,
                    unique: parents.len(),
                    depth,
                    cases: 0,
                });
                let seen = &parents;
                let open = open_properties(&found);
                let found_here = &next_fps;
                // Split between the pool's threads only where it pays (nothing measured
                // yet: it does not).
                let per_parent = alone_seconds / alone_parents.max(1) as f64;
                let shared = pool.as_deref().filter(|_| {
                    chunk.len() >= FEWEST_SHARED
                        && per_parent * chunk.len() as f64 >= SHARE_ABOVE_SECONDS
                });
                let expanding = Instant::now();
                in_parallel(shared, chunk, &mut buffers, |run, out| {
                    expand(
                        run,
                        at_depth_limit,
                        pack,
                        seen,
                        found_here,
                        &open,
                        por,
                        forgetting,
                        tell,
                        out,
                    )
                });
                if pool.is_some() && shared.is_none() {
                    alone_seconds += expanding.elapsed().as_secs_f64();
                    alone_parents += chunk.len();
                }
                let mut over_limit = false;
                let mut cut_by_depth = false;
                for exp in &mut buffers {
                    transitions += std::mem::take(&mut exp.transitions);
                    reduced_states += std::mem::take(&mut exp.reduced);
                    if std::mem::take(&mut exp.sets_taken) > 0 {
                        first_set.get_or_insert(depth);
                    }
                    if std::mem::take(&mut exp.delays_left_out) > 0 {
                        first_left_out.get_or_insert(depth);
                    }
                    losses_waited += std::mem::take(&mut exp.losses_waited);
                    cut_by_depth |= std::mem::take(&mut exp.cut_by_depth);
                    for (fp, failing) in exp.at_rest_failures.drain(..) {
                        for i in failing {
                            if found[i].is_none() {
                                found[i] = Some((fp, started.elapsed().as_secs_f64()));
                            }
                        }
                    }
                    for (next, nfp, pfp, decides, forgot) in exp.successors.drain(..) {
                        if over_limit {
                            continue;
                        }
                        if let Entry::Vacant(e) = parents.entry(nfp) {
                            e.insert(pfp);
                            forgetting_states += usize::from(forgot);
                            for i in decides {
                                let i = usize::from(i);
                                if found[i].is_none() {
                                    found[i] = Some((nfp, started.elapsed().as_secs_f64()));
                                }
                            }
                            if matches!(por, Por::On { .. }) {
                                next_fps.insert(nfp);
                            }
                            next_level.push((next, nfp));
                            over_limit = limits.max_states.is_some_and(|m| parents.len() > m);
                        }
                    }
                }
                if cut_by_depth {
                    end = End::Limit(format!(
                        "depth limit {} reached with states left to expand",
                        limits.max_depth.unwrap_or(0)
                    ));
                }
                if reduce.por() {
                    let known: Vec<&OrbitMemo> = buffers.iter().map(|b| &b.orbits).collect();
                    for (i, f) in found.iter().enumerate() {
                        let pending = beside.iter().any(|(j, ..)| *j == i);
                        let (Some((fp, seconds)), None, false) = (f, &settled[i], pending) else {
                            continue;
                        };
                        let at_rest = properties[i].kind == Kind::Eventually;
                        let kept = keeps_violation_paths || (at_rest && keeps_rest_paths);
                        // The path is rebuilt only where it is kept (a shortening
                        // search finds its own).
                        let path = || {
                            rebuild(
                                model,
                                &parents,
                                *fp,
                                reduce,
                                (forgetting, settled_after),
                                &known,
                            )
                        };
                        // A shortest run to a violation takes no loss and no crash that
                        // only delays (its twin without them is shorter; see
                        // `crate::reduction`), and levels expanded without sets reach
                        // each state of such a run at its place in it: a violation found
                        // at depth d, with no set taken above depth d - 1, is at its
                        // shortest distance; a state at rest, with no set taken and no
                        // crash left out above its own depth.
                        let len = links_back(&parents, *fp).count();
                        let exact = if at_rest {
                            let first = [first_set, first_left_out].into_iter().flatten().min();
                            first.is_none_or(|r| r >= len)
                        } else {
                            first_set.is_none_or(|r| r + 1 >= len)
                        };
                        if exact || kept {
                            // Nothing that lengthens paths was done above it, or the
                            // reduced search reaches this violation (a state at rest, or
                            // any where the model's sets keep paths) as soon as the full
                            // one does: the path is a shortest one.
                            settled[i] = Some(Finding {
                                path: Some(path()),
                                seconds: Some(*seconds),
                                shortest: true,
                            });
                            continue;
                        }
                        let (property, depth) = (properties[i], len);
                        let twin = pool
                            .as_deref()
                            .filter(|_| next_level.len() >= SIDE_FRONTIER)
                            .and_then(|p| Some((p, model.twin()?)));
                        if let Some((pool, twin)) = twin {
                            // Beside this search, on the pool (with tables of its own,
                            // where the model packs states), unless this search gets
                            // to it first.
                            let job = Arc::new(SideJob::default());
                            let (mine, bounds) = (Arc::clone(&job), *limits);
                            pool.spawn(move || {
                                mine.run(|| {
                                    let short = shortest_within(
                                        &twin, &property, &bounds, 1, reduce, depth,
                                    );
                                    (short, started.elapsed().as_secs_f64())
                                })
                            });
                            beside.push((i, *fp, depth, job));
                        } else {
                            let (short, done) = shorten_here(i, depth);
                            settled[i] = Some(shortened(path, depth, short, done, &mut shortening));
                        }
                    }
                }
                if limits.until_found && found.iter().all(Option::is_some) {
                    end = End::Limit("stopped once every property was found".to_string());
                    // The states found at the next depth were visited (checked).
                    if !next_level.is_empty() {
                        max_depth = depth + 1;
                    }
                    break 'search;
                }
                if over_limit {
                    let m = limits.max_states.unwrap_or(0);
                    end = End::Limit(format!(
                        "state limit of {m} unique states reached (found one more)"
                    ));
                    break 'search;
                }
            }
            level = next_level;
            if !level.is_empty() {
                depth += 1;
            }
        }
    };
    levels();
    // What the shortening searches handed to the pool found: each is run here if no
    // thread of the pool has started it yet.
    let known: Vec<&OrbitMemo> = buffers.iter().map(|b| &b.orbits).collect();
    for (i, fp, depth, job) in beside {
        let (short, done) = job.claim().unwrap_or_else(|| shorten_here(i, depth));
        let path = || {
            let forgot = (forgetting, settled_after);
            rebuild(model, &parents, fp, reduce, forgot, &known)
        };
        settled[i] = Some(shortened(path, depth, short, done, &mut shortening));
    }

    let findings = found
        .iter()
        .zip(settled)
        .map(|(f, settled)| {
            settled.unwrap_or_else(|| Finding {
                path: f.map(|(fp, _)| {
                    rebuild(
                        model,
                        &parents,
                        fp,
                        reduce,
                        (forgetting, settled_after),
                        &known,
                    )
                }),
                seconds: f.map(|(_, s)| s),
                shortest: true,
            })
        })
        .collect();
    Search {
        findings,
        unique_states: parents.len(),
        transitions,
        max_depth,
        seconds: started.elapsed().as_secs_f64(),
        end,
        reduced_states,
        forgetting_states,
        losses_waited,
        shortening: (shortening.unique_states > 0).then_some(shortening),
        settled_after,
        apart: None,
    }
}

/// Rebuilds the path to the state with key `target` by replaying the model along the
/// chain of parent keys: each step is the one the link names ([`link`]), checked by where
/// it leads, else one found among the state's steps (with the symmetry reduction, each
/// step leads to some state of the recorded orbit: renaming maps steps to steps). With
/// the partial-order reduction or with `forget`, the keys are those of states with what
/// the model may forget taken out ([`Narrate::forget`]), and the path is replayed on the
/// states as they are: every step of the one is a step of the other.
fn rebuild<M>(
    model: &M,
    parents: &Visited,
    target: u64,
    reduce: Reduce,
    (forget, settled_after): (Forgetting, Option<usize>),
    known: &[&OrbitMemo],
) -> Path<M>
where
    M: Narrate,
    M::State: Hash + Clone,
    M::Action: Clone,
{
    // The keys from a start state to `target`, and the place of each step between them.
    let (mut chain, mut places) = (vec![target], Vec::new());
    for (p, place) in links_back(parents, target) {
        chain.push(p);
        places.push(place);
    }
    chain.reverse();
    places.reverse();
    // The state the search stored for `s` at `depth`: `s` with what it forgets there
    // taken out.
    let stored = |s: &M::State, depth: usize| -> Option<M::State> {
        let forget = forget.at_depth(depth, settled_after);
        (forget.unread || forget.order || forget.settled).then(|| {
            let mut s = s.clone();
            forget.apply(model, &mut s);
            s
        })
    };
    // The orbit key the search's workers remember for a state (by its own fingerprint).
    let remembered = |own: u64| known.iter().find_map(|m| m.get(own));
    // Whether `s`, at `depth`, is a state of key `want` (with the state the search stored
    // for it, where something was taken out): by the orbit key the workers remember for
    // it, else (unless `quick`) by its key worked out.
    let recorded = |s: &M::State, depth: usize, want: u64, quick: bool| {
        let kept = stored(s, depth);
        let t = kept.as_ref().unwrap_or(s);
        let found = (reduce.symmetry() && remembered(fingerprint(t)) == Some(want))
            || (!quick && key(model, reduce, t) == want);
        found.then_some(kept)
    };
    let mut path: Path<M> = Path {
        states: vec![model
            .init_states()
            .into_iter()
            .find(|s| recorded(s, 0, chain[0], false).is_some())
            .expect("the chain starts at a start state")],
        actions: Vec::new(),
    };
    let (mut actions, mut told) = (Vec::new(), Vec::new());
    // The path's last state as the search stored it, where something was taken out.
    let mut cur_kept = stored(path.last(), 0);
    for (at, want) in chain.iter().enumerate().skip(1) {
        let cur = path.last();
        // A step of the state the search stored taken on the path's state: `None` where
        // it is none of the full state's (something was taken out of the stored one) or
        // does not lead to a state of the recorded key (`quick`: by the orbit key the
        // workers remember only).
        let take = |action: M::Action, quick: bool| {
            if cur_kept.is_some() && !model.has_step(cur, &action) {
                return None;
            }
            let next = model.next_state(cur, action.clone())?;
            let kept = recorded(&next, at, *want, quick)?;
            Some((action, next, kept))
        };
        // The step the search took, by its place among the steps of the state it
        // expanded (the state the search stored), where the path so far is the one it
        // took: checked on the full state and by where it leads.
        let placed_step = |actions: &mut Vec<M::Action>| {
            let from = cur_kept.as_ref().unwrap_or(cur);
            actions.clear();
            model.actions(from, actions);
            let place = places[at - 1] as usize;
            if place >= actions.len() {
                return None;
            }
            take(actions.swap_remove(place), false)
        };
        // Else, under the symmetry reduction, where working keys out costs most, the step the
        // search took is found cheaply where the model tells where steps lead: from the
        // state the search stored, the first step told to lead to a state whose orbit key
        // the workers remember (the path's states were keyed) as the recorded one, checked
        // once built on the full state.
        let told_step = |actions: &mut Vec<M::Action>, told: &mut Vec<Option<Option<u64>>>| {
            let there = forget.at_depth(at, settled_after);
            if !reduce.symmetry() || forget.at_depth(at - 1, settled_after) != there {
                return None;
            }
            let from = cur_kept.as_ref().unwrap_or(cur);
            actions.clear();
            model.actions(from, actions);
            told.clear();
            model.successor_fingerprints(from, actions, there, told);
            let k = told
                .iter()
                .position(|t| t.flatten().and_then(remembered) == Some(*want))?;
            take(actions.swap_remove(k), true)
        };
        // Else the steps of the full state, built: first (under the symmetry reduction)
        // to a state whose orbit key the workers remember as the recorded one, then, if
        // none, to one whose key worked out is.
        let built_step = |actions: &mut Vec<M::Action>, quick: bool| {
            actions.clear();
            model.actions(cur, actions);
            actions.drain(..).find_map(|a| {
                let next = model.next_state(cur, a.clone())?;
                let kept = recorded(&next, at, *want, quick)?;
                Some((a, next, kept))
            })
        };
        let (a, s, kept) = placed_step(&mut actions)
            .or_else(|| told_step(&mut actions, &mut told))
            .or_else(|| {
                reduce
                    .symmetry()
                    .then(|| built_step(&mut actions, true))
                    .flatten()
            })
            .or_else(|| built_step(&mut actions, false))
            .expect("every recorded parent link is a transition of the model");
        path.actions.push(a);
        path.states.push(s);
        cur_kept = kept;
    }
    path
}

/// Visits every state reachable from the start states, breadth-first and unreduced, up
/// to `max_states` unique states: `visit` gets each state, its steps and where each leads
/// (`None`: nowhere). Stops at the first error `visit` returns. For self-checks and audits
/// that must see every step; returns the unique states visited.
pub fn walk<M>(
    model: &M,
    max_states: usize,
    mut visit: impl FnMut(&M::State, &[M::Action], &[Option<M::State>]) -> Result<(), String>,
) -> Result<usize, String>
where
    M: Model,
    M::State: Hash + Clone,
    M::Action: Clone,
{
    let mut seen: std::collections::HashSet<u64> = std::collections::HashSet::new();
    let mut queue: std::collections::VecDeque<M::State> = model.init_states().into();
    let (mut actions, mut nexts) = (Vec::new(), Vec::new());
    while let Some(state) = queue.pop_front() {
        if !seen.insert(fingerprint(&state)) {
            continue;
        }
        if seen.len() > max_states {
            break;
        }
        actions.clear();
        model.actions(&state, &mut actions);
        nexts.clear();
        nexts.extend(actions.iter().map(|a| model.next_state(&state, a.clone())));
        visit(&state, &actions, &nexts)?;
        queue.extend(nexts.drain(..).flatten());
    }
    Ok(seen.len().min(max_states))
}

/// A self-check of a model's [`Narrate::successor_fingerprints`],
/// [`Narrate::successors_enabled`] and [`Narrate::has_step`]: visits up to `max_states`
/// states breadth-first ([`walk`]) and, for every step the model tells about, compares
/// with the state built; after every step, compares [`Narrate::successors_enabled_since`]
/// (given the answers of the state before) with [`Narrate::successors_enabled`]; then
/// the same with what the model may forget taken out ([`Narrate::forget`]) of each state
/// and of the states its steps lead to. `has_step` must answer, for the state's steps,
/// its successors' and those of the state with what is forgotten taken out, whether the
/// state lists them. Returns how many told answers were compared, or the first step
/// told wrong.
pub fn verify_told_fingerprints<M>(model: &M, max_states: usize) -> Result<usize, String>
where
    M: Narrate,
    M::State: Hash + Clone,
    M::Action: Clone + PartialEq + std::fmt::Debug,
{
    let (mut told, mut enabled, mut compared) = (Vec::new(), Vec::new(), 0usize);
    let mut forgetting_actions = Vec::new();
    let (mut next_actions, mut plain, mut since) = (Vec::new(), Vec::new(), Vec::new());
    walk(model, max_states, |state, actions, nexts| {
        told.clear();
        model.successor_fingerprints(state, actions, Forgetting::default(), &mut told);
        enabled.clear();
        model.successors_enabled(state, actions, &mut enabled);
        for (k, (action, next)) in actions.iter().zip(nexts).enumerate() {
            let truth = next.as_ref().map(fingerprint);
            if let Some(&Some(said)) = told.get(k) {
                if said != truth {
                    return Err(format!(
                        "step '{}' was told to lead to {said:?} but leads to {truth:?}",
                        model.format_action(action)
                    ));
                }
                compared += 1;
            }
            if let Some(&Some(said)) = enabled.get(k) {
                if said != truth.is_some() {
                    return Err(format!(
                        "step '{}' was told {} but {}",
                        model.format_action(action),
                        if said {
                            "to lead somewhere"
                        } else {
                            "to lead nowhere"
                        },
                        if said {
                            "leads nowhere"
                        } else {
                            "leads somewhere"
                        },
                    ));
                }
                compared += 1;
            }
        }
        // What a walk asks after each step (the answers of the state before given) must be
        // what is told without them.
        let before = Told {
            state,
            actions,
            enabled: &enabled,
        };
        for (action, next) in actions.iter().zip(nexts) {
            let Some(next) = next else { continue };
            next_actions.clear();
            model.actions(next, &mut next_actions);
            plain.clear();
            since.clear();
            model.successors_enabled(next, &next_actions, &mut plain);
            model.successors_enabled_since(before, next, &next_actions, &mut since);
            if let Some(k) = (0..next_actions.len()).find(|&k| plain.get(k) != since.get(k)) {
                return Err(format!(
                    "after step '{}', step '{}' was told {:?} given the answers before it, \
                     but {:?} without",
                    model.format_action(action),
                    model.format_action(&next_actions[k]),
                    since.get(k),
                    plain.get(k)
                ));
            }
            compared += next_actions.len();
            // A successor's step is the state's own exactly when the state lists it.
            for a in &next_actions {
                if model.has_step(state, a) != actions.contains(a) {
                    return Err(format!(
                        "step '{}' of the state after '{}' was taken for one of the state's: {}",
                        model.format_action(a),
                        model.format_action(action),
                        model.has_step(state, a)
                    ));
                }
            }
        }
        if let Some(a) = actions.iter().find(|a| !model.has_step(state, a)) {
            return Err(format!(
                "step '{}' of the state was not taken for one of its own",
                model.format_action(a)
            ));
        }
        // The same, on the state with what the model may forget taken out, and also
        // without the order of client steps, or without the operations clients finished.
        for (order, settled) in [(false, false), (true, false), (false, true)] {
            if settled && !model.forgets_settled() {
                continue;
            }
            let forget = Forgetting {
                unread: true,
                order,
                settled,
            };
            let mut kept = state.clone();
            forget.apply(model, &mut kept);
            forgetting_actions.clear();
            model.actions(&kept, &mut forgetting_actions);
            // A step of the state with what the search forgets taken out is one of the
            // full state's exactly when the full state lists it (how a path found on such
            // states is replayed on full ones).
            for a in &forgetting_actions {
                if model.has_step(state, a) != actions.contains(a) {
                    return Err(format!(
                        "step '{}' of the state with what is forgotten taken out was {} for one \
                         of the full state's",
                        model.format_action(a),
                        if actions.contains(a) {
                            "not taken"
                        } else {
                            "taken"
                        }
                    ));
                }
            }
            told.clear();
            model.successor_fingerprints(&kept, &forgetting_actions, forget, &mut told);
            for (k, action) in forgetting_actions.iter().enumerate() {
                let Some(&Some(said)) = told.get(k) else {
                    continue;
                };
                let truth =
                    next_state(model, forget, &kept, action.clone()).map(|s| fingerprint(&s.0));
                if said != truth {
                    return Err(format!(
                        "step '{}' was told to lead to {said:?} but leads to {truth:?} (forgetting{})",
                        model.format_action(action),
                        if order {
                            " the order of client steps"
                        } else if settled {
                            " the operations clients finished"
                        } else {
                            ""
                        }
                    ));
                }
                compared += 1;
            }
        }
        Ok(())
    })?;
    Ok(compared)
}

#[cfg(test)]
mod side_job_tests {
    use super::SideJob;

    #[test]
    fn a_job_claimed_before_a_pool_thread_starts_it_is_the_claimers_to_run() {
        let job = SideJob::<u32>::default();
        assert_eq!(job.claim(), None);
        let mut ran = false;
        job.run(|| {
            ran = true;
            7
        });
        assert!(!ran, "a claimed job ran again on the pool");
    }

    #[test]
    fn a_job_the_pool_ran_gives_its_result_to_the_claimer() {
        let job = std::sync::Arc::new(SideJob::<u32>::default());
        let pool = std::sync::Arc::clone(&job);
        let worker = std::thread::spawn(move || pool.run(|| 7));
        worker.join().expect("the job ran");
        assert_eq!(job.claim(), Some(7));
    }

    #[test]
    fn a_claimer_waits_for_a_job_still_running_and_gets_its_panic() {
        let job = std::sync::Arc::new(SideJob::<u32>::default());
        let pool = std::sync::Arc::clone(&job);
        let (started, start) = std::sync::mpsc::channel();
        let worker = std::thread::spawn(move || {
            pool.run(|| {
                started.send(()).expect("the test waits");
                // Longer than the claimer waits awake: it must sleep and be woken.
                std::thread::sleep(std::time::Duration::from_millis(20));
                panic!("the job broke")
            })
        });
        start.recv().expect("the job started");
        let claimed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.claim()));
        let panic = claimed.expect_err("the job's panic goes on to the claimer");
        assert_eq!(panic.downcast_ref::<&str>(), Some(&"the job broke"));
        worker.join().expect("run catches the panic");
    }
}

#[cfg(test)]
mod link_tests {
    use super::{fingerprint, keep_steps, link, parent_of, Visited};

    #[test]
    fn a_link_gives_back_its_parent_and_the_place_of_the_step() {
        let mut parents = Visited::default();
        let keys: Vec<u64> = (0..1000u64).map(|i| fingerprint(&i)).collect();
        for &k in &keys {
            parents.insert(k, 0);
        }
        for (i, &k) in keys.iter().enumerate() {
            let step = (i % 300) as u32;
            assert_eq!(parent_of(&parents, link(k, step)), Some((k, step)));
        }
        // A link to no visited state names none.
        assert_eq!(
            parent_of(&parents, link(fingerprint(&"elsewhere"), 3)),
            None
        );
    }

    #[test]
    fn kept_steps_keep_their_places_in_the_models_list() {
        let mut actions: Vec<char> = "abcdef".chars().collect();
        let mut places: Vec<u32> = (0..6).collect();
        keep_steps(&mut actions, &mut places, |&a| a != 'b' && a != 'e');
        keep_steps(&mut actions, &mut places, |&a| a != 'a');
        assert_eq!(actions, vec!['c', 'd', 'f']);
        assert_eq!(places, vec![2, 3, 5]);
    }
}
