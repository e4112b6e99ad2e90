//! The simulator's own sources as a source probe (`migtop demo`): each instance's migration
//! source reports its WAL position and next transaction id as a real one would, every sample
//! labelled `simulated`, so the demo shows the whole readiness ladder, DRAINED included.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::future::BoxFuture;

use super::engine::ScenarioSource;
use crate::probe::checklist::{Checklist, Finding};
use crate::probe::{Probe, ProbeError, ProbeReport, SourceSample, checklist_due};

/// What the simulated probe calls its target.
pub const TARGET: &str = "the simulator's own sources (simulated)";

/// PostgreSQL's default `wal_sender_timeout`, which the simulated sources keep.
const WAL_SENDER_TIMEOUT: Duration = Duration::from_secs(60);

/// Reads the scenario engine's sources.
pub struct SimulatedProbe {
    engine: Arc<ScenarioSource>,
    /// When each instance's checklist was last read, and its xid state then.
    checklist_read: HashMap<String, (Instant, Option<bool>)>,
}

impl std::fmt::Debug for SimulatedProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SimulatedProbe")
    }
}

impl SimulatedProbe {
    /// A probe of `engine`'s sources.
    pub fn new(engine: Arc<ScenarioSource>) -> SimulatedProbe {
        SimulatedProbe {
            engine,
            checklist_read: HashMap::new(),
        }
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
        ProbeReport {
            target,
            result,
            checklist: None,
        }
    }

    /// The checklist of `instance`'s source: the scenario's items, and while the source
    /// writes, the session that does.
    pub fn checklist(&self, instance: &str, writing: bool) -> Checklist {
        let mut items = self.engine.checklist(instance);
        if writing {
            items.push(Finding::XidSession {
                pid: 48213,
                user: Some("app".into()),
                application: Some("orders-api".into()),
                client: Some("10.0.3.17".into()),
                age_secs: None,
                query: Some("INSERT INTO orders (customer_id, total) VALUES ($1, $2)".into()),
            });
        }
        let mut databases: Vec<String> = items
            .iter()
            .filter_map(|i| match i {
                Finding::Unlogged { database, .. } => Some(database.clone()),
                _ => None,
            })
            .collect();
        databases.push("postgres".into());
        databases.sort();
        databases.dedup();
        let mut c = Checklist::new(Utc::now(), databases, items);
        c.simulated = true;
        c
    }
}

impl Probe for SimulatedProbe {
    fn report<'a>(&'a mut self, instance: &'a str) -> BoxFuture<'a, ProbeReport> {
        let mut report = self.read(instance);
        if let Ok(s) = &report.result {
            let last = self
                .checklist_read
                .get(instance)
                .map(|(at, then)| (at.elapsed(), *then));
            if checklist_due(last, s.xid_in_progress) {
                self.checklist_read
                    .insert(instance.to_string(), (Instant::now(), s.xid_in_progress));
                let writing = s.xid_in_progress == Some(true);
                report.checklist = Some(Box::new(self.checklist(instance, writing)));
            }
        }
        Box::pin(async move { report })
    }

    fn target(&self) -> &str {
        TARGET
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::checklist::Severity;
    use crate::sim::ManualClock;
    use crate::sim::scenario::Scenario;

    #[tokio::test]
    async fn the_demo_lends_the_scenarios_checklist_once_then_now_and_then() {
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let engine = Arc::new(ScenarioSource::new(&Scenario::builtin(), 1, clock));
        let mut p = SimulatedProbe::new(engine);
        let crm = "pgm-bp1demo00crm02";
        let first = p.report(crm).await;
        let c = first.checklist.expect("read at start");
        assert!(c.simulated);
        assert_eq!(c.count(Severity::LosesData), 1, "{c:#?}");
        assert_eq!(c.count(Severity::BreaksConsumers), 1, "{c:#?}");
        assert!(c.databases.contains(&"crm".to_string()));
        assert!(p.report(crm).await.checklist.is_none(), "not on every poll");
        // Another instance's source has its own.
        let log = p.report("pgm-bp1demo00log03").await.checklist.unwrap();
        assert_eq!(log.count(Severity::LosesData), 0);
        // While the source writes, the session that does is named.
        assert_eq!(p.checklist(crm, true).count(Severity::BlocksDrained), 1);
    }
}
