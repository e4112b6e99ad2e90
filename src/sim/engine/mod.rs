//! The scenario engine: tasks moving through their stages with WAL written on the source,
//! shipped over a network of limited throughput, replayed at a limited rate, with disconnect
//! episodes; advanced lazily in fixed simulated ticks, so a seed gives the same run.
//!
//! - [`world`]: every instance and task, and the engine as the simulator's task source;
//! - [`task`]: one task's simulation, step by step;
//! - [`view`]: a task as the API shows it;
//! - [`timeline`]: the source's write history and the stage transitions' Detail lines.

pub mod task;
pub mod timeline;
pub mod view;
pub mod world;
mod writes;

pub use task::{SourceReading, TICK, TaskSim};
pub use view::conninfo;
pub use world::{MAX_TASKS_PER_INSTANCE, ScenarioSource, World};

#[cfg(test)]
mod tests;
