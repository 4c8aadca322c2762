//! splitbrain finds the bugs distributed architectures hide.
//!
//! An architecture is a [`system::System`] of stateright actors (clients with a scripted
//! workload, servers, databases) on a network that may reorder, duplicate and lose
//! messages while servers crash and restart. [`property::Property`] declarations name
//! the claims; the [`exhaustive`] engine proves them within bounds or returns the
//! *shortest* counterexample, the [`random`] engine draws and shrinks schedules where
//! exhaustive search cannot reach, and [`trace`] tells a counterexample as the story of
//! the failure.
//!
//! ```
//! use splitbrain::models;
//! use splitbrain::check::CheckOptions;
//! use splitbrain::report::Verdict;
//!
//! let mm = models::find("master-master").unwrap();
//! let variant = mm.variant("async-ops").unwrap();
//! let report = mm.check(variant, &mm.default_bounds(), &CheckOptions::default()).unwrap();
//! let r = report.results.iter().find(|r| r.property == "no_negative_balance").unwrap();
//! assert_eq!(r.verdict, Verdict::Violated);
//! assert!(r.trace.as_ref().unwrap().len() <= 4);
//! ```

pub mod architecture;
#[cfg(feature = "cli")]
pub mod bench;
pub mod bounds;
pub mod check;
#[cfg(feature = "cli")]
pub mod cli;
pub mod client;
pub mod compact;
pub mod design;
pub mod error;
pub mod exhaustive;
pub mod explore;
pub mod files;
pub mod forgetting;
pub mod history;
pub mod html;
pub mod linearizability;
pub mod liveness;
pub mod matrix;
pub mod progress;
pub mod proofs;
pub mod property;
pub mod random;
pub mod real_time;
pub mod recorded;
pub mod reduction;
pub mod register;
pub mod replay;
pub mod report;
pub mod session;
pub mod shard;
pub mod slurm;
pub mod spin;
pub mod starter;
pub mod swarm;
pub mod symmetry;
pub mod system;
pub mod tell;
pub mod testing;
pub mod topology;
pub mod trace;

pub use design::check;
/// The model checker splitbrain builds on, for a model that names its types.
pub use stateright;

#[path = "../models/mod.rs"]
pub mod models;
