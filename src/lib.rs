//! migtop: a terminal dashboard for ApsaraDB RDS for PostgreSQL cloud migrations.

pub mod aliyun;
pub mod app;
pub mod cli;
pub mod exporter;
pub mod history;
pub mod lab;
pub mod metrics;
pub mod model;
pub mod output;
pub mod poller;
pub mod probe;
pub mod readiness;
pub mod redact;
pub mod sim;
pub mod status;
pub mod tui;
pub mod ui;
pub mod units;
pub mod watch;
