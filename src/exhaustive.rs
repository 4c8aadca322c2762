//! The exhaustive engine: a breadth-first search of splitbrain's own over a stateright
//! [`Model`] that returns the *shortest* counterexample of every property.
//!
//! stateright 0.31's BFS keeps the last violating state of a batch, not the first, so its
//! paths are not always the shortest. Here states are expanded strictly level by level
//! and every property is checked when a state is first discovered; the first violating
//! state found therefore lies at the smallest depth, and its parent chain is a shortest
//! path. Visited states are kept as 64-bit fingerprints with their parent's fingerprint
//! (about 16 bytes of payload per state); the path is rebuilt by replaying the model.

use crate::progress::{Progress, Tick};
use crate::property::{Kind, Property};
use crate::trace::{Narrate, Path};
use stateright::Model;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};
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
}

/// A state's 64-bit fingerprint (deterministic across runs and machines).
pub fn fingerprint<T: Hash>(value: &T) -> u64 {
    let mut h = DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

/// Breadth-first search of every state of `model` reachable within `limits`, checking
/// `properties` as it goes. Found paths are shortest.
pub fn search<M>(model: &M, properties: &[Property<M>], limits: &Limits) -> Search<M>
where
    M: Narrate,
    M::State: Hash + Clone,
    M::Action: Clone,
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
    M: Narrate,
    M::State: Hash + Clone,
    M::Action: Clone,
{
    let started = Instant::now();
    // fingerprint -> parent fingerprint (0 for a start state)
    let mut parents: HashMap<u64, u64> = HashMap::new();
    let mut queue: VecDeque<(M::State, u64, usize)> = VecDeque::new();
    let mut found: Vec<Option<(u64, f64)>> = vec![None; properties.len()];
    let mut max_depth = 0;
    let mut transitions = 0;
    let mut end = End::Complete;

    let check_new = |state: &M::State, fp: u64, found: &mut Vec<Option<(u64, f64)>>| {
        for (i, p) in properties.iter().enumerate() {
            if found[i].is_some() {
                continue;
            }
            let ok = (p.check)(model, state);
            let hit = match p.kind {
                Kind::Always => !ok,
                Kind::Sometimes => ok,
                Kind::Eventually => false,
            };
            if hit {
                found[i] = Some((fp, started.elapsed().as_secs_f64()));
            }
        }
    };

    for s in model.init_states() {
        if !model.within_boundary(&s) {
            continue;
        }
        let fp = fingerprint(&s);
        if let Entry::Vacant(e) = parents.entry(fp) {
            e.insert(0);
            check_new(&s, fp, &mut found);
            queue.push_back((s, fp, 0));
        }
    }

    let mut actions = Vec::new();
    let mut expanded = 0u64;
    'search: while let Some((state, fp, depth)) = queue.pop_front() {
        expanded += 1;
        if interrupted() {
            end = End::Limit("interrupted (Ctrl-C)".to_string());
            break;
        }
        if let Some(t) = limits.timeout {
            if started.elapsed() >= t {
                end = End::Limit(format!("timeout of {}s reached", t.as_secs_f64()));
                break;
            }
        }
        if expanded % 4096 == 0 {
            progress.tick(Tick {
                explored: transitions,
                unique: parents.len(),
                depth,
                cases: 0,
            });
        }
        if let Some(max) = limits.max_memory {
            if expanded % 4096 == 0 && resident_memory_bytes().is_some_and(|m| m > max) {
                end = End::Limit(format!("memory limit of {} MB reached", max / 1_000_000));
                break;
            }
        }
        max_depth = max_depth.max(depth);
        actions.clear();
        model.actions(&state, &mut actions);
        let mut successors = 0usize;
        let at_depth_limit = limits.max_depth.is_some_and(|d| depth >= d);
        for action in actions.drain(..) {
            let spontaneous = model.spontaneous(&action);
            let Some(next) = model.next_state(&state, action) else {
                continue;
            };
            if !spontaneous {
                successors += 1;
            }
            if at_depth_limit {
                end = End::Limit(format!(
                    "depth limit {} reached with states left to expand",
                    limits.max_depth.unwrap_or(0)
                ));
                break;
            }
            transitions += 1;
            if !model.within_boundary(&next) {
                continue;
            }
            let nfp = fingerprint(&next);
            if let Entry::Vacant(e) = parents.entry(nfp) {
                e.insert(fp);
                check_new(&next, nfp, &mut found);
                queue.push_back((next, nfp, depth + 1));
                if let Some(m) = limits.max_states {
                    if parents.len() > m {
                        end = End::Limit(format!(
                            "state limit of {m} unique states reached (found one more)"
                        ));
                        break 'search;
                    }
                }
            }
        }
        if successors == 0 {
            // A state at rest (nothing but a crash can happen): judge the `eventually`
            // properties.
            for (i, p) in properties.iter().enumerate() {
                if p.kind == Kind::Eventually && found[i].is_none() && !(p.check)(model, &state) {
                    found[i] = Some((fp, started.elapsed().as_secs_f64()));
                }
            }
        }
    }

    let findings = found
        .iter()
        .map(|f| Finding {
            path: f.map(|(fp, _)| rebuild(model, &parents, fp)),
            seconds: f.map(|(_, s)| s),
        })
        .collect();
    Search {
        findings,
        unique_states: parents.len(),
        transitions,
        max_depth,
        seconds: started.elapsed().as_secs_f64(),
        end,
    }
}

/// Rebuilds the path to the state with fingerprint `target` by replaying the model along
/// the chain of parent fingerprints.
fn rebuild<M>(model: &M, parents: &HashMap<u64, u64>, target: u64) -> Path<M>
where
    M: Narrate,
    M::State: Hash + Clone,
    M::Action: Clone,
{
    let mut chain = vec![target];
    let mut cur = target;
    while let Some(&p) = parents.get(&cur) {
        if p == 0 {
            break;
        }
        chain.push(p);
        cur = p;
    }
    chain.reverse();
    let start = model
        .init_states()
        .into_iter()
        .find(|s| fingerprint(s) == chain[0])
        .expect("the chain starts at a start state");
    let mut path: Path<M> = Path {
        states: vec![start],
        actions: Vec::new(),
    };
    let mut actions = Vec::new();
    for want in &chain[1..] {
        let cur: M::State = path.last().clone();
        actions.clear();
        model.actions(&cur, &mut actions);
        let (a, s) = actions
            .drain(..)
            .find_map(|a| {
                model
                    .next_state(&cur, a.clone())
                    .filter(|s| fingerprint(s) == *want)
                    .map(|s| (a, s))
            })
            .expect("every recorded parent link is a transition of the model");
        path.actions.push(a);
        path.states.push(s);
    }
    path
}
