//! The linearizability checker for recorded histories: against a brute-force search on
//! random small histories, on the recorded histories of tests/histories/ (through the
//! command), and on a long history.

use proptest::prelude::*;
use splitbrain::linearizability::{check, Call, History, Limits, Outcome, Verdict};

/// Linearizable by brute force: some order of the ok operations and some of the info
/// ones, respecting real time, that a register starting at nil explains.
fn brute_force(h: &History) -> bool {
    let ops: Vec<_> = (h.ops.iter())
        .filter(|o| !matches!(o.outcome, Outcome::Fail))
        .filter(|o| {
            !matches!(
                (o.call, o.outcome),
                (Call::Read, Outcome::Info | Outcome::Open)
            )
        })
        .collect();
    let keys: std::collections::BTreeSet<&str> = ops.iter().map(|o| o.key.as_str()).collect();
    keys.into_iter().all(|k| {
        let mine: Vec<_> = ops.iter().filter(|o| o.key == k).copied().collect();
        let mut placed = vec![false; mine.len()];
        place(&mine, &mut placed, None)
    })
}

fn place(
    ops: &[&splitbrain::linearizability::Operation],
    placed: &mut [bool],
    state: Option<i64>,
) -> bool {
    let done = |i: usize| placed[i] || !matches!(ops[i].outcome, Outcome::Ok(_));
    if (0..ops.len()).all(done) {
        return true;
    }
    for i in 0..ops.len() {
        if placed[i] {
            continue;
        }
        // Every unplaced ok operation that completed before this one began goes first.
        let blocked = (0..ops.len()).any(|j| {
            !placed[j]
                && j != i
                && ops[j].complete.is_some_and(|c| c < ops[i].invoke)
                && matches!(ops[j].outcome, Outcome::Ok(_))
        });
        if blocked {
            continue;
        }
        let o = ops[i];
        let next = match (o.call, o.outcome) {
            (Call::Read, Outcome::Ok(v)) => (v == state).then_some(state),
            (Call::Write(v), _) => Some(v),
            (Call::Cas(a, b), Outcome::Ok(_)) => (a == state).then_some(b),
            (Call::Cas(a, b), _) => Some(if a == state { b } else { state }),
            _ => None,
        };
        if let Some(next) = next {
            placed[i] = true;
            if place(ops, placed, next) {
                return true;
            }
            placed[i] = false;
        }
    }
    false
}

fn history_strategy() -> impl Strategy<Value = History> {
    let op = (
        0u64..3,
        0u8..2,
        0u8..3,
        0i64..3,
        0i64..3,
        0u64..8,
        0u64..5,
        0u8..6,
    );
    prop::collection::vec(op, 1..7).prop_map(|ops| {
        let mut h = History::new();
        for (process, key, kind, a, b, start, len, outcome) in ops {
            let key = ["x", "y"][key as usize];
            let value = |v: i64| (v > 0).then_some(v);
            let call = match kind {
                0 => Call::Read,
                1 => Call::Write(value(a)),
                _ => Call::Cas(value(a), value(b)),
            };
            let id = h.invoke(process, key, call, start);
            match outcome {
                0 => h.info(id),
                1 => h.fail(id, start + len),
                _ => h.ok(id, if kind == 0 { value(a) } else { None }, start + len),
            }
        }
        h
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]
    #[test]
    fn agrees_with_brute_force(h in history_strategy()) {
        let r = check(&h, &Limits::default());
        let expected = brute_force(&h);
        match &r.verdict {
            Verdict::Holds { .. } => prop_assert!(expected, "checker holds, brute force violated: {h:?}"),
            Verdict::Violated { ops, key, minimal } => {
                prop_assert!(!expected, "checker violated, brute force holds: {h:?}");
                // The set given is itself not linearizable, and every operation counts.
                let sub = History { ops: ops.iter().map(|&i| h.ops[i].clone()).collect() };
                prop_assert!(sub.ops.iter().all(|o| &o.key == key));
                prop_assert!(*minimal);
                prop_assert!(!brute_force(&sub), "the minimal set is linearizable: {sub:?}");
            }
            Verdict::Unknown { why } => prop_assert!(false, "unknown: {why}"),
        }
    }
}

#[test]
fn a_long_history_is_judged() {
    // 4 processes, 3,000 operations each way round: reads see the last write that
    // completed, with writes and reads overlapping.
    let mut h = History::new();
    let mut t = 0;
    let mut last = None;
    for i in 0..3000i64 {
        let w = h.invoke(0, "x", Call::Write(Some(i)), t);
        let r = h.invoke(1, "x", Call::Read, t + 1);
        let r2 = h.invoke(2, "x", Call::Read, t + 1);
        h.ok(r2, last, t + 2);
        h.ok(w, None, t + 3);
        h.ok(r, Some(i), t + 4);
        last = Some(i);
        t += 5;
    }
    let r = check(&h, &Limits::default());
    assert!(
        matches!(r.verdict, Verdict::Holds { .. }),
        "{:?}",
        r.verdict
    );
    // One stale read at the end breaks it.
    let stale = h.invoke(3, "x", Call::Read, t + 10);
    h.ok(stale, Some(5), t + 11);
    let r = check(&h, &Limits::default());
    let Verdict::Violated { ops, .. } = r.verdict else {
        panic!("violated")
    };
    assert!(ops.contains(&stale) && ops.len() <= 4, "{ops:?}");
}

#[cfg(feature = "cli")]
#[test]
fn the_recorded_histories_get_their_known_verdicts() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/histories");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/manifest.json")).unwrap())
            .unwrap();
    let entries = manifest["histories"].as_array().unwrap();
    assert!(entries.len() >= 5);
    for e in entries {
        let file = format!("{dir}/{}", e["file"].as_str().unwrap());
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_splitbrain"))
            .args([
                "history",
                &file,
                "--format",
                "json",
                "--model",
                e["model"].as_str().unwrap(),
            ])
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        assert_eq!(
            v["verdict"],
            e["verdict"],
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let code = if e["verdict"] == "holds" { 0 } else { 1 };
        assert_eq!(out.status.code(), Some(code), "{file}");
        if let Some(n) = e.get("ops") {
            assert_eq!(
                v["ops"].as_array().map(Vec::len),
                n.as_u64().map(|n| n as usize),
                "{file}"
            );
        }
    }
}

#[cfg(feature = "cli")]
#[test]
fn agrees_with_stateright_on_the_benchs_small_histories() {
    use splitbrain::bench::histories::{baseline, generated, with_stale_read};
    let mut violated = 0;
    for seed in 0..60 {
        let h = generated(14, 2 + seed % 4, seed);
        for h in [h.clone(), with_stale_read(h)] {
            let ours = matches!(check(&h, &Limits::default()).verdict, Verdict::Holds { .. });
            assert_eq!(Some(ours), baseline(&h), "{h:?}");
            violated += usize::from(!ours);
        }
    }
    assert!(violated > 10, "too few violations to compare: {violated}");
}
