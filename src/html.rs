//! `splitbrain report`: one self-contained HTML page (no scripts, no network) with the
//! matrix of every model, variant and property, and every minimal counterexample as an
//! SVG sequence diagram: actors as lanes, messages as arrows, lost messages crossed out,
//! the state change under each step, and the breaking step in red.

use crate::matrix;
use crate::property::Kind;
use crate::report::{CheckReport, Verdict};
use crate::trace::Trace;

/// Escapes text for HTML and SVG.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const LANE: usize = 190;
const ROW: usize = 58;
const TOP: usize = 60;

/// The actors of a trace, in the order its start line names them.
fn lanes(t: &Trace) -> Vec<String> {
    let mut names: Vec<String> = t
        .start
        .iter()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    for s in &t.steps {
        for a in std::iter::once(&s.actor).chain(s.to.as_ref()) {
            if !names.contains(a) {
                names.push(a.clone());
            }
        }
    }
    names
}

/// One trace as an SVG sequence diagram. Every message step (delivered or lost) is one
/// element of class `arrow`; the last step, the one that breaks the property, has class
/// `breaking`.
pub fn trace_svg(t: &Trace, broken: &str) -> String {
    let names = lanes(t);
    let x = |name: &str| names.iter().position(|n| n == name).unwrap_or(0) * LANE + LANE / 2;
    let width = names.len().max(1) * LANE;
    let height = TOP + t.steps.len() * ROW + 70;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"sequence\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n"
    );
    out.push_str("<defs><marker id=\"head\" markerUnits=\"userSpaceOnUse\" markerWidth=\"10\" markerHeight=\"8\" refX=\"9\" refY=\"4\" orient=\"auto\"><path d=\"M0,0 L10,4 L0,8 z\" fill=\"#333\"/></marker>\
<marker id=\"headred\" markerUnits=\"userSpaceOnUse\" markerWidth=\"10\" markerHeight=\"8\" refX=\"9\" refY=\"4\" orient=\"auto\"><path d=\"M0,0 L10,4 L0,8 z\" fill=\"#c00\"/></marker></defs>\n");
    for n in &names {
        let cx = x(n);
        out.push_str(&format!(
            "<g class=\"lane\"><rect x=\"{}\" y=\"10\" width=\"{}\" height=\"26\" rx=\"5\" fill=\"#eef\" stroke=\"#669\"/>\
<text x=\"{cx}\" y=\"28\" text-anchor=\"middle\" font-weight=\"bold\">{}</text>\
<line x1=\"{cx}\" y1=\"36\" x2=\"{cx}\" y2=\"{}\" stroke=\"#aab\" stroke-dasharray=\"4 4\"/></g>\n",
            cx - LANE / 2 + 10,
            LANE - 20,
            escape(n),
            height - 30
        ));
    }
    let last = t.steps.len();
    for s in &t.steps {
        let y = TOP + (s.step - 1) * ROW + 20;
        let breaking = s.step == last;
        let color = if breaking { "#c00" } else { "#333" };
        let class = if breaking { " breaking" } else { "" };
        let label = escape(&format!("{}. {}", s.step, s.text));
        match &s.to {
            Some(to) => {
                let (x1, x2) = (x(&s.actor), x(to));
                let lost = s.action == "lose";
                let end = if lost { (x1 + x2) / 2 } else { x2 };
                let marker = if breaking { "headred" } else { "head" };
                out.push_str(&format!(
                    "<g class=\"arrow{}{class}\"><line x1=\"{x1}\" y1=\"{y}\" x2=\"{end}\" y2=\"{y}\" stroke=\"{color}\" stroke-width=\"{}\"{}{}/>",
                    if lost { " lost" } else { "" },
                    if breaking { 2 } else { 1 },
                    if lost { " stroke-dasharray=\"6 3\"" } else { "" },
                    if lost { String::new() } else { format!(" marker-end=\"url(#{marker})\"") },
                ));
                if lost {
                    out.push_str(&format!(
                        "<path d=\"M{} {} l10 10 M{} {} l-10 10\" stroke=\"#c00\" stroke-width=\"2\"/>",
                        end - 5,
                        y - 5,
                        end + 5,
                        y - 5
                    ));
                }
                let mid = (x1 + x2) / 2;
                out.push_str(&format!(
                    "<text x=\"{mid}\" y=\"{}\" text-anchor=\"middle\" fill=\"{color}\">{label}</text></g>\n",
                    y - 6
                ));
            }
            None => {
                let cx = x(&s.actor);
                out.push_str(&format!(
                    "<g class=\"local{class}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"20\" rx=\"4\" fill=\"#ffd\" stroke=\"{color}\"/>\
<text x=\"{cx}\" y=\"{}\" text-anchor=\"middle\" fill=\"{color}\">{label}</text></g>\n",
                    cx - LANE / 2 + 6,
                    y - 14,
                    LANE - 12,
                    y
                ));
            }
        }
        if !s.changes.is_empty() {
            let over = x(s.to.as_deref().unwrap_or(&s.actor));
            out.push_str(&format!(
                "<text class=\"change\" x=\"{over}\" y=\"{}\" text-anchor=\"middle\" fill=\"#06c\" font-size=\"11\">{}</text>\n",
                y + 18,
                escape(&s.changes.join("; "))
            ));
        }
    }
    out.push_str(&format!(
        "<text class=\"broken\" x=\"10\" y=\"{}\" fill=\"#c00\" font-weight=\"bold\">{}</text>\n",
        height - 12,
        escape(&format!("{broken}: {}", t.values))
    ));
    out.push_str("</svg>\n");
    out
}

fn verdict_cell(r: &CheckReport, property: &str) -> String {
    match r.results.iter().find(|p| p.property == property) {
        None => "<td class=\"na\">·</td>".to_string(),
        Some(p) => {
            let text = match (&p.verdict, &p.trace) {
                (Verdict::Violated, Some(t)) => format!(
                    "<a href=\"#{}-{}-{}\">violated ({})</a>",
                    r.model,
                    r.variant,
                    p.property,
                    t.len()
                ),
                (v, _) => v.as_str().to_string(),
            };
            let mark = if p.unexpected() { " UNEXPECTED" } else { "" };
            format!("<td class=\"{}\">{text}{mark}</td>", p.verdict.as_str())
        }
    }
}

/// The whole page for a set of checks (normally the matrix of the catalog).
pub fn page(reports: &[CheckReport]) -> String {
    let mut cols: Vec<&str> = Vec::new();
    for r in reports {
        for p in &r.results {
            if !cols.contains(&p.property) {
                cols.push(p.property);
            }
        }
    }
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>splitbrain report</title>\n<style>\
body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;font-size:13px}\
th,td{border:1px solid #ccc;padding:4px 8px}th{background:#f4f4f8}td.violated{background:#fdd}\
td.holds{background:#dfd}td.incomplete{background:#ffd}td.na{color:#aaa;text-align:center}\
pre{background:#f8f8f8;padding:1em;overflow-x:auto;font-size:12px}section{margin-top:2.5em}\
svg.sequence{border:1px solid #ddd;background:#fff;display:block;margin:1em 0}\
</style></head><body>\n<h1>splitbrain report</h1>\n\
<p>Every model and variant of the catalog against every property that applies, checked \
exhaustively at the bounds shown. A violated cell links to the shortest counterexample, \
drawn as a sequence diagram (actors as lanes, messages as arrows, lost messages crossed \
out, state changes in blue, the breaking step in red).</p>\n<h2>Matrix</h2>\n<table>\n<tr><th>model</th><th>variant</th><th>bounds</th><th>states</th>",
    );
    for c in &cols {
        out.push_str(&format!("<th>{}</th>", escape(c)));
    }
    out.push_str("</tr>\n");
    for r in reports {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
            escape(&r.model),
            escape(&r.variant),
            escape(&r.bounds.describe()),
            r.results.first().map_or(0, |p| p.unique_states)
        ));
        for c in &cols {
            out.push_str(&verdict_cell(r, c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    for r in reports {
        for p in &r.results {
            let Some(t) = &p.trace else { continue };
            if p.verdict != Verdict::Violated {
                continue;
            }
            let label = if p.kind == Kind::Sometimes {
                "reached"
            } else {
                "broken"
            };
            out.push_str(&format!(
                "<section class=\"trace\" id=\"{}-{}-{}\">\n<h2>{}/{}: {} violated in {} steps</h2>\n<p>{}</p>\n",
                r.model,
                r.variant,
                p.property,
                escape(&r.model),
                escape(&r.variant),
                escape(p.property),
                t.len(),
                escape(p.claim)
            ));
            out.push_str(&trace_svg(t, &format!("{label}: {}", p.claim)));
            out.push_str(&format!(
                "<pre>{}</pre>\n</section>\n",
                escape(&r.story(p, t))
            ));
        }
    }
    out.push_str("</body></html>\n");
    out
}

/// Checks the catalog and writes `dir/index.html` atomically (a temporary file renamed
/// into place). Returns the checks and the page's path.
pub fn write_report(
    dir: &std::path::Path,
) -> Result<(Vec<CheckReport>, std::path::PathBuf), crate::error::Error> {
    let reports = matrix::compute(&crate::check::CheckOptions::default())?;
    let html = page(&reports);
    std::fs::create_dir_all(dir).map_err(|e| {
        crate::error::Error::BadInput(format!("cannot create {}: {e}", dir.display()))
    })?;
    let path = dir.join("index.html");
    crate::files::write_output(
        &path,
        html.as_bytes(),
        crate::files::Existing::Replace,
        None,
    )?;
    Ok((reports, path))
}
