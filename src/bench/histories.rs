//! `splitbrain history --bench`: the linearizability checker of recorded histories
//! ([`crate::linearizability`]) against the baseline the model checker used before it,
//! stateright's linearizability tester, on the same histories in the same run.
//!
//! The histories are the JSON files of a folder, or a seeded set made here: processes
//! reading and writing one register, each operation taking effect at a random moment
//! between its invocation and its completion (so the history is linearizable), and the
//! same histories with one read turned older (most are then not). The baseline runs in a
//! child process, cut at the timeout. Nothing here asserts on time.

use crate::error::Error;
use crate::linearizability::{check, Call, History, Limits, Outcome, Verdict};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One history measured by both.
#[derive(Debug)]
pub struct Row {
    /// The history's name.
    pub name: String,
    /// Its operations.
    pub ops: usize,
    /// Our verdict ("holds", "violated", "unknown") and seconds.
    pub ours: (&'static str, f64),
    /// The baseline's verdict and seconds; `None` where it cannot read the history (cas,
    /// several keys, values past 255) or was cut at the timeout (the seconds say so).
    pub baseline: (Option<&'static str>, f64),
}

/// A small seeded generator (xorshift).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// A linearizable history of `ops` operations by `procs` processes on one register.
pub fn generated(ops: usize, procs: u64, seed: u64) -> History {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    // Each process runs its operations one after another; an operation takes effect at
    // a moment inside its interval, and the register's value there is what a read sees.
    let mut events: Vec<(u64, u64, u64, bool)> = Vec::new(); // (invoke, point, complete, write)
    let mut clock = vec![0u64; procs as usize];
    for i in 0..ops {
        let p = (i as u64) % procs;
        let invoke = clock[p as usize] + rng.below(5);
        let complete = invoke + 1 + rng.below(20);
        let point = invoke + rng.below(complete - invoke);
        events.push((invoke, point * 2 + 1, complete, rng.below(3) == 0));
        clock[p as usize] = complete + 1;
    }
    let mut by_point: Vec<usize> = (0..events.len()).collect();
    by_point.sort_by_key(|&i| (events[i].1, i));
    let mut value = None;
    let mut seen = vec![None; events.len()];
    let mut next = 1;
    for &i in &by_point {
        if events[i].3 {
            value = Some(next);
            next += 1;
        }
        seen[i] = value;
    }
    let mut h = History::new();
    for (i, &(invoke, _, complete, write)) in events.iter().enumerate() {
        let p = (i as u64) % procs;
        let call = if write {
            Call::Write(seen[i])
        } else {
            Call::Read
        };
        let id = h.invoke(p, "x", call, invoke * 2);
        h.ok(id, if write { None } else { seen[i] }, complete * 2);
    }
    h
}

/// `h` with its last read that saw a written value turned to an older one: not
/// linearizable unless a write of that older value overlaps the read.
pub fn with_stale_read(mut h: History) -> History {
    let last = (h.ops.iter().enumerate().rev())
        .find(|(_, o)| matches!((o.call, o.outcome), (Call::Read, Outcome::Ok(Some(v))) if v > 1));
    if let Some((i, o)) = last {
        if let Outcome::Ok(Some(v)) = o.outcome {
            h.ops[i].outcome = Outcome::Ok(Some(v - 1));
        }
    }
    h
}

/// The seeded set: sizes by process counts, each linearizable and with a stale read.
pub fn standard_set() -> Vec<(String, History)> {
    let mut out = Vec::new();
    for ops in [20, 50, 100, 200, 500, 1000] {
        for procs in [2, 4, 8] {
            let h = generated(ops, procs, (ops as u64) * 31 + procs);
            out.push((format!("gen-{ops}ops-{procs}p-ok"), h.clone()));
            out.push((
                format!("gen-{ops}ops-{procs}p-older-read"),
                with_stale_read(h),
            ));
        }
    }
    out
}

/// The history as the JSON events `splitbrain history` reads.
pub fn to_json(h: &History) -> serde_json::Value {
    let mut events = Vec::new();
    for o in &h.ops {
        let (f, value) = match o.call {
            Call::Read => ("read", serde_json::Value::Null),
            Call::Write(v) => ("write", serde_json::json!(v)),
            Call::Cas(a, b) => ("cas", serde_json::json!([a, b])),
        };
        events.push((o.invoke, 0, serde_json::json!({"process": o.process, "type": "invoke", "f": f, "key": o.key, "value": value, "time": o.invoke})));
        let (kind, value) = match o.outcome {
            Outcome::Ok(v) if o.call == Call::Read => ("ok", serde_json::json!(v)),
            Outcome::Ok(_) => ("ok", value),
            Outcome::Fail => ("fail", value),
            Outcome::Info | Outcome::Open => continue,
        };
        let t = o.complete.unwrap_or(o.invoke);
        events.push((t, 1, serde_json::json!({"process": o.process, "type": kind, "f": f, "key": o.key, "value": value, "time": t})));
    }
    events.sort_by_key(|(t, kind, _)| (*t, *kind));
    serde_json::Value::Array(events.into_iter().map(|(_, _, e)| e).collect())
}

/// The baseline's verdict on `h`: stateright's tester over one register of `u8`
/// values, nil read as 0; `None` where it cannot read the history.
pub fn baseline(h: &History) -> Option<bool> {
    use stateright::semantics::register::{Register, RegisterOp, RegisterRet};
    use stateright::semantics::{ConsistencyTester, LinearizabilityTester};
    let keys: std::collections::BTreeSet<&str> = h.ops.iter().map(|o| o.key.as_str()).collect();
    let byte = |v: Option<i64>| u8::try_from(v.unwrap_or(0)).ok();
    if keys.len() > 1 || h.ops.iter().any(|o| matches!(o.call, Call::Cas(..))) {
        return None;
    }
    let mut events: Vec<(u64, bool, usize)> = Vec::new();
    for (i, o) in h.ops.iter().enumerate() {
        if o.outcome == Outcome::Fail {
            continue;
        }
        events.push((o.invoke, false, i));
        if let (Outcome::Ok(_), Some(t)) = (o.outcome, o.complete) {
            events.push((t, true, i));
        }
    }
    events.sort_by_key(|&(t, ret, i)| (t, ret, i));
    let mut tester = LinearizabilityTester::new(Register(0u8));
    for (_, ret, i) in events {
        let o = &h.ops[i];
        let thread = i as u64;
        let r = match (ret, o.call, o.outcome) {
            (false, Call::Write(v), _) => tester.on_invoke(thread, RegisterOp::Write(byte(v)?)),
            (false, _, _) => tester.on_invoke(thread, RegisterOp::Read),
            (true, Call::Read, Outcome::Ok(v)) => {
                tester.on_return(thread, RegisterRet::ReadOk(byte(v)?))
            }
            (true, _, _) => tester.on_return(thread, RegisterRet::WriteOk),
        };
        if r.is_err() {
            return Some(false);
        }
    }
    Some(tester.is_consistent())
}

/// Measures every history of `dir` (its .json files) or, without one, of the seeded set.
pub fn run(dir: Option<&Path>, timeout: Duration) -> Result<Vec<Row>, Error> {
    let histories = match dir {
        None => standard_set(),
        Some(dir) => read_folder(dir)?,
    };
    let work = tempfile::tempdir()
        .map_err(|e| Error::BadInput(format!("cannot make a temporary folder: {e}")))?;
    let mut rows = Vec::new();
    for (name, h) in histories {
        let started = Instant::now();
        let verdict = check(
            &h,
            &Limits {
                timeout: Some(timeout),
            },
        )
        .verdict;
        let ours = (word(&verdict), started.elapsed().as_secs_f64());
        let file = work.path().join(format!("{name}.json"));
        std::fs::write(&file, to_json(&h).to_string())
            .map_err(|e| Error::BadInput(format!("cannot write {}: {e}", file.display())))?;
        rows.push(Row {
            name,
            ops: h.ops.len(),
            ours,
            baseline: baseline_in_child(&file, timeout)?,
        });
    }
    Ok(rows)
}

fn word(v: &Verdict) -> &'static str {
    match v {
        Verdict::Holds { .. } => "holds",
        Verdict::Violated { .. } => "violated",
        Verdict::Unknown { .. } => "unknown",
    }
}

fn read_folder(dir: &Path) -> Result<Vec<(String, History)>, Error> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::BadInput(format!("cannot read {}: {e}", dir.display())))?;
    let mut files: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let bytes = crate::files::read_input(&f, "a history file", 512 * 1024 * 1024)?;
        let name = f.display().to_string();
        let text = String::from_utf8_lossy(&bytes);
        let Ok(h) = crate::recorded::parse(
            &text,
            crate::recorded::Input::Json,
            crate::recorded::Model::CasRegister,
            &name,
        ) else {
            continue; // not a history (a manifest, say)
        };
        out.push((
            f.file_stem()
                .map_or(name.clone(), |s| s.to_string_lossy().into_owned()),
            h,
        ));
    }
    Ok(out)
}

/// Runs `splitbrain history FILE --baseline` and kills it at `timeout`.
fn baseline_in_child(file: &Path, timeout: Duration) -> Result<(Option<&'static str>, f64), Error> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::BadInput(format!("cannot find splitbrain itself: {e}")))?;
    let started = Instant::now();
    let mut child = Command::new(exe)
        .arg("history")
        .arg(file)
        .arg("--baseline")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Error::BadInput(format!("cannot run the baseline: {e}")))?;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let secs = started.elapsed().as_secs_f64();
            return Ok((
                match status.code() {
                    Some(0) => Some("holds"),
                    Some(1) => Some("violated"),
                    _ => None,
                },
                secs,
            ));
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Ok((None, started.elapsed().as_secs_f64()));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The rows as a table, then total, median and worst seconds of each, and the histories
/// where both finished and disagree.
pub fn to_text(rows: &[Row], timeout: Duration) -> String {
    let mut out = format!(
        "{:<28} {:>6}  {:>9} {:>9}  {:>9} {:>9}\n",
        "history", "ops", "splitbrain", "s", "baseline", "s"
    );
    for r in rows {
        let (b, bs) = match r.baseline {
            (Some(v), s) => (v.to_string(), format!("{s:.4}")),
            (None, s) if s >= timeout.as_secs_f64() => {
                ("cut".to_string(), format!(">{:.0}", timeout.as_secs_f64()))
            }
            (None, _) => ("n/a".to_string(), "-".to_string()),
        };
        out.push_str(&format!(
            "{:<28} {:>6}  {:>9} {:>9.4}  {:>9} {:>9}\n",
            r.name, r.ops, r.ours.0, r.ours.1, b, bs
        ));
    }
    let stats = |mut xs: Vec<f64>| -> String {
        if xs.is_empty() {
            return "none".into();
        }
        xs.sort_by(f64::total_cmp);
        let total: f64 = xs.iter().sum();
        format!(
            "total {total:.3}s, median {:.4}s, worst {:.3}s",
            xs[xs.len() / 2],
            xs[xs.len() - 1]
        )
    };
    out.push_str(&format!(
        "splitbrain: {} histories, {}\n",
        rows.len(),
        stats(rows.iter().map(|r| r.ours.1).collect())
    ));
    let cut = rows
        .iter()
        .filter(|r| r.baseline.0.is_none() && r.baseline.1 >= timeout.as_secs_f64())
        .count();
    out.push_str(&format!(
        "baseline (stateright's tester): {} ({} cut at {:.0}s, counted at the cut)\n",
        stats(rows.iter().map(|r| r.baseline.1).collect()),
        cut,
        timeout.as_secs_f64()
    ));
    let disagree: Vec<&str> = rows
        .iter()
        .filter(|r| r.baseline.0.is_some_and(|b| b != r.ours.0))
        .map(|r| r.name.as_str())
        .collect();
    out.push_str(&format!(
        "verdicts disagree on {} histories{}\n",
        disagree.len(),
        if disagree.is_empty() {
            String::new()
        } else {
            format!(": {}", disagree.join(", "))
        }
    ));
    out
}

/// 1 if the two disagreed on a history both finished, else 0.
pub fn exit_code(rows: &[Row]) -> i32 {
    i32::from(
        rows.iter()
            .any(|r| r.baseline.0.is_some_and(|b| b != r.ours.0)),
    )
}
