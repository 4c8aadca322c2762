//! Swarm search, after SPIN's swarm verification: many small depth-first searches of
//! the same model, each bounded (states, depth, time) and each diversified by its own
//! seed, which orders the enabled steps at every state. Where one exhaustive search
//! cannot finish, a swarm covers different corners of the state space with each
//! search, and the searches are independent: they split over threads, processes and
//! machines with no communication at all.
//!
//! A swarm can find violations (and examples) but can never prove that a property
//! holds: no search, and no union of them, is known to have visited every state.
//! What it does not find is reported *incomplete*.
//!
//! Search `k` of a swarm seeded with `seed` uses [`random::case_seed`]`(seed, k)`, so the
//! searches a shard makes are exactly those of the whole swarm that fall in the shard.

use crate::exhaustive::{fingerprint, interrupted};
use crate::progress::{Progress, Tick};
use crate::property::{Kind, Property};
use crate::random::{self, case_seed, enabled_steps};
use crate::shard::Shard;
use crate::trace::{Narrate, Path};
use stateright::Model;
use std::collections::HashSet;
use std::hash::Hash;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How much swarm search to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SwarmOptions {
    /// Depth-first searches in the whole swarm.
    pub searches: u32,
    /// Seed of the swarm: search `k` orders steps by `case_seed(seed, k)`.
    pub seed: u64,
    /// Each search stops after this many unique states.
    pub max_states: Option<usize>,
    /// Each search expands no state deeper than this many steps.
    pub max_depth: Option<usize>,
    /// The whole swarm (this shard of it) stops after this much wall time.
    pub timeout: Option<Duration>,
    /// Searches run at once.
    pub threads: usize,
}

/// What the swarm found for one property.
pub struct SwarmFinding<M: Model> {
    /// The shortest counterexample (or example) the searches found, minimized.
    pub path: Option<Path<M>>,
    /// The search that found it.
    pub search: Option<u32>,
    /// Seconds from the start of the swarm until a search first hit the property.
    pub first_seconds: Option<f64>,
}

/// The result of a swarm (or of a shard of one).
pub struct Swarm<M: Model> {
    /// One finding per property, in the order given.
    pub findings: Vec<SwarmFinding<M>>,
    /// Searches made.
    pub searches: u32,
    /// Searches that visited every state reachable within their depth bound.
    pub exhausted: u32,
    /// Unique states visited, summed over the searches.
    pub unique_states: usize,
    /// Deepest state any search visited.
    pub max_depth: usize,
    /// Wall time.
    pub seconds: f64,
    /// Why the swarm stopped before making all its searches (timeout, Ctrl-C).
    pub stopped: Option<String>,
}

/// What one depth-first search found.
struct Member {
    index: u32,
    /// Per property: the choices that reach the first state that hits it, and when.
    hits: Vec<Option<(Vec<u16>, f64)>>,
    unique_states: usize,
    max_depth: usize,
    exhausted: bool,
    /// Stopped by the swarm's timeout or by Ctrl-C.
    stopped: bool,
}

/// A small deterministic generator (splitmix64) for ordering steps.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The enabled steps of `state` with their positions (see [`random::choices_of`]), in the
/// order search `seed` tries them: a shuffle that depends on the seed and the state only.
fn ordered_steps<M>(model: &M, state: &M::State, fp: u64, seed: u64) -> Vec<(u16, M::State)>
where
    M: Narrate,
    M::Action: Clone,
{
    let mut steps: Vec<(u16, M::State)> = enabled_steps(model, state)
        .into_iter()
        .enumerate()
        .map(|(i, (_, s))| (u16::try_from(i).unwrap_or(u16::MAX), s))
        .collect();
    let mut rng = SplitMix(seed ^ fp.rotate_left(29));
    for i in (1..steps.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        steps.swap(i, j);
    }
    steps
}

/// One bounded depth-first search with its own step order.
fn member<M>(
    model: &M,
    properties: &[Property<M>],
    index: u32,
    opts: &SwarmOptions,
    started: Instant,
    total_states: &AtomicUsize,
    progress: &Progress,
) -> Member
where
    M: Narrate,
    M::State: Hash + Clone,
    M::Action: Clone,
{
    let seed = case_seed(opts.seed, index.into());
    let mut hits: Vec<Option<(Vec<u16>, f64)>> = vec![None; properties.len()];
    let mut visited: HashSet<u64> = HashSet::new();
    let mut max_depth = 0;
    let mut cut = false;
    let deadline = opts.timeout.map(|t| started + t);
    let Some(start) = model.init_states().into_iter().next() else {
        return Member {
            index,
            hits,
            unique_states: 0,
            max_depth,
            exhausted: true,
            stopped: false,
        };
    };

    // Judges a newly visited state reached by `choices`; true when every property is hit.
    let judge =
        |state: &M::State, at_rest: bool, choices: &[u16], hits: &mut [Option<(Vec<u16>, f64)>]| {
            for (h, p) in hits.iter_mut().zip(properties) {
                if h.is_some() {
                    continue;
                }
                let hit = match p.kind {
                    Kind::Eventually => at_rest && !(p.check)(model, state),
                    _ => random::hits_in_state(model, p, state),
                };
                if hit {
                    *h = Some((choices.to_vec(), started.elapsed().as_secs_f64()));
                }
            }
            hits.iter().all(Option::is_some)
        };

    let fp = fingerprint(&start);
    visited.insert(fp);
    let steps = ordered_steps(model, &start, fp, seed);
    let mut choices: Vec<u16> = Vec::new();
    let mut done = judge(
        &start,
        crate::trace::at_rest(model, &start),
        &choices,
        &mut hits,
    );
    // The stack holds, per state on the current path, the steps not yet tried.
    let mut stack: Vec<Vec<(u16, M::State)>> = vec![steps];
    let mut exhausted = false;
    let mut stopped = false;
    while !done {
        let Some(top) = stack.last_mut() else {
            exhausted = !cut;
            break;
        };
        let Some((i, state)) = top.pop() else {
            stack.pop();
            choices.pop();
            continue;
        };
        let fp = fingerprint(&state);
        if !visited.insert(fp) {
            continue;
        }
        let n = visited.len();
        if n % 1024 == 0 {
            let total = total_states.fetch_add(1024, Ordering::Relaxed) + 1024;
            progress.tick(Tick {
                explored: total,
                unique: total,
                depth: stack.len(),
                cases: 0,
            });
            if interrupted() || deadline.is_some_and(|d| Instant::now() >= d) {
                stopped = true;
                break;
            }
        }
        let depth = stack.len();
        max_depth = max_depth.max(depth);
        choices.push(i);
        let steps = ordered_steps(model, &state, fp, seed);
        done = judge(
            &state,
            crate::trace::at_rest(model, &state),
            &choices,
            &mut hits,
        );
        if opts.max_states.is_some_and(|m| n >= m) {
            break;
        }
        if opts.max_depth.is_some_and(|d| depth >= d) {
            cut |= !steps.is_empty();
            choices.pop();
            continue;
        }
        stack.push(steps);
    }
    Member {
        index,
        hits,
        unique_states: visited.len(),
        max_depth,
        exhausted,
        stopped,
    }
}

/// Runs the searches of `shard` (search `k` for `k % count == index`, `k` in
/// `0..opts.searches`), `opts.threads` at a time, checking `properties`; returns per
/// property the shortest path any search found, minimized.
pub fn search<M>(
    model: &M,
    properties: &[Property<M>],
    opts: &SwarmOptions,
    shard: Shard,
    progress: &Progress,
) -> Swarm<M>
where
    M: Narrate + Send + Sync + 'static,
    M::State: Hash + Clone + Send,
    M::Action: Clone + PartialEq,
{
    let started = Instant::now();
    let runs: Vec<u32> = shard.runs(opts.searches).collect();
    let next = AtomicU32::new(0);
    let total_states = AtomicUsize::new(0);
    let members: Mutex<Vec<Member>> = Mutex::new(Vec::new());
    let stopped = Mutex::new(None::<String>);
    std::thread::scope(|scope| {
        for _ in 0..opts.threads.clamp(1, runs.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some(&k) = runs.get(i) else { break };
                if interrupted() {
                    *stopped.lock().unwrap_or_else(|e| e.into_inner()) =
                        Some("interrupted (Ctrl-C)".to_string());
                    break;
                }
                if let Some(t) = opts.timeout {
                    if started.elapsed() >= t {
                        *stopped.lock().unwrap_or_else(|e| e.into_inner()) =
                            Some(format!("timeout of {}s reached", t.as_secs_f64()));
                        break;
                    }
                }
                let m = member(model, properties, k, opts, started, &total_states, progress);
                members.lock().unwrap_or_else(|e| e.into_inner()).push(m);
            });
        }
    });
    let mut members = members.into_inner().unwrap_or_else(|e| e.into_inner());
    members.sort_by_key(|m| m.index);
    let findings = properties
        .iter()
        .enumerate()
        .map(|(pi, p)| {
            let mut best: Option<(Path<M>, u32)> = None;
            let mut first: Option<f64> = None;
            for m in &members {
                let Some((choices, secs)) = &m.hits[pi] else {
                    continue;
                };
                first = Some(first.map_or(*secs, |f: f64| f.min(*secs)));
                let Some(path) = random::replay_choices(model, p, choices) else {
                    continue;
                };
                let path = random::minimize(model, p, path);
                if best.as_ref().is_none_or(|(b, _)| path.len() < b.len()) {
                    best = Some((path, m.index));
                }
            }
            SwarmFinding {
                search: best.as_ref().map(|(_, k)| *k),
                path: best.map(|(p, _)| p),
                first_seconds: first,
            }
        })
        .collect();
    let stopped = stopped.into_inner().unwrap_or_else(|e| e.into_inner());
    let stopped = stopped.or_else(|| {
        members.iter().any(|m| m.stopped).then(|| {
            if interrupted() {
                "interrupted (Ctrl-C)".to_string()
            } else {
                format!(
                    "timeout of {}s reached",
                    opts.timeout.unwrap_or_default().as_secs_f64()
                )
            }
        })
    });
    Swarm {
        findings,
        searches: members.len() as u32,
        exhausted: members.iter().filter(|m| m.exhausted).count() as u32,
        unique_states: members.iter().map(|m| m.unique_states).sum(),
        max_depth: members.iter().map(|m| m.max_depth).max().unwrap_or(0),
        seconds: started.elapsed().as_secs_f64(),
        stopped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_orders_differ_between_seeds_and_repeat_for_one() {
        let mut a = SplitMix(1);
        let mut b = SplitMix(1);
        let mut c = SplitMix(2);
        let xs: Vec<u64> = (0..4).map(|_| a.next()).collect();
        let ys: Vec<u64> = (0..4).map(|_| b.next()).collect();
        let zs: Vec<u64> = (0..4).map(|_| c.next()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }
}
