//! No vacuous *holds*: faults only add runs, so a claim broken with fewer faults stays
//! broken (by a trace no longer) with more; a duplicating network never hides what an
//! unordered one shows; a topology that would be judged vacuously is refused.

use splitbrain::architecture::Architecture;
use splitbrain::bounds::Bounds;
use splitbrain::check::CheckOptions;
use splitbrain::exhaustive::Limits;
use splitbrain::models;
use splitbrain::property::Kind;
use splitbrain::report::{CheckReport, Verdict};
use splitbrain::system::NetworkKind;
use splitbrain::topology;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// States any one check of this file may visit. A duplicating network can grow a space
/// past it before a deep violation is reached: such a check ends incomplete (counted, and
/// never *holds*).
const MAX_STATES: usize = 150_000;

fn check(arch: &dyn Architecture, variant: &str, bounds: &Bounds) -> CheckReport {
    let v = arch
        .variant(variant)
        .expect("a variant of the architecture");
    let opts = CheckOptions {
        limits: Limits {
            max_states: Some(MAX_STATES),
            ..Limits::default()
        },
        ..CheckOptions::default()
    };
    arch.check(v, bounds, &opts).expect("the check runs")
}

/// Each step adds faults: the runs of the first bounds are runs of the second.
fn more_faults(b: Bounds) -> Vec<(Bounds, Bounds)> {
    let with = |network, loss, crashes| Bounds {
        network,
        loss,
        crashes,
        ..b
    };
    use NetworkKind::*;
    vec![
        (with(Ordered, 0, 0), with(Unordered, 0, 0)),
        (with(Unordered, 0, 0), with(Duplicating, 0, 0)),
        (with(Unordered, 0, 0), with(Unordered, 1, 0)),
        (with(Unordered, 1, 0), with(Unordered, 2, 0)),
        (with(Unordered, 0, 0), with(Unordered, 0, 1)),
    ]
}

/// Compares every property of every variant under `fewer` and `more` faults; returns the
/// number of (variant, property, pair) comparisons made, those cut by the state limit
/// with more faults, and the breaches found.
fn compare(arch: &dyn Architecture, fewer: &Bounds, more: &Bounds) -> (usize, usize, Vec<String>) {
    let (mut compared, mut cut, mut breaches) = (0, 0, Vec::new());
    for v in arch.variants() {
        let (a, b) = (check(arch, v.name, fewer), check(arch, v.name, more));
        for ra in &a.results {
            let rb = b
                .results
                .iter()
                .find(|r| r.property == ra.property)
                .expect("the same properties");
            compared += 1;
            let broken = |verdict, kind| match kind {
                Kind::Sometimes => verdict == Verdict::Holds,
                _ => verdict == Verdict::Violated,
            };
            if !broken(ra.verdict, ra.kind) {
                continue;
            }
            let len = |r: &splitbrain::report::PropertyResult| r.trace.as_ref().map(|t| t.len());
            if rb.verdict == Verdict::Incomplete {
                cut += 1;
                continue;
            }
            let ok = match ra.kind {
                // A state reached with fewer faults is reached with more, no later.
                Kind::Always | Kind::Sometimes => broken(rb.verdict, rb.kind) && len(rb) <= len(ra),
                // A run that rests with fewer faults may go on with more (a message
                // delivered again): it must not come out as holding.
                Kind::Eventually => rb.verdict != Verdict::Holds,
            };
            if !ok {
                breaches.push(format!(
                    "{}/{} {}: {:?} in {:?} steps under {}, but {:?} in {:?} under {}",
                    arch.name(),
                    v.name,
                    ra.property,
                    ra.verdict,
                    len(ra),
                    fewer.describe(),
                    rb.verdict,
                    len(rb),
                    more.describe()
                ));
            }
        }
    }
    (compared, cut, breaches)
}

fn architectures() -> Vec<&'static dyn Architecture> {
    let mut all = models::catalog();
    let mut files: Vec<_> = std::fs::read_dir(root().join("models"))
        .expect("models/ is readable")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    for f in files {
        all.push(topology::load_architecture(&f).expect("a shipped topology file loads"));
    }
    all
}

#[test]
fn faults_only_add_runs() {
    let (mut compared, mut cut, mut breaches) = (0, 0, Vec::new());
    for arch in architectures() {
        for (fewer, more) in more_faults(arch.default_bounds()) {
            let (n, c, b) = compare(arch, &fewer, &more);
            compared += n;
            cut += c;
            breaches.extend(b);
        }
    }
    eprintln!(
        "faults_only_add_runs: {compared} (variant, property, fault step) pairs compared, \
         {cut} broken ones cut by the state limit with more faults"
    );
    assert!(compared > 300, "only {compared} pairs compared");
    assert!(breaches.is_empty(), "{}", breaches.join("\n"));
}

#[test]
fn a_duplicating_network_does_not_hide_the_lww_money_violation() {
    let mm = models::find("master-master").unwrap();
    let file = topology::load_architecture(&root().join("models/master-master.toml")).unwrap();
    for arch in [mm, file as &dyn Architecture] {
        let bounds = Bounds {
            network: NetworkKind::Duplicating,
            ..arch.default_bounds()
        };
        let r = check(arch, "lww", &bounds);
        let money = r
            .results
            .iter()
            .find(|r| r.property == "money_conserved")
            .unwrap();
        assert_eq!(money.verdict, Verdict::Violated, "{}", arch.name());
        assert_eq!(money.trace.as_ref().map(|t| t.len()), Some(4));
    }
}

/// Two synchronous replicas on a duplicating network: one replica's acknowledgement
/// delivered twice must not stand for the other's.
#[test]
fn a_duplicated_ack_counts_once() {
    let src = r#"
        properties = ["read_your_writes"]
        [network]
        semantics = "duplicating"
        [[node]]
        name = "primary"
        kind = "primary"
        [[node]]
        name = "replica1"
        kind = "replica"
        replica_of = "primary"
        [[node]]
        name = "replica2"
        kind = "replica"
        replica_of = "primary"
        [[client]]
        name = "jose"
        workload = [{ op = "write", to = "primary" }, { op = "read", to = "replica2" }]
        [[variant]]
        name = "sync"
        replication = { mode = "sync" }
        expect = { read_your_writes = "holds" }
    "#;
    let topo = topology::parse("two-sync.toml", src).unwrap();
    let v = topo.variant("sync").unwrap();
    let faults = splitbrain::system::Faults {
        network: NetworkKind::Duplicating,
        loss: 0,
        crashes: 0,
    };
    let sys = topo.build(&v.settings, faults);
    let limits = Limits {
        max_states: Some(MAX_STATES),
        ..Limits::default()
    };
    // A duplicated request is a second write, and a replica may take an older copy after
    // acknowledging a newer one: the claim can break, but never by one replica's
    // acknowledgement counted twice (it changes nothing the second time, so no step of a
    // trace is a repeated acknowledgement). The bug's trace was 7 steps long.
    match splitbrain::testing::check_property(&sys, "read_your_writes", &limits) {
        splitbrain::testing::Outcome::Violated(t) => {
            assert!(t.len() > 7, "{}", t.to_text());
            for s in t.steps.iter().filter(|s| s.text.contains("acknowledge")) {
                assert!(
                    s.changes.iter().any(|c| c.contains("acks missing")),
                    "an acknowledgement that lowers nothing:\n{}",
                    t.to_text()
                );
            }
        }
        other => panic!("expected the stale-copy violation, got {other:?}"),
    }
}

fn refused(src: &str, says: &str) {
    let Err(err) = topology::parse("t.toml", src) else {
        panic!("the file is refused");
    };
    let text = err.to_string();
    assert!(text.contains("t.toml:"), "located: {text}");
    assert!(text.contains(says), "says why ({says}): {text}");
}

const MASTERS: &str = r#"
    properties = ["replicas_converge"]
    [accounts]
    jose = 10
    [[node]]
    name = "m1"
    kind = "master"
    [[node]]
    name = "m2"
    kind = "master"
"#;

#[test]
fn surprising_topologies_are_refused_where_they_are_written() {
    let client = r#"
    [[client]]
    name = "jose"
    workload = [{ op = "withdraw", amount = 5, to = "m1" }]
    "#;
    let variant = "[[variant]]\nname = \"v\"\nexpect = { replicas_converge = \"holds\" }\n";
    refused(
        &format!("{MASTERS}[[node]]\nname = \"r\"\nkind = \"replica\"\nreplica_of = \"m1\"\n{client}{variant}"),
        "could not converge",
    );
    refused(
        &format!("{MASTERS}[[node]]\nname = \"c\"\nkind = \"cache\"\nbackend = \"m1\"\n{client}{variant}"),
        "ignores withdrawals",
    );
    refused(
        &format!("{MASTERS}{client}[[variant]]\nname = \"v\"\nreplication = {{ mode = \"async\", conflict = \"last-writer-wins\" }}\nexpect = {{ replicas_converge = \"holds\" }}\n"),
        "needs send = \"state\"",
    );
    refused(
        &format!("{MASTERS}{client}[[variant]]\nname = \"v\"\nclients = {{ timeout = false, retries = 2 }}\nexpect = {{ replicas_converge = \"holds\" }}\n"),
        "retries need a timeout",
    );
    refused(
        &format!("{MASTERS}{client}[[variant]]\nname = \"v\"\nclients = {{ retries = 2 }}\nexpect = {{ replicas_converge = \"holds\" }}\n"),
        "retries need a timeout",
    );
}

#[test]
fn labels_are_counted_in_characters() {
    let client = |label: &str| {
        format!("[[client]]\nname = \"jose\"\nworkload = [{{ op = \"withdraw\", amount = 5, to = \"m1\", label = \"{label}\" }}]\n[[variant]]\nname = \"v\"\nexpect = {{ replicas_converge = \"holds\" }}\n")
    };
    let japanese = "ブリトーとタコスの支払いを確認".repeat(2);
    assert!(japanese.chars().count() <= 40 && japanese.len() > 40);
    topology::parse("t.toml", &format!("{MASTERS}{}", client(&japanese))).unwrap();
    refused(
        &format!("{MASTERS}{}", client(&"x".repeat(41))),
        "1 to 40 characters",
    );
}
