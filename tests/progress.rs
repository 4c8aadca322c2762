//! A check longer than a second shows a live progress line on a terminal, and none when
//! stderr is piped; a summary line ends it either way, and `--quiet` silences both.

use std::process::Command;

/// Big enough to run for a few seconds before its state limit.
const LONG: &[&str] = &[
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
    "--max-states",
    "1500000",
];

#[test]
fn piped_stderr_gets_only_the_summary() {
    let out = Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .args(LONG)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("states explored"),
        "progress drawn into a pipe: {err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("splitbrain: master-master/home-master by bfs: 1500001 unique states"),
        "{err}"
    );
}

#[test]
fn quiet_prints_nothing_on_stderr() {
    let out = Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .args(["check", "master-master", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_terminal_shows_live_progress() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!(
            "skipped: script (util-linux) not installed, run .ci/run or apt-get install util-linux"
        );
        return;
    }
    let cmd = std::iter::once(env!("CARGO_BIN_EXE_splitbrain"))
        .chain(LONG.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    // `script` runs the command on a pseudo-terminal and copies what it drew.
    let out = Command::new("script")
        .args(["-qec", &format!("{cmd} > /dev/null"), "/dev/null"])
        .output()
        .unwrap();
    let drawn = String::from_utf8_lossy(&out.stdout);
    assert!(
        drawn.contains("states explored"),
        "no progress line on a terminal: {drawn}"
    );
    assert!(drawn.contains("states/s"), "{drawn}");
    assert!(
        drawn.contains("splitbrain: master-master/home-master by bfs"),
        "{drawn}"
    );
}
