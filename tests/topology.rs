//! Topology files: every built-in `.toml` agrees with its Rust twin, the other shipped
//! files get their stated verdicts, bad files get their specific error (exit 2), `new`
//! writes a starter that checks cleanly, and mutated files never panic.

use proptest::prelude::*;
use splitbrain::architecture::Architecture;
use splitbrain::bounds::Bounds;
use splitbrain::check::CheckOptions;
use splitbrain::models;
use splitbrain::report::CheckReport;
use splitbrain::system::NetworkKind;
use splitbrain::topology;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("the splitbrain binary runs");
    (
        out.status.code().expect("not killed by a signal"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// (property, verdict, trace length, unique states) of every result.
fn summary(r: &CheckReport) -> Vec<(String, String, Option<usize>, usize)> {
    let mut v: Vec<_> = r
        .results
        .iter()
        .map(|p| {
            (
                p.property.to_string(),
                p.verdict.to_string(),
                p.trace.as_ref().map(|t| t.len()),
                p.unique_states,
            )
        })
        .collect();
    v.sort();
    v
}

/// The file and its Rust twin at the same bounds (faults changed alike) give the same
/// verdicts, the same shortest-trace lengths and the same number of unique states.
fn assert_twins(file: &str, model: &str, faults: &[(NetworkKind, u8, u8)]) {
    let file_arch = topology::load_architecture(&root().join("models").join(file)).unwrap();
    let twin = models::find(model).unwrap();
    assert_eq!(
        file_arch
            .variants()
            .iter()
            .map(|v| v.name)
            .collect::<Vec<_>>(),
        twin.variants().iter().map(|v| v.name).collect::<Vec<_>>(),
        "{file}: the same variants as {model}"
    );
    for &(network, loss, crashes) in faults {
        for (fv, tv) in file_arch.variants().iter().zip(twin.variants()) {
            let mut expect_f: Vec<_> = fv.expect.to_vec();
            let mut expect_t: Vec<_> = tv.expect.to_vec();
            expect_f.sort_by_key(|e| e.0);
            expect_t.sort_by_key(|e| e.0);
            assert_eq!(expect_f, expect_t, "{file}/{}: expected verdicts", fv.name);
            let fb = Bounds {
                network,
                loss,
                crashes,
                ..file_arch.default_bounds()
            };
            let tb = Bounds {
                network,
                loss,
                crashes,
                ..twin.default_bounds()
            };
            let opts = CheckOptions::default();
            let f = file_arch.check(fv, &fb, &opts).unwrap();
            let t = twin.check(tv, &tb, &opts).unwrap();
            assert!(f.complete && t.complete);
            assert_eq!(
                summary(&f),
                summary(&t),
                "{file}/{} vs {model} at {}:\n{}\n{}",
                fv.name,
                tb.describe(),
                f.to_text(),
                t.to_text()
            );
        }
    }
}

#[test]
fn master_master_toml_agrees_with_its_rust_twin() {
    assert_twins(
        "master-master.toml",
        "master-master",
        &[
            (NetworkKind::Unordered, 0, 0),
            (NetworkKind::Unordered, 1, 1),
            (NetworkKind::Ordered, 1, 0),
        ],
    );
}

#[test]
fn read_replica_toml_agrees_with_its_rust_twin() {
    assert_twins(
        "read-replica.toml",
        "read-replica",
        &[(NetworkKind::Unordered, 0, 0), (NetworkKind::Ordered, 0, 1)],
    );
}

/// The topology files shipped in `models/`, sorted.
fn shipped_paths() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("models"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "{files:?}");
    files
}

/// The declarations `--reduce por` relies on hold on every shipped topology file (app
/// servers are declared stateless), with one loss and one crash, and the reduced search
/// gives the same verdicts and traces as the full one (for `eventually` properties, a
/// trace of the same length: losses come last).
#[test]
fn every_shipped_topology_file_keeps_its_reduction_declarations() {
    use splitbrain::check::CheckOptions;
    use splitbrain::reduction::Reduce;
    let mut reduced = 0;
    for f in shipped_paths() {
        let arch = topology::load_architecture(&f).unwrap();
        for v in arch.variants() {
            let b = Bounds {
                loss: 1,
                crashes: 1,
                ..arch.default_bounds()
            };
            let what = format!("{}/{}", f.display(), v.name);
            let sys = arch.build(v, &b).unwrap();
            sys.audit_reduction(200_000)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            let run = |reduce| {
                let opts = CheckOptions {
                    reduce,
                    ..CheckOptions::default()
                };
                arch.check(v, &b, &opts).unwrap()
            };
            let (full, por) = (run(Reduce::None), run(Reduce::Por));
            for (a, b) in full.results.iter().zip(&por.results) {
                assert_eq!(a.verdict, b.verdict, "{what}: {}", a.property);
                assert_eq!(a.shortest, b.shortest, "{what}: {}", a.property);
                if a.kind == splitbrain::property::Kind::Eventually {
                    // Losses wait for the end of the run under `por`: a violation at rest
                    // is reached as far from the start, its losses last (the first found
                    // at that depth may be another).
                    let len =
                        |r: &splitbrain::report::PropertyResult| r.trace.as_ref().map(|t| t.len());
                    assert_eq!(len(a), len(b), "{what}: {}", a.property);
                } else {
                    let text = |r: &splitbrain::report::PropertyResult| format!("{:?}", r.trace);
                    assert_eq!(text(a), text(b), "{what}: {}", a.property);
                }
            }
            let states = |r: &CheckReport| r.results[0].unique_states;
            assert!(states(&por) <= states(&full), "{what}");
            reduced += usize::from(states(&por) < states(&full));
        }
    }
    assert!(
        reduced > 0,
        "por removed no state in any shipped topology file"
    );
}

/// Every shipped topology file checks with every verdict as its variants expect.
#[test]
fn every_shipped_topology_file_gets_its_expected_verdicts() {
    for f in shipped_paths() {
        let rel = f.strip_prefix(root()).unwrap().display().to_string();
        let (code, out, err) = run(&["check", &rel, "--quiet"]);
        assert_eq!(code, 0, "{rel}: exit {code}\n{out}\n{err}");
        assert!(out.contains("as expected"), "{out}");
        assert!(!out.contains("UNEXPECTED"), "{out}");
    }
}

#[test]
fn a_file_checks_like_a_model_json_variant_property_and_reproduce() {
    let (code, out, _) = run(&[
        "check",
        "models/master-master.toml",
        "--variant",
        "async-ops",
        "--property",
        "no_negative_balance",
        "--format",
        "json",
        "--quiet",
    ]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["model"], "models/master-master.toml");
    assert_eq!(v["results"][0]["verdict"], "violated");
    assert_eq!(v["results"][0]["trace"].as_array().unwrap().len(), 4);
    // The reproduce command runs as printed.
    let (code, text, _) = run(&[
        "check",
        "models/master-master.toml",
        "--variant",
        "async-ops",
        "--property",
        "no_negative_balance",
        "--quiet",
    ]);
    assert_eq!(code, 0);
    let repro = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("reproduce: splitbrain "))
        .expect("a reproduce line")
        .to_string();
    let args: Vec<&str> = repro.split(' ').collect();
    let (code2, text2, _) = run(&[&args[..], &["--quiet"]].concat());
    assert_eq!((code2, text2), (0, text));
    // Faults from flags; fixed sizes are refused.
    let (code, out, _) = run(&[
        "check",
        "models/master-master.toml",
        "--variant",
        "home-master",
        "--loss",
        "1",
        "--crashes",
        "1",
        "--quiet",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("loss=1 crashes=1"), "{out}");
    let (code, _, err) = run(&["check", "models/master-master.toml", "--clients", "3"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--clients 3 does not apply to a topology file"),
        "{err}"
    );
    let (code, _, err) = run(&["check", "models/master-master.toml", "--variant", "nope"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("unknown variant 'nope'") && err.contains("home-master"),
        "{err}"
    );
}

#[test]
fn new_writes_a_starter_that_checks_cleanly_and_never_overwrites() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("topology-new");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let name = dir.join("mine");
    let name = name.to_str().unwrap();
    let (code, out, err) = run(&["new", name]);
    assert_eq!(code, 0, "{out}{err}");
    let file = format!("{name}.toml");
    assert!(out.contains(&file), "{out}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.lines()
            .filter(|l| l.trim_start().starts_with('#'))
            .count()
            >= 10
    );
    let (code, out, err) = run(&["check", &file]);
    assert_eq!(code, 0, "{out}{err}");
    std::fs::write(&file, "kept").unwrap();
    let (code, _, err) = run(&["new", name]);
    assert_eq!(code, 2);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "kept");
}

// ---------------------------------------------------------------------------------------
// Bad files
// ---------------------------------------------------------------------------------------

/// A small valid topology; each bad case changes one thing.
const BASE: &str = r#"about = "base"
properties = ["read_your_writes", "replicas_converge"]

[network]
semantics = "unordered"
loss = 0
crashes = 0

[[node]]
name = "primary"
kind = "primary"

[[node]]
name = "replica"
kind = "replica"
replica_of = "primary"

[[client]]
name = "jose"
workload = [
  { op = "write", to = "primary" },
  { op = "read", to = "replica" },
]

[[variant]]
name = "async"
expect = { read_your_writes = "violated", replicas_converge = "holds" }
"#;

fn replaced(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from:?} not in BASE");
    BASE.replacen(from, to, 1)
}

#[test]
fn the_base_of_the_bad_files_is_good() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let f = dir.join("base.toml");
    std::fs::write(&f, BASE).unwrap();
    let (code, out, err) = run(&["check", f.to_str().unwrap(), "--quiet"]);
    assert_eq!(code, 0, "{out}{err}");
}

/// What is wrong, the file's bytes (None: no file is written), what stderr must say.
type BadCase = (&'static str, Option<Vec<u8>>, Vec<&'static str>);

#[test]
fn bad_files_get_their_specific_error_and_exit_2() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bad-topologies");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("a-directory.toml")).unwrap();
    let many_clients: String = BASE.to_string()
        + &(0..1000)
            .map(|i| format!("[[client]]\nname = \"c{i}\"\nworkload = [{{ op = \"read\", to = \"replica\" }}]\n"))
            .collect::<String>();
    let mut non_utf8 = BASE.as_bytes().to_vec();
    non_utf8.splice(9..9, [0xff, 0xfe]);
    // (what, file contents (None: no file written), needles in stderr)
    let cases: Vec<BadCase> = vec![
        ("missing file", None, vec!["missing-file.toml", "no such file", "splitbrain new"]),
        ("a directory", Some(Vec::new()), vec!["is a directory", "expected a topology file"]),
        ("non-UTF-8", Some(non_utf8), vec![":1:10:", "not UTF-8", "0xff"]),
        ("TOML syntax", Some(replaced("loss = 0", "loss = = 0").into()), vec![":6:8:", "loss = = 0"]),
        ("unknown top-level key", Some(replaced("about = \"base\"", "about = \"base\"\ncolour = \"red\"").into()), vec![":2:1:", "unknown field `colour`", "properties", "network"]),
        ("unknown node kind", Some(replaced("kind = \"primary\"", "kind = \"databse\"").into()), vec![":11:8:", "unknown variant `databse`", "`master`", "`primary`", "`replica`", "`app`", "`cache`"]),
        ("unknown node field", Some(replaced("replica_of = \"primary\"", "replica_of = \"primary\"\nlag = 3").into()), vec![":17:1:", "unknown field `lag`", "replica_of"]),
        ("route to a missing node", Some(replaced("{ op = \"read\", to = \"replica\" }", "{ op = \"read\", to = \"replica9\" }").into()), vec![":22:23:", "to \"replica9\" names no node", "primary, replica"]),
        ("a replica of nothing", Some(replaced("replica_of = \"primary\"\n", "").into()), vec![":15:8:", "replica \"replica\" is a replica of nothing", "replica_of"]),
        ("replica of a missing node", Some(replaced("replica_of = \"primary\"", "replica_of = \"main\"").into()), vec![":16:14:", "replica_of \"main\" names no node"]),
        ("replica of a replica", Some(replaced("replica_of = \"primary\"", "replica_of = \"replica\"").into()), vec!["replica_of \"replica\" is a replica, expected a primary or master", "valid choices: primary"]),
        ("unknown property", Some(replaced("\"read_your_writes\", \"replicas_converge\"]", "\"read_your_writes\", \"replicas_converge\", \"no_lost_updates\"]").into()), vec![":2:56:", "unknown property \"no_lost_updates\"", "monotonic_reads", "linearizable", "no_negative_balance"]),
        ("a property that does not apply", Some(replaced("\"replicas_converge\"]", "\"replicas_converge\", \"no_negative_balance\"]").into()), vec!["property \"no_negative_balance\" does not apply", "no client withdraws"]),
        ("wrong type", Some(replaced("loss = 0", "loss = \"some\"").into()), vec![":6:8:", "invalid type: string \"some\"", "expected i64"]),
        ("out-of-range number", Some(replaced("loss = 0", "loss = 300").into()), vec![":6:8:", "loss = 300 is out of range", "from 0 to 8"]),
        ("too many crashes", Some(replaced("crashes = 0", "crashes = 2").into()), vec![":7:11:", "crashes = 2 is out of range", "from 0 to 1"]),
        ("empty workload", Some(replaced("workload = [\n  { op = \"write\", to = \"primary\" },\n  { op = \"read\", to = \"replica\" },\n]", "workload = []").into()), vec![":20:12:", "client \"jose\" has an empty workload"]),
        ("a thousand clients", Some(many_clients.into()), vec!["1001 clients is too many: at most 6"]),
        ("duplicate name", Some(replaced("name = \"jose\"", "name = \"replica\"").into()), vec![":19:8:", "name \"replica\" is used twice"]),
        ("unknown op", Some(replaced("op = \"write\"", "op = \"upsert\"").into()), vec![":21:10:", "unknown variant `upsert`", "`withdraw`", "`read`", "`write`"]),
        ("withdraw without accounts", Some(replaced("op = \"write\", to = \"primary\"", "op = \"withdraw\", amount = 5, to = \"primary\"").into()), vec![":21:10:", "a withdrawal needs an account", "[accounts]"]),
        ("amount on a read", Some(replaced("{ op = \"read\", to = \"replica\" }", "{ op = \"read\", to = \"replica\", amount = 5 }").into()), vec!["`amount` does not apply to op = \"read\"", "withdraw"]),
        ("missing verdict", Some(replaced(", replicas_converge = \"holds\" }", " }").into()), vec![":27:10:", "gives no expected verdict for property \"replicas_converge\""]),
        ("unknown verdict", Some(replaced("replicas_converge = \"holds\"", "replicas_converge = \"maybe\"").into()), vec!["unknown variant `maybe`", "`holds`", "`violated`"]),
        ("no variants", Some(BASE.split("[[variant]]").next().unwrap().as_bytes().to_vec()), vec!["no variants", "[[variant]]"]),
        ("missing properties", Some(replaced("properties = [\"read_your_writes\", \"replicas_converge\"]\n", "").into()), vec!["missing field `properties`"]),
        ("unknown replication mode", Some(replaced("[[variant]]\nname = \"async\"", "[[variant]]\nname = \"async\"\nreplication = { mode = \"semi-sync\" }").into()), vec!["unknown variant `semi-sync`", "`async`", "`sync`"]),
        ("home is not a master", Some(replaced("[[variant]]\nname = \"async\"", "[[variant]]\nname = \"async\"\nrouting = { home = \"replica\" }").into()), vec!["home \"replica\" is a replica, expected a master"]),
        ("two primaries", Some(replaced("kind = \"replica\"\nreplica_of = \"primary\"", "kind = \"primary\"").into()), vec!["one primary or several masters"]),
        ("field for another kind", Some(replaced("kind = \"primary\"", "kind = \"primary\"\nbackend = \"replica\"").into()), vec!["`backend` does not apply to a node of kind \"primary\"", "cache"]),
        ("retries without timeout", Some(replaced("name = \"jose\"", "name = \"jose\"\nretries = 1").into()), vec!["retries need a timeout", "timeout = true"]),
        ("no clients", Some(replaced("[[client]]\nname = \"jose\"\nworkload = [\n  { op = \"write\", to = \"primary\" },\n  { op = \"read\", to = \"replica\" },\n]\n", "").into()), vec!["no clients", "[[client]]"]),
    ];
    assert!(cases.len() >= 20);
    let mut failures = Vec::new();
    for (what, contents, needles) in &cases {
        let file = match (what, contents) {
            (&"a directory", _) => dir.join("a-directory.toml"),
            (_, None) => dir.join("missing-file.toml"),
            (_, Some(bytes)) => {
                let f = dir.join(format!("{}.toml", what.replace(' ', "-")));
                std::fs::write(&f, bytes).unwrap();
                f
            }
        };
        let (code, out, err) = run(&["check", file.to_str().unwrap()]);
        let mut problems = Vec::new();
        if code != 2 {
            problems.push(format!("exit {code}"));
        }
        if !out.is_empty() {
            problems.push("printed a report".into());
        }
        if err.contains("panicked") {
            problems.push("panicked".into());
        }
        if !err.contains(&*file.file_name().unwrap().to_string_lossy()) {
            problems.push("does not name the file".into());
        }
        for n in needles {
            if !err.contains(n) {
                problems.push(format!("does not say {n:?}"));
            }
        }
        if !problems.is_empty() {
            failures.push(format!("{what}: {}\n{err}", problems.join(", ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// ---------------------------------------------------------------------------------------
// Mutated files never panic
// ---------------------------------------------------------------------------------------

fn shipped() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = shipped_paths()
        .into_iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    v.push(BASE.as_bytes().to_vec());
    v
}

#[derive(Debug, Clone)]
enum Mutation {
    SetByte(usize, u8),
    DeleteByte(usize),
    InsertByte(usize, u8),
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    ReplaceWord(usize, &'static str),
}

const WORDS: &[&str] = &[
    "\"master\"",
    "\"replica\"",
    "\"app\"",
    "\"cache\"",
    "0",
    "-1",
    "300",
    "\"\"",
    "true",
    "[]",
    "{}",
    "\"sync\"",
    "\"state\"",
    "\"primary\"",
    "\"nope\"",
    "1e9",
    "[[node]]",
    "\"holds\"",
    "\"violated\"",
    "\"withdraw\"",
    "\"read\"",
    "\"write\"",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::SetByte(i, b)),
        any::<usize>().prop_map(Mutation::DeleteByte),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::InsertByte(i, b)),
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (any::<usize>(), prop::sample::select(WORDS))
            .prop_map(|(i, w)| Mutation::ReplaceWord(i, w)),
    ]
}

fn apply(mut bytes: Vec<u8>, m: &Mutation) -> Vec<u8> {
    let n = bytes.len().max(1);
    match *m {
        Mutation::SetByte(i, b) => {
            if !bytes.is_empty() {
                bytes[i % n] = b;
            }
        }
        Mutation::DeleteByte(i) => {
            if !bytes.is_empty() {
                bytes.remove(i % n);
            }
        }
        Mutation::InsertByte(i, b) => bytes.insert(i % (bytes.len() + 1), b),
        Mutation::DeleteLine(_) | Mutation::DuplicateLine(_) | Mutation::SwapLines(..) => {
            let mut lines: Vec<Vec<u8>> =
                bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
            let l = lines.len();
            match *m {
                Mutation::DeleteLine(i) => {
                    lines.remove(i % l);
                }
                Mutation::DuplicateLine(i) => {
                    let line = lines[i % l].clone();
                    lines.insert(i % l, line);
                }
                Mutation::SwapLines(a, b) => lines.swap(a % l, b % l),
                _ => {}
            }
            bytes = lines.join(&b'\n');
        }
        Mutation::ReplaceWord(i, w) => {
            // Replace the value after the i-th '=' (or the i-th word) with `w`.
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let eqs: Vec<usize> = text.match_indices(" = ").map(|(p, _)| p + 3).collect();
            if let Some(&start) = eqs.get(i % eqs.len().max(1)) {
                let end = text[start..]
                    .find([',', '\n', '}'])
                    .map_or(text.len(), |e| start + e);
                bytes = format!("{}{w}{}", &text[..start], &text[end..]).into_bytes();
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    /// Mutated topology files are parsed and validated in process: never a panic; a file
    /// that still validates is checked (small limits), also without a panic.
    #[test]
    fn mutated_topology_files_never_panic(
        file in prop::sample::select(shipped()),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let bytes = mutations.iter().fold(file, apply);
        let parsed = std::panic::catch_unwind(|| topology::parse_bytes("mutant.toml", &bytes).map(|_| ()));
        prop_assert!(parsed.is_ok(), "parse panicked on:\n{}", String::from_utf8_lossy(&bytes));
        if let Ok(Err(e)) = &parsed {
            prop_assert!(e.to_string().starts_with("mutant.toml"), "{e}");
        }
        if let Ok(Ok(())) = parsed {
            let arch = topology::parse_bytes("mutant.toml", &bytes).unwrap().into_architecture();
            let opts = CheckOptions {
                limits: splitbrain::exhaustive::Limits { max_states: Some(20_000), ..Default::default() },
                ..CheckOptions::default()
            };
            let checked = std::panic::catch_unwind(|| {
                for v in arch.variants() {
                    let _ = arch.check(v, &arch.default_bounds(), &opts);
                }
            });
            prop_assert!(checked.is_ok(), "check panicked on:\n{}", String::from_utf8_lossy(&bytes));
        }
    }
}

/// docs/topology.md's example: its file checks with exit 0 and prints the output the
/// page shows (timings aside).
#[test]
fn the_docs_topology_example_prints_what_the_page_shows() {
    let readme = std::fs::read_to_string(root().join("docs/topology.md")).unwrap();
    let section = &readme[readme.find("# Your own topology").expect("the section")..];
    let block = |fence: &str, from: usize| {
        let start = section[from..].find(fence).unwrap() + from + fence.len();
        let end = section[start..].find("\n```").unwrap() + start;
        (
            section[start..end].trim_start_matches('\n').to_string(),
            end + 4,
        )
    };
    let (file, after) = block("```toml\n", 0);
    let (shown, _) = block("```\n", after);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("readme-topology");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("shop.toml"), file).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .current_dir(&dir)
        .args(["check", "shop.toml", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let mask = |s: &str| {
        s.split_whitespace()
            .map(|w| {
                if w.ends_with('s') && w[..w.len() - 1].parse::<f64>().is_ok() {
                    "Ts"
                } else {
                    w
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        mask(&String::from_utf8_lossy(&out.stdout)),
        mask(&shown),
        "docs/topology.md's output is stale: rerun `splitbrain check shop.toml --quiet` and paste it"
    );
}
