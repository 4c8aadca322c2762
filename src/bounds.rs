//! Bounds: the size of the system a check explores (clients, operations, servers,
//! starting balance) and the faults it may suffer.

use crate::error::Error;
use crate::system::{Faults, NetworkKind};
use serde::{Deserialize, Serialize};

/// The size of a checked configuration. Each model says what it accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Bounds {
    /// Number of clients.
    pub clients: u8,
    /// Operations in each client's workload.
    pub ops: u8,
    /// Number of servers (masters, replicas...).
    pub servers: u8,
    /// Starting balance of each account, in dollars.
    pub balance: i16,
    /// Network semantics.
    pub network: NetworkKind,
    /// Messages the network may lose in one run.
    pub loss: u8,
    /// Servers that may be down at the same time.
    pub crashes: u8,
}

impl Bounds {
    /// The fault part of the bounds.
    pub fn faults(&self) -> Faults {
        Faults {
            network: self.network,
            loss: self.loss,
            crashes: self.crashes,
        }
    }

    /// One line for reports: `clients=1 ops=2 servers=2 balance=10 network=unordered loss=0 crashes=0`.
    pub fn describe(&self) -> String {
        format!(
            "clients={} ops={} servers={} balance={} network={} loss={} crashes={}",
            self.clients,
            self.ops,
            self.servers,
            self.balance,
            self.network.as_str(),
            self.loss,
            self.crashes
        )
    }

    /// Checks that `value` of bound `name` lies in `lo..=hi`, with a message that says why not.
    pub fn require(name: &str, value: i64, lo: i64, hi: i64, why: &str) -> Result<(), Error> {
        if value < lo {
            return Err(Error::BadInput(format!(
                "--{name} {value} is too small: this model needs at least {lo}"
            )));
        }
        if value > hi {
            return Err(Error::BadInput(format!(
                "--{name} {value} is too large: this model accepts at most {hi} ({why})"
            )));
        }
        Ok(())
    }
}
