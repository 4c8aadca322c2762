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
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Withdraw { amount, .. } => write!(f, "withdraw ${amount}"),
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
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Approved { balance } => write!(f, "approved (balance ${balance})"),
            Reply::Declined { balance } => write!(f, "declined (balance ${balance})"),
        }
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
