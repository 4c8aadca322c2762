//! Master-master replication, the burrito and the taco, on the design API.
//!
//! The catalog's `master-master` model written the way a user writes a design: Jose has
//! $10 and buys a $10 burrito through master1, then a $5 taco through master2, which has
//! not heard of the burrito yet. Three ways to keep the masters up to date:
//! - `async-ops`: each master checks its own balance, applies, answers, then replicates
//!   the operation; the balance goes to -$5;
//! - `lww`: each master replicates its new balance with a timestamp, the highest winning;
//!   no balance goes negative, but $15 of food leaves $5;
//! - `home-master` (the fix): every withdrawal goes to master1, which replicates what it
//!   approved.
//!
//! Its test checks that this design and the catalog model agree: the same verdict for
//! every property, and shortest counterexamples of the same length.
//!
//! `cargo run --example master_master` prints the three variants' stories and exits 0
//! when the verdicts are the article's.

use splitbrain::design::{Caller, Client, Design, Harness, Io, Outcome, PropertyOf, Tell, World};
use splitbrain::report::{CheckReport, Verdict};
use splitbrain::system::{Faults, NetworkKind};

/// How the masters keep each other up to date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    AsyncOps,
    Lww,
    HomeMaster,
}

const HOME: usize = 0;

/// A withdrawal: dollars, and what they buy.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Withdraw {
    amount: i16,
    label: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Reply {
    Approved { balance: i16 },
    Declined { balance: i16 },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Msg {
    /// Apply a withdrawal another master approved.
    ApplyOp(i16),
    /// Take this balance if its timestamp (Lamport clock, writer) is newer.
    SetBalance { balance: i16, stamp: (u8, u8) },
    /// A withdrawal forwarded to the home master.
    Forward { caller: Caller, op: Withdraw },
}

/// What a master keeps, in memory and on disk alike (every change is saved; the disk is
/// `None` before the first start).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Account {
    balance: i16,
    stamp: (u8, u8),
    approved: i16,
}

impl Tell for Withdraw {
    fn tell(&self) -> String {
        format!("withdraw ${} ({})", self.amount, self.label)
    }
}
impl Tell for Reply {
    fn tell(&self) -> String {
        match self {
            Reply::Approved { balance } => format!("approved (balance ${balance})"),
            Reply::Declined { balance } => format!("declined (balance ${balance})"),
        }
    }
}
impl Tell for Msg {
    fn tell(&self) -> String {
        match self {
            Msg::ApplyOp(amount) => format!("replicate withdraw ${amount}"),
            Msg::SetBalance { balance, stamp } => format!(
                "replicate balance ${balance} (timestamp {}.{})",
                stamp.0,
                stamp.1 + 1
            ),
            Msg::Forward { op, .. } => format!("forward {} to the home master", op.tell()),
        }
    }
}
impl Tell for Account {
    fn tell(&self) -> String {
        format!("balance {}", self.balance)
    }
}

/// `masters` masters holding `balance` dollars, kept up to date by `mode`.
struct MasterMaster {
    mode: Mode,
    masters: usize,
    balance: i16,
}

impl MasterMaster {
    /// Approves or declines a withdrawal, then replicates what changed.
    fn decide(&self, io: &mut Io<Self>, acct: &mut Account, caller: Caller, op: &Withdraw) {
        if acct.balance < op.amount {
            let balance = acct.balance;
            return io.reply_to(caller, Reply::Declined { balance });
        }
        acct.balance -= op.amount;
        acct.approved += op.amount;
        let balance = acct.balance;
        io.reply_to(caller, Reply::Approved { balance });
        if self.mode == Mode::Lww {
            acct.stamp = (acct.stamp.0 + 1, io.me() as u8);
        }
        let me = io.me();
        for peer in (0..self.masters).filter(|&p| p != me) {
            io.send(peer, self.replication(acct, op.amount));
        }
        io.save(Some(acct.clone()));
    }

    fn replication(&self, acct: &Account, amount: i16) -> Msg {
        match self.mode {
            Mode::Lww => Msg::SetBalance {
                balance: acct.balance,
                stamp: acct.stamp,
            },
            _ => Msg::ApplyOp(amount),
        }
    }
}

impl Design for MasterMaster {
    type Op = Withdraw;
    type Reply = Reply;
    type Msg = Msg;
    type Timer = ();
    type Server = Account;
    type Disk = Option<Account>;
    type Record = ();

    fn servers(&self) -> Vec<String> {
        (1..=self.masters).map(|i| format!("master{i}")).collect()
    }

    fn start(&self, io: &mut Io<Self>) -> Account {
        let saved = io.disk().clone().unwrap_or(Account {
            balance: self.balance,
            ..Account::default()
        });
        io.save(Some(saved.clone()));
        saved
    }

    fn on_request(&self, io: &mut Io<Self>, acct: &mut Account, op: &Withdraw) {
        if self.mode == Mode::HomeMaster && io.me() != HOME {
            let caller = io.caller();
            let op = op.clone();
            return io.send(HOME, Msg::Forward { caller, op });
        }
        self.decide(io, acct, io.caller(), op);
    }

    fn on_message(&self, io: &mut Io<Self>, acct: &mut Account, _: usize, msg: &Msg) {
        match msg {
            Msg::Forward { caller, op } => self.decide(io, acct, *caller, op),
            Msg::ApplyOp(amount) => {
                acct.balance = acct.balance.saturating_sub(*amount);
                io.save(Some(acct.clone()));
            }
            Msg::SetBalance { balance, stamp } if *stamp > acct.stamp => {
                acct.balance = *balance;
                acct.stamp = *stamp;
                io.save(Some(acct.clone()));
            }
            Msg::SetBalance { .. } => {}
        }
    }
}

type Mm = MasterMaster;

/// The masters' accounts, as saved (every change is).
fn accounts(w: &World<Mm>) -> impl Iterator<Item = &Account> {
    w.disks.iter().flatten()
}

fn balances(w: &World<Mm>) -> String {
    let held = accounts(w).enumerate();
    let held = held.map(|(i, d)| format!("master{} holds {}", i + 1, d.balance));
    held.collect::<Vec<_>>().join(", ")
}

/// Whether a replication message is on its way that its master will still apply.
fn replication_in_flight(w: &World<Mm>) -> bool {
    w.network.iter().any(|p| match (&p.body, p.dst) {
        (splitbrain::design::Body::Msg(Msg::ApplyOp(_)), _) => true,
        (
            splitbrain::design::Body::Msg(Msg::SetBalance { stamp, .. }),
            splitbrain::design::Node::Server(s),
        ) => w.disks[s].as_ref().is_some_and(|d| *stamp > d.stamp),
        _ => false,
    })
}

fn approved_by_clients(w: &World<Mm>) -> i16 {
    let done = w.clients.iter().flat_map(|c| &c.done);
    let approved = done.filter(|d| matches!(d.outcome, Outcome::Replied(Reply::Approved { .. })));
    approved.map(|d| d.op.amount).sum()
}

fn properties() -> Vec<PropertyOf<Mm>> {
    vec![
        PropertyOf::<Mm>::always(
            "no_negative_balance",
            "no account balance is ever below zero",
            |_, w| accounts(w).all(|d| d.balance >= 0),
        )
        .with_values(|_, w| balances(w)),
        PropertyOf::<Mm>::always(
            "money_conserved",
            "once replication settles, every master holds the starting balance minus the approved withdrawals",
            |h, w| {
                let approved: i16 = accounts(w).map(|d| d.approved).sum();
                let left = h.design.balance - approved;
                replication_in_flight(w) || accounts(w).all(|d| d.balance == left)
            },
        )
        .with_values(|_, w| balances(w)),
        PropertyOf::<Mm>::eventually(
            "replicas_converge",
            "when nothing is left to deliver, every master holds the same balance",
            |_, w| accounts(w).all(|d| Some(d.balance) == accounts(w).next().map(|f| f.balance)),
        )
        .with_values(|_, w| balances(w)),
        PropertyOf::<Mm>::always(
            "approvals_within_funds",
            "the withdrawals clients saw approved never add up to more than the starting balance",
            |h, w| approved_by_clients(w) <= h.design.balance,
        )
        .with_values(|h, w| {
            format!(
                "clients were approved ${} against a starting balance of ${}",
                approved_by_clients(w),
                h.design.balance
            )
        }),
    ]
}

const CLIENT_NAMES: [&str; 4] = ["jose", "maria", "ana", "luis"];

/// The catalog's workload: client `c`'s `k`th withdrawal is a burrito ($10) or a taco
/// ($5), alternating, sent to master `(c + k) % masters`.
fn harness(mode: Mode, clients: usize, ops: usize, masters: usize, faults: Faults) -> Harness<Mm> {
    let design = MasterMaster {
        mode,
        masters,
        balance: 10,
    };
    let mut h = Harness::new("master_master", design).faults(faults);
    for (c, name) in CLIENT_NAMES.iter().enumerate().take(clients) {
        let ops = (0..ops).map(|k| {
            let (amount, label) = if (c + k) % 2 == 0 {
                (10, "burrito")
            } else {
                (5, "taco")
            };
            ((c + k) % masters, Withdraw { amount, label })
        });
        h = h.client(Client::script(name, ops.collect()));
    }
    for p in properties() {
        h = h.property(p);
    }
    h
}

const UNORDERED: Faults = Faults {
    network: NetworkKind::Unordered,
    loss: 0,
    crashes: 0,
};

fn check(mode: Mode) -> CheckReport {
    let expect = match mode {
        Mode::AsyncOps => [
            Verdict::Violated,
            Verdict::Holds,
            Verdict::Holds,
            Verdict::Violated,
        ],
        Mode::Lww => [
            Verdict::Holds,
            Verdict::Violated,
            Verdict::Holds,
            Verdict::Violated,
        ],
        Mode::HomeMaster => [Verdict::Holds; 4],
    };
    let h = harness(mode, 1, 2, 2, UNORDERED);
    let names = [
        "no_negative_balance",
        "money_conserved",
        "replicas_converge",
        "approvals_within_funds",
    ];
    let mut c = splitbrain::check(&h);
    for (name, v) in names.into_iter().zip(expect) {
        c = c.expect(name, v);
    }
    c.run().expect("the check runs")
}

fn main() {
    let reports = [Mode::AsyncOps, Mode::Lww, Mode::HomeMaster].map(check);
    for r in &reports {
        println!("{}", r.to_text());
    }
    std::process::exit(splitbrain::report::exit_code(&reports));
}

#[cfg(test)]
mod tests {
    use super::*;
    use splitbrain::bounds::Bounds;
    use splitbrain::check::CheckOptions;

    /// Verdicts and shortest trace lengths, by property.
    fn outcomes(r: &CheckReport) -> Vec<(String, &'static str, Option<usize>)> {
        let mut out: Vec<_> = (r.results.iter())
            .map(|p| {
                (
                    p.property.to_string(),
                    p.verdict.as_str(),
                    p.trace.as_ref().map(|t| t.len()),
                )
            })
            .collect();
        out.sort();
        out
    }

    /// The design and the catalog model agree at the default bounds and at two clients
    /// and three masters with a crash, on every variant.
    #[test]
    fn master_master_agrees_with_the_catalog() {
        let mm = splitbrain::models::find("master-master").expect("in the catalog");
        let faults = |crashes| Faults {
            network: NetworkKind::Unordered,
            loss: 0,
            crashes,
        };
        for (clients, ops, masters, crashes) in [(1, 2, 2, 0), (2, 2, 3, 1), (1, 3, 2, 1)] {
            for (mode, variant) in [
                (Mode::AsyncOps, "async-ops"),
                (Mode::Lww, "lww"),
                (Mode::HomeMaster, "home-master"),
            ] {
                let bounds = Bounds {
                    clients,
                    ops,
                    servers: masters,
                    crashes,
                    ..mm.default_bounds()
                };
                let v = mm.variant(variant).unwrap();
                let catalog = mm.check(v, &bounds, &CheckOptions::default()).unwrap();
                let h = harness(
                    mode,
                    clients.into(),
                    ops.into(),
                    masters.into(),
                    faults(crashes),
                );
                let design = splitbrain::check(&h).run().unwrap();
                assert!(catalog.complete && design.complete);
                assert_eq!(
                    outcomes(&catalog),
                    outcomes(&design),
                    "{variant} at {bounds:?}:\n{}\n{}",
                    catalog.to_text(),
                    design.to_text()
                );
            }
        }
    }

    #[test]
    fn master_master_async_ops() {
        let r = check(Mode::AsyncOps);
        let p = &r.results[0];
        assert_eq!(
            p.trace.as_ref().map(|t| t.len()),
            Some(4),
            "{}",
            r.to_text()
        );
        assert!(r.to_text().contains("master2 holds -5"), "{}", r.to_text());
    }
}
