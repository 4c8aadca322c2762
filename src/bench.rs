//! `splitbrain bench`: unique states, states per second, peak memory and time to the
//! first counterexample for every variant, by splitbrain's BFS, its random engine and
//! plain stateright BFS (the baseline), each measured in a fresh child process so that
//! peak memory belongs to that run alone.

use crate::architecture::Architecture;
use crate::bounds::Bounds;
use crate::check::{CheckOptions, Engine};
use crate::error::Error;
use crate::exhaustive::Limits;
use crate::models;
use crate::random::RandomOptions;
use crate::report::Verdict;
use serde_json::{json, Value};
use std::process::Command;
use std::time::Instant;

/// Peak resident memory of this process in bytes (Linux `VmHWM`), if known.
pub fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// States each exhaustive run may visit before it is cut short (incomplete).
pub const BENCH_MAX_STATES: usize = 2_000_000;

fn measure_one(
    arch: &dyn Architecture,
    variant: &str,
    engine: &str,
    bounds: &Bounds,
) -> Result<Value, Error> {
    let v = arch.variant(variant)?;
    let started = Instant::now();
    let out = match engine {
        "stateright" => {
            let b = arch.baseline(v, bounds, BENCH_MAX_STATES)?;
            json!({
                "unique_states": b.unique_states,
                "seconds": b.seconds,
                "first_counterexample": null,
                "complete": b.complete,
            })
        }
        "bfs" | "random" => {
            let opts = CheckOptions {
                engine: if engine == "bfs" {
                    Engine::Bfs
                } else {
                    Engine::Random
                },
                limits: Limits {
                    max_states: Some(BENCH_MAX_STATES),
                    ..Limits::default()
                },
                random: RandomOptions {
                    cases: 2_000,
                    max_steps: 200,
                    seed: 0,
                },
                ..CheckOptions::default()
            };
            let r = arch.check(v, bounds, &opts)?;
            let first = r
                .results
                .iter()
                .filter(|p| p.verdict == Verdict::Violated)
                .filter_map(|p| p.seconds_to_trace)
                .fold(None::<f64>, |a, s| Some(a.map_or(s, |a| a.min(s))));
            let shortest = r
                .results
                .iter()
                .filter(|p| p.verdict == Verdict::Violated)
                .filter_map(|p| p.trace.as_ref().map(|t| t.len()))
                .min();
            json!({
                "unique_states": r.results.first().map_or(0, |p| p.unique_states),
                "seconds": started.elapsed().as_secs_f64(),
                "first_counterexample": first,
                "shortest_trace": shortest,
                "complete": r.complete,
            })
        }
        other => {
            return Err(Error::BadInput(format!(
                "unknown bench engine '{other}'; valid choices: bfs, random, stateright"
            )))
        }
    };
    let mut out = out;
    out["peak_memory_bytes"] = json!(peak_memory_bytes());
    Ok(out)
}

/// Entry point of `splitbrain bench`. With `one` = [model, variant, engine] it measures
/// that run here and prints JSON (used by the parent process).
pub fn run(only: &[String], one: &[String]) -> Result<i32, Error> {
    if let [model, variant, engine] = one {
        let arch = models::find(model)?;
        let bounds_index: usize = std::env::var("SPLITBRAIN_BENCH_BOUNDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let all = arch.bench_bounds();
        let bounds = all.get(bounds_index).copied().unwrap_or(all[0]);
        println!("{}", measure_one(arch, variant, engine, &bounds)?);
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
    for arch in catalog {
        for (bi, bounds) in arch.bench_bounds().iter().enumerate() {
            println!("\n{}  [{}]", arch.name(), bounds.describe());
            println!(
                "  {:<14} {:<10} {:>10} {:>9} {:>9} {:>10} {:>11} {:>6} {:>8} {:>8}",
                "variant",
                "engine",
                "states",
                "complete",
                "seconds",
                "states/s",
                "first cex s",
                "steps",
                "peak MB",
                "vs base"
            );
            for v in arch.variants() {
                let mut base_seconds = None;
                for engine in ["stateright", "bfs", "random"] {
                    let output = Command::new(&exe)
                        .args(["bench", "--one", arch.name(), v.name, engine])
                        .env("SPLITBRAIN_BENCH_BOUNDS", bi.to_string())
                        .output()
                        .map_err(|e| {
                            Error::BadInput(format!("cannot run {}: {e}", exe.display()))
                        })?;
                    let text = String::from_utf8_lossy(&output.stdout);
                    let Ok(m) = serde_json::from_str::<Value>(text.trim()) else {
                        println!(
                            "  {:<14} {:<10} failed: {}",
                            v.name,
                            engine,
                            String::from_utf8_lossy(&output.stderr).trim()
                        );
                        continue;
                    };
                    let states = m["unique_states"].as_u64().unwrap_or(0);
                    let secs = m["seconds"].as_f64().unwrap_or(0.0);
                    let complete = m["complete"].as_bool().unwrap_or(false);
                    if engine == "stateright" && complete {
                        base_seconds = Some(secs);
                    }
                    let dash = || "-".to_string();
                    let rate = if engine == "random" || secs <= 0.0 {
                        dash()
                    } else {
                        format!("{:.0}", states as f64 / secs)
                    };
                    let first = m["first_counterexample"]
                        .as_f64()
                        .map_or_else(dash, |s| format!("{s:.4}"));
                    let steps = m["shortest_trace"]
                        .as_u64()
                        .map_or_else(dash, |s| s.to_string());
                    let mem = m["peak_memory_bytes"]
                        .as_u64()
                        .map_or_else(dash, |b| format!("{:.1}", b as f64 / 1e6));
                    let ratio = match (engine, base_seconds, complete) {
                        ("bfs", Some(b), true) if b > 0.0 => format!("{:.2}x", secs / b),
                        _ => dash(),
                    };
                    println!(
                        "  {:<14} {:<10} {:>10} {:>9} {:>9.3} {:>10} {:>11} {:>6} {:>8} {:>8}",
                        v.name,
                        engine,
                        if engine == "random" {
                            dash()
                        } else {
                            states.to_string()
                        },
                        if engine == "random" {
                            "never"
                        } else if complete {
                            "yes"
                        } else {
                            "NO"
                        },
                        secs,
                        rate,
                        first,
                        steps,
                        mem,
                        ratio
                    );
                }
            }
        }
    }
    println!(
        "\nstates/s = unique states / wall seconds. Exhaustive runs stop at {BENCH_MAX_STATES} states (complete = NO). \
'first cex s' = seconds until the first counterexample of any property; 'steps' = its length. \
'vs base' = splitbrain BFS time / plain stateright BFS time on the same model and properties \
(below 1 = faster). Each run is its own process; peak MB is its peak resident memory."
    );
    Ok(0)
}
