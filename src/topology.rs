//! Topology files: an architecture described as data (TOML), checked like a built-in model.
//!
//! A file names its building blocks: databases (`master`, `primary`, `replica`), `app`
//! servers that forward requests, write-through `cache`s, clients with a scripted workload
//! and a timeout/retry/session-token policy, accounts with starting balances, how writes
//! replicate (sync or async, operations or state, last-writer-wins), how requests are
//! routed (a home master for writes, reads to the primary after a write), the network and
//! its fault budget, the properties to check, and one or more variants with their expected
//! verdicts. [`load`] parses and validates a file; every mistake is an [`Error::BadInput`]
//! that names the file, line and column, what was found and what is accepted. The result
//! is an [`Architecture`]: the same engines, traces, formats and exit codes as `models/`.
//!
//! Semantics, in one place (a built-in twin in `models/` follows the same rules, and
//! `tests/topology.rs` checks that both give the same verdicts and trace lengths):
//! - Actors: the nodes in file order, then the clients. Databases keep their data on
//!   disk: a crash loses nothing but time. Only client requests and replies can be lost;
//!   messages between servers are retransmitted.
//! - A `primary` or `master` applies a write (a withdrawal only if the balance covers it),
//!   replies, and replicates to every other master and to its replicas: the operation
//!   (`send = "ops"`, applied unconditionally) or the new state (`send = "state"`, with a
//!   Lamport timestamp: the newest wins, ties to the higher writer). With `mode = "sync"`
//!   it replies only once every replication target acknowledged.
//! - A `replica` serves reads from its copy; when a request's session token is newer than
//!   its copy it forwards the read to the database it replicates. Writes to a replica are
//!   answered with an error.
//! - With `routing.home`, a master that is not the home forwards writes to the home.
//! - An `app` server forwards writes to `writes_to` and reads to `reads_to` and relays the
//!   answer. A `cache` serves reads from its copy and writes through to its `backend`,
//!   updating its copy when the backend answers (`replication.cache_update =
//!   "overwrite"` or `"newest"`).

use crate::architecture::{Architecture, Buildable, Variant};
use crate::bounds::Bounds;
use crate::client::{Client, ClientState, Request, RetryPolicy};
use crate::error::Error;
use crate::history::{key_name, Op, Outcome, Reply, ReqId};
use crate::property::{ClientSteps, Kind, Property, PropertyInfo};
use crate::report::Verdict;
use crate::session;
use crate::system::{Faults, Msg, NetworkKind, Node as NodeTrait, SysState, System, Timer};
use serde::Deserialize;
use stateright::actor::{Actor, Id, Out};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// Largest topology file read, in bytes.
pub const MAX_FILE_BYTES: u64 = 256 * 1024;
/// Most clients in one topology (the state space grows exponentially with them).
pub const MAX_CLIENTS: usize = 6;
/// Most servers (databases, app servers, caches) in one topology.
pub const MAX_NODES: usize = 8;
/// Most operations in one client's workload.
pub const MAX_OPS: usize = 8;
/// Most operations over all clients.
pub const MAX_TOTAL_OPS: usize = 16;
/// Most accounts.
pub const MAX_ACCOUNTS: usize = 4;

// ---------------------------------------------------------------------------------------
// The file, as written.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTop {
    about: Option<String>,
    properties: Spanned<Vec<Spanned<String>>>,
    network: Option<NetworkFile>,
    accounts: Option<Spanned<BTreeMap<String, Spanned<i64>>>>,
    replication: Option<ReplicationFile>,
    routing: Option<RoutingFile>,
    #[serde(default, rename = "node")]
    nodes: Vec<NodeFile>,
    #[serde(default, rename = "client")]
    clients: Vec<ClientFile>,
    #[serde(default, rename = "variant")]
    variants: Vec<VariantFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworkFile {
    semantics: Option<NetworkKindFile>,
    loss: Option<Spanned<i64>>,
    crashes: Option<Spanned<i64>>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "kebab-case")]
enum NetworkKindFile {
    Ordered,
    Unordered,
    Duplicating,
}

#[derive(Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct ReplicationFile {
    mode: Option<ReplicationMode>,
    send: Option<SendKind>,
    conflict: Option<Spanned<Conflict>>,
    cache_update: Option<CacheUpdate>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug, Hash)]
#[serde(rename_all = "kebab-case")]
enum ReplicationMode {
    Async,
    Sync,
}

/// What a writer replicates.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum SendKind {
    /// The operation, applied unconditionally by the receiver.
    Ops,
    /// The new state with a timestamp; the newest wins.
    State,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "kebab-case")]
enum Conflict {
    LastWriterWins,
}

#[derive(Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct RoutingFile {
    home: Option<Spanned<String>>,
    reads_after_write: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeFile {
    name: Spanned<String>,
    kind: Spanned<NodeKind>,
    replica_of: Option<Spanned<String>>,
    writes_to: Option<Spanned<String>>,
    reads_to: Option<Spanned<String>>,
    backend: Option<Spanned<String>>,
}

/// The kinds of server a topology can have.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum NodeKind {
    /// A database that takes writes and replicates to the other masters.
    Master,
    /// The one database that takes writes; replicates to its replicas.
    Primary,
    /// A read-only copy of a primary or master.
    Replica,
    /// An application server that forwards requests and relays answers.
    App,
    /// A write-through cache in front of a database.
    Cache,
}

impl NodeKind {
    fn as_str(self) -> &'static str {
        match self {
            NodeKind::Master => "master",
            NodeKind::Primary => "primary",
            NodeKind::Replica => "replica",
            NodeKind::App => "app",
            NodeKind::Cache => "cache",
        }
    }
    fn writable(self) -> bool {
        matches!(self, NodeKind::Master | NodeKind::Primary)
    }
    fn holds_data(self) -> bool {
        !matches!(self, NodeKind::App)
    }
}

/// How a cache updates its copy when the backend acknowledges a write.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug, Hash, Default)]
#[serde(rename_all = "kebab-case")]
pub enum CacheUpdate {
    /// Take the written value, whatever the copy holds.
    #[default]
    Overwrite,
    /// Take it only if its version is newer than the copy's.
    Newest,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientFile {
    name: Spanned<String>,
    workload: Spanned<Vec<OpFile>>,
    timeout: Option<bool>,
    retries: Option<Spanned<i64>>,
    session_token: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpFile {
    op: Spanned<OpKind>,
    to: Spanned<String>,
    label: Option<Spanned<String>>,
    account: Option<Spanned<String>>,
    amount: Option<Spanned<i64>>,
    value: Option<Spanned<i64>>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "kebab-case")]
enum OpKind {
    Withdraw,
    Read,
    Write,
}

#[derive(Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct ClientPolicyFile {
    timeout: Option<bool>,
    retries: Option<Spanned<i64>>,
    session_token: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VariantFile {
    name: Spanned<String>,
    about: Option<String>,
    expect: Spanned<BTreeMap<String, Spanned<Expect>>>,
    replication: Option<ReplicationFile>,
    routing: Option<RoutingFile>,
    clients: Option<ClientPolicyFile>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "kebab-case")]
enum Expect {
    Holds,
    Violated,
}

// ---------------------------------------------------------------------------------------
// The validated topology.

/// A server of a validated topology.
#[derive(Clone, Debug)]
pub struct NodeSpec {
    /// Its name in stories.
    pub name: String,
    /// What it is.
    pub kind: NodeKind,
    /// Replica: the node it copies.
    pub replica_of: Option<usize>,
    /// App: where writes go.
    pub writes_to: Option<usize>,
    /// App: where reads go.
    pub reads_to: Option<usize>,
    /// Cache: the database behind it.
    pub backend: Option<usize>,
}

/// One scripted operation of a client.
#[derive(Clone, Debug)]
pub struct OpSpec {
    /// The operation.
    pub op: Op,
    /// The node it is sent to.
    pub to: usize,
    /// Its name in stories.
    pub label: String,
}

/// A client of a validated topology.
#[derive(Clone, Debug)]
pub struct ClientSpec {
    /// Its name in stories.
    pub name: String,
    /// What it does, in order.
    pub workload: Vec<OpSpec>,
    /// Timeout, retries, session token.
    pub policy: RetryPolicy,
}

/// The knobs a variant may change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Writers wait for every replication target before replying.
    pub sync: bool,
    /// What writers replicate.
    pub send: SendKind,
    /// Writes arriving at another master are forwarded here.
    pub home: Option<usize>,
    /// A client's reads after its first write go here.
    pub reads_after_write: Option<usize>,
    /// Overrides every client's timeout.
    pub timeout: Option<bool>,
    /// Overrides every client's retries.
    pub retries: Option<u8>,
    /// Overrides every client's session token.
    pub session_token: Option<bool>,
    /// How caches take acknowledged writes.
    pub cache_update: CacheUpdate,
}

/// A variant of a validated topology.
#[derive(Clone, Debug)]
pub struct VariantSpec {
    /// Name used with `--variant`.
    pub name: String,
    /// One line.
    pub about: String,
    /// Expected verdict per property.
    pub expect: Vec<(&'static str, Verdict)>,
    /// Its settings.
    pub settings: Settings,
}

/// A parsed and validated topology file.
#[derive(Clone, Debug)]
pub struct Topology {
    /// The path it was read from (also its model name, so reproduce commands work).
    pub path: String,
    /// One line.
    pub about: String,
    /// The properties checked, library names.
    pub properties: Vec<&'static str>,
    /// Network semantics.
    pub network: NetworkKind,
    /// Client messages lost per run.
    pub loss: u8,
    /// Servers down at once.
    pub crashes: u8,
    /// Accounts and starting balances.
    pub accounts: Vec<(String, i16)>,
    /// Servers, in file order.
    pub nodes: Vec<NodeSpec>,
    /// Clients, in file order.
    pub clients: Vec<ClientSpec>,
    /// Its variants.
    pub variants: Vec<VariantSpec>,
}

/// The properties a topology file can name, in the order they are listed.
pub const LIBRARY: &[&str] = &[
    "read_your_writes",
    "monotonic_reads",
    "monotonic_writes",
    "writes_follow_reads",
    session::LINEARIZABLE,
    "replicas_converge",
    "no_negative_balance",
    "money_conserved",
    "approvals_within_funds",
];

struct Ctx<'a> {
    path: &'a str,
    src: &'a str,
}

impl Ctx<'_> {
    fn at(&self, span: Range<usize>, msg: impl AsRef<str>) -> Error {
        let start = span.start.min(self.src.len());
        let before = &self.src[..start];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        let text = self.src.lines().nth(line - 1).unwrap_or("");
        Error::BadInput(format!(
            "{}:{line}:{col}: {}\n  {line:>4} | {}",
            self.path,
            msg.as_ref(),
            text
        ))
    }
    fn whole(&self, msg: impl AsRef<str>) -> Error {
        Error::BadInput(format!("{}: {}", self.path, msg.as_ref()))
    }
    fn number(
        &self,
        v: &Spanned<i64>,
        what: &str,
        lo: i64,
        hi: i64,
        why: &str,
    ) -> Result<i64, Error> {
        let n = *v.get_ref();
        if n < lo || n > hi {
            return Err(self.at(
                v.span(),
                format!("{what} = {n} is out of range: expected a whole number from {lo} to {hi} ({why})"),
            ));
        }
        Ok(n)
    }
}

/// Reads, parses and validates a topology file.
pub fn load(path: &Path) -> Result<Topology, Error> {
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| {
        Error::BadInput(format!(
            "{shown}: cannot read the topology file: {}; give the path of a .toml file (`splitbrain new NAME` writes a starter)",
            match e.kind() {
                std::io::ErrorKind::NotFound => "no such file".to_string(),
                _ => e.to_string(),
            }
        ))
    })?;
    if meta.is_dir() {
        return Err(Error::BadInput(format!(
            "{shown}: is a directory, expected a topology file (.toml)"
        )));
    }
    let bytes = crate::files::read_input(path, "a topology file", MAX_FILE_BYTES)?;
    parse_bytes(&shown, &bytes)
}

/// Parses and validates a topology from bytes; `path` names it in errors.
pub fn parse_bytes(path: &str, bytes: &[u8]) -> Result<Topology, Error> {
    let src = match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let good = &bytes[..e.valid_up_to()];
            let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
            let col =
                String::from_utf8_lossy(good.rsplit(|&b| b == b'\n').next().unwrap_or_default())
                    .chars()
                    .count()
                    + 1;
            return Err(Error::BadInput(format!(
                "{path}:{line}:{col}: the file is not UTF-8 text (invalid byte 0x{:02x}); a topology file is UTF-8 TOML",
                bytes[e.valid_up_to()]
            )));
        }
    };
    parse(path, src)
}

/// Parses and validates a topology from text; `path` names it in errors.
pub fn parse(path: &str, src: &str) -> Result<Topology, Error> {
    let cx = Ctx { path, src };
    let file: FileTop = toml::from_str(src).map_err(|e| {
        let msg = e.message().trim().to_string();
        let msg = if msg.starts_with("missing field") {
            format!("{msg} (see `splitbrain new` for a complete example)")
        } else {
            msg
        };
        match e.span() {
            Some(span) => cx.at(span, msg),
            None => cx.whole(msg),
        }
    })?;
    validate(&cx, file)
}

fn validate(cx: &Ctx, f: FileTop) -> Result<Topology, Error> {
    // Network and faults.
    let (mut network, mut loss, mut crashes_n) = (NetworkKind::Unordered, 0u8, None);
    if let Some(n) = &f.network {
        if let Some(s) = n.semantics {
            network = match s {
                NetworkKindFile::Ordered => NetworkKind::Ordered,
                NetworkKindFile::Unordered => NetworkKind::Unordered,
                NetworkKindFile::Duplicating => NetworkKind::Duplicating,
            };
        }
        if let Some(l) = &n.loss {
            loss = cx.number(l, "loss", 0, 8, "client messages lost in one run")? as u8;
        }
        crashes_n = n.crashes.clone();
    }

    // Accounts.
    let mut accounts = Vec::new();
    if let Some(a) = &f.accounts {
        if a.get_ref().len() > MAX_ACCOUNTS {
            return Err(cx.at(
                a.span(),
                format!(
                    "{} accounts is too many: at most {MAX_ACCOUNTS}",
                    a.get_ref().len()
                ),
            ));
        }
        for (name, bal) in a.get_ref() {
            let b = cx.number(
                bal,
                &format!("accounts.{name}"),
                0,
                1000,
                "starting balance in dollars",
            )?;
            accounts.push((name.clone(), b as i16));
        }
    }

    // Nodes.
    if f.nodes.is_empty() {
        return Err(cx.whole(
            "no servers: add at least one [[node]] with a name and a kind (master, primary, replica, app, cache)",
        ));
    }
    if f.nodes.len() > MAX_NODES {
        return Err(cx.at(
            f.nodes[MAX_NODES].name.span(),
            format!("{} nodes is too many: at most {MAX_NODES}", f.nodes.len()),
        ));
    }
    let mut names: BTreeMap<String, Range<usize>> = BTreeMap::new();
    let mut check_name = |n: &Spanned<String>| -> Result<(), Error> {
        let s = n.get_ref();
        if s.is_empty()
            || s.len() > 24
            || !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(cx.at(
                n.span(),
                format!("name \"{s}\" is not valid: expected 1 to 24 letters, digits, '-' or '_'"),
            ));
        }
        if names.insert(s.clone(), n.span()).is_some() {
            return Err(cx.at(
                n.span(),
                format!("name \"{s}\" is used twice: every node and client needs its own name"),
            ));
        }
        Ok(())
    };
    for n in &f.nodes {
        check_name(&n.name)?;
    }
    let node_names: Vec<String> = f.nodes.iter().map(|n| n.name.get_ref().clone()).collect();
    let kinds: Vec<NodeKind> = f.nodes.iter().map(|n| *n.kind.get_ref()).collect();
    let lookup = |r: &Spanned<String>, role: &str, ok: &dyn Fn(NodeKind) -> bool, want: &str| {
        let s = r.get_ref();
        match node_names.iter().position(|n| n == s) {
            None => Err(cx.at(
                r.span(),
                format!(
                    "{role} \"{s}\" names no node; valid choices: {}",
                    node_names.join(", ")
                ),
            )),
            Some(i) if !ok(kinds[i]) => Err(cx.at(
                r.span(),
                format!(
                    "{role} \"{s}\" is a {}, expected {want}; valid choices: {}",
                    kinds[i].as_str(),
                    node_names
                        .iter()
                        .zip(&kinds)
                        .filter(|(_, k)| ok(**k))
                        .map(|(n, _)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
            Some(i) => Ok(i),
        }
    };
    let writers = kinds.iter().filter(|k| k.writable()).count();
    let primaries = kinds.iter().filter(|k| **k == NodeKind::Primary).count();
    if writers == 0 {
        return Err(cx.at(
            f.nodes[0].kind.span(),
            "no database takes writes: expected one node of kind \"primary\", or two or more of kind \"master\"",
        ));
    }
    if primaries > 1 || (primaries == 1 && writers > 1) {
        let i = kinds.iter().rposition(|k| k.writable()).unwrap_or(0);
        return Err(cx.at(
            f.nodes[i].kind.span(),
            "a topology has one primary or several masters, not both and not two primaries: make the writers all \"master\", or keep one \"primary\"",
        ));
    }
    let mut nodes = Vec::new();
    for n in &f.nodes {
        let kind = *n.kind.get_ref();
        let not_for = |field: &str, span: Range<usize>, for_kind: &str| {
            cx.at(
                span,
                format!("`{field}` does not apply to a node of kind \"{}\": it is for kind \"{for_kind}\"", kind.as_str()),
            )
        };
        let mut spec = NodeSpec {
            name: n.name.get_ref().clone(),
            kind,
            replica_of: None,
            writes_to: None,
            reads_to: None,
            backend: None,
        };
        match (&n.replica_of, kind) {
            (Some(r), NodeKind::Replica) => {
                let of = lookup(r, "replica_of", &|k| k.writable(), "a primary or master")?;
                if kinds[of] == NodeKind::Master && writers > 1 {
                    return Err(cx.at(
                        r.span(),
                        format!(
                            "replica \"{}\" of master \"{}\" would get only the writes that master's own clients make, never those it takes from the other masters, so it could not converge: make the replica's source a \"primary\", or drop the replica",
                            spec.name,
                            r.get_ref()
                        ),
                    ));
                }
                spec.replica_of = Some(of)
            }
            (None, NodeKind::Replica) => {
                return Err(cx.at(
                    n.kind.span(),
                    format!(
                        "replica \"{}\" is a replica of nothing: add replica_of = \"<a primary or master>\"",
                        spec.name
                    ),
                ))
            }
            (Some(r), _) => return Err(not_for("replica_of", r.span(), "replica")),
            (None, _) => {}
        }
        let db = |k: NodeKind| k != NodeKind::App;
        for (field, value, slot) in [
            ("writes_to", &n.writes_to, &mut spec.writes_to),
            ("reads_to", &n.reads_to, &mut spec.reads_to),
        ] {
            match (value, kind) {
                (Some(r), NodeKind::App) => {
                    *slot = Some(lookup(r, field, &db, "a database or cache")?)
                }
                (Some(r), _) => return Err(not_for(field, r.span(), "app")),
                (None, _) => {}
            }
        }
        if kind == NodeKind::App {
            match (spec.writes_to, spec.reads_to) {
                (None, None) => {
                    return Err(cx.at(
                        n.kind.span(),
                        format!("app \"{}\" forwards to nothing: add writes_to = \"<database>\" (and reads_to, if reads go elsewhere)", spec.name),
                    ))
                }
                (w, r) => {
                    spec.writes_to = w.or(r);
                    spec.reads_to = r.or(w);
                }
            }
        }
        match (&n.backend, kind) {
            (Some(r), NodeKind::Cache) => {
                spec.backend = Some(lookup(
                    r,
                    "backend",
                    &|k| k.writable(),
                    "a primary or master",
                )?)
            }
            (None, NodeKind::Cache) => {
                return Err(cx.at(
                    n.kind.span(),
                    format!(
                        "cache \"{}\" has no backend: add backend = \"<a primary or master>\"",
                        spec.name
                    ),
                ))
            }
            (Some(r), _) => return Err(not_for("backend", r.span(), "cache")),
            (None, _) => {}
        }
        nodes.push(spec);
    }
    let crashes = match &crashes_n {
        Some(c) => cx.number(
            c,
            "crashes",
            0,
            nodes.len() as i64 - 1,
            "servers down at once; one must stay up",
        )? as u8,
        None => 0,
    };

    // Clients.
    if f.clients.is_empty() {
        return Err(cx.whole("no clients: add at least one [[client]] with a name and a workload"));
    }
    if f.clients.len() > MAX_CLIENTS {
        return Err(cx.at(
            f.clients[MAX_CLIENTS].name.span(),
            format!(
                "{} clients is too many: at most {MAX_CLIENTS} (every client multiplies the states to explore)",
                f.clients.len()
            ),
        ));
    }
    let mut clients = Vec::new();
    let mut next_value = 1i64;
    let mut total_ops = 0;
    let mut has_withdraw = false;
    let mut has_register = false;
    for c in &f.clients {
        check_name(&c.name)?;
        let ops = c.workload.get_ref();
        if ops.is_empty() {
            return Err(cx.at(
                c.workload.span(),
                format!(
                    "client \"{}\" has an empty workload: expected at least one operation, e.g. {{ op = \"read\", to = \"{}\" }}",
                    c.name.get_ref(),
                    node_names[0]
                ),
            ));
        }
        if ops.len() > MAX_OPS {
            return Err(cx.at(
                c.workload.span(),
                format!(
                    "{} operations is too many for one client: at most {MAX_OPS}",
                    ops.len()
                ),
            ));
        }
        total_ops += ops.len();
        if total_ops > MAX_TOTAL_OPS {
            return Err(cx.at(
                c.workload.span(),
                format!(
                    "{total_ops} operations over all clients is too many: at most {MAX_TOTAL_OPS}"
                ),
            ));
        }
        let mut workload = Vec::new();
        for o in ops {
            let to = lookup(&o.to, "to", &|_| true, "a server")?;
            let field_not = |field: &str, span: Range<usize>, ok_for: &str| {
                cx.at(
                    span,
                    format!(
                        "`{field}` does not apply to op = \"{}\": it is for {ok_for}",
                        match o.op.get_ref() {
                            OpKind::Withdraw => "withdraw",
                            OpKind::Read => "read",
                            OpKind::Write => "write",
                        }
                    ),
                )
            };
            let op = match o.op.get_ref() {
                OpKind::Withdraw => {
                    if let Some(v) = &o.value {
                        return Err(field_not("value", v.span(), "op = \"write\""));
                    }
                    has_withdraw = true;
                    let account = match &o.account {
                        Some(a) => accounts.iter().position(|(n, _)| n == a.get_ref()).ok_or_else(|| {
                            cx.at(
                                a.span(),
                                format!(
                                    "account \"{}\" is not declared; valid choices: {}",
                                    a.get_ref(),
                                    if accounts.is_empty() {
                                        "none (add an [accounts] table, e.g. jose = 10)".to_string()
                                    } else {
                                        accounts.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
                                    }
                                ),
                            )
                        })?,
                        None if accounts.len() == 1 => 0,
                        None => {
                            return Err(cx.at(
                                o.op.span(),
                                if accounts.is_empty() {
                                    "a withdrawal needs an account: add an [accounts] table (e.g. jose = 10)".to_string()
                                } else {
                                    format!(
                                        "which account? add account = one of {}",
                                        accounts.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
                                    )
                                },
                            ))
                        }
                    };
                    let amount =
                        match &o.amount {
                            Some(a) => cx.number(a, "amount", 1, 1000, "dollars withdrawn")?,
                            None => return Err(cx.at(
                                o.op.span(),
                                "a withdrawal needs an amount: add amount = <dollars, 1 to 1000>",
                            )),
                        };
                    Op::Withdraw {
                        account: account as u8,
                        amount: amount as i16,
                    }
                }
                kind @ (OpKind::Read | OpKind::Write) => {
                    if let Some(a) = &o.amount {
                        return Err(field_not("amount", a.span(), "op = \"withdraw\""));
                    }
                    if let Some(a) = &o.account {
                        return Err(field_not("account", a.span(), "op = \"withdraw\""));
                    }
                    has_register = true;
                    if *kind == OpKind::Read {
                        if let Some(v) = &o.value {
                            return Err(field_not("value", v.span(), "op = \"write\""));
                        }
                        Op::Read { key: 0 }
                    } else {
                        let value = match &o.value {
                            Some(v) => cx.number(v, "value", 1, 250, "the value written")?,
                            None => next_value,
                        };
                        next_value = next_value.max(value) + 1;
                        if next_value > 251 {
                            return Err(cx.at(o.op.span(), "written values run past 250"));
                        }
                        Op::Write {
                            key: 0,
                            value: value as u8,
                        }
                    }
                }
            };
            let label = match &o.label {
                Some(l) if l.get_ref().is_empty() || l.get_ref().chars().count() > 40 => {
                    return Err(cx.at(l.span(), "label must be 1 to 40 characters"))
                }
                Some(l) => l.get_ref().clone(),
                None => match op {
                    Op::Withdraw { .. } => "withdrawal".to_string(),
                    Op::Read { .. } => "read".to_string(),
                    _ => "write".to_string(),
                },
            };
            workload.push(OpSpec { op, to, label });
        }
        let retries = match &c.retries {
            Some(r) => cx.number(r, "retries", 0, 3, "resends of a timed-out request")? as u8,
            None => 0,
        };
        if retries > 0 && c.timeout != Some(true) {
            let span = c.retries.as_ref().map_or(c.name.span(), |r| r.span());
            return Err(cx.at(
                span,
                "retries need a timeout: add timeout = true (a client only resends after it gives up waiting)",
            ));
        }
        clients.push(ClientSpec {
            name: c.name.get_ref().clone(),
            workload,
            policy: RetryPolicy {
                timeout: c.timeout.unwrap_or(false),
                retries,
                session_token: c.session_token.unwrap_or(false),
            },
        });
    }

    // Properties.
    let data_nodes = kinds.iter().filter(|k| k.holds_data()).count();
    let mut properties: Vec<&'static str> = Vec::new();
    if f.properties.get_ref().is_empty() {
        return Err(cx.at(
            f.properties.span(),
            format!(
                "no properties to check: list some of {}",
                LIBRARY.join(", ")
            ),
        ));
    }
    // A cache keeps read copies of the key; balances it never sees would count against it.
    if let (true, Some(i)) = (
        has_withdraw,
        kinds.iter().position(|k| *k == NodeKind::Cache),
    ) {
        return Err(cx.at(
            f.nodes[i].kind.span(),
            "a cache keeps copies of a key for reads and ignores withdrawals, so the balance properties would judge its stale copy as a database's: use caches with op = \"write\" and \"read\" workloads, not with withdrawals",
        ));
    }
    for p in f.properties.get_ref() {
        let Some(&name) = LIBRARY.iter().find(|l| **l == p.get_ref()) else {
            return Err(cx.at(
                p.span(),
                format!(
                    "unknown property \"{}\"; valid choices: {}",
                    p.get_ref(),
                    LIBRARY.join(", ")
                ),
            ));
        };
        let why_not = match name {
            "no_negative_balance" | "money_conserved" | "approvals_within_funds" if !has_withdraw => {
                Some("it is about account balances, and no client withdraws (add an [accounts] table and op = \"withdraw\")")
            }
            "replicas_converge" if data_nodes < 2 => {
                Some("it compares copies of the data, and only one node holds data")
            }
            "replicas_converge" => None,
            "no_negative_balance" | "money_conserved" | "approvals_within_funds" => None,
            _ if !has_register => Some(
                "it is about what clients read and wrote, and no client reads or writes (use op = \"read\" / \"write\")",
            ),
            _ => None,
        };
        if let Some(why) = why_not {
            return Err(cx.at(
                p.span(),
                format!("property \"{name}\" does not apply to this topology: {why}"),
            ));
        }
        if properties.contains(&name) {
            return Err(cx.at(p.span(), format!("property \"{name}\" is listed twice")));
        }
        properties.push(name);
    }

    // Settings and variants.
    let base = settings(
        cx,
        Settings::default_for(),
        f.replication.as_ref(),
        f.routing.as_ref(),
        None,
        &lookup,
    )?;
    if f.variants.is_empty() {
        return Err(cx.whole(
            "no variants: add at least one [[variant]] with a name and the expected verdict of every property, e.g. expect = { read_your_writes = \"holds\" }",
        ));
    }
    let mut variants: Vec<VariantSpec> = Vec::new();
    for v in &f.variants {
        let name = v.name.get_ref();
        if name.is_empty()
            || name.len() > 40
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(cx.at(v.name.span(), format!("variant name \"{name}\" is not valid: expected 1 to 40 letters, digits, '-' or '_'")));
        }
        if variants.iter().any(|x| &x.name == name) {
            return Err(cx.at(
                v.name.span(),
                format!("variant \"{name}\" is defined twice"),
            ));
        }
        let settings = settings(
            cx,
            base,
            v.replication.as_ref(),
            v.routing.as_ref(),
            v.clients.as_ref(),
            &lookup,
        )?;
        if let Some(r) = v.clients.as_ref().and_then(|c| c.retries.as_ref()) {
            let some_client_waits_forever =
                (clients.iter()).any(|c| !settings.timeout.unwrap_or(c.policy.timeout));
            if settings.retries > Some(0) && some_client_waits_forever {
                return Err(cx.at(
                    r.span(),
                    "retries need a timeout: add timeout = true here (a client without one waits forever and never resends)",
                ));
            }
        }
        let mut expect = Vec::new();
        for p in &properties {
            match v.expect.get_ref().get(*p) {
                Some(e) => expect.push((
                    *p,
                    match e.get_ref() {
                        Expect::Holds => Verdict::Holds,
                        Expect::Violated => Verdict::Violated,
                    },
                )),
                None => {
                    return Err(cx.at(
                        v.expect.span(),
                        format!("variant \"{name}\" gives no expected verdict for property \"{p}\": add {p} = \"holds\" or \"violated\""),
                    ))
                }
            }
        }
        if let Some(extra) = v
            .expect
            .get_ref()
            .keys()
            .find(|k| !properties.contains(&k.as_str()))
        {
            return Err(cx.at(
                v.expect.span(),
                format!(
                    "variant \"{name}\" expects a verdict for \"{extra}\", which is not in `properties`; valid choices: {}",
                    properties.join(", ")
                ),
            ));
        }
        variants.push(VariantSpec {
            name: name.clone(),
            about: v.about.clone().unwrap_or_else(|| name.clone()),
            expect,
            settings,
        });
    }

    Ok(Topology {
        path: cx.path.to_string(),
        about: f
            .about
            .unwrap_or_else(|| "a topology described in a file".to_string()),
        properties,
        network,
        loss,
        crashes,
        accounts,
        nodes,
        clients,
        variants,
    })
}

impl Settings {
    fn default_for() -> Settings {
        Settings {
            sync: false,
            send: SendKind::Ops,
            home: None,
            reads_after_write: None,
            timeout: None,
            retries: None,
            session_token: None,
            cache_update: CacheUpdate::Overwrite,
        }
    }
}

type Lookup<'a> =
    dyn Fn(&Spanned<String>, &str, &dyn Fn(NodeKind) -> bool, &str) -> Result<usize, Error> + 'a;

fn settings(
    cx: &Ctx,
    base: Settings,
    rep: Option<&ReplicationFile>,
    routing: Option<&RoutingFile>,
    clients: Option<&ClientPolicyFile>,
    lookup: &Lookup,
) -> Result<Settings, Error> {
    let mut s = base;
    if let Some(r) = rep {
        if let Some(m) = r.mode {
            s.sync = m == ReplicationMode::Sync;
        }
        if let Some(k) = r.send {
            s.send = k;
        }
        // Only states carry a timestamp to compare: operations are applied as they come.
        if let Some(c) = &r.conflict {
            let Conflict::LastWriterWins = c.get_ref();
            if s.send != SendKind::State {
                return Err(cx.at(
                    c.span(),
                    "conflict = \"last-writer-wins\" needs send = \"state\": replicated operations carry no timestamp to compare, so every one is applied",
                ));
            }
        }
        if let Some(u) = r.cache_update {
            s.cache_update = u;
        }
    }
    if let Some(r) = routing {
        if let Some(h) = &r.home {
            s.home = Some(lookup(h, "home", &|k| k == NodeKind::Master, "a master")?);
        }
        if let Some(h) = &r.reads_after_write {
            s.reads_after_write = Some(lookup(
                h,
                "reads_after_write",
                &|k| k.holds_data(),
                "a database or cache",
            )?);
        }
    }
    if let Some(c) = clients {
        if let Some(t) = c.timeout {
            s.timeout = Some(t);
        }
        if let Some(r) = &c.retries {
            s.retries =
                Some(cx.number(r, "retries", 0, 3, "resends of a timed-out request")? as u8);
            if s.retries > Some(0) && c.timeout == Some(false) {
                return Err(cx.at(
                    r.span(),
                    "retries need a timeout: set timeout = true here (a client only resends after it gives up waiting)",
                ));
            }
        }
        if let Some(t) = c.session_token {
            s.session_token = Some(t);
        }
    }
    Ok(s)
}

// ---------------------------------------------------------------------------------------
// The interpreted model.

/// Messages between servers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Peer {
    /// Apply a withdrawal another database approved.
    ApplyOp {
        /// Account index.
        account: u8,
        /// Dollars withdrawn.
        amount: i16,
        /// Acknowledge with this number (synchronous replication).
        ack: Option<u8>,
    },
    /// Take this balance if its timestamp is newer.
    SetBalance {
        /// Account index.
        account: u8,
        /// The sender's balance.
        balance: i16,
        /// Lamport clock and writer number.
        stamp: (u8, u8),
        /// Acknowledge with this number (synchronous replication).
        ack: Option<u8>,
    },
    /// The register's newest version.
    Replicate {
        /// Version.
        version: u8,
        /// Writer number (ties).
        writer: u8,
        /// Value.
        value: u8,
        /// Acknowledge with this number (synchronous replication).
        ack: Option<u8>,
        /// Apply unconditionally (operation replication) rather than newest-wins.
        force: bool,
    },
    /// A replication message was applied.
    Ack {
        /// Which.
        ack: u8,
    },
    /// A request handed on to another server.
    Forward {
        /// The client's request id.
        id: ReqId,
        /// The operation.
        op: Op,
        /// The client's session token.
        token: u8,
        /// The client.
        client: Id,
        /// Servers the answer goes back through (last first).
        via: Vec<Id>,
    },
    /// The answer to a forwarded request, on its way back.
    Answer {
        /// The client's request id.
        id: ReqId,
        /// The operation.
        op: Op,
        /// The answer.
        reply: Reply,
        /// The client.
        client: Id,
        /// Servers still to pass through (last first).
        via: Vec<Id>,
    },
}

/// A server's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Server {
    /// What it is.
    pub kind: NodeKind,
    /// Its actor id.
    pub id: Id,
    /// Writer number (stamps, ties).
    pub index: u8,
    /// Where it replicates its writes.
    pub replicate_to: Vec<Id>,
    /// Replica: the database it copies (forwarded reads go there). Cache: its backend.
    pub source: Option<Id>,
    /// App: where writes and reads go.
    pub routes: Option<(Id, Id)>,
    /// Writes arriving at a master that is not this one are forwarded to it.
    pub home: Option<Id>,
    /// Synchronous replication.
    pub sync: bool,
    /// What it replicates.
    pub send: SendKind,
    /// Cache update rule.
    pub update: CacheUpdate,
    /// Starting balances.
    pub accounts: Vec<i16>,
    /// Account names, for stories.
    pub account_names: Vec<&'static str>,
}

/// A write waiting for replication acknowledgements.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Pending {
    /// The acknowledgement number.
    pub ack: u8,
    /// The replicas whose acknowledgement is still missing, one bit per actor index: an
    /// acknowledgement delivered twice (on a duplicating network) counts once.
    pub waiting: u32,
    /// The request.
    pub id: ReqId,
    /// The operation.
    pub op: Op,
    /// The reply to send once acknowledged.
    pub reply: Reply,
    /// The client.
    pub client: Id,
    /// The way back.
    pub via: Vec<Id>,
}

/// A server's durable state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServerState {
    /// Balance per account.
    pub balances: Vec<i16>,
    /// Dollars this server approved, per account.
    pub approved: Vec<i16>,
    /// Timestamp of each balance (state replication).
    pub stamps: Vec<(u8, u8)>,
    /// Register version.
    pub version: u8,
    /// Register writer number.
    pub writer: u8,
    /// Register value.
    pub value: u8,
    /// Writes waiting for acknowledgements.
    pub pending: Vec<Pending>,
    /// Next acknowledgement number.
    pub next_ack: u8,
}

/// The actors of an interpreted topology.
#[derive(Clone, Debug)]
pub enum TNode {
    /// A database, app server or cache.
    Server(Box<Server>),
    /// A client.
    Client(Client),
}

/// Actor states.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TState {
    /// A server's.
    Server(ServerState),
    /// A client's.
    Client(ClientState),
}

fn is_write(op: &Op) -> bool {
    matches!(op, Op::Withdraw { .. } | Op::Write { .. })
}

impl Server {
    fn reply(
        &self,
        id: ReqId,
        op: Op,
        reply: Reply,
        client: Id,
        mut via: Vec<Id>,
        o: &mut Out<TNode>,
    ) {
        match via.pop() {
            Some(r) => o.send(
                r,
                Msg::Peer(Peer::Answer {
                    id,
                    op,
                    reply,
                    client,
                    via,
                }),
            ),
            None => o.send(client, Msg::Reply { id, reply }),
        }
    }

    #[allow(clippy::too_many_arguments)] // a request's parts, as they travel
    fn request(
        &self,
        st: &mut ServerState,
        id: ReqId,
        op: Op,
        token: u8,
        client: Id,
        via: Vec<Id>,
        o: &mut Out<TNode>,
    ) {
        match self.kind {
            NodeKind::App => {
                let (w, r) = self.routes.unwrap_or((self.id, self.id));
                let mut via = via;
                via.push(self.id);
                let dst = if is_write(&op) { w } else { r };
                o.send(
                    dst,
                    Msg::Peer(Peer::Forward {
                        id,
                        op,
                        token,
                        client,
                        via,
                    }),
                );
            }
            NodeKind::Cache if is_write(&op) => {
                let mut via = via;
                via.push(self.id);
                let dst = self.source.unwrap_or(self.id);
                o.send(
                    dst,
                    Msg::Peer(Peer::Forward {
                        id,
                        op,
                        token,
                        client,
                        via,
                    }),
                );
            }
            NodeKind::Master | NodeKind::Primary
                if is_write(&op) && self.home.is_some_and(|h| h != self.id) =>
            {
                let home = self.home.unwrap_or(self.id);
                o.send(
                    home,
                    Msg::Peer(Peer::Forward {
                        id,
                        op,
                        token,
                        client,
                        via,
                    }),
                );
            }
            NodeKind::Replica | NodeKind::Cache
                if matches!(op, Op::Read { .. }) && token > st.version && self.source.is_some() =>
            {
                let src = self.source.unwrap_or(self.id);
                o.send(
                    src,
                    Msg::Peer(Peer::Forward {
                        id,
                        op,
                        token,
                        client,
                        via,
                    }),
                );
            }
            _ => self.apply(st, id, op, client, via, o),
        }
    }

    fn apply(
        &self,
        st: &mut ServerState,
        id: ReqId,
        op: Op,
        client: Id,
        via: Vec<Id>,
        o: &mut Out<TNode>,
    ) {
        let writer = self.kind.writable();
        match op {
            Op::Read { .. } => {
                let reply = Reply::Value {
                    value: st.value,
                    version: st.version,
                };
                self.reply(id, op, reply, client, via, o);
            }
            Op::Withdraw { account, amount } if writer => {
                let a = account as usize;
                let Some(&balance) = st.balances.get(a) else {
                    return self.reply(id, op, Reply::Error, client, via, o);
                };
                if balance < amount {
                    let reply = Reply::Declined { balance };
                    return self.reply(id, op, reply, client, via, o);
                }
                st.balances[a] -= amount;
                st.approved[a] += amount;
                let reply = Reply::Approved {
                    balance: st.balances[a],
                };
                let ack = self.start_ack(st, id, op, reply, client, &via);
                let msg = match self.send {
                    SendKind::Ops => Peer::ApplyOp {
                        account,
                        amount,
                        ack,
                    },
                    SendKind::State => {
                        st.stamps[a] = (st.stamps[a].0.saturating_add(1), self.index);
                        Peer::SetBalance {
                            account,
                            balance: st.balances[a],
                            stamp: st.stamps[a],
                            ack,
                        }
                    }
                };
                if ack.is_none() {
                    self.reply(id, op, reply, client, via, o);
                }
                for &p in &self.replicate_to {
                    o.send(p, Msg::Peer(msg.clone()));
                }
                o.save(Box::new(st.clone()));
            }
            Op::Write { value, .. } if writer => {
                st.version = st.version.saturating_add(1);
                st.writer = self.index;
                st.value = value;
                let reply = Reply::Written {
                    version: st.version,
                };
                let ack = self.start_ack(st, id, op, reply, client, &via);
                if ack.is_none() {
                    self.reply(id, op, reply, client, via, o);
                }
                for &p in &self.replicate_to {
                    o.send(
                        p,
                        Msg::Peer(Peer::Replicate {
                            version: st.version,
                            writer: st.writer,
                            value,
                            ack,
                            force: self.send == SendKind::Ops,
                        }),
                    );
                }
                o.save(Box::new(st.clone()));
            }
            _ => self.reply(id, op, Reply::Error, client, via, o),
        }
    }

    fn start_ack(
        &self,
        st: &mut ServerState,
        id: ReqId,
        op: Op,
        reply: Reply,
        client: Id,
        via: &[Id],
    ) -> Option<u8> {
        if !self.sync || self.replicate_to.is_empty() {
            return None;
        }
        let ack = st.next_ack;
        st.next_ack = st.next_ack.saturating_add(1);
        st.pending.push(Pending {
            ack,
            waiting: (self.replicate_to.iter()).fold(0, |m, &r| m | 1 << usize::from(r)),
            id,
            op,
            reply,
            client,
            via: via.to_vec(),
        });
        Some(ack)
    }

    fn on_msg(&self, st: &mut ServerState, src: Id, msg: Msg<Peer>, o: &mut Out<TNode>) {
        match msg {
            Msg::Request { id, op, token } => self.request(st, id, op, token, src, Vec::new(), o),
            Msg::Reply { .. } => {}
            Msg::Peer(Peer::Forward {
                id,
                op,
                token,
                client,
                via,
            }) => self.request(st, id, op, token, client, via, o),
            Msg::Peer(Peer::Answer {
                id,
                op,
                reply,
                client,
                via,
            }) => {
                if self.kind == NodeKind::Cache {
                    if let (Op::Write { value, .. }, Reply::Written { version }) = (op, reply) {
                        if self.update == CacheUpdate::Overwrite || version > st.version {
                            st.version = version;
                            st.value = value;
                            o.save(Box::new(st.clone()));
                        }
                    }
                }
                self.reply(id, op, reply, client, via, o);
            }
            Msg::Peer(Peer::ApplyOp {
                account,
                amount,
                ack,
            }) => {
                // Saturating: a duplicating network may deliver it again and again.
                if let Some(b) = st.balances.get_mut(account as usize) {
                    *b = b.saturating_sub(amount);
                }
                if let Some(a) = ack {
                    o.send(src, Msg::Peer(Peer::Ack { ack: a }));
                }
                o.save(Box::new(st.clone()));
            }
            Msg::Peer(Peer::SetBalance {
                account,
                balance,
                stamp,
                ack,
            }) => {
                // A balance stamped older than the server's loses and changes nothing (the
                // server's clock is already past it); it is still acknowledged.
                let a = account as usize;
                if a < st.stamps.len() && stamp > st.stamps[a] {
                    st.balances[a] = balance;
                    st.stamps[a] = stamp;
                    o.save(Box::new(st.clone()));
                }
                if let Some(a) = ack {
                    o.send(src, Msg::Peer(Peer::Ack { ack: a }));
                }
            }
            Msg::Peer(Peer::Replicate {
                version,
                writer,
                value,
                ack,
                force,
            }) => {
                if force || (version, writer) > (st.version, st.writer) {
                    st.version = version;
                    st.writer = writer;
                    st.value = value;
                    o.save(Box::new(st.clone()));
                }
                if let Some(a) = ack {
                    o.send(src, Msg::Peer(Peer::Ack { ack: a }));
                }
            }
            Msg::Peer(Peer::Ack { ack }) => {
                let from = 1u32.checked_shl(usize::from(src) as u32).unwrap_or(0);
                let pending = st.pending.iter().position(|p| p.ack == ack);
                if let Some(i) = pending.filter(|&i| st.pending[i].waiting & from != 0) {
                    st.pending[i].waiting &= !from;
                    if st.pending[i].waiting == 0 {
                        let p = st.pending.remove(i);
                        self.reply(p.id, p.op, p.reply, p.client, p.via, o);
                    }
                    o.save(Box::new(st.clone()));
                }
            }
        }
    }
}

impl Actor for TNode {
    type Msg = Msg<Peer>;
    type Timer = Timer;
    type State = TState;
    type Storage = Box<ServerState>;
    type Random = ();

    fn on_start(&self, _id: Id, storage: &Option<Self::Storage>, o: &mut Out<Self>) -> TState {
        match self {
            TNode::Server(s) => TState::Server(match storage {
                Some(saved) => (**saved).clone(),
                None => ServerState {
                    balances: s.accounts.clone(),
                    approved: vec![0; s.accounts.len()],
                    stamps: vec![(0, 0); s.accounts.len()],
                    version: 0,
                    writer: 0,
                    value: 0,
                    pending: Vec::new(),
                    next_ack: 0,
                },
            }),
            TNode::Client(c) => TState::Client(c.start(o)),
        }
    }

    fn on_msg(&self, _id: Id, state: &mut Cow<TState>, src: Id, msg: Msg<Peer>, o: &mut Out<Self>) {
        match (self, &**state) {
            (TNode::Server(s), TState::Server(st)) => {
                let mut next = st.clone();
                s.on_msg(&mut next, src, msg, o);
                if next != *st || !o.is_empty() {
                    *state.to_mut() = TState::Server(next);
                }
            }
            (TNode::Client(c), TState::Client(st)) => {
                if let Msg::Reply { id, reply } = msg {
                    let mut cs = Cow::Borrowed(st);
                    c.on_reply(&mut cs, id, reply, o);
                    if let Cow::Owned(cs) = cs {
                        *state.to_mut() = TState::Client(cs);
                    }
                }
            }
            _ => {}
        }
    }

    fn on_timeout(&self, _id: Id, state: &mut Cow<TState>, _t: &Timer, o: &mut Out<Self>) {
        if let (TNode::Client(c), TState::Client(st)) = (self, &**state) {
            let mut cs = Cow::Borrowed(st);
            c.on_timeout(&mut cs, o);
            if let Cow::Owned(cs) = cs {
                *state.to_mut() = TState::Client(cs);
            }
        }
    }
}

impl NodeTrait for TNode {
    type Peer = Peer;

    fn as_client(&self) -> Option<&Client> {
        match self {
            TNode::Client(c) => Some(c),
            TNode::Server(_) => None,
        }
    }

    fn client_state(state: &TState) -> Option<&ClientState> {
        match state {
            TState::Client(c) => Some(c),
            TState::Server(_) => None,
        }
    }

    fn client_state_mut(state: &mut TState) -> Option<&mut ClientState> {
        match state {
            TState::Client(c) => Some(c),
            TState::Server(_) => None,
        }
    }

    fn history_unread() -> bool {
        true
    }

    fn facts(&self, state: &TState) -> Vec<(&'static str, String)> {
        match (self, state) {
            (TNode::Client(c), TState::Client(s)) => c.facts(s),
            (TNode::Server(s), TState::Server(st)) => {
                let mut f = Vec::new();
                if s.kind.holds_data() {
                    if s.account_names.len() == 1 {
                        f.push(("balance", st.balances[0].to_string()));
                    } else {
                        for (n, b) in s.account_names.iter().zip(&st.balances) {
                            f.push((*n, b.to_string()));
                        }
                    }
                    if s.account_names.is_empty() || st.version > 0 {
                        f.push(("x", format!("v{}", st.version)));
                    }
                }
                if !st.pending.is_empty() {
                    let missing: u32 = st.pending.iter().map(|p| p.waiting.count_ones()).sum();
                    f.push(("acks missing", missing.to_string()));
                }
                f
            }
            _ => Vec::new(),
        }
    }

    fn describe_peer(msg: &Peer) -> String {
        match msg {
            Peer::ApplyOp { amount, .. } => format!("replicate withdraw ${amount}"),
            Peer::SetBalance { balance, stamp, .. } => {
                format!(
                    "replicate balance ${balance} (timestamp {}.{})",
                    stamp.0,
                    stamp.1 + 1
                )
            }
            Peer::Replicate {
                version,
                force: false,
                ..
            } => format!("replicate log up to v{version}"),
            Peer::Replicate { version, value, .. } => {
                format!("replicate write {}={value} (v{version})", key_name(0))
            }
            Peer::Ack { .. } => "acknowledge replication".to_string(),
            Peer::Forward { op, .. } => format!("forward {op}"),
            Peer::Answer { reply, .. } => format!("answer: {reply}"),
        }
    }

    fn lossy(msg: &Msg<Peer>) -> bool {
        !matches!(msg, Msg::Peer(_))
    }

    // A server's stamps only grow (saved with every change), so an unacknowledged balance
    // stamped no newer than the server's loses now and always will (an equal stamp is the
    // same write, delivered again on a duplicating network); clients ignore old replies.
    fn ignores_for_good(&self, state: &TState, _src: Id, msg: &Msg<Peer>) -> bool {
        match (self, state, msg) {
            (
                TNode::Server(_),
                TState::Server(st),
                Msg::Peer(Peer::SetBalance {
                    account,
                    stamp,
                    ack: None,
                    ..
                }),
            ) => st
                .stamps
                .get(*account as usize)
                .is_some_and(|mine| stamp <= mine),
            (TNode::Client(c), TState::Client(st), _) => c.ignores_for_good(st, msg),
            _ => false,
        }
    }
}

/// The model type of an interpreted topology.
pub type TopologySystem = System<TNode>;

fn servers<'a>(
    sys: &'a TopologySystem,
    s: &'a SysState<TNode>,
) -> impl Iterator<Item = (&'a str, &'a Server, &'a ServerState)> + 'a {
    sys.nodes(s).filter_map(|(n, a, st)| match (a, st) {
        (TNode::Server(srv), TState::Server(st)) if srv.kind.holds_data() => Some((n, &**srv, st)),
        _ => None,
    })
}

fn start_balances(sys: &TopologySystem) -> Vec<i16> {
    sys.actors
        .actors
        .iter()
        .find_map(|a| match a {
            TNode::Server(s) => Some(s.accounts.clone()),
            TNode::Client(_) => None,
        })
        .unwrap_or_default()
}

fn balances_text(sys: &TopologySystem, s: &SysState<TNode>) -> String {
    servers(sys, s)
        .map(|(n, srv, st)| {
            if srv.account_names.len() == 1 {
                format!("{n} holds {}", st.balances[0])
            } else {
                let each: Vec<String> = srv
                    .account_names
                    .iter()
                    .zip(&st.balances)
                    .map(|(a, b)| format!("{a} {b}"))
                    .collect();
                format!("{n} holds {}", each.join(" "))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn data_text(sys: &TopologySystem, s: &SysState<TNode>) -> String {
    if start_balances(sys).is_empty() {
        servers(sys, s)
            .map(|(n, _, st)| format!("{n} holds {} at v{}", key_name(0), st.version))
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        balances_text(sys, s)
    }
}

fn approved_by_clients(sys: &TopologySystem, s: &SysState<TNode>, account: u8) -> i16 {
    sys.history(s)
        .iter()
        .filter_map(|e| match (e.op, e.outcome) {
            (Op::Withdraw { account: a, amount }, Outcome::Replied(Reply::Approved { .. }))
                if a == account =>
            {
                Some(amount)
            }
            _ => None,
        })
        .sum()
}

fn conserved(sys: &TopologySystem, s: &SysState<TNode>) -> bool {
    // Replication has settled when no message is on its way that its server will still
    // read (a balance stamped older than the server's never will be). A forward and its
    // answer are a request on its way, not replication.
    if sys.in_flight(s).any(|e| {
        matches!(e.msg, Msg::Peer(p) if !matches!(p, Peer::Forward { .. } | Peer::Answer { .. }))
            && !sys.ignored_for_good(s, e.src, e.dst, e.msg)
    }) {
        return true;
    }
    let start = start_balances(sys);
    let all: Vec<_> = servers(sys, s).collect();
    start.iter().enumerate().all(|(a, b)| {
        let approved: i16 = all.iter().map(|(_, _, st)| st.approved[a]).sum();
        all.iter().all(|(_, _, st)| st.balances[a] == b - approved)
    })
}

/// The library property with this name, for an interpreted topology.
pub fn property(name: &str) -> Option<Property<TopologySystem>> {
    Some(match name {
        "read_your_writes" => session::read_your_writes_property::<TNode>(),
        "monotonic_reads" => session::monotonic_reads_property::<TNode>(),
        "monotonic_writes" => session::monotonic_writes_property::<TNode>(),
        "writes_follow_reads" => session::writes_follow_reads_property::<TNode>(),
        session::LINEARIZABLE => session::linearizable_property::<TNode>(),
        "replicas_converge" => Property {
            name: "replicas_converge",
            claim: "when nothing is left to deliver, every database and cache holds the same data",
            kind: Kind::Eventually,
            client_steps: ClientSteps::Invisible,
            check: |sys, s| {
                let d: Vec<_> = servers(sys, s).map(|(_, _, st)| (&st.balances, st.version, st.value)).collect();
                d.windows(2).all(|w| w[0] == w[1])
            },
            values: data_text,
        },
        "no_negative_balance" => Property {
            name: "no_negative_balance",
            claim: "no account balance is ever below zero",
            kind: Kind::Always,
            client_steps: ClientSteps::Invisible,
            check: |sys, s| servers(sys, s).all(|(_, _, st)| st.balances.iter().all(|b| *b >= 0)),
            values: balances_text,
        },
        "money_conserved" => Property {
            name: "money_conserved",
            claim: "once replication settles, every database holds the starting balance minus the approved withdrawals",
            kind: Kind::Always,
            client_steps: ClientSteps::Invisible,
            check: conserved,
            values: |sys, s| {
                let start = start_balances(sys);
                let approved: Vec<i16> = (0..start.len())
                    .map(|a| servers(sys, s).map(|(_, _, st)| st.approved[a]).sum())
                    .collect();
                let owed: Vec<String> = start
                    .iter()
                    .zip(&approved)
                    .map(|(b, a)| format!("${a} approved out of ${b}, so every database should hold {}", b - a))
                    .collect();
                format!("{}; {}", owed.join("; "), balances_text(sys, s))
            },
        },
        "approvals_within_funds" => Property {
            name: "approvals_within_funds",
            claim: "the withdrawals clients saw approved never add up to more than the starting balance",
            kind: Kind::Always,
            client_steps: ClientSteps::Stable,
            check: |sys, s| {
                start_balances(sys)
                    .iter()
                    .enumerate()
                    .all(|(a, b)| approved_by_clients(sys, s, a as u8) <= *b)
            },
            values: |sys, s| {
                start_balances(sys)
                    .iter()
                    .enumerate()
                    .map(|(a, b)| {
                        format!(
                            "clients were approved ${} against a starting balance of ${b}",
                            approved_by_clients(sys, s, a as u8)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            },
        },
        _ => return None,
    })
}

impl Topology {
    /// The model of one variant, with the file's network and the given faults.
    pub fn build(&self, settings: &Settings, faults: Faults) -> TopologySystem {
        let ids: Vec<Id> = (0..self.nodes.len()).map(Id::from).collect();
        let account_names: Vec<&'static str> = self
            .accounts
            .iter()
            .map(|(n, _)| &*Box::leak(n.clone().into_boxed_str()))
            .collect();
        let balances: Vec<i16> = self.accounts.iter().map(|(_, b)| *b).collect();
        let mut writer_index = 0u8;
        let mut actors: Vec<(String, TNode)> = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let mut replicate_to = Vec::new();
            if n.kind == NodeKind::Master {
                replicate_to.extend(
                    self.nodes
                        .iter()
                        .enumerate()
                        .filter(|(j, m)| *j != i && m.kind == NodeKind::Master)
                        .map(|(j, _)| ids[j]),
                );
            }
            if n.kind.writable() {
                replicate_to.extend(
                    self.nodes
                        .iter()
                        .enumerate()
                        .filter(|(_, m)| m.replica_of == Some(i))
                        .map(|(j, _)| ids[j]),
                );
            }
            let index = if n.kind.writable() {
                writer_index += 1;
                writer_index - 1
            } else {
                0
            };
            actors.push((
                n.name.clone(),
                TNode::Server(Box::new(Server {
                    kind: n.kind,
                    id: ids[i],
                    index,
                    replicate_to,
                    source: n.replica_of.or(n.backend).map(|j| ids[j]),
                    routes: n.writes_to.zip(n.reads_to).map(|(w, r)| (ids[w], ids[r])),
                    home: settings.home.map(|h| ids[h]),
                    sync: settings.sync,
                    send: settings.send,
                    update: settings.cache_update,
                    accounts: balances.clone(),
                    account_names: account_names.clone(),
                })),
            ));
        }
        for (c, spec) in self.clients.iter().enumerate() {
            let mut wrote = false;
            let workload = spec
                .workload
                .iter()
                .map(|o| {
                    let mut dst = ids[o.to];
                    if let (Op::Read { .. }, true, Some(r)) =
                        (o.op, wrote, settings.reads_after_write)
                    {
                        dst = ids[r];
                    }
                    if matches!(o.op, Op::Write { .. } | Op::Withdraw { .. }) {
                        wrote = true;
                    }
                    Request {
                        dst,
                        op: o.op,
                        label: Box::leak(o.label.clone().into_boxed_str()),
                    }
                })
                .collect();
            let policy = RetryPolicy {
                timeout: settings.timeout.unwrap_or(spec.policy.timeout),
                retries: settings.retries.unwrap_or(spec.policy.retries),
                session_token: settings.session_token.unwrap_or(spec.policy.session_token),
            };
            let policy = RetryPolicy {
                timeout: policy.timeout || policy.retries > 0,
                ..policy
            };
            actors.push((
                spec.name.clone(),
                TNode::Client(Client {
                    index: c as u8,
                    workload,
                    policy,
                }),
            ));
        }
        let properties = self.properties.iter().filter_map(|p| property(p)).collect();
        // App servers keep nothing: they route requests and relay answers.
        let apps = (self.nodes.iter().enumerate())
            .filter(|(_, n)| n.kind == NodeKind::App)
            .map(|(i, _)| usize::from(ids[i]))
            .collect();
        System::new(actors, faults, properties).with_stateless(apps)
    }

    /// The bounds a check of this file uses unless flags change the faults.
    pub fn default_bounds(&self) -> Bounds {
        Bounds {
            clients: self.clients.len() as u8,
            ops: self
                .clients
                .iter()
                .map(|c| c.workload.len())
                .max()
                .unwrap_or(0) as u8,
            servers: self.nodes.len() as u8,
            balance: self.accounts.first().map_or(0, |a| a.1),
            network: self.network,
            loss: self.loss,
            crashes: self.crashes,
        }
    }

    /// The variant with this name.
    pub fn variant(&self, name: &str) -> Option<&VariantSpec> {
        self.variants.iter().find(|v| v.name == name)
    }

    /// Leaks the topology into an [`Architecture`] (the catalog's interface wants
    /// `'static` names; a process loads few files).
    pub fn into_architecture(self) -> &'static FileArchitecture {
        let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
        let variants: Vec<Variant> = self
            .variants
            .iter()
            .map(|v| Variant {
                name: leak(&v.name),
                about: leak(&v.about),
                expect: Box::leak(v.expect.clone().into_boxed_slice()),
            })
            .collect();
        Box::leak(Box::new(FileArchitecture {
            name: leak(&self.path),
            about: leak(&self.about),
            variants: Box::leak(variants.into_boxed_slice()),
            topology: self,
        }))
    }
}

/// A topology file as an architecture of the catalog.
pub struct FileArchitecture {
    name: &'static str,
    about: &'static str,
    variants: &'static [Variant],
    /// The validated file.
    pub topology: Topology,
}

impl FileArchitecture {
    fn system(&self, variant: &Variant, bounds: &Bounds) -> Result<TopologySystem, Error> {
        let d = self.topology.default_bounds();
        for (flag, given, fixed) in [
            ("clients", i64::from(bounds.clients), i64::from(d.clients)),
            ("ops", i64::from(bounds.ops), i64::from(d.ops)),
            ("servers", i64::from(bounds.servers), i64::from(d.servers)),
            ("balance", i64::from(bounds.balance), i64::from(d.balance)),
        ] {
            if given != fixed {
                return Err(Error::BadInput(format!(
                    "--{flag} {given} does not apply to a topology file: {} lists its clients, workloads, servers and balances; edit the file instead",
                    self.name
                )));
            }
        }
        Bounds::require(
            "loss",
            bounds.loss.into(),
            0,
            8,
            "lost client messages per run",
        )?;
        Bounds::require(
            "crashes",
            bounds.crashes.into(),
            0,
            i64::from(d.servers) - 1,
            "servers down at once; one must stay up",
        )?;
        let spec = self.topology.variant(variant.name).ok_or_else(|| {
            Error::BadInput(format!(
                "unknown variant '{}' of {}",
                variant.name, self.name
            ))
        })?;
        Ok(self.topology.build(&spec.settings, bounds.faults()))
    }
}

impl Architecture for FileArchitecture {
    fn name(&self) -> &'static str {
        self.name
    }

    fn about(&self) -> &'static str {
        self.about
    }

    fn variants(&self) -> &'static [Variant] {
        self.variants
    }

    fn properties(&self) -> Vec<PropertyInfo> {
        self.topology
            .properties
            .iter()
            .filter_map(|p| property(p))
            .map(|p| p.info())
            .collect()
    }

    fn default_bounds(&self) -> Bounds {
        self.topology.default_bounds()
    }

    fn build(&self, variant: &Variant, bounds: &Bounds) -> Result<Box<dyn Buildable>, Error> {
        Ok(Box::new(self.system(variant, bounds)?))
    }
}

/// Loads a topology file as an architecture.
pub fn load_architecture(path: &Path) -> Result<&'static FileArchitecture, Error> {
    Ok(load(path)?.into_architecture())
}

/// The architecture a `check`/`explore` argument names: a topology file (a path ending in
/// `.toml`, a path with a `/`, or an existing file that is not a built-in model's name) or
/// a built-in model.
pub fn resolve(arg: &str) -> Result<&'static dyn Architecture, Error> {
    let path = Path::new(arg);
    if arg.ends_with(".toml") || arg.contains('/') {
        return Ok(load_architecture(path)?);
    }
    match crate::models::find(arg) {
        Ok(a) => Ok(a),
        Err(_) if path.exists() => Ok(load_architecture(path)?),
        Err(e) => Err(Error::BadInput(format!(
            "{e}; or the path of a topology file (.toml)"
        ))),
    }
}
