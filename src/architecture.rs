//! The catalog interface: what every architecture in `models/` offers the CLI, the
//! proofs and the benchmark.

use crate::bounds::Bounds;
use crate::check::{self, CheckOptions, Subject};
use crate::error::Error;
use crate::property::PropertyInfo;
use crate::report::{CheckReport, Verdict};
use crate::system::{Node, System};

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
    /// Random walks by splitbrain's random engine and by stateright's simulation
    /// checker, for `seconds` each or until `property` is hit (see [`random_walks`]).
    fn random_walks(self: Box<Self>, property: &str, seconds: f64) -> Result<[Walks; 2], Error>;
    /// The system's properties, as the catalog lists them.
    fn property_infos(&self) -> Vec<PropertyInfo>;
    /// Self-check of the system's told fingerprints (see
    /// [`crate::exhaustive::verify_told_fingerprints`]).
    fn verify_told_fingerprints(&self, max_states: usize) -> Result<usize, String>;
    /// Audit of the declarations the partial-order reduction relies on (see
    /// [`crate::reduction::audit`]).
    fn audit_reduction(&self, max_states: usize) -> Result<crate::reduction::Audit, String>;
    /// Audit of the symmetry the system declares, if any (see [`crate::symmetry::audit`]).
    fn audit_symmetry(&self, max_states: usize) -> Result<crate::symmetry::Audit, String>;
    /// The names of the servers the system declares interchangeable (empty: none).
    fn interchangeable(&self) -> Vec<String>;
    /// Whether the paths `--reduce por` finds to violations are shortest as found, for
    /// `eventually` properties and for all (see [`crate::trace::Narrate::keeps_rest_paths`],
    /// [`crate::trace::Narrate::keeps_violation_paths`]), so that none is shortened.
    fn keeps_paths(&self) -> (bool, bool);
}

impl<A> Buildable for System<A>
where
    A: Node + 'static,
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
    fn random_walks(self: Box<Self>, property: &str, seconds: f64) -> Result<[Walks; 2], Error> {
        random_walks(*self, property, seconds)
    }
    fn property_infos(&self) -> Vec<PropertyInfo> {
        self.properties
            .iter()
            .map(crate::property::Property::info)
            .collect()
    }
    fn verify_told_fingerprints(&self, max_states: usize) -> Result<usize, String> {
        crate::exhaustive::verify_told_fingerprints(self, max_states)
    }
    fn audit_reduction(&self, max_states: usize) -> Result<crate::reduction::Audit, String> {
        crate::reduction::audit(self, max_states)
    }
    fn audit_symmetry(&self, max_states: usize) -> Result<crate::symmetry::Audit, String> {
        crate::symmetry::audit(self, max_states)
    }
    fn keeps_paths(&self) -> (bool, bool) {
        use crate::trace::Narrate;
        (self.keeps_rest_paths(), self.keeps_violation_paths())
    }
    fn interchangeable(&self) -> Vec<String> {
        crate::trace::Narrate::interchangeable(self)
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
    /// Its properties: by default those of the system its first variant builds at the
    /// default bounds (every variant declares the same ones).
    fn properties(&self) -> Vec<PropertyInfo> {
        self.variants()
            .first()
            .and_then(|v| self.build(v, &self.default_bounds()).ok())
            .map(|sys| sys.property_infos())
            .unwrap_or_default()
    }
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
#[derive(Clone, Debug, PartialEq)]
pub struct Baseline {
    /// Unique states visited.
    pub unique_states: usize,
    /// Wall seconds, from the checker spawned to the checker dropped, less
    /// [`Baseline::untimed_seconds`].
    pub seconds: f64,
    /// False when the state limit stopped it.
    pub complete: bool,
    /// stateright's verdict on each `always` and `sometimes` property, in declaration
    /// order: a counterexample (or example) it found counts even where it was cut, its
    /// absence only where it finished. Its `eventually` is not judged: it is met by a
    /// state anywhere along a path, and checked only at the ends of the paths its
    /// breadth-first search keeps, where splitbrain judges every run that comes to rest.
    pub verdicts: Vec<(&'static str, Verdict)>,
    /// Seconds spent asking the checker for its discoveries (stateright rebuilds each
    /// one's path to answer), left out of [`Baseline::seconds`]: splitbrain's timed run
    /// does not include this question either.
    pub untimed_seconds: f64,
}

/// Plain stateright BFS on one thread over `sys`, exploring every state until
/// `max_states` states have been generated: the benchmark's baseline.
pub fn stateright_baseline<A>(sys: System<A>, max_states: usize) -> Baseline
where
    A: Node + 'static,
{
    use crate::property::Kind;
    use stateright::{Checker, HasDiscoveries, Model};
    let judged: Vec<(&'static str, Kind)> = sys
        .properties
        .iter()
        .filter(|p| p.kind != Kind::Eventually)
        .map(|p| (p.name, p.kind))
        .collect();
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
    let (unique_states, complete) = (
        checker.unique_state_count(),
        checker.state_count() < max_states,
    );
    let asked = std::time::Instant::now();
    let verdicts = judged
        .into_iter()
        .map(|(name, kind)| {
            let found = checker.discovery(name).is_some();
            let verdict = match (found, complete, kind) {
                (true, _, Kind::Sometimes) | (false, true, Kind::Always) => Verdict::Holds,
                (true, _, _) | (false, true, _) => Verdict::Violated,
                (false, false, _) => Verdict::Incomplete,
            };
            (name, verdict)
        })
        .collect();
    let untimed_seconds = asked.elapsed().as_secs_f64();
    // What it visited is freed within the time, as splitbrain's search frees its own.
    drop(checker);
    Baseline {
        unique_states,
        seconds: started.elapsed().as_secs_f64() - untimed_seconds,
        complete,
        verdicts,
        untimed_seconds,
    }
}

/// What a random search measured: how fast it walks and how soon it hit the property.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Walks {
    /// Steps taken (transitions computed along walks), in all.
    pub steps: u64,
    /// Walks started.
    pub walks: u64,
    /// Wall seconds spent walking.
    pub seconds: f64,
    /// Seconds until the first walk that hit the property, if one did.
    pub first_hit_seconds: Option<f64>,
}

/// Random walks of up to 200 steps for `seconds` of wall time each, noting when a walk
/// first reaches a state where `property` (an `always` property) fails: first by
/// splitbrain's random engine (proptest-drawn schedules, the property checked after
/// every step, as `check --engine random` walks, shrinking left out), then by
/// stateright's own simulation checker (uniform random choices, every property checked
/// on every state).
pub fn random_walks<A>(sys: System<A>, property: &str, seconds: f64) -> Result<[Walks; 2], Error>
where
    A: Node + 'static,
{
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    use stateright::{Checker, HasDiscoveries, Model, UniformChooser};
    const MAX_STEPS: usize = 200;
    let p = sys
        .properties
        .iter()
        .find(|p| p.name == property && p.kind == crate::property::Kind::Always)
        .copied()
        .ok_or_else(|| {
            Error::BadInput(format!("no `always` property '{property}' in this model"))
        })?;

    // splitbrain: the random engine's own walk (random::walk) on drawn schedules.
    let started = std::time::Instant::now();
    let strategy = proptest::collection::vec(proptest::arbitrary::any::<u16>(), 0..=MAX_STEPS);
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let mut ours = Walks {
        steps: 0,
        walks: 0,
        seconds: 0.0,
        first_hit_seconds: None,
    };
    while started.elapsed().as_secs_f64() < seconds {
        let schedule = strategy
            .new_tree(&mut runner)
            .map_err(|e| Error::BadInput(format!("drawing a schedule: {e}")))?
            .current();
        let (steps, hit) = crate::random::walk(&sys, &p, &schedule);
        ours.walks += 1;
        ours.steps += steps as u64;
        if hit && ours.first_hit_seconds.is_none() {
            ours.first_hit_seconds = Some(started.elapsed().as_secs_f64());
        }
    }
    ours.seconds = started.elapsed().as_secs_f64();

    // stateright: its simulation checker, stopped by the clock only (a discovery set no
    // property completes).
    let started = std::time::Instant::now();
    let never = HasDiscoveries::AllOf(["(walk until the timeout)"].into_iter().collect());
    let checker = sys
        .checker()
        .finish_when(never)
        .target_max_depth(MAX_STEPS)
        .timeout(std::time::Duration::from_secs_f64(seconds))
        .spawn_simulation(7, UniformChooser);
    let mut first_hit_seconds = None;
    while !checker.is_done() {
        if first_hit_seconds.is_none() && checker.discovery(p.name).is_some() {
            first_hit_seconds = Some(started.elapsed().as_secs_f64());
        }
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
    let elapsed = started.elapsed().as_secs_f64();
    if first_hit_seconds.is_none() && checker.discovery(p.name).is_some() {
        first_hit_seconds = Some(elapsed);
    }
    let theirs = Walks {
        steps: checker.state_count() as u64,
        walks: 0,
        seconds: elapsed,
        first_hit_seconds,
    };
    Ok([ours, theirs])
}
