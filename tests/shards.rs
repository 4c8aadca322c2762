//! Sharded random and swarm search, and `splitbrain merge`:
//! - on every catalog model, the merge of N shards gives the unsharded search's verdicts
//!   and a counterexample no longer than its one, whatever N;
//! - a swarm never says *holds*;
//! - the command line: `--shard`, the Slurm array variables, `--out`/`--out-dir`,
//!   `merge` (formats, exit codes, missing shards, bad input) and `slurm` (the script,
//!   run end to end with a stand-in `sbatch`).

use serde_json::{json, Value};
use splitbrain::architecture::Architecture;
use splitbrain::check::{CheckOptions, Engine};
use splitbrain::exhaustive::Limits;
use splitbrain::models;
use splitbrain::property::Kind;
use splitbrain::random::RandomOptions;
use splitbrain::report::{CheckReport, Verdict};
use splitbrain::shard::{self, Shard, ShardFile};
use std::path::Path;
use std::process::Command;

fn opts(engine: Engine, shard: Shard) -> CheckOptions {
    CheckOptions {
        engine,
        limits: Limits {
            max_states: Some(20_000),
            ..Limits::default()
        },
        random: RandomOptions {
            cases: if engine == Engine::Swarm { 6 } else { 2_000 },
            max_steps: 64,
            seed: 7,
        },
        shard,
        ..CheckOptions::default()
    }
}

/// Runs the N shards of a check of every variant of `arch` through the library, writes
/// their results to `dir` as the command line does, and merges them.
fn sharded(
    arch: &dyn Architecture,
    engine: Engine,
    n: u32,
    dir: &Path,
    confirm_states: usize,
) -> shard::Merged {
    for i in 0..n {
        let s = Shard::new(i, n).unwrap();
        let reports: Vec<CheckReport> = arch
            .variants()
            .iter()
            .map(|v| {
                arch.check(v, &arch.default_bounds(), &opts(engine, s))
                    .unwrap()
            })
            .collect();
        let file = ShardFile {
            format: shard::FORMAT.to_string(),
            shard: s,
            search: json!({"model": arch.name(), "engine": engine.as_str()}),
            host: shard::host_name(),
            seconds: 0.0,
            exit_code: 3,
            reports: reports.iter().map(CheckReport::to_json).collect(),
        };
        shard::write_atomic(&dir.join(s.file_name()), &file).unwrap();
    }
    shard::merge(dir, confirm_states).unwrap()
}

/// Asserts the merge has the unsharded verdicts and counterexamples no longer; returns
/// how many counterexamples were compared.
fn assert_merge_matches(whole: &[CheckReport], merged: &shard::Merged, what: &str) -> usize {
    assert!(merged.missing.is_empty(), "{what}");
    assert_eq!(merged.reports.len(), whole.len(), "{what}");
    let mut traces = 0;
    for (w, m) in whole.iter().zip(&merged.reports) {
        let m = &m.report;
        assert_eq!((&w.model, &w.variant), (&m.model, &m.variant), "{what}");
        for (a, b) in w.results.iter().zip(&m.results) {
            assert_eq!(a.property, b.property);
            let at = format!("{what}: {}/{} {}", w.variant, a.property, m.end);
            assert_eq!(a.verdict, b.verdict, "{at}");
            // An example reached shows a `sometimes` property holds; nothing else can.
            if b.kind != Kind::Sometimes {
                assert_ne!(
                    b.verdict,
                    Verdict::Holds,
                    "{at}: random and swarm never prove"
                );
            }
            match (&a.trace, &b.trace) {
                (Some(ta), Some(tb)) => {
                    assert!(
                        tb.len() <= ta.len(),
                        "{at}: merged {} > {}",
                        tb.len(),
                        ta.len()
                    );
                    traces += 1;
                }
                (None, None) => {}
                _ => panic!("{at}: one has a trace, the other not"),
            }
        }
    }
    traces
}

#[test]
fn merged_shards_equal_the_unsharded_random_search_on_every_catalog_model() {
    let mut traces = 0;
    for arch in models::catalog() {
        let whole: Vec<CheckReport> = arch
            .variants()
            .iter()
            .map(|v| {
                arch.check(
                    v,
                    &arch.default_bounds(),
                    &opts(Engine::Random, Shard::WHOLE),
                )
                .unwrap()
            })
            .collect();
        for (n, confirm) in [(3, 0), (4, 200_000)] {
            let dir = tempfile::tempdir().unwrap();
            let merged = sharded(arch, Engine::Random, n, dir.path(), confirm);
            let what = format!("{} random, {n} shards, confirm {confirm}", arch.name());
            traces += assert_merge_matches(&whole, &merged, &what);
            if confirm > 0 {
                // At these small bounds the bounded BFS settles every trace: shortest.
                for m in &merged.reports {
                    for r in m.report.results.iter().filter(|r| r.trace.is_some()) {
                        assert!(r.shortest, "{what}: {} {}", m.report.variant, r.property);
                    }
                }
            }
        }
    }
    assert!(traces >= 10, "only {traces} counterexamples compared");
}

#[test]
fn merged_shards_equal_the_unsharded_swarm_on_every_catalog_model() {
    let mut traces = 0;
    for arch in models::catalog() {
        let whole: Vec<CheckReport> = arch
            .variants()
            .iter()
            .map(|v| {
                arch.check(
                    v,
                    &arch.default_bounds(),
                    &opts(Engine::Swarm, Shard::WHOLE),
                )
                .unwrap()
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let merged = sharded(arch, Engine::Swarm, 3, dir.path(), 0);
        traces += assert_merge_matches(&whole, &merged, &format!("{} swarm", arch.name()));
    }
    assert!(traces >= 5, "only {traces} counterexamples compared");
}

#[test]
fn random_shards_find_what_the_whole_search_finds_on_their_runs() {
    // The shard holding the whole search's first failing run finds that very run, with
    // the same shrunk trace: a shard is a subset of the whole search, not another search.
    let arch = models::find("master-master").unwrap();
    let v = arch.variant("lww").unwrap();
    let whole = arch
        .check(
            v,
            &arch.default_bounds(),
            &opts(Engine::Random, Shard::WHOLE),
        )
        .unwrap();
    for n in [2, 5] {
        let mut seen = 0;
        for i in 0..n {
            let part = arch
                .check(
                    v,
                    &arch.default_bounds(),
                    &opts(Engine::Random, Shard::new(i, n).unwrap()),
                )
                .unwrap();
            for (w, p) in whole.results.iter().zip(&part.results) {
                let Some(k) = w.found_in else { continue };
                if k % u64::from(n) != u64::from(i) {
                    continue;
                }
                seen += 1;
                assert_eq!(p.found_in, Some(k), "{} in shard {i}/{n}", w.property);
                assert_eq!(p.trace, w.trace, "{} in shard {i}/{n}", w.property);
                assert_eq!(p.choices, w.choices);
            }
        }
        assert!(seen >= 2, "{n} shards: {seen}");
    }
}

#[test]
fn a_swarm_never_says_holds_even_when_its_searches_see_every_state() {
    let arch = models::find("master-master").unwrap();
    let v = arch.variant("home-master").unwrap();
    let r = arch
        .check(
            v,
            &arch.default_bounds(),
            &opts(Engine::Swarm, Shard::WHOLE),
        )
        .unwrap();
    assert!(!r.complete);
    assert!(r.end.contains("never proves"), "{}", r.end);
    for p in &r.results {
        assert_eq!(p.verdict, Verdict::Incomplete, "{}", p.property);
        assert!(
            p.note.as_deref().unwrap_or("").contains("cannot prove"),
            "{:?}",
            p.note
        );
    }
}

#[test]
fn a_swarm_finds_the_deep_bug_that_bounded_bfs_cannot_reach() {
    // $90 of food against $60, six clients, three masters (see tests/engines.rs).
    let arch = models::find("master-master").unwrap();
    let v = arch.variant("async-ops").unwrap();
    let bounds = splitbrain::bounds::Bounds {
        clients: 6,
        servers: 3,
        balance: 60,
        ..arch.default_bounds()
    };
    let o = CheckOptions {
        properties: vec!["no_negative_balance".into()],
        ..opts(Engine::Swarm, Shard::WHOLE)
    };
    let r = arch.check(v, &bounds, &o).unwrap();
    let p = &r.results[0];
    assert_eq!(p.verdict, Verdict::Violated, "{}", r.to_text());
    let t = p.trace.as_ref().unwrap();
    assert!(t.values.contains('-'), "{}", t.values);
}

// ---------------------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------------------

fn splitbrain(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_splitbrain"));
    c.args(args);
    for k in [
        "SLURM_ARRAY_TASK_ID",
        "SLURM_ARRAY_TASK_COUNT",
        "SLURM_ARRAY_TASK_MIN",
    ] {
        c.env_remove(k);
    }
    c.envs(env.iter().copied());
    let out = c.output().expect("splitbrain runs");
    let code = out.status.code().expect("not killed by a signal");
    let (o, e) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(!e.contains("panicked"), "{args:?} panicked:\n{e}");
    (code, o, e)
}

fn expect(code: i32, args: &[&str]) -> String {
    let (got, out, err) = splitbrain(args, &[]);
    assert_eq!(got, code, "{args:?}\n--- stdout\n{out}--- stderr\n{err}");
    out
}

fn json_lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// (variant, property) -> (verdict, trace length) of JSON reports.
fn verdicts(reports: &[Value]) -> Vec<(String, String, String, usize)> {
    reports
        .iter()
        .flat_map(|r| {
            let variant = r["variant"].as_str().unwrap().to_string();
            r["results"].as_array().unwrap().iter().map(move |p| {
                (
                    variant.clone(),
                    p["property"].as_str().unwrap().to_string(),
                    p["verdict"].as_str().unwrap().to_string(),
                    p["trace"].as_array().map_or(0, Vec::len),
                )
            })
        })
        .collect()
}

const SEARCH: [&str; 7] = [
    "check",
    "master-master",
    "--engine",
    "random",
    "--cases",
    "500",
    "--quiet",
];

#[test]
fn cli_shards_merge_to_the_unsharded_verdicts_whatever_their_number() {
    let mut whole_args = SEARCH.to_vec();
    whole_args.extend(["--format", "json"]);
    let whole = verdicts(&json_lines(&expect(3, &whole_args)));
    assert!(whole.iter().any(|v| v.2 == "violated"));
    for n in [1u32, 2, 5] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        for i in 0..n {
            let shard = format!("{i}/{n}");
            let mut args = SEARCH.to_vec();
            args.extend(["--shard", &shard, "--out-dir", d]);
            expect(3, &args);
        }
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names.len(),
            n as usize,
            "only the shard files, no temporary: {names:?}"
        );
        let merged = json_lines(&expect(3, &["merge", d, "--format", "json", "--quiet"]));
        let got = verdicts(&merged);
        assert_eq!(got.len(), whole.len());
        for (w, m) in whole.iter().zip(&got) {
            assert_eq!((&w.0, &w.1, &w.2), (&m.0, &m.1, &m.2), "{n} shards");
            assert!(m.3 <= w.3, "{n} shards: {m:?} longer than {w:?}");
        }
        for r in &merged {
            assert_eq!(r["shards"]["count"], n);
            assert_eq!(r["shards"]["missing"], json!([]));
            assert_eq!(r["complete"], false);
            assert!(!r["command"].as_str().unwrap().contains("--shard"), "{r}");
        }
        // Text and Mermaid too.
        let text = expect(3, &["merge", d, "--quiet"]);
        assert!(
            text.contains(&format!("shards: {n} of {n} merged")),
            "{text}"
        );
        assert!(text.contains("never proves"), "{text}");
        let mermaid = expect(3, &["merge", d, "--format", "mermaid", "--quiet"]);
        assert!(mermaid.contains("sequenceDiagram"), "{mermaid}");
    }
}

#[test]
fn merge_reports_missing_shards_and_keeps_the_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let base = [
        "check",
        "master-master",
        "--variant",
        "async-ops",
        "--property",
        "no_negative_balance",
        "--engine",
        "random",
        "--quiet",
    ];
    for i in 0..4 {
        let shard = format!("{i}/4");
        let mut args = base.to_vec();
        args.extend(["--shard", &shard, "--out-dir", d]);
        expect(0, &args);
    }
    // Every shard present, the only property violated as expected: exit 0.
    let out = expect(0, &["merge", d]);
    assert!(out.contains("VIOLATED"), "{out}");
    assert!(
        out.contains("reproduce: splitbrain check master-master"),
        "{out}"
    );
    // A lost shard: the merge still reports what the others found, and exits 3.
    std::fs::remove_file(dir.path().join("shard-2-of-4.json")).unwrap();
    let (code, out, err) = splitbrain(&["merge", d], &[]);
    assert_eq!(code, 3, "{out}{err}");
    assert!(out.contains("MISSING: 2"), "{out}");
    assert!(out.contains("INCOMPLETE: 1 of 4 shards missing"), "{out}");
    assert!(err.contains("1 of 4 shards missing: 2"), "{err}");
    let json = json_lines(&expect(3, &["merge", d, "--format", "json", "--quiet"]));
    assert_eq!(json[0]["shards"]["missing"], json!([2]));
    assert_eq!(json[0]["results"][0]["verdict"], "violated");
}

#[test]
fn merge_refuses_what_it_cannot_merge() {
    let empty = tempfile::tempdir().unwrap();
    let e = empty.path().to_str().unwrap();
    let (code, _, err) = splitbrain(&["merge", e], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("no shard results"), "{err}");
    let (code, _, err) = splitbrain(&["merge", "/nonexistent/splitbrain"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"), "{err}");

    // Shards of two different searches (seeds) in one directory.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let mut a = SEARCH.to_vec();
    a.extend(["--shard", "0/2", "--out-dir", d, "--seed", "1"]);
    expect(3, &a);
    let mut b = SEARCH.to_vec();
    b.extend(["--shard", "1/2", "--out-dir", d, "--seed", "2"]);
    expect(3, &b);
    let (code, _, err) = splitbrain(&["merge", d], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("different searches"), "{err}");
}

#[test]
fn bad_shard_values_exit_2_with_a_clear_message() {
    type Env<'a> = &'a [(&'a str, &'a str)];
    let cases: &[(&[&str], Env, &str)] = &[
        (&["--shard", "0/0"], &[], "0 parts"),
        (&["--shard", "3/2"], &[], "must be below N"),
        (&["--shard", "abc"], &[], "write I/N"),
        (&["--shard", "1/"], &[], "write I/N"),
        (
            &[],
            &[
                ("SLURM_ARRAY_TASK_ID", "5"),
                ("SLURM_ARRAY_TASK_COUNT", "4"),
            ],
            "SLURM_ARRAY_TASK_ID=5",
        ),
        (
            &[],
            &[
                ("SLURM_ARRAY_TASK_ID", "x"),
                ("SLURM_ARRAY_TASK_COUNT", "4"),
            ],
            "is not a number",
        ),
    ];
    for (extra, env, needle) in cases {
        let mut args = vec!["check", "master-master", "--engine", "random"];
        args.extend_from_slice(extra);
        let (code, out, err) = splitbrain(&args, env);
        assert_eq!(code, 2, "{args:?} {env:?}\n{out}{err}");
        assert!(out.is_empty(), "{out}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // Shards split random and swarm search only.
    let (code, _, err) = splitbrain(&["check", "master-master", "--shard", "0/2"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("--engine random"), "{err}");
    let (code, _, err) = splitbrain(&["check", "master-master", "--out", "/tmp/x.json"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("--out"), "{err}");
    // Outside a random or swarm search the Slurm variables change nothing.
    let (code, _, _) = splitbrain(
        &["check", "master-master", "--quiet"],
        &[("SLURM_ARRAY_TASK_ID", "x")],
    );
    assert_eq!(code, 0);
}

#[test]
fn the_slurm_array_task_picks_the_shard_unless_shard_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let mut args = SEARCH.to_vec();
    args.extend(["--out-dir", d]);
    let env = [
        ("SLURM_ARRAY_TASK_ID", "11"),
        ("SLURM_ARRAY_TASK_MIN", "10"),
        ("SLURM_ARRAY_TASK_COUNT", "3"),
    ];
    let (code, _, err) = splitbrain(&args, &env);
    assert_eq!(code, 3, "{err}");
    let file: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("shard-1-of-3.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(file["shard"], json!({"index": 1, "count": 3}));
    assert_eq!(file["format"], shard::FORMAT);
    assert!(file["reports"][0]["command"]
        .as_str()
        .unwrap()
        .ends_with("--shard 1/3"));
    // --shard wins over the environment; --out names the file.
    let out = dir.path().join("mine.json");
    let mut args = SEARCH.to_vec();
    args.extend(["--shard", "2/3", "--out", out.to_str().unwrap()]);
    let (code, _, _) = splitbrain(&args, &env);
    assert_eq!(code, 3);
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(file["shard"], json!({"index": 2, "count": 3}));
}

#[test]
fn slurm_prints_an_array_job_and_a_dependent_merge() {
    let out = expect(
        0,
        &[
            "slurm",
            "master-master",
            "--variant",
            "async-ops",
            "--engine",
            "random",
            "--shards",
            "8",
        ],
    );
    for needle in [
        "#!/usr/bin/env bash",
        "--array=0-7",
        "--dependency=afterany:$shards",
        "check master-master --variant async-ops --engine random --seed 0 --cases 2000 --max-steps 64",
        "--shard \"$SLURM_ARRAY_TASK_ID/8\"",
        "--out-dir \"$RESULTS\"",
        "merge \"$RESULTS\"",
    ] {
        assert!(out.contains(needle), "no {needle:?} in:\n{out}");
    }
    let syntax = Command::new("bash")
        .args(["-n", "-c", &out])
        .output()
        .unwrap();
    assert!(
        syntax.status.success(),
        "{}",
        String::from_utf8_lossy(&syntax.stderr)
    );

    let (code, _, err) = splitbrain(&["slurm", "master-master", "--shards", "4"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("--engine random"), "{err}");
    let (code, _, err) = splitbrain(
        &[
            "slurm",
            "master-master",
            "--engine",
            "random",
            "--shards",
            "0",
        ],
        &[],
    );
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = splitbrain(
        &["slurm", "nope", "--engine", "random", "--shards", "2"],
        &[],
    );
    assert_eq!(code, 2);
    assert!(err.contains("unknown model"), "{err}");
}

/// A stand-in for `sbatch` with Slurm's semantics for what the script uses: `--parsable`
/// prints the job id, `--array=0-K` runs the script from stdin once per task with
/// SLURM_ARRAY_TASK_ID (and %a in --output), a dependent job runs after them.
const FAKE_SBATCH: &str = r#"#!/usr/bin/env bash
set -u
array="" output="/dev/null"
for a in "$@"; do
  case "$a" in
    --array=*) array="${a#--array=}" ;;
    --output=*) output="${a#--output=}" ;;
  esac
done
script=$(cat)
n=$(cat "$FAKE_SLURM_DIR/jobs" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$FAKE_SLURM_DIR/jobs"
if [ -n "$array" ]; then
  for i in $(seq "${array%-*}" "${array#*-}"); do
    SLURM_ARRAY_TASK_ID=$i bash -c "$script" > "${output//%a/$i}" 2>&1
    echo "$? task $i" >> "$FAKE_SLURM_DIR/codes"
  done
else
  bash -c "$script" > "$output" 2>&1
  echo "$? merge" >> "$FAKE_SLURM_DIR/codes"
fi
echo "$n;cluster"
"#;

#[test]
fn the_slurm_script_runs_end_to_end_with_a_stand_in_sbatch() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let sbatch = bin.join("sbatch");
    std::fs::write(&sbatch, FAKE_SBATCH).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&sbatch, std::fs::Permissions::from_mode(0o755)).unwrap();
    let script = dir.path().join("job.sh");
    let results = dir.path().join("results");
    expect(
        0,
        &[
            "slurm",
            "master-master",
            "--variant",
            "async-ops",
            "--engine",
            "random",
            "--cases",
            "300",
            "--shards",
            "3",
            "--results",
            results.to_str().unwrap(),
            "--out",
            script.to_str().unwrap(),
        ],
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = Command::new("bash")
        .arg(&script)
        .env("PATH", path)
        .env("FAKE_SLURM_DIR", dir.path())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        said.contains("shards job 1 (3 tasks), merge job 2"),
        "{said}"
    );
    let codes = std::fs::read_to_string(dir.path().join("codes")).unwrap();
    assert_eq!(codes, "3 task 0\n3 task 1\n3 task 2\n3 merge\n");
    for i in 0..3 {
        assert!(results.join(format!("shard-{i}-of-3.json")).is_file());
    }
    let merged = std::fs::read_to_string(results.join("merged.txt")).unwrap();
    assert!(merged.contains("shards: 3 of 3 merged"), "{merged}");
    let json = json_lines(&std::fs::read_to_string(results.join("merged.json")).unwrap());
    let whole = [
        "check",
        "master-master",
        "--variant",
        "async-ops",
        "--engine",
        "random",
        "--cases",
        "300",
        "--format",
        "json",
        "--quiet",
    ];
    let whole = verdicts(&json_lines(&expect(3, &whole)));
    let got = verdicts(&json);
    for (w, m) in whole.iter().zip(&got) {
        assert_eq!((&w.1, &w.2), (&m.1, &m.2));
        assert!(m.3 <= w.3);
    }
    // A second submission into the same results refuses to mix searches.
    let again = Command::new("bash")
        .arg(&script)
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("FAKE_SLURM_DIR", dir.path())
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds shard results"));
}

/// The stories of a text report: (reproduce command, the story's trace lines: start,
/// steps and what broke, without the header, which names the engine).
fn stories(text: &str) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in text.lines() {
        if !line.starts_with(' ') && line.contains("  VIOLATED  (") {
            current = Some(Vec::new());
            continue;
        }
        if let Some(story) = current.as_mut() {
            if let Some(cmd) = line.trim_start().strip_prefix("reproduce: ") {
                found.push((cmd.to_string(), current.take().unwrap_or_default()));
            } else {
                story.push(line.to_string());
            }
        }
    }
    found
}

/// Runs every reproduce command of `text` and checks it tells the same story.
fn assert_reproducible(text: &str, at_least: usize) {
    let found = stories(text);
    assert!(found.len() >= at_least, "{text}");
    for (cmd, story) in found {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        assert_eq!(words[0], "splitbrain", "{cmd}");
        let (_, again, err) = splitbrain(&words[1..], &[]);
        let again = stories(&again);
        assert_eq!(again.len(), 1, "`{cmd}`: {err}");
        assert_eq!(again[0].0, cmd, "the reproduce command is stable");
        assert_eq!(again[0].1, story, "`{cmd}` told another story");
    }
}

#[test]
fn swarm_and_merged_traces_are_reproduced_by_their_commands() {
    let out = expect(
        3,
        &["check", "master-master", "--engine", "swarm", "--quiet"],
    );
    assert!(out.contains("found by a swarm search"), "{out}");
    assert_reproducible(&out, 4);

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    for i in 0..3 {
        let shard = format!("{i}/3");
        let mut args = SEARCH.to_vec();
        args.extend(["--shard", &shard, "--out-dir", d]);
        expect(3, &args);
    }
    let merged = expect(3, &["merge", d, "--quiet"]);
    assert!(merged.contains("--shard "), "{merged}");
    assert_reproducible(&merged, 4);
}
