//! `splitbrain bench --format json` on central-db: one JSON object per run with the
//! documented keys, and every tool that finished counted the same states (SPIN one more,
//! its state before `init`). Times are printed, never asserted.

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
    let rows: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    // 2 bench bounds x 3 variants x 5 tools.
    assert_eq!(rows.len(), 30, "{rows:#?}");
    let spin_missing = splitbrain::spin::spin_missing();
    for r in &rows {
        for k in KEYS {
            assert!(r.get(k).is_some(), "row without '{k}': {r}");
        }
    }
    for group in rows.chunks(5) {
        let states = |i: usize| group[i]["unique_states"].as_u64();
        let ours = states(1).expect("splitbrain measured");
        assert!(group[1]["complete"].as_bool().unwrap(), "{group:#?}");
        assert_eq!(states(0), Some(ours), "stateright: {group:#?}");
        assert_eq!(states(2), Some(ours), "two threads: {group:#?}");
        for spin in &group[3..] {
            match (&spin_missing, spin["unique_states"].as_u64()) {
                (None, Some(n)) => assert_eq!(n, ours + 1, "{spin}"),
                (None, None) => panic!("SPIN installed but not measured: {spin}"),
                (Some(why), _) => eprintln!("{why}"),
            }
        }
    }
}
