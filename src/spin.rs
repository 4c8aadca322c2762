//! SPIN twins: Promela versions of catalog models (`bench/spin/*.pml`), run with SPIN
//! 6.5 so its state counts and times can be set beside splitbrain's.
//!
//! Each twin keeps one atomic Promela step per stateright step and the network as a
//! canonical multiset, so `pan` compiled with `-DNOREDUCE` stores exactly splitbrain's
//! unique states plus one: the state before SPIN's `init` process starts the actors
//! (see [`INIT_OFFSET`]). The top comment of each `.pml` says how it maps to the model.

use crate::bounds::Bounds;
use crate::error::Error;
use crate::system::NetworkKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// SPIN's `states, stored` with `-DNOREDUCE` minus splitbrain's `unique_states`: the
/// state before the twin's `init` runs the actors and sends the clients' first requests
/// (splitbrain's start state is after every actor's `on_start`).
pub const INIT_OFFSET: u64 = 1;

/// Depth limit passed to pan (`-m`); a twin's runs are far shallower.
const MAX_DEPTH: u64 = 1_000_000;

/// `None` when `spin` and `gcc` are both on the PATH, else why SPIN runs are skipped.
pub fn spin_missing() -> Option<String> {
    let missing: Vec<&str> = ["spin", "gcc"]
        .into_iter()
        .filter(|tool| which(tool).is_none())
        .collect();
    if missing.is_empty() {
        None
    } else {
        Some(format!(
            "skipped: {} not installed, run .ci/run or apt-get install spin gcc",
            missing.join(" and ")
        ))
    }
}

fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
}

/// The catalog models that have a Promela twin, each with its file in `bench/spin/`.
const TWINS: [(&str, &str); 5] = [
    ("master-master", "master_master.pml"),
    ("read-replica", "read_replica.pml"),
    ("central-db", "central_db.pml"),
    ("stateless", "stateless.pml"),
    ("leaderless", "leaderless.pml"),
];

/// The Promela twin of a catalog model, if it has one.
pub fn twin(model: &str) -> Option<PathBuf> {
    let (_, file) = TWINS.iter().find(|(m, _)| *m == model)?;
    Some(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("bench")
            .join("spin")
            .join(file),
    )
}

/// The error for a model without a twin, naming those that have one.
fn no_twin(model: &str) -> Error {
    let twins: Vec<&str> = TWINS.iter().map(|(m, _)| *m).collect();
    bad(format!(
        "model '{model}' has no SPIN twin (twins: {})",
        twins.join(", ")
    ))
}

/// What one SPIN run of a twin measured.
#[derive(Clone, Debug, PartialEq)]
pub struct SpinRun {
    /// pan's `states, stored`: unique states (with `-DNOREDUCE`, splitbrain's
    /// `unique_states` + [`INIT_OFFSET`]).
    pub unique_states: u64,
    /// pan's `transitions (= stored+matched)`.
    pub transitions: u64,
    /// pan's own search time (`pan: elapsed time`), in seconds.
    pub seconds: f64,
    /// Wall time of `spin -a` plus `gcc`, in seconds.
    pub compile_seconds: f64,
    /// Peak resident memory of the pan process, from `wait4`'s `ru_maxrss` (Linux).
    pub peak_memory_bytes: Option<u64>,
    /// pan's own figure: `total actual memory usage`.
    pub memory_reported_bytes: Option<u64>,
    /// True when pan searched the whole state space (no depth truncation, no memory
    /// limit hit).
    pub complete: bool,
    /// pan's `errors:` with `-c0`: assertion violations found (each violating step counts).
    pub assertion_violations: u64,
}

/// The variant macro of a twin: the catalog variant's name in capitals, `-` as `_`
/// (`async-ops` is `ASYNC_OPS`), or None if the catalog has no such variant of `model`
/// (twins model the catalog's variants, not its mutants).
fn variant_macro(model: &str, variant: &str) -> Option<String> {
    let arch = crate::models::find(model).ok()?;
    arch.variants()
        .iter()
        .any(|v| v.name == variant)
        .then(|| variant.to_uppercase().replace('-', "_"))
}

fn bad(msg: String) -> Error {
    Error::BadInput(msg)
}

/// Checks that the twin models these bounds; returns the `-D` macros for spin.
fn macros(model: &str, variant: &str, b: &Bounds) -> Result<Vec<String>, Error> {
    let Some(v) = variant_macro(model, variant) else {
        return Err(bad(format!(
            "the SPIN twin of {model} has no variant '{variant}' (twins model the catalog variants, not the mutants)"
        )));
    };
    if b.network != NetworkKind::Unordered {
        return Err(bad(format!(
            "the SPIN twin of {model} models the unordered network only, not --network {}",
            b.network.as_str()
        )));
    }
    let within = |name: &str, value: i64, (lo, hi): (i64, i64)| -> Result<(), Error> {
        if value < lo || value > hi {
            Err(bad(format!(
                "the SPIN twin of {model} supports --{name} {lo}..={hi}, not {value}"
            )))
        } else {
            Ok(())
        }
    };
    let (c, o, s) = (i64::from(b.clients), i64::from(b.ops), i64::from(b.servers));
    // What each twin models (see the top comment of its .pml): clients, servers, ops,
    // clients x ops, loss, crashes, each an inclusive range.
    let ranges = match model {
        "master-master" => [(1, 4), (2, 3), (1, 3), (1, 12), (0, 0), (0, 0)],
        "read-replica" => [(1, 3), (1, 3), (1, 3), (1, 9), (0, 0), (0, 0)],
        "stateless" => [(1, 4), (1, 4), (1, 4), (1, 8), (0, 4), (0, s)],
        "central-db" => [(1, 3), (1, 3), (1, 3), (1, 4), (0, 3), (0, 1)],
        "leaderless" => [(1, 3), (2, 5), (1, 3), (1, 6), (0, 2), (0, 1)],
        _ => return Err(no_twin(model)),
    };
    // The twins that model a balance, with its range.
    let balance = match model {
        "master-master" => Some((0, 1000)),
        // Below 10 x ops a transfer can be declined, which saves an unchanged db state:
        // storage is then no longer a function of the state (see the .pml).
        "central-db" => Some((10 * o, 1000)),
        _ => None,
    };
    let names = [
        "clients",
        "servers",
        "ops",
        "clients x ops",
        "loss",
        "crashes",
    ];
    let values = [c, s, o, c * o, b.loss.into(), b.crashes.into()];
    for ((name, value), range) in names.into_iter().zip(values).zip(ranges) {
        within(name, value, range)?;
    }
    if let Some(range) = balance {
        within("balance", b.balance.into(), range)?;
    }
    let mut d = vec![
        format!("-DVARIANT={v}"),
        format!("-DCLIENTS={c}"),
        format!("-DOPS={o}"),
        format!("-DSERVERS={s}"),
    ];
    if balance.is_some() {
        d.push(format!("-DBALANCE={}", b.balance));
    }
    // The twins that model loss or crashes take both.
    let [.., (_, most_lost), (_, most_crashes)] = ranges;
    if most_lost > 0 || most_crashes > 0 {
        d.push(format!("-DLOSS={}", b.loss));
        d.push(format!("-DCRASHES={}", b.crashes));
    }
    Ok(d)
}

fn run_tool(cmd: &mut Command, what: &str) -> Result<(), Error> {
    let out = cmd
        .output()
        .map_err(|e| bad(format!("{what}: could not start: {e}")))?;
    if !out.status.success() {
        return Err(bad(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(())
}

/// Runs `cmd`, returning its stdout and the peak RSS of the child (`wait4`).
fn run_measured(
    cmd: &mut Command,
) -> std::io::Result<(String, std::process::ExitStatus, Option<u64>)> {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let mut stdout = String::new();
    if let Some(mut o) = child.stdout.take() {
        o.read_to_string(&mut stdout)?;
    }
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        e.read_to_string(&mut stderr)?;
    }
    stdout.push_str(&stderr);
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child, which has not been
    // reaped (std's Child is not waited on after this).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if r < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let peak = u64::try_from(usage.ru_maxrss).ok().map(|kb| kb * 1024);
    Ok((stdout, std::process::ExitStatus::from_raw(status), peak))
}

/// The number before `label` on pan's output line containing it.
fn number_before(out: &str, label: &str) -> Option<f64> {
    let line = out.lines().find(|l| l.contains(label))?;
    let before = &line[..line.find(label)?];
    before.split_whitespace().last()?.parse().ok()
}

/// The number after `label` on pan's output line containing it.
fn number_after(out: &str, label: &str) -> Option<f64> {
    let line = out.lines().find(|l| l.contains(label))?;
    let after = &line[line.find(label)? + label.len()..];
    after
        .split_whitespace()
        .next()?
        .trim_end_matches(',')
        .parse()
        .ok()
}

/// Runs the SPIN twin of `model`'s `variant` at `bounds`: `spin -a`, `gcc -DSAFETY`
/// (with `-DNOREDUCE` unless `reduce`), then `pan -c0` in a fresh temporary directory.
pub fn run_twin(
    model: &str,
    variant: &str,
    bounds: &Bounds,
    reduce: bool,
) -> Result<SpinRun, Error> {
    let Some(pml) = twin(model) else {
        return Err(no_twin(model));
    };
    let defines = macros(model, variant, bounds)?;
    if let Some(why) = spin_missing() {
        return Err(bad(why));
    }
    let dir = tempfile::tempdir().map_err(|e| bad(format!("temporary directory: {e}")))?;
    let name = pml
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "twin.pml".into());
    std::fs::copy(&pml, dir.path().join(&name))
        .map_err(|e| bad(format!("copying {}: {e}", pml.display())))?;

    let started = Instant::now();
    run_tool(
        Command::new("spin")
            .args(&defines)
            .arg("-a")
            .arg(&name)
            .current_dir(dir.path()),
        &format!("spin {} -a {name}", defines.join(" ")),
    )?;
    let mut gcc = Command::new("gcc");
    gcc.args(["-O2", "-w", "-DSAFETY", "-DMEMLIM=16000"]);
    if !reduce {
        gcc.arg("-DNOREDUCE");
    }
    gcc.args(["-o", "pan", "pan.c"]).current_dir(dir.path());
    run_tool(&mut gcc, "gcc pan.c")?;
    let compile_seconds = started.elapsed().as_secs_f64();

    let (out, status, peak) = run_measured(
        Command::new(dir.path().join("pan"))
            .args(["-c0", &format!("-m{MAX_DEPTH}")])
            .current_dir(dir.path()),
    )
    .map_err(|e| bad(format!("running pan: {e}")))?;
    let stored = number_before(&out, "states, stored");
    let Some(unique_states) = stored else {
        return Err(bad(format!(
            "pan ended ({status}) without a state count:\n{out}"
        )));
    };
    let truncated = out.contains("max search depth too small")
        || out.contains("out of memory")
        || out.contains("search not completed");
    Ok(SpinRun {
        unique_states: unique_states as u64,
        transitions: number_before(&out, "transitions").unwrap_or(0.0) as u64,
        seconds: number_after(&out, "elapsed time").unwrap_or(0.0),
        compile_seconds,
        peak_memory_bytes: peak,
        memory_reported_bytes: number_before(&out, "total actual memory usage")
            .map(|mb| (mb * 1_048_576.0) as u64),
        complete: !truncated,
        assertion_violations: number_after(&out, "errors:").unwrap_or(0.0) as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pan_numbers() {
        let out = "State-vector 216 byte, depth reached 75, errors: 10\n       16 states, stored\n       22 transitions (= stored+matched)\n  138.877\ttotal actual memory usage\npan: elapsed time 0.82 seconds\n";
        assert_eq!(number_before(out, "states, stored"), Some(16.0));
        assert_eq!(number_before(out, "transitions"), Some(22.0));
        assert_eq!(number_after(out, "errors:"), Some(10.0));
        assert_eq!(number_after(out, "elapsed time"), Some(0.82));
        assert_eq!(
            number_before(out, "total actual memory usage"),
            Some(138.877)
        );
    }

    #[test]
    fn every_catalog_model_has_a_twin() {
        for arch in crate::models::catalog() {
            let m = arch.name();
            let pml = twin(m).expect(m);
            let text = std::fs::read_to_string(&pml).expect(m);
            for v in arch.variants() {
                let mac = variant_macro(m, v.name).expect(v.name);
                assert!(text.contains(&format!("#define {mac} ")), "{m} {mac}");
            }
            assert!(variant_macro(m, "no-such-variant").is_none(), "{m}");
        }
        assert!(twin("write-through-cache").is_none());
    }
}
