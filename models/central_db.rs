//! The stateful system: app servers in front of one central database. Jose pays Carlos.
//!
//! Clients send money transfers to an app server, which sends them on to the database
//! (db) and relays the db's answer back. The db holds every balance and applies a
//! transfer atomically: it takes the money from the payer and gives it to the payee, or
//! declines when the payer's balance is too low. Jose (and each further client) starts
//! with `--balance` dollars, Carlos with $0; every transfer pays Carlos $10.
//!
//! The article's story: the db saves Jose's transfer, but the answer is slow, Jose's
//! client times out and shows an error; Jose tries again, the db saves it again, and
//! Jose has paid Carlos twice. Clients time out at any moment a request is outstanding
//! ("network slow"); `--loss` loses requests, replies and app <-> db messages ("network
//! down"). The db keeps its data on disk: a crash (`--crashes`) loses nothing but time;
//! app servers hold nothing.
//!
//! The db also keeps, as a ghost for the checker, the list of transfers it applied
//! (client, position in the workload): `exactly_once_transfer` compares it with what the
//! clients saw ([`crate::session::exactly_once`]).

use crate::architecture::{Architecture, Buildable, Variant};
use crate::bounds::Bounds;
use crate::client::{Client, ClientState, Request, RetryPolicy};
use crate::error::Error;
use crate::history::{Event, Op, Outcome, Reply, ReqId};
use crate::property::{ClientSteps, Kind, Property};
use crate::report::Verdict;
use crate::session;
use crate::system::{Msg, NetworkKind, Node as NodeTrait, SysState, System, Timer};
use stateright::actor::{Actor, Id, Out};
use std::borrow::Cow;

/// Every transfer pays Carlos this many dollars.
pub const AMOUNT: i16 = 10;

/// Account 0 is Carlos's (the payee); client `c` pays from account `c + 1`.
const ACCOUNT_NAMES: [&str; 4] = ["carlos", "jose", "maria", "ana"];
/// The db's trace facts, one per account (static strings, same order as the accounts).
const BALANCE_FACTS: [&str; 4] = [
    "balance carlos",
    "balance jose",
    "balance maria",
    "balance ana",
];
/// The clients' names: the payers.
const CLIENT_NAMES: [&str; 3] = ["jose", "maria", "ana"];
/// What each client's transfers are called in the story, in workload order.
const LABELS: [&str; 3] = ["pay carlos", "pay carlos again", "pay carlos a third time"];

/// The name of account `a`.
pub fn account_name(a: u8) -> &'static str {
    ACCOUNT_NAMES.get(a as usize).copied().unwrap_or("?")
}

/// How retries and the db handle a slow answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// The client retries once after a timeout; the db applies every request it gets.
    Retry,
    /// The client retries once; the db remembers each request id (client, position in
    /// the workload) and answers a repeat with the original outcome.
    IdempotencyKey,
    /// The client gives up after a timeout; the db applies every request it gets.
    NoRetry,
}

/// Messages between app servers and the db.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Peer {
    /// app -> db: save this transfer.
    Save {
        /// The client's request id (the idempotency key is its client and seq).
        id: ReqId,
        /// The transfer.
        op: Op,
        /// The client to answer (through the app server).
        client: Id,
    },
    /// db -> app: the outcome of a transfer.
    Saved {
        /// The client's request id.
        id: ReqId,
        /// The client to relay it to.
        client: Id,
        /// Approved or declined, with the payer's balance.
        reply: Reply,
        /// True when the db answered a repeat with the outcome it had recorded.
        replayed: bool,
    },
}

/// An app server: relays transfers to the db and the db's answers to the clients.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct App {
    /// The database.
    pub db: Id,
    /// A seeded bug, in mutants only.
    pub bug: Option<Bug>,
}

/// A seeded bug (a mutant of the `idempotency-key` fix), for proving the properties catch it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bug {
    /// The db's idempotency key includes the attempt number, so a retry looks new.
    KeyIncludesAttempt,
    /// The db debits the payer but never credits the payee.
    DebitOnly,
    /// The db credits the payee twice.
    CreditTwice,
    /// The db debits the payer twice.
    DoubleDebit,
    /// The app server tells the client "approved" before the db has saved anything.
    ReplyBeforeSave,
}

/// The database.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Db {
    /// Whether repeats are recognised by their request id.
    pub mode: Mode,
    /// A seeded bug, in mutants only.
    pub bug: Option<Bug>,
    /// Starting balance of every account.
    pub start: Vec<i16>,
}

/// The db's state, all of it on disk (saved after every change).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DbState {
    /// Balance of every account.
    pub balances: Vec<i16>,
    /// Ghost: every transfer applied, as (client, seq), once per application.
    pub applied: Vec<(u8, u8)>,
    /// Idempotency keys seen and the outcome given (IdempotencyKey mode).
    pub outcomes: Vec<((u8, u8), Reply)>,
}

/// The actors of this model.
#[derive(Clone, Debug)]
pub enum Node {
    /// An app server.
    App(App),
    /// The database.
    Db(Db),
    /// A client paying Carlos.
    Client(Client),
}

/// Actor states.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NodeState {
    /// An app server keeps nothing.
    App,
    /// The db's.
    Db(DbState),
    /// A client's.
    Client(ClientState),
}

impl Db {
    fn on_save(&self, st: &mut DbState, src: Id, id: ReqId, op: Op, client: Id, o: &mut Out<Node>) {
        let key = if self.bug == Some(Bug::KeyIncludesAttempt) {
            (id.client, id.seq * 16 + id.attempt)
        } else {
            (id.client, id.seq)
        };
        if self.mode == Mode::IdempotencyKey {
            if let Some(&(_, reply)) = st.outcomes.iter().find(|(k, _)| *k == key) {
                o.send(
                    src,
                    Msg::Peer(Peer::Saved {
                        id,
                        client,
                        reply,
                        replayed: true,
                    }),
                );
                return;
            }
        }
        let reply = match op {
            Op::Transfer { from, to, amount } => {
                let (f, t) = (from as usize, to as usize);
                if f >= st.balances.len() || t >= st.balances.len() {
                    Reply::Error
                } else if st.balances[f] < amount {
                    Reply::Declined {
                        balance: st.balances[f],
                    }
                } else {
                    st.balances[f] -= amount;
                    match self.bug {
                        Some(Bug::DebitOnly) => {}
                        Some(Bug::CreditTwice) => st.balances[t] += 2 * amount,
                        Some(Bug::DoubleDebit) => {
                            st.balances[f] -= amount;
                            st.balances[t] += amount;
                        }
                        _ => st.balances[t] += amount,
                    }
                    st.applied.push((id.client, id.seq));
                    Reply::Approved {
                        balance: st.balances[f],
                    }
                }
            }
            _ => Reply::Error,
        };
        if self.mode == Mode::IdempotencyKey {
            st.outcomes.push((key, reply));
        }
        o.save(st.clone());
        o.send(
            src,
            Msg::Peer(Peer::Saved {
                id,
                client,
                reply,
                replayed: false,
            }),
        );
    }
}

impl Actor for Node {
    type Msg = Msg<Peer>;
    type Timer = Timer;
    type State = NodeState;
    type Storage = DbState;
    type Random = ();

    fn on_start(&self, _id: Id, storage: &Option<Self::Storage>, o: &mut Out<Self>) -> NodeState {
        match self {
            Node::App(_) => NodeState::App,
            Node::Db(db) => NodeState::Db(match storage {
                Some(saved) => saved.clone(),
                None => DbState {
                    balances: db.start.clone(),
                    applied: Vec::new(),
                    outcomes: Vec::new(),
                },
            }),
            Node::Client(c) => NodeState::Client(c.start(o)),
        }
    }

    fn on_msg(
        &self,
        _id: Id,
        state: &mut Cow<NodeState>,
        src: Id,
        msg: Msg<Peer>,
        o: &mut Out<Self>,
    ) {
        match (self, &**state) {
            (Node::App(app), NodeState::App) => match msg {
                Msg::Request { id, op, .. } => {
                    if app.bug == Some(Bug::ReplyBeforeSave) {
                        o.send(
                            src,
                            Msg::Reply {
                                id,
                                reply: Reply::Approved { balance: 0 },
                            },
                        );
                    }
                    o.send(
                        app.db,
                        Msg::Peer(Peer::Save {
                            id,
                            op,
                            client: src,
                        }),
                    );
                }
                Msg::Peer(Peer::Saved {
                    id, client, reply, ..
                }) => o.send(client, Msg::Reply { id, reply }),
                _ => {}
            },
            (Node::Db(db), NodeState::Db(st)) => {
                if let Msg::Peer(Peer::Save { id, op, client }) = msg {
                    let mut next = st.clone();
                    db.on_save(&mut next, src, id, op, client, o);
                    if next != *st {
                        *state.to_mut() = NodeState::Db(next);
                    }
                }
            }
            (Node::Client(c), NodeState::Client(st)) => {
                if let Some(cs) = c.receive(st, msg, o) {
                    *state.to_mut() = NodeState::Client(cs);
                }
            }
            _ => {}
        }
    }

    fn on_timeout(&self, _id: Id, state: &mut Cow<NodeState>, _t: &Timer, o: &mut Out<Self>) {
        if let (Node::Client(c), NodeState::Client(st)) = (self, &**state) {
            if let Some(cs) = c.time_out(st, o) {
                *state.to_mut() = NodeState::Client(cs);
            }
        }
    }
}

impl NodeTrait for Node {
    type Peer = Peer;

    // Servers answer each attempt once, except the mutant app server that answers
    // before the db saved (and again when it has).
    fn replies_once(&self) -> bool {
        !matches!(self, Node::App(app) if app.bug == Some(Bug::ReplyBeforeSave))
    }

    fn as_client(&self) -> Option<&Client> {
        match self {
            Node::Client(c) => Some(c),
            Node::App(_) | Node::Db(_) => None,
        }
    }

    fn client_state(state: &NodeState) -> Option<&ClientState> {
        match state {
            NodeState::Client(c) => Some(c),
            NodeState::App | NodeState::Db(_) => None,
        }
    }

    fn client_state_mut(state: &mut NodeState) -> Option<&mut ClientState> {
        match state {
            NodeState::Client(c) => Some(c),
            NodeState::App | NodeState::Db(_) => None,
        }
    }

    fn history_unread() -> bool {
        true
    }

    fn facts(&self, state: &NodeState) -> Vec<(&'static str, String)> {
        match (self, state) {
            (Node::Client(c), NodeState::Client(s)) => c.facts(s),
            (Node::App(_), NodeState::App) => vec![("", "passes transfers to the db".into())],
            (Node::Db(db), NodeState::Db(s)) => {
                // Payers first, then Carlos: "db balance jose: 100 -> 90; db balance carlos: 0 -> 10".
                let mut facts: Vec<(&'static str, String)> = (1..s.balances.len())
                    .chain([0])
                    .map(|a| (BALANCE_FACTS[a], s.balances[a].to_string()))
                    .collect();
                if db.mode == Mode::IdempotencyKey {
                    let keys: Vec<String> = s
                        .outcomes
                        .iter()
                        .map(|((c, q), _)| format!("{}-{}", account_name(c + 1), q + 1))
                        .collect();
                    facts.push((
                        "request ids",
                        if keys.is_empty() {
                            "none".to_string()
                        } else {
                            keys.join(", ")
                        },
                    ));
                }
                facts
            }
            _ => Vec::new(),
        }
    }

    fn describe_peer(msg: &Peer) -> String {
        match msg {
            Peer::Save { id, op, .. } => {
                let what = match op {
                    Op::Transfer { from, to, amount } => format!(
                        "transfer ${amount} from {} to {}",
                        account_name(*from),
                        account_name(*to)
                    ),
                    other => other.to_string(),
                };
                let key = format!(
                    " (request id {}-{}",
                    account_name(id.client + 1),
                    id.seq + 1
                );
                let retry = if id.attempt > 0 {
                    format!(", retry {})", id.attempt)
                } else {
                    ")".to_string()
                };
                format!("{what}{key}{retry}")
            }
            Peer::Saved {
                reply, replayed, ..
            } => match (reply, replayed) {
                (_, true) => format!("already saved: {reply}"),
                (Reply::Approved { .. }, false) => format!("saved: {reply}"),
                (_, false) => format!("not saved: {reply}"),
            },
        }
    }

    fn crashable(&self) -> bool {
        !matches!(self, Node::Client(_))
    }
}

/// The model type: app servers, the db and clients.
pub type CentralDbSystem = System<Node>;

fn db_state<'a>(sys: &'a CentralDbSystem, s: &'a SysState<Node>) -> Option<&'a DbState> {
    sys.nodes(s).find_map(|(_, _, st)| match st {
        NodeState::Db(d) => Some(d),
        _ => None,
    })
}

fn start_total(sys: &CentralDbSystem) -> i16 {
    sys.actors
        .actors
        .iter()
        .find_map(|a| match a {
            Node::Db(db) => Some(db.start.iter().sum()),
            _ => None,
        })
        .unwrap_or(0)
}

fn balances_text(d: &DbState) -> String {
    (1..d.balances.len())
        .chain([0])
        .map(|a| format!("{} ${}", account_name(a as u8), d.balances[a]))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The story's name of a logical request: "jose's pay carlos".
fn request_name(c: u8, seq: u8) -> String {
    format!(
        "{}'s '{}'",
        CLIENT_NAMES.get(c as usize).copied().unwrap_or("?"),
        LABELS.get(seq as usize).copied().unwrap_or("transfer")
    )
}

/// Transfers whose client's last word is a failure (timeout, error or declined) although
/// the db applied them: the client gave up on, or was told off about, a transfer that
/// happened.
pub fn ambiguous_failures(h: &[Event], applied: &[(u8, u8)]) -> Vec<(u8, u8, Outcome)> {
    let mut out = Vec::new();
    for (i, e) in h.iter().enumerate() {
        let key = (e.id.client, e.id.seq);
        let last = !h[i + 1..]
            .iter()
            .any(|later: &Event| (later.id.client, later.id.seq) == key);
        let failed = matches!(
            e.outcome,
            Outcome::TimedOut | Outcome::Replied(Reply::Error | Reply::Declined { .. })
        );
        if last && failed && applied.contains(&key) {
            out.push((key.0, key.1, e.outcome));
        }
    }
    out
}

fn exactly_once_text(sys: &CentralDbSystem, s: &SysState<Node>) -> String {
    let Some(d) = db_state(sys, s) else {
        return "no db".to_string();
    };
    let h = sys.history(s);
    match session::exactly_once(&h, &d.applied) {
        Ok(()) => format!(
            "every transfer took effect at most once; {}",
            balances_text(d)
        ),
        Err(_) => {
            // Say it with the story's names; the library's wording is the fallback.
            let twice = d
                .applied
                .iter()
                .find(|k| d.applied.iter().filter(|x| x == k).count() > 1);
            match twice {
                Some(&(c, q)) => format!(
                    "{} took effect {} times: {}",
                    request_name(c, q),
                    d.applied.iter().filter(|&&x| x == (c, q)).count(),
                    balances_text(d)
                ),
                None => format!(
                    "{}; {}",
                    session::exactly_once(&h, &d.applied).unwrap_err(),
                    balances_text(d)
                ),
            }
        }
    }
}

/// The properties of the central-db model, each declared once.
pub fn properties() -> Vec<Property<CentralDbSystem>> {
    vec![
        Property {
            name: "exactly_once_transfer",
            claim: "every transfer takes effect at most once, and exactly once if its client was told it succeeded",
            kind: Kind::Always,
            client_steps: ClientSteps::Visible,
            check: |sys, s| {
                db_state(sys, s)
                    .is_some_and(|d| session::exactly_once(sys.events(s), &d.applied).is_ok())
            },
            values: exactly_once_text,
        },
        Property {
            name: "no_negative_balance",
            claim: "no account balance is ever below zero",
            kind: Kind::Always,
            client_steps: ClientSteps::Invisible,
            check: |sys, s| db_state(sys, s).is_some_and(|d| d.balances.iter().all(|&b| b >= 0)),
            values: |sys, s| db_state(sys, s).map_or_else(String::new, balances_text),
        },
        Property {
            name: "money_conserved",
            claim: "the balances always add up to the money the accounts started with",
            kind: Kind::Always,
            client_steps: ClientSteps::Invisible,
            check: |sys, s| {
                db_state(sys, s).is_some_and(|d| d.balances.iter().sum::<i16>() == start_total(sys))
            },
            values: |sys, s| {
                db_state(sys, s).map_or_else(String::new, |d| {
                    format!(
                        "{} (${} in all, started with ${})",
                        balances_text(d),
                        d.balances.iter().sum::<i16>(),
                        start_total(sys)
                    )
                })
            },
        },
        Property {
            name: "ambiguous_failure_reachable",
            claim: "a client can be left believing a transfer failed (timeout or error) although the db saved it",
            kind: Kind::Sometimes,
            client_steps: ClientSteps::Visible,
            check: |sys, s| {
                // A request's attempts are all in its client's log.
                db_state(sys, s).is_some_and(|d| {
                    sys.client_logs(s)
                        .any(|log| !ambiguous_failures(log, &d.applied).is_empty())
                })
            },
            values: |sys, s| {
                let Some(d) = db_state(sys, s) else {
                    return String::new();
                };
                let found = ambiguous_failures(&sys.history(s), &d.applied);
                match found.first() {
                    Some(&(c, q, outcome)) => format!(
                        "{} ended in {} but the db saved it: {}",
                        request_name(c, q),
                        match outcome {
                            Outcome::TimedOut => "a timeout".to_string(),
                            Outcome::Replied(r) => format!("the reply '{r}'"),
                            Outcome::Pending => "nothing".to_string(),
                        },
                        balances_text(d)
                    ),
                    None => format!("no client gave up on a saved transfer; {}", balances_text(d)),
                }
            },
        },
    ]
}

/// Builds the model for a variant's mode at `bounds`: actors app1.., db, then the clients.
pub fn build(mode: Mode, bounds: &Bounds) -> CentralDbSystem {
    build_with(mode, None, bounds)
}

/// Builds the model for a mode, with a seeded bug or none.
pub fn build_with(mode: Mode, bug: Option<Bug>, bounds: &Bounds) -> CentralDbSystem {
    let servers = bounds.servers as usize;
    let clients = bounds.clients as usize;
    let app_ids: Vec<Id> = (0..servers).map(Id::from).collect();
    let db_id = Id::from(servers);
    let mut actors: Vec<(String, Node)> = app_ids
        .iter()
        .enumerate()
        .map(|(i, _)| (format!("app{}", i + 1), Node::App(App { db: db_id, bug })))
        .collect();
    let mut start = vec![0];
    start.extend(std::iter::repeat_n(bounds.balance, clients));
    actors.push(("db".to_string(), Node::Db(Db { mode, bug, start })));
    let policy = RetryPolicy {
        timeout: true,
        retries: if mode == Mode::NoRetry { 0 } else { 1 },
        session_token: false,
    };
    for c in 0..clients {
        let workload = (0..bounds.ops as usize)
            .map(|k| Request {
                dst: app_ids[c % servers],
                op: Op::Transfer {
                    from: c as u8 + 1,
                    to: 0,
                    amount: AMOUNT,
                },
                label: LABELS[k],
            })
            .collect();
        actors.push((
            CLIENT_NAMES[c].to_string(),
            Node::Client(Client {
                index: c as u8,
                workload,
                policy,
            }),
        ));
    }
    // App servers keep nothing: they relay transfers and answers.
    System::new(actors, bounds.faults(), properties()).with_stateless((0..servers).collect())
}

const VARIANTS: &[Variant] = &[
    Variant {
        name: "retry",
        about: "the client times out and retries once; the db applies every request: Jose pays Carlos twice (a saved transfer can still end in a timeout: the retry may time out too)",
        expect: &[
            ("exactly_once_transfer", Verdict::Violated),
            ("no_negative_balance", Verdict::Holds),
            ("money_conserved", Verdict::Holds),
            ("ambiguous_failure_reachable", Verdict::Holds),
        ],
    },
    Variant {
        name: "idempotency-key",
        about: "the same retry, but the db keeps each request id and answers a repeat with the original outcome: paid once (a timeout still cannot tell Jose whether he paid)",
        expect: FIXED,
    },
    Variant {
        name: "no-retry",
        about: "the client times out and gives up: paid at most once, but Jose can see an error for a transfer that happened",
        expect: &[
            ("exactly_once_transfer", Verdict::Holds),
            ("no_negative_balance", Verdict::Holds),
            ("money_conserved", Verdict::Holds),
            ("ambiguous_failure_reachable", Verdict::Holds),
        ],
    },
];

/// What the fix, and so each of its mutants, is expected to get.
const FIXED: &[(&str, Verdict)] = &[
    ("exactly_once_transfer", Verdict::Holds),
    ("no_negative_balance", Verdict::Holds),
    ("money_conserved", Verdict::Holds),
    ("ambiguous_failure_reachable", Verdict::Holds),
];

/// Seeded bugs in the `idempotency-key` fix; each must be caught by some property.
const MUTANTS: &[Variant] = &[
    Variant {
        name: "mutant-key-includes-attempt",
        about: "seeded bug: the idempotency key includes the attempt number, so a retry looks new",
        expect: FIXED,
    },
    Variant {
        name: "mutant-debit-only",
        about: "seeded bug: the db debits the payer but never credits the payee",
        expect: FIXED,
    },
    Variant {
        name: "mutant-credit-twice",
        about: "seeded bug: the db credits the payee twice",
        expect: FIXED,
    },
    Variant {
        name: "mutant-double-debit",
        about: "seeded bug: the db debits the payer twice",
        expect: FIXED,
    },
    Variant {
        name: "mutant-reply-before-save",
        about: "seeded bug: the app server says approved before the db has saved anything",
        expect: FIXED,
    },
];

fn mode_of(variant: &Variant) -> (Mode, Option<Bug>) {
    let bug = match variant.name {
        "idempotency-key" => return (Mode::IdempotencyKey, None),
        "no-retry" => return (Mode::NoRetry, None),
        "mutant-key-includes-attempt" => Bug::KeyIncludesAttempt,
        "mutant-debit-only" => Bug::DebitOnly,
        "mutant-credit-twice" => Bug::CreditTwice,
        "mutant-double-debit" => Bug::DoubleDebit,
        "mutant-reply-before-save" => Bug::ReplyBeforeSave,
        _ => return (Mode::Retry, None),
    };
    (Mode::IdempotencyKey, Some(bug))
}

fn build_variant(variant: &Variant, bounds: &Bounds) -> CentralDbSystem {
    let (mode, bug) = mode_of(variant);
    build_with(mode, bug, bounds)
}

/// The central-db architecture of the catalog.
pub struct CentralDb;

impl CentralDb {
    fn validate(bounds: &Bounds) -> Result<(), Error> {
        Bounds::require(
            "servers",
            bounds.servers.into(),
            1,
            3,
            "app servers in front of the one db",
        )?;
        Bounds::require(
            "clients",
            bounds.clients.into(),
            1,
            CLIENT_NAMES.len() as i64,
            "one name per paying client",
        )?;
        Bounds::require(
            "ops",
            bounds.ops.into(),
            1,
            LABELS.len() as i64,
            "transfers per client",
        )?;
        Bounds::require(
            "balance",
            bounds.balance.into(),
            0,
            1000,
            "each payer's starting dollars; Carlos starts with $0",
        )?;
        Bounds::require(
            "loss",
            bounds.loss.into(),
            0,
            3,
            "lost requests, replies and app <-> db messages per run",
        )?;
        Bounds::require(
            "crashes",
            bounds.crashes.into(),
            0,
            1,
            "servers down at once (the db or an app server)",
        )?;
        let total = i64::from(bounds.clients) * i64::from(bounds.ops);
        if total > 4 {
            return Err(Error::BadInput(format!(
                "--clients {} x --ops {} = {total} transfers is too large: at most 4 in one run",
                bounds.clients, bounds.ops
            )));
        }
        Ok(())
    }
}

impl Architecture for CentralDb {
    fn name(&self) -> &'static str {
        "central-db"
    }

    fn about(&self) -> &'static str {
        "app servers in front of one database: Jose pays Carlos, the answer is slow, Jose tries again"
    }

    fn variants(&self) -> &'static [Variant] {
        VARIANTS
    }

    fn mutants(&self) -> &'static [Variant] {
        MUTANTS
    }

    fn default_bounds(&self) -> Bounds {
        Bounds {
            clients: 1,
            ops: 1,
            servers: 2,
            balance: 100,
            network: NetworkKind::Unordered,
            loss: 0,
            crashes: 0,
        }
    }

    fn proof_bounds(&self) -> Vec<Bounds> {
        let d = self.default_bounds();
        vec![
            d,
            Bounds {
                ops: 2,
                loss: 1,
                crashes: 1,
                ..d
            },
            Bounds {
                clients: 2,
                loss: 1,
                ..d
            },
        ]
    }

    fn bench_bounds(&self) -> Vec<Bounds> {
        let d = self.default_bounds();
        vec![
            d,
            Bounds {
                clients: 2,
                loss: 1,
                crashes: 1,
                ..d
            },
        ]
    }

    fn build(&self, variant: &Variant, bounds: &Bounds) -> Result<Box<dyn Buildable>, Error> {
        Self::validate(bounds)?;
        Ok(Box::new(build_variant(variant, bounds)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::CheckOptions;
    use crate::exhaustive::{self, Limits};
    use crate::report::CheckReport;
    use stateright::Model;

    fn check(variant: &str, bounds: Bounds, properties: &[&str], limits: Limits) -> CheckReport {
        let arch = CentralDb;
        let opts = CheckOptions {
            properties: properties.iter().map(|p| p.to_string()).collect(),
            limits,
            ..CheckOptions::default()
        };
        arch.check(arch.variant(variant).unwrap(), &bounds, &opts)
            .unwrap()
    }

    #[test]
    fn jose_pays_carlos_twice_in_five_steps_shorter_than_the_article() {
        let r = check(
            "retry",
            CentralDb.default_bounds(),
            &["exactly_once_transfer"],
            Limits::default(),
        );
        let res = &r.results[0];
        assert_eq!(res.verdict, Verdict::Violated);
        let t = res.trace.as_ref().expect("a counterexample");
        // The article tells it in 8 bullets; the checker needs 5 steps.
        assert_eq!(t.len(), 5, "{}", r.to_text());
        let text = t.to_text();
        for needle in [
            "jose -> app1  transfer $10 (pay carlos)",
            "db balance jose: 100 -> 90; db balance carlos: 0 -> 10",
            "jose          times out waiting for pay carlos",
            "transfer $10 (pay carlos), retry 1",
            "db balance jose: 90 -> 80; db balance carlos: 10 -> 20",
        ] {
            assert!(text.contains(needle), "no {needle:?} in\n{text}");
        }
        assert_eq!(
            t.values,
            "jose's 'pay carlos' took effect 2 times: jose $80, carlos $20"
        );
    }

    #[test]
    fn with_idempotency_keys_the_retry_gets_the_original_answer() {
        let mut sys = build(Mode::IdempotencyKey, &CentralDb.default_bounds());
        sys.properties = vec![Property {
            name: "retry_answered_from_the_record",
            claim: "the db answers a repeated request id from its record",
            kind: Kind::Sometimes,
            client_steps: ClientSteps::Invisible,
            check: |sys, s| {
                sys.in_flight(s)
                    .any(|e| matches!(e.msg, Msg::Peer(Peer::Saved { replayed: true, .. })))
            },
            values: |_, _| String::new(),
        }];
        let s = exhaustive::search(&sys, &sys.properties, &Limits::default());
        let path = s.findings[0].path.as_ref().expect("an example");
        let story: Vec<String> = path.actions.iter().map(|a| sys.format_action(a)).collect();
        assert_eq!(
            story,
            [
                "jose -> app1: transfer $10 (pay carlos)",
                "app1 -> db: transfer $10 from jose to carlos (request id jose-1)",
                "jose times out",
                "jose -> app1: transfer $10 (pay carlos), retry 1",
                "app1 -> db: transfer $10 from jose to carlos (request id jose-1, retry 1)",
            ]
        );
        let db = db_state(&sys, path.last()).unwrap();
        assert_eq!(db.applied, [(0, 0)]);
        assert_eq!(db.balances, [10, 90]);
    }

    #[test]
    fn without_retries_jose_can_see_an_error_for_money_that_left() {
        let r = check(
            "no-retry",
            CentralDb.default_bounds(),
            &["ambiguous_failure_reachable", "exactly_once_transfer"],
            Limits::default(),
        );
        assert_eq!(r.results[0].verdict, Verdict::Holds);
        assert_eq!(r.results[1].verdict, Verdict::Holds);
        let t = r.results[0].trace.as_ref().expect("an example");
        assert_eq!(t.len(), 3, "{}", r.to_text());
        assert!(t.values.contains("ended in a timeout but the db saved it"));
    }

    #[test]
    fn a_duplicating_network_pays_twice_without_any_retry_unless_the_db_keeps_request_ids() {
        let b = Bounds {
            network: NetworkKind::Duplicating,
            ..CentralDb.default_bounds()
        };
        let shallow = Limits {
            max_depth: Some(4),
            ..Limits::default()
        };
        let r = check("no-retry", b, &["exactly_once_transfer"], shallow);
        assert_eq!(r.results[0].verdict, Verdict::Violated, "{}", r.to_text());
        assert_eq!(r.results[0].trace.as_ref().map(|t| t.len()), Some(3));
        let r = check(
            "idempotency-key",
            b,
            &["exactly_once_transfer"],
            Limits::default(),
        );
        assert!(r.complete);
        assert_eq!(r.results[0].verdict, Verdict::Holds, "{}", r.to_text());
    }

    #[test]
    fn ambiguous_failures_on_hand_written_histories() {
        let pay = |attempt, outcome| Event {
            id: ReqId {
                client: 0,
                seq: 0,
                attempt,
            },
            op: Op::Transfer {
                from: 1,
                to: 0,
                amount: AMOUNT,
            },
            outcome,
        };
        let ok = Outcome::Replied(Reply::Approved { balance: 90 });
        // Gave up on a transfer that happened.
        assert_eq!(
            ambiguous_failures(&[pay(0, Outcome::TimedOut)], &[(0, 0)]).len(),
            1
        );
        // Gave up on one that did not happen: an honest failure.
        assert!(ambiguous_failures(&[pay(0, Outcome::TimedOut)], &[]).is_empty());
        // Timed out, retried, approved: the client's last word is a success.
        assert!(ambiguous_failures(&[pay(0, Outcome::TimedOut), pay(1, ok)], &[(0, 0)]).is_empty());
        // Timed out, then told "declined" because the first attempt drained the account.
        let declined = Outcome::Replied(Reply::Declined { balance: 0 });
        assert_eq!(
            ambiguous_failures(&[pay(0, Outcome::TimedOut), pay(1, declined)], &[(0, 0)]).len(),
            1
        );
    }

    #[test]
    fn bounds_the_model_cannot_take_are_refused_with_a_reason() {
        let d = CentralDb.default_bounds();
        let bad = |b: Bounds| match CentralDb.check(&VARIANTS[0], &b, &CheckOptions::default()) {
            Err(Error::BadInput(m)) => m,
            Ok(_) => panic!("{b:?} was accepted"),
        };
        assert!(bad(Bounds { clients: 4, ..d }).contains("--clients 4 is too large"));
        assert!(bad(Bounds { ops: 4, ..d }).contains("--ops 4 is too large"));
        assert!(bad(Bounds { servers: 0, ..d }).contains("--servers 0 is too small"));
        assert!(bad(Bounds { balance: -1, ..d }).contains("--balance -1 is too small"));
        assert!(bad(Bounds { crashes: 2, ..d }).contains("--crashes 2 is too large"));
        assert!(bad(Bounds {
            clients: 3,
            ops: 2,
            ..d
        })
        .contains("at most 4"));
    }
}
