//! read-replica on PostgreSQL: a primary and one streaming standby per replica of the
//! trace (`pg_basebackup -R`). Replication is held back by `pg_wal_replay_pause()` on
//! every standby and let through only at the steps where the model delivers it.
//!
//! The register `x` is a row of `kv(key, value, version)`: a write is
//! `UPDATE ... SET version = version + 1 RETURNING version` on the node the model sent it
//! to, a read is `SELECT value, version` on the node the variant routes it to.

use super::pg::{self, Server, WorkDir};
use super::{clients, RealRun};
use crate::error::Error;
use crate::history::{Event, History, Op, Outcome, Reply, ReqId};
use crate::session;
use crate::trace::Trace;
use std::collections::BTreeMap;

fn is_server(name: &str) -> bool {
    name == "primary" || name.starts_with("replica")
}

fn parse_write(text: &str) -> Option<u8> {
    let rest = text.strip_prefix("write x=")?;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// The property's function on a real history.
pub fn judge(property: &str, h: &History) -> Result<(), String> {
    match property {
        "read_your_writes" => session::read_your_writes(h),
        "monotonic_reads" => session::monotonic_reads(h),
        "monotonic_writes" => session::monotonic_writes(h),
        "writes_follow_reads" => session::writes_follow_reads(h),
        p => Err(format!("no real-history check for {p}")),
    }
}

struct Topology {
    primary: Server,
    standbys: BTreeMap<String, Server>,
}

impl Topology {
    fn node(&self, name: &str) -> Result<&Server, Error> {
        if name == "primary" {
            Ok(&self.primary)
        } else {
            self.standbys
                .get(name)
                .ok_or_else(|| Error::BadInput(format!("no real node for '{name}'")))
        }
    }

    /// Lets `name` replay everything the primary has written, then holds it back again.
    fn catch_up(&self, name: &str, pause_after: bool) -> Result<String, Error> {
        let s = self.node(name)?;
        let lsn = self.primary.one("SELECT pg_current_wal_lsn()")?;
        s.sql("SELECT pg_wal_replay_resume()")?;
        s.wait_until(&format!("pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn"))?;
        if pause_after {
            pause(s)?;
            Ok(format!(
                "{name}: pg_wal_replay_resume(), replayed up to {lsn}, pg_wal_replay_pause()"
            ))
        } else {
            Ok(format!(
                "{name}: pg_wal_replay_resume(), replayed up to {lsn}"
            ))
        }
    }
}

fn pause(s: &Server) -> Result<(), Error> {
    s.sql("SELECT pg_wal_replay_pause()")?;
    s.wait_until("pg_get_wal_replay_pause_state() = 'paused'")
}

/// Replays `trace` (of read-replica) under `variant`'s routing on PostgreSQL.
pub fn replay(trace: &Trace, variant: &str, property: &str) -> Result<RealRun, Error> {
    let install = pg::find()?;
    let work = WorkDir::new()?;
    let mut setup = Vec::new();
    let primary = Server::primary(&install, &work, "primary")?;
    primary.sql(
        "CREATE TABLE kv (key int PRIMARY KEY, value int NOT NULL, version int NOT NULL); \
         INSERT INTO kv VALUES (0, 0, 0)",
    )?;
    setup.push(format!(
        "primary: initdb, PostgreSQL {} on 127.0.0.1:{}; kv holds x = 0 (version 0)",
        install.version, primary.port
    ));
    let mut replicas: Vec<String> = trace
        .steps
        .iter()
        .flat_map(|s| [Some(s.actor.clone()), s.to.clone()])
        .flatten()
        .filter(|n| n.starts_with("replica"))
        .collect();
    replicas.sort();
    replicas.dedup();
    if replicas.is_empty() {
        replicas.push("replica1".into());
    }
    let mut standbys = BTreeMap::new();
    for name in &replicas {
        let s = Server::standby(&install, &work, &primary, name)?;
        setup.push(format!(
            "{name}: pg_basebackup -R from primary, streaming standby on 127.0.0.1:{}",
            s.port
        ));
        standbys.insert(name.clone(), s);
    }
    let topo = Topology { primary, standbys };
    for name in &replicas {
        topo.catch_up(name, true)?;
        setup.push(format!(
            "{name}: SELECT pg_wal_replay_pause(): replication held back until a step delivers it"
        ));
    }
    match variant {
        "read-primary-after-write" => setup.push(
            "fix: a client's reads after its own acknowledged write go to the primary".into(),
        ),
        "session-token" => setup.push(
            "fix: a client keeps the primary's WAL position after its write; a standby whose pg_last_wal_replay_lsn() is behind it hands the read to the primary".into(),
        ),
        _ => {}
    }

    let names = clients(trace, is_server);
    let index = |n: &str| names.iter().position(|c| c == n);
    let mut history: History = Vec::new();
    // Per client: its next request position, its pending event and the reply the real
    // server gave it, whether it has an acknowledged write, its session token.
    let mut next_seq: BTreeMap<u8, u8> = BTreeMap::new();
    let mut pending: BTreeMap<u8, (usize, Reply)> = BTreeMap::new();
    let mut wrote: BTreeMap<u8, bool> = BTreeMap::new();
    let mut token: BTreeMap<u8, String> = BTreeMap::new();
    let mut steps = Vec::new();
    for step in &trace.steps {
        let to = step.to.clone().unwrap_or_default();
        let from_client = index(&step.actor);
        let line = match (step.action.as_str(), from_client) {
            ("deliver", Some(c)) if is_server(&to) => {
                let c = c as u8;
                let seq = *next_seq.entry(c).or_default();
                next_seq.insert(c, seq + 1);
                let id = ReqId {
                    client: c,
                    seq,
                    attempt: 0,
                };
                if let Some(value) = parse_write(&step.text) {
                    let node = topo.node(&to)?;
                    let sql = format!(
                        "UPDATE kv SET value = {value}, version = version + 1 WHERE key = 0 RETURNING version"
                    );
                    let (reply, seen) = match node.one(&sql) {
                        Ok(v) => {
                            let version: u8 = v.parse().unwrap_or(0);
                            wrote.insert(c, true);
                            token.insert(c, topo.primary.one("SELECT pg_current_wal_lsn()")?);
                            (
                                Reply::Written { version },
                                format!("committed, version {version}"),
                            )
                        }
                        Err(e) => (Reply::Error, format!("error: {e}")),
                    };
                    history.push(Event {
                        id,
                        op: Op::Write { key: 0, value },
                        outcome: Outcome::Pending,
                    });
                    pending.insert(c, (history.len() - 1, reply));
                    format!("{} -> {to}: {sql} -> {seen}", step.actor)
                } else if step.text.starts_with("read x") {
                    let mut node_name = to.clone();
                    let mut why = String::new();
                    if variant == "read-primary-after-write" && wrote.get(&c) == Some(&true) {
                        node_name = "primary".into();
                        why = format!(" (routed from {to} by the fix)");
                    }
                    if variant == "session-token" && to != "primary" {
                        if let Some(t) = token.get(&c) {
                            let ok = topo.node(&to)?.one(&format!(
                                "SELECT pg_last_wal_replay_lsn() >= '{t}'::pg_lsn"
                            ))?;
                            if ok != "t" {
                                node_name = "primary".into();
                                why = format!(" ({to} replayed less than token {t}: forwarded)");
                            }
                        }
                    }
                    let sql = "SELECT value, version FROM kv WHERE key = 0";
                    let row = topo.node(&node_name)?.one(sql)?;
                    let mut parts = row.split('|').map(|p| p.trim().parse::<u8>().unwrap_or(0));
                    let value = parts.next().unwrap_or(0);
                    let version = parts.next().unwrap_or(0);
                    history.push(Event {
                        id,
                        op: Op::Read { key: 0 },
                        outcome: Outcome::Pending,
                    });
                    pending.insert(c, (history.len() - 1, Reply::Value { value, version }));
                    format!(
                        "{} -> {node_name}{why}: {sql} -> x = {value} (version {version})",
                        step.actor
                    )
                } else {
                    return Err(Error::BadInput(format!(
                        "step {} ('{}') has no real counterpart in replay",
                        step.step, step.text
                    )));
                }
            }
            ("deliver", None) if is_server(&step.actor) && index(&to).is_some() => {
                let c = index(&to).unwrap_or(0) as u8;
                match pending.remove(&c) {
                    Some((i, reply)) => {
                        history[i].outcome = Outcome::Replied(reply);
                        format!("{to} receives the answer: {reply}")
                    }
                    None => format!("{to}: nothing pending"),
                }
            }
            ("deliver", None) if step.actor == "primary" && to.starts_with("replica") => {
                topo.catch_up(&to, true)?
            }
            ("lose", _) => format!("lost: {} -> {to} never arrives", step.actor),
            ("timeout", Some(c)) => {
                if let Some((i, _)) = pending.remove(&(c as u8)) {
                    history[i].outcome = Outcome::TimedOut;
                }
                format!("{}: gives up waiting (client-side timeout)", step.actor)
            }
            (other, _) => {
                return Err(Error::BadInput(format!(
                    "step {} ({other}: '{}') has no real counterpart in replay",
                    step.step, step.text
                )))
            }
        };
        steps.push(line);
    }
    let verdict = judge(property, &history);
    let mut after = Vec::new();
    let mut states = vec![format!(
        "primary x = {}",
        topo.primary
            .one("SELECT value || ' (version ' || version || ')' FROM kv WHERE key = 0")?
    )];
    for name in &replicas {
        after.push(topo.catch_up(name, false)?);
        states.push(format!(
            "{name} x = {}",
            topo.node(name)?
                .one("SELECT value || ' (version ' || version || ')' FROM kv WHERE key = 0")?
        ));
    }
    let rows: Vec<&str> = states
        .iter()
        .map(|s| s.split(" = ").nth(1).unwrap_or(""))
        .collect();
    let converged = rows.windows(2).all(|w| w[0] == w[1]);
    after.push(format!(
        "after replication resumed: {}: {}",
        states.join(", "),
        if converged {
            "replicas converge"
        } else {
            "replicas DIFFER"
        }
    ));
    let values = match &verdict {
        Err(e) => super::name_clients(e, &names),
        Ok(()) => "every read saw the client's own acknowledged writes".into(),
    };
    let workdir = work.path().to_path_buf();
    drop(topo);
    drop(work);
    Ok(RealRun {
        setup,
        steps,
        after,
        history,
        clients: names,
        verdict,
        values,
        server: format!("PostgreSQL {}", install.version),
        workdir,
    })
}
