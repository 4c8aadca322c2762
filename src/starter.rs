//! `splitbrain new NAME`: a commented starter topology file that checks cleanly.

use crate::error::Error;
use std::path::{Path, PathBuf};

/// The starter topology: an app server in front of a primary and a replica, checked with
/// asynchronous and synchronous replication.
pub const STARTER: &str = r#"# A splitbrain topology: check it with `splitbrain check THIS_FILE.toml`.
# Every key is explained below; `splitbrain check` rejects unknown keys with the valid ones.

about = "an app server in front of a primary and a read replica"

# The claims to check. Choose from: read_your_writes, monotonic_reads, monotonic_writes,
# writes_follow_reads, linearizable (what clients read and wrote), replicas_converge,
# and for [accounts] with withdrawals: no_negative_balance, money_conserved,
# approvals_within_funds.
properties = ["read_your_writes", "monotonic_reads", "replicas_converge"]

[network]
semantics = "unordered"   # ordered | unordered | duplicating
loss = 0                  # client requests or replies lost per run (0 to 8)
crashes = 0               # servers down at the same time (they restart from disk)

# How a writer (primary or master) sends its writes to replicas and other masters.
[replication]
mode = "async"            # async: reply first | sync: reply once every replica has it
send = "state"            # state: newest version wins | ops: apply every operation

# Servers. kind: primary (takes writes), master (several take writes), replica
# (replica_of = a primary or master), app (writes_to / reads_to), cache (backend).
[[node]]
name = "app"
kind = "app"
writes_to = "primary"
reads_to = "replica"

[[node]]
name = "primary"
kind = "primary"

[[node]]
name = "replica"
kind = "replica"
replica_of = "primary"

# Clients send their workload in order, one request at a time. op: write | read (the
# register x), withdraw (account, amount). Optional: timeout, retries, session_token.
[[client]]
name = "jose"
workload = [
  { op = "write", to = "app", label = "profile update" },
  { op = "read", to = "app", label = "profile page" },
]

# Variants: each can change [replication], [routing] or clients = { ... }, and states the
# verdict every property is expected to get ("holds" or "violated").
[[variant]]
name = "async"
about = "the replica may lag: jose may not see his own update"
expect = { read_your_writes = "violated", monotonic_reads = "holds", replicas_converge = "holds" }

[[variant]]
name = "sync"
about = "the primary replies once the replica has the write"
replication = { mode = "sync" }
expect = { read_your_writes = "holds", monotonic_reads = "holds", replicas_converge = "holds" }
"#;

/// Writes the starter topology to `NAME.toml` (or `NAME` if it already ends in `.toml`);
/// an existing file is never overwritten.
pub fn write(name: &Path) -> Result<PathBuf, Error> {
    let shown = name.display().to_string();
    if shown.is_empty() {
        return Err(Error::BadInput(
            "give a name for the new topology, e.g. `splitbrain new my-topology`".into(),
        ));
    }
    if shown.chars().any(char::is_control) {
        return Err(Error::BadInput(format!(
            "{shown:?}: a topology name may not hold control characters (newlines, escapes)"
        )));
    }
    let stem = name.file_name().map(|n| n.to_string_lossy().into_owned());
    if shown.ends_with('/') || stem.as_deref().is_none_or(|n| n.is_empty() || n == ".toml") {
        return Err(Error::BadInput(format!(
            "{shown}: give a file name, not a folder, e.g. `splitbrain new {}my-topology`",
            if shown.ends_with('/') {
                shown.as_str()
            } else {
                ""
            }
        )));
    }
    let path = if shown.ends_with(".toml") {
        name.to_path_buf()
    } else {
        PathBuf::from(format!("{shown}.toml"))
    };
    crate::files::write_output(
        &path,
        STARTER.as_bytes(),
        crate::files::Existing::Keep,
        None,
    )?;
    Ok(path)
}
