//! `splitbrain replay` on real PostgreSQL: for each scenario, the broken variant's
//! counterexample is reproduced and the fix's is not, judged from the real client history.
//! Skipped (and says so) on a machine without the servers.

use splitbrain::replay::{self, Request};
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

/// Replays run one at a time: the machine has two cores and the process scan below
/// must see only this test's servers.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn postgres_installed() -> bool {
    if replay::pg::find().is_ok() {
        return true;
    }
    println!("skipped: postgresql not installed, run .ci/run or apt-get install postgresql");
    false
}

/// Command lines of running processes that mention `needle` (a scan of /proc).
fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let cmdline = entry.path().join("cmdline");
        if let Ok(bytes) = std::fs::read(&cmdline) {
            let line = String::from_utf8_lossy(&bytes).replace('\0', " ");
            if line.contains(needle) {
                found.push(line);
            }
        }
    }
    found
}

fn replay(model: &str, variant: &str) -> replay::Replay {
    let r = replay::run(&Request {
        model: model.into(),
        variant: Some(variant.into()),
        property: None,
        target: None,
    })
    .unwrap_or_else(|e| panic!("replay {model} --variant {variant}: {e}"));
    println!("{}", r.to_text());
    // No server outlives its replay, and its directory is gone.
    let dir = r.real.workdir.to_string_lossy().to_string();
    assert!(
        processes_mentioning(&dir).is_empty(),
        "servers still running in {dir}: {:?}",
        processes_mentioning(&dir)
    );
    assert!(!Path::new(&dir).exists(), "{dir} left behind");
    r
}

#[test]
fn read_replica_on_postgres_stale_read_reproduced_and_fixes_hold() {
    if !postgres_installed() {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let broken = replay("read-replica", "async");
    // The verdict comes from what the real clients saw: a write acknowledged at a version,
    // then a read of the standby at an older one.
    assert!(broken.reproduced());
    assert_eq!(
        splitbrain::session::read_your_writes(&broken.real.history),
        broken.real.verdict
    );
    let err = broken.real.verdict.clone().unwrap_err();
    assert!(
        err.contains("version 0 after its own write of version 1"),
        "{err}"
    );
    assert_eq!(broken.exit_code(), 0);
    assert!(broken.to_text().contains("reproduced on PostgreSQL 15"));
    // docs/replay.md quotes this run: its client history and verdict lines are these.
    let page =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/replay.md")).unwrap();
    let text = broken.to_text();
    for quoted in page.lines().filter(|l| {
        l.starts_with("  jose request") || l.starts_with("read_your_writes on the real history")
    }) {
        assert!(
            text.lines().any(|l| l == quoted),
            "docs/replay.md quotes {quoted:?}; the replay prints:\n{text}"
        );
    }
    for fix in ["read-primary-after-write", "session-token"] {
        let fixed = replay("read-replica", fix);
        assert!(!fixed.reproduced(), "{fix}: {:?}", fixed.real.verdict);
        assert!(splitbrain::session::read_your_writes(&fixed.real.history).is_ok());
        // The same schedule: the same number of steps, and the read did happen.
        assert_eq!(fixed.trace.len(), broken.trace.len());
        assert!(fixed.real.history.len() >= 2);
        assert_eq!(fixed.exit_code(), 0);
        assert!(fixed.to_text().contains("not reproduced: "));
    }
}

#[test]
fn replay_cli_exit_codes() {
    let bin = env!("CARGO_BIN_EXE_splitbrain");
    // Bad input: exit 2, before any server starts.
    for args in [
        vec!["replay", "stateless"],
        vec!["replay", "read-replica", "--variant", "nope"],
        vec!["replay", "read-replica", "--property", "nope"],
        vec!["replay", "read-replica", "--target", "mariadb"],
        vec!["replay", "master-master", "--target", "postgres"],
    ] {
        let out = Command::new(bin).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    if !postgres_installed() {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let out = Command::new(bin)
        .args(["replay", "read-replica"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("reproduced on PostgreSQL 15."), "{text}");
    assert!(text.contains(" | jose -> replica1: SELECT"), "{text}");
}

#[test]
fn central_db_on_postgres_lost_reply_and_retry_pay_twice_idempotency_key_once() {
    if !postgres_installed() {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let broken = replay("central-db", "retry");
    assert!(broken.reproduced(), "{:?}", broken.real.verdict);
    let err = broken.real.verdict.clone().unwrap_err();
    assert!(err.contains("took effect 2 times"), "{err}");
    // The first attempt's answer was really lost: the client saw a timeout.
    assert_eq!(
        broken.real.history[0].outcome,
        splitbrain::history::Outcome::TimedOut
    );
    assert!(
        broken.real.values.contains("jose $80"),
        "{}",
        broken.real.values
    );
    assert_eq!(broken.exit_code(), 0);
    let fixed = replay("central-db", "idempotency-key");
    assert!(!fixed.reproduced(), "{:?}", fixed.real.verdict);
    assert!(
        fixed.real.values.contains("applied 1 time;"),
        "{}",
        fixed.real.values
    );
    assert!(
        fixed.real.values.contains("jose $90"),
        "{}",
        fixed.real.values
    );
    assert_eq!(fixed.exit_code(), 0);
}

fn mariadb_installed() -> bool {
    if replay::mariadb::find().is_ok() {
        return true;
    }
    println!("skipped: mariadb not installed, run .ci/run or apt-get install mariadb-server");
    false
}

fn replay_property(model: &str, variant: &str, property: &str) -> replay::Replay {
    let r = replay::run(&Request {
        model: model.into(),
        variant: Some(variant.into()),
        property: Some(property.into()),
        target: None,
    })
    .unwrap_or_else(|e| panic!("replay {model} --variant {variant} --property {property}: {e}"));
    println!("{}", r.to_text());
    let dir = r.real.workdir.to_string_lossy().to_string();
    assert!(
        processes_mentioning(&dir).is_empty(),
        "servers still running in {dir}"
    );
    assert!(!Path::new(&dir).exists(), "{dir} left behind");
    r
}

#[test]
fn master_master_on_mariadb_burrito_and_taco() {
    if !mariadb_installed() {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // Statement replication applies both withdrawals on both masters: -5.
    let broken = replay_property("master-master", "async-ops", "no_negative_balance");
    assert!(broken.reproduced(), "{:?}", broken.real.verdict);
    assert!(
        broken.real.values.contains("holds -5"),
        "{}",
        broken.real.values
    );
    assert_eq!(broken.exit_code(), 0);
    // The fix sends the taco to master1, which declines it.
    let fixed = replay_property("master-master", "home-master", "no_negative_balance");
    assert!(!fixed.reproduced(), "{:?}", fixed.real.verdict);
    assert_eq!(fixed.exit_code(), 0);
    // Row replication: money is not conserved (the balances end swapped, not -5).
    let lww = replay_property("master-master", "lww", "money_conserved");
    assert!(lww.reproduced(), "{:?}", lww.real.verdict);
    assert!(lww.real.values.contains("DIVERGE"), "{}", lww.real.values);
}

#[test]
fn missing_servers_are_bad_input_naming_the_packages() {
    let bin = env!("CARGO_BIN_EXE_splitbrain");
    let empty = tempfile_dir();
    for (args, env, package) in [
        (
            vec!["replay", "read-replica"],
            "SPLITBRAIN_POSTGRES_ROOT",
            "apt-get install postgresql",
        ),
        (
            vec!["replay", "master-master"],
            "SPLITBRAIN_MARIADB_BIN",
            "apt-get install mariadb-server",
        ),
    ] {
        let out = Command::new(bin)
            .args(&args)
            .env(env, &empty)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(package), "{args:?}: {err}");
    }
    let _ = std::fs::remove_dir_all(&empty);
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("splitbrain-no-servers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
