//! Verdicts and check reports, with their text and JSON renderings and the exit code.

use crate::bounds::Bounds;
use crate::property::Kind;
use crate::trace::Trace;
use serde::Serialize;
use serde_json::{json, Value};
use std::fmt;

/// The verdict on one property.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Proven within the bounds by a finished search (for `sometimes`: an example exists).
    Holds,
    /// A counterexample exists (for `sometimes`: a finished search found no example).
    Violated,
    /// The search stopped before deciding (a limit was hit, or random search found nothing).
    Incomplete,
}

impl Verdict {
    /// The word used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Violated => "violated",
            Verdict::Incomplete => "incomplete",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result for one property.
#[derive(Clone, Debug)]
pub struct PropertyResult {
    /// Property name.
    pub property: &'static str,
    /// Its claim in words.
    pub claim: &'static str,
    /// always / eventually / sometimes.
    pub kind: Kind,
    /// The verdict the variant expects.
    pub expected: Verdict,
    /// The verdict found.
    pub verdict: Verdict,
    /// Unique states the search visited.
    pub unique_states: usize,
    /// Deepest state visited.
    pub max_depth: usize,
    /// Seconds the search took.
    pub seconds: f64,
    /// Seconds until the trace was found.
    pub seconds_to_trace: Option<f64>,
    /// The minimal counterexample (or, for `sometimes`, the shortest example).
    pub trace: Option<Trace>,
    /// Anything else the reader should know (the limit hit, the random seed...).
    pub note: Option<String>,
    /// Random and swarm search: the runs drawn, or the depth-first searches made.
    pub runs: Option<u64>,
    /// The trace as positions among the enabled steps at each state (random and swarm
    /// search): what `splitbrain merge` replays.
    pub choices: Option<Vec<u16>>,
    /// The run (random) or search (swarm) that found the trace.
    pub found_in: Option<u64>,
    /// True when no shorter trace exists (breadth-first search found it, or confirmed it).
    pub shortest: bool,
    /// The command that finds this trace again, when it is not the report's command
    /// with `--property`.
    pub reproduce: Option<String>,
}

impl PropertyResult {
    /// "as expected", "UNEXPECTED" or "incomplete".
    pub fn mark(&self) -> &'static str {
        if self.unexpected() {
            "UNEXPECTED"
        } else if self.verdict == Verdict::Incomplete {
            "incomplete"
        } else {
            "as expected"
        }
    }

    /// True when the verdict is decided and differs from the expectation.
    pub fn unexpected(&self) -> bool {
        self.verdict != Verdict::Incomplete && self.verdict != self.expected
    }

    /// The command that finds this result's trace again, given its report's command.
    pub fn reproduce_command(&self, report_command: &str) -> String {
        self.reproduce
            .clone()
            .unwrap_or_else(|| format!("{report_command} --property {}", self.property))
    }
}

/// One check: one model variant at one set of bounds, by one engine.
#[derive(Clone, Debug)]
pub struct CheckReport {
    /// Model name.
    pub model: String,
    /// Variant name.
    pub variant: String,
    /// Bounds checked.
    pub bounds: Bounds,
    /// What was checked, in words: the bounds of a catalog model, the clients and
    /// faults of a design.
    pub setting: String,
    /// `bfs` or `random`.
    pub engine: &'static str,
    /// The state-space reduction of a BFS: `none` or `por`.
    pub reduce: &'static str,
    /// Whether the search finished (every reachable state visited; random never does).
    pub complete: bool,
    /// How the search ended, in words.
    pub end: String,
    /// Per-property results.
    pub results: Vec<PropertyResult>,
    /// The command that reproduces this check.
    pub command: String,
}

impl CheckReport {
    /// The JSON object of design.md's contract (stable keys).
    pub fn to_json(&self) -> Value {
        let results: Vec<Value> = self
            .results
            .iter()
            .map(|r| {
                let mut v = json!({
                    "property": r.property,
                    "claim": r.claim,
                    "kind": r.kind,
                    "expected": r.expected,
                    "verdict": r.verdict,
                    "as_expected": !r.unexpected() && r.verdict != Verdict::Incomplete,
                    "unique_states": r.unique_states,
                    "max_depth": r.max_depth,
                    "seconds": r.seconds,
                });
                if let Some(s) = r.seconds_to_trace {
                    v["seconds_to_trace"] = json!(s);
                }
                if let Some(t) = &r.trace {
                    v["trace_kind"] = json!(trace_word(r.kind));
                    v["start"] = json!(t.start);
                    v["trace"] = json!(t.steps);
                    v["broken"] = json!(t.values);
                    v["shortest"] = json!(r.shortest);
                    v["reproduce"] = json!(r.reproduce_command(&self.command));
                }
                if let Some(n) = &r.note {
                    v["note"] = json!(n);
                }
                if let Some(n) = r.runs {
                    v["runs"] = json!(n);
                }
                if let Some(c) = &r.choices {
                    v["choices"] = json!(c);
                }
                if let Some(k) = r.found_in {
                    v["found_in"] = json!(k);
                }
                v
            })
            .collect();
        json!({
            "model": self.model,
            "variant": self.variant,
            "bounds": self.bounds,
            "engine": self.engine,
            "reduce": self.reduce,
            "complete": self.complete,
            "end": self.end,
            "command": self.command,
            "results": results,
        })
    }

    /// The text report: a verdict line per property, and the story of every trace.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{}/{}  [{}]  engine={}  {}\n",
            self.model, self.variant, self.setting, self.engine, self.end
        );
        for r in &self.results {
            let mark = r.mark();
            out.push_str(&format!(
                "  {:<28} {:<10} {:<10} (expected {}, {})  {} states, depth {}, {:.2}s\n",
                r.property,
                r.kind.as_str(),
                r.verdict.as_str().to_uppercase(),
                r.expected,
                mark,
                r.unique_states,
                r.max_depth,
                r.seconds
            ));
        }
        for r in &self.results {
            if let Some(t) = &r.trace {
                out.push('\n');
                out.push_str(&self.story(r, t));
            }
            if let Some(n) = &r.note {
                out.push_str(&format!("  note ({}): {n}\n", r.property));
            }
        }
        out
    }

    /// One line for stderr: what was checked, how much, how fast, and the verdicts.
    pub fn summary(&self) -> String {
        let count = |v: Verdict| self.results.iter().filter(|r| r.verdict == v).count();
        let first = self.results.first();
        let states = first.map_or(0, |p| p.unique_states);
        let secs = self.results.iter().map(|p| p.seconds).fold(0.0, f64::max);
        let speed = if self.engine == "bfs" && secs > 0.0 {
            format!(", {:.0} states/s", states as f64 / secs)
        } else {
            String::new()
        };
        format!(
            "splitbrain: {}/{} by {}: {} unique states in {:.2}s{speed}; {} holds, {} violated, {} incomplete, {} unexpected",
            self.model,
            self.variant,
            self.engine,
            states,
            secs,
            count(Verdict::Holds),
            count(Verdict::Violated),
            count(Verdict::Incomplete),
            self.results.iter().filter(|r| r.unexpected()).count()
        )
    }

    /// One trace told as a story, with its header and closing lines.
    pub fn story(&self, r: &PropertyResult, t: &Trace) -> String {
        let shortest = r.shortest || (self.engine == "bfs" && self.reduce == "none");
        let what = match (r.kind, shortest, self.engine) {
            _ if t.repeats_from.is_some() => format!(
                "VIOLATED  (a run that never rests: {} steps to the cycle, {} repeating)",
                t.repeats_from.unwrap_or(1) - 1,
                t.len() + 1 - t.repeats_from.unwrap_or(1)
            ),
            (Kind::Sometimes, true, _) => format!("EXAMPLE (shortest: {} steps)", t.len()),
            (Kind::Sometimes, false, "bfs") => format!(
                "EXAMPLE ({} steps, found by a reduced search; a limit stopped the search for a shorter one)",
                t.len()
            ),
            (Kind::Sometimes, false, _) => format!("EXAMPLE ({} steps, shrunk)", t.len()),
            (_, true, _) => format!("VIOLATED  (shortest: {} steps)", t.len()),
            (_, false, "bfs") => format!(
                "VIOLATED  ({} steps, found by a reduced search; a limit stopped the search for a shorter one)",
                t.len()
            ),
            (_, false, "swarm") => format!(
                "VIOLATED  ({} steps, found by a swarm search, minimized)",
                t.len()
            ),
            (_, false, _) => format!("VIOLATED  ({} steps, shrunk by proptest)", t.len()),
        };
        let mut out = format!(
            "{}/{}  {}  {}\n",
            self.model, self.variant, r.property, what
        );
        out.push_str(&t.steps_text());
        let verb = if r.kind == Kind::Sometimes {
            "reached"
        } else {
            "broken"
        };
        out.push_str(&format!("  {verb}: \"{}\": {}\n", r.claim, t.values));
        out.push_str(&format!(
            "  reproduce: {}\n",
            r.reproduce_command(&self.command)
        ));
        out
    }

    /// Every trace as a Mermaid sequence diagram.
    pub fn to_mermaid(&self) -> String {
        let mut out = String::new();
        for r in &self.results {
            if let Some(t) = &r.trace {
                let title = format!(
                    "{}/{} {} {}",
                    self.model, self.variant, r.property, r.verdict
                );
                let label = if r.kind == Kind::Sometimes {
                    "reached"
                } else {
                    "broken"
                };
                out.push_str(&format!(
                    "%% {}/{} {}\n",
                    self.model, self.variant, r.property
                ));
                out.push_str(&t.to_mermaid(&title, &format!("{label}: {}", r.claim)));
                out.push('\n');
            }
        }
        if out.is_empty() {
            out.push_str(&format!(
                "%% {}/{}: no trace (no property was violated)\n",
                self.model, self.variant
            ));
        }
        out
    }
}

fn trace_word(kind: Kind) -> &'static str {
    if kind == Kind::Sometimes {
        "example"
    } else {
        "counterexample"
    }
}

/// The exit code of design.md for a set of checks: 1 if any verdict differs from its
/// expectation, else 3 if any search was incomplete (a verdict left open, or an
/// exhaustive search a limit or Ctrl-C cut, even where every verdict was found), else 0.
pub fn exit_code(reports: &[CheckReport]) -> i32 {
    let results = || reports.iter().flat_map(|r| r.results.iter());
    let cut = |r: &CheckReport| r.engine == "bfs" && !r.complete;
    if results().any(PropertyResult::unexpected) {
        1
    } else if results().any(|r| r.verdict == Verdict::Incomplete) || reports.iter().any(cut) {
        3
    } else {
        0
    }
}
