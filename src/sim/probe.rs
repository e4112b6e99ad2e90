//! The simulator's own sources as a source probe (`migtop demo`): each instance's migration
//! source reports its WAL position and next transaction id as a real one would, every sample
//! labelled `simulated`, so the demo shows the whole readiness ladder, DRAINED included.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::future::BoxFuture;

use super::engine::ScenarioSource;
use crate::probe::{Probe, ProbeError, ProbeReport, SourceSample};

/// What the simulated probe calls its target.
pub const TARGET: &str = "the simulator's own sources (simulated)";

/// PostgreSQL's default `wal_sender_timeout`, which the simulated sources keep.
const WAL_SENDER_TIMEOUT: Duration = Duration::from_secs(60);

/// Reads the scenario engine's sources.
pub struct SimulatedProbe {
    engine: Arc<ScenarioSource>,
}

impl std::fmt::Debug for SimulatedProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SimulatedProbe")
    }
}

impl SimulatedProbe {
    /// A probe of `engine`'s sources.
    pub fn new(engine: Arc<ScenarioSource>) -> SimulatedProbe {
        SimulatedProbe { engine }
    }

    /// One reading of `instance`'s source.
    pub fn read(&self, instance: &str) -> ProbeReport {
        let target = format!("simulated source of {instance}");
        let result = match self.engine.source_reading(instance) {
            Some(r) => Ok(SourceSample {
                at: Utc::now(),
                lsn: r.lsn,
                in_recovery: false,
                timeline: Some(1),
                server_version: None,
                round_trip_ms: 0,
                next_xid: Some(r.next_xid),
                xid_in_progress: Some(r.xid_in_progress),
                wal_sender_timeout: Some(WAL_SENDER_TIMEOUT),
                simulated: true,
            }),
            None => Err(ProbeError::Query {
                target: target.clone(),
                reason: "the simulator has no such instance".into(),
            }),
        };
        ProbeReport { target, result }
    }
}

impl Probe for SimulatedProbe {
    fn report<'a>(&'a mut self, instance: &'a str) -> BoxFuture<'a, ProbeReport> {
        let report = self.read(instance);
        Box::pin(async move { report })
    }

    fn target(&self) -> &str {
        TARGET
    }
}
