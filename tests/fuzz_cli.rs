//! Bad input never panics: proptest throws mutated command lines at the CLI (in process)
//! and every one must end with an exit code of the contract (0, 1, 2 or 3). Runs for a
//! bounded number of cases in CI.

use proptest::prelude::*;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

const WORDS: &[&str] = &[
    "check",
    "list",
    "matrix",
    "bench",
    "explore",
    "report",
    "master-master",
    "read-replica",
    "nope",
    "--variant",
    "async-ops",
    "lww",
    "home-master",
    "async",
    "session-token",
    "mutant-no-balance-check",
    "--property",
    "no_negative_balance",
    "read_your_writes",
    "linearizable",
    "bogus",
    "--engine",
    "bfs",
    "random",
    "--format",
    "json",
    "text",
    "mermaid",
    "markdown",
    "--clients",
    "--ops",
    "--servers",
    "--balance",
    "--loss",
    "--crashes",
    "--network",
    "ordered",
    "unordered",
    "duplicating",
    "--threads",
    "--reduce",
    "por",
    "none",
    "--max-states",
    "--max-depth",
    "--timeout",
    "--max-memory",
    "--cases",
    "--seed",
    "--max-steps",
    "--quiet",
    "--help",
    "--version",
    "--",
    "-",
    "",
];

const VALUES: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "5",
    "8",
    "9",
    "255",
    "256",
    "1000000",
    "-1",
    "-5",
    "1e-12",
    "0.5",
    "abc",
    "NaN",
    "inf",
    "18446744073709551616",
    " 1",
    "1 ",
    "é",
    "💥",
];

fn arg() -> impl Strategy<Value = OsString> {
    prop_oneof![
        4 => proptest::sample::select(WORDS).prop_map(OsString::from),
        3 => proptest::sample::select(VALUES).prop_map(OsString::from),
        1 => "[ -~]{0,12}".prop_map(OsString::from),
        1 => proptest::collection::vec(any::<u8>(), 0..6).prop_map(OsString::from_vec),
    ]
}

const FLAGS: &[&str] = &[
    "--variant",
    "--property",
    "--engine",
    "--format",
    "--clients",
    "--ops",
    "--servers",
    "--balance",
    "--loss",
    "--crashes",
    "--network",
    "--threads",
    "--reduce",
    "--max-depth",
    "--timeout",
    "--max-memory",
    "--seed",
    "--max-steps",
];

/// A command line close to a valid check: a model, then flags with values that are
/// sometimes right and sometimes not, then a little junk.
fn near_valid() -> impl Strategy<Value = Vec<OsString>> {
    let model = proptest::sample::select(&["master-master", "read-replica", "nope", ""][..]);
    let flag = (
        proptest::sample::select(FLAGS),
        prop_oneof![
            3 => proptest::sample::select(VALUES).prop_map(String::from),
            3 => proptest::sample::select(WORDS).prop_map(String::from),
            2 => (0u32..12).prop_map(|n| n.to_string()),
        ],
    );
    (
        model,
        proptest::collection::vec(flag, 0..5),
        proptest::collection::vec(arg(), 0..2),
    )
        .prop_map(|(model, flags, junk)| {
            let mut v: Vec<OsString> = vec!["check".into(), model.into()];
            for (f, val) in flags {
                v.push(f.into());
                v.push(val.into());
            }
            v.extend(junk);
            v
        })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn mutated_command_lines_never_panic(
        args in prop_oneof![proptest::collection::vec(arg(), 0..8), near_valid()]
    ) {
        let mut argv: Vec<OsString> = vec!["splitbrain".into()];
        argv.extend(args.iter().cloned());
        // Keep every search small; a repeated flag is itself bad input (exit 2).
        let is_check = args.iter().any(|a| a == "check");
        if is_check {
            argv.extend(["--max-states", "3000", "--quiet", "--cases", "50"].map(OsString::from));
        }
        let explore = args.iter().any(|a| a == "explore");
        let heavy = args.iter().any(|a| a == "bench" || a == "report" || a == "matrix");
        prop_assume!(!explore && !heavy);
        let code = std::panic::catch_unwind(|| splitbrain::cli::main_with(argv.clone()));
        prop_assert!(code.is_ok(), "panicked on {:?}", argv);
        let code = code.unwrap();
        prop_assert!([0, 1, 2, 3].contains(&code), "exit {} on {:?}", code, argv);
        if std::env::var_os("FUZZ_TRACE").is_some() { eprintln!("exit {code}: {argv:?}"); }
    }
}
