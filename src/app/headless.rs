//! Judging tasks without a screen (`status`, `wait`, `switchover`): the dashboard's own state
//! ([`App`]) fed poll results, so a verdict means exactly what it means on the dashboard,
//! whatever rules `readiness` holds. Nothing here does I/O.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::app::{Action, App, AppConfig, TaskEntry};
use crate::poller::{PollEvent, PollResult};
use crate::verdict::readiness::ReadinessConfig;

/// The dashboard's state, headless.
#[derive(Debug, Clone)]
pub struct Judge {
    app: App,
}

impl Judge {
    /// A judge of `instances` polled every `interval` (staleness is judged against it), with
    /// the thresholds of `readiness`; `probe_target` (the DSN, redacted) when the source is
    /// read after every successful poll.
    pub fn new(
        instances: Vec<String>,
        interval: Duration,
        readiness: ReadinessConfig,
        probe_target: Option<String>,
        now: DateTime<Utc>,
    ) -> Judge {
        let mut config = AppConfig::new(instances);
        config.interval = interval;
        config.readiness = readiness;
        config.bell = false;
        config.source_probe = probe_target;
        Judge {
            app: App::new(config, now),
        }
    }

    /// Takes in one finished poll, as the dashboard does.
    pub fn feed(&mut self, poll: PollResult) {
        self.app.update(Action::Poll(PollEvent::Finished(poll)));
    }

    /// Moves the clock (ages, staleness) to `now`.
    pub fn tick(&mut self, now: DateTime<Utc>) {
        self.app.update(Action::Tick(now));
    }

    /// The dashboard state itself (e.g. for metrics).
    pub fn app(&self) -> &App {
        &self.app
    }

    /// The task with this key ([`crate::model::Task::key`]), as followed across polls.
    pub fn task(&self, key: &str) -> Option<&TaskEntry> {
        self.app.tasks.get(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aliyun::InstanceSnapshot;
    use crate::model::Task;
    use crate::verdict::readiness::Reason;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000 + s, 0).unwrap()
    }

    fn poll(s: i64, stage: &str, state: &str, lag: u64) -> PollResult {
        let ri = serde_json::json!({
            "ReceivedLsn": format!("0/{:X}", 0x1000_0000u64),
            "LatestEndLsn": format!("0/{:X}", 0x1000_0000u64),
            "ReplayLsn": format!("0/{:X}", 0x1000_0000u64 - lag),
            "Synced": "true",
        })
        .to_string();
        let item = serde_json::json!({"TaskId": 7, "MigrateStage": stage,
            "ReplicationState": state, "ReplicationInfo": ri});
        PollResult {
            instance: "pgm-1".into(),
            started: t(s),
            at: t(s),
            result: Ok(InstanceSnapshot {
                instance: "pgm-1".into(),
                tasks: vec![Task::from_value("pgm-1", &item).unwrap()],
                ..Default::default()
            }),
            source: None,
        }
    }

    fn judge() -> Judge {
        Judge::new(
            vec!["pgm-1".into()],
            Duration::from_secs(5),
            ReadinessConfig::default(),
            None,
            t(0),
        )
    }

    #[test]
    fn one_good_poll_has_no_blocker_but_is_not_in_sync() {
        let mut j = judge();
        j.feed(poll(0, "increment", "streaming", 0));
        let e = j.task("pgm-1/7").unwrap();
        assert_eq!(e.verdict.label(), "NOT READY");
        assert!(e.verdict.blockers().is_empty(), "{:?}", e.verdict);
    }

    #[test]
    fn blockers_are_the_dashboards_reasons() {
        let mut j = judge();
        j.feed(poll(0, "increment", "catchup", 100 << 20));
        let e = j.task("pgm-1/7").unwrap();
        let b: Vec<String> = e.verdict.blockers().iter().map(|r| r.to_string()).collect();
        assert_eq!(
            b,
            // Not streaming: the reported lag is only a lower bound.
            ["state catchup, not streaming", "lag ≥ 100 MiB > 16.0 MiB"]
        );
    }

    #[test]
    fn a_stable_window_makes_it_in_sync_and_staleness_counts() {
        let mut j = judge();
        for s in (0..=30).step_by(5) {
            j.feed(poll(s, "increment", "streaming", 1000));
        }
        assert_eq!(j.task("pgm-1/7").unwrap().verdict.label(), "IN SYNC");
        j.tick(t(60));
        let v = &j.task("pgm-1/7").unwrap().verdict;
        assert!(matches!(v.blockers()[..], [Reason::Stale { .. }]), "{v:?}");
    }
}
