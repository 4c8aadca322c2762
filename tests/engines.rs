//! The engines against each other and against brute force:
//! - splitbrain's BFS returns the true shortest counterexample (checked against
//!   iterative-deepening enumeration of *every* path, no state merging);
//! - it visits exactly the states plain stateright BFS visits, with the same verdicts;
//! - the random engine never contradicts it, and its shrunk traces are never shorter.

use splitbrain::bounds::Bounds;
use splitbrain::exhaustive::{self, fingerprint, End, Limits};
use splitbrain::models::master_master::{self, Mode};
use splitbrain::property::{Kind, Property};
use splitbrain::random::{self, RandomOptions};
use splitbrain::system::NetworkKind;
use stateright::{Checker, HasDiscoveries, Model};
use std::collections::HashSet;

/// Length of the shortest path to a state where an `always` property fails, found by
/// enumerating every path of length 0, 1, 2, ... without merging states.
fn brute_force_shortest<M>(model: &M, p: &Property<M>, max: usize) -> Option<usize>
where
    M: Model,
    M::State: Clone,
{
    fn dfs<M: Model>(model: &M, p: &Property<M>, s: &M::State, left: usize) -> bool
    where
        M::State: Clone,
    {
        if !(p.check)(model, s) {
            return true;
        }
        if left == 0 {
            return false;
        }
        model
            .next_states(s)
            .iter()
            .any(|n| dfs(model, p, n, left - 1))
    }
    assert_eq!(p.kind, Kind::Always);
    let inits = model.init_states();
    (0..=max).find(|&d| inits.iter().any(|s| dfs(model, p, s, d)))
}

fn bounds(clients: u8, ops: u8, servers: u8, loss: u8, crashes: u8) -> Bounds {
    Bounds {
        clients,
        ops,
        servers,
        balance: 10,
        network: NetworkKind::Unordered,
        loss,
        crashes,
    }
}

fn small_configs() -> Vec<Bounds> {
    vec![
        bounds(1, 2, 2, 0, 0),
        bounds(2, 1, 2, 0, 0),
        bounds(2, 2, 2, 0, 0),
        bounds(1, 3, 3, 0, 0),
        bounds(2, 2, 2, 1, 0),
        bounds(1, 2, 2, 1, 1),
        Bounds {
            network: NetworkKind::Ordered,
            ..bounds(2, 2, 2, 0, 0)
        },
    ]
}

const MODES: [Mode; 3] = [Mode::AsyncOps, Mode::Lww, Mode::HomeMaster];

#[test]
fn bfs_traces_are_as_short_as_brute_force_enumeration() {
    let mut compared = 0;
    for b in small_configs() {
        for mode in MODES {
            let sys = master_master::build(mode, &b);
            let always: Vec<_> = sys
                .properties
                .iter()
                .copied()
                .filter(|p| p.kind == Kind::Always)
                .collect();
            let s = exhaustive::search(&sys, &always, &Limits::default());
            assert_eq!(s.end, End::Complete);
            for (p, f) in always.iter().zip(&s.findings) {
                let bfs = f.path.as_ref().map(|p| p.len());
                // Brute force up to one step past what BFS claims (or its deepest state).
                let horizon = bfs.map_or(s.max_depth, |d| d + 1);
                let brute = brute_force_shortest(&sys, p, horizon);
                assert_eq!(
                    bfs,
                    brute,
                    "{mode:?} {} at {}: BFS says {bfs:?}, brute force {brute:?}",
                    p.name,
                    b.describe()
                );
                if let Some(path) = &f.path {
                    assert!(
                        !(p.check)(&sys, path.last()),
                        "the trace ends in a violating state"
                    );
                    for w in path.states.windows(2).zip(&path.actions) {
                        let ((from, to), a) = ((&w.0[0], &w.0[1]), w.1);
                        let again = sys.next_state(from, a.clone()).expect("a real transition");
                        assert_eq!(fingerprint(&again), fingerprint(to));
                    }
                    compared += 1;
                }
            }
        }
    }
    assert!(compared >= 20, "only {compared} counterexamples compared");
}

#[test]
fn bfs_visits_the_same_states_as_stateright_bfs_with_the_same_verdicts() {
    for b in small_configs() {
        for mode in MODES {
            let sys = master_master::build(mode, &b);
            let props = sys.properties.clone();
            let ours = exhaustive::search(&sys, &props, &Limits::default());
            let never = HasDiscoveries::AllOf(["(everything)"].into_iter().collect());
            let theirs = master_master::build(mode, &b)
                .checker()
                .finish_when(never)
                .spawn_bfs()
                .join();
            assert_eq!(
                ours.unique_states,
                theirs.unique_state_count(),
                "{mode:?} at {}",
                b.describe()
            );
            for (p, f) in props.iter().zip(&ours.findings) {
                if p.kind == Kind::Always {
                    assert_eq!(
                        f.path.is_some(),
                        theirs.discovery(p.name).is_some(),
                        "{mode:?} {} at {}",
                        p.name,
                        b.describe()
                    );
                }
            }
        }
    }
}

#[test]
fn bfs_is_deterministic() {
    let b = bounds(2, 2, 3, 1, 0);
    let sys = master_master::build(Mode::AsyncOps, &b);
    let props = sys.properties.clone();
    let a = exhaustive::search(&sys, &props, &Limits::default());
    let c = exhaustive::search(&sys, &props, &Limits::default());
    assert_eq!(a.unique_states, c.unique_states);
    for (x, y) in a.findings.iter().zip(&c.findings) {
        let fx: Vec<u64> = x
            .path
            .iter()
            .flat_map(|p| p.states.iter().map(fingerprint))
            .collect();
        let fy: Vec<u64> = y
            .path
            .iter()
            .flat_map(|p| p.states.iter().map(fingerprint))
            .collect();
        assert_eq!(fx, fy);
    }
}

#[test]
fn limits_make_a_search_incomplete_never_complete() {
    let sys = master_master::build(Mode::HomeMaster, &bounds(2, 2, 3, 0, 0));
    let props = sys.properties.clone();
    let full = exhaustive::search(&sys, &props, &Limits::default());
    assert_eq!(full.end, End::Complete);
    let cut = exhaustive::search(
        &sys,
        &props,
        &Limits {
            max_states: Some(full.unique_states / 2),
            ..Limits::default()
        },
    );
    assert!(matches!(cut.end, End::Limit(_)), "{:?}", cut.end);
    let shallow = exhaustive::search(
        &sys,
        &props,
        &Limits {
            max_depth: Some(full.max_depth - 1),
            ..Limits::default()
        },
    );
    assert!(matches!(shallow.end, End::Limit(_)), "{:?}", shallow.end);
    // A depth limit at the true depth is not a cut.
    let exact = exhaustive::search(
        &sys,
        &props,
        &Limits {
            max_depth: Some(full.max_depth),
            ..Limits::default()
        },
    );
    assert_eq!(exact.end, End::Complete);
    assert_eq!(exact.unique_states, full.unique_states);
}

/// The random engine never reports a violation BFS does not, never a trace shorter than
/// BFS's minimum; and it says how often its shrunk trace is as short as the minimum.
#[test]
fn random_engine_agrees_with_bfs_and_reports_how_often_it_is_minimal() {
    let mut runs = 0;
    let mut minimal = 0;
    let mut seen: HashSet<String> = HashSet::new();
    for b in small_configs() {
        for mode in MODES {
            let sys = master_master::build(mode, &b);
            let props = sys.properties.clone();
            let bfs = exhaustive::search(&sys, &props, &Limits::default());
            for (p, f) in props.iter().zip(&bfs.findings) {
                for seed in 0..3 {
                    let opts = RandomOptions {
                        cases: 300,
                        max_steps: 40,
                        seed,
                    };
                    let r = random::search_property(&sys, p, &opts);
                    match (&r.path, &f.path) {
                        (Some(rp), Some(bp)) => {
                            assert!(
                                rp.len() >= bp.len(),
                                "random found a shorter trace than BFS: {mode:?} {}",
                                p.name
                            );
                            runs += 1;
                            if rp.len() == bp.len() {
                                minimal += 1;
                            }
                            seen.insert(format!("{mode:?}/{}", p.name));
                        }
                        (Some(_), None) => panic!(
                            "random engine found a violation of {} ({mode:?}, {}) that BFS says cannot happen",
                            p.name,
                            b.describe()
                        ),
                        _ => {}
                    }
                }
            }
        }
    }
    eprintln!(
        "random engine: shrunk trace as short as the BFS minimum in {minimal} of {runs} runs ({:.0}%)",
        100.0 * minimal as f64 / runs.max(1) as f64
    );
    assert!(
        seen.len() >= 4,
        "random engine found too few violations: {seen:?}"
    );
    // Shrinking should usually reach the minimum on these small models.
    assert!(minimal * 2 >= runs, "{minimal} of {runs}");
}

/// Where the random engine earns its place: a bug deep in a large workload ($90 of food
/// against $60, six clients, three masters). BFS cut at 200,000 states has not reached
/// the violation's depth and cannot decide; random search finds it, reproducibly.
#[test]
fn random_engine_finds_a_deep_bug_that_bounded_bfs_cannot_reach() {
    let b = Bounds {
        clients: 6,
        servers: 3,
        balance: 60,
        ..bounds(6, 2, 3, 0, 0)
    };
    let sys = master_master::build(Mode::AsyncOps, &b);
    let p = *sys
        .properties
        .iter()
        .find(|p| p.name == "no_negative_balance")
        .unwrap();
    let bfs = exhaustive::search(
        &sys,
        &[p],
        &Limits {
            max_states: Some(200_000),
            ..Limits::default()
        },
    );
    assert!(matches!(bfs.end, End::Limit(_)));
    assert!(bfs.findings[0].path.is_none(), "BFS reached it after all");
    let opts = RandomOptions {
        cases: 2_000,
        max_steps: 200,
        seed: 0,
    };
    let r = random::search_property(&sys, &p, &opts);
    let path = r.path.expect("random search finds the overdraft");
    assert!(!(p.check)(&sys, path.last()));
    assert!(
        path.len() > bfs.max_depth,
        "the violation lies deeper ({}) than BFS got ({})",
        path.len(),
        bfs.max_depth
    );
    eprintln!(
        "deep bug: BFS incomplete at {} states (depth {}); random found a {}-step counterexample after {} run(s), {:.4}s",
        bfs.unique_states,
        bfs.max_depth,
        path.len(),
        r.cases,
        r.first_seconds.unwrap_or_default()
    );
}

/// stateright's other searches (BFS on two threads, DFS) visit the same states with the
/// same `always` verdicts, and splitbrain's BFS gives the same shortest trace every run.
#[test]
fn stateright_threads_and_dfs_agree_on_states_and_verdicts() {
    for b in small_configs() {
        for mode in MODES {
            let sys = master_master::build(mode, &b);
            let props = sys.properties.clone();
            let ours = exhaustive::search(&sys, &props, &Limits::default());
            let never = || HasDiscoveries::AllOf(["(everything)"].into_iter().collect());
            let threaded = master_master::build(mode, &b)
                .checker()
                .threads(2)
                .finish_when(never())
                .spawn_bfs()
                .join();
            let dfs = master_master::build(mode, &b)
                .checker()
                .finish_when(never())
                .spawn_dfs()
                .join();
            for (name, count) in [
                ("bfs x2", threaded.unique_state_count()),
                ("dfs", dfs.unique_state_count()),
            ] {
                assert_eq!(
                    ours.unique_states,
                    count,
                    "{name}: {mode:?} at {}",
                    b.describe()
                );
            }
            for (p, f) in props.iter().zip(&ours.findings) {
                if p.kind == Kind::Always {
                    assert_eq!(f.path.is_some(), threaded.discovery(p.name).is_some());
                    assert_eq!(f.path.is_some(), dfs.discovery(p.name).is_some());
                }
            }
            let again = exhaustive::search(&sys, &props, &Limits::default());
            for (x, y) in ours.findings.iter().zip(&again.findings) {
                assert_eq!(
                    x.path.as_ref().map(|p| p.len()),
                    y.path.as_ref().map(|p| p.len())
                );
            }
        }
    }
}

/// A crash can always happen, so a state where only crashes are left has still come to
/// rest: `eventually` properties must be judged there (they once passed vacuously).
#[test]
fn eventually_is_judged_when_crashes_are_allowed() {
    use splitbrain::check::CheckOptions;
    use splitbrain::models;
    use splitbrain::report::Verdict;
    let mm = models::find("master-master").unwrap();
    let bug = mm.variant("mutant-no-replication").unwrap();
    for crashes in [0, 1] {
        let b = Bounds {
            crashes,
            ..mm.default_bounds()
        };
        let opts = CheckOptions {
            properties: vec!["replicas_converge".into()],
            ..CheckOptions::default()
        };
        let r = mm.check(bug, &b, &opts).unwrap();
        assert_eq!(r.results[0].verdict, Verdict::Violated, "crashes={crashes}");
        let r = mm
            .check(mm.variant("home-master").unwrap(), &b, &opts)
            .unwrap();
        assert_eq!(r.results[0].verdict, Verdict::Holds, "crashes={crashes}");
    }
}

/// Every variant of the catalog at every proof bound, and every mutant at the default
/// bounds.
fn catalog_configurations() -> Vec<(
    &'static dyn splitbrain::architecture::Architecture,
    &'static splitbrain::architecture::Variant,
    splitbrain::bounds::Bounds,
)> {
    let mut all = Vec::new();
    for arch in splitbrain::models::catalog() {
        for v in arch.variants() {
            all.extend(arch.proof_bounds().into_iter().map(|b| (arch, v, b)));
        }
        for m in arch.mutants() {
            all.push((arch, m, arch.default_bounds()));
        }
    }
    all
}

/// A result's trace as text, if it has one.
fn trace_text(r: &splitbrain::report::PropertyResult) -> Option<String> {
    r.trace.as_ref().map(|t| t.to_text())
}

/// BFS on two threads merges what the threads find in the order one thread finds it: on
/// every model, variant and mutant of the catalog, at every proof bound, the states, the
/// verdicts and the traces (step by step) are those of the one-thread search (variants
/// at every proof bound, mutants at the default bounds).
#[test]
fn two_thread_bfs_agrees_with_one_thread_on_the_whole_catalog() {
    use splitbrain::check::CheckOptions;
    let mut compared = 0;
    for (arch, v, b) in catalog_configurations() {
        let run = |threads: usize| {
            let opts = CheckOptions {
                threads,
                ..CheckOptions::default()
            };
            arch.check(v, &b, &opts).expect("proof bounds are valid")
        };
        let (one, two) = (run(1), run(2));
        assert_eq!(one.results.len(), two.results.len());
        for (a, t) in one.results.iter().zip(&two.results) {
            let what = format!(
                "{}/{} {} [{}]",
                arch.name(),
                v.name,
                a.property,
                b.describe()
            );
            assert_eq!(a.unique_states, t.unique_states, "{what}");
            assert_eq!(a.max_depth, t.max_depth, "{what}");
            assert_eq!(a.verdict, t.verdict, "{what}");
            assert_eq!(trace_text(a), trace_text(t), "{what}");
            compared += 1;
        }
    }
    assert!(compared >= 150, "only {compared} results compared");
}

/// Runs `f` on every model, variant and mutant of the catalog built at every proof bound,
/// and fails with the configuration named on the first error.
fn for_every_system_at_every_proof_bound(
    mut f: impl FnMut(&dyn splitbrain::architecture::Buildable) -> Result<(), String>,
) {
    for arch in splitbrain::models::catalog() {
        for v in arch.variants().iter().chain(arch.mutants()) {
            for b in arch.proof_bounds() {
                let sys = arch.build(v, &b).expect("proof bounds are valid");
                if let Err(e) = f(&*sys) {
                    panic!("{}/{} [{}]: {e}", arch.name(), v.name, b.describe());
                }
            }
        }
    }
}

/// The engine skips building states it has seen when the model tells where a step leads
/// (`successor_fingerprints`), and the random engine builds only the step it takes when
/// the model tells which steps lead somewhere (`successors_enabled`, and along a walk
/// `successors_enabled_since`, which may answer again what it answered a step before);
/// on every model, variant and mutant of the catalog, at every proof bound, every told
/// step leads exactly where it was told, and after every step the answers given with the
/// ones before are the answers given without; and `has_step`, which rebuilding a path
/// asks of full states for steps found on stored ones, answers for the state's steps,
/// its successors' and those of the state with what is forgotten taken out whether the
/// state lists them.
#[test]
fn told_fingerprints_match_the_states_built() {
    let mut compared = 0;
    for_every_system_at_every_proof_bound(|sys| {
        compared += sys.verify_told_fingerprints(20_000)?;
        Ok(())
    });
    assert!(compared > 10_000, "only {compared} told answers compared");
    eprintln!("{compared} told answers compared");
}

/// The declarations `--reduce por` relies on hold over the whole state space of every
/// model, variant and mutant of the catalog at every proof bound: servers send a client
/// nothing but one reply per attempt (where the model declares it), no property's check
/// is changed by a client step it is declared invisible to, or undone once decided where
/// it is declared stable, stateless servers keep nothing, every set of steps the
/// reduction names is a stubborn set one step deep (a step of it that is not a loss stays
/// enabled after any other step, and its steps commute ahead of any other step), and
/// every message declared ignored for good is ignored now and after every step, with no
/// property's check changed when it is forgotten; and where a model reads replies only in
/// part (master-master: not the balance they carry), no check changes and every step
/// leads to the same state with replies kept as read; and every real-time history gets
/// the same linearizability verdict from stateright's tester and kept as judged; and
/// taking out the operations clients finished changes no step, no persistent set, no
/// state a step leads to (taken out too) and no check declared to read only the servers.
#[test]
fn reduction_declarations_hold_on_the_whole_catalog() {
    let (mut steps, mut sets, mut ignored, mut replies_kept) = (0, 0, 0, 0);
    let (mut histories, mut absorbed, mut quiet, mut settled) = (0, 0, 0, 0);
    for_every_system_at_every_proof_bound(|sys| {
        let audit = sys.audit_reduction(20_000)?;
        settled += audit.settled;
        (steps, sets) = (steps + audit.steps, sets + audit.sets);
        ignored += audit.ignored;
        replies_kept += audit.replies_kept;
        histories += audit.histories_judged;
        absorbed += audit.absorbed;
        quiet += audit.quiet;
        Ok(())
    });
    assert!(sets > 10_000, "only {sets} sets checked");
    assert!(quiet > 10_000, "only {quiet} quiet actors checked");
    assert!(histories > 10_000, "only {histories} histories judged");
    assert!(absorbed > 0, "no delivery of an absorbed message checked");
    assert!(
        settled > 10_000,
        "only {settled} states with finished operations checked"
    );
    assert!(ignored > 10_000, "only {ignored} ignored messages checked");
    assert!(
        replies_kept > 10_000,
        "only {replies_kept} states with replies read in part checked"
    );
    eprintln!(
        "{steps} steps audited, {sets} named sets checked one step deep, {ignored} messages declared ignored checked, {replies_kept} states with replies read in part checked, {histories} histories judged both ways, {absorbed} deliveries of absorbed messages checked, {quiet} quiet actors checked, {settled} states checked with the operations clients finished taken out"
    );
}

/// The reduction audit's first breach on master-master `async-ops` at the default bounds
/// with `extra` added to its properties (whose own pass).
fn master_master_audit_with(
    extra: splitbrain::property::Property<
        splitbrain::system::System<splitbrain::models::master_master::Node>,
    >,
) -> String {
    use splitbrain::architecture::Buildable;
    use splitbrain::models::master_master::{build, Mode};
    let b = splitbrain::models::find("master-master")
        .unwrap()
        .default_bounds();
    build(Mode::AsyncOps, &b)
        .audit_reduction(20_000)
        .expect("the model's own properties pass");
    let mut reads = build(Mode::AsyncOps, &b);
    reads.properties.push(extra);
    reads.audit_reduction(20_000).unwrap_err()
}

/// The reduction audit catches a property that reads what the model declares nobody
/// reads: master-master keeps replies without the balance they carry, so a claim about
/// that balance is reported; the model's own properties pass.
#[test]
fn reduction_audit_rejects_a_check_that_reads_what_replies_are_kept_without() {
    use splitbrain::history::{Outcome, Reply};
    use splitbrain::property::{ClientSteps, Kind, Property};
    let err = master_master_audit_with(Property {
        name: "replies_show_an_empty_account",
        claim: "every approval tells the client the account is empty",
        kind: Kind::Always,
        client_steps: ClientSteps::Visible,
        check: |sys, s| {
            sys.history(s).iter().all(|e| {
                !matches!(e.outcome, Outcome::Replied(Reply::Approved { balance }) if balance > 0)
            })
        },
        values: |_, _| String::new(),
    });
    assert!(
        err.contains(
            "the check of replies_show_an_empty_account changes when replies are kept as the model reads them"
        ),
        "{err}"
    );
}

/// The reduction audit catches a property declared to read only the servers that reads
/// what clients keep of the operations they finished (which `--reduce por` forgets once
/// every undecided property reads only the servers): an `eventually` claim about the
/// replies clients got, which no other check of the audit would catch (client steps
/// change it, and only `always` and `sometimes` checks are audited step by step).
#[test]
fn reduction_audit_rejects_a_server_only_check_that_reads_finished_operations() {
    use splitbrain::history::{Outcome, Reply};
    use splitbrain::property::{ClientSteps, Kind, Property};
    let err = master_master_audit_with(Property {
        name: "no_withdrawal_approved",
        claim: "runs end with no client told its withdrawal was approved",
        kind: Kind::Eventually,
        client_steps: ClientSteps::Invisible,
        check: |sys, s| {
            (sys.history(s).iter())
                .all(|e| !matches!(e.outcome, Outcome::Replied(Reply::Approved { .. })))
        },
        values: |_, _| String::new(),
    });
    assert!(
        err.contains(
            "no_withdrawal_approved is declared to read only the servers, but its check changes when the operations clients finished are taken out"
        ),
        "{err}"
    );
}

/// The reduction audit catches a false stateless declaration: central-db's db keeps the
/// balances, so declaring it stateless is reported with the step that changes them; its
/// app servers, which the model declares stateless, pass.
#[test]
fn reduction_audit_rejects_a_server_that_keeps_state_declared_stateless() {
    use splitbrain::architecture::Buildable;
    use splitbrain::models::central_db::{build_with, Mode};
    let arch = splitbrain::models::find("central-db").unwrap();
    let b = arch.default_bounds();
    let honest = build_with(Mode::Retry, None, &b);
    honest
        .audit_reduction(20_000)
        .expect("app servers keep nothing");
    let db = honest.id_of("db").map(usize::from).unwrap();
    let declared = build_with(Mode::Retry, None, &b).with_stateless(vec![0, db]);
    let err = declared.audit_reduction(20_000).unwrap_err();
    assert!(
        err.contains("db is declared stateless, but '") && err.contains("changes its state"),
        "{err}"
    );
    eprintln!("{err}");
}

/// The reduction audit catches false sink declarations: a replica that takes any copy,
/// even an older one, ends at whichever copy came last, so two copies do not commute; and
/// replicas that answer reads send. Reading from the primary, the honest replicas pass.
#[test]
fn reduction_audit_rejects_replicas_declared_sinks_that_are_not() {
    use splitbrain::architecture::Buildable;
    use splitbrain::models::read_replica::{build_with, Bug, Mode};
    let arch = splitbrain::models::find("read-replica").unwrap();
    let b = arch.default_bounds();
    build_with(Mode::ReadPrimaryAfterWrite, None, &b)
        .audit_reduction(20_000)
        .expect("replicas read by nobody are sinks");
    let regressing = build_with(Mode::ReadPrimaryAfterWrite, Some(Bug::ReplicaRegresses), &b);
    let err = regressing.audit_reduction(20_000).unwrap_err();
    assert!(
        err.contains("'primary -> replica1: replicate log up to v1', in the set, does not commute ahead of 'primary -> replica1: replicate log up to v2'"),
        "{err}"
    );
    let answering = build_with(Mode::Async, None, &b).with_sinks(vec![1]);
    let err = answering.audit_reduction(20_000).unwrap_err();
    assert!(
        err.contains("replica1 is declared a sink, but 'jose -> replica1: read x")
            && err.contains("makes it send"),
        "{err}"
    );
}

/// The reduction audit catches false frozen declarations: a replica declared frozen
/// while a newer copy is still on its way changes; declared frozen from the start, the
/// primary changes with the first write.
#[test]
fn reduction_audit_rejects_servers_declared_frozen_that_are_not() {
    use splitbrain::architecture::Buildable;
    use splitbrain::models::read_replica::{build, Mode, Node};
    use splitbrain::system::{SysState, System};
    let arch = splitbrain::models::find("read-replica").unwrap();
    let b = arch.default_bounds();
    let audit = build(Mode::SessionToken, &b)
        .audit_reduction(20_000)
        .expect("the databases read-replica declares frozen are");
    assert!(
        audit.frozen > 1_000,
        "only {} frozen servers checked",
        audit.frozen
    );
    fn every_database(sys: &System<Node>, _: &SysState<Node>) -> Vec<bool> {
        sys.names
            .iter()
            .map(|n| !n.starts_with('j') && !n.starts_with('m'))
            .collect()
    }
    let err = build(Mode::SessionToken, &b)
        .with_frozen(every_database)
        .audit_reduction(20_000)
        .unwrap_err();
    assert!(
        err.contains("primary is declared frozen, but '")
            && err.contains(" -> primary: write x=")
            && err.contains("changes its state"),
        "{err}"
    );
}

/// The reduction audit catches false declarations of messages handled without state: the
/// primary changes with a write, and a home-master mutant that answers with its balance
/// before forwarding does not do the same in every state.
#[test]
fn reduction_audit_rejects_messages_declared_handled_without_state_that_are_not() {
    use splitbrain::architecture::Buildable;
    use splitbrain::models::{master_master, read_replica};
    use splitbrain::system::Msg;
    let mm = splitbrain::models::find("master-master").unwrap();
    let audit = master_master::build(master_master::Mode::HomeMaster, &mm.default_bounds())
        .audit_reduction(20_000)
        .expect("non-home masters forward without their state");
    assert!(audit.without_state > 0, "no forward checked");
    fn requests<N, P>(_: &N, msg: &Msg<P>) -> bool {
        matches!(msg, Msg::Request { .. })
    }
    let rr = splitbrain::models::find("read-replica").unwrap();
    let err = read_replica::build(read_replica::Mode::Async, &rr.default_bounds())
        .with_handled_without_state(requests)
        .audit_reduction(20_000)
        .unwrap_err();
    assert!(
        err.contains("primary declares it handles the message without its state, but '")
            && err.contains("changes its state"),
        "{err}"
    );
    fn forwards(node: &master_master::Node, msg: &Msg<master_master::Peer>) -> bool {
        matches!(node, master_master::Node::Master(m) if m.index > 0)
            && matches!(msg, Msg::Request { .. })
    }
    let bounds = splitbrain::bounds::Bounds {
        clients: 2,
        ..mm.default_bounds()
    };
    let err = master_master::build_with(
        master_master::Mode::HomeMaster,
        Some(master_master::Bug::AckBeforeForward),
        &bounds,
    )
    .with_handled_without_state(forwards)
    .audit_reduction(20_000)
    .unwrap_err();
    // Caught where the forward, answered with master2's balance, first fails to commute.
    assert!(
        err.contains("-> master2: withdraw")
            && (err.contains("does not commute ahead")
                || err.contains("sends otherwise than in its start state")),
        "{err}"
    );
}

/// The reduction audit catches false declarations of quiet actors: in leaderless
/// `quorum`, replicas declared quiet in every state are sent a read once the write is
/// done, and clients declared quiet in every state are acknowledged by the replicas
/// their writes reach. The model's own declaration passes, with quiet actors in
/// thousands of states.
#[test]
fn reduction_audit_rejects_actors_declared_quiet_that_are_not() {
    use splitbrain::architecture::Buildable;
    use splitbrain::models::leaderless::{build, Mode, Node};
    use splitbrain::system::{SysState, System};
    let b = splitbrain::models::find("leaderless")
        .unwrap()
        .default_bounds();
    let audit = build(Mode::Quorum, &b)
        .audit_reduction(20_000)
        .expect("leaderless declares quiet actors truly");
    assert!(
        audit.quiet > 1_000,
        "only {} quiet actors checked",
        audit.quiet
    );
    fn replicas(sys: &System<Node>, _: &SysState<Node>, i: usize) -> bool {
        matches!(sys.actors.actors[i], Node::Replica(_))
    }
    let err = build(Mode::Quorum, &b)
        .with_quiet(replicas)
        .audit_reduction(20_000)
        .unwrap_err();
    assert!(
        err.contains("is declared quiet, but '") && err.contains("sends it Peer(Read"),
        "{err}"
    );
    eprintln!("{err}");
    fn clients(sys: &System<Node>, _: &SysState<Node>, i: usize) -> bool {
        matches!(sys.actors.actors[i], Node::Client(_))
    }
    let err = build(Mode::Quorum, &b)
        .with_quiet(clients)
        .audit_reduction(20_000)
        .unwrap_err();
    assert!(
        err.contains("writer is declared quiet, but '") && err.contains("sends it Peer(Ack"),
        "{err}"
    );
    eprintln!("{err}");
}

/// The reduction audit catches false declarations of absorbed messages: in `async-ops`
/// a master reads its balance to approve, so a replicated withdrawal does not commute
/// with a request on its way to the same master; the home master answers the requests it
/// is sent; an `lww` balance declared absorbed while no request is on its way, rather than
/// once no client will send one, stops being so; and a check that a replica never holds
/// more than the home master is undone when the replica applies the withdrawal.
/// home-master's declaration passes.
#[test]
fn reduction_audit_rejects_messages_declared_absorbed_that_are_not() {
    use splitbrain::architecture::Buildable;
    use splitbrain::models::master_master::{build, Mode, Node, NodeState, Peer};
    use splitbrain::property::{ClientSteps, Kind, Property};
    use splitbrain::system::{Msg, SysState, System};
    let b = splitbrain::bounds::Bounds {
        clients: 3,
        servers: 3,
        ..splitbrain::models::find("master-master")
            .unwrap()
            .default_bounds()
    };
    let audit = build(Mode::HomeMaster, &b)
        .audit_reduction(20_000)
        .expect("non-home masters absorb replicated withdrawals");
    eprintln!("{audit:?}");
    assert!(
        audit.absorbed > 1_000,
        "only {} deliveries checked",
        audit.absorbed
    );
    fn withdrawals(_: &System<Node>, _: &SysState<Node>, _: usize, msg: &Msg<Peer>) -> bool {
        matches!(msg, Msg::Peer(Peer::ApplyOp { .. }))
    }
    let err = build(Mode::AsyncOps, &b)
        .with_absorbed(withdrawals)
        .audit_reduction(20_000)
        .unwrap_err();
    assert!(
        err.contains("is declared to absorb the message, but '")
            && err.contains("replicate withdraw")
            && err.contains("is no stubborn set")
            && err.contains("does not commute ahead of '")
            && err.contains(": withdraw $"),
        "{err}"
    );
    eprintln!("{err}");
    fn requests(_: &System<Node>, _: &SysState<Node>, _: usize, msg: &Msg<Peer>) -> bool {
        matches!(msg, Msg::Request { .. } | Msg::Peer(Peer::Forward { .. }))
    }
    let err = build(Mode::HomeMaster, &b)
        .with_absorbed(requests)
        .audit_reduction(20_000)
        .unwrap_err();
    assert!(
        err.contains("master1 is declared to absorb the message, but '")
            && err.contains("makes it send"),
        "{err}"
    );
    eprintln!("{err}");
    // A balance declared absorbed while no request is on its way to the master, not once no
    // client will send it one: a client's next request makes it no longer so.
    fn no_request_yet(sys: &System<Node>, s: &SysState<Node>, i: usize, msg: &Msg<Peer>) -> bool {
        matches!(msg, Msg::Peer(Peer::SetBalance { .. }))
            && !sys
                .in_flight(s)
                .any(|e| usize::from(e.dst) == i && matches!(e.msg, Msg::Request { .. }))
    }
    let err = build(Mode::Lww, &b)
        .with_absorbed(no_request_yet)
        .audit_reduction(20_000)
        .unwrap_err();
    assert!(
        err.contains("is declared to absorb the message, but '")
            && err.contains("replicate balance")
            && (err.contains("is no longer declared absorbed after '")
                || err.contains("does not commute ahead of '")),
        "{err}"
    );
    eprintln!("{err}");
    fn balance(sys: &System<Node>, s: &SysState<Node>, name: &str) -> i16 {
        sys.nodes(s)
            .find_map(|(n, _, st)| match st {
                NodeState::Master(m) if n == name => Some(m.balance),
                _ => None,
            })
            .unwrap()
    }
    let mut sys = build(Mode::HomeMaster, &b);
    sys.properties.push(Property {
        name: "replica_never_ahead",
        claim: "master2 never holds more than master1",
        kind: Kind::Always,
        client_steps: ClientSteps::Invisible,
        check: |sys, s| balance(sys, s, "master2") <= balance(sys, s, "master1"),
        values: |_, _| String::new(),
    });
    let err = sys.audit_reduction(20_000).unwrap_err();
    assert!(
        err.contains("master2 is declared to absorb the message, but '")
            && err.contains("undoes a violation of replica_never_ahead"),
        "{err}"
    );
    eprintln!("{err}");
}

/// A property that reads the real-time history must say so (`ClientSteps::Order`): under
/// `--reduce por` the search of the other properties forgets the history, and the audit
/// catches a check that changes without it, and a check of the servers declared to read
/// only that order. Declared, it is searched apart, to the same
/// verdict and the same shortest trace as the unreduced search, on one thread and two.
#[test]
fn a_property_reading_the_order_of_client_steps_is_searched_apart() {
    use splitbrain::architecture::Buildable;
    use splitbrain::check::CheckOptions;
    use splitbrain::models::read_replica::{build, Mode, Node};
    use splitbrain::property::{ClientSteps, Kind, Property};
    use splitbrain::system::{SysState, System};
    let arch = splitbrain::models::find("read-replica").unwrap();
    let b = arch.default_bounds();
    let mut sys = build(Mode::SessionToken, &b);
    fn undeclared(sys: &System<Node>, s: &SysState<Node>) -> bool {
        s.real_time.as_ref().is_none_or(|t| sys.is_linearizable(t))
    }
    sys.properties.push(Property {
        name: "linearizable_undeclared",
        claim: "linearizable, declared as if it read only what each client saw",
        kind: Kind::Always,
        client_steps: ClientSteps::Stable,
        check: undeclared,
        values: |_, _| String::new(),
    });
    let err = sys.audit_reduction(20_000).unwrap_err();
    assert!(
        err.contains(
            "linearizable_undeclared does not declare that it reads the order of client steps"
        ),
        "{err}"
    );
    // Declared to read only the order of client steps, a check of the servers is caught.
    let mm = splitbrain::models::find("master-master").unwrap();
    let mut servers = splitbrain::models::master_master::build(
        splitbrain::models::master_master::Mode::AsyncOps,
        &mm.default_bounds(),
    );
    servers.properties[0].client_steps = ClientSteps::Order;
    let err = servers.audit_reduction(20_000).unwrap_err();
    assert!(
        err.contains("no_negative_balance is declared Order to client steps, but '")
            && err.contains("replicate withdraw"),
        "{err}"
    );
    let variant = arch.variant("session-token").unwrap();
    let unreduced = arch.check(variant, &b, &CheckOptions::default()).unwrap();
    for threads in [1, 2] {
        let opts = CheckOptions {
            reduce: splitbrain::reduction::Reduce::Por,
            threads,
            ..CheckOptions::default()
        };
        let r = arch.check(variant, &b, &opts).unwrap();
        assert!(r.complete, "{}", r.end);
        assert!(
            r.end
                .contains("linearizable searched apart without persistent sets")
                && r.end.contains("stopped once found"),
            "{}",
            r.end
        );
        for (a, b) in unreduced.results.iter().zip(&r.results) {
            assert_eq!((&a.property, a.verdict), (&b.property, b.verdict));
            assert_eq!(
                a.trace.as_ref().map(|t| t.len()),
                b.trace.as_ref().map(|t| t.len()),
                "{}",
                a.property
            );
        }
    }
}

/// The symmetries the models declare are symmetries: on every model, variant and mutant
/// of the catalog at every proof bound, every renaming of the interchangeable servers
/// maps each reachable state's steps onto the renamed state's steps and keeps every
/// property's check, and renames start states to start states.
#[test]
fn symmetry_declarations_hold_on_the_whole_catalog() {
    let (mut renamings, mut systems) = (0, 0);
    for_every_system_at_every_proof_bound(|sys| {
        let audit = sys.audit_symmetry(20_000)?;
        renamings += audit.renamings;
        systems += usize::from(audit.renamings > 0);
        Ok(())
    });
    // Leaderless (4 variants, 5 mutants) and stateless (4 variants, 5 mutants) declare
    // their servers interchangeable at every proof bound.
    assert!(systems >= 40, "only {systems} systems declare a symmetry");
    eprintln!("{renamings} renamings audited in {systems} systems");
}

/// The symmetry audit catches a false declaration: in the sloppy quorum the fallback
/// node is no home replica (reads never ask it; it hands its hints off), so declaring it
/// interchangeable with them is reported with the renaming that breaks.
#[test]
fn symmetry_audit_rejects_replicas_that_are_not_interchangeable() {
    use splitbrain::architecture::Buildable;
    use splitbrain::models::leaderless::{build, Mode};
    let arch = splitbrain::models::find("leaderless").unwrap();
    let b = arch.default_bounds();
    let sloppy = build(Mode::SloppyQuorum, &b);
    assert_eq!(sloppy.interchangeable().len(), 3);
    sloppy
        .audit_symmetry(20_000)
        .expect("the home replicas are interchangeable");
    let declared = build(Mode::SloppyQuorum, &b).with_symmetry(vec![0, 1, 2, 3]);
    let err = declared.audit_symmetry(20_000).unwrap_err();
    assert!(err.contains("renaming"), "{err}");
    eprintln!("{err}");
}

/// Runs every model, variant and mutant of the catalog (variants at every proof bound,
/// mutants at the default bounds) unreduced and with `reduce` on one thread and on two,
/// and checks that the reduced searches give the same verdicts and shortest traces
/// (step by step when `same_steps`, but for the paths a reduced search keeps as found,
/// shortest by another path, see `Buildable::keeps_paths`; else of the same length), in no
/// more states, the same on one thread and two; and that `reduce` removed states in at
/// least `min_reduced` configurations (or the test proves nothing).
fn reduced_agrees_with_full(
    reduce: splitbrain::reduction::Reduce,
    same_steps: bool,
    min_reduced: usize,
) {
    use splitbrain::check::CheckOptions;
    use splitbrain::reduction::Reduce;
    let (mut compared, mut reduced) = (0, 0);
    for (arch, v, b) in catalog_configurations() {
        let run = |reduce: Reduce, threads: usize| {
            let opts = CheckOptions {
                reduce,
                threads,
                ..CheckOptions::default()
            };
            arch.check(v, &b, &opts).expect("proof bounds are valid")
        };
        let (full, one, two) = (run(Reduce::None, 1), run(reduce, 1), run(reduce, 2));
        let keeps = arch
            .build(v, &b)
            .expect("proof bounds are valid")
            .keeps_paths();
        assert_eq!(full.results.len(), one.results.len());
        let what = format!(
            "{}/{} [{}] {}",
            arch.name(),
            v.name,
            b.describe(),
            reduce.as_str()
        );
        assert_eq!(full.complete, one.complete, "{what}");
        for ((f, r), r2) in full.results.iter().zip(&one.results).zip(&two.results) {
            let what = format!("{what} {}", f.property);
            let steps = |r: &splitbrain::report::PropertyResult| r.trace.as_ref().map(|t| t.len());
            assert_eq!(f.verdict, r.verdict, "{what}");
            // Paths the reduced search keeps as found are shortest, not always the same.
            let at_rest = f.kind == splitbrain::property::Kind::Eventually;
            let kept = keeps.1 || (at_rest && keeps.0);
            if same_steps && !kept {
                assert_eq!(trace_text(f), trace_text(r), "{what}");
            } else {
                assert_eq!(steps(f), steps(r), "{what}");
            }
            assert_eq!(r.shortest, f.shortest, "{what}");
            assert!(r.unique_states <= f.unique_states, "{what}");
            assert_eq!(r.unique_states, r2.unique_states, "{what}: 1 vs 2 threads");
            assert_eq!(trace_text(r), trace_text(r2), "{what}: 1 vs 2 threads");
            compared += 1;
        }
        reduced += usize::from(one.results[0].unique_states < full.results[0].unique_states);
    }
    eprintln!(
        "{}: {compared} results agree; states removed in {reduced} configurations",
        reduce.as_str()
    );
    assert!(compared >= 150, "only {compared} results compared");
    assert!(
        reduced >= min_reduced,
        "{} removed states in {reduced} configurations only",
        reduce.as_str()
    );
}

/// The partial-order reduction changes no verdict and no trace length: `--reduce por`
/// gives the verdicts and the shortest traces of the unreduced search on the whole
/// catalog (step by step, but for paths shortest as found and so not shortened: states at
/// rest, and every violation where only quiet actors' sets are named, see
/// `splitbrain::reduction`), in no more states, the same on one thread and two.
#[test]
fn partial_order_reduction_agrees_with_the_full_search_on_the_whole_catalog() {
    reduced_agrees_with_full(splitbrain::reduction::Reduce::Por, true, 5);
}

/// The symmetry reduction changes no verdict and no path length: `--reduce symmetry`
/// gives the verdicts of the unreduced search on the whole catalog and traces of the same,
/// shortest, length (a state of the same orbit may be reached by renamed steps), in no
/// more states, the same on one thread and two; fewer states wherever the model declares
/// interchangeable servers (leaderless but the sloppy quorum, stateless).
#[test]
fn symmetry_reduction_agrees_with_the_full_search_on_the_whole_catalog() {
    reduced_agrees_with_full(splitbrain::reduction::Reduce::Symmetry, false, 30);
}

/// Both reductions together (`--reduce all`) agree with the unreduced search the same way.
#[test]
fn both_reductions_agree_with_the_full_search_on_the_whole_catalog() {
    reduced_agrees_with_full(splitbrain::reduction::Reduce::All, false, 35);
}

/// On master-master with three clients and three masters (a benchmark bound), `--reduce
/// por` visits under half of the states, with the same verdicts and shortest traces.
#[test]
fn partial_order_reduction_shrinks_master_master() {
    use splitbrain::check::CheckOptions;
    use splitbrain::reduction::Reduce;
    let arch = splitbrain::models::find("master-master").unwrap();
    let b = splitbrain::bounds::Bounds {
        clients: 3,
        servers: 3,
        ..arch.default_bounds()
    };
    for v in arch.variants() {
        let run = |reduce| {
            let opts = CheckOptions {
                reduce,
                ..CheckOptions::default()
            };
            arch.check(v, &b, &opts).unwrap()
        };
        let (full, por) = (run(Reduce::None), run(Reduce::Por));
        assert!(full.complete && por.complete);
        let states = |r: &splitbrain::report::CheckReport| r.results[0].unique_states;
        assert!(
            states(&por) * 2 < states(&full),
            "{}: {} vs {}",
            v.name,
            states(&por),
            states(&full)
        );
        for (f, r) in full.results.iter().zip(&por.results) {
            assert_eq!(f.verdict, r.verdict, "{} {}", v.name, f.property);
            assert_eq!(trace_text(f), trace_text(r), "{} {}", v.name, f.property);
        }
        eprintln!(
            "{}: {} states, {} with por",
            v.name,
            states(&full),
            states(&por)
        );
    }
}

/// Losses wait for the end of a run under `--reduce por` (see "Losses last" in
/// `splitbrain::reduction`): leaderless `quorum`'s lost write is lost last, on a path as
/// long as the unreduced search's, in fewer states; and a check that reads the losses
/// counted, which would make a loss matter midway, is caught by the audit.
#[test]
fn losses_wait_for_the_end_of_a_run_and_a_check_reading_them_is_caught() {
    use splitbrain::architecture::Buildable;
    use splitbrain::check::CheckOptions;
    use splitbrain::models::leaderless::{build, Mode, Node};
    use splitbrain::property::{ClientSteps, Kind, Property};
    use splitbrain::system::{SysState, System};
    let arch = splitbrain::models::find("leaderless").unwrap();
    let b = arch.default_bounds();
    assert_eq!(b.loss, 1);
    let variant = arch.variant("quorum").unwrap();
    let run = |reduce| {
        let opts = CheckOptions {
            reduce,
            ..CheckOptions::default()
        };
        arch.check(variant, &b, &opts).unwrap()
    };
    let (full, por) = (
        run(splitbrain::reduction::Reduce::None),
        run(splitbrain::reduction::Reduce::Por),
    );
    assert!(
        por.end
            .contains("expanded with their losses left for the end of the run"),
        "{}",
        por.end
    );
    assert!(por.results[0].unique_states < full.results[0].unique_states);
    let converge = |r: &splitbrain::report::CheckReport| {
        let p = r.results.iter().find(|p| p.property == "replicas_converge");
        p.unwrap().trace.clone().unwrap()
    };
    let (a, b2) = (converge(&full), converge(&por));
    assert_eq!(a.len(), b2.len(), "a shortest counterexample either way");
    assert_eq!(
        a.steps[0].action, "lose",
        "the full search loses the write first"
    );
    assert_eq!(b2.steps.last().unwrap().action, "lose", "losses come last");
    assert!(b2.steps[..b2.len() - 1].iter().all(|s| s.action != "lose"));

    let mut sys = build(Mode::Quorum, &b);
    fn nothing_lost(_: &System<Node>, s: &SysState<Node>) -> bool {
        s.lost == 0
    }
    sys.properties.push(Property {
        name: "nothing_lost",
        claim: "no message is lost (reads the loss count)",
        kind: Kind::Always,
        client_steps: ClientSteps::Invisible,
        check: nothing_lost,
        values: |_, _| String::new(),
    });
    let err = sys.audit_reduction(20_000).unwrap_err();
    assert!(
        err.contains("nothing_lost's check changes by 'lost ") && err.contains("losses wait"),
        "{err}"
    );
}

/// The searches that shorten a reduced search's paths leave out what no shortest path to
/// a violation takes (see "Losses last" and "Crashes that only delay" in
/// `splitbrain::reduction`): on central-db `retry` with two clients, a loss and a crash,
/// `--reduce por`'s traces are the unreduced search's, step by step, and the shortening
/// search visits under a fifth of the states the unreduced search has within its depth
/// (225 of 3,952 when written; 982 while it let no loss wait and left no crash out).
#[test]
fn shortening_searches_leave_out_losses_and_crashes_that_only_delay() {
    use splitbrain::check::CheckOptions;
    use splitbrain::reduction::Reduce;
    let arch = splitbrain::models::find("central-db").unwrap();
    let b = splitbrain::bounds::Bounds {
        clients: 2,
        loss: 1,
        crashes: 1,
        ..arch.default_bounds()
    };
    let v = arch.variant("retry").unwrap();
    let run = |reduce, max_depth| {
        let opts = CheckOptions {
            reduce,
            limits: Limits {
                max_depth,
                ..Limits::default()
            },
            ..CheckOptions::default()
        };
        arch.check(v, &b, &opts).unwrap()
    };
    let (full, por) = (run(Reduce::None, None), run(Reduce::Por, None));
    for (f, r) in full.results.iter().zip(&por.results) {
        assert_eq!(f.verdict, r.verdict, "{}", f.property);
        assert_eq!(trace_text(f), trace_text(r), "{}", f.property);
    }
    // "paths shortened by a search without persistent sets to depth D (N states, ...)"
    let (depth, shortening) = {
        let words = por
            .end
            .split("to depth ")
            .nth(1)
            .expect("a shortening search ran");
        let depth: usize = words.split(' ').next().unwrap().parse().unwrap();
        let states = words.split('(').nth(1).unwrap().split(' ').next().unwrap();
        (depth, states.replace(',', "").parse::<usize>().unwrap())
    };
    let within = run(Reduce::None, Some(depth)).results[0].unique_states;
    assert!(
        shortening * 5 < within,
        "the shortening search visited {shortening} states, the unreduced search has {within} within depth {depth}"
    );
}

/// `Narrate::has_step`, which lets a path found on stored states be replayed on full
/// ones, answers yes for every step of a state and no for a step only a successor has
/// (over master-master's whole default state space).
#[test]
fn has_step_knows_a_states_own_steps_from_its_successors() {
    use splitbrain::models::master_master::{build, Mode};
    use splitbrain::trace::Narrate;
    let b = splitbrain::models::find("master-master")
        .unwrap()
        .default_bounds();
    let sys = build(Mode::AsyncOps, &b);
    let (mut own, mut foreign) = (0, 0);
    exhaustive::walk(&sys, 20_000, |state, actions, nexts| {
        for a in actions {
            own += 1;
            if !sys.has_step(state, a) {
                return Err(format!("a step of the state is not one: {a:?}"));
            }
        }
        for next in nexts.iter().flatten() {
            let mut later = Vec::new();
            sys.actions(next, &mut later);
            for a in later.iter().filter(|a| !actions.contains(a)) {
                foreign += 1;
                if sys.has_step(state, a) {
                    return Err(format!("a successor's step taken for the state's: {a:?}"));
                }
            }
        }
        Ok(())
    })
    .unwrap();
    assert!(own > 0 && foreign > 0, "{own} own steps, {foreign} foreign");
}
