//! The catalog interface: what every architecture in `models/` offers the CLI, the
//! proofs and the benchmark.

use crate::bounds::Bounds;
use crate::check::{self, CheckOptions, Subject};
use crate::error::Error;
use crate::property::PropertyInfo;
use crate::report::{CheckReport, Verdict};
use crate::system::{Node, System};
use stateright::actor::Actor;

/// One variant of an architecture and the verdicts it is expected to get.
#[derive(Clone, Copy, Debug)]
pub struct Variant {
    /// Name used on the command line (`async-ops`).
    pub name: &'static str,
    /// What the variant does, in one line.
    pub about: &'static str,
    /// The expected verdict of every property of the model.
    pub expect: &'static [(&'static str, Verdict)],
}

/// A built system, whatever its actor type: what [`Architecture`] does with it.
/// Implemented for every [`System`], so a model only says how to build one.
pub trait Buildable {
    /// Checks the system's properties (see [`check::run`]).
    fn check(&self, subject: &Subject, opts: &CheckOptions) -> Result<CheckReport, Error>;
    /// Plain stateright BFS on the same system (see [`stateright_baseline`]).
    fn baseline(self: Box<Self>, max_states: usize) -> Baseline;
    /// Serves stateright's Explorer for the system (see [`crate::explore::serve`]).
    fn explore(self: Box<Self>, addr: std::net::SocketAddr) -> Result<(), Error>;
}

impl<A> Buildable for System<A>
where
    A: Node + Send + Sync + 'static,
    <A as Actor>::State: Send + Sync,
    <A as Actor>::Storage: Send + Sync,
    <A as Actor>::Random: Send + Sync,
    <A as Node>::Peer: Send + Sync,
{
    fn check(&self, subject: &Subject, opts: &CheckOptions) -> Result<CheckReport, Error> {
        check::run(self, &self.properties, subject, opts)
    }
    fn baseline(self: Box<Self>, max_states: usize) -> Baseline {
        stateright_baseline(*self, max_states)
    }
    fn explore(self: Box<Self>, addr: std::net::SocketAddr) -> Result<(), Error> {
        crate::explore::serve(*self, addr)
    }
}

/// An architecture of the catalog.
pub trait Architecture: Sync {
    /// Name used on the command line (`master-master`).
    fn name(&self) -> &'static str;
    /// What the architecture is, in one line.
    fn about(&self) -> &'static str;
    /// Its variants, the broken ones and the fixes.
    fn variants(&self) -> &'static [Variant];
    /// Seeded bugs: variants of a fix with one deliberate mistake each, expected to get
    /// the fix's verdicts; `tests/mutants.rs` proves some property catches every one.
    /// Checkable by name like a variant, but not part of the catalog's matrix.
    fn mutants(&self) -> &'static [Variant] {
        &[]
    }
    /// Its properties.
    fn properties(&self) -> Vec<PropertyInfo>;
    /// The bounds used when the user gives none.
    fn default_bounds(&self) -> Bounds;
    /// The bounds every variant is checked at in `proofs/` (the defaults first).
    fn proof_bounds(&self) -> Vec<Bounds> {
        vec![self.default_bounds()]
    }
    /// The system of one variant at `bounds`, ready to check, explore or measure. Bounds
    /// the model cannot take are an error that says why.
    fn build(&self, variant: &Variant, bounds: &Bounds) -> Result<Box<dyn Buildable>, Error>;
    /// Checks one variant at `bounds`.
    fn check(
        &self,
        variant: &Variant,
        bounds: &Bounds,
        opts: &CheckOptions,
    ) -> Result<CheckReport, Error> {
        let subject = Subject {
            model: self.name(),
            variant: variant.name,
            expect: variant.expect,
            bounds: *bounds,
            defaults: self.default_bounds(),
        };
        self.build(variant, bounds)?.check(&subject, opts)
    }
    /// The bounds `splitbrain bench` measures (the defaults first).
    fn bench_bounds(&self) -> Vec<Bounds> {
        vec![self.default_bounds()]
    }
    /// Runs plain stateright BFS (one thread) on the same model and properties, exploring
    /// every state up to `max_states`: the benchmark's baseline.
    fn baseline(
        &self,
        variant: &Variant,
        bounds: &Bounds,
        max_states: usize,
    ) -> Result<Baseline, Error> {
        Ok(self.build(variant, bounds)?.baseline(max_states))
    }

    /// Serves stateright's Explorer for one variant at `bounds` on `addr` (blocks).
    fn explore(
        &self,
        variant: &Variant,
        bounds: &Bounds,
        addr: std::net::SocketAddr,
    ) -> Result<(), Error> {
        self.build(variant, bounds)?.explore(addr)
    }

    /// The variant with this name, or an error listing the valid ones.
    fn variant(&self, name: &str) -> Result<&'static Variant, Error> {
        let all = || self.variants().iter().chain(self.mutants());
        all().find(|v| v.name == name).ok_or_else(|| {
            Error::BadInput(format!(
                "unknown variant '{name}' of model '{}'; valid choices: {}",
                self.name(),
                all().map(|v| v.name).collect::<Vec<_>>().join(", ")
            ))
        })
    }
}

/// What plain stateright BFS measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Baseline {
    /// Unique states visited.
    pub unique_states: usize,
    /// Wall seconds.
    pub seconds: f64,
    /// False when the state limit stopped it.
    pub complete: bool,
}

/// Plain stateright BFS on one thread over `sys`, exploring every state until
/// `max_states` states have been generated: the benchmark's baseline.
pub fn stateright_baseline<A>(sys: System<A>, max_states: usize) -> Baseline
where
    A: Node + Send + Sync + 'static,
    A::State: Send + Sync,
    A::Storage: Send + Sync,
    A::Random: Send + Sync,
    A::Peer: Send + Sync,
{
    use stateright::{Checker, HasDiscoveries, Model};
    let started = std::time::Instant::now();
    // A discovery set no property can complete: explore everything.
    let never = HasDiscoveries::AllOf(["(explore everything)"].into_iter().collect());
    let checker = sys
        .checker()
        .finish_when(never)
        .target_state_count(max_states)
        .spawn_bfs()
        .join();
    // stateright's state target counts states generated, repeats included.
    Baseline {
        unique_states: checker.unique_state_count(),
        seconds: started.elapsed().as_secs_f64(),
        complete: checker.state_count() < max_states,
    }
}
