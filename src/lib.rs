//! migtop: a terminal dashboard for ApsaraDB RDS for PostgreSQL cloud migrations.

pub mod aliyun;
pub mod app;
pub mod cli;
pub mod commands;
pub mod dashboard;
pub mod error;
pub mod history;
pub mod judge;
pub mod lab;
pub mod logging;
pub mod model;
pub mod output;
pub mod poller;
pub mod probe;
pub mod readiness;
pub mod recording;
pub mod redact;
pub mod replay;
pub mod report;
pub mod rfc3986;
pub mod signals;
pub mod sim;
pub mod tui;
pub mod ui;
pub mod units;
pub mod view;
