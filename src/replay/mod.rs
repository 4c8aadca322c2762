//! `splitbrain replay`: the model's minimal counterexample, reproduced on real databases.
//!
//! The model is checked by breadth-first search and its shortest counterexample taken (for
//! a fixed variant: the counterexample of the variant it fixes, so the same workload and
//! schedule meet the fix). The matching topology is started on 127.0.0.1 from the server
//! binaries on the machine, each step of the trace becomes a real action (a client request
//! becomes SQL sent to the node the model routed it to, a replication message held back
//! becomes replication paused until the step that delivers it, a lost reply becomes a
//! connection cut after the server got the request), what the real clients observed is
//! recorded as a [`crate::history::History`], and the property's own function judges it.
//! Servers are stopped by drop guards, and on Ctrl-C by [`stop_all`].

pub mod central_db;
pub mod mariadb;
pub mod master_master;
pub mod pg;
pub mod read_replica;

use crate::architecture::Architecture;
use crate::check::CheckOptions;
use crate::error::Error;
use crate::history::{Event, History, Outcome};
use crate::report::Verdict;
use crate::trace::Trace;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// The real system a replay runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// PostgreSQL (read-replica, central-db).
    Postgres,
    /// MariaDB (master-master).
    Mariadb,
}

impl Target {
    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Postgres => "postgres",
            Target::Mariadb => "mariadb",
        }
    }
}

/// What to replay.
#[derive(Clone, Debug)]
pub struct Request {
    /// Model name.
    pub model: String,
    /// Variant (default: the model's first variant that breaks the property).
    pub variant: Option<String>,
    /// Property (default: the scenario's).
    pub property: Option<String>,
    /// Target (default: the scenario's).
    pub target: Option<Target>,
}

/// What a scenario's real run produced.
#[derive(Clone, Debug)]
pub struct RealRun {
    /// How the topology was set up, one line each.
    pub setup: Vec<String>,
    /// For each model step (same index), what was done and observed on the real system.
    pub steps: Vec<String>,
    /// What was done after the last step (convergence, final state), one line each.
    pub after: Vec<String>,
    /// What the real clients observed.
    pub history: History,
    /// Client names, by client index.
    pub clients: Vec<String>,
    /// The property's verdict on the real history (`Err`: broken, and how).
    pub verdict: Result<(), String>,
    /// The values the property looked at on the real system.
    pub values: String,
    /// "PostgreSQL 15.18".
    pub server: String,
    /// The temporary directory the servers ran in (removed afterwards).
    pub workdir: PathBuf,
}

/// A finished replay: the model's side and the real side.
#[derive(Clone, Debug)]
pub struct Replay {
    /// Model name.
    pub model: String,
    /// Variant replayed.
    pub variant: String,
    /// The variant whose counterexample supplied workload and schedule.
    pub trace_from: String,
    /// Property.
    pub property: String,
    /// Its claim.
    pub claim: String,
    /// The verdict the variant expects.
    pub expected: Verdict,
    /// The model's verdict for the variant.
    pub model_verdict: Verdict,
    /// The counterexample replayed.
    pub trace: Trace,
    /// The real run.
    pub real: RealRun,
    /// Wall seconds of the real run (set-up, steps, tear-down).
    pub seconds: f64,
}

impl Replay {
    /// True when the real history broke the property.
    pub fn reproduced(&self) -> bool {
        self.real.verdict.is_err()
    }

    /// 0 when the outcome matches the variant's expectation (a broken variant reproduced,
    /// a fixed one not), 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        let want = self.expected == Verdict::Violated;
        if self.reproduced() == want {
            0
        } else {
            1
        }
    }

    /// The model's story and the real run side by side, ending with the conclusion.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "replay {}/{}  {}  on {} (trace of {}/{}, {} steps; model verdict for {}: {}, expected {})\n",
            self.model,
            self.variant,
            self.property,
            self.real.server,
            self.model,
            self.trace_from,
            self.trace.len(),
            self.variant,
            self.model_verdict,
            self.expected,
        );
        out.push_str("set-up:\n");
        for s in &self.real.setup {
            out.push_str(&format!("  {s}\n"));
        }
        out.push_str(&format!("model start: {}\n", self.trace.start.join("; ")));
        let model: Vec<String> = self
            .trace
            .steps
            .iter()
            .map(|s| {
                let who = match &s.to {
                    Some(to) => format!("{} -> {to}", s.actor),
                    None => s.actor.clone(),
                };
                format!("  {}. {who}  {}", s.step, s.text)
            })
            .collect();
        let width = model.iter().map(|l| l.chars().count()).max().unwrap_or(0);
        out.push_str(&format!("{:<width$} | real run\n", "model"));
        for (i, line) in model.iter().enumerate() {
            let real = self.real.steps.get(i).cloned().unwrap_or_default();
            out.push_str(&format!("{line:<width$} | {real}\n"));
        }
        for s in &self.real.after {
            out.push_str(&format!("{:<width$} | {s}\n", ""));
        }
        out.push_str("real client history:\n");
        for e in &self.real.history {
            out.push_str(&format!("  {}\n", describe(e, &self.real.clients)));
        }
        out.push_str(&format!(
            "{} on the real history: {}\n",
            self.property,
            match &self.real.verdict {
                Ok(()) => "holds".to_string(),
                Err(e) => format!("BROKEN: {}", name_clients(e, &self.real.clients)),
            }
        ));
        out.push_str(&format!("real values: {}\n", self.real.values));
        let conclusion = match &self.real.verdict {
            Err(e) => format!(
                "reproduced on {}: \"{}\" broken: {}",
                self.real.server,
                self.claim,
                name_clients(e, &self.real.clients)
            ),
            Ok(()) => format!(
                "not reproduced: on {}, the same workload and schedule kept \"{}\" ({})",
                self.real.server, self.claim, self.real.values
            ),
        };
        let verdict = if self.exit_code() == 0 {
            "as expected"
        } else {
            "UNEXPECTED"
        };
        out.push_str(&format!(
            "{conclusion}  [{verdict}: {}/{} expects {}; real run {:.1}s]\n",
            self.model, self.variant, self.expected, self.seconds
        ));
        out
    }
}

/// `client#N` replaced by the client's name.
pub fn name_clients(text: &str, clients: &[String]) -> String {
    let mut text = text.to_string();
    for (i, name) in clients.iter().enumerate().rev() {
        text = text.replace(&format!("client#{i}"), name);
    }
    text
}

fn describe(e: &Event, clients: &[String]) -> String {
    let who = clients
        .get(e.id.client as usize)
        .cloned()
        .unwrap_or_else(|| format!("client#{}", e.id.client));
    let outcome = match e.outcome {
        Outcome::Pending => "no reply yet".to_string(),
        Outcome::TimedOut => "timed out".to_string(),
        Outcome::Replied(r) => r.to_string(),
    };
    let attempt = if e.id.attempt > 0 {
        format!(", retry {}", e.id.attempt)
    } else {
        String::new()
    };
    format!(
        "{who} request {}{attempt}: {} -> {outcome}",
        e.id.seq + 1,
        e.op
    )
}

/// The scenarios: model, default property, target, properties the real run can judge.
const SCENARIOS: &[(&str, &str, Target, &[&str])] = &[
    (
        "read-replica",
        "read_your_writes",
        Target::Postgres,
        &[
            "read_your_writes",
            "monotonic_reads",
            "monotonic_writes",
            "writes_follow_reads",
        ],
    ),
    (
        "central-db",
        "exactly_once_transfer",
        Target::Postgres,
        &["exactly_once_transfer"],
    ),
    (
        "master-master",
        "no_negative_balance",
        Target::Mariadb,
        &[
            "no_negative_balance",
            "money_conserved",
            "replicas_converge",
            "approvals_within_funds",
        ],
    ),
];

fn scenario_list() -> String {
    SCENARIOS
        .iter()
        .map(|(m, p, t, _)| format!("{m} ({p} on {})", t.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks the model, runs the trace on the real system and judges the real history.
pub fn run(req: &Request) -> Result<Replay, Error> {
    let &(model, default_property, target, properties) =
        SCENARIOS.iter().find(|s| s.0 == req.model).ok_or_else(|| {
            Error::BadInput(format!(
                "no replay on a real system for model '{}'; replayable: {}",
                req.model,
                scenario_list()
            ))
        })?;
    if let Some(t) = req.target {
        if t != target {
            return Err(Error::BadInput(format!(
                "model '{model}' replays on --target {}, not {}",
                target.as_str(),
                t.as_str()
            )));
        }
    }
    let property = req.property.as_deref().unwrap_or(default_property);
    if !properties.contains(&property) {
        return Err(Error::BadInput(format!(
            "property '{property}' of '{model}' has no real-history check in replay; choices: {}",
            properties.join(", ")
        )));
    }
    let arch = crate::models::find(model)?;
    let info = arch
        .properties()
        .into_iter()
        .find(|p| p.name == property)
        .ok_or_else(|| Error::BadInput(format!("model '{model}' has no property '{property}'")))?;
    let expect = |v: &crate::architecture::Variant| {
        v.expect
            .iter()
            .find(|(p, _)| *p == property)
            .map(|(_, e)| *e)
    };
    let broken = arch
        .variants()
        .iter()
        .find(|v| expect(v) == Some(Verdict::Violated))
        .ok_or_else(|| {
            Error::BadInput(format!(
                "no variant of '{model}' breaks {property}: nothing to replay"
            ))
        })?;
    let variant = match &req.variant {
        Some(v) => arch.variant(v)?,
        None => broken,
    };
    let expected = expect(variant).unwrap_or(Verdict::Holds);
    // The model's side first, so a bad variant or property fails before any server starts.
    let trace_from = if expected == Verdict::Violated {
        variant
    } else {
        broken
    };
    let (trace_verdict, trace) = model_trace(arch, trace_from, property)?;
    let trace = trace.ok_or_else(|| {
        Error::BadInput(format!(
            "the model found no counterexample to {property} in {model}/{}: nothing to replay",
            trace_from.name
        ))
    })?;
    let model_verdict = if trace_from.name == variant.name {
        trace_verdict
    } else {
        model_trace(arch, variant, property)?.0
    };
    let start = Instant::now();
    let real = match model {
        "read-replica" => read_replica::replay(&trace, variant.name, property)?,
        "central-db" => central_db::replay(&trace, variant.name, property)?,
        "master-master" => master_master::replay(&trace, variant.name, property)?,
        _ => unreachable!("listed in SCENARIOS"),
    };
    Ok(Replay {
        model: model.to_string(),
        variant: variant.name.to_string(),
        trace_from: trace_from.name.to_string(),
        property: property.to_string(),
        claim: info.claim.to_string(),
        expected,
        model_verdict,
        trace,
        real,
        seconds: start.elapsed().as_secs_f64(),
    })
}

fn model_trace(
    arch: &dyn Architecture,
    variant: &crate::architecture::Variant,
    property: &str,
) -> Result<(Verdict, Option<Trace>), Error> {
    let opts = CheckOptions {
        properties: vec![property.to_string()],
        ..CheckOptions::default()
    };
    let report = arch.check(variant, &arch.default_bounds(), &opts)?;
    let r = report
        .results
        .into_iter()
        .find(|r| r.property == property)
        .ok_or_else(|| Error::BadInput(format!("property '{property}' was not checked")))?;
    Ok((r.verdict, r.trace))
}

/// The client names of a trace: actors of its start that are not servers, in order.
pub fn clients(trace: &Trace, is_server: impl Fn(&str) -> bool) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for s in &trace.start {
        if let Some(first) = s.split_whitespace().next() {
            if !is_server(first) && !names.iter().any(|n| n == first) {
                names.push(first.to_string());
            }
        }
    }
    names
}

/// How to stop a running server from the Ctrl-C handler.
#[derive(Clone, Debug)]
pub(crate) enum Stopper {
    /// PostgreSQL: `pg_ctl stop -m immediate` with the binaries in this directory.
    Pg(PathBuf),
    /// A server process we started: killed by its id.
    Pid(u32),
}

/// Servers that are running, for Ctrl-C: (data directory, how to stop it).
static LIVE: Mutex<Vec<(PathBuf, Stopper)>> = Mutex::new(Vec::new());

/// Work directories that exist, for Ctrl-C (one may hold no running server yet: a
/// signal during `initdb` must still remove it).
static WORK_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

pub(crate) fn register_work_dir(dir: &Path) {
    if let Ok(mut dirs) = WORK_DIRS.lock() {
        dirs.push(dir.to_path_buf());
    }
}

pub(crate) fn unregister_work_dir(dir: &Path) {
    if let Ok(mut dirs) = WORK_DIRS.lock() {
        dirs.retain(|d| d != dir);
    }
}

/// Set by [`stop_all`]: a server registered afterwards is stopped at once.
static STOPPING: AtomicBool = AtomicBool::new(false);

/// True once Ctrl-C has asked every replay server to stop.
pub fn stopping() -> bool {
    STOPPING.load(Ordering::SeqCst)
}

pub(crate) fn register(data: &Path, stop: Stopper) {
    if let Ok(mut live) = LIVE.lock() {
        live.push((data.to_path_buf(), stop.clone()));
    }
    if stopping() {
        stop_one(data, &stop);
    }
}

pub(crate) fn unregister(data: &Path) {
    if let Ok(mut live) = LIVE.lock() {
        live.retain(|(d, _)| d != data);
    }
}

fn stop_one(data: &Path, stop: &Stopper) {
    match stop {
        Stopper::Pg(bin) => pg::stop(bin, data),
        Stopper::Pid(pid) => {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }
}

/// Stops every server a replay started and has not stopped yet (the Ctrl-C handler).
/// A server may be half-started when the signal comes (its start command running, or
/// its process spawned a moment before it registers): the servers are stopped again for
/// two seconds, then their directories removed.
pub fn stop_all() {
    STOPPING.store(true, Ordering::SeqCst);
    let mut dirs: Vec<PathBuf> = Vec::new();
    for _ in 0..10 {
        let live = LIVE.lock().map(|l| l.clone()).unwrap_or_default();
        for (data, stop) in live.iter().rev() {
            stop_one(data, stop);
            if let Some(work) = data.parent() {
                if !dirs.iter().any(|d| d == work) {
                    dirs.push(work.to_path_buf());
                }
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    dirs.extend(WORK_DIRS.lock().map(|d| d.clone()).unwrap_or_default());
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[cfg(test)]
mod interrupt_tests {
    use super::*;

    /// A work folder that holds no running server yet (Ctrl-C during initdb) is removed
    /// by stop_all all the same.
    #[test]
    fn a_work_folder_is_removed_on_ctrl_c() {
        let dir = tempfile::tempdir().unwrap().keep();
        std::fs::write(dir.join("half-made"), "x").unwrap();
        register_work_dir(&dir);
        stop_all();
        assert!(!dir.exists(), "{} was left behind", dir.display());
        STOPPING.store(false, Ordering::SeqCst);
    }
}
