//! Linearizability of recorded histories: read, write and compare-and-set on keys, with
//! values that may be nil, and outcomes ok, fail and info (may or may not have happened).
//!
//! The search is Wing and Gong's, with Lowe's memoisation of (operations linearized,
//! register value) pairs, as in Porcupine, and each key is checked apart
//! (P-compositionality: a history is linearizable when each key's is). A violation comes
//! with a minimal set of operations that cannot be ordered (removing any one of them
//! makes the rest linearizable); a success with the order found, key by key.
//!
//! ```
//! use splitbrain::linearizability::{check, Call, History, Limits, Verdict};
//! let mut h = History::new();
//! let w = h.invoke(0, "x", Call::Write(Some(1)), 0);
//! h.ok(w, None, 10);
//! let r = h.invoke(1, "x", Call::Read, 20);
//! h.ok(r, Some(0), 30); // reads 0 after the write of 1 returned: not linearizable
//! assert!(matches!(check(&h, &Limits::default()).verdict, Verdict::Violated { .. }));
//! ```

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

/// A register's value: `None` is nil (a register never written reads nil).
pub type Value = Option<i64>;

/// What an operation asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Call {
    /// Reads the register.
    Read,
    /// Writes a value.
    Write(Value),
    /// Sets the register to the second value if it holds the first.
    Cas(Value, Value),
}

/// How an operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Not ended yet (an open invocation counts as info).
    Open,
    /// Took effect; a read's value.
    Ok(Value),
    /// Did not take effect.
    Fail,
    /// May or may not have taken effect (a timeout, a crash).
    Info,
}

/// One operation of a history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    /// The client process that made it.
    pub process: u64,
    /// The key (register) it touched.
    pub key: String,
    /// What it asked.
    pub call: Call,
    /// How it ended.
    pub outcome: Outcome,
    /// When it was invoked (a time or an event's position; only the order counts).
    pub invoke: u64,
    /// When it ended (`None` for an open or info operation: it may take effect any time
    /// after its invocation).
    pub complete: Option<u64>,
}

/// A history of operations on registers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    /// The operations, in invocation order of the builder's calls.
    pub ops: Vec<Operation>,
}

/// An operation's place in its history.
pub type OpId = usize;

impl History {
    /// An empty history.
    pub fn new() -> Self {
        History::default()
    }
    /// Records an invocation; `time` orders it against the other events.
    pub fn invoke(&mut self, process: u64, key: &str, call: Call, time: u64) -> OpId {
        self.ops.push(Operation {
            process,
            key: key.to_string(),
            call,
            outcome: Outcome::Open,
            invoke: time,
            complete: None,
        });
        self.ops.len() - 1
    }
    /// Records that `op` took effect (`read` is a read's value; ignored otherwise).
    pub fn ok(&mut self, op: OpId, read: Value, time: u64) {
        self.ops[op].outcome = Outcome::Ok(read);
        self.ops[op].complete = Some(time);
    }
    /// Records that `op` did not take effect.
    pub fn fail(&mut self, op: OpId, time: u64) {
        self.ops[op].outcome = Outcome::Fail;
        self.ops[op].complete = Some(time);
    }
    /// Records that `op` may or may not have taken effect.
    pub fn info(&mut self, op: OpId) {
        self.ops[op].outcome = Outcome::Info;
        self.ops[op].complete = None;
    }
}

/// Bounds of a check.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Wall time for the whole check (`None`: none).
    pub timeout: Option<Duration>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Some(Duration::from_secs(60)),
        }
    }
}

/// The verdict of a check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Linearizable: an order of the operations that took effect, key by key.
    Holds {
        /// Per key, the operations in the order found.
        order: BTreeMap<String, Vec<OpId>>,
    },
    /// Not linearizable: a set of operations (of one key) that no order explains.
    Violated {
        /// The key.
        key: String,
        /// The operations, by invocation.
        ops: Vec<OpId>,
        /// Whether the set is minimal (taking any one operation out explains the rest);
        /// false when time ran out while shrinking it.
        minimal: bool,
    },
    /// A limit was hit before the search ended.
    Unknown {
        /// Which limit.
        why: String,
    },
}

/// What a check found, and what it took.
#[derive(Clone, Debug)]
pub struct Report {
    /// The verdict.
    pub verdict: Verdict,
    /// Search steps taken (operations tried at a point of an order).
    pub steps: u64,
    /// Wall time.
    pub elapsed: Duration,
}

/// Checks `history` for linearizability, key by key.
pub fn check(history: &History, limits: &Limits) -> Report {
    let started = Instant::now();
    let deadline = limits.timeout.map(|t| started + t);
    let mut keys: BTreeMap<&str, Vec<OpId>> = BTreeMap::new();
    for (i, op) in history.ops.iter().enumerate() {
        keys.entry(op.key.as_str()).or_default().push(i);
    }
    let mut steps = 0;
    let mut order = BTreeMap::new();
    for (key, ids) in keys {
        match search(history, &ids, deadline, &mut steps) {
            Search::Order(o) => {
                order.insert(key.to_string(), o);
            }
            Search::Stuck => {
                let (ops, minimal) = shrink(history, ids, deadline, &mut steps);
                let verdict = Verdict::Violated {
                    key: key.to_string(),
                    ops,
                    minimal,
                };
                return report(verdict, steps, started);
            }
            Search::OutOfTime => return report(unknown(limits), steps, started),
        }
    }
    report(Verdict::Holds { order }, steps, started)
}

fn unknown(limits: &Limits) -> Verdict {
    let t = limits.timeout.map_or(0.0, |t| t.as_secs_f64());
    Verdict::Unknown {
        why: format!("timeout of {t}s reached before the search ended"),
    }
}

fn report(verdict: Verdict, steps: u64, started: Instant) -> Report {
    Report {
        verdict,
        steps,
        elapsed: started.elapsed(),
    }
}

/// A subset of `ids` that stays unexplained, shrunk until taking any one operation out
/// explains the rest: chunks are taken out first, halving their size (delta debugging),
/// then single operations. Where every value the history reads comes from one of its
/// writes, so must every value of the subset (a read left without its write is
/// unexplained for another reason than the order). If time runs out, the set shrunk so
/// far (unexplained still) and `false`.
fn shrink(
    history: &History,
    mut ids: Vec<OpId>,
    deadline: Option<Instant>,
    steps: &mut u64,
) -> (Vec<OpId>, bool) {
    let keep_sourced = sourced(history, &ids);
    let mut chunk = ids.len().div_ceil(2).max(1);
    loop {
        let mut start = 0;
        while start < ids.len() {
            let end = (start + chunk).min(ids.len());
            let mut fewer: Vec<OpId> = ids[..start].iter().chain(&ids[end..]).copied().collect();
            if keep_sourced {
                // Reads whose write went out go with it (they are unexplained anyway).
                fewer = sourced_part(history, fewer);
            }
            if fewer.is_empty() {
                start = end;
                continue;
            }
            match search(history, &fewer, deadline, steps) {
                Search::Stuck => ids = fewer,
                Search::Order(_) => start = end,
                Search::OutOfTime => return (ids, false),
            }
        }
        if chunk == 1 {
            return (ids, true);
        }
        chunk = chunk.div_ceil(2);
    }
}

/// Whether every value the operations `ids` read or compare against (nil aside) is
/// written by one of them.
fn sourced(history: &History, ids: &[OpId]) -> bool {
    sourced_part(history, ids.to_vec()).len() == ids.len()
}

/// The operations of `ids` left once every ok read or cas of a value (nil aside) that
/// none of them writes is taken out, again until none is left.
fn sourced_part(history: &History, mut ids: Vec<OpId>) -> Vec<OpId> {
    loop {
        let written: HashSet<i64> = (ids.iter().map(|&i| &history.ops[i]))
            .filter_map(|o| match o.call {
                Call::Write(w) | Call::Cas(_, w) => w,
                Call::Read => None,
            })
            .collect();
        let before = ids.len();
        ids.retain(|&i| {
            let o = &history.ops[i];
            match (o.call, o.outcome) {
                (Call::Read, Outcome::Ok(Some(v))) | (Call::Cas(Some(v), _), Outcome::Ok(_)) => {
                    written.contains(&v)
                }
                _ => true,
            }
        });
        if ids.len() == before {
            return ids;
        }
    }
}

/// An operation as the search sees it.
#[derive(Clone, Copy)]
struct Op {
    id: OpId,
    call: Call,
    /// The read's value, for an ok read; `None` for anything that returns nothing checked.
    read: Option<Value>,
}

impl Op {
    /// The register after this operation from `state`, or `None` if it cannot happen
    /// there (a read of another value, a cas that said ok against another value).
    fn step(&self, state: Value) -> Option<Value> {
        match (self.call, self.read) {
            (Call::Read, Some(v)) => (v == state).then_some(state),
            (Call::Read, None) => Some(state),
            (Call::Write(v), _) => Some(v),
            (Call::Cas(from, to), Some(_)) => (from == state).then_some(to),
            // An info cas: it took effect if it could, or it did not.
            (Call::Cas(from, to), None) => Some(if from == state { to } else { state }),
        }
    }
}

enum Search {
    Order(Vec<OpId>),
    Stuck,
    OutOfTime,
}

/// One call or return of the list the search walks.
#[derive(Clone, Copy)]
struct Entry {
    /// The operation (index into `ops`).
    op: usize,
    /// A call (the return is its partner).
    call: bool,
    /// The partner entry: a call's return, a return's call.
    partner: usize,
    prev: usize,
    next: usize,
}

/// The operations of `ids` that the check reads: fails and unanswered reads left out,
/// info operations returning after everything.
fn entries(history: &History, ids: &[OpId]) -> (Vec<Op>, Vec<Entry>) {
    let mut ops = Vec::new();
    let mut events: Vec<(u64, bool, usize)> = Vec::new(); // (time, is return, op)
    for &id in ids {
        let o = &history.ops[id];
        let read = match (o.call, o.outcome) {
            (_, Outcome::Fail) => continue,
            (Call::Read, Outcome::Ok(v)) => Some(v),
            (Call::Read, _) => continue,
            (_, Outcome::Ok(_)) => Some(None),
            _ => None,
        };
        let complete = o.complete.filter(|_| matches!(o.outcome, Outcome::Ok(_)));
        events.push((o.invoke, false, ops.len()));
        events.push((complete.unwrap_or(u64::MAX), true, ops.len()));
        ops.push(Op {
            id,
            call: o.call,
            read,
        });
    }
    // Calls before returns at equal times: such operations are taken as concurrent.
    events.sort_by_key(|&(t, ret, op)| (t, ret, op));
    // Entry 0 is the head; the events follow.
    let n = events.len();
    let mut list = vec![
        Entry {
            op: usize::MAX,
            call: false,
            partner: 0,
            prev: 0,
            next: if n > 0 { 1 } else { usize::MAX },
        };
        n + 1
    ];
    let mut call_at = vec![0; ops.len()];
    for (i, &(_, ret, op)) in events.iter().enumerate() {
        let e = i + 1;
        list[e] = Entry {
            op,
            call: !ret,
            partner: 0,
            prev: e - 1,
            next: if e < n { e + 1 } else { usize::MAX },
        };
        if ret {
            let c = call_at[op];
            list[e].partner = c;
            list[c].partner = e;
        } else {
            call_at[op] = e;
        }
    }
    (ops, list)
}

/// Takes a call and its return out of the list.
fn lift(list: &mut [Entry], call: usize) {
    for e in [call, list[call].partner] {
        let (p, n) = (list[e].prev, list[e].next);
        list[p].next = n;
        if n != usize::MAX {
            list[n].prev = p;
        }
    }
}

/// Puts back a call and its return lifted by [`lift`] (the reverse order).
fn unlift(list: &mut [Entry], call: usize) {
    for e in [list[call].partner, call] {
        let (p, n) = (list[e].prev, list[e].next);
        list[p].next = e;
        if n != usize::MAX {
            list[n].prev = e;
        }
    }
}

/// Wing and Gong's search with Lowe's cache over the operations `ids` of one key.
fn search(history: &History, ids: &[OpId], deadline: Option<Instant>, steps: &mut u64) -> Search {
    let (ops, mut list) = entries(history, ids);
    let words = ops.len().div_ceil(64);
    let mut linearized = vec![0u64; words];
    let mut cache: HashSet<(Vec<u64>, Value)> = HashSet::new();
    let mut calls: Vec<(usize, Value)> = Vec::new(); // (call entry, state before it)
    let mut state: Value = None;
    let mut entry = list[0].next;
    while list[0].next != usize::MAX {
        *steps += 1;
        if *steps % 4096 == 0 && deadline.is_some_and(|d| Instant::now() > d) {
            return Search::OutOfTime;
        }
        if entry == usize::MAX {
            return Search::Stuck; // unreachable: a return ends every walk
        }
        let e = list[entry];
        if e.call {
            let op = ops[e.op];
            if let Some(next) = op.step(state) {
                linearized[e.op / 64] |= 1 << (e.op % 64);
                if cache.insert((linearized.clone(), next)) {
                    calls.push((entry, state));
                    state = next;
                    lift(&mut list, entry);
                    entry = list[0].next;
                    continue;
                }
                linearized[e.op / 64] &= !(1 << (e.op % 64));
            }
            entry = e.next;
        } else {
            // A return reached: some call before it must be taken back.
            let Some((call, before)) = calls.pop() else {
                return Search::Stuck;
            };
            let op = list[call].op;
            linearized[op / 64] &= !(1 << (op % 64));
            state = before;
            unlift(&mut list, call);
            entry = list[call].next;
        }
    }
    Search::Order(calls.iter().map(|&(c, _)| ops[list[c].op].id).collect())
}

/// Words for a value ("nil", "3").
pub fn value_words(v: Value) -> String {
    v.map_or_else(|| "nil".to_string(), |v| v.to_string())
}

impl Operation {
    /// The operation in words ("write 3", "read -> 3", "cas 1->2 (info)").
    pub fn words(&self) -> String {
        let call = match self.call {
            Call::Read => "read".to_string(),
            Call::Write(v) => format!("write {}", value_words(v)),
            Call::Cas(a, b) => format!("cas {}->{}", value_words(a), value_words(b)),
        };
        match (self.call, self.outcome) {
            (Call::Read, Outcome::Ok(v)) => format!("{call} -> {}", value_words(v)),
            (_, Outcome::Ok(_)) => format!("{call} ok"),
            (_, Outcome::Fail) => format!("{call} failed"),
            (_, Outcome::Info | Outcome::Open) => {
                format!("{call} (info: may or may not have happened)")
            }
        }
    }
}

/// The operations `ids` drawn on a shared time line: one row each, from invocation `[`
/// to completion `]` (an info operation runs on to the end, `>`).
pub fn timeline(history: &History, ids: &[OpId]) -> String {
    let mut times: Vec<u64> = ids.iter().map(|&i| history.ops[i].invoke).collect();
    times.extend(ids.iter().filter_map(|&i| history.ops[i].complete));
    times.sort_unstable();
    times.dedup();
    let col = |t: u64| times.binary_search(&t).unwrap_or(0) * 4;
    let width = times.len() * 4;
    let label = |i: OpId| {
        format!(
            "process {} {}",
            history.ops[i].process,
            history.ops[i].words()
        )
    };
    let label_width = ids
        .iter()
        .map(|&i| label(i).chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for &i in ids {
        let o = &history.ops[i];
        let from = col(o.invoke);
        let (to, end) = match o.complete {
            Some(t) => (col(t), ']'),
            None => (width, '>'),
        };
        let mut bar = " ".repeat(from);
        bar.push('[');
        bar.push_str(&"-".repeat(to.saturating_sub(from + 1)));
        bar.push(end);
        let when = match o.complete {
            Some(t) => format!("  t={}..{t}", o.invoke),
            None => format!("  t={}..", o.invoke),
        };
        out.push_str(&format!(
            "  {:<label_width$}  {bar:<w$}{when}\n",
            label(i),
            w = width + 1
        ));
    }
    out
}

impl Report {
    /// The verdict told for a reader: what holds, or the operations that cannot be
    /// ordered on their time line.
    pub fn to_text(&self, history: &History) -> String {
        let figures = format!(
            "{} search steps, {:.3}s",
            self.steps,
            self.elapsed.as_secs_f64()
        );
        match &self.verdict {
            Verdict::Holds { order } => {
                let ops: usize = order.values().map(Vec::len).sum();
                format!(
                    "linearizable  HOLDS  ({} operations took part, {} keys; {figures})\n",
                    ops,
                    order.len()
                )
            }
            Verdict::Violated { key, ops, minimal } => format!(
                "linearizable  VIOLATED  ({figures})\n  these {} operations on key {key} cannot be put in one order that respects real time {}:\n{}",
                ops.len(),
                if *minimal {
                    "(a smallest set: taking any one away leaves operations that can be ordered, or a read without its write)"
                } else {
                    "(time ran out while looking for a smaller set)"
                },
                timeline(history, ops)
            )
            .replace("these 1 operations", "this operation"),
            Verdict::Unknown { why } => format!("linearizable  UNKNOWN  ({why}; {figures})\n"),
        }
    }

    /// The verdict as JSON: `property`, `verdict`, `steps`, `seconds`, and `order` (per
    /// key) or `key` and `ops`, or `why`.
    pub fn to_json(&self, history: &History) -> serde_json::Value {
        use serde_json::json;
        let op = |i: &OpId| {
            let o = &history.ops[*i];
            json!({"op": i, "process": o.process, "key": o.key, "what": o.words(), "invoke": o.invoke, "complete": o.complete})
        };
        let mut v = json!({
            "property": "linearizable",
            "steps": self.steps,
            "seconds": self.elapsed.as_secs_f64(),
        });
        match &self.verdict {
            Verdict::Holds { order } => {
                v["verdict"] = json!("holds");
                v["order"] = json!(order);
            }
            Verdict::Violated { key, ops, minimal } => {
                v["verdict"] = json!("violated");
                v["key"] = json!(key);
                v["minimal"] = json!(minimal);
                v["ops"] = ops.iter().map(op).collect();
            }
            Verdict::Unknown { why } => {
                v["verdict"] = json!("unknown");
                v["why"] = json!(why);
            }
        }
        v
    }

    /// The exit code: 0 holds, 1 violated, 3 unknown.
    pub fn exit_code(&self) -> i32 {
        match self.verdict {
            Verdict::Holds { .. } => 0,
            Verdict::Violated { .. } => 1,
            Verdict::Unknown { .. } => 3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(h: &History) -> Verdict {
        check(h, &Limits::default()).verdict
    }

    #[test]
    fn concurrent_writes_may_be_read_in_either_order() {
        let mut h = History::new();
        let a = h.invoke(0, "x", Call::Write(Some(1)), 0);
        let b = h.invoke(1, "x", Call::Write(Some(2)), 1);
        h.ok(a, None, 5);
        h.ok(b, None, 6);
        let r = h.invoke(2, "x", Call::Read, 7);
        h.ok(r, Some(1), 8);
        assert!(matches!(verdict(&h), Verdict::Holds { .. }));
    }

    #[test]
    fn a_stale_read_after_a_write_returned_is_found_with_a_minimal_set() {
        let mut h = History::new();
        let w = h.invoke(0, "x", Call::Write(Some(1)), 0);
        h.ok(w, None, 1);
        let other = h.invoke(1, "y", Call::Write(Some(5)), 2);
        h.ok(other, None, 3);
        let r = h.invoke(2, "x", Call::Read, 4);
        h.ok(r, None, 5);
        let Verdict::Violated { key, ops, .. } = verdict(&h) else {
            panic!("violated")
        };
        assert_eq!((key.as_str(), ops), ("x", vec![w, r]));
    }

    #[test]
    fn info_operations_may_or_may_not_have_happened() {
        let mut h = History::new();
        let w = h.invoke(0, "x", Call::Write(Some(1)), 0);
        h.info(w);
        let r = h.invoke(1, "x", Call::Read, 5);
        h.ok(r, None, 6);
        let r2 = h.invoke(1, "x", Call::Read, 7);
        h.ok(r2, Some(1), 8);
        assert!(matches!(verdict(&h), Verdict::Holds { .. }));
        // But once 1 was read, nil cannot come back.
        let r3 = h.invoke(1, "x", Call::Read, 9);
        h.ok(r3, None, 10);
        assert!(matches!(verdict(&h), Verdict::Violated { .. }));
    }

    #[test]
    fn cas_chains_and_failed_cas() {
        let mut h = History::new();
        let w = h.invoke(0, "x", Call::Write(Some(0)), 0);
        h.ok(w, None, 1);
        let c1 = h.invoke(1, "x", Call::Cas(Some(0), Some(1)), 2);
        let c2 = h.invoke(2, "x", Call::Cas(Some(1), Some(2)), 2);
        h.ok(c2, None, 3);
        h.ok(c1, None, 4);
        let f = h.invoke(3, "x", Call::Cas(Some(7), Some(9)), 5);
        h.fail(f, 6);
        let r = h.invoke(0, "x", Call::Read, 7);
        h.ok(r, Some(2), 8);
        assert!(matches!(verdict(&h), Verdict::Holds { .. }));
        let bad = h.invoke(0, "x", Call::Cas(Some(0), Some(5)), 9);
        h.ok(bad, None, 10);
        assert!(matches!(verdict(&h), Verdict::Violated { .. }));
    }
}
