//! Two-phase commit whose coordinator crashes between deciding and telling.
//!
//! An app asks the coordinator to commit a transaction. The coordinator asks both
//! participants to prepare, collects their votes and decides; then it tells the
//! participants one at a time. A participant left prepared asks the coordinator what was
//! decided; a coordinator that knows nothing of the transaction presumes abort.
//!
//! The broken design keeps the decisions in memory only: the coordinator decides commit,
//! tells the first participant, crashes, restarts knowing nothing, and tells the second
//! participant to abort. The fix writes every decision, a presumed abort too, to disk
//! before telling anyone.
//!
//! `cargo run --example two_phase_commit` prints both stories and exits 0 when the
//! verdicts are the expected ones.

use splitbrain::design::{Client, Design, Harness, Io, Tell, World};
use splitbrain::property::Property;
use splitbrain::report::{CheckReport, Verdict};
use splitbrain::system::{Faults, NetworkKind};

const COORDINATOR: usize = 0;
const PARTICIPANTS: [usize; 2] = [1, 2];

/// The app's only operation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Op {
    Commit,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Reply {
    Committed,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Msg {
    Prepare,
    VoteYes,
    Decision(bool),
    WhatWasDecided,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Timer {
    /// The coordinator tells the next participant its decision.
    TellNext,
    /// A prepared participant asks what was decided.
    AskDecision,
}

/// A participant's part of a transaction (kept on its disk).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Part {
    #[default]
    Working,
    Prepared,
    Committed,
    Aborted,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Server {
    Coordinator {
        votes: u8,
        decision: Option<bool>,
        told: u8,
        caller: Option<splitbrain::design::Caller>,
    },
    Participant(Part),
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Disk {
    decision: Option<bool>,
    part: Part,
}

impl Tell for Op {
    fn tell(&self) -> String {
        "commit tx1".into()
    }
}
impl Tell for Reply {
    fn tell(&self) -> String {
        format!("{self:?}").to_lowercase()
    }
}
impl Tell for Msg {
    fn tell(&self) -> String {
        match self {
            Msg::Prepare => "prepare tx1".into(),
            Msg::VoteYes => "vote yes".into(),
            Msg::Decision(true) => "decision: commit".into(),
            Msg::Decision(false) => "decision: abort".into(),
            Msg::WhatWasDecided => "what was decided for tx1?".into(),
        }
    }
}
impl Tell for Timer {
    fn tell(&self) -> String {
        match self {
            Timer::TellNext => "tell the next participant".into(),
            Timer::AskDecision => "still prepared: ask the coordinator".into(),
        }
    }
}
impl Tell for Server {
    fn tell(&self) -> String {
        match self {
            Server::Coordinator {
                decision: None,
                votes,
                ..
            } => format!("collecting votes ({votes}/2)"),
            Server::Coordinator {
                decision: Some(d),
                told,
                ..
            } => {
                format!(
                    "decided {} (told {told}/2)",
                    if *d { "commit" } else { "abort" }
                )
            }
            Server::Participant(p) => format!("{p:?}").to_lowercase(),
        }
    }
}
impl Tell for Disk {
    fn tell(&self) -> String {
        match (self.decision, &self.part) {
            (Some(d), _) => format!("logged {}", if d { "commit" } else { "abort" }),
            (None, p) => format!("{p:?}").to_lowercase(),
        }
    }
}

/// Two-phase commit; `log_decision` is the fix.
struct TwoPhaseCommit {
    log_decision: bool,
}

impl Design for TwoPhaseCommit {
    type Op = Op;
    type Reply = Reply;
    type Msg = Msg;
    type Timer = Timer;
    type Server = Server;
    type Disk = Disk;
    type Record = ();

    fn servers(&self) -> Vec<String> {
        ["coordinator", "alice-db", "bob-db"]
            .map(String::from)
            .to_vec()
    }

    fn start(&self, io: &mut Io<Self>) -> Server {
        let disk = io.disk();
        match io.me() {
            COORDINATOR => Server::Coordinator {
                votes: 0,
                decision: disk.decision,
                told: 0,
                caller: None,
            },
            _ => Server::Participant(disk.part.clone()),
        }
    }

    fn on_request(&self, io: &mut Io<Self>, state: &mut Server, _op: &Op) {
        if let Server::Coordinator { caller, .. } = state {
            *caller = Some(io.caller());
            for p in PARTICIPANTS {
                io.send(p, Msg::Prepare);
            }
        }
    }

    fn on_message(&self, io: &mut Io<Self>, state: &mut Server, from: usize, msg: &Msg) {
        match (state, msg) {
            (
                Server::Coordinator {
                    votes,
                    decision: d @ None,
                    caller,
                    ..
                },
                Msg::VoteYes,
            ) => {
                *votes += 1;
                if *votes == 2 {
                    *d = Some(true);
                    if self.log_decision {
                        io.save(Disk {
                            decision: Some(true),
                            part: Part::Working,
                        });
                    }
                    io.set_timer(Timer::TellNext);
                    if let Some(c) = caller.take() {
                        io.reply_to(c, Reply::Committed);
                    }
                }
            }
            (Server::Coordinator { decision, .. }, Msg::WhatWasDecided) => {
                // Nothing known of the transaction: presume it aborted. That is a decision
                // too: the fix logs it before telling anyone, or a restart could forget it
                // and commit on late votes (the checker found this when only commits were
                // logged).
                let d = *decision.get_or_insert(false);
                if self.log_decision {
                    io.save(Disk {
                        decision: Some(d),
                        part: Part::Working,
                    });
                }
                io.send(from, Msg::Decision(d));
            }
            (Server::Participant(p @ Part::Working), Msg::Prepare) => {
                *p = Part::Prepared;
                io.save(Disk {
                    decision: None,
                    part: Part::Prepared,
                });
                io.send(COORDINATOR, Msg::VoteYes);
                io.set_timer(Timer::AskDecision);
            }
            (Server::Participant(p @ Part::Prepared), Msg::Decision(d)) => {
                *p = if *d { Part::Committed } else { Part::Aborted };
                io.save(Disk {
                    decision: None,
                    part: p.clone(),
                });
                io.cancel_timer(Timer::AskDecision);
            }
            _ => {}
        }
    }

    fn on_timer(&self, io: &mut Io<Self>, state: &mut Server, timer: &Timer) {
        match (state, timer) {
            (
                Server::Coordinator {
                    decision: Some(d),
                    told,
                    ..
                },
                Timer::TellNext,
            ) => {
                io.send(PARTICIPANTS[*told as usize], Msg::Decision(*d));
                *told += 1;
                if (*told as usize) < PARTICIPANTS.len() {
                    io.set_timer(Timer::TellNext);
                }
            }
            (Server::Participant(Part::Prepared), Timer::AskDecision) => {
                io.send(COORDINATOR, Msg::WhatWasDecided);
            }
            _ => {}
        }
    }
}

fn participants_agree() -> Property<Harness<TwoPhaseCommit>> {
    Property::always(
        "participants_agree",
        "no participant commits a transaction another one aborts",
        |_, w: &World<TwoPhaseCommit>| {
            let parts: Vec<_> = (w.servers.iter().flatten())
                .filter_map(|s| match s {
                    Server::Participant(p) => Some(p.clone()),
                    _ => None,
                })
                .collect();
            !(parts.contains(&Part::Committed) && parts.contains(&Part::Aborted))
        },
    )
    .with_values(|_, w: &World<TwoPhaseCommit>| {
        (w.disks.iter().skip(1))
            .zip(["alice-db", "bob-db"])
            .map(|(d, n)| format!("{n} {}", format!("{:?}", d.part).to_lowercase()))
            .collect::<Vec<_>>()
            .join(", ")
    })
}

fn harness(name: &str, log_decision: bool) -> Harness<TwoPhaseCommit> {
    Harness::new(name, TwoPhaseCommit { log_decision })
        .client(Client::script("app", vec![(COORDINATOR, Op::Commit)]))
        .faults(Faults {
            network: NetworkKind::Unordered,
            loss: 0,
            crashes: 1,
        })
        .property(participants_agree())
}

fn check(name: &str, log_decision: bool, expect: Verdict) -> CheckReport {
    splitbrain::check(&harness(name, log_decision))
        .expect("participants_agree", expect)
        .run()
        .expect("the check runs")
}

fn main() {
    let broken = check("two_phase_commit_in_memory", false, Verdict::Violated);
    let fixed = check("two_phase_commit_logged", true, Verdict::Holds);
    print!("{}\n{}", broken.to_text(), fixed.to_text());
    std::process::exit(splitbrain::report::exit_code(&[broken, fixed]));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_phase_commit_in_memory() {
        let r = check("two_phase_commit_in_memory", false, Verdict::Violated);
        let p = &r.results[0];
        assert_eq!(p.verdict, Verdict::Violated);
        let t = p.trace.as_ref().unwrap();
        assert_eq!(t.len(), 12, "{}", r.to_text());
        assert!(t.steps.iter().any(|s| s.action == "crash"));
        assert!(t.to_text().contains("decision: commit"));
    }

    #[test]
    fn two_phase_commit_logged() {
        let r = check("two_phase_commit_logged", true, Verdict::Holds);
        assert!(r.complete);
        assert_eq!(r.results[0].verdict, Verdict::Holds, "{}", r.to_text());
    }
}
