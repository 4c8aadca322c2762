//! The command-line contract of the `splitbrain` binary: exit codes, error messages,
//! `--format json|mermaid|text`, `list`, `--help`, and reproducible traces.
//!
//! Every test runs the real binary. Exit codes: 0 every verdict as expected, 1 a verdict
//! differs from its variant's expectation, 2 bad input, 3 a search was incomplete.

use serde_json::Value;
use std::process::Command;

const MODEL: &str = "master-master";
const VARIANTS: [&str; 3] = ["async-ops", "lww", "home-master"];
const PROPERTIES: [&str; 4] = [
    "no_negative_balance",
    "money_conserved",
    "replicas_converge",
    "approvals_within_funds",
];

/// Runs the binary with `args`; returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .args(args)
        .output()
        .expect("the splitbrain binary runs");
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("splitbrain {args:?} was killed by a signal"));
    (
        code,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the binary and asserts its exit code; returns stdout.
fn run_expecting(code: i32, args: &[&str]) -> String {
    let (got, out, err) = run(args);
    assert_eq!(
        got, code,
        "splitbrain {args:?}: exit {got}, wanted {code}\n--- stdout\n{out}--- stderr\n{err}"
    );
    assert!(
        !err.contains("panicked"),
        "splitbrain {args:?} panicked:\n{err}"
    );
    out
}

/// Parses every stdout line as one JSON object.
fn json_lines(args: &[&str], stdout: &str) -> Vec<Value> {
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("splitbrain {args:?}: line is not JSON ({e}): {l}"))
        })
        .collect();
    assert!(!lines.is_empty(), "splitbrain {args:?} printed no JSON");
    lines
}

/// The result object of `property` in a JSON report.
fn result<'a>(report: &'a Value, property: &str) -> &'a Value {
    report["results"]
        .as_array()
        .expect("results is an array")
        .iter()
        .find(|r| r["property"] == property)
        .unwrap_or_else(|| panic!("no result for {property} in {report}"))
}

/// The stories of a text report: (reproduce command, story lines from its header line to
/// its reproduce line).
fn stories(text: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let is_header = !line.starts_with(' ')
            && (line.contains("  VIOLATED  (") || line.contains("  EXAMPLE ("));
        if is_header {
            current = Some(String::new());
        }
        if let Some(story) = current.as_mut() {
            story.push_str(line);
            story.push('\n');
            if let Some(cmd) = line.trim_start().strip_prefix("reproduce: ") {
                found.push((cmd.to_string(), current.take().unwrap_or_default()));
            }
        }
    }
    found
}

// ---------------------------------------------------------------------------------------
// Exit codes 0, 3 and 1
// ---------------------------------------------------------------------------------------

#[test]
fn exit_0_when_every_verdict_is_as_expected() {
    for args in [
        &["check", MODEL][..],
        &["check", MODEL, "--variant", "async-ops"],
        &[
            "check",
            MODEL,
            "--variant",
            "home-master",
            "--format",
            "json",
        ],
    ] {
        let out = run_expecting(0, args);
        assert!(!out.contains("UNEXPECTED"), "{args:?}:\n{out}");
        assert!(!out.contains("INCOMPLETE"), "{args:?}:\n{out}");
    }
}

#[test]
fn exit_3_when_a_search_is_incomplete() {
    for args in [
        &[
            "check",
            MODEL,
            "--variant",
            "home-master",
            "--max-states",
            "3",
        ][..],
        &[
            "check",
            MODEL,
            "--variant",
            "home-master",
            "--max-depth",
            "2",
        ],
        // The random engine never proves a property holds.
        &[
            "check",
            MODEL,
            "--variant",
            "home-master",
            "--engine",
            "random",
        ],
        &[
            "check",
            MODEL,
            "--variant",
            "async-ops",
            "--engine",
            "random",
        ],
    ] {
        let mut json_args = args.to_vec();
        json_args.extend(["--format", "json"]);
        let out = run_expecting(3, &json_args);
        let reports = json_lines(&json_args, &out);
        assert_eq!(reports.len(), 1, "{json_args:?}");
        let report = &reports[0];
        assert_eq!(report["complete"], false, "{json_args:?}: {report}");
        let results = report["results"].as_array().expect("results is an array");
        assert!(
            results.iter().any(|r| r["verdict"] == "incomplete"),
            "{json_args:?}: no incomplete verdict in {report}"
        );
        assert!(
            results
                .iter()
                .all(|r| r["verdict"] == "incomplete" || r["verdict"] == r["expected"]),
            "{json_args:?}: a decided verdict differs from its expectation: {report}"
        );
        // The text report says so too.
        let text = run_expecting(3, args);
        assert!(
            text.contains("INCOMPLETE") || text.contains("incomplete"),
            "{args:?}:\n{text}"
        );
    }
}

#[test]
fn exit_1_when_a_verdict_differs_from_the_expectation() {
    // With $100 in the account a $10 burrito and a $5 taco never overdraw it, so
    // no_negative_balance holds where async-ops expects it violated.
    for args in [
        &["check", MODEL, "--variant", "async-ops", "--balance", "100"][..],
        &[
            "check",
            MODEL,
            "--variant",
            "async-ops",
            "--loss",
            "0",
            "--balance",
            "100",
        ],
    ] {
        let text = run_expecting(1, args);
        assert!(text.contains("UNEXPECTED"), "{args:?}:\n{text}");

        let mut json_args = args.to_vec();
        json_args.extend(["--format", "json"]);
        let out = run_expecting(1, &json_args);
        let reports = json_lines(&json_args, &out);
        let r = result(&reports[0], "no_negative_balance");
        assert_eq!(r["expected"], "violated", "{r}");
        assert_eq!(r["verdict"], "holds", "{r}");
        assert_eq!(r["as_expected"], false, "{r}");
        assert!(
            r.get("trace").is_none(),
            "a holding property has no trace: {r}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Exit code 2: bad input
// ---------------------------------------------------------------------------------------

/// Asserts exit 2, nothing on stdout, a non-empty stderr without a panic that mentions
/// every one of `needles`.
fn assert_bad_input(args: &[&str], needles: &[&str]) {
    let (code, out, err) = run(args);
    let shown = format!("splitbrain {args:?}: exit {code}\n--- stdout\n{out}--- stderr\n{err}");
    assert_eq!(code, 2, "{shown}");
    assert!(!err.trim().is_empty(), "stderr is empty: {shown}");
    assert!(!err.contains("panicked"), "{shown}");
    assert!(out.is_empty(), "bad input printed a report: {shown}");
    for n in needles {
        assert!(err.contains(n), "stderr does not mention {n:?}: {shown}");
    }
}

#[test]
fn exit_2_unknown_model_variant_or_property_lists_the_valid_choices() {
    assert_bad_input(&["check", "no-such-model"], &["no-such-model", MODEL]);

    let mut needles = vec!["no-such-variant"];
    needles.extend(VARIANTS);
    assert_bad_input(&["check", MODEL, "--variant", "no-such-variant"], &needles);

    let mut needles = vec!["no_such_property"];
    needles.extend(PROPERTIES);
    assert_bad_input(
        &["check", MODEL, "--property", "no_such_property"],
        &needles,
    );
    // Also when it follows a valid one, and in JSON mode.
    assert_bad_input(
        &[
            "check",
            MODEL,
            "--variant",
            "async-ops",
            "--property",
            "money_conserved",
            "--property",
            "no_such_property",
            "--format",
            "json",
        ],
        &needles,
    );
}

#[test]
fn exit_2_bounds_out_of_range() {
    let cases: &[(&[&str], &[&str])] = &[
        (&["--clients", "0"], &["--clients 0"]),
        (&["--clients", "300"], &["--clients", "300"]),
        (&["--clients", "9"], &["--clients 9"]),
        (&["--servers", "1"], &["--servers 1"]),
        (&["--servers", "6"], &["--servers 6"]),
        (&["--balance", "-5"], &["--balance -5"]),
        (&["--ops", "0"], &["--ops 0"]),
        (
            &["--clients", "3", "--ops", "9"],
            &["--clients 3", "--ops 9"],
        ),
        (&["--crashes", "2", "--servers", "2"], &["--crashes 2"]),
        (&["--loss", "9"], &["--loss 9"]),
    ];
    for (extra, needles) in cases {
        let mut args = vec!["check", MODEL];
        args.extend_from_slice(extra);
        assert_bad_input(&args, needles);
    }
}

#[test]
fn exit_2_bad_flags_and_values() {
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["--network", "bogus"],
            &["--network", "bogus", "ordered", "unordered", "duplicating"],
        ),
        (
            &["--engine", "bogus"],
            &["--engine", "bogus", "bfs", "random"],
        ),
        (&["--format", "bogus"], &["--format", "bogus", "mermaid"]),
        (&["--timeout", "0"], &["--timeout", "'0'"]),
        (&["--timeout", "abc"], &["--timeout", "abc"]),
        (&["--threads", "0"], &["--threads", "'0'"]),
        (
            &["--reduce", "bogus"],
            &["--reduce", "bogus", "none", "por"],
        ),
        (
            &["--reduce", "por", "--engine", "random"],
            &["--reduce por", "--engine random", "--reduce none"],
        ),
        (&["--max-states", "0"], &["--max-states", "'0'"]),
        (&["--frobnicate"], &["--frobnicate"]),
    ];
    for (extra, needles) in cases {
        let mut args = vec!["check", MODEL];
        args.extend_from_slice(extra);
        assert_bad_input(&args, needles);
    }
    assert_bad_input(&["list", "--format", "bogus"], &["--format", "bogus"]);
    assert_bad_input(&["frobnicate"], &["frobnicate"]);
}

#[test]
fn exit_2_missing_subcommand_or_model() {
    // No subcommand: the usage, naming the subcommands.
    assert_bad_input(&[], &["Usage", "check", "list"]);
    // `check` without a model.
    assert_bad_input(&["check"], &["<MODEL>"]);
}

// ---------------------------------------------------------------------------------------
// --format json
// ---------------------------------------------------------------------------------------

#[test]
fn json_reports_have_the_stable_keys() {
    let args = ["check", MODEL, "--format", "json"];
    let out = run_expecting(0, &args);
    let reports = json_lines(&args, &out);
    assert_eq!(
        reports.len(),
        VARIANTS.len(),
        "one line per variant:\n{out}"
    );
    for (report, variant) in reports.iter().zip(VARIANTS) {
        for key in ["model", "variant", "bounds", "engine", "reduce", "results"] {
            assert!(report.get(key).is_some(), "no {key:?} in {report}");
        }
        assert_eq!(report["model"], MODEL);
        assert_eq!(report["variant"], variant);
        assert_eq!(report["engine"], "bfs");
        assert_eq!(report["reduce"], "none");
        assert!(report["bounds"].is_object(), "{report}");
        let results = report["results"].as_array().expect("results is an array");
        let names: Vec<&str> = results
            .iter()
            .map(|r| r["property"].as_str().expect("property is a string"))
            .collect();
        assert_eq!(names, PROPERTIES, "{report}");
        for r in results {
            for key in [
                "property",
                "claim",
                "kind",
                "expected",
                "verdict",
                "unique_states",
                "max_depth",
                "seconds",
            ] {
                assert!(r.get(key).is_some(), "no {key:?} in result {r}");
            }
            assert!(r["unique_states"].is_u64(), "{r}");
            assert!(r["max_depth"].is_u64(), "{r}");
            assert!(r["seconds"].is_number(), "{r}");
            for key in ["expected", "verdict"] {
                let v = r[key].as_str().expect("a verdict is a string");
                assert!(["holds", "violated", "incomplete"].contains(&v), "{r}");
            }
            if r["kind"] == "always" && r["verdict"] == "violated" {
                let trace = r["trace"]
                    .as_array()
                    .unwrap_or_else(|| panic!("a violated always-property has a trace array: {r}"));
                assert!(!trace.is_empty(), "{r}");
                for (i, step) in trace.iter().enumerate() {
                    for key in ["step", "actor", "action", "text"] {
                        assert!(step.get(key).is_some(), "no {key:?} in step {step}");
                    }
                    assert_eq!(step["step"], i + 1, "steps are numbered from 1: {step}");
                }
            }
        }
    }
}

#[test]
fn json_async_ops_no_negative_balance_trace_ends_with_the_replication() {
    let args = ["check", MODEL, "--variant", "async-ops", "--format", "json"];
    let out = run_expecting(0, &args);
    let reports = json_lines(&args, &out);
    assert_eq!(reports.len(), 1);
    let r = result(&reports[0], "no_negative_balance");
    assert_eq!(r["kind"], "always");
    assert_eq!(r["verdict"], "violated");
    let trace = r["trace"].as_array().expect("a trace");
    assert!(
        !trace.is_empty() && trace.len() <= 4,
        "the shortest counterexample has at most 4 steps, got {}: {r}",
        trace.len()
    );
    let last = trace.last().expect("a last step");
    let text = last["text"].as_str().expect("step text is a string");
    assert!(
        text.contains("replicate"),
        "the last step is the replication: {last}"
    );
}

// ---------------------------------------------------------------------------------------
// --format mermaid
// ---------------------------------------------------------------------------------------

#[test]
fn mermaid_output_is_a_commented_sequence_diagram() {
    let out = run_expecting(
        0,
        &[
            "check",
            MODEL,
            "--variant",
            "async-ops",
            "--format",
            "mermaid",
        ],
    );
    assert!(out.starts_with("%%"), "starts with a %% comment:\n{out}");
    assert!(out.contains("sequenceDiagram"), "{out}");
    // One diagram per trace: no_negative_balance and approvals_within_funds.
    assert_eq!(out.matches("sequenceDiagram").count(), 2, "{out}");
    assert!(out.contains("no_negative_balance"), "{out}");

    // A variant without traces still prints a comment, and nothing else.
    let out = run_expecting(
        0,
        &[
            "check",
            MODEL,
            "--variant",
            "home-master",
            "--format",
            "mermaid",
        ],
    );
    assert!(out.starts_with("%%"), "{out}");
    assert!(!out.contains("sequenceDiagram"), "{out}");
}

// ---------------------------------------------------------------------------------------
// Text output and reproducibility
// ---------------------------------------------------------------------------------------

#[test]
fn text_tells_the_burrito_and_the_taco() {
    let out = run_expecting(0, &["check", MODEL, "--variant", "async-ops"]);
    for needle in [
        "VIOLATED  (shortest: 4 steps)",
        "jose -> master1",
        "withdraw $10 (burrito)",
        "master2 balance: 5 -> -5",
    ] {
        assert!(out.contains(needle), "no {needle:?} in:\n{out}");
    }
    assert!(
        out.lines().any(|l| l
            .trim_start()
            .starts_with("reproduce: splitbrain check master-master --variant async-ops")),
        "no reproduce line in:\n{out}"
    );
}

/// Runs every reproduce command printed by `args` (which exits `code` and tells `traces`
/// stories) and checks it tells the same story; returns the commands.
fn assert_reproducible(args: &[&str], code: i32, traces: usize) -> Vec<String> {
    let out = run_expecting(code, args);
    let found = stories(&out);
    assert_eq!(found.len(), traces, "{args:?}: stories told:\n{out}");
    for (cmd, story) in &found {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        assert_eq!(words.first(), Some(&"splitbrain"), "{cmd}");
        // The reproduced property is violated (or reached) as its variant expects.
        let again = run_expecting(0, &words[1..]);
        let again_stories = stories(&again);
        assert_eq!(
            again_stories.len(),
            1,
            "`{cmd}` should tell one story:\n{again}"
        );
        assert_eq!(&again_stories[0].0, cmd, "the reproduce command is stable");
        assert_eq!(&again_stories[0].1, story, "`{cmd}` told a different story");
    }
    found.into_iter().map(|(cmd, _)| cmd).collect()
}

#[test]
fn reproduce_commands_replay_the_same_trace() {
    // Every variant, exhaustive engine: two traces for async-ops, two for lww.
    assert_reproducible(&["check", MODEL], 0, 4);
    // Non-default bounds appear in the reproduce command.
    let cmds = assert_reproducible(
        &["check", MODEL, "--variant", "async-ops", "--crashes", "1"],
        0,
        2,
    );
    assert!(cmds.iter().all(|c| c.contains("--crashes 1")), "{cmds:?}");
    // The random engine: the printed seed draws the same schedule.
    let cmds = assert_reproducible(
        &[
            "check",
            MODEL,
            "--variant",
            "async-ops",
            "--engine",
            "random",
        ],
        3,
        2,
    );
    assert!(
        cmds.iter().all(|c| c.contains("--engine random --seed 0")),
        "{cmds:?}"
    );
}

#[test]
fn json_traces_are_deterministic() {
    let args = ["check", MODEL, "--format", "json"];
    let traces = |out: &str| -> Vec<Value> {
        json_lines(&args, out)
            .iter()
            .flat_map(|r| r["results"].as_array().cloned().unwrap_or_default())
            .map(|r| r["trace"].clone())
            .collect()
    };
    let first = traces(&run_expecting(0, &args));
    let second = traces(&run_expecting(0, &args));
    assert_eq!(first, second);
}

// ---------------------------------------------------------------------------------------
// list and --help
// ---------------------------------------------------------------------------------------

#[test]
fn list_names_every_variant_and_property() {
    let out = run_expecting(0, &["list"]);
    assert!(out.contains(MODEL), "{out}");
    for name in VARIANTS.iter().chain(PROPERTIES.iter()) {
        assert!(out.contains(name), "list does not name {name}:\n{out}");
    }
}

#[test]
fn list_json_parses_and_matches_check() {
    let out = run_expecting(0, &["list", "--format", "json"]);
    let catalog: Value = serde_json::from_str(&out).expect("list --format json is JSON");
    let models = catalog.as_array().expect("the catalog is an array");
    let mm = models
        .iter()
        .find(|m| m["model"] == MODEL)
        .unwrap_or_else(|| panic!("no {MODEL} in {catalog}"));
    let props: Vec<&str> = mm["properties"]
        .as_array()
        .expect("properties is an array")
        .iter()
        .map(|p| p["name"].as_str().expect("a property name"))
        .collect();
    assert_eq!(props, PROPERTIES);
    let variants = mm["variants"].as_array().expect("variants is an array");
    let names: Vec<&str> = variants
        .iter()
        .map(|v| v["variant"].as_str().expect("a variant name"))
        .collect();
    assert_eq!(names, VARIANTS);

    // The expectations `list` shows are the ones `check` judges against.
    let args = ["check", MODEL, "--format", "json"];
    let reports = json_lines(&args, &run_expecting(0, &args));
    for (v, report) in variants.iter().zip(&reports) {
        assert_eq!(v["variant"], report["variant"]);
        for p in PROPERTIES {
            assert_eq!(
                v["expected"][p],
                result(report, p)["expected"],
                "{p} of {}",
                v["variant"]
            );
        }
    }
}

#[test]
fn help_and_version_exit_0() {
    let out = run_expecting(0, &["--help"]);
    for needle in ["Usage", "check", "list"] {
        assert!(out.contains(needle), "--help lacks {needle:?}:\n{out}");
    }
    let out = run_expecting(0, &["check", "--help"]);
    for needle in ["--variant", "--engine", "--format", "--max-states"] {
        assert!(
            out.contains(needle),
            "check --help lacks {needle:?}:\n{out}"
        );
    }
    let out = run_expecting(0, &["--version"]);
    assert!(out.contains("splitbrain"), "{out}");
}

/// `--reduce por` says what it did: how many states it expanded reduced, or why it could
/// not reduce any; JSON carries `reduce`, and the verdicts are those of `--reduce none`.
#[test]
fn reduce_por_says_what_it_did() {
    let check = |reduce: &str| {
        let args = ["check", "master-master", "--clients", "3", "--servers", "3"];
        let more = ["--format", "json", "--quiet", "--reduce", reduce];
        run_expecting(0, &[&args[..], &more[..]].concat())
    };
    let (none, por) = (check("none"), check("por"));
    for (n, p) in none.lines().zip(por.lines()) {
        let (n, p): (Value, Value) = (
            serde_json::from_str(n).unwrap(),
            serde_json::from_str(p).unwrap(),
        );
        assert_eq!(p["reduce"], "por");
        assert!(
            p["end"]
                .as_str()
                .unwrap()
                .contains("states expanded with a persistent set"),
            "{p}"
        );
        assert!(
            p["command"].as_str().unwrap().contains("--reduce por"),
            "{p}"
        );
        let verdicts = |r: &Value| {
            r["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| {
                    (
                        x["property"].clone(),
                        x["verdict"].clone(),
                        x["trace"].as_array().map(Vec::len),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(verdicts(&n), verdicts(&p));
    }
    let rr = run_expecting(
        0,
        &[
            "check",
            "read-replica",
            "--variant",
            "read-primary-after-write",
            "--reduce",
            "por",
            "--quiet",
        ],
    );
    // Nobody reads the replica: deliveries to it are sets of their own, although
    // `linearizable` keeps client steps from being reduced.
    assert!(rr.contains("states expanded with a persistent set"), "{rr}");
    let ll = run_expecting(
        0,
        &[
            "check",
            "leaderless",
            "--variant",
            "quorum",
            "--reduce",
            "por",
            "--quiet",
        ],
    );
    // Late acks are forgotten, and the replicas the reader waits on take their steps
    // alone, on paths shortest as found.
    assert!(
        ll.contains("states expanded with a persistent set or without crashes that only delay, ")
            && ll.contains(" found with what nobody will read forgotten (messages, parts of replies); paths shortest as found (only quiet actors' sets were named)"),
        "{ll}"
    );
}

/// `--reduce symmetry` says which servers it took as interchangeable, counts fewer states
/// with the verdicts and trace lengths of `--reduce none`, carries `reduce` and the
/// option in the reproduce command; on a model without interchangeable servers it says
/// so and counts the same states.
#[test]
fn reduce_symmetry_says_what_it_did() {
    let check = |model: &str, reduce: &str| {
        let args = [
            "check", model, "--format", "json", "--quiet", "--reduce", reduce,
        ];
        run_expecting(0, &args)
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .collect::<Vec<_>>()
    };
    let summary = |r: &Value| {
        let results = r["results"].as_array().unwrap();
        let states = results[0]["unique_states"].as_u64().unwrap();
        let verdicts: Vec<_> = results
            .iter()
            .map(|x| (x["verdict"].clone(), x["trace"].as_array().map(Vec::len)))
            .collect();
        (states, verdicts)
    };
    let (none, sym) = (check("leaderless", "none"), check("leaderless", "symmetry"));
    assert_eq!(none.len(), sym.len());
    let mut fewer = 0;
    for (n, s) in none.iter().zip(&sym) {
        assert_eq!(s["reduce"], "symmetry");
        assert!(
            s["command"].as_str().unwrap().contains("--reduce symmetry"),
            "{s}"
        );
        let (n_states, n_verdicts) = summary(n);
        let (s_states, s_verdicts) = summary(s);
        assert_eq!(n_verdicts, s_verdicts, "{s}");
        assert!(s_states <= n_states);
        let end = s["end"].as_str().unwrap();
        assert!(
            end.contains("symmetry: states counted up to renaming replica1, replica2, replica3"),
            "{end}"
        );
        fewer += usize::from(s_states * 3 < n_states);
    }
    assert_eq!(fewer, 4, "every variant shrinks 3x or more");
    let mm = check("master-master", "symmetry");
    for r in &mm {
        assert!(
            r["end"].as_str().unwrap().contains(
                "symmetry reduced no state: the model declares no interchangeable servers"
            ),
            "{r}"
        );
    }
}
