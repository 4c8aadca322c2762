//! `splitbrain matrix`: every model and variant of the catalog against every property
//! that applies, checked by BFS at the model's default bounds: the article's conclusions,
//! computed.

use crate::check::CheckOptions;
use crate::error::Error;
use crate::models;
use crate::report::{CheckReport, Verdict};
use serde_json::{json, Value};

/// The checks behind the matrix, one per model variant, in catalog order.
pub fn compute(opts: &CheckOptions) -> Result<Vec<CheckReport>, Error> {
    let mut out = Vec::new();
    for arch in models::catalog() {
        for v in arch.variants() {
            out.push(arch.check(v, &arch.default_bounds(), opts)?);
        }
    }
    Ok(out)
}

/// Every property name, in order of first appearance.
fn columns(reports: &[CheckReport]) -> Vec<&'static str> {
    let mut cols: Vec<&'static str> = Vec::new();
    for r in reports {
        for p in &r.results {
            if !cols.contains(&p.property) {
                cols.push(p.property);
            }
        }
    }
    cols
}

fn cell(r: &CheckReport, property: &str, bold: bool) -> String {
    let Some(p) = r.results.iter().find(|p| p.property == property) else {
        return "·".to_string();
    };
    let word = match (p.verdict, &p.trace) {
        (Verdict::Violated, Some(t)) => format!("violated ({})", t.len()),
        (Verdict::Holds, Some(t)) => format!("holds (example {})", t.len()),
        (v, _) => v.as_str().to_string(),
    };
    let word = if p.unexpected() {
        format!("{word} UNEXPECTED")
    } else {
        word
    };
    if bold && p.verdict == Verdict::Violated {
        format!("**{word}**")
    } else {
        word
    }
}

fn states(r: &CheckReport) -> usize {
    r.results.first().map_or(0, |p| p.unique_states)
}

fn seconds(r: &CheckReport) -> f64 {
    r.results.first().map_or(0.0, |p| p.seconds)
}

/// The matrix as a Markdown table (what README.md shows).
pub fn to_markdown(reports: &[CheckReport]) -> String {
    let cols = columns(reports);
    let mut out = String::from("| model | variant | bounds | states |");
    for c in &cols {
        out.push_str(&format!(" `{c}` |"));
    }
    out.push_str(" seconds |\n|---|---|---|---:|");
    for _ in &cols {
        out.push_str("---|");
    }
    out.push_str("---:|\n");
    for r in reports {
        out.push_str(&format!(
            "| {} | {} | {} | {} |",
            r.model,
            r.variant,
            r.bounds.describe(),
            states(r)
        ));
        for c in &cols {
            out.push_str(&format!(" {} |", cell(r, c, true)));
        }
        out.push_str(&format!(" {:.2} |\n", seconds(r)));
    }
    out
}

/// The matrix as plain text: one block per model, a line per variant and property.
pub fn to_text(reports: &[CheckReport]) -> String {
    let mut out = String::new();
    let mut last_model = "";
    for r in reports {
        if r.model != last_model {
            out.push_str(&format!("\n{}  [{}]\n", r.model, r.bounds.describe()));
            last_model = &r.model;
        }
        out.push_str(&format!(
            "  {:<26} {} states, {:.2}s\n",
            r.variant,
            states(r),
            seconds(r)
        ));
        for p in &r.results {
            out.push_str(&format!(
                "    {:<28} {}\n",
                p.property,
                cell(r, p.property, false)
            ));
        }
    }
    out
}

/// The matrix as JSON: one object per model variant with its verdicts.
pub fn to_json(reports: &[CheckReport]) -> Value {
    json!(reports
        .iter()
        .map(|r| json!({
            "model": r.model,
            "variant": r.variant,
            "bounds": r.bounds,
            "complete": r.complete,
            "unique_states": states(r),
            "seconds": seconds(r),
            "verdicts": r.results.iter().map(|p| (p.property.to_string(), json!({
                "verdict": p.verdict,
                "expected": p.expected,
                "trace_len": p.trace.as_ref().map(|t| t.len()),
            }))).collect::<serde_json::Map<_, _>>(),
        }))
        .collect::<Vec<_>>())
}
