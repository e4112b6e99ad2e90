//! migtop: a terminal dashboard for PostgreSQL cutovers, first of all ApsaraDB RDS for
//! PostgreSQL cloud migrations. ARCHITECTURE.md is the map.

pub mod aliyun;
pub mod app;
pub mod cli;
pub mod commands;
pub mod dashboard;
pub mod lab;
pub mod metrics;
pub mod model;
pub mod poller;
pub mod probe;
pub mod recording;
pub mod sim;
pub mod ui;
pub mod util;
pub mod verdict;
