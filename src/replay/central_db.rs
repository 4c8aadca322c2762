//! central-db on PostgreSQL (not yet).

use super::RealRun;
use crate::error::Error;
use crate::trace::Trace;

/// Replays `trace` (of central-db) under `variant` on PostgreSQL.
pub fn replay(_trace: &Trace, _variant: &str, _property: &str) -> Result<RealRun, Error> {
    Err(Error::BadInput("central-db replay: not yet".into()))
}
