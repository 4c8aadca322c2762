//! `splitbrain bench --format markdown`: bench/RESULTS.md, the bench's figures as tables
//! headed with the commit, the date and the machine, and bench/RESULTS.json beside it
//! (the JSON lines `--format json` prints). Figures reach the README only through these
//! files: none is pasted by hand.

use crate::error::Error;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// Writes bench/RESULTS.md and bench/RESULTS.json from the bench's JSON lines.
pub fn write(lines: &[Value]) -> Result<(), Error> {
    let dir = Path::new("bench");
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::BadInput(format!("cannot create {}: {e}", dir.display())))?;
    let json: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let existing = crate::files::Existing::Replace;
    crate::files::write_output(&dir.join("RESULTS.json"), json.as_bytes(), existing, None)?;
    let md = markdown(lines, &header());
    crate::files::write_output(&dir.join("RESULTS.md"), md.as_bytes(), existing, None)?;
    eprintln!("bench: wrote bench/RESULTS.md and bench/RESULTS.json");
    Ok(())
}

/// The commit, date and machine the figures come from.
fn header() -> String {
    let run = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|| "unknown".to_string())
    };
    let commit = run("git", &["rev-parse", "--short=12", "HEAD"]);
    let dirty = run("git", &["status", "--porcelain", "--untracked-files=no"]);
    let date = run("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            let line = c.lines().find(|l| l.starts_with("model name"))?.to_string();
            Some(line.split_once(':')?.1.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    let changed = if dirty.is_empty() || dirty == "unknown" {
        ""
    } else {
        " (with uncommitted changes)"
    };
    format!(
        "commit {commit}{changed}, {date}, {cores} cores ({cpu}), splitbrain {}",
        env!("CARGO_PKG_VERSION")
    )
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".to_string(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => format!("{f:.4}"),
            _ => n.to_string(),
        },
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The JSON lines as Markdown: a table per model and bounds, the goals, their tally and
/// the random-search comparison.
pub fn markdown(lines: &[Value], header: &str) -> String {
    let mut out = format!(
        "# Benchmark results\n\nMade by `splitbrain bench --format markdown` at {header}. Do not edit: run the command again.\n"
    );
    let mut group = String::new();
    let mut table_open = false;
    for l in lines {
        let key = format!("{} [{}]", cell(&l["model"]), cell(&l["bounds"]));
        if l.get("tool").is_some() && l.get("reduction").is_some() {
            if key != group {
                group = key.clone();
                out.push_str(&format!("\n## {key}\n"));
                table_open = false;
            }
            if !table_open {
                table_open = true;
                out.push_str(
                    "\n| variant | tool | threads | reduction | states | done | seconds | vs SPIN | vs stateright |\n|---|---|---|---|---|---|---|---|---|\n",
                );
            }
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                cell(&l["variant"]),
                cell(&l["tool"]),
                cell(&l["threads"]),
                cell(&l["reduction"]),
                cell(&l["unique_states"]),
                cell(&l["complete"]),
                cell(&l["seconds"]),
                cell(&l["ratio_to_spin_por"]),
                cell(&l["ratio_to_stateright"]),
            ));
        } else if let Some(goals) = l["goals"].as_array() {
            let words: Vec<String> = goals
                .iter()
                .map(|g| {
                    let met = match g["met"].as_bool() {
                        Some(true) => "met",
                        Some(false) => "MISSED",
                        None => "not judged",
                    };
                    format!("{} {met}", cell(&g["goal"]))
                })
                .collect();
            out.push_str(&format!(
                "\nGoals of {}: {}.\n",
                cell(&l["variant"]),
                words.join(", ")
            ));
            table_open = false;
        } else if let Some(tally) = l["goals_tally"].as_array() {
            out.push_str("\n## Goals over every group\n\n| goal | met | missed | not judged |\n|---|---|---|---|\n");
            for t in tally {
                out.push_str(&format!(
                    "| {} | {} | {} | {} |\n",
                    cell(&t["goal"]),
                    cell(&t["met"]),
                    cell(&t["missed"]),
                    cell(&t["not_judged"])
                ));
            }
        } else if l.get("steps_per_second").is_some() {
            if !group.starts_with("random:") {
                group = "random:".to_string();
                out.push_str(&format!(
                    "\n## Random search, {key}, {}\n\n| tool | steps | steps/s | first hit s |\n|---|---|---|---|\n",
                    cell(&l["property"])
                ));
            }
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                cell(&l["tool"]),
                cell(&l["steps"]),
                cell(&l["steps_per_second"]),
                cell(&l["first_hit_seconds"])
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_tables_follow_the_json_lines() {
        let lines = vec![
            json!({"model": "central-db", "bounds": "clients=1", "variant": "retry", "tool": "splitbrain", "reduction": "none", "threads": 1, "unique_states": 12, "complete": true, "seconds": 0.5, "ratio_to_spin_por": null, "ratio_to_stateright": 0.1}),
            json!({"model": "central-db", "bounds": "clients=1", "variant": "retry", "goals": [{"goal": "agreement", "met": true}]}),
            json!({"goals_tally": [{"goal": "agreement", "met": 1, "missed": 0, "not_judged": 0}]}),
        ];
        let md = markdown(&lines, "commit abc, today, 2 cores (cpu)");
        assert!(md.contains("at commit abc, today, 2 cores (cpu)"));
        assert!(md.contains("## central-db [clients=1]"));
        assert!(md.contains("| retry | splitbrain | 1 | none | 12 | yes | 0.5000 | - | 0.1000 |"));
        assert!(md.contains("Goals of retry: agreement met."));
        assert!(md.contains("| agreement | 1 | 0 | 0 |"));
    }
}
