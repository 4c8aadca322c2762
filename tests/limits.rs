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

#[test]
fn ctrl_c_ends_the_search_with_a_partial_report() {
    let child = Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .args(BIG)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(
        stdout.contains("INCOMPLETE: interrupted (Ctrl-C)"),
        "{stdout}"
    );
    assert!(stdout.contains("unique states"), "{stdout}");
    assert!(!stdout.contains("HOLDS"), "{stdout}");
}

#[test]
fn a_closed_stdout_ends_quietly_without_a_panic() {
    // `splitbrain matrix | head -1`: the reader goes away before the writer is done.
    let mut child = Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .args(["matrix", "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
}
