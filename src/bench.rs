//! `splitbrain bench`: for every benchmark bound of every model and each of its variants,
//! the complete exhaustive search by plain stateright BFS (the baseline), by splitbrain's
//! BFS on one and on two threads, without reduction, with partial-order reduction, with
//! symmetry reduction (one thread) and with both, and by SPIN on the model's Promela twin
//! (`bench/spin/*.pml`, with and without partial-order reduction), side by side in the
//! same run, each variant's runs followed by the bench's verdict on its goals
//! ([`goals`]) and all of them by their tally; then splitbrain's random engine against
//! stateright's simulation checker on the deep master-master bound no exhaustive search
//! finishes.
//!
//! Every splitbrain and stateright run is its own child process, so that its peak memory
//! is its own; SPIN's pan is a child process too. Nothing here asserts on time.

use crate::architecture::{Architecture, Walks};
use crate::bounds::Bounds;
use crate::check::{CheckOptions, Engine};
use crate::error::Error;
use crate::exhaustive::Limits;
use crate::models;
use crate::report::Verdict;
use serde_json::{json, Value};
use std::process::Command;
use std::time::Instant;

pub mod goals;
pub mod histories;
pub mod results;

/// Peak resident memory of this process in bytes (Linux `VmHWM`), if known.
pub fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// States each exhaustive run may visit before it is cut short (incomplete).
pub const BENCH_MAX_STATES: usize = 2_000_000;

/// Seconds each random search may walk in the random-engine comparison.
pub const WALK_SECONDS: f64 = 5.0;

/// The tools of an exhaustive row, in the order they run.
const TOOLS: [(&str, &str, usize); 10] = [
    ("stateright", "none", 1),
    ("splitbrain", "none", 1),
    ("splitbrain", "none", 2),
    ("splitbrain", "por", 1),
    ("splitbrain", "por", 2),
    ("splitbrain", "symmetry", 1),
    ("splitbrain", "all", 1),
    ("splitbrain", "all", 2),
    ("spin", "none", 1),
    ("spin", "por", 1),
];

/// Output format of the benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table per model and bounds.
    Text,
    /// One JSON object per measured run, one per line.
    Json,
    /// Writes bench/RESULTS.md (tables, headed with the commit, date and machine) and
    /// bench/RESULTS.json (the JSON lines) under the current folder.
    Markdown,
}

/// Where the JSON objects of a run go: printed (json), kept for the files (markdown), or
/// nowhere (text prints its tables).
struct Sink {
    format: Format,
    lines: Vec<Value>,
}

impl Sink {
    fn json(&mut self, v: Value) {
        match self.format {
            Format::Json => println!("{v}"),
            Format::Markdown => self.lines.push(v),
            Format::Text => {}
        }
    }
}

/// A run quicker than this (seconds) is measured again, in the same process.
pub const REPEAT_BELOW: f64 = 0.25;

/// Runs of a quick search measured at least, and at most.
pub const RUNS: (usize, usize) = (5, 200);

/// Seconds of quick runs measured, in all, before the runs stop (once [`RUNS`]`.0` ran).
const REPEAT_SECONDS: f64 = 0.5;

/// Measures a stateright or splitbrain run in this process (the child's side). A run
/// quicker than [`REPEAT_BELOW`] is run again, [`RUNS`]`.0` times at least and until
/// half a second is spent or [`RUNS`]`.1` ran, and the fastest run is reported, with
/// `runs` and the median's seconds (`median_seconds`): a millisecond's search is
/// otherwise mostly the clock's and the scheduler's noise, which only ever adds time,
/// and on a shared machine a whole half second can be slowed by a third (the median
/// then moves with it; the fastest run barely does). Peak memory is read after the
/// first run (it is one run's peak).
fn fastest_of_runs(measure_once: impl Fn() -> Result<Value, Error>) -> Result<Value, Error> {
    let first = measure_once()?;
    let peak = peak_memory_bytes();
    let secs = |m: &Value| m["seconds"].as_f64().unwrap_or(0.0);
    let mut runs = vec![first];
    if secs(&runs[0]) < REPEAT_BELOW {
        let mut spent = secs(&runs[0]);
        while runs.len() < RUNS.0 || (spent < REPEAT_SECONDS && runs.len() < RUNS.1) {
            let m = measure_once()?;
            spent += secs(&m);
            runs.push(m);
        }
    }
    let n = runs.len();
    runs.sort_by(|a, b| secs(a).total_cmp(&secs(b)));
    let median = secs(&runs[n / 2]);
    let mut out = runs.swap_remove(0);
    out["runs"] = json!(n);
    out["median_seconds"] = json!(median);
    out["peak_memory_bytes"] = json!(peak);
    Ok(out)
}

/// One measured stateright or splitbrain run.
fn measure_one(
    arch: &dyn Architecture,
    variant: &str,
    engine: &str,
    threads: usize,
    reduce: crate::reduction::Reduce,
    bounds: &Bounds,
) -> Result<Value, Error> {
    let v = arch.variant(variant)?;
    let started = Instant::now();
    let out = match engine {
        "stateright" => {
            let b = arch.baseline(v, bounds, BENCH_MAX_STATES)?;
            // Its verdicts on the `always` and `sometimes` properties (see
            // `architecture::Baseline::verdicts`).
            let properties: serde_json::Map<String, Value> = b
                .verdicts
                .iter()
                .map(|(name, v)| (name.to_string(), json!({ "verdict": v.as_str() })))
                .collect();
            json!({
                "unique_states": b.unique_states,
                // From the model built to the checker dropped, as splitbrain's run is
                // timed from the model built to its report; asking stateright for its
                // discoveries afterwards is left out.
                "seconds": started.elapsed().as_secs_f64() - b.untimed_seconds,
                "first_counterexample_seconds": null,
                "shortest_trace": null,
                "complete": b.complete,
                "properties": properties,
            })
        }
        "splitbrain" => {
            let opts = CheckOptions {
                engine: Engine::Bfs,
                limits: Limits {
                    max_states: Some(BENCH_MAX_STATES),
                    ..Limits::default()
                },
                threads,
                reduce,
                ..CheckOptions::default()
            };
            let r = arch.check(v, bounds, &opts)?;
            let violated = || r.results.iter().filter(|p| p.verdict == Verdict::Violated);
            let first = violated()
                .filter_map(|p| p.seconds_to_trace)
                .fold(None::<f64>, |a, s| Some(a.map_or(s, |a| a.min(s))));
            let shortest = violated()
                .filter_map(|p| p.trace.as_ref().map(|t| t.len()))
                .min();
            let seconds = started.elapsed().as_secs_f64();
            let properties: serde_json::Map<String, Value> = r
                .results
                .iter()
                .map(|p| {
                    let entry = json!({
                        "verdict": p.verdict.as_str(),
                        "trace": p.trace.as_ref().map(|t| t.len()),
                        "shortest": p.shortest,
                    });
                    (p.property.to_string(), entry)
                })
                .collect();
            json!({
                "unique_states": r.results.first().map_or(0, |p| p.unique_states),
                "seconds": seconds,
                "first_counterexample_seconds": first,
                "shortest_trace": shortest,
                "complete": r.complete,
                "properties": properties,
            })
        }
        other => {
            return Err(Error::BadInput(format!(
                "unknown bench engine '{other}'; valid choices: splitbrain, stateright"
            )))
        }
    };
    Ok(out)
}

/// One measured run, as printed.
fn row(
    arch: &dyn Architecture,
    bounds: &Bounds,
    variant: &str,
    (tool, reduction, threads): (&str, &str, usize),
    m: &Value,
) -> Value {
    let states = m["unique_states"].as_u64().unwrap_or(0);
    let secs = m["seconds"].as_f64().unwrap_or(0.0);
    let mem = m["peak_memory_bytes"].as_u64();
    let measured = m.get("error").is_none();
    labelled(
        arch,
        bounds,
        variant,
        json!({
            "tool": tool,
            "reduction": reduction,
            "threads": threads,
            "unique_states": measured.then_some(states),
            "complete": m["complete"].as_bool().unwrap_or(false),
            "seconds": measured.then_some(secs),
            "states_per_second": (measured && secs > 0.0).then(|| states as f64 / secs),
            "peak_memory_bytes": mem,
            "bytes_per_state": mem.filter(|_| states > 0).map(|b| b / states),
            "first_counterexample_seconds": m["first_counterexample_seconds"],
            "shortest_trace": m["shortest_trace"],
            "compile_seconds": m["compile_seconds"],
            "runs": measured.then(|| m["runs"].as_u64().unwrap_or(1)),
            "median_seconds": m["median_seconds"],
            "properties": m["properties"],
            "error": m["error"],
        }),
    )
}

/// Sets each run's `ratio_to_spin_por` and `ratio_to_stateright` among one variant's
/// runs at one bound: its wall time over SPIN-with-POR's and over plain stateright BFS's,
/// where both runs finished (null otherwise). SPIN reports its time in hundredths of a
/// second ([`goals::SPIN_RESOLUTION`]): no ratio has a SPIN time below that in it;
/// stateright's and splitbrain's are timed alike, to the microsecond.
pub(crate) fn add_ratios(rows: &mut [Value]) {
    let secs = |r: &Value| {
        r["complete"]
            .as_bool()
            .unwrap_or(false)
            .then(|| r["seconds"].as_f64())
            .flatten()
    };
    let of = |tool: &str, reduction: &str| {
        rows.iter()
            .find(|r| r["tool"] == tool && r["reduction"] == reduction)
            .and_then(secs)
    };
    let (base, spin_por) = (of("stateright", "none"), of("spin", "por"));
    for r in rows.iter_mut() {
        let mine = secs(r);
        let least_mine = if r["tool"] == "spin" {
            goals::SPIN_RESOLUTION
        } else {
            0.0
        };
        let ratio = |other: Option<f64>, least_other: f64| match (mine, other) {
            (Some(a), Some(b)) if a >= least_mine && b >= least_other && b > 0.0 => json!(a / b),
            _ => Value::Null,
        };
        r["ratio_to_spin_por"] = ratio(spin_por, goals::SPIN_RESOLUTION);
        r["ratio_to_stateright"] = ratio(base, 0.0);
    }
}

/// The labels every JSON object of the bench starts with, and `fields`.
fn labelled(arch: &dyn Architecture, bounds: &Bounds, variant: &str, fields: Value) -> Value {
    let mut out = json!({
        "model": arch.name(),
        "bounds": bounds.describe(),
        "variant": variant,
    });
    if let (Some(out), Value::Object(fields)) = (out.as_object_mut(), fields) {
        out.extend(fields);
    }
    out
}

/// Runs a child `splitbrain bench --one` and reads its JSON line.
fn child(
    exe: &std::path::Path,
    arch: &str,
    variant: &str,
    (engine, reduce, threads): (&str, &str, usize),
    bi: usize,
) -> Value {
    let output = Command::new(exe)
        .args(["bench", "--one", arch, variant, engine])
        .env("SPLITBRAIN_BENCH_BOUNDS", bi.to_string())
        .env("SPLITBRAIN_BENCH_THREADS", threads.to_string())
        .env("SPLITBRAIN_BENCH_REDUCE", reduce)
        .output();
    match output {
        Ok(o) => serde_json::from_str(String::from_utf8_lossy(&o.stdout).trim()).unwrap_or_else(|_| {
            json!({"error": format!("the run failed: {}", String::from_utf8_lossy(&o.stderr).trim())})
        }),
        Err(e) => json!({"error": format!("cannot run {}: {e}", exe.display())}),
    }
}

/// SPIN on the twin, unless there is none, SPIN is missing, or splitbrain's own search
/// was cut short at these bounds (SPIN would run into the same wall, only later).
fn spin_run(
    arch: &str,
    variant: &str,
    bounds: &Bounds,
    reduce: bool,
    ours_complete: bool,
) -> Value {
    if !ours_complete {
        return json!({"error": format!("not run: splitbrain's search stops at {BENCH_MAX_STATES} states here")});
    }
    match crate::spin::run_twin(arch, variant, bounds, reduce) {
        Ok(r) => json!({
            "unique_states": r.unique_states,
            "seconds": r.seconds,
            "compile_seconds": r.compile_seconds,
            "complete": r.complete,
            "peak_memory_bytes": r.peak_memory_bytes,
            "first_counterexample_seconds": null,
            "shortest_trace": null,
        }),
        Err(e) => json!({"error": e.to_string()}),
    }
}

/// Entry point of `splitbrain bench`. With `one` = [model, variant, engine] it measures
/// that run here and prints JSON (used by the parent process).
pub fn run(only: &[String], one: &[String], format: Format) -> Result<i32, Error> {
    if let [model, variant, engine] = one {
        let arch = models::find(model)?;
        let env = |k: &str| std::env::var(k).ok().and_then(|s| s.parse::<usize>().ok());
        let all = arch.bench_bounds();
        let bounds = all
            .get(env("SPLITBRAIN_BENCH_BOUNDS").unwrap_or(0))
            .copied()
            .unwrap_or(all[0]);
        let threads = env("SPLITBRAIN_BENCH_THREADS").unwrap_or(1);
        let reduce = std::env::var("SPLITBRAIN_BENCH_REDUCE")
            .ok()
            .and_then(|r| clap::ValueEnum::from_str(&r, false).ok())
            .unwrap_or(crate::reduction::Reduce::None);
        println!(
            "{}",
            fastest_of_runs(|| measure_one(arch, variant, engine, threads, reduce, &bounds))?
        );
        return Ok(0);
    }
    let exe = std::env::current_exe()
        .map_err(|e| Error::BadInput(format!("cannot find the splitbrain executable: {e}")))?;
    let catalog: Vec<&dyn Architecture> = if only.is_empty() {
        models::catalog()
    } else {
        only.iter()
            .map(|m| models::find(m))
            .collect::<Result<_, _>>()?
    };
    let text = format == Format::Text;
    let mut sink = Sink {
        format,
        lines: Vec::new(),
    };
    if text {
        if let Some(why) = crate::spin::spin_missing() {
            println!("note: SPIN rows {why}");
        }
    }
    let mut verdicts: Vec<(String, Vec<Value>)> = Vec::new();
    for arch in &catalog {
        for (bi, bounds) in arch.bench_bounds().iter().enumerate() {
            if text {
                println!("\n{}  [{}]", arch.name(), bounds.describe());
                println!(
                    "  {:<16} {:<10} {:>3} {:<8} {:>10} {:>4} {:>8} {:>4} {:>10} {:>8} {:>6} {:>9} {:>5} {:>7} {:>7}",
                    "variant", "tool", "thr", "red", "states", "done", "seconds", "runs", "states/s",
                    "peak MB", "B/st", "1st cex s", "steps", "vs SPIN", "vs s-r"
                );
            }
            for v in arch.variants() {
                let mut rows: Vec<Value> = Vec::new();
                let mut ours_complete = true;
                for tool in TOOLS {
                    let m = match tool.0 {
                        "spin" => {
                            spin_run(arch.name(), v.name, bounds, tool.1 == "por", ours_complete)
                        }
                        _ => child(&exe, arch.name(), v.name, tool, bi),
                    };
                    if tool == ("splitbrain", "none", 1) {
                        ours_complete = m["complete"].as_bool().unwrap_or(false);
                    }
                    rows.push(row(*arch, bounds, v.name, tool, &m));
                }
                add_ratios(&mut rows);
                for r in &rows {
                    if text {
                        print_row(r);
                    } else {
                        sink.json(r.clone());
                    }
                }
                let judged = goals::judge(&rows);
                if text {
                    for g in &judged {
                        println!(
                            "  {:<16} goal {:<24} {:<10} {}",
                            v.name,
                            g["goal"].as_str().unwrap_or(""),
                            met_word(&g["met"]),
                            g["detail"].as_str().unwrap_or("")
                        );
                    }
                } else {
                    sink.json(labelled(*arch, bounds, v.name, json!({ "goals": judged })));
                }
                verdicts.push((
                    format!("{} {} [{}]", arch.name(), v.name, bounds.describe()),
                    judged,
                ));
            }
        }
    }
    let tally = goals::tally(&verdicts);
    if text {
        println!(
            "\ngoals, over {} model, bounds and variant groups:",
            verdicts.len()
        );
        for t in &tally {
            println!(
                "  {:<24} met {:>3}, missed {:>3}, not judged {:>3}{}",
                t["goal"].as_str().unwrap_or(""),
                t["met"],
                t["missed"],
                t["not_judged"],
                missed_list(&t["missed_in"])
            );
        }
    } else {
        sink.json(json!({ "goals_tally": tally }));
    }
    random_comparison(&catalog, &mut sink)?;
    if format == Format::Markdown {
        crate::bench::results::write(&sink.lines)?;
    }
    let code = goals::exit_code(&tally);
    if code != 0 {
        eprintln!(
            "bench: a reduced or two-thread search disagreed with the unreduced one (or stateright) on a verdict or a trace length: see the goals {} above",
            goals::AGREEMENT.join(" and ")
        );
    }
    if text {
        println!(
            "\nthr = threads; red = state-space reduction (splitbrain's --reduce: por = partial-order reduction, symmetry = interchangeable servers searched once, all = both; SPIN's own partial-order reduction; or none); done = the search \
finished (no = cut at {BENCH_MAX_STATES} states); seconds = wall time, of the fastest run where a run took under {REPEAT_BELOW} s and was measured again, runs times in the same process (median_seconds in JSON); states/s = unique states / wall seconds; B/st = peak resident bytes \
per unique state; vs SPIN = wall time / SPIN-with-POR's wall time, vs s-r = wall time / plain stateright BFS's \
(below 1 = faster; no ratio to SPIN where either time is below 0.01 s, the hundredths pan reports). SPIN's seconds are pan's search time; compiling pan comes on top (compile_seconds in JSON). \
SPIN stores one state more than splitbrain: its state before `init` runs."
        );
    }
    Ok(code)
}

/// "met", "MISSED" or "not judged".
fn met_word(met: &Value) -> &'static str {
    match met.as_bool() {
        Some(true) => "met",
        Some(false) => "MISSED",
        None => "not judged",
    }
}

/// "; missed in: a, b" (nothing when none missed).
fn missed_list(missed: &Value) -> String {
    let names: Vec<&str> = missed
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if names.is_empty() {
        String::new()
    } else {
        format!("; missed in: {}", names.join(", "))
    }
}

fn print_row(r: &Value) {
    let dash = || "-".to_string();
    let num = |k: &str, f: &dyn Fn(f64) -> String| r[k].as_f64().map_or_else(dash, f);
    let Some(states) = r["unique_states"].as_u64() else {
        println!(
            "  {:<16} {:<10} {:>3} {:<8} {}",
            r["variant"].as_str().unwrap_or(""),
            r["tool"].as_str().unwrap_or(""),
            r["threads"],
            r["reduction"].as_str().unwrap_or(""),
            r["error"].as_str().unwrap_or("not measured")
        );
        return;
    };
    println!(
        "  {:<16} {:<10} {:>3} {:<8} {:>10} {:>4} {:>8} {:>4} {:>10} {:>8} {:>6} {:>9} {:>5} {:>7} {:>7}",
        r["variant"].as_str().unwrap_or(""),
        r["tool"].as_str().unwrap_or(""),
        r["threads"],
        r["reduction"].as_str().unwrap_or(""),
        states,
        if r["complete"].as_bool().unwrap_or(false) {
            "yes"
        } else {
            "no"
        },
        num("seconds", &|s| format!("{s:.3}")),
        r["runs"].as_u64().map_or_else(dash, |n| n.to_string()),
        num("states_per_second", &|s| format!("{s:.0}")),
        num("peak_memory_bytes", &|b| format!("{:.1}", b / 1e6)),
        r["bytes_per_state"]
            .as_u64()
            .map_or_else(dash, |b| b.to_string()),
        num("first_counterexample_seconds", &|s| format!("{s:.4}")),
        r["shortest_trace"]
            .as_u64()
            .map_or_else(dash, |s| s.to_string()),
        num("ratio_to_spin_por", &|x| format!("{x:.2}x")),
        num("ratio_to_stateright", &|x| format!("{x:.2}x")),
    );
}

/// splitbrain's random engine against stateright's simulation checker, on the deepest
/// master-master bench bound (a bug no exhaustive search reaches within the bench's state
/// limit): steps per second over [`WALK_SECONDS`] of walking, and time to the first walk
/// that overdraws the account.
fn random_comparison(catalog: &[&dyn Architecture], sink: &mut Sink) -> Result<(), Error> {
    let text = sink.format == Format::Text;
    let Some(arch) = catalog.iter().find(|a| a.name() == "master-master") else {
        return Ok(());
    };
    let Some(bounds) = arch.bench_bounds().last().copied() else {
        return Ok(());
    };
    let v = arch.variant("async-ops")?;
    let property = "no_negative_balance";
    let [ours, theirs] = arch
        .build(v, &bounds)?
        .random_walks(property, WALK_SECONDS)?;
    let mut show = |tool: &str, w: &Walks| {
        let rate = w.steps as f64 / w.seconds.max(1e-9);
        if text {
            println!(
                "  {:<22} {:>12} {:>12.0} {:>16}",
                tool,
                w.steps,
                rate,
                w.first_hit_seconds
                    .map_or_else(|| format!("none in {WALK_SECONDS}s"), |s| format!("{s:.4}"))
            );
        } else {
            sink.json(labelled(
                *arch,
                &bounds,
                v.name,
                json!({
                    "property": property,
                    "tool": tool,
                    "steps": w.steps,
                    "seconds": w.seconds,
                    "steps_per_second": rate,
                    "first_hit_seconds": w.first_hit_seconds,
                }),
            ));
        }
    };
    if text {
        println!(
            "\nrandom search: {} {} [{}], {property}, walks of up to 200 steps for {WALK_SECONDS}s",
            arch.name(),
            v.name,
            bounds.describe()
        );
        println!(
            "  {:<22} {:>12} {:>12} {:>16}",
            "tool", "steps", "steps/s", "first hit s"
        );
    }
    show("splitbrain random", &ours);
    show("stateright simulation", &theirs);
    Ok(())
}
