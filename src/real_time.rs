//! The real-time order of a run's register operations, which `linearizable` judges.
//!
//! Stateright's linearizability tester keeps, per thread, the operations it completed and
//! for each the threads that had completed one before it began, in nested ordered maps.
//! Copying it at every client step of every state was a fifth of the search on the
//! read-replica model. A [`RealTime`] keeps the same history as a list of events shared
//! between a state and its successors (a step adds one entry and copies nothing), with a
//! hash kept up to date as it grows. The tester is built from the events only when a
//! verdict is needed, once per distinct history.
//!
//! Two histories are equal when the testers built from them are equal. Where every
//! attempt is invoked at most once and returns at most once, after it was invoked (every
//! history the models record), that tester holds exactly the set of operations, each
//! with its reply if it has one and the set of operations that had returned before it
//! began; the hash is a sum over that set, so equal histories hash equal whatever order
//! their events came in. Any other history is hashed through its tester.

use crate::history::ReqId;
use stateright::semantics::register::{Register, RegisterOp, RegisterRet};
use stateright::semantics::{ConsistencyTester, LinearizabilityTester};
use std::hash::{BuildHasher, Hash};
use std::sync::{Arc, OnceLock};

/// The real-time history of register operations, as stateright's linearizability tester
/// holds it. Every attempt is its own thread: a timed-out attempt stays in flight (it
/// may or may not have taken effect) without blocking the client's next request.
pub type RegisterHistory = LinearizabilityTester<ReqId, Register<u8>>;

/// One event of a history.
#[derive(Clone, Debug)]
enum Event {
    /// An attempt began (the sum of the hashes of the attempts returned by then).
    Invoke(ReqId, RegisterOp<u8>, u64),
    /// An attempt returned.
    Return(ReqId, RegisterRet<u8>),
}

impl Event {
    /// The attempt the event is about.
    fn attempt(&self) -> ReqId {
        match self {
            Event::Invoke(id, ..) | Event::Return(id, _) => *id,
        }
    }
}

/// What is known of a history: its hash, the sum of the hashes of the attempts returned,
/// and whether it is simple (see the module documentation).
#[derive(Clone, Copy)]
struct Summary {
    hash: u64,
    returned: u64,
    simple: bool,
}

impl Summary {
    /// The summary after `event`; `newest_about` finds the newest earlier event about an
    /// attempt. The hash is worth nothing once the history is not simple.
    fn then(self, event: &Event, newest_about: impl Fn(ReqId) -> Option<Event>) -> Summary {
        let Summary {
            mut hash,
            mut returned,
            mut simple,
        } = self;
        match event {
            Event::Invoke(id, op, _) => {
                simple &= newest_about(*id).is_none();
                hash = hash.wrapping_add(operation_part(*id, op, None, returned));
            }
            Event::Return(id, ret) => match newest_about(*id) {
                Some(Event::Invoke(_, op, before)) => {
                    hash = hash
                        .wrapping_sub(operation_part(*id, &op, None, before))
                        .wrapping_add(operation_part(*id, &op, Some(ret), before));
                    returned = returned.wrapping_add(attempt_hash(*id));
                }
                _ => simple = false,
            },
        }
        Summary {
            hash,
            returned,
            simple,
        }
    }
}

/// What a history kept as judged changes by: an attempt, and what it began (`false`) or
/// returned (`true`).
type JudgedEvent = (ReqId, bool, Option<u8>);

fn judged_event(event: &Event) -> JudgedEvent {
    match event {
        Event::Invoke(id, op, _) => (*id, false, reg_op(op)),
        Event::Return(id, ret) => (*id, true, reg_ret(ret)),
    }
}

/// Steps of histories kept as judged, worked out once: far fewer histories are kept
/// than states carry them. Keyed by the history's hash, as states are told apart.
type JudgedSteps = std::collections::HashMap<(u64, JudgedEvent), Arc<Linearizations>>;

/// Entries [`JUDGED_STEPS`] holds at most before it starts again.
const JUDGED_STEPS_KEPT: usize = 1 << 18;

static JUDGED_STEPS: std::sync::RwLock<Option<JudgedSteps>> = std::sync::RwLock::new(None);

impl Linearizations {
    /// The history `judged` after `event`.
    fn after(judged: &Arc<Linearizations>, event: JudgedEvent) -> Arc<Linearizations> {
        let key = (judged.key, event);
        if let Some(next) = JUDGED_STEPS
            .read()
            .ok()
            .and_then(|steps| steps.as_ref()?.get(&key).cloned())
        {
            return next;
        }
        let mut next = (**judged).clone();
        next.apply(event);
        let next = Arc::new(next);
        if let Ok(mut steps) = JUDGED_STEPS.write() {
            let steps = steps.get_or_insert_with(Default::default);
            if steps.len() >= JUDGED_STEPS_KEPT {
                steps.clear();
            }
            steps.insert(key, next.clone());
        }
        next
    }
}

/// An event, with the history before it and what is known of the history up to it.
#[derive(Debug)]
struct Entry {
    event: Event,
    before: Option<Arc<Entry>>,
    /// The history's hash up to this event.
    hash: u64,
    /// The sum of the hashes of the attempts returned up to this event.
    returned: u64,
    /// Whether every attempt so far was invoked at most once and returned at most once,
    /// after it was invoked (see the module documentation).
    simple: bool,
}

/// The real-time history a state carries (see the module documentation), with its
/// linearizability verdict worked out once and shared by the states that share it.
#[derive(Debug, Default)]
pub struct RealTime {
    last: Option<Arc<Entry>>,
    consistent: OnceLock<bool>,
    /// Once [`RealTime::keep_as_judged`]: the history as `linearizable` will ever judge it,
    /// kept up to date as events come; the history is then told apart by it alone.
    judged: Option<Arc<Linearizations>>,
}

/// An operation as the register runs it: the value written, or `None` for a read.
type RegOp = Option<u8>;

/// What an operation returned: the value read, or `None` for a write's acknowledgement.
type RegRet = Option<u8>;

fn reg_op(op: &RegisterOp<u8>) -> RegOp {
    match op {
        RegisterOp::Write(v) => Some(*v),
        RegisterOp::Read => None,
    }
}

fn reg_ret(ret: &RegisterRet<u8>) -> RegRet {
    match ret {
        RegisterRet::ReadOk(v) => Some(*v),
        RegisterRet::WriteOk => None,
    }
}

/// One way the operations so far could have taken effect: the register's value after
/// them, and which of the attempts still in flight already took effect, each with what
/// it returned then (sorted by attempt).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Linearization {
    value: u8,
    taken: Vec<(ReqId, RegRet)>,
}

/// A history kept as what any verdict on it or on its extensions depends on (Lowe's
/// just-in-time linearization): the attempts in flight, and every way the operations so
/// far could have taken effect in one order respecting real time. An attempt in flight
/// may take effect at any moment before it returns, so the set is closed under taking
/// one more; a return keeps the ways in which the attempt took effect with what it
/// returned. The history is linearizable exactly while some way is left, and two
/// histories with the same attempts in flight and the same ways get the same verdict
/// after any further events: the ways after an event are a function of the ways before
/// and the event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Linearizations {
    /// Attempts invoked and not returned, with their operations, sorted by attempt.
    pending: Vec<(ReqId, RegOp)>,
    /// Sorted, without repeats; empty once no order explains the history.
    ways: Vec<Linearization>,
    /// The hash the history is told apart by (of the two fields above).
    key: u64,
}

impl Linearizations {
    /// An empty history of a register starting at 0.
    fn new() -> Self {
        let mut l = Linearizations {
            pending: Vec::new(),
            ways: vec![Linearization {
                value: 0,
                taken: Vec::new(),
            }],
            key: 0,
        };
        l.close();
        l
    }

    /// No order explains the history, whatever comes next: every such history is kept
    /// the same.
    fn broken(&mut self) {
        self.pending.clear();
        self.ways.clear();
        self.key = self.work_out_key();
    }

    /// Adds every way reached by one more attempt in flight taking effect, until none is
    /// new.
    fn close(&mut self) {
        let mut i = 0;
        while i < self.ways.len() {
            for &(id, op) in &self.pending {
                let way = &self.ways[i];
                let Err(at) = way.taken.binary_search_by(|(t, _)| t.cmp(&id)) else {
                    continue;
                };
                let (value, ret) = match op {
                    Some(v) => (v, None),
                    None => (way.value, Some(way.value)),
                };
                let mut taken = Vec::with_capacity(way.taken.len() + 1);
                taken.extend_from_slice(&way.taken[..at]);
                taken.push((id, ret));
                taken.extend_from_slice(&way.taken[at..]);
                let next = Linearization { value, taken };
                if !self.ways.contains(&next) {
                    self.ways.push(next);
                }
            }
            i += 1;
        }
        self.ways.sort_unstable();
        self.key = self.work_out_key();
    }

    /// Attempt `id` began `op`.
    fn invoke(&mut self, id: ReqId, op: RegOp) {
        if self.ways.is_empty() {
            return;
        }
        match self.pending.binary_search_by(|(p, _)| p.cmp(&id)) {
            // Invoked twice while in flight: stateright's tester calls that invalid.
            Ok(_) => self.broken(),
            Err(at) => {
                self.pending.insert(at, (id, op));
                self.close();
            }
        }
    }

    /// Attempt `id` returned `ret`.
    fn ret(&mut self, id: ReqId, ret: RegRet) {
        if self.ways.is_empty() {
            return;
        }
        let Ok(at) = self.pending.binary_search_by(|(p, _)| p.cmp(&id)) else {
            // A return of nothing in flight: invalid.
            return self.broken();
        };
        self.pending.remove(at);
        let mut ways = std::mem::take(&mut self.ways);
        ways.retain_mut(
            |way| match way.taken.iter().position(|&(t, r)| t == id && r == ret) {
                Some(i) => {
                    way.taken.remove(i);
                    true
                }
                None => false,
            },
        );
        ways.sort_unstable();
        ways.dedup();
        if ways.is_empty() {
            return self.broken();
        }
        self.ways = ways;
        self.key = self.work_out_key();
    }

    /// The same after `event`.
    fn apply(&mut self, event: JudgedEvent) {
        match event {
            (id, false, op) => self.invoke(id, op),
            (id, true, ret) => self.ret(id, ret),
        }
    }

    /// Whether some order explains the history.
    fn consistent(&self) -> bool {
        !self.ways.is_empty()
    }

    /// The hash a history kept this way is told apart by.
    fn key(&self) -> u64 {
        self.key
    }

    fn work_out_key(&self) -> u64 {
        hasher().hash_one((0x1au8, &self.pending, &self.ways))
    }
}

fn hasher() -> foldhash::fast::FixedState {
    foldhash::fast::FixedState::with_seed(0x7e41_71e0_0b5e_55ed)
}

/// The share of one operation in the hash of a simple history.
fn operation_part(
    id: ReqId,
    op: &RegisterOp<u8>,
    ret: Option<&RegisterRet<u8>>,
    returned_before: u64,
) -> u64 {
    hasher().hash_one((id, op, ret, returned_before))
}

/// The hash of an attempt in the sets of attempts returned before another began.
fn attempt_hash(id: ReqId) -> u64 {
    hasher().hash_one((0xa7u8, id))
}

impl RealTime {
    /// An empty history of a register starting at 0.
    pub fn new() -> Self {
        RealTime::default()
    }

    /// The events, oldest first.
    fn events(&self) -> Vec<Event> {
        let mut out: Vec<Event> = self.entries().map(|e| e.event.clone()).collect();
        out.reverse();
        out
    }

    /// The entries, newest first.
    fn entries(&self) -> impl Iterator<Item = &Entry> {
        std::iter::successors(self.last.as_deref(), |e| e.before.as_deref())
    }

    /// Stateright's tester, fed this history's events in order.
    pub fn tester(&self) -> RegisterHistory {
        let mut tester = LinearizabilityTester::new(Register(0));
        for event in self.events() {
            // An invalid history stays invalid: the tester remembers it.
            let _ = match event {
                Event::Invoke(id, op, _) => tester.on_invoke(id, op),
                Event::Return(id, ret) => tester.on_return(id, ret),
            };
        }
        tester
    }

    /// What is known of the history so far (an empty one: nothing).
    fn summary(&self) -> Summary {
        self.last.as_deref().map_or(
            Summary {
                hash: 0,
                returned: 0,
                simple: true,
            },
            |e| Summary {
                hash: e.hash,
                returned: e.returned,
                simple: e.simple,
            },
        )
    }

    /// The newest event of this history about attempt `id`.
    fn newest_about(&self, id: ReqId) -> Option<&Event> {
        self.entries().map(|e| &e.event).find(|e| e.attempt() == id)
    }

    /// Adds an event.
    fn push(&mut self, event: Event) {
        let summary = self
            .summary()
            .then(&event, |id| self.newest_about(id).cloned());
        let event = match event {
            Event::Invoke(id, op, _) => Event::Invoke(id, op, self.summary().returned),
            other => other,
        };
        if let Some(judged) = self.judged.as_mut() {
            *judged = Linearizations::after(judged, judged_event(&event));
        }
        self.last = Some(Arc::new(Entry {
            event,
            before: self.last.take(),
            hash: summary.hash,
            returned: summary.returned,
            simple: summary.simple,
        }));
        if !summary.simple {
            // Hashed through the tester (no model records such a history).
            let hash = hasher().hash_one((0x5eu8, self.tester()));
            if let Some(last) = self.last.as_mut().and_then(Arc::get_mut) {
                last.hash = hash;
            }
        }
        self.consistent = OnceLock::new();
    }

    /// The hash this history would have after `returns`, then `invokes`, without
    /// recording them; `None` if that history would not be simple (see the module
    /// documentation).
    pub(crate) fn hash_after(
        &self,
        returns: &[(ReqId, RegisterRet<u8>)],
        invokes: &[(ReqId, RegisterOp<u8>)],
    ) -> Option<u64> {
        if let Some(judged) = &self.judged {
            let mut next = judged.clone();
            for (id, ret) in returns {
                next = Linearizations::after(&next, (*id, true, reg_ret(ret)));
            }
            for (id, op) in invokes {
                next = Linearizations::after(&next, (*id, false, reg_op(op)));
            }
            return Some(next.key());
        }
        let events = returns
            .iter()
            .map(|(id, ret)| Event::Return(*id, ret.clone()))
            .chain(
                invokes
                    .iter()
                    .map(|(id, op)| Event::Invoke(*id, op.clone(), 0)),
            );
        // The events taken so far, each invocation with what had returned when it began.
        let mut taken: Vec<Event> = Vec::new();
        let mut summary = self.summary();
        for event in events {
            let returned = summary.returned;
            summary = summary.then(&event, |id| {
                let in_batch = taken.iter().rev().find(|e| e.attempt() == id);
                in_batch.or_else(|| self.newest_about(id)).cloned()
            });
            taken.push(match event {
                Event::Invoke(id, op, _) => Event::Invoke(id, op, returned),
                other => other,
            });
        }
        summary.simple.then_some(summary.hash)
    }

    /// Records that attempt `id` began operation `op`.
    pub fn invoked(&mut self, id: ReqId, op: RegisterOp<u8>) {
        self.push(Event::Invoke(id, op, 0));
    }

    /// Records that attempt `id` returned `ret`.
    pub fn returned(&mut self, id: ReqId, ret: RegisterRet<u8>) {
        self.push(Event::Return(id, ret));
    }

    /// Whether some single order of the operations, respecting real time, explains
    /// every value read (computed on first use).
    pub fn is_consistent(&self) -> bool {
        *self.consistent.get_or_init(|| match &self.judged {
            Some(judged) => judged.consistent(),
            None => self.tester().is_consistent(),
        })
    }

    /// From now on, this history and those that extend it are told apart only by what
    /// `linearizable` will ever judge of them ([`Linearizations`]): histories that differ
    /// only in orders no verdict depends on are one. False if it was kept so already.
    pub(crate) fn keep_as_judged(&mut self) -> bool {
        if self.judged.is_some() {
            return false;
        }
        self.judged = Some(Arc::new(self.judged_from_events()));
        true
    }

    /// This history's events, kept as judged from the empty history on.
    fn judged_from_events(&self) -> Linearizations {
        let mut judged = Linearizations::new();
        for event in self.events() {
            judged.apply(judged_event(&event));
        }
        judged
    }

    /// Whether the history is kept as judged ([`RealTime::keep_as_judged`]).
    pub(crate) fn is_judged(&self) -> bool {
        self.judged.is_some()
    }

    /// Whether some order explains the history, by just-in-time linearization (see
    /// [`Linearizations`]); the audit compares it with stateright's tester.
    pub(crate) fn consistent_as_judged(&self) -> bool {
        self.judged_from_events().consistent()
    }

    /// The verdict, if it was worked out or given.
    pub(crate) fn known_verdict(&self) -> Option<bool> {
        self.consistent.get().copied()
    }

    /// Gives the verdict worked out for an equal history; returns it.
    pub(crate) fn set_verdict(&self, verdict: bool) -> bool {
        *self.consistent.get_or_init(|| verdict)
    }

    /// The history's hash (equal histories hash equal).
    pub fn history_hash(&self) -> u64 {
        match &self.judged {
            Some(judged) => judged.key(),
            None => self.last.as_deref().map_or(0, |e| e.hash),
        }
    }
}

impl Clone for RealTime {
    fn clone(&self) -> Self {
        RealTime {
            last: self.last.clone(),
            consistent: self.consistent.clone(),
            judged: self.judged.clone(),
        }
    }
}

impl PartialEq for RealTime {
    fn eq(&self, other: &Self) -> bool {
        if let (Some(a), Some(b)) = (&self.judged, &other.judged) {
            return a == b;
        }
        match (&self.last, &other.last) {
            (None, None) => true,
            (Some(a), Some(b)) if Arc::ptr_eq(a, b) => true,
            _ => self.history_hash() == other.history_hash() && self.tester() == other.tester(),
        }
    }
}

impl Eq for RealTime {}

impl Hash for RealTime {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        h.write_u64(self.history_hash());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(client: u8, seq: u8) -> ReqId {
        ReqId {
            client,
            seq,
            attempt: 0,
        }
    }

    /// `h` followed by what `steps` records.
    fn then(h: &RealTime, steps: impl FnOnce(&mut RealTime)) -> RealTime {
        let mut next = h.clone();
        steps(&mut next);
        next
    }

    /// Asserts that `x` and `y` are equal, and hash equal, exactly when their testers are
    /// equal, and that this is `equal`.
    fn agree(x: &RealTime, y: &RealTime, equal: bool) {
        assert_eq!(x.tester() == y.tester(), equal);
        assert_eq!(x == y, equal);
        assert_eq!(x.history_hash() == y.history_hash(), equal);
    }

    /// `h` followed by `x` then `y`, and by `y` then `x`; asserts that the two agree as
    /// `equal` says ([`agree`]) and returns the first.
    fn in_either_order(
        h: &RealTime,
        x: impl Fn(&mut RealTime),
        y: impl Fn(&mut RealTime),
        equal: bool,
    ) -> RealTime {
        let first = then(h, |h| {
            x(h);
            y(h);
        });
        let second = then(h, |h| {
            y(h);
            x(h);
        });
        agree(&first, &second, equal);
        first
    }

    /// Equal testers, equal histories and hashes; different testers, different ones.
    #[test]
    fn histories_are_equal_when_their_testers_are() {
        let (a, b, c) = (id(0, 0), id(1, 0), id(2, 0));
        // Two invocations with nothing returned between them: either order.
        let one = in_either_order(
            &RealTime::new(),
            |h| h.invoked(a, RegisterOp::Write(1)),
            |h| h.invoked(b, RegisterOp::Read),
            true,
        );
        // b returns and c begins: c after b's return is another history than c before it.
        in_either_order(
            &one,
            |h| h.returned(b, RegisterRet::ReadOk(0)),
            |h| h.invoked(c, RegisterOp::Read),
            false,
        );
        // Returns in either order with nothing invoked between them.
        let five = in_either_order(
            &one,
            |h| h.returned(a, RegisterRet::WriteOk),
            |h| h.returned(b, RegisterRet::ReadOk(0)),
            true,
        );
        agree(&five, &one, false);
        assert!(five.is_consistent());
    }

    /// A history no model records (an attempt invoked twice) is judged and hashed through
    /// stateright's tester, which calls it invalid.
    #[test]
    fn unusual_histories_go_through_the_tester() {
        let a = id(0, 0);
        let g = then(&RealTime::new(), |h| h.invoked(a, RegisterOp::Write(1)));
        let twice = then(&g, |h| h.invoked(a, RegisterOp::Write(2)));
        assert!(!twice.is_consistent());
        agree(&twice, &g, false);
        agree(
            &twice,
            &then(&g, |h| h.invoked(a, RegisterOp::Write(2))),
            true,
        );
        let unasked = then(&RealTime::new(), |h| h.returned(a, RegisterRet::WriteOk));
        assert!(!unasked.is_consistent());
    }

    /// A read that no order explains is caught.
    #[test]
    fn a_stale_read_after_a_write_returned_is_not_linearizable() {
        let (w, r) = (id(0, 0), id(1, 0));
        let h = then(&RealTime::new(), |h| {
            h.invoked(w, RegisterOp::Write(1));
            h.returned(w, RegisterRet::WriteOk);
            h.invoked(r, RegisterOp::Read);
            h.returned(r, RegisterRet::ReadOk(0));
        });
        assert!(!h.is_consistent());
    }

    /// A history: each entry either begins the next attempt of `attempt` (a write of
    /// `value`, or a read) if it is not in flight, or returns it (a read returning
    /// `value`); `odd` events are a return of an attempt never invoked.
    fn history(events: &[(u8, bool, u8, bool)]) -> Vec<RealTime> {
        let mut h = RealTime::new();
        let mut judged = RealTime::new();
        judged.keep_as_judged();
        let mut in_flight: Vec<Option<RegisterOp<u8>>> = vec![None; 4];
        let mut out = Vec::new();
        for &(attempt, write, value, odd) in events {
            let a = usize::from(attempt % 4);
            let (id, never) = (id(attempt % 4, 0), id(9, 0));
            let record = |h: &mut RealTime| {
                if odd {
                    h.returned(never, RegisterRet::WriteOk);
                } else if let Some(op) = &in_flight[a] {
                    let ret = match op {
                        RegisterOp::Write(_) => RegisterRet::WriteOk,
                        RegisterOp::Read => RegisterRet::ReadOk(value),
                    };
                    h.returned(id, ret);
                } else if write {
                    h.invoked(id, RegisterOp::Write(value));
                } else {
                    h.invoked(id, RegisterOp::Read);
                }
            };
            record(&mut h);
            record(&mut judged);
            in_flight[a] = match (&in_flight[a], odd) {
                (_, true) => in_flight[a].clone(),
                (Some(_), _) => None,
                (None, _) => Some(if write {
                    RegisterOp::Write(value)
                } else {
                    RegisterOp::Read
                }),
            };
            out.push(h.clone());
            out.push(judged.clone());
        }
        out
    }

    proptest::proptest! {
        /// Kept as judged (incrementally, or worked out from the events), a history gets
        /// stateright's tester's verdict, after every event.
        #[test]
        fn histories_kept_as_judged_get_the_testers_verdict(
            events in proptest::collection::vec(
                (0u8..4, proptest::bool::ANY, 0u8..3, proptest::bool::weighted(0.03)),
                0..14,
            )
        ) {
            for pair in history(&events).chunks(2) {
                let (plain, judged) = (&pair[0], &pair[1]);
                let verdict = plain.tester().is_consistent();
                proptest::prop_assert_eq!(plain.consistent_as_judged(), verdict);
                proptest::prop_assert_eq!(judged.is_consistent(), verdict);
                proptest::prop_assert!(judged.is_judged() && !plain.is_judged());
            }
        }
    }

    /// Kept as judged, histories whose real-time orders differ only where no verdict can
    /// tell are one; where a verdict can tell, they stay apart.
    #[test]
    fn histories_kept_as_judged_are_one_where_no_verdict_tells_them_apart() {
        let (w, r) = (id(0, 0), id(1, 0));
        let judged = || {
            let mut h = RealTime::new();
            h.keep_as_judged();
            h
        };
        // The read of 0 ends before the write begins, or while it is in flight: the
        // testers differ, but either way the write may still take effect or not.
        let before = then(&judged(), |h| {
            h.invoked(r, RegisterOp::Read);
            h.returned(r, RegisterRet::ReadOk(0));
            h.invoked(w, RegisterOp::Write(1));
        });
        let during = then(&judged(), |h| {
            h.invoked(w, RegisterOp::Write(1));
            h.invoked(r, RegisterOp::Read);
            h.returned(r, RegisterRet::ReadOk(0));
        });
        assert!(before.tester() != during.tester());
        assert_eq!(before, during);
        assert_eq!(before.history_hash(), during.history_hash());
        // Reading 1 instead: the write must have taken effect, another history.
        let read_one = then(&judged(), |h| {
            h.invoked(w, RegisterOp::Write(1));
            h.invoked(r, RegisterOp::Read);
            h.returned(r, RegisterRet::ReadOk(1));
        });
        assert_ne!(read_one, during);
        assert_ne!(read_one.history_hash(), during.history_hash());
        // Every history no order explains is one.
        let stale = then(&read_one, |h| {
            h.returned(w, RegisterRet::WriteOk);
            h.invoked(id(2, 0), RegisterOp::Read);
            h.returned(id(2, 0), RegisterRet::ReadOk(0));
        });
        let unasked = then(&judged(), |h| h.returned(w, RegisterRet::WriteOk));
        assert!(!stale.is_consistent() && !unasked.is_consistent());
        assert_eq!(stale, unasked);
    }
}
