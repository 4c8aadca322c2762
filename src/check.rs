//! Running a check: pick the properties, run an engine, turn what it found into verdicts.

use crate::bounds::Bounds;
use crate::error::Error;
use crate::exhaustive::{self, End, Limits};
use crate::progress::Progress;
use crate::property::{Kind, Property};
use crate::random::{self, RandomOptions};
use crate::report::{CheckReport, PropertyResult, Verdict};
use crate::trace::{Narrate, Trace};
use clap::ValueEnum;
use std::hash::Hash;

/// Which engine runs a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// Exhaustive breadth-first search with shortest counterexamples.
    Bfs,
    /// Random schedules drawn and shrunk by proptest.
    Random,
}

impl Engine {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Bfs => "bfs",
            Engine::Random => "random",
        }
    }
}

/// How to run a check.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// The engine.
    pub engine: Engine,
    /// Limits of the exhaustive search.
    pub limits: Limits,
    /// Settings of the random search.
    pub random: RandomOptions,
    /// Properties to check (empty: all of the model's).
    pub properties: Vec<String>,
    /// Threads for the random engine (properties searched at once).
    pub threads: usize,
    /// Show a live progress line on a terminal for checks longer than a second.
    pub progress: bool,
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
fn command(subject: &Subject, engine: Engine, random: &RandomOptions) -> String {
    let mut c = format!(
        "splitbrain check {} --variant {}",
        subject.model, subject.variant
    );
    let (b, d) = (&subject.bounds, &subject.defaults);
    let flags: [(&str, String, String); 7] = [
        ("clients", b.clients.to_string(), d.clients.to_string()),
        ("ops", b.ops.to_string(), d.ops.to_string()),
        ("servers", b.servers.to_string(), d.servers.to_string()),
        ("balance", b.balance.to_string(), d.balance.to_string()),
        (
            "network",
            b.network.as_str().into(),
            d.network.as_str().into(),
        ),
        ("loss", b.loss.to_string(), d.loss.to_string()),
        ("crashes", b.crashes.to_string(), d.crashes.to_string()),
    ];
    for (name, v, dv) in flags {
        if v != dv {
            c.push_str(&format!(" --{name} {v}"));
        }
    }
    if engine == Engine::Random {
        c.push_str(&format!(
            " --engine random --seed {} --cases {} --max-steps {}",
            random.seed, random.cases, random.max_steps
        ));
    }
    c
}

/// Runs a check of `properties` on `model` and judges every verdict.
pub fn run<M>(
    model: &M,
    properties: &[Property<M>],
    subject: &Subject,
    opts: &CheckOptions,
) -> Result<CheckReport, Error>
where
    M: Narrate + Sync,
    M::State: Hash + Clone + Send,
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
    let command = command(subject, opts.engine, &opts.random);
    let progress = Progress::new(
        &format!("{}/{}", subject.model, subject.variant),
        opts.progress,
    );
    let (results, complete, end) = match opts.engine {
        Engine::Bfs => {
            let s = exhaustive::search_with_progress(model, &chosen, &opts.limits, &progress);
            let complete = s.end == End::Complete;
            let end = match &s.end {
                End::Complete => format!(
                    "complete: {} unique states, depth {}, {:.2}s",
                    s.unique_states, s.max_depth, s.seconds
                ),
                End::Limit(why) => format!(
                    "INCOMPLETE: {why} after {} unique states, depth {}, {:.2}s",
                    s.unique_states, s.max_depth, s.seconds
                ),
            };
            let results = chosen
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
                        property: p.name,
                        claim: p.claim,
                        kind: p.kind,
                        expected: expected(p.name),
                        verdict,
                        unique_states: s.unique_states,
                        max_depth: s.max_depth,
                        seconds: s.seconds,
                        seconds_to_trace: f.seconds,
                        trace: f.path.as_ref().map(|path| {
                            Trace::from_path(model, path, (p.values)(model, path.last()))
                        }),
                        note: match (&s.end, verdict) {
                            (End::Limit(why), Verdict::Incomplete) => Some(format!(
                                "not decided: {why}; raise the limit or lower the bounds"
                            )),
                            _ => None,
                        },
                    }
                })
                .collect();
            (results, complete, end)
        }
        Engine::Random => {
            let threads = opts.threads.max(1);
            let progress = &progress;
            let findings: Vec<random::RandomFinding<M>> = std::thread::scope(|scope| {
                let chunks: Vec<_> = chosen
                    .chunks(chosen.len().div_ceil(threads).max(1))
                    .map(|chunk| {
                        scope.spawn(move || {
                            chunk
                                .iter()
                                .map(|p| {
                                    random::search_property_with_progress(
                                        model,
                                        p,
                                        &opts.random,
                                        progress,
                                    )
                                })
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
            let results: Vec<PropertyResult> = chosen
                .iter()
                .zip(findings)
                .map(|(p, f)| {
                    let verdict = match (p.kind, f.path.is_some()) {
                        (Kind::Sometimes, true) => Verdict::Holds,
                        (_, true) => Verdict::Violated,
                        (_, false) => Verdict::Incomplete,
                    };
                    let note = match &f.schedule {
                        Some(s) => format!(
                            "found in run {} of {} (seed {}), shrunk schedule {:?}",
                            f.cases, opts.random.cases, opts.random.seed, s
                        ),
                        None => format!(
                            "nothing found in {} random runs of up to {} steps (seed {}); random search never proves a property",
                            f.cases, opts.random.max_steps, opts.random.seed
                        ),
                    };
                    PropertyResult {
                        property: p.name,
                        claim: p.claim,
                        kind: p.kind,
                        expected: expected(p.name),
                        verdict,
                        unique_states: 0,
                        max_depth: f.path.as_ref().map_or(0, |p| p.len()),
                        seconds: f.seconds,
                        seconds_to_trace: f.first_seconds,
                        trace: f
                            .path
                            .as_ref()
                            .map(|path| Trace::from_path(model, path, (p.values)(model, path.last()))),
                        note: Some(note),
                    }
                })
                .collect();
            let end = format!(
                "{}random: {} runs per property, up to {} steps, seed {}, {:.2}s",
                if crate::exhaustive::interrupted() {
                    "INCOMPLETE: interrupted (Ctrl-C); "
                } else {
                    ""
                },
                opts.random.cases,
                opts.random.max_steps,
                opts.random.seed,
                total
            );
            (results, false, end)
        }
    };
    progress.finish();
    Ok(CheckReport {
        model: subject.model.to_string(),
        variant: subject.variant.to_string(),
        bounds: subject.bounds,
        engine: opts.engine.as_str(),
        complete,
        end,
        results,
        command,
    })
}
