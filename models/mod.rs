//! The catalog: one file per architecture, registered here.
//!
//! Adding an architecture: write `models/<name>.rs` (actors, messages, properties,
//! variants, an [`Architecture`] impl), add it below, and generate its proofs with
//! `BLESS=1 cargo test --test proofs`.

use crate::architecture::Architecture;
use crate::error::Error;

pub mod central_db;
pub mod leaderless;
pub mod master_master;
pub mod read_replica;
pub mod stateless;

/// Every architecture of the catalog, in the article's order.
pub fn catalog() -> Vec<&'static dyn Architecture> {
    vec![
        &stateless::Stateless,
        &central_db::CentralDb,
        &read_replica::ReadReplica,
        &master_master::MasterMaster,
        &leaderless::Leaderless,
    ]
}

/// The architecture with this name, or an error listing the valid ones.
pub fn find(name: &str) -> Result<&'static dyn Architecture, Error> {
    catalog()
        .into_iter()
        .find(|a| a.name() == name)
        .ok_or_else(|| {
            Error::BadInput(format!(
                "unknown model '{name}'; valid choices: {}",
                catalog()
                    .iter()
                    .map(|a| a.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}
