//! migtop: a terminal dashboard for ApsaraDB RDS for PostgreSQL cloud migrations.

pub mod aliyun;
pub mod cli;
pub mod lab;
pub mod model;
pub mod output;
pub mod probe;
pub mod redact;
pub mod sim;
pub mod status;
pub mod units;
pub mod watch;
