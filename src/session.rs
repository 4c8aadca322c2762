//! Properties over what clients observed, computed from the client history: the session
//! guarantees of Terry et al. (1994) and exactly-once. Any model whose clients use
//! [`crate::client::Client`] gets them as ready-made [`Property`] declarations.
//!
//! Versions order the values of a register (higher is newer). Only what a client saw
//! counts: a write that timed out may or may not have happened, so it creates no
//! obligation; a read that timed out saw nothing.

use crate::history::{key_name, Event, History, Op, Outcome, Reply};
use crate::property::{ClientSteps, Kind, Property};
use crate::system::{Node, SysState, System};
use stateright::semantics::register::{RegisterOp, RegisterRet};
use std::collections::BTreeMap;

/// Client `c`'s events, in the order the client made them.
fn by_client(h: &History) -> BTreeMap<u8, Vec<&Event>> {
    let mut m: BTreeMap<u8, Vec<&Event>> = BTreeMap::new();
    for e in h {
        m.entry(e.id.client).or_default().push(e);
    }
    m
}

fn write_ack(e: &Event) -> Option<(u8, u8)> {
    match (e.op, e.outcome) {
        (Op::Write { key, .. }, Outcome::Replied(Reply::Written { version })) => {
            Some((key, version))
        }
        _ => None,
    }
}

fn read_seen(e: &Event) -> Option<(u8, u8)> {
    match (e.op, e.outcome) {
        (Op::Read { key }, Outcome::Replied(Reply::Value { version, .. })) => Some((key, version)),
        _ => None,
    }
}

/// Names a client's request in a message; `client#N` is replaced by the client's name
/// when a model has one (see [`explain`]).
fn who(e: &Event) -> String {
    format!("client#{} request {}", e.id.client, e.id.seq + 1)
}

/// The newest version of each register a client has written or seen so far (a fixed
/// table: these checks run on every new state, where a map's allocations showed).
struct Versions([u16; 256]);

impl Versions {
    fn new() -> Self {
        Versions([0; 256])
    }

    fn get(&self, key: u8) -> Option<u8> {
        self.0[usize::from(key)].checked_sub(1).map(|v| v as u8)
    }

    fn set(&mut self, key: u8, version: u8) {
        self.0[usize::from(key)] = u16::from(version) + 1;
    }

    /// Raises `key`'s version to at least `version`.
    fn raise(&mut self, key: u8, version: u8) {
        let v = self.get(key).map_or(version, |w| w.max(version));
        self.set(key, v);
    }
}

/// `check`, one client's guarantee, over each client's events in `h`.
fn per_client<'h>(
    h: &'h History,
    check: impl Fn(Vec<&'h Event>) -> Result<(), String>,
) -> Result<(), String> {
    by_client(h).into_values().try_for_each(check)
}

/// Whether `check`, one client's guarantee, holds for every client of state `s` (over
/// each client's own log, without gathering the history).
fn holds_per_client<A: Node>(
    s: &SysState<A>,
    check: impl Fn(&[Event]) -> Result<(), String>,
) -> bool {
    s.net
        .actor_states
        .iter()
        .filter_map(|a| A::client_state(a))
        .all(|c| check(&c.log).is_ok())
}

/// One client's events checked against what it did before: every event that `later`
/// maps to a register and version must not be `behind` the newest version `earlier`
/// mapped an event before it to; `Err` is `broken` of the event, the register and the
/// two versions.
fn not_behind<'e>(
    events: impl IntoIterator<Item = &'e Event>,
    earlier: fn(&Event) -> Option<(u8, u8)>,
    later: fn(&Event) -> Option<(u8, u8)>,
    behind: fn(u8, u8) -> bool,
    broken: impl Fn(&Event, u8, u8, u8) -> String,
) -> Result<(), String> {
    let mut newest = Versions::new();
    for e in events {
        if let Some((k, v)) = earlier(e) {
            newest.raise(k, v);
        }
        if let Some((k, v)) = later(e) {
            if let Some(w) = newest.get(k) {
                if behind(v, w) {
                    return Err(broken(e, k, v, w));
                }
            }
        }
    }
    Ok(())
}

/// Read your writes over one client's events.
fn read_your_writes_of<'e>(events: impl IntoIterator<Item = &'e Event>) -> Result<(), String> {
    not_behind(
        events,
        write_ack,
        read_seen,
        |v, w| v < w,
        |e, k, v, w| {
            format!(
                "{}: read {} at version {v} after its own write of version {w}",
                who(e),
                key_name(k)
            )
        },
    )
}

/// Read your writes: a read that follows a client's acknowledged write of a register
/// sees that write or a newer one. `Err` says which read broke it.
pub fn read_your_writes(h: &History) -> Result<(), String> {
    per_client(h, read_your_writes_of)
}

/// Monotonic reads over one client's events.
fn monotonic_reads_of<'e>(events: impl IntoIterator<Item = &'e Event>) -> Result<(), String> {
    let mut seen = Versions::new();
    for e in events {
        if let Some((k, v)) = read_seen(e) {
            let s = seen.get(k).unwrap_or(0);
            if v < s {
                return Err(format!(
                    "{}: read {} at version {v} after reading version {s}",
                    who(e),
                    key_name(k),
                ));
            }
            seen.set(k, v);
        }
    }
    Ok(())
}

/// Monotonic reads: successive reads of a register by one client never go back to an
/// older version.
pub fn monotonic_reads(h: &History) -> Result<(), String> {
    per_client(h, monotonic_reads_of)
}

/// Monotonic writes over one client's events.
fn monotonic_writes_of<'e>(events: impl IntoIterator<Item = &'e Event>) -> Result<(), String> {
    let mut last = Versions::new();
    for e in events {
        if let Some((k, v)) = write_ack(e) {
            if let Some(prev) = last.get(k) {
                if v <= prev {
                    return Err(format!(
                        "{}: write of {} got version {v}, not newer than the client's earlier write (version {prev})",
                        who(e),
                        key_name(k)
                    ));
                }
            }
            last.set(k, v);
        }
    }
    Ok(())
}

/// Monotonic writes: a client's acknowledged writes of a register take effect in the
/// order the client made them (each gets a newer version than the one before).
pub fn monotonic_writes(h: &History) -> Result<(), String> {
    per_client(h, monotonic_writes_of)
}

/// Writes follow reads over one client's events.
fn writes_follow_reads_of<'e>(events: impl IntoIterator<Item = &'e Event>) -> Result<(), String> {
    not_behind(
        events,
        read_seen,
        write_ack,
        |v, r| v <= r,
        |e, k, v, r| {
            format!(
                "{}: write of {} got version {v}, not after version {r} the client had read",
                who(e),
                key_name(k)
            )
        },
    )
}

/// Writes follow reads: a client's write of a register after reading it is ordered after
/// the version it read.
pub fn writes_follow_reads(h: &History) -> Result<(), String> {
    per_client(h, writes_follow_reads_of)
}

/// Exactly once: every logical request (client, position in its workload) took effect at
/// most once, and exactly once if the client saw it succeed. `applied` lists the logical
/// requests the system applied, once per application. (Nothing is allocated unless it is
/// broken: it is checked on every state a search finds.)
pub fn exactly_once<'a>(
    h: impl IntoIterator<Item = &'a Event>,
    applied: &[(u8, u8)],
) -> Result<(), String> {
    let times = |a: &(u8, u8)| applied.iter().filter(|&b| b == a).count();
    if let Some(&(c, s)) = applied.iter().filter(|a| times(a) > 1).min() {
        return Err(format!(
            "client#{c} request {} took effect {} times",
            s + 1,
            times(&(c, s))
        ));
    }
    for e in h {
        let ok = matches!(
            e.outcome,
            Outcome::Replied(Reply::Approved { .. } | Reply::Written { .. })
        );
        if ok && !applied.contains(&(e.id.client, e.id.seq)) {
            return Err(format!("{}: reported done but never took effect", who(e)));
        }
    }
    Ok(())
}

/// The message of a broken guarantee, with `client#N` replaced by the client's name.
pub fn explain<A: Node>(sys: &System<A>, r: Result<(), String>) -> String {
    explain_with_names(&sys.client_names(), r)
}

/// The message of a broken guarantee, with `client#N` replaced by `names[N]`.
pub fn explain_with_names(names: &[impl AsRef<str>], r: Result<(), String>) -> String {
    let mut text = r
        .err()
        .unwrap_or_else(|| "every read and write is in order".to_string());
    for (index, name) in names.iter().enumerate().rev() {
        text = text.replace(&format!("client#{index}"), name.as_ref());
    }
    text
}

/// `read_your_writes` for any model with a client history.
pub fn read_your_writes_property<A: Node>() -> Property<System<A>> {
    Property {
        name: "read_your_writes",
        claim: "a client that wrote never reads an older version afterwards (versions are compared, not values)",
        kind: Kind::Always,
        client_steps: ClientSteps::Stable,
        check: |_, s: &SysState<A>| holds_per_client(s, |log| read_your_writes_of(log)),
        values: |sys: &System<A>, s: &SysState<A>| explain(sys, read_your_writes(&sys.history(s))),
    }
}

/// `monotonic_reads` for any model with a client history.
pub fn monotonic_reads_property<A: Node>() -> Property<System<A>> {
    Property {
        name: "monotonic_reads",
        claim: "a client never reads an older value after reading a newer one",
        kind: Kind::Always,
        client_steps: ClientSteps::Stable,
        check: |_, s: &SysState<A>| holds_per_client(s, |log| monotonic_reads_of(log)),
        values: |sys: &System<A>, s: &SysState<A>| explain(sys, monotonic_reads(&sys.history(s))),
    }
}

/// `monotonic_writes` for any model with a client history.
pub fn monotonic_writes_property<A: Node>() -> Property<System<A>> {
    Property {
        name: "monotonic_writes",
        claim: "a client's writes take effect in the order the client made them",
        kind: Kind::Always,
        client_steps: ClientSteps::Stable,
        check: |_, s: &SysState<A>| holds_per_client(s, |log| monotonic_writes_of(log)),
        values: |sys: &System<A>, s: &SysState<A>| explain(sys, monotonic_writes(&sys.history(s))),
    }
}

/// `writes_follow_reads` for any model with a client history.
pub fn writes_follow_reads_property<A: Node>() -> Property<System<A>> {
    Property {
        name: "writes_follow_reads",
        claim: "a client's write is ordered after every value the client read before it",
        kind: Kind::Always,
        client_steps: ClientSteps::Stable,
        check: |_, s: &SysState<A>| holds_per_client(s, |log| writes_follow_reads_of(log)),
        values: |sys: &System<A>, s: &SysState<A>| {
            explain(sys, writes_follow_reads(&sys.history(s)))
        },
    }
}

/// The name of the linearizability property; a [`System`] that declares it records the
/// real-time order of register operations in its states.
pub const LINEARIZABLE: &str = "linearizable";

/// A client operation as an operation on a register (single-register models only).
pub fn register_op(op: &Op) -> Option<RegisterOp<u8>> {
    match op {
        Op::Write { value, .. } => Some(RegisterOp::Write(*value)),
        Op::Read { .. } => Some(RegisterOp::Read),
        _ => None,
    }
}

/// A reply as a register return value.
pub fn register_ret(reply: &Reply) -> Option<RegisterRet<u8>> {
    match reply {
        Reply::Written { .. } => Some(RegisterRet::WriteOk),
        Reply::Value { value, .. } => Some(RegisterRet::ReadOk(*value)),
        _ => None,
    }
}

/// `linearizable` for any model whose clients read and write one register: some order of
/// the operations, consistent with real time (an operation that ended before another
/// began comes first), explains every value clients read. Operations that timed out may
/// or may not have taken effect. Checked by stateright's linearizability tester.
pub fn linearizable_property<A: Node>() -> Property<System<A>> {
    Property {
        name: LINEARIZABLE,
        claim: "every read returns what some single order of the operations, respecting real time, would return",
        kind: Kind::Always,
        // Which of two clients' steps comes first is what the check reads, and only that
        // (see `crate::reduction`).
        client_steps: ClientSteps::Order,
        check: |sys: &System<A>, s: &SysState<A>| {
            s.real_time.as_ref().is_none_or(|t| sys.is_linearizable(t))
        },
        values: |sys: &System<A>, s: &SysState<A>| {
            let ops: Vec<String> = sys
                .history(s)
                .iter()
                .map(|e| {
                    let outcome = match e.outcome {
                        Outcome::Pending => "pending".to_string(),
                        Outcome::TimedOut => "timed out".to_string(),
                        Outcome::Replied(r) => r.to_string(),
                    };
                    let who = sys
                        .client_names()
                        .get(e.id.client as usize)
                        .cloned()
                        .unwrap_or_else(|| format!("client {}", e.id.client + 1));
                    format!("{who} {}: {outcome}", e.op)
                })
                .collect();
            format!(
                "no order of these operations explains the reads: {}",
                ops.join("; ")
            )
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::ReqId;

    fn ev(client: u8, seq: u8, op: Op, outcome: Outcome) -> Event {
        Event {
            id: ReqId {
                client,
                seq,
                attempt: 0,
            },
            op,
            outcome,
        }
    }
    fn w(c: u8, s: u8, version: u8) -> Event {
        ev(
            c,
            s,
            Op::Write { key: 0, value: s },
            Outcome::Replied(Reply::Written { version }),
        )
    }
    fn r(c: u8, s: u8, version: u8) -> Event {
        ev(
            c,
            s,
            Op::Read { key: 0 },
            Outcome::Replied(Reply::Value { value: 0, version }),
        )
    }
    fn timed_out(mut e: Event) -> Event {
        e.outcome = Outcome::TimedOut;
        e
    }

    #[test]
    fn read_your_writes_on_hand_written_histories() {
        assert!(read_your_writes(&vec![w(0, 0, 1), r(0, 1, 1)]).is_ok());
        assert!(read_your_writes(&vec![w(0, 0, 1), r(0, 1, 2)]).is_ok());
        let e = read_your_writes(&vec![w(0, 0, 1), r(0, 1, 0)]).unwrap_err();
        assert!(e.contains("version 0") && e.contains("version 1"), "{e}");
        // Another client's stale read is not this guarantee's business.
        assert!(read_your_writes(&vec![w(0, 0, 1), r(1, 0, 0)]).is_ok());
        // A write that timed out may not have happened: no obligation.
        assert!(read_your_writes(&vec![timed_out(w(0, 0, 1)), r(0, 1, 0)]).is_ok());
        // A read that timed out saw nothing.
        assert!(read_your_writes(&vec![w(0, 0, 1), timed_out(r(0, 1, 0))]).is_ok());
        // A read before the write is not after it.
        assert!(read_your_writes(&vec![r(0, 0, 0), w(0, 1, 1)]).is_ok());
    }

    #[test]
    fn monotonic_reads_on_hand_written_histories() {
        assert!(monotonic_reads(&vec![r(0, 0, 1), r(0, 1, 1), r(0, 2, 2)]).is_ok());
        assert!(monotonic_reads(&vec![r(0, 0, 2), r(0, 1, 1)]).is_err());
        assert!(monotonic_reads(&vec![r(0, 0, 2), r(1, 0, 1)]).is_ok());
        assert!(monotonic_reads(&vec![r(0, 0, 2), timed_out(r(0, 1, 1))]).is_ok());
    }

    #[test]
    fn monotonic_writes_on_hand_written_histories() {
        assert!(monotonic_writes(&vec![w(0, 0, 1), w(0, 1, 2)]).is_ok());
        assert!(monotonic_writes(&vec![w(0, 0, 2), w(0, 1, 1)]).is_err());
        assert!(monotonic_writes(&vec![w(0, 0, 2), w(1, 0, 1)]).is_ok());
        assert!(monotonic_writes(&vec![timed_out(w(0, 0, 2)), w(0, 1, 1)]).is_ok());
    }

    #[test]
    fn writes_follow_reads_on_hand_written_histories() {
        assert!(writes_follow_reads(&vec![r(0, 0, 1), w(0, 1, 2)]).is_ok());
        assert!(writes_follow_reads(&vec![r(0, 0, 2), w(0, 1, 2)]).is_err());
        assert!(writes_follow_reads(&vec![r(0, 0, 2), w(1, 0, 1)]).is_ok());
        assert!(writes_follow_reads(&vec![timed_out(r(0, 0, 2)), w(0, 1, 1)]).is_ok());
    }

    #[test]
    fn exactly_once_on_hand_written_histories() {
        let pay = |outcome| {
            ev(
                0,
                0,
                Op::Transfer {
                    from: 0,
                    to: 1,
                    amount: 10,
                },
                outcome,
            )
        };
        let ok = Outcome::Replied(Reply::Approved { balance: 90 });
        assert!(exactly_once(&vec![pay(ok)], &[(0, 0)]).is_ok());
        // Jose pays twice: the retry was applied as a new transfer.
        let e =
            exactly_once(&vec![pay(Outcome::TimedOut), pay(ok)], &[(0, 0), (0, 0)]).unwrap_err();
        assert!(e.contains("2 times"), "{e}");
        // A timeout whose transfer never happened is fine (at most once)...
        assert!(exactly_once(&vec![pay(Outcome::TimedOut)], &[]).is_ok());
        // ...and so is one that did happen once.
        assert!(exactly_once(&vec![pay(Outcome::TimedOut)], &[(0, 0)]).is_ok());
        // Reported done, never applied.
        assert!(exactly_once(&vec![pay(ok)], &[]).is_err());
    }
}
