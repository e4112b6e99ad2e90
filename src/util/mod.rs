//! Small leaves every layer may use: text cleaning and widths, redaction, units, URI encoding,
//! exit codes, logging, signals, bounded file reads and the HTTP accept loop.

pub mod accept;
pub mod error;
pub mod file;
pub mod logging;
pub mod redact;
pub mod rfc3986;
pub mod signals;
pub mod text;
pub mod units;
