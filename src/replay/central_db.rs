//! central-db on PostgreSQL: one database, the app servers played by the harness, and a
//! small TCP proxy between them. A reply the model never delivers before its client
//! times out is lost for real: the proxy forwards the transaction's COMMIT, lets the
//! server answer, swallows the answer and cuts the connection. The client's retry is a
//! new connection sending the same transfer.
//!
//! Every application of a transfer inserts a row into `ledger` in the same transaction,
//! so what the database applied is read back from the database itself. The
//! idempotency-key variant first inserts the request id into `requests`
//! (`ON CONFLICT DO NOTHING`) and moves money only when that insert did.

use super::pg::{self, Server, WorkDir};
use super::{clients, RealRun};
use crate::error::Error;
use crate::history::{Event, History, Op, Outcome, Reply, ReqId};
use crate::session;
use crate::trace::{Step, Trace};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

fn is_server(name: &str) -> bool {
    name == "db" || name.starts_with("app")
}

/// A TCP proxy on 127.0.0.1 in front of one server. When armed, the next connection's
/// answer to the message carrying COMMIT is swallowed (after the server has finished
/// answering it, so the commit happened) and the connection is cut.
pub struct Proxy {
    /// Its port.
    pub port: u16,
    arm: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    cuts: Arc<AtomicUsize>,
    accept: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Starts a proxy to 127.0.0.1:`upstream`.
    pub fn start(upstream: u16) -> Result<Proxy, Error> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .map_err(|e| Error::BadInput(format!("proxy: cannot listen on 127.0.0.1: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::BadInput(format!("proxy: {e}")))?
            .port();
        let arm = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let cuts = Arc::new(AtomicUsize::new(0));
        let (a, s, c) = (arm.clone(), stop.clone(), cuts.clone());
        let accept = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = conn else { continue };
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                let cut = a.swap(false, Ordering::SeqCst);
                relay(client, server, cut, c.clone());
            }
        });
        Ok(Proxy {
            port,
            arm,
            stop,
            cuts,
            accept: Some(accept),
        })
    }

    /// The next connection loses its answer to COMMIT.
    pub fn arm(&self) {
        self.arm.store(true, Ordering::SeqCst);
    }

    /// Connections cut so far.
    pub fn cuts(&self) -> usize {
        self.cuts.load(Ordering::SeqCst)
    }
}

fn relay(client: TcpStream, server: TcpStream, cut: bool, cuts: Arc<AtomicUsize>) {
    let commit_seen = Arc::new(AtomicBool::new(false));
    let (Ok(mut c_in), Ok(mut s_out)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let seen = commit_seen.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 16384];
        while let Ok(n) = c_in.read(&mut buf) {
            if n == 0 {
                break;
            }
            if cut && buf[..n].windows(6).any(|w| w == b"COMMIT") {
                seen.store(true, Ordering::SeqCst);
            }
            if s_out.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = s_out.shutdown(Shutdown::Write);
    });
    let (mut s_in, mut c_out) = (server, client);
    std::thread::spawn(move || {
        let mut buf = [0u8; 16384];
        let mut swallowed: Vec<u8> = Vec::new();
        while let Ok(n) = s_in.read(&mut buf) {
            if n == 0 {
                break;
            }
            if commit_seen.load(Ordering::SeqCst) {
                // ReadyForQuery ('Z', length 5) ends the server's answer to the message.
                swallowed.extend_from_slice(&buf[..n]);
                if swallowed.windows(5).any(|w| w == [b'Z', 0, 0, 0, 5]) {
                    // Counted before the cut, so the client's error is always seen as one.
                    cuts.fetch_add(1, Ordering::SeqCst);
                    let _ = c_out.shutdown(Shutdown::Both);
                    let _ = s_in.shutdown(Shutdown::Both);
                    break;
                }
                continue;
            }
            if c_out.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = c_out.shutdown(Shutdown::Both);
    });
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

/// "transfer $10 from jose to carlos (request id jose-1, retry 1)": amount, from, to, key.
fn parse_save(text: &str) -> Option<(i16, String, String, String)> {
    let rest = text.strip_prefix("transfer $")?;
    let (amount, rest) = rest.split_once(" from ")?;
    let (from, rest) = rest.split_once(" to ")?;
    let (to, rest) = rest.split_once(" (request id ")?;
    let key = rest.split([',', ')']).next()?;
    Some((
        amount.parse().ok()?,
        from.to_string(),
        to.to_string(),
        key.to_string(),
    ))
}

/// The starting balances from the story's start ("db balance jose 100, balance carlos 0").
fn balances(trace: &Trace) -> Vec<(String, i64)> {
    let Some(db) = trace.start.iter().find(|s| s.starts_with("db ")) else {
        return Vec::new();
    };
    db.split("balance ")
        .skip(1)
        .filter_map(|part| {
            let mut w = part.split_whitespace();
            let name = w.next()?;
            let amount = w.next()?.trim_end_matches(',').parse().ok()?;
            Some((name.to_string(), amount))
        })
        .collect()
}

fn transfer_sql(variant: &str, amount: i16, from: &str, to: &str, key: &str, id: ReqId) -> String {
    let ledger = format!(
        "INSERT INTO ledger (client, seq, attempt) SELECT {}, {}, {} FROM debit",
        id.client, id.seq, id.attempt
    );
    if variant == "idempotency-key" {
        format!(
            "BEGIN; WITH new AS (INSERT INTO requests (request_id) VALUES ('{key}') ON CONFLICT DO NOTHING RETURNING request_id), \
             debit AS (UPDATE accounts SET balance = balance - {amount} WHERE name = '{from}' AND balance >= {amount} AND EXISTS (SELECT 1 FROM new) RETURNING balance), \
             credit AS (UPDATE accounts SET balance = balance + {amount} WHERE name = '{to}' AND EXISTS (SELECT 1 FROM debit)), \
             applied AS ({ledger}) \
             SELECT COALESCE((SELECT 'approved ' || balance FROM debit), \
             (SELECT 'repeat ' || balance FROM accounts WHERE name = '{from}' AND NOT EXISTS (SELECT 1 FROM new)), 'declined'); COMMIT;"
        )
    } else {
        format!(
            "BEGIN; WITH debit AS (UPDATE accounts SET balance = balance - {amount} WHERE name = '{from}' AND balance >= {amount} RETURNING balance), \
             credit AS (UPDATE accounts SET balance = balance + {amount} WHERE name = '{to}' AND EXISTS (SELECT 1 FROM debit)), \
             applied AS ({ledger}) \
             SELECT COALESCE((SELECT 'approved ' || balance FROM debit), 'declined'); COMMIT;"
        )
    }
}

/// True when the trace, after step `i`, lets client `who` time out before delivering the
/// db's answer to `app`: that answer is lost.
fn reply_lost(steps: &[Step], i: usize, app: &str, who: &str) -> bool {
    for s in &steps[i + 1..] {
        if s.actor == "db" && s.to.as_deref() == Some(app) && s.action == "deliver" {
            return false;
        }
        if s.actor == who && s.action == "timeout" {
            return true;
        }
    }
    false
}

/// Replays `trace` (of central-db) under `variant` on PostgreSQL.
pub fn replay(trace: &Trace, variant: &str, property: &str) -> Result<RealRun, Error> {
    if property != "exactly_once_transfer" {
        return Err(Error::BadInput(format!(
            "central-db replays exactly_once_transfer, not {property}"
        )));
    }
    let install = pg::find()?;
    let work = WorkDir::new()?;
    let db = Server::primary(&install, &work, "db")?;
    let start = balances(trace);
    let rows: Vec<String> = start.iter().map(|(n, b)| format!("('{n}', {b})")).collect();
    db.sql(&format!(
        "CREATE TABLE accounts (name text PRIMARY KEY, balance int NOT NULL); \
         INSERT INTO accounts VALUES {}; \
         CREATE TABLE ledger (id serial PRIMARY KEY, client int, seq int, attempt int); \
         CREATE TABLE requests (request_id text PRIMARY KEY)",
        rows.join(", ")
    ))?;
    let proxy = Proxy::start(db.port)?;
    let mut setup = vec![
        format!(
            "db: initdb, PostgreSQL {} on 127.0.0.1:{}; accounts {}",
            install.version,
            db.port,
            start
                .iter()
                .map(|(n, b)| format!("{n} ${b}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        format!(
            "app servers: the harness, talking to db through a TCP proxy on 127.0.0.1:{}",
            proxy.port
        ),
        "each application of a transfer adds a ledger row in its own transaction".into(),
    ];
    if variant == "idempotency-key" {
        setup.push(
            "fix: the transaction first inserts the request id into requests ON CONFLICT DO NOTHING and moves money only if it was new".into(),
        );
    }

    let names = clients(trace, is_server);
    let index = |n: &str| names.iter().position(|c| c == n);
    let mut history: History = Vec::new();
    let mut next_seq: BTreeMap<u8, u8> = BTreeMap::new();
    // The client's current attempt: its event; what each app holds for whom.
    let mut current: BTreeMap<u8, (usize, ReqId)> = BTreeMap::new();
    let mut at_app: BTreeMap<String, (u8, Option<Reply>)> = BTreeMap::new();
    let mut steps = Vec::new();
    for (i, step) in trace.steps.iter().enumerate() {
        let to = step.to.clone().unwrap_or_default();
        let line = match (step.action.as_str(), index(&step.actor)) {
            ("deliver", Some(c)) if to.starts_with("app") => {
                let c = c as u8;
                let attempt: u8 = step
                    .text
                    .split(", retry ")
                    .nth(1)
                    .and_then(|r| r.trim().parse().ok())
                    .unwrap_or(0);
                let seq = if attempt == 0 {
                    let s = *next_seq.entry(c).or_default();
                    next_seq.insert(c, s + 1);
                    s
                } else {
                    current.get(&c).map(|(_, id)| id.seq).unwrap_or(0)
                };
                let id = ReqId {
                    client: c,
                    seq,
                    attempt,
                };
                let amount: i16 = step
                    .text
                    .strip_prefix("transfer $")
                    .and_then(|r| r.split_whitespace().next())
                    .and_then(|a| a.parse().ok())
                    .unwrap_or(0);
                history.push(Event {
                    id,
                    op: Op::Transfer {
                        from: 0,
                        to: 1,
                        amount,
                    },
                    outcome: Outcome::Pending,
                });
                current.insert(c, (history.len() - 1, id));
                at_app.insert(to.clone(), (c, None));
                format!(
                    "{} -> {to}: {} (request handed to the app)",
                    step.actor, step.text
                )
            }
            ("deliver", None) if step.actor.starts_with("app") && to == "db" => {
                let (c, _) = at_app.get(&step.actor).copied().ok_or_else(|| {
                    Error::BadInput(format!(
                        "step {}: {} holds no request",
                        step.step, step.actor
                    ))
                })?;
                let (_, id) = current[&c];
                let (amount, from, to_acct, key) = parse_save(&step.text).ok_or_else(|| {
                    Error::BadInput(format!("step {}: cannot read '{}'", step.step, step.text))
                })?;
                let sql = transfer_sql(variant, amount, &from, &to_acct, &key, id);
                let lost = reply_lost(&trace.steps, i, &step.actor, &names[c as usize]);
                if lost {
                    proxy.arm();
                }
                let before = proxy.cuts();
                let answer = pg::psql(&install, proxy.port, &sql);
                let what = format!(
                    "BEGIN; transfer ${amount} {from} -> {to_acct} + ledger row{}; COMMIT",
                    if variant == "idempotency-key" {
                        format!(" if request id {key} is new")
                    } else {
                        String::new()
                    }
                );
                match answer {
                    Ok(out) => {
                        let out = out.trim().to_string();
                        let balance: i16 = out
                            .split_whitespace()
                            .nth(1)
                            .and_then(|b| b.parse().ok())
                            .unwrap_or(0);
                        let reply = if out.starts_with("declined") {
                            Reply::Declined { balance }
                        } else {
                            Reply::Approved { balance }
                        };
                        at_app.insert(step.actor.clone(), (c, Some(reply)));
                        format!("{} -> db: {what} -> {out}", step.actor)
                    }
                    Err(e) if proxy.cuts() > before => {
                        let e = e.to_string();
                        let why = e
                            .lines()
                            .find(|l| l.contains("closed") || l.contains("terminated"))
                            .unwrap_or("connection lost")
                            .trim();
                        format!(
                            "{} -> db: {what} -> the proxy forwarded COMMIT, swallowed the answer and cut the connection ({why})",
                            step.actor
                        )
                    }
                    Err(e) => return Err(e),
                }
            }
            ("deliver", None) if step.actor == "db" => format!("{to} receives the db's answer"),
            ("deliver", None) if step.actor.starts_with("app") && index(&to).is_some() => {
                let c = index(&to).unwrap_or(0) as u8;
                match (at_app.get(&step.actor), current.get(&c)) {
                    (Some(&(_, Some(reply))), Some(&(e, _))) => {
                        history[e].outcome = Outcome::Replied(reply);
                        format!("{to} receives the answer: {reply}")
                    }
                    _ => format!("{to}: no answer to receive"),
                }
            }
            ("timeout", Some(c)) => {
                if let Some(&(e, _)) = current.get(&(c as u8)) {
                    history[e].outcome = Outcome::TimedOut;
                }
                format!(
                    "{}: no answer (the connection was cut): gives up waiting",
                    step.actor
                )
            }
            ("lose", _) => format!("lost: {} -> {to} never arrives", step.actor),
            (other, _) => {
                return Err(Error::BadInput(format!(
                    "step {} ({other}: '{}') has no real counterpart in replay",
                    step.step, step.text
                )))
            }
        };
        steps.push(line);
    }
    // What the database applied, read back from the database.
    let applied: Vec<(u8, u8)> = db
        .sql("SELECT client, seq FROM ledger ORDER BY id")?
        .lines()
        .filter_map(|l| {
            let (c, s) = l.trim().split_once('|')?;
            Some((c.parse().ok()?, s.parse().ok()?))
        })
        .collect();
    let verdict = session::exactly_once(&history, &applied);
    let balances = db.sql("SELECT name || ' $' || balance FROM accounts ORDER BY name DESC")?;
    let balances: Vec<&str> = balances.lines().map(str::trim).collect();
    let mut per_request: BTreeMap<(u8, u8), usize> = BTreeMap::new();
    for a in &applied {
        *per_request.entry(*a).or_default() += 1;
    }
    let ledger: Vec<String> = per_request
        .iter()
        .map(|(&(c, s), n)| {
            format!(
                "{}'s request {} applied {n} time{}",
                names.get(c as usize).cloned().unwrap_or_default(),
                s + 1,
                if *n == 1 { "" } else { "s" }
            )
        })
        .collect();
    let values = format!(
        "ledger: {}; balances {}",
        if ledger.is_empty() {
            "nothing applied".to_string()
        } else {
            ledger.join(", ")
        },
        balances.join(", ")
    );
    let after = vec![format!("db after the run: {values}")];
    let workdir = work.path().to_path_buf();
    drop(proxy);
    drop(db);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_model_s_words() {
        assert_eq!(
            parse_save("transfer $10 from jose to carlos (request id jose-1, retry 1)"),
            Some((10, "jose".into(), "carlos".into(), "jose-1".into()))
        );
        assert_eq!(
            parse_save("transfer $10 from jose to carlos (request id jose-1)").map(|p| p.3),
            Some("jose-1".into())
        );
        let t = Trace {
            start: vec!["db balance jose 100, balance carlos 0".into()],
            steps: vec![],
            values: String::new(),
            repeats_from: None,
        };
        assert_eq!(
            balances(&t),
            vec![("jose".to_string(), 100), ("carlos".to_string(), 0)]
        );
    }
}
