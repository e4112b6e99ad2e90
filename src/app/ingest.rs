//! Ingesting poll results: instance status, task entries and their history, verdicts, and
//! the bells that flag a change worth looking at.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{App, Effect, TaskEntry};
use crate::aliyun::InstanceSnapshot;
use crate::model::ReplicationState;
use crate::poller::{PollEvent, PollResult};
use crate::verdict::history::{History, Sample, SampleData, SourceHistory};
use crate::verdict::readiness::{self, Verdict, VerdictKind};

impl App {
    /// How much history each task keeps.
    pub(super) fn keep(&self) -> Duration {
        (self.config.readiness.stable_for.saturating_mul(2))
            .max(Duration::from_secs(600))
            .max(self.interval.saturating_mul(200))
    }

    /// Moves the clock; returns whether a shown figure (whole seconds) changed.
    pub(super) fn on_tick(&mut self, now: DateTime<Utc>, out: &mut Vec<Effect>) -> bool {
        // Countdowns and ages are shown in whole seconds: redraw when one moves.
        let moved = now.timestamp() != self.now.timestamp();
        self.now = now;
        self.refresh_verdicts(out);
        moved
    }

    pub(super) fn on_poll(&mut self, ev: PollEvent, out: &mut Vec<Effect>) {
        match ev {
            PollEvent::Started { instance, at } => {
                if let Some(i) = self.instances.iter_mut().find(|i| i.name == instance) {
                    i.polling_since = Some(at);
                    i.next_poll = None;
                }
            }
            PollEvent::Scheduled { instance, next } => {
                if let Some(i) = self.instances.iter_mut().find(|i| i.name == instance) {
                    i.next_poll = next;
                }
            }
            PollEvent::Finished(r) => self.on_result(r, out),
        }
    }

    pub(super) fn on_result(&mut self, mut r: PollResult, out: &mut Vec<Effect>) {
        super::printable::poll_result(&mut r);
        if r.at > self.now {
            self.now = r.at;
        }
        let Some(idx) = self.instances.iter().position(|i| i.name == r.instance) else {
            return;
        };
        let keep = self.keep();
        let inst = &mut self.instances[idx];
        inst.polling_since = None;
        // The table's rows change only when tasks come, go or are renamed (a failed poll
        // keeps the instance's tasks): rebuilding them for 1,000 tasks on every result was
        // a thousand allocations each time.
        let mut rows_changed = false;
        match r.result {
            Ok(snap) => {
                inst.last_ok = Some(r.at);
                inst.last_error = None;
                inst.failures = 0;
                inst.request_id = snap.request_id.clone();
                inst.item_errors = snap.item_errors.clone();
                let sample = match (&mut self.source, r.source) {
                    (Some(src), Some(mut report)) => {
                        if let Some(c) = report.checklist.take() {
                            self.checklists.insert(report.target.clone(), *c);
                        }
                        let by_instance = self
                            .source_by_instance
                            .entry(r.instance.clone())
                            .or_insert_with(|| SourceHistory::new(report.target.clone()));
                        by_instance.push(r.at, report.clone(), keep);
                        src.push(r.at, report, keep);
                        by_instance.sample().cloned()
                    }
                    _ => None,
                };
                rows_changed = self.apply_snapshot(snap, r.at, keep, sample.as_ref(), out);
            }
            Err(e) => {
                inst.last_error = Some((r.at, e));
                inst.failures += 1;
                for entry in self.tasks.values_mut() {
                    if entry.task.instance == r.instance {
                        entry.history.push(
                            Sample {
                                at: r.at,
                                data: None,
                            },
                            keep,
                        );
                    }
                }
            }
        }
        if rows_changed {
            self.rebuild_rows();
        }
        self.refresh_verdicts(out);
        self.refresh_matches();
    }

    pub(super) fn apply_snapshot(
        &mut self,
        snap: InstanceSnapshot,
        at: DateTime<Utc>,
        keep: Duration,
        source: Option<&crate::probe::SourceSample>,
        out: &mut Vec<Effect>,
    ) -> bool {
        // Whether a task came, went, or changed what the rows are sorted by.
        let mut rows_changed = false;
        let probed = self.source.is_some();
        // A set: a list made dropping vanished tasks quadratic (minutes at 100k tasks).
        let mut seen = HashSet::new();
        for task in snap.tasks {
            let key = task.key();
            seen.insert(key.clone());
            let sample = Sample {
                at,
                data: Some(SampleData::probed(&task, probed, source)),
            };
            match self.tasks.get_mut(&key) {
                Some(entry) => {
                    if entry.task.stage != task.stage {
                        entry.stage_since = at;
                        entry.stage_since_exact = true;
                        out.push(Effect::Bell);
                    }
                    if task.replication_state == Some(ReplicationState::Disconnect)
                        && entry.task.replication_state != Some(ReplicationState::Disconnect)
                    {
                        out.push(Effect::Bell);
                    }
                    if entry.task.precheck != task.precheck {
                        self.next_log_rev += 1;
                        entry.log_rev = self.next_log_rev;
                    }
                    rows_changed |= (entry.task.task_id, &entry.task.task_name)
                        != (task.task_id, &task.task_name);
                    entry.task = task;
                    entry.history.push(sample, keep);
                }
                None => {
                    rows_changed = true;
                    let mut history = History::default();
                    history.push(sample, keep);
                    self.tasks.insert(
                        key,
                        TaskEntry {
                            task,
                            history,
                            first_seen: at,
                            stage_since: at,
                            stage_since_exact: false,
                            verdict: Verdict::NotReady(vec![readiness::Reason::NoData]),
                            log_rev: {
                                self.next_log_rev += 1;
                                self.next_log_rev
                            },
                            judged: None,
                        },
                    );
                }
            }
        }
        // Tasks no longer listed for this instance are gone.
        let before = self.tasks.len();
        self.tasks
            .retain(|k, e| e.task.instance != snap.instance || seen.contains(k));
        rows_changed || self.tasks.len() != before
    }

    pub(super) fn refresh_verdicts(&mut self, out: &mut Vec<Effect>) {
        // Only the stale instances (usually none, so no lookup per task).
        let stale: HashMap<&str, Duration> = self
            .instances
            .iter()
            .filter_map(|i| Some((i.name.as_str(), self.stale_age(i)?)))
            .collect();
        let cfg = self.config.readiness;
        for entry in self.tasks.values_mut() {
            let st = if stale.is_empty() {
                None
            } else {
                stale.get(entry.task.instance.as_str()).copied()
            };
            let inputs = super::Judged {
                history: entry.history.revision(),
                stale: st,
                config: cfg,
            };
            if entry.judged == Some(inputs) {
                continue;
            }
            let samples: Vec<&Sample> = entry.history.samples().iter().collect();
            let v = readiness::evaluate(&samples, st, &cfg);
            let (old, new) = (entry.verdict.kind(), v.kind());
            if old != new
                && (new == VerdictKind::Drained
                    || (new == VerdictKind::InSync && old == VerdictKind::NotReady))
            {
                out.push(Effect::Bell);
            }
            entry.verdict = v;
            entry.judged = Some(inputs);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::RowRef;
    use crate::app::fixtures::{EAST, MIB, WEST, app, at, fail, item, ok, throttled};

    #[test]
    fn a_poll_adds_tasks_and_their_history() {
        let mut a = app();
        ok(
            &mut a,
            EAST,
            0,
            &[item(1, "increment", "streaming", Some(MIB), "")],
        );
        let e = a.tasks.values().next().unwrap();
        assert_eq!(e.history.samples().len(), 1);
        assert_eq!(e.judged_lag(), Some(MIB));
        assert!(!e.stage_since_exact);
        assert_eq!(a.instances[0].last_ok, Some(at(0)));
        // West has not answered: its row stands for the instance.
        assert_eq!(a.rows.len(), 2);
        assert_eq!(a.rows[1], RowRef::Instance(1));
    }

    #[test]
    fn a_standby_that_is_not_streaming_has_a_lower_bound_lag() {
        let mut a = app();
        ok(
            &mut a,
            EAST,
            0,
            &[
                item(1, "increment", "streaming", Some(MIB), ""),
                item(2, "increment", "disconnect", Some(0), ""),
                item(3, "success", "finish", Some(0), ""),
            ],
        );
        let bound = |k: &str| a.tasks[k].lag_is_lower_bound();
        assert!(!bound("pgm-east/1"));
        assert!(
            bound("pgm-east/2"),
            "a disconnected standby's 0 B is no exact lag"
        );
        assert!(!bound("pgm-east/3"), "a finished task has no lag to bound");
    }

    #[test]
    fn a_stage_change_or_a_lost_link_rings_once() {
        let mut a = app();
        ok(
            &mut a,
            EAST,
            0,
            &[item(1, "basebackup", "unstarted", None, "")],
        );
        let out = ok(
            &mut a,
            EAST,
            5,
            &[item(1, "increment", "disconnect", Some(MIB), "")],
        );
        assert_eq!(out, vec![Effect::Bell], "two reasons, one bell");
        let e = a.tasks.values().next().unwrap();
        assert_eq!(e.stage_since, at(5));
        assert!(e.stage_since_exact);
        let mut quiet = app();
        quiet.config.bell = false;
        ok(
            &mut quiet,
            EAST,
            0,
            &[item(1, "basebackup", "unstarted", None, "")],
        );
        assert!(
            ok(
                &mut quiet,
                EAST,
                5,
                &[item(1, "increment", "streaming", None, "")]
            )
            .is_empty()
        );
    }

    #[test]
    fn a_failed_poll_keeps_the_tasks_and_records_a_gap() {
        let mut a = app();
        ok(
            &mut a,
            EAST,
            0,
            &[item(1, "increment", "streaming", Some(MIB), "")],
        );
        fail(&mut a, EAST, 5, throttled());
        let inst = &a.instances[0];
        assert_eq!(inst.failures, 1);
        assert!(inst.last_error.is_some());
        let e = a.tasks.values().next().unwrap();
        assert_eq!(e.history.samples().len(), 2);
        assert!(e.history.samples()[1].data.is_none());
        // The judged figure stays the last one read.
        assert_eq!(e.judged_lag(), Some(MIB));
        ok(
            &mut a,
            EAST,
            10,
            &[item(1, "increment", "streaming", Some(MIB), "")],
        );
        assert_eq!(a.instances[0].failures, 0);
        assert!(a.instances[0].last_error.is_none());
    }

    #[test]
    fn tasks_no_longer_listed_are_gone_and_other_instances_untouched() {
        let mut a = app();
        ok(
            &mut a,
            EAST,
            0,
            &[
                item(1, "increment", "streaming", Some(0), ""),
                item(2, "precheck", "unstarted", None, ""),
            ],
        );
        ok(
            &mut a,
            WEST,
            0,
            &[item(3, "precheck", "unstarted", None, "")],
        );
        assert_eq!(a.tasks.len(), 3);
        ok(
            &mut a,
            EAST,
            5,
            &[item(2, "precheck", "unstarted", None, "")],
        );
        assert_eq!(a.tasks.len(), 2);
        assert!(a.tasks.values().all(|e| e.task.task_id != Some(1)));
    }

    #[test]
    fn ticks_redraw_only_when_a_second_passes_and_age_the_data() {
        let mut a = app();
        ok(
            &mut a,
            EAST,
            0,
            &[item(1, "increment", "streaming", Some(0), "")],
        );
        let mut out = Vec::new();
        assert!(!a.on_tick(at(0) + chrono::Duration::milliseconds(300), &mut out));
        assert!(a.on_tick(at(1), &mut out));
        assert!(a.on_tick(at(16), &mut out));
        let e = a.tasks.values().next().unwrap();
        assert!(matches!(
            e.verdict.reasons().first(),
            Some(readiness::Reason::Stale { .. })
        ));
    }

    /// Verdicts and rows are only recomputed when their inputs move: they must always be
    /// what a full recomputation gives.
    #[test]
    fn kept_verdicts_and_rows_match_a_full_recomputation() {
        let check = |a: &App, step: &str| {
            for (k, e) in &a.tasks {
                let samples: Vec<&Sample> = e.history.samples().iter().collect();
                let stale = a.task_stale_age(&e.task);
                let fresh = readiness::evaluate(&samples, stale, &a.config.readiness);
                assert_eq!(e.verdict, fresh, "{step}: {k}");
            }
            let mut b = a.clone();
            b.rebuild_rows();
            assert_eq!(a.rows, b.rows, "{step}");
        };
        let mut a = app();
        let mut out = Vec::new();
        let sync = |id| item(id, "increment", "streaming", Some(0), "");
        for s in (0..40).step_by(5) {
            ok(&mut a, EAST, s, &[sync(1), sync(2)]);
            check(&a, &format!("east polled at {s}"));
            if s < 20 {
                ok(&mut a, WEST, s, &[sync(7)]);
            } else {
                fail(&mut a, WEST, s, throttled());
            }
            check(&a, &format!("west polled at {s}"));
            a.on_tick(at(s + 1), &mut out);
            check(&a, &format!("tick at {}", s + 1));
        }
        // WEST has gone stale by now; a task appears, another is renamed, one vanishes.
        assert!(a.stale_age(&a.instances[1]).is_some());
        let mut renamed = sync(2);
        renamed["TaskName"] = "renamed".into();
        ok(&mut a, EAST, 40, &[renamed, sync(3)]);
        check(&a, "tasks changed");
        assert_eq!(a.tasks.len(), 3);
        a.on_tick(at(200), &mut out);
        check(&a, "everything stale");
        ok(&mut a, WEST, 201, &[sync(7)]);
        check(&a, "west back");
    }

    /// A poll of `instance` at `s` with the probe's reading of `target`, with a checklist
    /// when `checklist`.
    fn probed(a: &mut App, instance: &str, s: i64, target: &str, checklist: bool) {
        use crate::aliyun::InstanceSnapshot;
        use crate::poller::PollResult;
        use crate::probe::{Checklist, ProbeReport, SourceSample};
        let report = ProbeReport {
            target: target.into(),
            result: Ok(SourceSample {
                at: at(s),
                lsn: crate::model::Lsn(1 << 30),
                in_recovery: false,
                timeline: Some(1),
                server_version: None,
                round_trip_ms: 0,
                next_xid: Some(5),
                xid_in_progress: Some(false),
                wal_sender_timeout: None,
                simulated: false,
            }),
            checklist: checklist.then(|| {
                Box::new(Checklist::new(
                    at(s),
                    vec![format!("db of {target}")],
                    vec![],
                ))
            }),
        };
        a.update(crate::app::Action::Poll(PollEvent::Finished(PollResult {
            instance: instance.into(),
            started: at(s),
            at: at(s),
            result: Ok(InstanceSnapshot {
                instance: instance.into(),
                ..Default::default()
            }),
            source: Some(report),
        })));
    }

    #[test]
    fn a_checklist_belongs_to_its_source() {
        let mut cfg = crate::app::fixtures::config();
        cfg.source_probe = Some("src".into());
        // One real source for every instance: read during east's poll, west's too.
        let mut a = App::new(cfg.clone(), at(0));
        probed(&mut a, EAST, 0, "src", true);
        probed(&mut a, WEST, 1, "src", false);
        assert_eq!(a.checklist_for(WEST).unwrap().databases, ["db of src"]);
        assert!(a.checklist_for(EAST).is_some());
        // The simulator's sources, one per instance: west's is not east's.
        let mut a = App::new(cfg, at(0));
        probed(&mut a, EAST, 0, "sim east", true);
        probed(&mut a, WEST, 1, "sim west", false);
        assert_eq!(a.checklist_for(EAST).unwrap().databases, ["db of sim east"]);
        assert!(
            a.checklist_for(WEST).is_none(),
            "never read for west's source"
        );
        probed(&mut a, WEST, 2, "sim west", true);
        assert_eq!(a.checklist_for(WEST).unwrap().databases, ["db of sim west"]);
        assert_eq!(a.checklists().count(), 2);
    }
}
