//! Re-checks every recorded verdict in `proofs/`: each model variant is checked again by
//! BFS at its proof bounds and the result must match the file byte for byte.
//! `BLESS=1 cargo test --test proofs` rewrites the files (review the diff first).

use splitbrain::models;
use splitbrain::proofs::{proof_path, render_variant};
use std::path::Path;

#[test]
fn every_recorded_proof_matches_a_fresh_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bless = std::env::var_os("BLESS").is_some_and(|v| v != "0");
    let mut stale = Vec::new();
    let mut checked = 0;
    for arch in models::catalog() {
        for v in arch.variants() {
            let fresh = render_variant(arch, v).expect("proof bounds are valid bounds");
            let path = proof_path(root, arch, v);
            checked += 1;
            if bless {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                let tmp = path.with_extension("txt.tmp");
                std::fs::write(&tmp, &fresh).unwrap();
                std::fs::rename(&tmp, &path).unwrap();
                continue;
            }
            match std::fs::read_to_string(&path) {
                Ok(recorded) if recorded == fresh => {}
                Ok(recorded) => {
                    let first = recorded
                        .lines()
                        .zip(fresh.lines())
                        .position(|(a, b)| a != b)
                        .unwrap_or(recorded.lines().count().min(fresh.lines().count()));
                    stale.push(format!(
                        "{}: differs from a fresh check at line {}:\n  recorded: {}\n  fresh:    {}",
                        path.display(),
                        first + 1,
                        recorded.lines().nth(first).unwrap_or("<end of file>"),
                        fresh.lines().nth(first).unwrap_or("<end of file>")
                    ));
                }
                Err(e) => stale.push(format!("{}: {e}", path.display())),
            }
        }
    }
    assert!(checked > 0);
    assert!(
        stale.is_empty(),
        "proofs/ is out of date (regenerate with BLESS=1 cargo test --test proofs after reviewing):\n{}",
        stale.join("\n")
    );
}

#[test]
fn every_variant_states_an_expected_verdict_for_every_property() {
    for arch in models::catalog() {
        let props: Vec<_> = arch.properties().iter().map(|p| p.name).collect();
        for v in arch.variants() {
            for p in &props {
                assert!(
                    v.expect.iter().any(|(n, _)| n == p),
                    "{}/{} has no expected verdict for {p}",
                    arch.name(),
                    v.name
                );
            }
            for (n, _) in v.expect {
                assert!(
                    props.contains(n),
                    "{}/{} expects unknown property {n}",
                    arch.name(),
                    v.name
                );
            }
        }
    }
}

#[test]
fn every_proof_is_as_expected() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for arch in models::catalog() {
        for v in arch.variants() {
            let text = std::fs::read_to_string(proof_path(root, arch, v)).unwrap_or_default();
            assert!(
                !text.contains("UNEXPECTED"),
                "{}/{}: a recorded verdict is unexpected",
                arch.name(),
                v.name
            );
            assert!(
                !text.contains("INCOMPLETE"),
                "{}/{}: a recorded search is incomplete",
                arch.name(),
                v.name
            );
        }
    }
}
