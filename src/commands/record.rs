//! `--record FILE`: the recording opened before anything is polled, so a path that cannot be
//! written is a usage error up front, not a surprise later.

use std::path::Path;

use crate::recording::Recorder;
use crate::util::error::UsageError;

/// The recorder for `--record`, if given.
pub fn open(path: Option<&Path>) -> Result<Option<Recorder>, UsageError> {
    path.map(|p| Recorder::open(p).map_err(|e| UsageError(e.to_string())))
        .transpose()
}
