//! Shards: a random or swarm search split into `N` disjoint parts that run anywhere (a
//! Slurm array, a CI matrix, a shell loop), each writing one JSON result, and
//! `splitbrain merge`, which combines the results into one report.
//!
//! Run `k` of a search (a random case, a swarm search) belongs to shard `k % N` and draws
//! from its own seed ([`crate::random::case_seed`]), so the shards of a search make
//! exactly the runs of the unsplit search whatever `N` is, and the merged verdicts are
//! the unsplit search's. The merged counterexample is the shortest any shard found,
//! replayed on the model and minimized again, then checked by a bounded breadth-first
//! search for a shorter one: it is never longer than the unsplit search's.

use crate::check::{Candidate, CheckOptions, Engine};
use crate::error::Error;
use crate::exhaustive::Limits;
use crate::models;
use crate::random::RandomOptions;
use crate::report::{exit_code, CheckReport, Verdict};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The `format` of a shard result file.
pub const FORMAT: &str = "splitbrain-shard/1";

/// One of `count` disjoint parts of a search: the runs `k` with `k % count == index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Shard {
    /// Which part, from 0.
    pub index: u32,
    /// How many parts.
    pub count: u32,
}

impl Default for Shard {
    fn default() -> Self {
        Shard::WHOLE
    }
}

impl Shard {
    /// The whole search: one part.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Shard `index` of `count`, or why there is no such shard.
    pub fn new(index: u32, count: u32) -> Result<Shard, String> {
        if count == 0 {
            return Err(format!(
                "shard {index}/0: a search cannot be split into 0 parts; N must be at least 1"
            ));
        }
        if index >= count {
            return Err(format!(
                "shard {index}/{count} does not exist: I counts from 0 and must be below N (0/{count} .. {}/{count})",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    /// The runs of this shard among `0..total`, in order.
    pub fn runs(self, total: u32) -> impl Iterator<Item = u32> {
        (self.index..total).step_by(self.count.max(1) as usize)
    }

    /// The file name of this shard's result in a results directory.
    pub fn file_name(self) -> String {
        format!("shard-{}-of-{}.json", self.index, self.count)
    }

    /// The shard of a Slurm array task: `SLURM_ARRAY_TASK_ID` (less `SLURM_ARRAY_TASK_MIN`
    /// when the array does not start at 0) of `SLURM_ARRAY_TASK_COUNT`. `None` outside an
    /// array job; an error when the variables are malformed or incomplete.
    pub fn from_slurm_env(var: impl Fn(&str) -> Option<String>) -> Result<Option<Shard>, String> {
        let Some(id) = var("SLURM_ARRAY_TASK_ID") else {
            return Ok(None);
        };
        let number = |name: &str, v: &str| -> Result<u32, String> {
            v.trim()
                .parse()
                .map_err(|_| format!("{name}={v:?} is not a number; pass --shard I/N instead"))
        };
        let id = number("SLURM_ARRAY_TASK_ID", &id)?;
        let count = match var("SLURM_ARRAY_TASK_COUNT") {
            Some(c) => number("SLURM_ARRAY_TASK_COUNT", &c)?,
            None => return Err(
                "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; pass --shard I/N"
                    .to_string(),
            ),
        };
        let min = match var("SLURM_ARRAY_TASK_MIN") {
            Some(m) => number("SLURM_ARRAY_TASK_MIN", &m)?,
            None => 0,
        };
        let index = id.checked_sub(min).ok_or_else(|| {
            format!("SLURM_ARRAY_TASK_ID={id} is below SLURM_ARRAY_TASK_MIN={min}")
        })?;
        Shard::new(index, count)
            .map(Some)
            .map_err(|e| format!("from SLURM_ARRAY_TASK_ID={id}, SLURM_ARRAY_TASK_MIN={min}, SLURM_ARRAY_TASK_COUNT={count}: {e}; an array with a step or gaps needs --shard I/N"))
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || {
            format!("'{s}' is not a shard: write I/N, part I of N counted from 0 (0/8, 1/8 .. 7/8)")
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let i: u32 = i.trim().parse().map_err(|_| bad())?;
        let n: u32 = n.trim().parse().map_err(|_| bad())?;
        Shard::new(i, n)
    }
}

/// One shard's result, as written to its file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShardFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// Which shard.
    pub shard: Shard,
    /// What was searched: model, variant, properties, engine, seed, runs, limits and
    /// bounds as given. Every shard of one search has the same.
    pub search: Value,
    /// The machine it ran on.
    pub host: String,
    /// Wall seconds of the whole shard.
    pub seconds: f64,
    /// The shard's own exit code.
    pub exit_code: i32,
    /// One check report (`--format json` object) per variant.
    pub reports: Vec<Value>,
}

/// `s` with its control characters (terminal escapes) shown as `?`.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// This machine's name (for the per-shard totals).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".to_string())
}

/// Writes `value` to `path` atomically: into a temporary file in the same directory,
/// flushed to disk, then renamed over `path`. A reader sees the whole file or none.
pub fn write_atomic(path: &Path, value: &impl Serialize) -> Result<(), Error> {
    let fail =
        |e: &dyn fmt::Display| Error::BadInput(format!("cannot write {}: {e}", path.display()));
    std::fs::create_dir_all(crate::files::parent(path)).map_err(|e| fail(&e))?;
    let mut text = serde_json::to_string_pretty(value).map_err(|e| fail(&e))?;
    text.push('\n');
    crate::files::write_output(path, text.as_bytes(), crate::files::Existing::Replace, None)
}

/// What one shard did for one variant.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ShardTotals {
    /// The shard.
    pub index: u32,
    /// The machine it ran on.
    pub host: String,
    /// Runs drawn (random, summed over properties) or searches made (swarm).
    pub runs: u64,
    /// Unique states visited (swarm).
    pub states: u64,
    /// Seconds it spent on this variant.
    pub seconds: f64,
}

/// One variant's merged result.
pub struct MergedReport {
    /// The merged check report.
    pub report: CheckReport,
    /// Totals of each shard present.
    pub shards: Vec<ShardTotals>,
}

/// The merge of a directory of shard results.
pub struct Merged {
    /// Shards in the search.
    pub count: u32,
    /// Shards whose result is missing.
    pub missing: Vec<u32>,
    /// One merged report per variant.
    pub reports: Vec<MergedReport>,
}

impl Merged {
    /// The exit code of `check`: 1 for an unexpected verdict, else 3 if anything is
    /// incomplete (missing shards included), else 0.
    pub fn exit_code(&self) -> i32 {
        let reports: Vec<CheckReport> = self.reports.iter().map(|m| m.report.clone()).collect();
        match exit_code(&reports) {
            // Shards that hold no report judged nothing.
            0 if !self.missing.is_empty() || reports.is_empty() => 3,
            code => code,
        }
    }

    /// Text: each report, then its shards.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for (i, m) in self.reports.iter().enumerate() {
            if i > 0 {
                out.push_str(&format!("{}\n", "=".repeat(72)));
            }
            out.push_str(&m.report.to_text());
            out.push_str(&format!(
                "  shards: {} of {} merged{}\n",
                m.shards.len(),
                self.count,
                missing_words(&self.missing)
            ));
            for s in &m.shards {
                out.push_str(&format!(
                    "    shard {}/{}  {:<12} {} runs, {} states, {:.2}s\n",
                    s.index,
                    self.count,
                    printable(&s.host),
                    s.runs,
                    s.states,
                    s.seconds
                ));
            }
        }
        out
    }

    /// JSON lines: each report's object with a `shards` key.
    pub fn to_json_lines(&self) -> String {
        let mut out = String::new();
        for m in &self.reports {
            let mut v = m.report.to_json();
            v["shards"] = json!({
                "count": self.count,
                "merged": m.shards.len(),
                "missing": self.missing,
                "per_shard": m.shards,
            });
            out.push_str(&v.to_string());
            out.push('\n');
        }
        out
    }

    /// Mermaid: each trace as a sequence diagram.
    pub fn to_mermaid(&self) -> String {
        self.reports.iter().map(|m| m.report.to_mermaid()).collect()
    }
}

fn missing_words(missing: &[u32]) -> String {
    if missing.is_empty() {
        String::new()
    } else {
        format!(
            "; MISSING: {}",
            missing
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// The keys of a report that `merge` reads back.
#[derive(Deserialize)]
struct ReportIn {
    model: String,
    variant: String,
    bounds: crate::bounds::Bounds,
    engine: String,
    command: String,
    results: Vec<ResultIn>,
}

#[derive(Deserialize)]
struct ResultIn {
    property: String,
    verdict: Verdict,
    #[serde(default)]
    unique_states: u64,
    #[serde(default)]
    max_depth: u64,
    #[serde(default)]
    seconds: f64,
    #[serde(default)]
    seconds_to_trace: Option<f64>,
    #[serde(default)]
    runs: Option<u64>,
    #[serde(default)]
    choices: Option<Vec<u16>>,
    #[serde(default)]
    found_in: Option<u64>,
}

/// The largest shard result read (a shard holds a few reports and traces).
pub const MAX_SHARD_BYTES: u64 = 64 * 1024 * 1024;

/// Reads every shard result in `dir` (files whose `format` is [`FORMAT`]).
pub fn read_dir(dir: &Path) -> Result<Vec<(PathBuf, ShardFile)>, Error> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::BadInput(format!("cannot read {}: {e}", dir.display())))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut shards = Vec::new();
    for path in files {
        let bytes = crate::files::read_input(&path, "a shard result", MAX_SHARD_BYTES)?;
        let named_as_shard = (path.file_name().and_then(|n| n.to_str()))
            .is_some_and(|n| n.starts_with("shard-") && n.contains("-of-"));
        let v = match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) => v,
            // A shard's own name on a file that is not JSON: a corrupt shard, said so.
            Err(e) if named_as_shard => {
                return Err(Error::BadInput(format!(
                    "{} is corrupt (not JSON: {e}); remove it or run that shard again",
                    path.display()
                )))
            }
            Err(_) => continue,
        };
        if v.get("format").and_then(Value::as_str) != Some(FORMAT) {
            continue;
        }
        let file: ShardFile = serde_json::from_value(v).map_err(|e| {
            Error::BadInput(format!(
                "{} is not a readable shard result: {e}",
                path.display()
            ))
        })?;
        shards.push((path, file));
    }
    Ok(shards)
}

/// Merges the shard results in `dir`. `confirm_states` bounds the breadth-first search
/// that looks for a trace shorter than the shortest found (0: do not look).
pub fn merge(dir: &Path, confirm_states: usize) -> Result<Merged, Error> {
    let files = read_dir(dir)?;
    let Some((first_path, first)) = files.first() else {
        return Err(Error::BadInput(format!(
            "no shard results in {}: expected files like shard-0-of-8.json written by `splitbrain check ... --out-dir {}`",
            dir.display(),
            dir.display()
        )));
    };
    let count = first.shard.count;
    let mut by_index: BTreeMap<u32, (&PathBuf, &ShardFile)> = BTreeMap::new();
    for (path, f) in &files {
        if f.shard.count != count {
            return Err(Error::BadInput(format!(
                "{} is shard {} but {} is shard {}: the results of one search have one shard count",
                path.display(),
                f.shard,
                first_path.display(),
                first.shard
            )));
        }
        if f.search != first.search {
            return Err(Error::BadInput(format!(
                "{} and {} come from different searches ({} vs {}): merge the shards of one search at a time",
                path.display(),
                first_path.display(),
                f.search,
                first.search
            )));
        }
        if f.shard.index >= count || count == 0 {
            return Err(Error::BadInput(format!(
                "{} claims to be shard {}: a shard's number is below the shard count",
                path.display(),
                f.shard
            )));
        }
        if let Some((other, _)) = by_index.insert(f.shard.index, (path, f)) {
            return Err(Error::BadInput(format!(
                "shard {} appears twice: {} and {}",
                f.shard,
                other.display(),
                path.display()
            )));
        }
    }
    let missing: Vec<u32> = (0..count).filter(|i| !by_index.contains_key(i)).collect();
    let shards: Vec<(u32, &ShardFile)> = by_index.iter().map(|(i, (_, f))| (*i, *f)).collect();

    // Every shard holds the same reports (one per variant), in the same order.
    let parsed: Vec<(u32, &ShardFile, Vec<ReportIn>)> = shards
        .iter()
        .map(|(i, f)| {
            let reports = f
                .reports
                .iter()
                .map(|r| serde_json::from_value::<ReportIn>(r.clone()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| {
                    Error::BadInput(format!(
                        "shard {} of {}: a report lacks what merge needs: {e}",
                        f.shard,
                        dir.display()
                    ))
                })?;
            Ok((*i, *f, reports))
        })
        .collect::<Result<_, Error>>()?;
    let variants = parsed[0].2.len();
    if let Some((i, _, r)) = parsed.iter().find(|(_, _, r)| r.len() != variants) {
        return Err(Error::BadInput(format!(
            "shard {i}/{count} holds {} reports where shard {}/{count} holds {variants}",
            r.len(),
            parsed[0].0
        )));
    }
    let mut reports = Vec::new();
    for v in 0..variants {
        reports.push(merge_variant(&parsed, v, count, &missing, confirm_states)?);
    }
    Ok(Merged {
        count,
        missing,
        reports,
    })
}

/// Merges report `v` of every shard.
fn merge_variant(
    parsed: &[(u32, &ShardFile, Vec<ReportIn>)],
    v: usize,
    count: u32,
    missing: &[u32],
    confirm_states: usize,
) -> Result<MergedReport, Error> {
    let head = &parsed[0].2[v];
    for (i, _, r) in parsed {
        let r = &r[v];
        if (&r.model, &r.variant, r.bounds, &r.engine)
            != (&head.model, &head.variant, head.bounds, &head.engine)
        {
            return Err(Error::BadInput(format!(
                "shard {i}/{count} checked {}/{} where shard {}/{count} checked {}/{}",
                r.model, r.variant, parsed[0].0, head.model, head.variant
            )));
        }
    }
    let engine = match head.engine.as_str() {
        "random" => Engine::Random,
        "swarm" => Engine::Swarm,
        other => {
            return Err(Error::BadInput(format!(
                "shard results of the {other} engine cannot be merged: only random and swarm searches split into shards"
            )))
        }
    };
    let mut candidates = Vec::new();
    for (i, f, r) in parsed {
        let r = &r[v];
        for res in &r.results {
            if res.verdict == Verdict::Incomplete {
                continue;
            }
            let choices = res.choices.clone().ok_or_else(|| {
                Error::BadInput(format!(
                    "shard {}: {} is {} but its result has no `choices` to replay",
                    f.shard, res.property, res.verdict
                ))
            })?;
            let run = if engine == Engine::Swarm {
                "search"
            } else {
                "run"
            };
            candidates.push(Candidate {
                property: res.property.clone(),
                choices,
                origin: match res.found_in {
                    Some(k) => format!("shard {i}/{count}, {run} {k}"),
                    None => format!("shard {i}/{count}"),
                },
                found_in: res.found_in,
                reproduce: Some(format!("{} --property {}", r.command, res.property)),
            });
        }
    }
    // Among traces of one length the merge keeps the first: the one from the earliest
    // run, which is the one the unsplit search finds.
    candidates.sort_by_key(|c| c.found_in);
    let arch = models::find(&head.model)?;
    let variant = arch.variant(&head.variant)?;
    let search = &parsed[0].1.search;
    let num = |k: &str| search.get(k).and_then(Value::as_u64);
    let opts = CheckOptions {
        engine,
        limits: Limits {
            max_states: Some(confirm_states),
            ..Limits::default()
        },
        random: RandomOptions {
            cases: num("cases").unwrap_or(0) as u32,
            max_steps: num("max_steps").unwrap_or(0) as usize,
            seed: num("seed").unwrap_or(0),
        },
        properties: head.results.iter().map(|r| r.property.clone()).collect(),
        replay: Some(candidates),
        ..CheckOptions::default()
    };
    let mut report = arch.check(variant, &head.bounds, &opts)?;
    // The whole search's command: a shard's, without its --shard.
    let own_shard = format!(" --shard {}", parsed[0].1.shard);
    report.command = head
        .command
        .strip_suffix(&own_shard)
        .unwrap_or(&head.command)
        .to_string();
    let mut totals = Vec::new();
    for (i, f, r) in parsed {
        let r = &r[v];
        totals.push(ShardTotals {
            index: *i,
            host: f.host.clone(),
            runs: if engine == Engine::Swarm {
                r.results.first().and_then(|x| x.runs).unwrap_or(0)
            } else {
                r.results
                    .iter()
                    .filter_map(|x| x.runs)
                    .fold(0, u64::saturating_add)
            },
            states: r.results.first().map_or(0, |x| x.unique_states),
            seconds: if engine == Engine::Swarm {
                r.results.first().map_or(0.0, |x| x.seconds)
            } else {
                r.results.iter().map(|x| x.seconds).sum()
            },
        });
    }
    for res in &mut report.results {
        let mine = || {
            parsed
                .iter()
                .filter_map(|(_, _, r)| r[v].results.iter().find(|x| x.property == res.property))
        };
        res.runs = Some(mine().filter_map(|x| x.runs).fold(0, u64::saturating_add));
        res.unique_states = mine()
            .map(|x| x.unique_states as usize)
            .fold(0, usize::saturating_add);
        res.seconds = mine().map(|x| x.seconds).sum();
        res.seconds_to_trace = mine()
            .filter_map(|x| x.seconds_to_trace)
            .fold(None, |a: Option<f64>, s| Some(a.map_or(s, |a| a.min(s))));
        if engine == Engine::Swarm {
            res.max_depth = mine().map(|x| x.max_depth as usize).max().unwrap_or(0);
        }
        if res.trace.is_none() {
            res.note = Some(match engine {
                Engine::Swarm => format!(
                    "nothing found by {} depth-first searches in {} of {count} shards; a swarm can find violations but cannot prove that a property holds",
                    res.runs.unwrap_or(0),
                    parsed.len()
                ),
                _ => format!(
                    "nothing found in {} random runs in {} of {count} shards; random search never proves a property",
                    res.runs.unwrap_or(0),
                    parsed.len()
                ),
            });
        }
    }
    let seconds: f64 = totals.iter().map(|t| t.seconds).sum();
    let longest = totals.iter().map(|t| t.seconds).fold(0.0, f64::max);
    let never = match engine {
        Engine::Swarm => "a swarm finds violations but never proves that a property holds",
        _ => "random search never proves that a property holds",
    };
    report.end = format!(
        "{}merged {} of {count} shards of a {} search: {:.2}s in all, {:.2}s the longest shard; {never}",
        if missing.is_empty() {
            String::new()
        } else {
            format!("INCOMPLETE: {} of {count} shards missing ({}); ", missing.len(), missing.iter().map(u32::to_string).collect::<Vec<_>>().join(", "))
        },
        parsed.len(),
        engine.as_str(),
        seconds,
        longest
    );
    Ok(MergedReport {
        report,
        shards: totals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_runs_whatever_their_number() {
        for n in 1..=7u32 {
            let mut all: Vec<u32> = (0..n)
                .flat_map(|i| Shard::new(i, n).unwrap().runs(50).collect::<Vec<_>>())
                .collect();
            all.sort_unstable();
            assert_eq!(all, (0..50).collect::<Vec<_>>(), "{n} shards");
        }
        assert_eq!(Shard::new(2, 8).unwrap().runs(5).collect::<Vec<_>>(), [2]);
        assert_eq!(Shard::new(7, 8).unwrap().runs(5).count(), 0);
    }

    #[test]
    fn shard_parsing_accepts_i_of_n_and_explains_the_rest() {
        assert_eq!("3/8".parse::<Shard>(), Ok(Shard { index: 3, count: 8 }));
        assert_eq!("0/1".parse::<Shard>(), Ok(Shard::WHOLE));
        for (bad, needle) in [
            ("0/0", "0 parts"),
            ("3/2", "must be below N"),
            ("2/2", "must be below N"),
            ("abc", "write I/N"),
            ("1/", "write I/N"),
            ("-1/2", "write I/N"),
        ] {
            let e = bad.parse::<Shard>().unwrap_err();
            assert!(e.contains(needle), "{bad}: {e}");
        }
    }

    #[test]
    fn slurm_array_variables_give_the_shard() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Shard::from_slurm_env(env(&[])), Ok(None));
        assert_eq!(
            Shard::from_slurm_env(env(&[
                ("SLURM_ARRAY_TASK_ID", "3"),
                ("SLURM_ARRAY_TASK_COUNT", "8")
            ])),
            Ok(Some(Shard { index: 3, count: 8 }))
        );
        // An array numbered 1-8.
        assert_eq!(
            Shard::from_slurm_env(env(&[
                ("SLURM_ARRAY_TASK_ID", "8"),
                ("SLURM_ARRAY_TASK_COUNT", "8"),
                ("SLURM_ARRAY_TASK_MIN", "1")
            ])),
            Ok(Some(Shard { index: 7, count: 8 }))
        );
        for vars in [
            &[("SLURM_ARRAY_TASK_ID", "3")][..],
            &[
                ("SLURM_ARRAY_TASK_ID", "x"),
                ("SLURM_ARRAY_TASK_COUNT", "8"),
            ],
            &[
                ("SLURM_ARRAY_TASK_ID", "9"),
                ("SLURM_ARRAY_TASK_COUNT", "8"),
            ],
        ] {
            let vars: &'static [(&'static str, &'static str)] = vars;
            assert!(Shard::from_slurm_env(env(vars)).is_err(), "{vars:?}");
        }
    }
}
