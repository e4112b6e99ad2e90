//! migtop: a terminal dashboard for ApsaraDB RDS for PostgreSQL cloud migrations.

pub mod aliyun;
pub mod model;
pub mod redact;
