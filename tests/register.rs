//! Session guarantees and `linearizable` on a design of one's own, through the library's
//! register operations (`history::Op`, `history::Reply`): a primary that answers a write
//! before its replica has it, and a client that reads from the replica.

use splitbrain::design::{Client, Design, Harness, Io, Tell};
use splitbrain::history::{Op, Reply};
use splitbrain::report::{CheckReport, Verdict};

const PRIMARY: usize = 0;
const REPLICA: usize = 1;

/// A register's value and version, as a server keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Reg {
    value: u8,
    version: u8,
    waiting: Option<splitbrain::design::Caller>,
}

impl Tell for Reg {
    fn tell(&self) -> String {
        format!("x={} (version {})", self.value, self.version)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Msg {
    Copy(u8, u8),
    Copied(u8),
}

impl Tell for Msg {
    fn tell(&self) -> String {
        match self {
            Msg::Copy(v, n) => format!("copy x={v} (version {n})"),
            Msg::Copied(n) => format!("copied version {n}"),
        }
    }
}

/// `sync`: the primary answers a write once the replica has it.
struct Replicated {
    sync: bool,
}

impl Design for Replicated {
    type Op = Op;
    type Reply = Reply;
    type Msg = Msg;
    type Timer = ();
    type Server = Reg;
    type Disk = ();
    type Record = ();

    fn servers(&self) -> Vec<String> {
        vec!["primary".into(), "replica".into()]
    }
    fn start(&self, _: &mut Io<Self>) -> Reg {
        Reg {
            value: 0,
            version: 0,
            waiting: None,
        }
    }
    fn on_request(&self, io: &mut Io<Self>, reg: &mut Reg, op: &Op) {
        match *op {
            Op::Write { value, .. } => {
                reg.value = value;
                reg.version += 1;
                io.send(REPLICA, Msg::Copy(value, reg.version));
                if self.sync {
                    reg.waiting = Some(io.caller());
                } else {
                    io.reply(Reply::Written {
                        version: reg.version,
                    });
                }
            }
            _ => io.reply(Reply::Value {
                value: reg.value,
                version: reg.version,
            }),
        }
    }
    fn on_message(&self, io: &mut Io<Self>, reg: &mut Reg, from: usize, msg: &Msg) {
        match *msg {
            Msg::Copy(value, version) if version > reg.version => {
                reg.value = value;
                reg.version = version;
                io.send(from, Msg::Copied(version));
            }
            Msg::Copy(..) => {}
            Msg::Copied(version) => {
                if let Some(c) = reg.waiting.take() {
                    io.reply_to(c, Reply::Written { version });
                }
            }
        }
    }
}

fn harness(name: &str, sync: bool) -> Harness<Replicated> {
    let writer = Client::script(
        "ana",
        vec![
            (PRIMARY, Op::Write { key: 0, value: 1 }),
            (REPLICA, Op::Read { key: 0 }),
        ],
    );
    Harness::new(name, Replicated { sync })
        .client(writer)
        .property(splitbrain::register::read_your_writes())
        .property(splitbrain::register::monotonic_reads())
        .linearizable()
}

fn check(name: &str, sync: bool) -> CheckReport {
    splitbrain::check(&harness(name, sync))
        .run()
        .expect("the check runs")
}

fn verdict(r: &CheckReport, name: &str) -> Verdict {
    (r.results.iter())
        .find(|p| p.property == name)
        .map(|p| p.verdict)
        .expect("checked")
}

#[test]
fn an_async_replica_breaks_read_your_writes_and_linearizability() {
    let r = check("register_async", false);
    assert_eq!(
        verdict(&r, "read_your_writes"),
        Verdict::Violated,
        "{}",
        r.to_text()
    );
    assert_eq!(
        verdict(&r, "linearizable"),
        Verdict::Violated,
        "{}",
        r.to_text()
    );
    assert_eq!(
        verdict(&r, "monotonic_reads"),
        Verdict::Holds,
        "{}",
        r.to_text()
    );
    let p = (r.results.iter())
        .find(|p| p.property == "read_your_writes")
        .unwrap();
    let t = p.trace.as_ref().unwrap().to_text();
    assert!(t.contains("ana request 2: read x at version 0"), "{t}");
    let p = (r.results.iter())
        .find(|p| p.property == "linearizable")
        .unwrap();
    assert_eq!(p.trace.as_ref().unwrap().len(), 4, "{}", r.to_text());
}

#[test]
fn a_write_answered_once_replicated_keeps_them() {
    let r = check("register_sync", true);
    assert!(r.complete);
    for p in &r.results {
        assert_eq!(p.verdict, Verdict::Holds, "{}", r.to_text());
    }
}

#[test]
fn the_test_asserts_take_the_builder_options() {
    let h = harness("register_asserts", false);
    let t = splitbrain::check(&h)
        .threads(2)
        .assert_violated_within("linearizable", 4);
    assert!(t.to_text().ends_with("\n"));
    assert!(
        t.to_text().contains("at the end: no order"),
        "{}",
        t.to_text()
    );
    splitbrain::check(&h).assert_holds("monotonic_reads");
    let sync = harness("register_asserts_sync", true);
    splitbrain::check(&sync)
        .max_states(10_000)
        .assert_holds("linearizable");
}
