//! The sub-commands: each turns its parsed flags into the libraries' plain configurations,
//! runs them and returns the exit code. Nothing below `commands` knows about the CLI.

pub mod api;
pub mod config;
pub mod config_file;
pub mod cutover;
pub mod dashboard_config;
pub mod demo;
pub mod docs;
pub mod exporter;
pub mod lab;
pub mod loss_gate;
pub mod metrics_endpoint;
pub mod output;
pub mod record;
pub mod replay;
pub mod report;
pub mod script;
pub mod simulate;
pub mod status;
pub mod switchover;
pub mod try_line;
pub mod wait;
pub mod watch;
