//! Verdicts you can trust: every seeded bug (mutant) of every model is caught by at
//! least one property, by the exhaustive engine and by the random engine.

use splitbrain::check::{CheckOptions, Engine};
use splitbrain::models;
use splitbrain::random::RandomOptions;
use splitbrain::report::Verdict;

fn caught(engine: Engine) -> (usize, usize, Vec<String>) {
    let mut total = 0;
    let mut caught = 0;
    let mut missed = Vec::new();
    for arch in models::catalog() {
        for m in arch.mutants() {
            total += 1;
            let opts = CheckOptions {
                engine,
                random: RandomOptions {
                    cases: 3_000,
                    max_steps: 100,
                    seed: 7,
                },
                ..CheckOptions::default()
            };
            let r = arch.check(m, &arch.default_bounds(), &opts).unwrap();
            let by: Vec<&str> = r
                .results
                .iter()
                .filter(|p| p.unexpected() && p.verdict == Verdict::Violated)
                .map(|p| p.property)
                .collect();
            if by.is_empty() {
                missed.push(format!("{}/{}", arch.name(), m.name));
            } else {
                caught += 1;
                eprintln!(
                    "{:?}: {}/{} caught by {}",
                    engine,
                    arch.name(),
                    m.name,
                    by.join(", ")
                );
            }
        }
    }
    (caught, total, missed)
}

#[test]
fn every_model_has_at_least_five_mutants() {
    for arch in models::catalog() {
        assert!(
            arch.mutants().len() >= 5,
            "{} has {} mutants; every model needs at least 5 seeded bugs",
            arch.name(),
            arch.mutants().len()
        );
        for m in arch.mutants() {
            assert!(
                arch.variants().iter().all(|v| v.name != m.name),
                "{} is both a variant and a mutant",
                m.name
            );
        }
    }
}

#[test]
fn bfs_catches_every_mutant() {
    let (caught, total, missed) = caught(Engine::Bfs);
    eprintln!("bfs: {caught} of {total} mutants caught");
    assert!(missed.is_empty(), "mutants that survive BFS: {missed:?}");
}

#[test]
fn random_engine_catches_every_mutant() {
    let (caught, total, missed) = caught(Engine::Random);
    eprintln!("random: {caught} of {total} mutants caught");
    assert!(
        missed.is_empty(),
        "mutants that survive the random engine: {missed:?}"
    );
}
