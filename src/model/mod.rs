//! The domain: tasks, stages, LSNs, replication info and the precheck log.

pub mod lsn;
pub mod precheck;
pub mod replication;
pub mod stage;
pub mod task;
pub mod value;
pub mod xml;

pub use lsn::Lsn;
pub use precheck::{DetailLine, Precheck, Severity, SeverityCounts};
pub use replication::ReplicationInfo;
pub use stage::{ReplicationState, Stage};
pub use task::{Page, Source, Task};
