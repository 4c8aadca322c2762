//! master-master on MariaDB: two servers, each a replica of the other, replication
//! configured and stopped (held back) until a step of the trace delivers it: then the
//! receiving server runs `START SLAVE` until it has applied what the sender logged, and
//! `STOP SLAVE` again. A withdrawal is the app's check-then-act on the master the model
//! (or the fix) sent it to: `SELECT balance`, and if it covers the amount,
//! `UPDATE ... SET balance = balance - amount`.
//!
//! async-ops and home-master log statements (`binlog_format=STATEMENT`: the operation is
//! replicated); lww logs rows (`ROW`: the new balance is replicated, without the model's
//! timestamps). The balances are state, not client history: the properties are judged on
//! the balances read from both real servers after every step and after replication
//! settles, and on the withdrawals the real clients saw approved.

use super::mariadb::{self, Server};
use super::pg::WorkDir;
use super::{clients, RealRun};
use crate::error::Error;
use crate::history::{Event, History, Op, Outcome, Reply, ReqId};
use crate::trace::Trace;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn is_server(name: &str) -> bool {
    name.starts_with("master")
}

/// The starting balance from the story's start ("master1 balance 10; ...").
fn start_balance(trace: &Trace) -> i64 {
    trace
        .start
        .iter()
        .find_map(|s| s.strip_prefix("master1 balance "))
        .and_then(|b| b.trim().parse().ok())
        .unwrap_or(10)
}

fn balance(s: &Server) -> Result<i64, Error> {
    s.one("SELECT balance FROM bank.accounts WHERE id = 1")?
        .parse()
        .map_err(|e| Error::BadInput(format!("balance: {e}")))
}

/// Lets `to` apply everything `from` has logged, then (if `stop`) holds it back again.
fn deliver(from: &Server, to: &Server, from_name: &str, stop: bool) -> Result<String, Error> {
    let status = from.sql("SHOW MASTER STATUS")?;
    let pos: u64 = status
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    to.sql("START SLAVE")?;
    let start = Instant::now();
    let outcome = loop {
        let st = to.slave_status()?;
        let get = |k: &str| {
            st.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let errno = get("Last_SQL_Errno");
        if !errno.is_empty() && errno != "0" {
            break format!(
                "replication STOPPED with error {errno}: {}",
                get("Last_SQL_Error")
            );
        }
        let exec: u64 = get("Exec_Master_Log_Pos").parse().unwrap_or(0);
        if exec >= pos && get("Slave_SQL_Running") == "Yes" {
            break format!("applied {from_name}'s binlog up to position {pos}");
        }
        if start.elapsed() > Duration::from_secs(20) {
            break format!(
                "did not catch up with {from_name} within 20 s (executed up to {exec} of {pos}; SQL thread: {}, IO thread: {} {})",
                get("Slave_SQL_Running"),
                get("Slave_IO_Running"),
                get("Last_IO_Error")
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if stop {
        to.sql("STOP SLAVE")?;
        Ok(format!("START SLAVE: {outcome}; STOP SLAVE"))
    } else {
        Ok(format!("START SLAVE: {outcome}"))
    }
}

/// Replays `trace` (of master-master) under `variant` on MariaDB.
pub fn replay(trace: &Trace, variant: &str, property: &str) -> Result<RealRun, Error> {
    let install = mariadb::find()?;
    let work = WorkDir::owned_by("mysql")?;
    let format = if variant == "lww" { "ROW" } else { "STATEMENT" };
    let start = start_balance(trace);
    let mut masters: BTreeMap<String, Server> = BTreeMap::new();
    let mut setup = Vec::new();
    for (i, name) in ["master1", "master2"].into_iter().enumerate() {
        let s = Server::start(&install, &work, name, i as u32 + 1, format)?;
        s.sql(&format!(
            "CREATE DATABASE bank; CREATE TABLE bank.accounts (id int PRIMARY KEY, balance int NOT NULL); \
             INSERT INTO bank.accounts VALUES (1, {start}); RESET MASTER"
        ))?;
        setup.push(format!(
            "{name}: MariaDB {} on 127.0.0.1:{}, binlog_format={format}, balance {start}",
            install.version, s.port
        ));
        masters.insert(name.to_string(), s);
    }
    for (me, other) in [("master1", "master2"), ("master2", "master1")] {
        let port = masters[other].port;
        masters[me].sql(&format!(
            "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = {port}, MASTER_USER = 'root', \
             MASTER_USE_GTID = no, MASTER_LOG_FILE = 'bin.000001', MASTER_LOG_POS = 4"
        ))?;
    }
    setup.push(
        "each is a replica of the other; replication stopped (STOP SLAVE) until a step delivers it"
            .into(),
    );
    if variant == "home-master" {
        setup.push("fix: every withdrawal goes to master1".into());
    }
    let names = clients(trace, is_server);
    let index = |n: &str| names.iter().position(|c| c == n);
    let mut history: History = Vec::new();
    let mut next_seq: BTreeMap<u8, u8> = BTreeMap::new();
    let mut pending: BTreeMap<u8, (usize, Reply)> = BTreeMap::new();
    let mut observed: Vec<(usize, String, i64)> = Vec::new();
    // Withdrawals the real servers approved (delivered to the client or not).
    let mut granted: i64 = 0;
    let mut steps = Vec::new();
    for step in &trace.steps {
        let to = step.to.clone().unwrap_or_default();
        let mut line = match (step.action.as_str(), index(&step.actor)) {
            ("deliver", Some(c)) if is_server(&to) => {
                let c = c as u8;
                let amount: i16 = step
                    .text
                    .strip_prefix("withdraw $")
                    .and_then(|r| r.split_whitespace().next())
                    .and_then(|a| a.parse().ok())
                    .ok_or_else(|| {
                        Error::BadInput(format!(
                            "step {} ('{}') has no real counterpart in replay",
                            step.step, step.text
                        ))
                    })?;
                let node = if variant == "home-master" {
                    "master1".to_string()
                } else {
                    to.clone()
                };
                let s = &masters[&node];
                let seen = balance(s)?;
                let reply = if seen >= i64::from(amount) {
                    s.sql(&format!(
                        "UPDATE bank.accounts SET balance = balance - {amount} WHERE id = 1"
                    ))?;
                    granted += i64::from(amount);
                    Reply::Approved {
                        balance: balance(s)? as i16,
                    }
                } else {
                    Reply::Declined {
                        balance: seen as i16,
                    }
                };
                let seq = *next_seq.entry(c).or_default();
                next_seq.insert(c, seq + 1);
                history.push(Event {
                    id: ReqId {
                        client: c,
                        seq,
                        attempt: 0,
                    },
                    op: Op::Withdraw { account: 0, amount },
                    outcome: Outcome::Pending,
                });
                pending.insert(c, (history.len() - 1, reply));
                let routed = if node != to {
                    format!(" (routed from {to} by the fix)")
                } else {
                    String::new()
                };
                format!(
                    "{} -> {node}{routed}: SELECT balance -> {seen}; {}",
                    step.actor,
                    match reply {
                        Reply::Approved { .. } =>
                            format!("UPDATE accounts SET balance = balance - {amount} -> {reply}"),
                        _ => format!("{reply}"),
                    }
                )
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
            ("deliver", None) if is_server(&step.actor) && is_server(&to) => {
                let done = deliver(&masters[&step.actor], &masters[&to], &step.actor, true)?;
                format!("{to}: {done}")
            }
            ("timeout", Some(c)) => {
                if let Some((i, _)) = pending.remove(&(c as u8)) {
                    history[i].outcome = Outcome::TimedOut;
                }
                format!("{}: gives up waiting", step.actor)
            }
            ("lose", _) => format!("lost: {} -> {to} never arrives", step.actor),
            (other, _) => {
                return Err(Error::BadInput(format!(
                    "step {} ({other}: '{}') has no real counterpart in replay",
                    step.step, step.text
                )))
            }
        };
        let mut now = Vec::new();
        for (name, s) in &masters {
            let b = balance(s)?;
            observed.push((step.step, name.clone(), b));
            now.push(format!("{name} {b}"));
        }
        line.push_str(&format!("  [{}]", now.join(", ")));
        steps.push(line);
    }
    // Replication lets through everything still held back, both ways.
    let mut after = Vec::new();
    for (from, to) in [("master1", "master2"), ("master2", "master1")] {
        let done = deliver(&masters[from], &masters[to], from, false)?;
        after.push(format!("{to}: {done}"));
    }
    let mut finals = Vec::new();
    for (name, s) in &masters {
        let b = balance(s)?;
        observed.push((trace.len() + 1, name.clone(), b));
        finals.push((name.clone(), b));
    }
    let approved: i64 = history
        .iter()
        .filter_map(|e| match (e.op, e.outcome) {
            (Op::Withdraw { amount, .. }, Outcome::Replied(Reply::Approved { .. })) => {
                Some(i64::from(amount))
            }
            _ => None,
        })
        .sum();
    let finals_text = finals
        .iter()
        .map(|(n, b)| format!("{n} holds {b}"))
        .collect::<Vec<_>>()
        .join(", ");
    let outcome = if finals.iter().all(|(_, b)| *b == start - granted) {
        "every withdrawal applied on both masters"
    } else if finals.windows(2).all(|w| w[0].1 == w[1].1) {
        "the masters agree"
    } else {
        "the masters DIVERGE, silently"
    };
    after.push(format!(
        "replication settled: {finals_text}: {outcome}; the model predicted: {}",
        trace.values
    ));
    let verdict = match property {
        "no_negative_balance" => match observed.iter().find(|(_, _, b)| *b < 0) {
            Some((step, name, b)) if *step > trace.len() => Err(format!(
                "{name} holds {b} once replication settled"
            )),
            Some((step, name, b)) => Err(format!("{name} holds {b} after step {step}")),
            None => Ok(()),
        },
        "approvals_within_funds" if approved > start => Err(format!(
            "clients were approved ${approved} against a starting balance of ${start}"
        )),
        "approvals_within_funds" => Ok(()),
        "replicas_converge" if finals.windows(2).any(|w| w[0].1 != w[1].1) => {
            Err(format!("replication settled and {finals_text}"))
        }
        "replicas_converge" => Ok(()),
        "money_conserved" => match finals.iter().find(|(_, b)| *b != start - granted) {
            Some(_) => Err(format!(
                "${granted} approved out of ${start}, so every master should hold {}; {finals_text}",
                start - granted
            )),
            None => Ok(()),
        },
        p => Err(format!("no real check for {p}")),
    };
    let values = format!(
        "{finals_text} ({outcome}); the servers approved ${granted}, clients saw ${approved} approved, out of ${start}"
    );
    let workdir = work.path().to_path_buf();
    drop(masters);
    drop(work);
    Ok(RealRun {
        setup,
        steps,
        after,
        history,
        clients: names,
        verdict,
        values,
        server: format!("MariaDB {}", install.version),
        workdir,
    })
}
