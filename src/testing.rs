//! Assertions for a model in an ordinary `#[test]`: a property holds within bounds, or it
//! is violated by a trace of at most N steps. A failing assertion panics with the
//! rendered trace, so `cargo test` shows the story of the failure.
//!
//! ```
//! use splitbrain::testing::{assert_holds, assert_violated_within};
//! use splitbrain::topology;
//!
//! // Any `System` works: one built from your own actors, or one read from a topology file.
//! let topo = topology::parse("inline.toml", r#"
//!     properties = ["read_your_writes"]
//!     [[node]]
//!     name = "primary"
//!     kind = "primary"
//!     [[node]]
//!     name = "replica"
//!     kind = "replica"
//!     replica_of = "primary"
//!     [[client]]
//!     name = "jose"
//!     workload = [{ op = "write", to = "primary" }, { op = "read", to = "replica" }]
//!     [[variant]]
//!     name = "async"
//!     expect = { read_your_writes = "violated" }
//!     [[variant]]
//!     name = "sync"
//!     replication = { mode = "sync" }
//!     expect = { read_your_writes = "holds" }
//! "#).unwrap();
//! let faults = splitbrain::system::Faults {
//!     network: splitbrain::system::NetworkKind::Unordered, loss: 0, crashes: 0,
//! };
//! let async_sys = topo.build(&topo.variant("async").unwrap().settings, faults);
//! let trace = assert_violated_within(&async_sys, "read_your_writes", 4);
//! assert_eq!(trace.len(), 4);
//! let sync_sys = topo.build(&topo.variant("sync").unwrap().settings, faults);
//! assert_holds(&sync_sys, "read_your_writes");
//! ```

use crate::exhaustive::{self, End, Limits};
use crate::property::Kind;
use crate::system::{Node, System};
use crate::trace::Trace;

/// States explored before an assertion gives up (and fails as undecided).
pub const DEFAULT_MAX_STATES: usize = 2_000_000;

/// What an exhaustive search said about one property.
#[derive(Debug)]
pub enum Outcome {
    /// Every reachable state was visited and nothing broke the property.
    Holds,
    /// A shortest counterexample (for a `sometimes` property: a shortest example).
    Violated(Trace),
    /// The search hit a limit first; the text says which.
    Undecided(String),
}

/// Checks one property of `sys` by exhaustive BFS within `limits`.
pub fn check_property<A: Node>(sys: &System<A>, property: &str, limits: &Limits) -> Outcome
where
    A::Msg: Ord,
{
    let Some(p) = sys.properties.iter().find(|p| p.name == property) else {
        panic!(
            "no property '{property}' in this model; it declares: {}",
            sys.properties
                .iter()
                .map(|p| p.name)
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    let s = exhaustive::search(sys, std::slice::from_ref(p), limits);
    let finding = s.findings.into_iter().next();
    match (finding.and_then(|f| f.path), &s.end, p.kind) {
        (Some(path), _, Kind::Sometimes) => {
            // An example exists: for a `sometimes` property that is "holds".
            let _ = path;
            Outcome::Holds
        }
        (Some(path), _, _) => {
            let values = (p.values)(sys, path.last());
            Outcome::Violated(Trace::from_path(sys, &path, values))
        }
        (None, End::Limit(why), _) => Outcome::Undecided(why.clone()),
        (None, End::Complete, Kind::Sometimes) => Outcome::Violated(Trace {
            start: Vec::new(),
            steps: Vec::new(),
            values: "no reachable state makes it true".into(),
            repeats_from: None,
        }),
        (None, End::Complete, Kind::Always) => Outcome::Holds,
        // True wherever a run comes to rest: judge the runs that never rest too.
        (None, End::Complete, Kind::Eventually) => {
            let max = limits.max_states.unwrap_or(DEFAULT_MAX_STATES);
            match crate::liveness::judge(sys, &[p], max) {
                Err(too_large) => Outcome::Undecided(format!(
                    "the runs that never come to rest were not judged: more than {} states",
                    too_large.states
                )),
                Ok(mut judged) => match judged.pop() {
                    Some(crate::liveness::Judged::Lasso(l)) => {
                        let values = (p.values)(sys, l.path.last());
                        let mut t = Trace::from_path(sys, &l.path, values);
                        t.repeats_from = Some(l.loop_from + 1);
                        Outcome::Violated(t)
                    }
                    _ => Outcome::Holds,
                },
            }
        }
    }
}

fn limits() -> Limits {
    Limits {
        max_states: Some(DEFAULT_MAX_STATES),
        ..Limits::default()
    }
}

/// Asserts that `property` holds in every reachable state of `sys` (a finished search).
/// Panics with the counterexample, told as a story, if it does not.
pub fn assert_holds<A: Node>(sys: &System<A>, property: &str)
where
    A::Msg: Ord,
{
    match check_property(sys, property, &limits()) {
        Outcome::Holds => {}
        Outcome::Violated(t) => panic!(
            "property '{property}' is VIOLATED (shortest: {} steps):\n{}",
            t.len(),
            t.to_text(),
        ),
        Outcome::Undecided(why) => panic!(
            "property '{property}' was not decided: {why}; make the model smaller or use check_property with larger limits"
        ),
    }
}

/// Asserts that `property` is violated and that its shortest counterexample has at most
/// `max_steps` steps; returns the trace. Panics if the property holds, or with the
/// rendered trace if the shortest one is longer.
pub fn assert_violated_within<A: Node>(sys: &System<A>, property: &str, max_steps: usize) -> Trace
where
    A::Msg: Ord,
{
    let limits = Limits {
        max_depth: Some(max_steps),
        ..limits()
    };
    match check_property(sys, property, &limits) {
        Outcome::Violated(t) if t.len() <= max_steps => t,
        Outcome::Violated(t) => panic!(
            "property '{property}' is violated, but its shortest trace has {} steps, more than {max_steps}:\n{}",
            t.len(),
            t.to_text(),
        ),
        Outcome::Holds => panic!("property '{property}' holds: no run violates it"),
        Outcome::Undecided(_) => panic!(
            "property '{property}' is not violated within {max_steps} steps (no run of at most {max_steps} steps breaks it)"
        ),
    }
}
