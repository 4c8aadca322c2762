//! The client history: every request a client made and what it saw come back.
//!
//! Clients record one [`Event`] per attempt. Properties over what clients observed
//! (exactly-once, session guarantees) read this history, so any model whose clients
//! use [`crate::client`] gets them without extra work.

use serde::Serialize;
use std::fmt;

/// One operation a client asks the system to perform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Op {
    /// Take `amount` dollars out of `account`, if the balance allows it.
    Withdraw {
        /// The account index.
        account: u8,
        /// Dollars to take out.
        amount: i16,
    },
    /// Move `amount` dollars from account `from` to account `to`.
    Transfer {
        /// Paying account.
        from: u8,
        /// Receiving account.
        to: u8,
        /// Dollars moved.
        amount: i16,
    },
    /// Read register `key`.
    Read {
        /// Register index.
        key: u8,
    },
    /// Write `value` to register `key`.
    Write {
        /// Register index.
        key: u8,
        /// Value written (models keep written values distinct).
        value: u8,
    },
    /// Fetch static file `file`.
    Get {
        /// File index.
        file: u8,
    },
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Withdraw { amount, .. } => write!(f, "withdraw ${amount}"),
            Op::Transfer { amount, .. } => write!(f, "transfer ${amount}"),
            Op::Read { key } => write!(f, "read {}", key_name(*key)),
            Op::Write { key, value } => write!(f, "write {}={value}", key_name(*key)),
            Op::Get { file } => write!(f, "GET /{}", file_name(*file)),
        }
    }
}

/// What a server answered to an [`Op`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Reply {
    /// The withdrawal was approved; the balance the server saw afterwards.
    Approved {
        /// Balance after the withdrawal, as the answering server saw it.
        balance: i16,
    },
    /// The withdrawal was declined for lack of funds.
    Declined {
        /// Balance the answering server saw.
        balance: i16,
    },
    /// The value of a register and the version it carries (0: never written).
    Value {
        /// The value read (0 when never written).
        value: u8,
        /// Version of the value: higher is newer.
        version: u8,
    },
    /// A write was accepted as this version.
    Written {
        /// Version the write got.
        version: u8,
    },
    /// The content of a static file, as a version number of that file.
    File {
        /// Which file the content belongs to.
        file: u8,
        /// Which version of its content.
        version: u8,
    },
    /// The system answered with an error (it could not complete the request).
    Error,
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Approved { balance } => write!(f, "approved (balance ${balance})"),
            Reply::Declined { balance } => write!(f, "declined (balance ${balance})"),
            Reply::Value { value, version } => write!(f, "value {value} (version {version})"),
            Reply::Written { version } => write!(f, "written (version {version})"),
            Reply::File { file, version } => {
                write!(f, "content of /{} v{version}", file_name(*file))
            }
            Reply::Error => write!(f, "error"),
        }
    }
}

/// The name of register `key` in stories ("x", "y", ...).
pub fn key_name(key: u8) -> String {
    match key {
        0 => "x".into(),
        1 => "y".into(),
        2 => "z".into(),
        k => format!("k{k}"),
    }
}

/// The name of static file `file` in stories ("index.html", ...).
pub fn file_name(file: u8) -> String {
    match file {
        0 => "index.html".into(),
        1 => "logo.png".into(),
        2 => "app.js".into(),
        f => format!("file{f}"),
    }
}

/// Identifies one attempt of one request of one client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ReqId {
    /// Index of the client among the model's clients.
    pub client: u8,
    /// Position of the request in the client's workload.
    pub seq: u8,
    /// 0 for the first send, 1 for the first retry, and so on.
    pub attempt: u8,
}

/// How an attempt ended, as far as the client knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Outcome {
    /// Sent; nothing has come back yet.
    Pending,
    /// The server's reply arrived.
    Replied(Reply),
    /// The client gave up waiting (the request may or may not have happened).
    TimedOut,
}

/// One attempt of a client request and its outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Event {
    /// Which attempt this is.
    pub id: ReqId,
    /// What was asked.
    pub op: Op,
    /// What came of it.
    pub outcome: Outcome,
}

/// The whole client history of one state: the events of every client, in client order.
pub type History = Vec<Event>;

impl crate::tell::Tell for Op {
    fn tell(&self) -> String {
        self.to_string()
    }
}

impl crate::tell::Tell for Reply {
    fn tell(&self) -> String {
        self.to_string()
    }
}
