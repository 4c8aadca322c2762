//! `splitbrain bench --format json` on central-db: one JSON object per run with the
//! documented keys, and every unreduced run that finished counted the same states (SPIN one
//! more, its state before `init`); the reduced runs no more; quick runs were measured
//! several times. After each variant's runs, the bench's verdict on its goals: the
//! agreement goals (verdicts, trace lengths) must be met; the time and memory goals are
//! printed, never asserted.

use serde_json::Value;
use std::process::Command;

const KEYS: &[&str] = &[
    "model",
    "bounds",
    "variant",
    "tool",
    "reduction",
    "threads",
    "unique_states",
    "complete",
    "seconds",
    "states_per_second",
    "peak_memory_bytes",
    "bytes_per_state",
    "first_counterexample_seconds",
    "shortest_trace",
    "ratio_to_spin_por",
    "ratio_to_stateright",
    "runs",
    "median_seconds",
    "properties",
];

#[test]
fn bench_json_rows_agree_on_states_across_tools() {
    let out = Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .args(["bench", "--model", "central-db", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let rows: Vec<Value> = lines
        .iter()
        .filter(|l| l.get("tool").is_some())
        .cloned()
        .collect();
    let goals: Vec<&Value> = lines.iter().filter(|l| l.get("goals").is_some()).collect();
    let tally: Vec<&Value> = lines
        .iter()
        .filter(|l| l.get("goals_tally").is_some())
        .collect();
    // 2 bench bounds x 3 variants x 10 tools, a verdict on the goals per variant and
    // bounds, and their tally.
    assert_eq!(rows.len(), 60, "{rows:#?}");
    assert_eq!(goals.len(), 6, "{goals:#?}");
    assert_eq!(tally.len(), 1);
    assert_eq!(lines.len(), 67);
    check_goals(&rows, &goals, tally[0]);
    let spin_missing = splitbrain::spin::spin_missing();
    for r in &rows {
        for k in KEYS {
            assert!(r.get(k).is_some(), "row without '{k}': {r}");
        }
    }
    for group in rows.chunks(10) {
        let find = |tool: &str, reduction: &str, threads: u64| {
            group
                .iter()
                .find(|r| {
                    r["tool"] == tool && r["reduction"] == reduction && r["threads"] == threads
                })
                .unwrap_or_else(|| panic!("no {tool} {reduction} {threads}: {group:#?}"))
        };
        let states = |r: &Value| r["unique_states"].as_u64();
        let ours = states(find("splitbrain", "none", 1)).expect("splitbrain measured");
        assert!(
            find("splitbrain", "none", 1)["complete"].as_bool().unwrap(),
            "{group:#?}"
        );
        // The reduced search visits no more states, the same on one thread and two.
        let por = states(find("splitbrain", "por", 1)).expect("por measured");
        assert!(por <= ours, "{group:#?}");
        // central-db declares no interchangeable servers: symmetry changes nothing, and
        // both reductions together count what partial-order reduction alone does.
        for (tool, reduction, threads, want) in [
            ("stateright", "none", 1, ours),
            ("splitbrain", "none", 2, ours),
            ("splitbrain", "por", 2, por),
            ("splitbrain", "symmetry", 1, ours),
            ("splitbrain", "all", 1, por),
            ("splitbrain", "all", 2, por),
        ] {
            assert_eq!(
                states(find(tool, reduction, threads)),
                Some(want),
                "{tool} {reduction} {threads}: {group:#?}"
            );
        }
        // A quick run is measured again and its fastest reported (with the median's
        // time, no less); SPIN runs once.
        for r in group {
            let runs = r["runs"].as_u64();
            let quick = r["seconds"]
                .as_f64()
                .is_some_and(|s| s < splitbrain::bench::REPEAT_BELOW);
            if r["tool"] == "spin" {
                assert!(runs.is_none() || runs == Some(1), "{r}");
            } else if quick {
                let n = runs.expect("runs counted") as usize;
                let (least, most) = splitbrain::bench::RUNS;
                assert!((least..=most).contains(&n), "{r}");
                let median = r["median_seconds"].as_f64().expect("median measured");
                assert!(median >= r["seconds"].as_f64().unwrap_or(f64::MAX), "{r}");
            }
        }
        for spin in group.iter().filter(|r| r["tool"] == "spin") {
            match (&spin_missing, spin["unique_states"].as_u64()) {
                (None, Some(n)) => assert_eq!(n, ours + 1, "{spin}"),
                (None, None) => panic!("SPIN installed but not measured: {spin}"),
                (Some(why), _) => eprintln!("{why}"),
            }
        }
    }
}

/// Each variant's verdict on the goals follows its ten runs and judges them: every goal
/// named, met or missed or not judged with a reason; the agreement goals met (the
/// reduced and two-thread searches give the unreduced search's verdicts and trace
/// lengths, and stateright its verdicts on its `always` and `sometimes` properties); the
/// tally counts what the groups say.
fn check_goals(rows: &[Value], goals: &[&Value], tally: &Value) {
    let names = splitbrain::bench::goals::GOALS;
    let mut counts = vec![[0u64; 3]; names.len()];
    for (group, verdict) in rows.chunks(10).zip(goals) {
        assert_eq!(verdict["model"], group[0]["model"]);
        assert_eq!(verdict["variant"], group[0]["variant"]);
        assert_eq!(verdict["bounds"], group[0]["bounds"]);
        let judged = verdict["goals"].as_array().expect("a list of goals");
        assert_eq!(judged.len(), names.len(), "{verdict}");
        for ((g, name), count) in judged.iter().zip(names).zip(counts.iter_mut()) {
            assert_eq!(g["goal"], name, "{verdict}");
            assert!(
                g["detail"].as_str().is_some_and(|d| !d.is_empty()),
                "{verdict}"
            );
            match g["met"].as_bool() {
                Some(true) => count[0] += 1,
                Some(false) => count[1] += 1,
                None => count[2] += 1,
            }
        }
        for agreement in splitbrain::bench::goals::AGREEMENT {
            let g = judged.iter().find(|g| g["goal"] == agreement).unwrap();
            assert_eq!(g["met"], true, "{agreement}: {g}");
        }
        // stateright judges its `always` and `sometimes` properties as splitbrain does.
        let stateright = group.iter().find(|r| r["tool"] == "stateright").unwrap();
        let ours = group
            .iter()
            .find(|r| r["tool"] == "splitbrain" && r["reduction"] == "none")
            .unwrap();
        let theirs = stateright["properties"]
            .as_object()
            .expect("stateright's verdicts");
        assert!(!theirs.is_empty(), "{stateright}");
        for (name, v) in theirs {
            assert_eq!(v["verdict"], ours["properties"][name]["verdict"], "{name}");
        }
    }
    let listed = tally["goals_tally"].as_array().expect("a tally per goal");
    assert_eq!(listed.len(), names.len());
    for ((t, name), count) in listed.iter().zip(names).zip(&counts) {
        assert_eq!(t["goal"], name);
        assert_eq!(
            [&t["met"], &t["missed"], &t["not_judged"]].map(Value::as_u64),
            count.map(Some),
            "{t}"
        );
        assert_eq!(
            t["missed_in"].as_array().map(Vec::len),
            Some(count[1] as usize),
            "{t}"
        );
    }
}
