//! Re-checks every recorded verdict in `proofs/`: each model variant is checked again by
//! BFS at its proof bounds and the result must match the file byte for byte.
//! `BLESS=1 cargo test --test proofs` rewrites the files (review the diff first).

use serde_json::Value;
use splitbrain::models;
use splitbrain::proofs::{manifest, manifest_path, proof_path, record_variant};
use std::path::Path;

/// Writes `text` to `path` by a temporary file renamed into place.
fn bless(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Where `recorded` first differs from `fresh`, for the message.
fn difference(path: &Path, recorded: &str, fresh: &str) -> String {
    let first = (recorded.lines().zip(fresh.lines()))
        .position(|(a, b)| a != b)
        .unwrap_or(recorded.lines().count().min(fresh.lines().count()));
    format!(
        "{}: differs from a fresh check at line {}:\n  recorded: {}\n  fresh:    {}",
        path.display(),
        first + 1,
        recorded.lines().nth(first).unwrap_or("<end of file>"),
        fresh.lines().nth(first).unwrap_or("<end of file>")
    )
}

/// Writes `fresh` to `path` when blessing; otherwise adds to `stale` where the recorded
/// file differs from it.
fn keep(path: &Path, fresh: &str, bless_all: bool, stale: &mut Vec<String>) {
    if bless_all {
        return bless(path, fresh);
    }
    match std::fs::read_to_string(path) {
        Ok(recorded) if recorded == fresh => {}
        Ok(recorded) => stale.push(difference(path, &recorded, fresh)),
        Err(e) => stale.push(format!("{}: {e}", path.display())),
    }
}

#[test]
fn every_recorded_proof_matches_a_fresh_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bless_all = std::env::var_os("BLESS").is_some_and(|v| v != "0");
    let mut stale = Vec::new();
    let mut checked = 0;
    for arch in models::catalog() {
        let mut entries = Vec::new();
        for v in arch.variants() {
            let (fresh, entry) = record_variant(arch, v).expect("proof bounds are valid bounds");
            entries.push(entry);
            checked += 1;
            keep(&proof_path(root, arch, v), &fresh, bless_all, &mut stale);
        }
        let fresh = format!("{:#}\n", manifest(arch, entries));
        keep(&manifest_path(root, arch), &fresh, bless_all, &mut stale);
    }
    assert!(checked > 0);
    assert!(
        stale.is_empty(),
        "proofs/ is out of date (regenerate with BLESS=1 cargo test --test proofs after reviewing):\n{}",
        stale.join("\n")
    );
}

/// Checks `v` against the part of JSON Schema the manifest schema uses (type, enum,
/// minimum, required, properties, additionalProperties, items); the errors found.
fn validate(v: &Value, schema: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let is = |t: &str| match t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "integer" => v.is_u64() || v.is_i64(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            _ => false,
        };
        if !types.iter().any(|t| is(t)) {
            errors.push(format!("{at}: {v} is not {types:?}"));
            return;
        }
    }
    if let Some(Value::Array(allowed)) = schema.get("enum") {
        if !allowed.contains(v) {
            errors.push(format!("{at}: {v} is not one of {allowed:?}"));
        }
    }
    if let (Some(min), Some(n)) = (schema.get("minimum").and_then(Value::as_i64), v.as_i64()) {
        if n < min {
            errors.push(format!("{at}: {n} is below {min}"));
        }
    }
    if let Some(items) = schema.get("items") {
        for (i, x) in v.as_array().into_iter().flatten().enumerate() {
            validate(x, items, &format!("{at}[{i}]"), errors);
        }
    }
    let Some(obj) = v.as_object() else { return };
    for r in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if !obj.contains_key(r.as_str().unwrap_or("")) {
            errors.push(format!("{at}: lacks {r}"));
        }
    }
    let props = schema.get("properties").and_then(Value::as_object);
    for (k, x) in obj {
        match (
            props.and_then(|p| p.get(k)),
            schema.get("additionalProperties"),
        ) {
            (Some(s), _) => validate(x, s, &format!("{at}.{k}"), errors),
            (None, Some(Value::Bool(false))) => errors.push(format!("{at}: unexpected key {k}")),
            (None, Some(s)) if s.is_object() => validate(x, s, &format!("{at}.{k}"), errors),
            _ => {}
        }
    }
}

#[test]
fn every_manifest_follows_the_schema_and_the_expectations() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |p: &Path| -> Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    };
    let schema = read(&root.join("proofs/manifest.schema.json"));
    for arch in models::catalog() {
        let path = manifest_path(root, arch);
        let m = read(&path);
        let mut errors = Vec::new();
        validate(&m, &schema, "manifest", &mut errors);
        assert!(
            errors.is_empty(),
            "{}:\n{}",
            path.display(),
            errors.join("\n")
        );
        // The schema checks shapes; these are the facts a manifest must tell.
        let variants = m["variants"].as_array().unwrap();
        assert_eq!(variants.len(), arch.variants().len(), "{}", path.display());
        for v in variants {
            for c in v["checks"].as_array().unwrap() {
                assert_eq!(c["complete"], true, "{}: {}", path.display(), v["variant"]);
                for (name, p) in c["properties"].as_object().unwrap() {
                    assert_eq!(p["verdict"], p["expected"], "{}: {name}", path.display());
                    assert_eq!(
                        p["shortest_trace"].is_null(),
                        p["verdict"] == "holds" && p["kind"] != "sometimes",
                        "{}: {name}: a violation has its trace, a holds none",
                        path.display()
                    );
                }
            }
        }
    }
    // The validator itself catches a wrong manifest.
    let mut errors = Vec::new();
    validate(
        &serde_json::json!({"model": 3, "extra": true}),
        &schema,
        "m",
        &mut errors,
    );
    assert!(errors.len() >= 3, "{errors:?}");
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
