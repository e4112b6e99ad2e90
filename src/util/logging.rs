//! Where tracing output goes: a file under the dashboard (never the screen it draws on), or
//! stderr for the servers (`simulate`, `lab --serve`).

use std::io::IsTerminal;
use std::path::Path;

use tracing_subscriber::EnvFilter;

use crate::util::error::UsageError;

/// Sends tracing output to `path`, filtered by `MIGTOP_LOG` (default `migtop=info`). Without a
/// path nothing is logged.
pub fn to_file(path: Option<&Path>) -> Result<(), UsageError> {
    let Some(path) = path else { return Ok(()) };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| UsageError(format!("cannot open the log file {}: {e}", path.display())))?;
    let filter =
        EnvFilter::try_from_env("MIGTOP_LOG").unwrap_or_else(|_| EnvFilter::new("migtop=info"));
    // try_init also forwards the `log` crate's records (reqwest, rustls) into the file.
    let _ = tracing_subscriber::util::SubscriberInitExt::try_init(file_subscriber(file, filter));
    Ok(())
}

/// The subscriber `--log-file` installs: plain text (no colours) into `file`, filtered.
pub fn file_subscriber(
    file: std::fs::File,
    filter: EnvFilter,
) -> impl tracing::Subscriber + Send + Sync {
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .finish()
}

/// Sends tracing output to stderr (coloured on a terminal), filtered by `RUST_LOG`, else by
/// `default_filter`.
pub fn to_stderr(default_filter: &str) {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter)),
        )
        .try_init();
}
