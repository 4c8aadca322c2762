//! `proofs/`: what the checker found for every model variant, recorded as text.
//!
//! `cargo test --test proofs` re-runs every check and fails on any difference;
//! `BLESS=1 cargo test --test proofs` rewrites the files after a reviewed change. Nothing
//! time-dependent is recorded, so a proof changes only when a verdict, a state count or
//! a trace does.

use crate::architecture::{Architecture, Variant};
use crate::check::CheckOptions;
use crate::error::Error;
use crate::report::CheckReport;
use std::path::{Path, PathBuf};

/// The proof file of a variant, relative to the crate root.
pub fn proof_path(root: &Path, arch: &dyn Architecture, variant: &Variant) -> PathBuf {
    root.join("proofs")
        .join(arch.name())
        .join(format!("{}.txt", variant.name))
}

/// One check rendered for a proof file, with the unique states of the same search under
/// each given reduction (`("por", n)`).
pub fn render_check(r: &CheckReport, reduced_states: &[(&str, usize)]) -> String {
    let mut out = format!("== bounds: {}\n", r.bounds.describe());
    out.push_str(&format!("engine: {}\n", r.engine));
    let first = r.results.first();
    out.push_str(&format!(
        "search: {}\n",
        if r.complete { "complete" } else { "INCOMPLETE" }
    ));
    out.push_str(&format!(
        "unique_states: {}\nmax_depth: {}\n",
        first.map_or(0, |p| p.unique_states),
        first.map_or(0, |p| p.max_depth)
    ));
    for (reduce, n) in reduced_states {
        out.push_str(&format!("unique_states with --reduce {reduce}: {n}\n"));
    }
    for p in &r.results {
        out.push_str(&format!(
            "{} ({}): {} ({}; expected {})\n",
            p.property,
            p.kind,
            p.verdict,
            p.mark(),
            p.expected
        ));
    }
    for p in &r.results {
        if let Some(t) = &p.trace {
            out.push('\n');
            out.push_str(&r.story(p, t));
        }
    }
    out
}

/// The whole proof file of a variant: every proof bound, checked by BFS, and the states
/// the same search visits with partial-order reduction, and where the model declares
/// interchangeable servers, with symmetry reduction and with both (their verdicts and
/// path lengths are the same: `tests/engines.rs`).
pub fn render_variant(arch: &dyn Architecture, variant: &Variant) -> Result<String, Error> {
    Ok(record_variant(arch, variant)?.0)
}

/// The proof file of a variant and its entry in the model's `manifest.json` (the same
/// checks, told as data: see `proofs/manifest.schema.json`).
pub fn record_variant(
    arch: &dyn Architecture,
    variant: &Variant,
) -> Result<(String, serde_json::Value), Error> {
    use crate::reduction::Reduce;
    let mut out = format!(
        "# {}/{}: {}\n# Written by the checker (`BLESS=1 cargo test --test proofs`); `cargo test` re-checks it.\n",
        arch.name(),
        variant.name,
        variant.about
    );
    let mut checks = Vec::new();
    for b in arch.proof_bounds() {
        let r = arch.check(variant, &b, &CheckOptions::default())?;
        let symmetric = !arch.build(variant, &b)?.interchangeable().is_empty();
        let mut reduced = Vec::new();
        for reduce in [Reduce::Por, Reduce::Symmetry, Reduce::All] {
            if reduce.symmetry() && !symmetric {
                continue;
            }
            let opts = CheckOptions {
                reduce,
                ..CheckOptions::default()
            };
            let c = arch.check(variant, &b, &opts)?;
            let states = c.results.first().map_or(0, |p| p.unique_states);
            reduced.push((reduce.as_str(), states));
        }
        out.push('\n');
        out.push_str(&render_check(&r, &reduced));
        checks.push(manifest_check(&r, &reduced));
    }
    let entry = serde_json::json!({
        "variant": variant.name,
        "about": variant.about,
        "checks": checks,
    });
    Ok((out, entry))
}

/// One check as a manifest entry: bounds, engine, reduction, whether the search
/// finished, distinct states, depth, and per property its kind, verdict, expected verdict
/// and shortest trace length.
fn manifest_check(r: &CheckReport, reduced: &[(&str, usize)]) -> serde_json::Value {
    let first = r.results.first();
    let properties: serde_json::Map<String, serde_json::Value> = (r.results.iter())
        .map(|p| {
            let v = serde_json::json!({
                "kind": p.kind.as_str(),
                "verdict": p.verdict.as_str(),
                "expected": p.expected.as_str(),
                "shortest_trace": p.trace.as_ref().map(|t| t.len()),
            });
            (p.property.to_string(), v)
        })
        .collect();
    let reduced: serde_json::Map<String, serde_json::Value> = (reduced.iter())
        .map(|(k, n)| (k.to_string(), serde_json::json!(n)))
        .collect();
    serde_json::json!({
        "bounds": r.bounds.describe(),
        "engine": r.engine,
        "reduction": r.reduce,
        "complete": r.complete,
        "distinct_states": first.map_or(0, |p| p.unique_states),
        "depth": first.map_or(0, |p| p.max_depth),
        "distinct_states_reduced": reduced,
        "properties": properties,
    })
}

/// A model's manifest: its name and its variants' entries.
pub fn manifest(arch: &dyn Architecture, variants: Vec<serde_json::Value>) -> serde_json::Value {
    serde_json::json!({
        "$schema": "../manifest.schema.json",
        "model": arch.name(),
        "variants": variants,
    })
}

/// The manifest file of a model, relative to the crate root.
pub fn manifest_path(root: &Path, arch: &dyn Architecture) -> PathBuf {
    root.join("proofs").join(arch.name()).join("manifest.json")
}
