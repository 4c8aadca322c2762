//! Session guarantees and `linearizable` for a design of your own: its operations say how
//! they read and write a register ([`Register`]), and the catalog's checks read its
//! clients' requests through that view.
//!
//! A register is named by a key; a reply carries the version of the value read, or the
//! version a write got (higher is newer), and the value. The four session guarantees
//! read versions ([`crate::session`]); `linearizable` reads values, one register per
//! key, in the real-time order the harness records once [`Harness::linearizable`] asks
//! for it.

use crate::design::{Design, Done, Harness, Outcome, Tell, World};
use crate::history::{self, Event, ReqId};
use crate::property::{ClientSteps, Kind, Property};
use crate::real_time::RealTime;
use crate::session;
use stateright::semantics::register::{RegisterOp, RegisterRet};

/// What an operation does to a register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// Reads register `key`.
    Read {
        /// The register.
        key: u8,
    },
    /// Writes `value` to register `key`.
    Write {
        /// The register.
        key: u8,
        /// The value written (distinct values make `linearizable` sharp).
        value: u8,
    },
}

/// What a reply tells of a register: the value read or written, and its version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Seen {
    /// The value read (for a write: the value written).
    pub value: u8,
    /// Its version: higher is newer (0: never written).
    pub version: u8,
}

/// An operation type that reads and writes registers: two answers give a design the
/// session guarantees and `linearizable`.
pub trait Register<Reply> {
    /// What this operation does to a register; `None` for an operation that does neither.
    fn access(&self) -> Option<Access>;
    /// What `reply` to this operation tells: `None` for a refusal or an error (a write it
    /// answers so did not happen as far as the client knows; a read saw nothing).
    fn seen(&self, reply: &Reply) -> Option<Seen>;
}

impl Register<history::Reply> for history::Op {
    fn access(&self) -> Option<Access> {
        match *self {
            history::Op::Read { key } => Some(Access::Read { key }),
            history::Op::Write { key, value } => Some(Access::Write { key, value }),
            _ => None,
        }
    }
    fn seen(&self, reply: &history::Reply) -> Option<Seen> {
        match (self, reply) {
            (history::Op::Read { .. }, history::Reply::Value { value, version }) => Some(Seen {
                value: *value,
                version: *version,
            }),
            (history::Op::Write { value, .. }, history::Reply::Written { version }) => Some(Seen {
                value: *value,
                version: *version,
            }),
            _ => None,
        }
    }
}

/// One finished request as the catalog's history event, if it touched a register.
fn event<O: Register<R>, R>(client: usize, seq: usize, done: &Done<O, R>) -> Option<Event> {
    let access = done.op.access()?;
    let op = match access {
        Access::Read { key } => history::Op::Read { key },
        Access::Write { key, value } => history::Op::Write { key, value },
    };
    let outcome = match &done.outcome {
        Outcome::TimedOut => history::Outcome::TimedOut,
        Outcome::Replied(r) => match (access, done.op.seen(r)) {
            (_, None) => history::Outcome::Replied(history::Reply::Error),
            (Access::Read { .. }, Some(s)) => history::Outcome::Replied(history::Reply::Value {
                value: s.value,
                version: s.version,
            }),
            (Access::Write { .. }, Some(s)) => {
                history::Outcome::Replied(history::Reply::Written { version: s.version })
            }
        },
    };
    Some(Event {
        id: ReqId {
            client: client as u8,
            seq: seq as u8,
            attempt: 0,
        },
        op,
        outcome,
    })
}

/// The register requests every client of `w` finished, in client order.
pub fn history<D: Design>(w: &World<D>) -> history::History
where
    D::Op: Register<D::Reply>,
{
    let runs = w.clients.iter().enumerate();
    runs.flat_map(|(c, run)| {
        let done = run.done.iter().enumerate();
        done.filter_map(move |(seq, d)| event(c, seq, d))
    })
    .collect()
}

/// A session guarantee of [`crate::session`], judged on a design's clients.
fn guarantee<D: Design>(
    name: &'static str,
    claim: &'static str,
    check: fn(&Harness<D>, &World<D>) -> bool,
    values: fn(&Harness<D>, &World<D>) -> String,
) -> Property<Harness<D>> {
    Property {
        name,
        claim,
        kind: Kind::Always,
        client_steps: ClientSteps::Stable,
        check,
        values,
    }
}

/// The message of a broken guarantee, with `client#N` replaced by the client's name.
fn explain<D: Design>(h: &Harness<D>, r: Result<(), String>) -> String {
    session::explain_with_names(&h.client_names(), r)
}

macro_rules! session_property {
    ($(#[$doc:meta])* $fun:ident, $claim:expr) => {
        $(#[$doc])*
        pub fn $fun<D: Design>() -> Property<Harness<D>>
        where
            D::Op: Register<D::Reply>,
        {
            guarantee(
                stringify!($fun),
                $claim,
                |_, w| session::$fun(&history(w)).is_ok(),
                |h, w| explain(h, session::$fun(&history(w))),
            )
        }
    };
}

session_property!(
    /// Read your writes: a client that wrote never reads an older version afterwards.
    read_your_writes,
    "a client that wrote never reads an older version afterwards (versions are compared, not values)"
);
session_property!(
    /// Monotonic reads: a client's reads of a register never go back to an older version.
    monotonic_reads,
    "a client never reads an older version of a register than one it read before"
);
session_property!(
    /// Monotonic writes: a client's writes of a register take effect in its order.
    monotonic_writes,
    "a client's acknowledged writes of a register get newer versions in the order it made them"
);
session_property!(
    /// Writes follow reads: a client's write after a read is ordered after what it read.
    writes_follow_reads,
    "a client's write of a register is ordered after the version it read before"
);

/// The real-time histories of a run, one per register key.
pub type RealTimes = Vec<(u8, RealTime)>;

/// Records a request sent (`ret` is `None`) or answered in the register `key`'s history.
pub(crate) fn record<O: Register<R>, R>(
    times: &mut RealTimes,
    id: (usize, usize),
    op: &O,
    reply: Option<&R>,
) {
    let Some(access) = op.access() else { return };
    let key = match access {
        Access::Read { key } | Access::Write { key, .. } => key,
    };
    let i = match times.binary_search_by_key(&key, |(k, _)| *k) {
        Ok(i) => i,
        Err(i) => {
            times.insert(i, (key, RealTime::new()));
            i
        }
    };
    let id = ReqId {
        client: id.0 as u8,
        seq: id.1 as u8,
        attempt: 0,
    };
    let history = &mut times[i].1;
    match reply {
        None => history.invoked(
            id,
            match access {
                Access::Read { .. } => RegisterOp::Read,
                Access::Write { value, .. } => RegisterOp::Write(value),
            },
        ),
        // A refusal or an error returns nothing: the operation stays pending (it may or
        // may not have happened).
        Some(r) => match (access, op.seen(r)) {
            (_, None) => {}
            (Access::Read { .. }, Some(s)) => history.returned(id, RegisterRet::ReadOk(s.value)),
            (Access::Write { .. }, Some(_)) => history.returned(id, RegisterRet::WriteOk),
        },
    }
}

/// `linearizable`: for each register, some single order of its operations, respecting
/// real time, explains every value read. Requests that timed out may or may not have
/// taken effect. Add it with [`Harness::linearizable`], which records real time.
pub(crate) fn linearizable<D: Design>() -> Property<Harness<D>>
where
    D::Op: Register<D::Reply>,
{
    Property {
        name: session::LINEARIZABLE,
        claim: "every read returns what some single order of the operations, respecting real time, would return",
        kind: Kind::Always,
        client_steps: ClientSteps::Order,
        check: |_, w| w.real_time.iter().all(|(_, t)| t.is_consistent()),
        values: |h, w| {
            let broken = w.real_time.iter().find(|(_, t)| !t.is_consistent());
            let Some((key, _)) = broken else {
                return "every register's reads are explained".to_string();
            };
            let mut ops = Vec::new();
            for (c, run) in w.clients.iter().enumerate() {
                for d in &run.done {
                    let k = match d.op.access() {
                        Some(Access::Read { key } | Access::Write { key, .. }) => key,
                        None => continue,
                    };
                    if k == *key {
                        let outcome = match &d.outcome {
                            Outcome::Replied(r) => r.tell(),
                            Outcome::TimedOut => "timed out".to_string(),
                        };
                        ops.push(format!("{} {}: {outcome}", h.client_names()[c], d.op.tell()));
                    }
                }
            }
            format!(
                "no order of these operations explains the reads of {}: {}",
                history::key_name(*key),
                ops.join(", ")
            )
        },
    }
}
