//! The random engine: proptest draws schedules (which enabled step happens next, which
//! includes losing a message, timing out or crashing) and shrinks a failing schedule.
//!
//! A schedule is a list of numbers; at each state, number `k` picks enabled step
//! `k mod n` among the `n` steps that change the state. Every `always` property is checked
//! after every step, `eventually` properties when the run comes to rest, and a
//! `sometimes` property is reported when a run reaches a state that satisfies it.
//! Random search can find a violation (or an example) but never proves that a property
//! holds: what it does not find is reported *incomplete*.

use crate::progress::{Progress, Tick};
use crate::property::{Kind, Property};
use crate::shard::Shard;
use crate::trace::{Narrate, Path, Told};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{
    Config, FileFailurePersistence, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner,
};
use stateright::Model;
use std::time::Instant;

/// How much random search to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RandomOptions {
    /// Runs (proptest cases) per property.
    pub cases: u32,
    /// Longest schedule drawn.
    pub max_steps: usize,
    /// Seed of the random generator: the same seed draws the same schedules.
    pub seed: u64,
}

impl Default for RandomOptions {
    fn default() -> Self {
        RandomOptions {
            cases: 2_000,
            max_steps: 64,
            seed: 0,
        }
    }
}

/// What random search found for one property.
pub struct RandomFinding<M: Model> {
    /// A shrunk counterexample (or example, for `sometimes`).
    pub path: Option<Path<M>>,
    /// Seconds until the first failing run was drawn (before shrinking).
    pub first_seconds: Option<f64>,
    /// Seconds spent in all, shrinking included.
    pub seconds: f64,
    /// Runs drawn before the first failing one (or all of them).
    pub cases: u32,
    /// The run that hit the property (its index among `0..cases` of the whole search).
    pub case: Option<u32>,
    /// The shrunk schedule that reproduces `path`.
    pub schedule: Option<Vec<u16>>,
}

/// Runs `schedule` from the (first) start state. Returns the path taken and, if the
/// property `p` is hit on the way, the index of the state that hits it.
pub fn run_schedule<M>(model: &M, p: &Property<M>, schedule: &[u16]) -> (Path<M>, bool)
where
    M: Narrate,
    M::State: Clone,
    M::Action: Clone,
{
    let mut path = start_path(model);
    let (_, hit) = walk_from(model, p, schedule, path.states[0].clone(), |a, s| {
        path.actions.push(a.clone());
        path.states.push(s.clone());
    });
    (path, hit)
}

/// Runs `schedule` from the (first) start state as [`run_schedule`] does, keeping only the
/// state it is in: returns the steps taken and whether the property `p` was hit. (A
/// search walks many schedules and needs the path of the one that hits only;
/// [`run_schedule`] builds it.)
pub fn walk<M>(model: &M, p: &Property<M>, schedule: &[u16]) -> (usize, bool)
where
    M: Narrate,
    M::Action: Clone,
{
    let start = model
        .init_states()
        .into_iter()
        .next()
        .expect("a model has a start state");
    walk_from(model, p, schedule, start, |_, _| {})
}

/// The walk of [`run_schedule`] and [`walk`] from `start`: at each state, number `k` of
/// `schedule` takes enabled step `k mod n` of the `n` ([`enabled_steps`]), handed to
/// `taken` with the state it leads to. Returns the steps taken and whether `p` was hit.
fn walk_from<M>(
    model: &M,
    p: &Property<M>,
    schedule: &[u16],
    start: M::State,
    mut taken: impl FnMut(&M::Action, &M::State),
) -> (usize, bool)
where
    M: Narrate,
    M::Action: Clone,
{
    let hits = |s: &M::State| hits_in_state(model, p, s);
    let mut cur = start;
    if hits(&cur) {
        return (0, true);
    }
    let mut choices = schedule.iter();
    let (mut actions, mut told) = (Vec::new(), Vec::new());
    // The state before and its actions and answers, which the model may answer again
    // for steps the step taken did not touch.
    let mut before: Option<M::State> = None;
    let (mut before_actions, mut before_told) = (Vec::new(), Vec::new());
    // The steps enabled (positions in `actions`), and the states built to tell whether
    // a step leads somewhere, where the model could not tell without.
    let mut enabled = Enabled::new();
    let mut built: Vec<(usize, M::State)> = Vec::new();
    let mut steps = 0;
    loop {
        let since = before.as_ref().map(|state| Told {
            state,
            actions: &before_actions,
            enabled: &before_told,
        });
        steps_enabled(
            model,
            (since, &cur),
            (&mut actions, &mut told),
            &mut enabled,
            &mut built,
        );
        if enabled
            .iter()
            .all(|&k| model.spontaneous(&cur, &actions[k]))
        {
            // At rest (only crashes and losses of messages nobody will read left): judge
            // `eventually` here and end the run.
            let at_rest_broken = p.kind == Kind::Eventually && !(p.check)(model, &cur);
            return (steps, at_rest_broken);
        }
        let Some(&c) = choices.next() else {
            return (steps, false);
        };
        let k = enabled[c as usize % enabled.len()];
        let next = match built.iter().position(|(j, _)| *j == k) {
            Some(at) => built.swap_remove(at).1,
            None => model
                .next_state(&cur, actions[k].clone())
                .expect("a step the model said leads somewhere leads somewhere"),
        };
        taken(&actions[k], &next);
        before = Some(std::mem::replace(&mut cur, next));
        std::mem::swap(&mut actions, &mut before_actions);
        std::mem::swap(&mut told, &mut before_told);
        steps += 1;
        if hits(&cur) {
            return (steps, true);
        }
    }
}

/// A path holding only the model's (first) start state.
pub(crate) fn start_path<M: Model>(model: &M) -> Path<M> {
    let start = model
        .init_states()
        .into_iter()
        .next()
        .expect("a model has a start state");
    Path {
        states: vec![start],
        actions: Vec::new(),
    }
}

/// True when state `s` alone decides property `p`: it breaks an `always` property or
/// satisfies a `sometimes` one. (`eventually` is judged only where a run comes to rest.)
pub(crate) fn hits_in_state<M: Model>(model: &M, p: &Property<M>, s: &M::State) -> bool {
    match p.kind {
        Kind::Always => !(p.check)(model, s),
        Kind::Sometimes => (p.check)(model, s),
        Kind::Eventually => false,
    }
}

/// The proptest seed bytes for a numeric seed.
fn seed_bytes(seed: u64) -> [u8; 32] {
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&seed.to_le_bytes());
    b[8..16].copy_from_slice(&seed.rotate_left(17).to_le_bytes());
    b
}

/// The seed of run `k` of a search seeded with `seed`: the `k`-th output of a splitmix64
/// stream started at `seed`. Every run (a random case, a swarm search) draws from its own
/// seed, so any subset of the runs can be made alone, on any machine, in any order: a
/// search split into shards makes exactly the runs of the unsplit one.
pub fn case_seed(seed: u64, k: u64) -> u64 {
    let mut z = seed.wrapping_add(k.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Random search for one property: runs `0..opts.cases`.
pub fn search_property<M>(model: &M, p: &Property<M>, opts: &RandomOptions) -> RandomFinding<M>
where
    M: Narrate,
    M::State: Clone,
    M::Action: Clone + PartialEq,
{
    search_property_with_progress(model, p, opts, &Progress::hidden())
}

/// [`search_property`], reporting the runs drawn.
pub fn search_property_with_progress<M>(
    model: &M,
    p: &Property<M>,
    opts: &RandomOptions,
    progress: &Progress,
) -> RandomFinding<M>
where
    M: Narrate,
    M::State: Clone,
    M::Action: Clone + PartialEq,
{
    search_shard(model, p, opts, Shard::WHOLE, progress)
}

/// Random search for one property over the runs of one shard (`k % count == index` for
/// `k` in `0..opts.cases`), in order; stops at the first run that hits the property and
/// shrinks its schedule with proptest, then by deleting single steps.
///
/// Run `k` draws its schedule from its own proptest generator seeded with
/// [`case_seed`]`(opts.seed, k)`, so a shard finds what the whole search finds on its
/// runs, whatever the number of shards: the union of the shards is the whole search,
/// and the shard holding the whole search's first failing run finds that very run.
pub fn search_shard<M>(
    model: &M,
    p: &Property<M>,
    opts: &RandomOptions,
    shard: Shard,
    progress: &Progress,
) -> RandomFinding<M>
where
    M: Narrate,
    M::State: Clone,
    M::Action: Clone + PartialEq,
{
    let started = Instant::now();
    let first = std::cell::Cell::new(None::<f64>);
    let strategy = vec(any::<u16>(), 0..=opts.max_steps);
    let mut drawn = 0u32;
    for k in shard.runs(opts.cases) {
        if crate::exhaustive::interrupted() {
            break;
        }
        drawn += 1;
        if drawn % 64 == 0 {
            progress.tick(Tick {
                cases: drawn.into(),
                ..Tick::default()
            });
        }
        // One proptest runner per run, drawing one case from the run's own seed; on a
        // failure it shrinks the schedule as proptest always does.
        let config = Config {
            cases: 1,
            failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
            max_shrink_iters: 100_000,
            max_shrink_time: 60_000,
            ..Config::default()
        };
        let rng = TestRng::from_seed(
            RngAlgorithm::ChaCha,
            &seed_bytes(case_seed(opts.seed, k.into())),
        );
        let mut runner = TestRunner::new_with_rng(config, rng);
        let result = runner.run(&strategy, |schedule| {
            if crate::exhaustive::interrupted() {
                return Ok(());
            }
            let (_, hit) = walk(model, p, &schedule);
            if hit {
                if first.get().is_none() {
                    first.set(Some(started.elapsed().as_secs_f64()));
                }
                return Err(TestCaseError::fail("property hit"));
            }
            Ok(())
        });
        if let Err(TestError::Fail(_, schedule)) = result {
            let path = minimize(model, p, run_schedule(model, p, &schedule).0);
            return RandomFinding {
                path: Some(path),
                first_seconds: first.get(),
                seconds: started.elapsed().as_secs_f64(),
                cases: drawn,
                case: Some(k),
                schedule: Some(schedule),
            };
        }
    }
    RandomFinding {
        path: None,
        first_seconds: None,
        seconds: started.elapsed().as_secs_f64(),
        cases: drawn,
        case: None,
        schedule: None,
    }
}

/// The steps enabled in `state`, in the model's order: the actions that change the state
/// and stay within the model's boundary, with the state each leads to. A schedule's
/// number `k` picks step `k mod n` of these `n`.
pub fn enabled_steps<M>(model: &M, state: &M::State) -> Vec<(M::Action, M::State)>
where
    M: Narrate,
    M::Action: Clone,
{
    let (mut actions, mut told) = (Vec::new(), Vec::new());
    let (mut enabled, mut built) = (Enabled::new(), Vec::new());
    steps_enabled(
        model,
        (None, state),
        (&mut actions, &mut told),
        &mut enabled,
        &mut built,
    );
    enabled
        .iter()
        .map(|&k| {
            let s = match built.iter().position(|(j, _)| *j == k) {
                Some(at) => built.swap_remove(at).1,
                None => model
                    .next_state(state, actions[k].clone())
                    .expect("a step the model said leads somewhere leads somewhere"),
            };
            (actions[k].clone(), s)
        })
        .collect()
}

/// Positions of the steps enabled in a state, in the model's order.
type Enabled = smallvec::SmallVec<[usize; 32]>;

/// The steps enabled in `state` ([`enabled_steps`]): fills `actions` with the model's
/// actions, `enabled` with the positions of those that change the state and stay within
/// the model's boundary, and `built` with the states built to tell, where the model
/// could not tell without (`told` is filled with what the model told). Where `state` was
/// reached by a step from a state whose answers are `since`, the model is asked with those
/// ([`Narrate::successors_enabled_since`]).
fn steps_enabled<M>(
    model: &M,
    (since, state): (Option<Told<'_, M>>, &M::State),
    (actions, told): (&mut Vec<M::Action>, &mut Vec<Option<bool>>),
    enabled: &mut Enabled,
    built: &mut Vec<(usize, M::State)>,
) where
    M: Narrate,
    M::Action: Clone,
{
    actions.clear();
    model.actions(state, actions);
    told.clear();
    match since {
        Some(before) => model.successors_enabled_since(before, state, actions, told),
        None => model.successors_enabled(state, actions, told),
    }
    enabled.clear();
    built.clear();
    for (k, a) in actions.iter().enumerate() {
        match told.get(k) {
            Some(Some(false)) => {}
            Some(Some(true)) => enabled.push(k),
            _ => {
                if let Some(s) = model.next_state(state, a.clone()) {
                    if model.within_boundary(&s) {
                        enabled.push(k);
                        built.push((k, s));
                    }
                }
            }
        }
    }
}

/// The choices that replay `path` exactly: at each state, the position of the step taken
/// among [`enabled_steps`]. `None` if a step is not enabled where the path takes it, or
/// if more than 65,536 steps are enabled at once.
pub fn choices_of<M>(model: &M, path: &Path<M>) -> Option<Vec<u16>>
where
    M: Narrate,
    M::Action: Clone + PartialEq,
{
    path.actions
        .iter()
        .zip(&path.states)
        .map(|(a, s)| {
            let i = enabled_steps(model, s).iter().position(|(b, _)| b == a)?;
            u16::try_from(i).ok()
        })
        .collect()
}

/// Replays `choices` (see [`choices_of`]) from the start state and returns the path if it
/// hits property `p` (stopping at the first state that does).
pub fn replay_choices<M>(model: &M, p: &Property<M>, choices: &[u16]) -> Option<Path<M>>
where
    M: Narrate,
    M::State: Clone,
    M::Action: Clone,
{
    let (path, hit) = run_schedule(model, p, choices);
    hit.then_some(path)
}

/// Replays `actions` from the start state, each only if it is still enabled, and stops at
/// the first state that hits `p`. Returns the path if it hits.
fn replay_hits<M>(model: &M, p: &Property<M>, actions: &[M::Action]) -> Option<Path<M>>
where
    M: Narrate,
    M::State: Clone,
    M::Action: Clone + PartialEq,
{
    let mut path = start_path(model);
    let hits = |s: &M::State| hits_in_state(model, p, s);
    if hits(path.last()) {
        return Some(path);
    }
    let mut enabled = Vec::new();
    for a in actions {
        // Only an action the model offers here may be taken (stateright panics otherwise).
        enabled.clear();
        model.actions(path.last(), &mut enabled);
        if !enabled.contains(a) {
            return None;
        }
        let next = model.next_state(path.last(), a.clone())?;
        if !model.within_boundary(&next) {
            return None;
        }
        path.actions.push(a.clone());
        path.states.push(next);
        if hits(path.last()) {
            return Some(path);
        }
    }
    if p.kind == Kind::Eventually
        && !(p.check)(model, path.last())
        && crate::trace::at_rest(model, path.last())
    {
        return Some(path);
    }
    None
}

/// Shortens a failing path further than proptest's shrinking can (its choices are
/// positions among the enabled steps, so deleting one shifts the meaning of the rest):
/// deletes single steps, by identity, for as long as the rest still fails.
pub fn minimize<M>(model: &M, p: &Property<M>, path: Path<M>) -> Path<M>
where
    M: Narrate,
    M::State: Clone,
    M::Action: Clone + PartialEq,
{
    let mut best = path;
    let mut i = 0;
    while i < best.actions.len() {
        let mut fewer = best.actions.clone();
        fewer.remove(i);
        match replay_hits(model, p, &fewer) {
            Some(shorter) if shorter.len() < best.len() => {
                best = shorter;
                i = 0;
            }
            _ => i += 1,
        }
    }
    best
}
