//! SPIN twins (`bench/spin/*.pml`) against splitbrain's own BFS: with `-DNOREDUCE`,
//! pan stores exactly splitbrain's unique states plus SPIN's state before `init`
//! ([`splitbrain::spin::INIT_OFFSET`]); with partial-order reduction SPIN reaches the
//! same verdicts for the properties each twin asserts. Skipped without spin or gcc.

use splitbrain::bounds::Bounds;
use splitbrain::check::CheckOptions;
use splitbrain::models;
use splitbrain::report::Verdict;
use splitbrain::spin::{run_twin, spin_missing, INIT_OFFSET};

/// The properties each twin asserts (its assertions fail iff one of them is violated).
fn asserted(model: &str) -> &'static [&'static str] {
    match model {
        "master-master" => &["no_negative_balance"],
        "read-replica" => &["read_your_writes", "monotonic_reads"],
        "stateless" => &["correct_content", "no_wrong_reply_under_loss"],
        "leaderless" => &[
            "reads_see_latest_write",
            "read_your_writes",
            "monotonic_reads",
        ],
        "central-db" => &[
            "exactly_once_transfer",
            "no_negative_balance",
            "money_conserved",
        ],
        _ => panic!("{model} has no twin"),
    }
}

fn compare(model: &str, variant: &str, bounds: &Bounds) {
    let arch = models::find(model).unwrap();
    let ours = arch
        .check(
            arch.variant(variant).unwrap(),
            bounds,
            &CheckOptions::default(),
        )
        .unwrap();
    assert!(
        ours.complete,
        "{model} {variant}: our search did not finish"
    );
    let states = ours.results[0].unique_states as u64;
    let violated = ours
        .results
        .iter()
        .filter(|r| asserted(model).contains(&r.property))
        .any(|r| r.verdict == Verdict::Violated);

    let full = run_twin(model, variant, bounds, false).unwrap();
    assert!(full.complete, "{model} {variant}: pan did not finish");
    assert_eq!(
        full.unique_states,
        states + INIT_OFFSET,
        "{model} {variant} {}: SPIN -DNOREDUCE vs splitbrain BFS",
        bounds.describe()
    );
    assert_eq!(
        full.assertion_violations > 0,
        violated,
        "{model} {variant}: verdict without reduction"
    );

    let por = run_twin(model, variant, bounds, true).unwrap();
    assert!(por.complete, "{model} {variant}: pan (POR) did not finish");
    assert!(por.unique_states <= full.unique_states);
    assert_eq!(
        por.assertion_violations > 0,
        violated,
        "{model} {variant}: verdict with partial-order reduction ({:?})",
        asserted(model)
    );
    eprintln!(
        "{model} {variant} {}: ours {states}, spin {} (POR {}), {:.2}s / {:.2}s",
        bounds.describe(),
        full.unique_states,
        por.unique_states,
        full.seconds,
        por.seconds
    );
}

/// Compares every variant of `model` (or only the one named `only`) at the bounds
/// `bounds` makes of the model's defaults.
fn variants_at(model: &str, only: Option<&str>, bounds: impl FnOnce(Bounds) -> Bounds) {
    if let Some(why) = spin_missing() {
        eprintln!("{why}");
        return;
    }
    let arch = models::find(model).unwrap();
    let bounds = bounds(arch.default_bounds());
    for v in arch.variants() {
        if only.is_none_or(|o| o == v.name) {
            compare(model, v.name, &bounds);
        }
    }
}

fn every_variant_at_defaults(model: &str) {
    variants_at(model, None, |d| d);
}

#[test]
fn master_master_twin_matches() {
    every_variant_at_defaults("master-master");
}

#[test]
fn master_master_async_ops_three_clients_three_masters() {
    variants_at("master-master", Some("async-ops"), |d| Bounds {
        clients: 3,
        servers: 3,
        ..d
    });
}

#[test]
fn read_replica_twin_matches() {
    every_variant_at_defaults("read-replica");
}

#[test]
fn central_db_twin_matches() {
    every_variant_at_defaults("central-db");
}

#[test]
fn stateless_twin_matches() {
    every_variant_at_defaults("stateless");
}

/// The stateless twin with loss and crashes, at the bound the benchmark runs it: every
/// variant (47,040 to 101,236 states).
#[test]
fn stateless_twin_matches_with_loss_and_a_crash() {
    variants_at("stateless", None, |d| Bounds {
        clients: 2,
        loss: 1,
        crashes: 1,
        ..d
    });
}

#[test]
fn leaderless_twin_matches() {
    every_variant_at_defaults("leaderless");
}

/// The leaderless twin with three clients (1,978 to 265,276 states).
#[test]
fn leaderless_twin_matches_with_three_clients() {
    variants_at("leaderless", None, |d| Bounds { clients: 3, ..d });
}

#[test]
fn unsupported_requests_are_clear_errors() {
    let arch = models::find("master-master").unwrap();
    let d = arch.default_bounds();
    let no_twin = run_twin("write-through-cache", "default", &d, false).unwrap_err();
    assert!(no_twin.to_string().contains("no SPIN twin"), "{no_twin}");
    let mutant = run_twin("master-master", "mutant-double-apply", &d, false).unwrap_err();
    assert!(mutant.to_string().contains("no variant"), "{mutant}");
    let lossy = run_twin(
        "master-master",
        "async-ops",
        &Bounds { loss: 1, ..d },
        false,
    )
    .unwrap_err();
    assert!(lossy.to_string().contains("--loss"), "{lossy}");
}
