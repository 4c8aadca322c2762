//! Every limit ends a search as *incomplete* (exit 3) with its figures, never as *holds*.

use std::process::Command;

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .args(args)
        .output()
        .expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// A configuration far too large to finish quickly.
const BIG: &[&str] = &[
    "check",
    "master-master",
    "--variant",
    "home-master",
    "--clients",
    "6",
    "--servers",
    "3",
    "--balance",
    "60",
];

fn assert_incomplete(extra: &[&str], why: &str) {
    let args: Vec<&str> = BIG.iter().chain(extra).copied().collect();
    let (code, out) = run(&args);
    assert_eq!(code, 3, "{args:?}\n{out}");
    assert!(out.contains("INCOMPLETE"), "{out}");
    assert!(out.contains(why), "expected '{why}' in:\n{out}");
    assert!(
        !out.contains("HOLDS"),
        "an incomplete search said holds:\n{out}"
    );
    assert!(out.contains("unique states"), "figures missing:\n{out}");
}

#[test]
fn timeout_ends_the_search_as_incomplete() {
    assert_incomplete(&["--timeout", "0.2"], "timeout of 0.2s reached");
}

#[test]
fn memory_limit_ends_the_search_as_incomplete() {
    assert_incomplete(&["--max-memory", "64"], "memory limit of 64 MB reached");
}

#[test]
fn state_limit_ends_the_search_as_incomplete() {
    assert_incomplete(
        &["--max-states", "1000"],
        "state limit of 1000 unique states",
    );
}

#[test]
fn depth_limit_ends_the_search_as_incomplete() {
    assert_incomplete(&["--max-depth", "3"], "depth limit 3 reached");
}
