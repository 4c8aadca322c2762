//! Running a check: pick the properties, run an engine, turn what it found into verdicts.

use crate::bounds::Bounds;
use crate::error::Error;
use crate::exhaustive::{self, End, Limits};
use crate::liveness;
use crate::progress::Progress;
use crate::property::{Kind, Property};
use crate::random::{self, RandomOptions};
use crate::report::{CheckReport, PropertyResult, Verdict};
use crate::shard::Shard;
use crate::swarm::{self, SwarmOptions};
use crate::trace::{Narrate, Path, Trace};
use std::hash::Hash;
use std::time::Instant;

/// Which engine runs a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Engine {
    /// Exhaustive breadth-first search with shortest counterexamples.
    Bfs,
    /// Random schedules drawn and shrunk by proptest.
    Random,
    /// Many diversified, bounded depth-first searches (finds violations, never proves).
    Swarm,
}

impl Engine {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Bfs => "bfs",
            Engine::Random => "random",
            Engine::Swarm => "swarm",
        }
    }

    /// True for the engines whose runs split into shards (random and swarm search).
    pub fn shards(self) -> bool {
        self != Engine::Bfs
    }
}

/// A counterexample found elsewhere (by a shard), to replay, minimize and judge again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The property it breaks (or, for `sometimes`, reaches).
    pub property: String,
    /// The trace as positions among the enabled steps (see [`random::choices_of`]).
    pub choices: Vec<u16>,
    /// Where it was found, in words ("shard 3/8, run 17").
    pub origin: String,
    /// The run (random) or search (swarm) that found it.
    pub found_in: Option<u64>,
    /// The command that finds it again.
    pub reproduce: Option<String>,
}

/// How to run a check.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// The engine.
    pub engine: Engine,
    /// Limits of the exhaustive search (for a swarm: of each of its searches; for a
    /// replay: of the breadth-first search that looks for shorter traces).
    pub limits: Limits,
    /// Settings of the random search (for a swarm: `cases` is its number of searches).
    pub random: RandomOptions,
    /// Properties to check (empty: all of the model's).
    pub properties: Vec<String>,
    /// Threads for the random engine (properties searched at once) and the swarm
    /// (searches made at once).
    pub threads: usize,
    /// Show a live progress line on a terminal for checks longer than a second.
    pub progress: bool,
    /// The part of a random or swarm search to run (the whole search by default).
    pub shard: Shard,
    /// Instead of searching, replay these counterexamples (found by the shards of a
    /// random or swarm search), minimize them and keep the shortest per property.
    pub replay: Option<Vec<Candidate>>,
    /// The state-space reduction BFS applies (`--reduce`).
    pub reduce: crate::reduction::Reduce,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            engine: Engine::Bfs,
            limits: Limits::default(),
            random: RandomOptions::default(),
            properties: Vec::new(),
            threads: 1,
            progress: false,
            shard: Shard::WHOLE,
            replay: None,
            reduce: crate::reduction::Reduce::None,
        }
    }
}

/// Who is being checked, for the report.
pub struct Subject<'a> {
    /// Model name.
    pub model: &'a str,
    /// Variant name.
    pub variant: &'a str,
    /// Expected verdict per property name.
    pub expect: &'a [(&'static str, Verdict)],
    /// The bounds checked.
    pub bounds: Bounds,
    /// The model's default bounds (to write the shortest reproduce command).
    pub defaults: Bounds,
}

/// Picks the named properties (all when `names` is empty); an unknown name is an error
/// that lists the valid ones.
pub fn select<'p, M: stateright::Model>(
    properties: &'p [Property<M>],
    names: &[String],
) -> Result<Vec<&'p Property<M>>, Error> {
    if names.is_empty() {
        return Ok(properties.iter().collect());
    }
    names
        .iter()
        .map(|n| {
            properties.iter().find(|p| p.name == n).ok_or_else(|| {
                Error::BadInput(format!(
                    "unknown property '{n}'; valid choices: {}",
                    properties
                        .iter()
                        .map(|p| p.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
        })
        .collect()
}

/// The reproduce command for a check.
fn command(subject: &Subject, opts: &CheckOptions) -> String {
    let mut c = format!(
        "splitbrain check {} --variant {}",
        subject.model, subject.variant
    );
    let (b, d) = (&subject.bounds, &subject.defaults);
    // The bounds that differ from the model's defaults (compared as values: a check's
    // fixed cost counts on the smallest models).
    let flags: [(&str, &dyn std::fmt::Display, bool); 7] = [
        ("clients", &b.clients, b.clients != d.clients),
        ("ops", &b.ops, b.ops != d.ops),
        ("servers", &b.servers, b.servers != d.servers),
        ("balance", &b.balance, b.balance != d.balance),
        ("network", &b.network.as_str(), b.network != d.network),
        ("loss", &b.loss, b.loss != d.loss),
        ("crashes", &b.crashes, b.crashes != d.crashes),
    ];
    for (name, v, differs) in flags {
        if differs {
            c.push_str(&format!(" --{name} {v}"));
        }
    }
    let random = &opts.random;
    match opts.engine {
        Engine::Bfs if opts.reduce != crate::reduction::Reduce::None => {
            c.push_str(&format!(" --reduce {}", opts.reduce.as_str()));
        }
        Engine::Bfs => {}
        Engine::Random => c.push_str(&format!(
            " --engine random --seed {} --cases {} --max-steps {}",
            random.seed, random.cases, random.max_steps
        )),
        Engine::Swarm => {
            c.push_str(&format!(
                " --engine swarm --seed {} --cases {}",
                random.seed, random.cases
            ));
            if let Some(m) = opts.limits.max_states {
                c.push_str(&format!(" --max-states {m}"));
            }
            if let Some(d) = opts.limits.max_depth {
                c.push_str(&format!(" --max-depth {d}"));
            }
            if let Some(t) = opts.limits.timeout {
                c.push_str(&format!(" --timeout {}", t.as_secs_f64()));
            }
        }
    }
    if opts.engine.shards() && opts.shard != Shard::WHOLE && opts.replay.is_none() {
        c.push_str(&format!(" --shard {}", opts.shard));
    }
    c
}

/// What an engine found, before judging.
struct Outcome {
    results: Vec<PropertyResult>,
    complete: bool,
    end: String,
}

/// Runs a check of `properties` on `model` and judges every verdict.
pub fn run<M>(
    model: &M,
    properties: &[Property<M>],
    subject: &Subject,
    opts: &CheckOptions,
) -> Result<CheckReport, Error>
where
    M: Narrate + Send + Sync + 'static,
    M::State: Hash + Clone + Send + Sync + 'static,
    M::Action: Clone + Send + PartialEq,
{
    let chosen: Vec<Property<M>> = select(properties, &opts.properties)?
        .into_iter()
        .copied()
        .collect();
    let expected = |name: &str| {
        subject
            .expect
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .unwrap_or(Verdict::Holds)
    };
    let command = command(subject, opts);
    let progress = Progress::new(
        &format!("{}/{}", subject.model, subject.variant),
        opts.progress,
    );
    let ctx = Context {
        model,
        chosen: &chosen,
        subject,
        opts,
        expected: &expected,
        progress: &progress,
    };
    let outcome = match (&opts.replay, opts.engine) {
        (Some(candidates), _) => replay(&ctx, candidates)?,
        (None, Engine::Bfs) => bfs(&ctx),
        (None, Engine::Random) => random_search(&ctx),
        (None, Engine::Swarm) => swarm_search(&ctx),
    };
    progress.finish();
    Ok(CheckReport {
        model: subject.model.to_string(),
        variant: subject.variant.to_string(),
        bounds: subject.bounds,
        setting: subject.bounds.describe(),
        engine: opts.engine.as_str(),
        reduce: opts.reduce.as_str(),
        complete: outcome.complete,
        end: outcome.end,
        results: outcome.results,
        command,
    })
}

/// What every engine needs.
struct Context<'a, M: Narrate> {
    model: &'a M,
    chosen: &'a [Property<M>],
    subject: &'a Subject<'a>,
    opts: &'a CheckOptions,
    expected: &'a dyn Fn(&str) -> Verdict,
    progress: &'a Progress,
}

impl<M: Narrate> Context<'_, M> {
    /// A result with its trace told, and nothing else filled in.
    fn result(&self, p: &Property<M>, verdict: Verdict, path: Option<&Path<M>>) -> PropertyResult {
        PropertyResult {
            property: p.name,
            claim: p.claim,
            kind: p.kind,
            expected: (self.expected)(p.name),
            verdict,
            unique_states: 0,
            max_depth: path.map_or(0, Path::len),
            seconds: 0.0,
            seconds_to_trace: None,
            trace: path.map(|path| {
                Trace::from_path(self.model, path, (p.values)(self.model, path.last()))
            }),
            note: None,
            runs: None,
            choices: None,
            found_in: None,
            shortest: false,
            reproduce: None,
        }
    }
}

/// The verdict of a search that never proves anything: it found a path or not.
fn found_verdict(kind: Kind, found: bool) -> Verdict {
    match (kind, found) {
        (Kind::Sometimes, true) => Verdict::Holds,
        (_, true) => Verdict::Violated,
        (_, false) => Verdict::Incomplete,
    }
}

fn interrupted_prefix() -> &'static str {
    if crate::exhaustive::interrupted() {
        "INCOMPLETE: interrupted (Ctrl-C); "
    } else {
        ""
    }
}

fn bfs<M>(ctx: &Context<M>) -> Outcome
where
    M: Narrate + Send + Sync + 'static,
    M::State: Hash + Clone + Send + Sync + 'static,
    M::Action: Clone + Send + PartialEq + 'static,
{
    let s = exhaustive::search_on(
        ctx.model,
        ctx.chosen,
        &ctx.opts.limits,
        ctx.opts.threads,
        ctx.opts.reduce,
        ctx.progress,
    );
    let complete = s.end == End::Complete;
    let mut end = match &s.end {
        End::Complete => format!(
            "complete: {} unique states, depth {}, {:.2}s",
            s.unique_states, s.max_depth, s.seconds
        ),
        End::Limit(why) => format!(
            "INCOMPLETE: {why} after {} unique states, depth {}, {:.2}s",
            s.unique_states, s.max_depth, s.seconds
        ),
    };
    if ctx.opts.reduce.por() {
        end.push_str(&reduction_words(ctx.model, ctx.chosen, &s));
    }
    if ctx.opts.reduce.symmetry() {
        end.push_str(&symmetry_words(ctx.model));
    }
    let results = ctx
        .chosen
        .iter()
        .zip(s.findings.iter())
        .map(|(p, f)| {
            let verdict = match (p.kind, f.path.is_some(), complete) {
                (Kind::Sometimes, true, _) => Verdict::Holds,
                (_, true, _) => Verdict::Violated,
                (_, false, false) => Verdict::Incomplete,
                (Kind::Sometimes, false, true) => Verdict::Violated,
                (_, false, true) => Verdict::Holds,
            };
            PropertyResult {
                unique_states: s.unique_states,
                max_depth: s.max_depth,
                seconds: s.seconds,
                seconds_to_trace: f.seconds,
                shortest: f.path.is_some() && f.shortest,
                note: match (&s.end, verdict) {
                    (End::Limit(why), Verdict::Incomplete) => Some(format!(
                        "not decided: {why}; raise the limit or lower the bounds"
                    )),
                    _ => None,
                },
                ..ctx.result(p, verdict, f.path.as_ref())
            }
        })
        .collect();
    let mut outcome = Outcome {
        results,
        complete,
        end,
    };
    judge_runs_that_never_rest(ctx, &mut outcome);
    outcome
}

/// States the cycle pass builds at most when the check sets no state limit.
const CYCLE_PASS_STATES: usize = 2_000_000;

/// An `eventually` claim the breadth-first search found true wherever a run comes to rest
/// is judged again on the runs that never rest (see [`crate::liveness`]): a fair cycle
/// where it is false makes it violated, a graph too large to judge makes it incomplete.
fn judge_runs_that_never_rest<M>(ctx: &Context<M>, outcome: &mut Outcome)
where
    M: Narrate,
    M::State: Hash + Clone,
    M::Action: Clone + PartialEq,
{
    let open: Vec<usize> = (outcome.results.iter().enumerate())
        .filter(|(_, r)| r.kind == Kind::Eventually && r.verdict == Verdict::Holds)
        .map(|(i, _)| i)
        .collect();
    if open.is_empty() {
        return;
    }
    let props: Vec<&Property<M>> = open.iter().map(|&i| &ctx.chosen[i]).collect();
    let limit = ctx.opts.limits.max_states.unwrap_or(CYCLE_PASS_STATES);
    match liveness::judge(ctx.model, &props, limit) {
        Err(too_large) => {
            outcome.complete = false;
            for &i in &open {
                let r = &mut outcome.results[i];
                r.verdict = Verdict::Incomplete;
                r.note = Some(format!(
                    "not decided: every run that comes to rest satisfies it, but the runs that \
                     never rest were not judged (their graph has more than {} states); raise \
                     --max-states or lower the bounds",
                    too_large.states
                ));
            }
        }
        Ok(judged) => {
            for (&i, j) in open.iter().zip(judged) {
                if let liveness::Judged::Lasso(lasso) = j {
                    let p = &ctx.chosen[i];
                    let mut r = ctx.result(p, Verdict::Violated, Some(&lasso.path));
                    if let Some(t) = r.trace.as_mut() {
                        t.repeats_from = Some(lasso.loop_from + 1);
                    }
                    let old = &outcome.results[i];
                    outcome.results[i] = PropertyResult {
                        unique_states: old.unique_states,
                        max_depth: old.max_depth,
                        seconds: old.seconds,
                        note: Some(
                            "a fair run that never comes to rest: every delivery and timer \
                             enabled all along the cycle is taken on it"
                                .into(),
                        ),
                        ..r
                    };
                }
            }
        }
    }
}

/// What the symmetry reduction did, for the end line.
fn symmetry_words<M: Narrate>(model: &M) -> String {
    let group = model.interchangeable();
    if group.is_empty() {
        return "; symmetry reduced no state: the model declares no interchangeable servers at these bounds \
                (each has clients or a role of its own)"
            .to_string();
    }
    format!(
        "; symmetry: states counted up to renaming {} (interchangeable)",
        group.join(", ")
    )
}

/// What the partial-order reduction did, for the end line.
fn reduction_words<M: Narrate>(
    model: &M,
    chosen: &[Property<M>],
    s: &exhaustive::Search<M>,
) -> String {
    const FORGOTTEN: &str =
        "found with what nobody will read forgotten (messages, parts of replies)";
    const LOSSES_WAITED: &str = "expanded with their losses left for the end of the run";
    let forgotten = s.forgetting_states;
    if s.reduced_states == 0 {
        let visible: Vec<&str> = chosen
            .iter()
            .zip(&s.findings)
            .filter(|(p, f)| {
                p.kind != Kind::Eventually
                    && p.client_steps == crate::property::ClientSteps::Visible
                    && f.path.is_none()
            })
            .map(|(p, _)| p.name)
            .collect();
        let why = model.reduction_blocker().unwrap_or_else(|| {
            if visible.is_empty() {
                "no state had a persistent set smaller than all its steps: each client waited \
                 on a reply not yet sent, had the only steps left, or had steps leading back \
                 to states already seen, and no stateless server had a message to take"
                    .to_string()
            } else {
                format!(
                    "{} can be changed by client steps and stayed undecided",
                    visible.join(", ")
                )
            }
        });
        let words = if forgotten == 0 && s.losses_waited == 0 {
            format!("; por reduced no state: {why}")
        } else {
            let mut done = Vec::new();
            if s.losses_waited > 0 {
                done.push(format!("{} states {LOSSES_WAITED}", s.losses_waited));
            }
            if forgotten > 0 {
                done.push(format!("{forgotten} states {FORGOTTEN}"));
            }
            format!(
                "; por: {}; no state was expanded with a persistent set: {why}",
                done.join(", ")
            )
        };
        return words + &settled_words(s) + &apart_words(chosen, s);
    }
    let mut words = format!(
        "; por: {} states expanded with a persistent set or without crashes that only delay",
        s.reduced_states
    );
    if s.losses_waited > 0 {
        words.push_str(&format!(", {} {LOSSES_WAITED}", s.losses_waited));
    }
    if forgotten > 0 {
        words.push_str(&format!(", {forgotten} {FORGOTTEN}"));
    }
    if let Some(short) = s.shortening {
        words.push_str(&format!(
            "; paths shortened by a search without persistent sets to depth {} ({} states, {:.2}s)",
            short.depth, short.unique_states, short.seconds
        ));
    } else if model.keeps_violation_paths() {
        words.push_str("; paths shortest as found (only quiet actors' sets were named)");
    }
    words.push_str(&settled_words(s));
    words.push_str(&apart_words(chosen, s));
    words
}

/// When the search forgot the operations clients finished (see
/// `Narrate::forget_settled`), for the end line.
fn settled_words<M: Narrate>(s: &exhaustive::Search<M>) -> String {
    s.settled_after.map_or_else(String::new, |d| {
        format!(
            "; answered client operations forgotten in the states after depth {d} (every property left undecided reads only the servers)"
        )
    })
}

/// What the search of the properties that read the order of client steps, run apart, did
/// (see `exhaustive::search_on`), for the end line.
fn apart_words<M: Narrate>(chosen: &[Property<M>], s: &exhaustive::Search<M>) -> String {
    let Some(a) = &s.apart else {
        return String::new();
    };
    let names: Vec<&str> = a.properties.iter().map(|&i| chosen[i].name).collect();
    format!(
        "; {} searched apart without persistent sets ({} states, depth {}, {:.2}s{}), so that the others' search reorders client steps",
        names.join(", "),
        a.unique_states,
        a.max_depth,
        a.seconds,
        if a.stopped_when_found {
            ", stopped once found"
        } else {
            ""
        }
    )
}

/// " of shard 3/8" when the check runs one shard of a split search.
fn shard_words(shard: Shard) -> String {
    if shard == Shard::WHOLE {
        String::new()
    } else {
        format!(" (shard {shard})")
    }
}

fn random_search<M>(ctx: &Context<M>) -> Outcome
where
    M: Narrate + Send + Sync + 'static,
    M::State: Clone + Send,
    M::Action: Clone + Send + PartialEq,
{
    let (model, opts) = (ctx.model, ctx.opts);
    let threads = opts.threads.max(1);
    let progress = ctx.progress;
    let findings: Vec<random::RandomFinding<M>> = std::thread::scope(|scope| {
        let chunks: Vec<_> = ctx
            .chosen
            .chunks(ctx.chosen.len().div_ceil(threads).max(1))
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|p| random::search_shard(model, p, &opts.random, opts.shard, progress))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        chunks
            .into_iter()
            .flat_map(|h| h.join().expect("a random search thread panicked"))
            .collect()
    });
    let total: f64 = findings.iter().map(|f| f.seconds).sum();
    let r = &opts.random;
    let shard = shard_words(opts.shard);
    let results = ctx
        .chosen
        .iter()
        .zip(findings)
        .map(|(p, f)| {
            let note = match (&f.schedule, f.case) {
                (Some(s), Some(k)) => format!(
                    "found in run {k} of runs 0..{} (seed {}){shard}, shrunk schedule {s:?}",
                    r.cases, r.seed
                ),
                _ => format!(
                    "nothing found in {} random runs of up to {} steps (seed {}){shard}; random search never proves a property",
                    f.cases, r.max_steps, r.seed
                ),
            };
            PropertyResult {
                seconds: f.seconds,
                seconds_to_trace: f.first_seconds,
                note: Some(note),
                runs: Some(f.cases.into()),
                choices: f.path.as_ref().and_then(|path| random::choices_of(model, path)),
                found_in: f.case.map(u64::from),
                ..ctx.result(p, found_verdict(p.kind, f.path.is_some()), f.path.as_ref())
            }
        })
        .collect();
    let end = format!(
        "{}random: {} runs per property{shard}, up to {} steps, seed {}, {:.2}s",
        interrupted_prefix(),
        r.cases,
        r.max_steps,
        r.seed,
        total
    );
    Outcome {
        results,
        complete: false,
        end,
    }
}

fn swarm_search<M>(ctx: &Context<M>) -> Outcome
where
    M: Narrate + Send + Sync + 'static,
    M::State: Hash + Clone + Send,
    M::Action: Clone + Send + PartialEq,
{
    let (model, opts) = (ctx.model, ctx.opts);
    let sw_opts = SwarmOptions {
        searches: opts.random.cases,
        seed: opts.random.seed,
        max_states: opts.limits.max_states,
        max_depth: opts.limits.max_depth,
        timeout: opts.limits.timeout,
        threads: opts.threads.max(1),
    };
    let sw = swarm::search(model, ctx.chosen, &sw_opts, opts.shard, ctx.progress);
    let shard = shard_words(opts.shard);
    let planned = opts.shard.runs(sw_opts.searches).count();
    let results = ctx
        .chosen
        .iter()
        .zip(&sw.findings)
        .map(|(p, f)| {
            let note = match f.search {
                Some(k) => format!(
                    "found by search {k} of searches 0..{} (seed {}){shard}, then minimized",
                    sw_opts.searches, sw_opts.seed
                ),
                None => format!(
                    "nothing found by {} depth-first searches{shard}; a swarm can find violations but cannot prove that a property holds",
                    sw.searches
                ),
            };
            PropertyResult {
                unique_states: sw.unique_states,
                max_depth: sw.max_depth,
                seconds: sw.seconds,
                seconds_to_trace: f.first_seconds,
                note: Some(note),
                runs: Some(sw.searches.into()),
                choices: f.path.as_ref().and_then(|path| random::choices_of(model, path)),
                found_in: f.search.map(u64::from),
                ..ctx.result(p, found_verdict(p.kind, f.path.is_some()), f.path.as_ref())
            }
        })
        .collect();
    let stopped = sw
        .stopped
        .as_ref()
        .map(|why| format!("INCOMPLETE: {why}; "))
        .unwrap_or_default();
    let each = match (sw_opts.max_states, sw_opts.max_depth) {
        (Some(s), Some(d)) => format!("at most {s} states and depth {d} each"),
        (Some(s), None) => format!("at most {s} states each"),
        (None, Some(d)) => format!("depth at most {d} each"),
        (None, None) => "unbounded".to_string(),
    };
    let end = format!(
        "{stopped}swarm: {} of {planned} depth-first searches{shard} ({each}), seed {}, {} states in all ({} ran out of states to visit), {:.2}s; a swarm finds violations but never proves that a property holds (--engine bfs does)",
        sw.searches, sw_opts.seed, sw.unique_states, sw.exhausted, sw.seconds
    );
    Outcome {
        results,
        complete: false,
        end,
    }
}

/// Replays the candidates (counterexamples found by the shards of a search), keeps the
/// shortest per property after minimizing each, and looks for a shorter one by
/// breadth-first search up to one step less, within `opts.limits.max_states`: if that
/// search finishes, the trace is the shortest there is.
fn replay<M>(ctx: &Context<M>, candidates: &[Candidate]) -> Result<Outcome, Error>
where
    M: Narrate + Send + Sync + 'static,
    M::State: Hash + Clone + Send + Sync + 'static,
    M::Action: Clone + Send + PartialEq,
{
    let (model, opts) = (ctx.model, ctx.opts);
    let started = Instant::now();
    let mut results = Vec::new();
    for p in ctx.chosen {
        let mut best: Option<(Path<M>, &Candidate)> = None;
        for c in candidates.iter().filter(|c| c.property == p.name) {
            let path = random::replay_choices(model, p, &c.choices).ok_or_else(|| {
                Error::BadInput(format!(
                    "the trace {} found for {} ({}) does not replay on {}/{} at these bounds: were the shards run by another version of splitbrain?",
                    c.origin, p.name, c.choices.len(), ctx.subject.model, ctx.subject.variant
                ))
            })?;
            let path = random::minimize(model, p, path);
            if best.as_ref().is_none_or(|(b, _)| path.len() < b.len()) {
                best = Some((path, c));
            }
        }
        let Some((path, c)) = best else {
            results.push(ctx.result(p, found_verdict(p.kind, false), None));
            continue;
        };
        let mut path = path;
        let (mut found_in, mut reproduce, mut shortest) = (c.found_in, c.reproduce.clone(), false);
        let mut note = format!("shortest of the traces found, from {}, minimized", c.origin);
        let budget = opts.limits.max_states.unwrap_or(0);
        if !path.is_empty() && budget > 0 && !crate::exhaustive::interrupted() {
            let limits = Limits {
                max_states: Some(budget),
                max_depth: Some(path.len() - 1),
                ..Limits::default()
            };
            let s = exhaustive::search(model, &[*p], &limits);
            let finished = !crate::exhaustive::interrupted()
                && (s.end == End::Complete || s.unique_states <= budget);
            let states = s.unique_states;
            if let Some(shorter) = s.findings.into_iter().next().and_then(|f| f.path) {
                note.push_str(&format!(
                    "; breadth-first search found a shorter one ({} steps instead of {}) in {states} states: the shortest there is",
                    shorter.len(),
                    path.len(),
                ));
                let bfs_opts = CheckOptions {
                    engine: Engine::Bfs,
                    ..CheckOptions::default()
                };
                reproduce = Some(format!(
                    "{} --max-depth {} --property {}",
                    command(ctx.subject, &bfs_opts),
                    shorter.len(),
                    p.name
                ));
                found_in = None;
                shortest = true;
                path = shorter;
            } else if finished {
                shortest = true;
                note.push_str(&format!(
                    "; breadth-first search to depth {} ({states} states) found none shorter: it is the shortest there is",
                    path.len() - 1,
                ));
            } else {
                note.push_str(&format!(
                    "; not known to be the shortest: breadth-first search to depth {} stopped at its limit of {budget} states",
                    path.len() - 1,
                ));
            }
        }
        let r = PropertyResult {
            found_in,
            reproduce,
            shortest,
            choices: random::choices_of(model, &path),
            note: Some(note),
            ..ctx.result(p, found_verdict(p.kind, true), Some(&path))
        };
        results.push(r);
    }
    let end = format!(
        "{}replayed {} traces, {:.2}s",
        interrupted_prefix(),
        candidates.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(Outcome {
        results,
        complete: false,
        end,
    })
}
