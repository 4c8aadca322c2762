//! Hostile inputs and hostile disks: nothing hangs, nothing is overwritten, nothing runs.
//! One test per class of issue #37; each failed on the main it was written against.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs the binary in `dir` and returns (exit code, stdout, stderr); fails the test if it
/// runs past `limit` (a hang).
fn run_in(dir: &Path, args: &[&str], limit: Duration) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("splitbrain {args:?} still runs after {limit:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    run_in(dir, args, Duration::from_secs(60))
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
}

#[test]
fn a_fifo_or_a_device_as_input_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("jam.toml");
    mkfifo(&fifo);
    let fifo = fifo.to_str().unwrap();
    for input in [fifo, "/dev/zero", "/dev/null"] {
        let (code, _, err) = run_in(dir.path(), &["check", input], Duration::from_secs(10));
        assert_eq!(code, 2, "{input}: {err}");
        assert!(err.contains("not a regular file"), "{input}: {err}");
    }
    // A FIFO lying in a merge folder, named like a shard.
    let shards = dir.path().join("shards");
    std::fs::create_dir(&shards).unwrap();
    mkfifo(&shards.join("shard-0-of-2.json"));
    let (code, _, err) = run_in(dir.path(), &["merge", "shards"], Duration::from_secs(10));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a regular file"), "{err}");
}

#[test]
fn outputs_are_never_written_through_links_or_over_devices() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    std::os::unix::fs::symlink(&victim, dir.path().join("job.sh")).unwrap();
    let slurm = [
        "slurm",
        "master-master",
        "--engine",
        "random",
        "--shards",
        "2",
    ];
    let (code, _, err) = run(dir.path(), &[&slurm[..], &["--out", "job.sh"]].concat());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let meta = std::fs::metadata(&victim).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        meta.permissions().mode() & 0o111,
        0,
        "the target's mode changed"
    );

    let (code, _, err) = run(dir.path(), &[&slurm[..], &["--out", "/dev/null"]].concat());
    assert_eq!(code, 2, "{err}");
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());

    // `report` writes index.html: a link planted there is refused.
    let site = dir.path().join("site");
    std::fs::create_dir(&site).unwrap();
    std::os::unix::fs::symlink(&victim, site.join("index.html")).unwrap();
    let (code, _, err) = run(dir.path(), &["report", "--out", "site"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let left: Vec<_> = std::fs::read_dir(&site).unwrap().collect();
    assert_eq!(left.len(), 1, "a temporary file was left behind");
}

#[test]
fn a_results_folder_name_never_runs_as_a_command() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    // A stand-in for sbatch that starts the job script it is given, as a task would.
    let sbatch = bin.join("sbatch");
    std::fs::write(
        &sbatch,
        "#!/bin/bash\ncat > \"$RESULTS/../job-$RANDOM.sh\"\nfor f in \"$RESULTS\"/../job-*.sh; do SLURM_ARRAY_TASK_ID=0 bash \"$f\" >/dev/null 2>&1; rm -f \"$f\"; done\necho 7\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&sbatch, std::fs::Permissions::from_mode(0o755)).unwrap();
    let results = "r$(touch INJECTED)`touch INJECTED2`";
    let (code, _, err) = run(
        dir.path(),
        &[
            "slurm",
            "master-master",
            "--engine",
            "random",
            "--shards",
            "2",
            "--results",
            results,
            "--out",
            "job.sh",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let status = Command::new("bash")
        .arg("job.sh")
        .current_dir(dir.path())
        .env("PATH", path)
        .env("SPLITBRAIN", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(
        dir.path().join(results).is_dir(),
        "the folder is made as named"
    );
    for mark in ["INJECTED", "INJECTED2"] {
        let found = walk(dir.path()).into_iter().any(|p| p.ends_with(mark));
        assert!(!found, "{mark}: the folder's name ran as a command");
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        out.push(e.path());
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        }
    }
    out
}

#[test]
fn exit_codes_keep_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    // Cut by a limit after every property was found violated: incomplete, not 0.
    let cut = [
        "check",
        "leaderless",
        "--variant",
        "r1-w1",
        "--max-states",
        "2266",
    ];
    let (code, out, _) = run(dir.path(), &cut);
    assert_eq!(code, 3, "{out}");
    // Shards that hold no report: nothing was judged.
    let shards = dir.path().join("empty");
    std::fs::create_dir(&shards).unwrap();
    let (code, _, err) = run(
        dir.path(),
        &[
            "check",
            "master-master",
            "--engine",
            "random",
            "--cases",
            "10",
            "--shard",
            "0/1",
            "--out-dir",
            "empty",
            "--variant",
            "lww",
        ],
    );
    assert!(code == 1 || code == 3, "{err}");
    let file = shards.join("shard-0-of-1.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    v["reports"] = serde_json::json!([]);
    std::fs::write(&file, v.to_string()).unwrap();
    let (code, _, err) = run(dir.path(), &["merge", "empty"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("hold no report"), "{err}");
    // A shard numbered past the count.
    v["shard"]["index"] = serde_json::json!(7);
    std::fs::write(&file, v.to_string()).unwrap();
    let (code, _, err) = run(dir.path(), &["merge", "empty"]);
    assert_eq!(code, 2, "{err}");
    // A corrupt shard is named as corrupt.
    std::fs::write(&file, [0xff, 0xfe, b'{']).unwrap();
    let (code, _, err) = run(dir.path(), &["merge", "empty"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("corrupt"), "{err}");
}

#[test]
fn ctrl_c_before_every_variant_was_checked_is_incomplete() {
    let child = Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .args([
            "check",
            "leaderless",
            "--engine",
            "swarm",
            "--cases",
            "100000",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    assert!(sent.unwrap().success());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
}

#[test]
fn names_and_flags_that_cannot_be_meant_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a\nb", "esc\u{1b}[31m", "d2/"] {
        let (code, _, err) = run(dir.path(), &["new", name]);
        assert_eq!(code, 2, "{name:?}: {err}");
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
    let (code, _, err) = run(dir.path(), &["new", "shop"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(dir.path(), &["check", "shop.toml", "--clients", "1"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("does not apply to a topology file"), "{err}");
}

/// A full disk: `new` and the shard writer leave nothing behind. Needs a tiny file
/// system (root and tmpfs); skipped with a message where the machine has none.
#[test]
fn a_full_disk_leaves_no_half_written_file() {
    let dir = tempfile::tempdir().unwrap();
    let mount = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4k", "tmpfs"])
        .arg(dir.path())
        .output();
    if !mount.as_ref().is_ok_and(|m| m.status.success()) {
        eprintln!(
            "skipped: no tiny file system here (mount -t tmpfs needs root); run .ci/run as root"
        );
        return;
    }
    // Fill it.
    let _ = std::fs::write(dir.path().join("filler"), vec![0u8; 64 * 1024]);
    let (code, _, err) = run(dir.path(), &["new", "shop"]);
    assert_eq!(code, 2, "{err}");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let _ = Command::new("umount").arg(dir.path()).status();
    assert_eq!(names, vec!["filler".to_string()], "left behind: {names:?}");
}
