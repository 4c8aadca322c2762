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
        *self
            .consistent
            .get_or_init(|| self.tester().is_consistent())
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
        self.last.as_deref().map_or(0, |e| e.hash)
    }
}

impl Clone for RealTime {
    fn clone(&self) -> Self {
        RealTime {
            last: self.last.clone(),
            consistent: self.consistent.clone(),
        }
    }
}

impl PartialEq for RealTime {
    fn eq(&self, other: &Self) -> bool {
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
}
