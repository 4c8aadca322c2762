//! The bench's own verdict on its goals, per model, bounds and variant: splitbrain's
//! fastest finished search against plain stateright BFS (a tenth of its time or less, or
//! finished where stateright was cut) and against SPIN with partial-order reduction (less
//! time, no more memory), and every finished splitbrain search agreeing with the others,
//! and with stateright on its `always` and `sometimes` properties, on each property's
//! verdict and on the length of its shortest trace.
//!
//! Each goal is met, missed, or not judged (`met` is null: a run missing, cut short, or a
//! time below what the tool can tell), with a line saying why. The judging reads only the
//! rows the bench printed, so `--format json` users can check it.

use serde_json::{json, Value};

/// A tenth: the most of stateright's time splitbrain's fastest search may take.
pub const STATERIGHT_SHARE: f64 = 0.1;

/// SPIN reports its search time in hundredths of a second: no time comparison below it.
pub const SPIN_RESOLUTION: f64 = 0.01;

/// The goals, in the order they are judged and printed.
pub const GOALS: [&str; 5] = [
    "tenth_of_stateright_time",
    "faster_than_spin_por",
    "memory_within_spin_por",
    "same_verdicts",
    "same_trace_lengths",
];

fn finished(r: &Value) -> bool {
    r["complete"].as_bool().unwrap_or(false) && r["unique_states"].as_u64().is_some()
}

fn seconds(r: &Value) -> Option<f64> {
    r["seconds"].as_f64()
}

fn run_name(r: &Value) -> String {
    format!(
        "{} {} on {} thread{}",
        r["tool"].as_str().unwrap_or("?"),
        r["reduction"].as_str().unwrap_or("?"),
        r["threads"],
        if r["threads"] == 1 { "" } else { "s" }
    )
}

/// A verdict as a word ("nothing" where a run does not name the property).
fn word(v: &Value) -> &str {
    v.as_str().unwrap_or("nothing")
}

fn goal(name: &str, met: Option<bool>, detail: String) -> Value {
    json!({ "goal": name, "met": met, "detail": detail })
}

fn megabytes(bytes: u64) -> String {
    format!("{:.0} MB", bytes as f64 / 1e6)
}

/// Judges one model, bounds and variant from its bench rows (every tool's run, as
/// [`super::run`] prints them, with the ratios `add_ratios` set): one object per goal of
/// [`GOALS`], with `goal`, `met` (true, false or null: not judged) and `detail`.
pub fn judge(rows: &[Value]) -> Vec<Value> {
    let ours: Vec<&Value> = rows
        .iter()
        .filter(|r| r["tool"] == "splitbrain" && finished(r))
        .collect();
    let best = ours
        .iter()
        .copied()
        .filter(|r| seconds(r).is_some())
        .min_by(|a, b| {
            seconds(a)
                .unwrap_or(0.0)
                .total_cmp(&seconds(b).unwrap_or(0.0))
        });
    let find = |tool: &str, reduction: &str| {
        rows.iter()
            .find(|r| r["tool"] == tool && r["reduction"] == reduction)
    };
    let stateright = find("stateright", "none");
    let spin = find("spin", "por");
    let none_finished = || {
        let cut = rows
            .iter()
            .filter(|r| r["tool"] == "splitbrain")
            .filter_map(|r| r["unique_states"].as_u64())
            .max()
            .unwrap_or(0);
        format!("no splitbrain search finished (cut at {cut} states)")
    };
    let mut goals = Vec::with_capacity(GOALS.len());

    goals.push(match (best, stateright) {
        (None, _) => goal(GOALS[0], None, none_finished()),
        (_, None) => goal(GOALS[0], None, "stateright was not run".into()),
        (Some(b), Some(s)) => match (seconds(b), seconds(s)) {
            (Some(mine), Some(theirs)) if b["ratio_to_stateright"].is_f64() => {
                let ratio = b["ratio_to_stateright"].as_f64().unwrap_or(f64::MAX);
                goal(
                    GOALS[0],
                    Some(ratio <= STATERIGHT_SHARE),
                    format!(
                        "{ratio:.3}x stateright's time ({}: {mine:.6} s against {theirs:.6} s; at most {STATERIGHT_SHARE}x)",
                        run_name(b)
                    ),
                )
            }
            (Some(mine), Some(theirs)) if !finished(s) && s["unique_states"].is_u64() => goal(
                GOALS[0],
                Some(true),
                format!(
                    "stateright cut at {} states after {theirs:.3} s; {} finished in {mine:.6} s",
                    s["unique_states"],
                    run_name(b)
                ),
            ),
            _ => goal(
                GOALS[0],
                None,
                format!(
                    "stateright not measured: {}",
                    s["error"].as_str().unwrap_or("no time")
                ),
            ),
        },
    });

    let spin_seconds = spin.filter(|r| finished(r)).and_then(seconds);
    goals.push(match (best, spin, spin_seconds) {
        (None, _, _) => goal(GOALS[1], None, none_finished()),
        (_, None, _) => goal(GOALS[1], None, "SPIN was not run".into()),
        (_, Some(r), None) => goal(
            GOALS[1],
            None,
            format!(
                "SPIN with POR not measured: {}",
                r["error"].as_str().unwrap_or("its search did not finish")
            ),
        ),
        (Some(b), Some(_), Some(theirs)) => match b["ratio_to_spin_por"].as_f64() {
            None => goal(
                GOALS[1],
                None,
                format!("SPIN with POR took under its {SPIN_RESOLUTION} s resolution"),
            ),
            Some(ratio) => goal(
                GOALS[1],
                Some(ratio < 1.0),
                format!(
                    "{ratio:.3}x SPIN-with-POR's time ({}: {:.6} s against {theirs:.2} s)",
                    run_name(b),
                    seconds(b).unwrap_or(0.0)
                ),
            ),
        },
    });

    let spin_peak = spin
        .filter(|r| finished(r))
        .and_then(|r| r["peak_memory_bytes"].as_u64());
    goals.push(
        match (
            best,
            best.and_then(|b| b["peak_memory_bytes"].as_u64()),
            spin_peak,
        ) {
            (None, _, _) => goal(GOALS[2], None, none_finished()),
            (Some(_), None, _) => goal(GOALS[2], None, "splitbrain's peak memory unknown".into()),
            (Some(_), Some(_), None) => goal(
                GOALS[2],
                None,
                format!(
                    "SPIN with POR not measured: {}",
                    spin.and_then(|r| r["error"].as_str())
                        .unwrap_or("not run, not finished, or its peak unknown")
                ),
            ),
            (Some(b), Some(mine), Some(theirs)) => goal(
                GOALS[2],
                Some(mine <= theirs),
                format!(
                    "{} at {} against SPIN-with-POR's {}",
                    run_name(b),
                    megabytes(mine),
                    megabytes(theirs)
                ),
            ),
        },
    );

    // The unreduced one-thread search is the reference where it finished (its traces are
    // breadth-first, shortest as found); otherwise the first finished run.
    let reference = ours
        .iter()
        .copied()
        .find(|r| r["reduction"] == "none" && r["threads"] == 1)
        .or_else(|| ours.first().copied());
    goals.push(match reference {
        None => goal(GOALS[3], None, none_finished()),
        Some(reference) => {
            let mut wrong = Vec::new();
            let props = reference["properties"].as_object();
            let count = props.map_or(0, |p| p.len());
            for r in &ours {
                for (name, p) in props.into_iter().flatten() {
                    let theirs = &r["properties"][name]["verdict"];
                    if *theirs != p["verdict"] {
                        wrong.push(format!(
                            "{name}: {} says {}, {} says {}",
                            run_name(r),
                            word(theirs),
                            run_name(reference),
                            word(&p["verdict"])
                        ));
                    }
                }
            }
            let mut judged_by_stateright = 0;
            if let Some(s) = stateright.and_then(|s| s["properties"].as_object()) {
                for (name, v) in s {
                    let theirs = v["verdict"].as_str().unwrap_or("");
                    let mine = &reference["properties"][name]["verdict"];
                    // A counterexample stateright found is one even where it was cut.
                    if theirs == "incomplete" {
                        continue;
                    }
                    judged_by_stateright += 1;
                    if mine.as_str() != Some(theirs) {
                        wrong.push(format!(
                            "{name}: stateright says {theirs}, {} says {}",
                            run_name(reference),
                            word(mine)
                        ));
                    }
                }
            }
            if wrong.is_empty() {
                goal(
                    GOALS[3],
                    Some(true),
                    format!(
                        "{count} properties, the same verdicts in {} finished splitbrain searches and in the {judged_by_stateright} stateright judged (its always and sometimes properties)",
                        ours.len()
                    ),
                )
            } else {
                goal(GOALS[3], Some(false), wrong.join("; "))
            }
        }
    });

    goals.push(match reference {
        None => goal(GOALS[4], None, none_finished()),
        Some(reference) => {
            let mut wrong = Vec::new();
            let props = reference["properties"].as_object();
            for r in &ours {
                for (name, p) in props.into_iter().flatten() {
                    let theirs = &r["properties"][name];
                    if theirs["trace"] != p["trace"] {
                        wrong.push(format!(
                            "{name}: {} gives {} steps, {} gives {}",
                            run_name(r),
                            theirs["trace"],
                            run_name(reference),
                            p["trace"]
                        ));
                    } else if !theirs["trace"].is_null() && theirs["shortest"] != true {
                        wrong.push(format!(
                            "{name}: {} does not call its trace shortest",
                            run_name(r)
                        ));
                    }
                }
            }
            let traces = props.map_or(0, |p| p.values().filter(|v| !v["trace"].is_null()).count());
            if wrong.is_empty() {
                goal(
                    GOALS[4],
                    Some(true),
                    format!(
                        "{traces} trace{}, each the same length in {} finished splitbrain searches, each shortest",
                        if traces == 1 { "" } else { "s" },
                        ours.len()
                    ),
                )
            } else {
                goal(GOALS[4], Some(false), wrong.join("; "))
            }
        }
    });
    goals
}

/// Counts of met, missed and not judged per goal over every judged group, with the
/// groups that missed (`model variant [bounds]`).
pub fn tally(judged: &[(String, Vec<Value>)]) -> Vec<Value> {
    GOALS
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut counts = [0u64; 3];
            let mut missed = Vec::new();
            for (group, goals) in judged {
                match goals.get(i).map(|g| g["met"].as_bool()) {
                    Some(Some(true)) => counts[0] += 1,
                    Some(Some(false)) => {
                        counts[1] += 1;
                        missed.push(group.clone());
                    }
                    _ => counts[2] += 1,
                }
            }
            json!({
                "goal": name,
                "met": counts[0],
                "missed": counts[1],
                "not_judged": counts[2],
                "missed_in": missed,
            })
        })
        .collect()
}

/// The goals whose miss is a wrong answer, not a slow one: a reduced or two-thread
/// search that disagrees with the unreduced one (or stateright) on a verdict or a trace.
pub const AGREEMENT: [&str; 2] = [GOALS[3], GOALS[4]];

/// The bench's exit code from its [`tally`]: 1 when an [`AGREEMENT`] goal was missed
/// anywhere (a verdict differs, as `check`'s 1), else 0. Time and memory goals never
/// change it: they depend on the machine.
pub fn exit_code(tally: &[Value]) -> i32 {
    let wrong = tally
        .iter()
        .filter(|t| AGREEMENT.iter().any(|a| t["goal"] == *a))
        .any(|t| t["missed"].as_u64().unwrap_or(0) > 0);
    i32::from(wrong)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours(reduction: &str, threads: u64, seconds: f64, trace: Option<u64>) -> Value {
        json!({
            "tool": "splitbrain", "reduction": reduction, "threads": threads,
            "unique_states": 100, "complete": true, "seconds": seconds,
            "peak_memory_bytes": 10_000_000u64,
            "properties": {
                "no_negative_balance": {"verdict": "violated", "trace": trace, "shortest": true},
                "money_is_conserved": {"verdict": "holds", "trace": null, "shortest": false},
            },
        })
    }

    fn stateright(seconds: f64, complete: bool, violated: bool) -> Value {
        json!({
            "tool": "stateright", "reduction": "none", "threads": 1,
            "unique_states": 100, "complete": complete, "seconds": seconds,
            "properties": {
                "no_negative_balance": {"verdict": if violated { "violated" } else if complete { "holds" } else { "incomplete" }},
                "money_is_conserved": {"verdict": if complete { "holds" } else { "incomplete" }},
            },
        })
    }

    fn spin(seconds: f64, peak: u64) -> Value {
        json!({
            "tool": "spin", "reduction": "por", "threads": 1, "unique_states": 101,
            "complete": true, "seconds": seconds, "peak_memory_bytes": peak,
        })
    }

    /// The rows with their ratios set, as the bench prints them, judged.
    fn judge(rows: &[Value]) -> Vec<Value> {
        let mut rows = rows.to_vec();
        crate::bench::add_ratios(&mut rows);
        super::judge(&rows)
    }

    fn met(goals: &[Value]) -> Vec<Option<bool>> {
        goals.iter().map(|g| g["met"].as_bool()).collect()
    }

    #[test]
    fn every_goal_met_by_a_fast_agreeing_search() {
        let rows = [
            stateright(1.0, true, true),
            ours("none", 1, 0.5, Some(4)),
            ours("all", 2, 0.05, Some(4)),
            spin(0.2, 200_000_000),
        ];
        let goals = judge(&rows);
        assert_eq!(met(&goals), vec![Some(true); 5], "{goals:#?}");
        assert!(goals[0]["detail"]
            .as_str()
            .unwrap()
            .starts_with("0.050x stateright's time (splitbrain all on 2 threads"));
    }

    #[test]
    fn a_slow_search_misses_the_time_goals_and_says_by_how_much() {
        let rows = [
            stateright(0.1, true, true),
            ours("none", 1, 0.05, Some(4)),
            spin(0.02, 5_000_000),
        ];
        let goals = judge(&rows);
        assert_eq!(
            met(&goals),
            vec![
                Some(false),
                Some(false),
                Some(false),
                Some(true),
                Some(true)
            ]
        );
        assert!(goals[0]["detail"].as_str().unwrap().starts_with("0.500x"));
        assert!(goals[1]["detail"].as_str().unwrap().starts_with("2.500x"));
    }

    #[test]
    fn finishing_where_stateright_was_cut_meets_the_time_goal() {
        let rows = [stateright(2.5, false, false), ours("por", 1, 0.6, Some(4))];
        let goals = judge(&rows);
        assert_eq!(goals[0]["met"], true, "{goals:#?}");
        assert!(goals[0]["detail"]
            .as_str()
            .unwrap()
            .contains("stateright cut"));
        // Without SPIN's run, nothing is said of SPIN.
        assert_eq!(goals[1]["met"], Value::Null);
        assert_eq!(goals[2]["met"], Value::Null);
    }

    #[test]
    fn spin_below_its_resolution_is_not_judged() {
        let rows = [
            stateright(0.001, true, true),
            ours("none", 1, 0.0005, Some(4)),
            spin(0.0, 190_000_000),
        ];
        let goals = judge(&rows);
        assert_eq!(goals[1]["met"], Value::Null, "{goals:#?}");
        assert_eq!(goals[2]["met"], true);
    }

    #[test]
    fn disagreements_are_missed_goals_naming_the_runs() {
        let mut longer = ours("por", 1, 0.1, Some(6));
        let mut wrong = ours("all", 1, 0.1, Some(4));
        wrong["properties"]["money_is_conserved"]["verdict"] = json!("violated");
        longer["properties"]["no_negative_balance"]["shortest"] = json!(false);
        let rows = [
            stateright(1.0, true, false),
            ours("none", 1, 0.5, Some(4)),
            longer,
            wrong,
        ];
        let goals = judge(&rows);
        assert_eq!(goals[3]["met"], false);
        let verdicts = goals[3]["detail"].as_str().unwrap();
        assert!(
            verdicts.contains("money_is_conserved: splitbrain all on 1 thread says violated"),
            "{verdicts}"
        );
        assert!(
            verdicts.contains("no_negative_balance: stateright says holds"),
            "{verdicts}"
        );
        assert_eq!(goals[4]["met"], false);
        let traces = goals[4]["detail"].as_str().unwrap();
        assert!(
            traces.contains("splitbrain por on 1 thread gives 6 steps"),
            "{traces}"
        );
    }

    #[test]
    fn nothing_finished_judges_nothing() {
        let mut cut = ours("none", 1, 5.0, None);
        cut["complete"] = json!(false);
        cut["unique_states"] = json!(2_000_001);
        let goals = judge(&[stateright(2.5, false, false), cut]);
        assert_eq!(met(&goals), vec![None; 5]);
        assert!(goals[0]["detail"]
            .as_str()
            .unwrap()
            .contains("cut at 2000001 states"));
    }

    #[test]
    fn the_tally_counts_and_names_the_misses() {
        let good = vec![json!({"met": true}); 5];
        let mut bad = good.clone();
        bad[0] = json!({"met": false});
        bad[1] = json!({"met": null});
        let t = tally(&[("a".into(), good), ("b x [c]".into(), bad)]);
        assert_eq!(t[0]["met"], 1);
        assert_eq!(t[0]["missed"], 1);
        assert_eq!(t[0]["missed_in"], json!(["b x [c]"]));
        assert_eq!(t[1]["not_judged"], 1);
        assert_eq!(t[4]["met"], 2);
        // A slow group leaves the exit code alone; a disagreeing one makes it 1.
        assert_eq!(exit_code(&t), 0);
        let mut wrong = vec![json!({"met": true}); 5];
        wrong[4] = json!({"met": false});
        assert_eq!(exit_code(&tally(&[("c".into(), wrong)])), 1);
    }
}
