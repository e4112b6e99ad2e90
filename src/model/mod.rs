//! The domain: tasks, stages, LSNs, replication info, the precheck log (with its base
//! backup progress and the zone of its times).

pub mod lsn;
pub mod precheck;
pub mod progress;
pub mod replication;
pub mod stage;
pub mod task;
pub mod value;
pub mod xml;
pub mod zone;

pub use lsn::Lsn;
pub use precheck::{DetailLine, Precheck, Severity, SeverityCounts};
pub use progress::{BackupProgress, BackupReading};
pub use replication::ReplicationInfo;
pub use stage::{ReplicationState, Stage};
pub use task::{Page, Source, Task, TaskKind};
pub use zone::DetailZone;
