//! The engine against the built-in scenario: determinism, every case, PostgreSQL's invariants.

use chrono::{DateTime, TimeZone, Utc};

use super::World;
use crate::model::{Lsn, ReplicationState, Stage};
use crate::sim::position::MAX_LSN;
use crate::sim::scenario::Scenario;
use crate::sim::source::{NewTask, Password, ReplicationView, SourceView, TaskView};

const MIB: u64 = 1 << 20;

fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 11, 2, 0, 0).unwrap()
}

fn world(seed: u64) -> World {
    World::new(&Scenario::builtin(), seed, epoch())
}

fn task(w: &World, name: &str, now: f64) -> TaskView {
    w.instance_ids()
        .iter()
        .flat_map(|i| w.views(i, now).unwrap())
        .find(|t| t.task_name == name)
        .unwrap_or_else(|| panic!("no task {name}"))
}

fn rep(t: &TaskView) -> &ReplicationView {
    t.replication.as_ref().expect("replication info")
}

#[test]
fn same_seed_same_run_other_seed_other_run() {
    let (mut a, mut b, mut c) = (world(7), world(7), world(8));
    for t in [1.0, 10.0, 33.3, 120.0, 400.0] {
        a.advance(t);
        b.advance(t);
        c.advance(t);
    }
    for i in a.instance_ids() {
        assert_eq!(a.views(&i, 400.0), b.views(&i, 400.0));
    }
    assert_ne!(
        task(&a, "erp-migrate", 400.0).replication,
        task(&c, "erp-migrate", 400.0).replication
    );
    // Polling more often does not change the outcome.
    let mut d = world(7);
    for k in 0..=800 {
        d.advance(f64::from(k) * 0.5);
    }
    assert_eq!(
        d.views("pgm-bp1demo00log03", 400.0),
        a.views("pgm-bp1demo00log03", 400.0)
    );
}

#[test]
fn default_scenario_starts_with_every_case() {
    let w = world(1);
    let stage = |n: &str| task(&w, n, 0.0).stage;
    assert_eq!(stage("erp-precheck-1"), Stage::Precheck);
    assert_eq!(stage("erp-migrate"), Stage::Increment);
    assert_eq!(stage("crm-migrate"), Stage::Increment);
    assert_eq!(stage("log-migrate"), Stage::Increment);
    assert_eq!(stage("bi-migrate"), Stage::Basebackup);
    assert_eq!(stage("hr-migrate"), Stage::Success);
    let failed = task(&w, "erp-precheck-1", 0.0);
    assert!(failed.detail.iter().any(|l| l.contains("privilege: fail(")));
    assert_eq!(failed.replication_state, ReplicationState::Unstarted);
    assert!(failed.replication.is_none());
    let glibc = task(&w, "crm-precheck", 0.0);
    assert!(
        glibc
            .detail
            .iter()
            .any(|l| l.starts_with("Check source glibc version compatible: warning(warning:"))
    );
    let hr = task(&w, "hr-migrate", 0.0);
    assert_eq!(hr.replication_state, ReplicationState::Finish);
    assert!(!rep(&hr).is_slave);
    assert!(hr.switch_time.is_some());
    assert!(hr.detail.iter().any(|l| l.contains("Switch over finished")));
    let created = task(&w, "erp-migrate", 0.0).created;
    assert!(created < epoch() - chrono::Duration::minutes(50));
    // The backup log of a task past it has its quarter marks.
    let erp = task(&w, "erp-migrate", 0.0);
    assert!(erp.detail.iter().any(|l| l.contains("Backup data: 50%")));
    assert!(erp.detail.iter().any(|l| l == "[Synchronize data]"));
    assert!(erp.lag_bytes().unwrap() > 2000 * MIB);
    // A backup in progress shows the quarters it has passed, and no more.
    let bi = task(&w, "bi-migrate", 0.0);
    assert!(bi.detail.iter().any(|l| l.contains("Backup data: 25%")));
    assert!(!bi.detail.iter().any(|l| l.contains("Backup data: 50%")));
    assert!(bi.replication.is_none());
}

/// The demo's promise: crm goes IN SYNC (lag ≤ 16 MiB for 30 s) and then DRAINED within
/// about a minute, on the evidence of its (simulated) source: the next xid unchanged for
/// 30 s with no writing transaction at the window's start, and everything the source had
/// written at the window's start replayed. The idle source still writes housekeeping WAL.
#[test]
fn crm_goes_in_sync_then_drained_within_a_minute() {
    const CRM: &str = "pgm-bp1demo00crm02";
    let mut w = world(1);
    let start = task(&w, "crm-migrate", 0.0);
    assert!(start.lag_bytes().unwrap() > 16 * MIB, "starts NOT READY");
    let (mut ok_since, mut in_sync_at) = (None::<f64>, None::<f64>);
    let mut drained_at = None::<f64>;
    let mut lags = vec![];
    let mut sources = vec![];
    for k in 0..=180usize {
        let t = k as f64 * 0.5;
        w.advance(t);
        let v = task(&w, "crm-migrate", t);
        let lag = v.lag_bytes().unwrap();
        lags.push(lag);
        let src = w.source_reading(CRM).unwrap();
        sources.push(src);
        if lag <= 16 * MIB {
            let s = *ok_since.get_or_insert(t);
            if t - s >= 30.0 && in_sync_at.is_none() {
                in_sync_at = Some(t);
            }
        } else {
            ok_since = None;
        }
        if k >= 60 {
            let window = &sources[k - 60..=k];
            let drained = window.iter().all(|s| s.next_xid == window[0].next_xid)
                && !window[0].xid_in_progress
                && rep(&v).replay_lsn.is_some_and(|r| r >= window[0].lsn);
            if drained && drained_at.is_none() {
                drained_at = Some(t);
            }
            if drained_at.is_some() {
                assert!(drained, "DRAINED flapped at {t} s");
            }
        }
    }
    let in_sync_at = in_sync_at.expect("IN SYNC");
    let drained_at = drained_at.expect("DRAINED");
    println!("crm-migrate: IN SYNC at {in_sync_at} s, DRAINED at {drained_at} s");
    assert!(in_sync_at <= 45.0, "in sync at {in_sync_at}");
    assert!(drained_at <= 65.0, "drained at {drained_at}");
    assert!(in_sync_at < drained_at);
    // Lag moved while the source wrote.
    let moving = lags[2..40].windows(2).filter(|p| p[0] != p[1]).count();
    assert!(moving > 10, "{lags:?}");
    // Idle from 20 s: the xid stands still while housekeeping WAL still moves the position.
    let (idle, end) = (sources[60], sources[180]);
    assert_eq!(idle.next_xid, end.next_xid);
    assert!(
        end.lsn > idle.lsn,
        "no housekeeping WAL: {} → {}",
        idle.lsn,
        end.lsn
    );
    assert!(end.lsn.bytes_since(idle.lsn) < 4096);
    assert!(sources[10].xid_in_progress && sources[10].next_xid < idle.next_xid);
    let last = task(&w, "crm-migrate", 90.0);
    assert_eq!(rep(&last).replay_lag_seconds, Some(0.0));
    assert_eq!(last.replication_state, ReplicationState::Streaming);
    assert!(rep(&last).synced);
}

#[test]
fn erp_lag_fluctuates_and_catches_up() {
    let mut w = world(1);
    let mut lags = vec![];
    for k in 0..=1200 {
        let t = f64::from(k);
        w.advance(t);
        lags.push(task(&w, "erp-migrate", t).lag_bytes().unwrap());
    }
    let min_after = *lags[200..].iter().min().unwrap();
    let max_after = *lags[200..].iter().max().unwrap();
    assert!(min_after < 32 * MIB, "catches up: {min_after}");
    assert!(max_after > 100 * MIB, "bursts: {max_after}");
    assert!(lags[0] > 10 * max_after / 4, "starts far behind");
    let v = task(&w, "erp-migrate", 1200.0);
    assert_eq!(v.replication_state, ReplicationState::Streaming);
}

#[test]
fn log_disconnects_and_reconnects_at_a_segment_boundary() {
    let mut w = world(1);
    w.advance(44.0);
    let before = task(&w, "log-migrate", 44.0);
    let received_before = rep(&before).received_lsn.unwrap();
    w.advance(50.0);
    let down = task(&w, "log-migrate", 50.0);
    assert_eq!(down.replication_state, ReplicationState::Disconnect);
    let r = rep(&down);
    assert_eq!(r.status, None);
    assert_eq!(r.received_lsn, None);
    assert_eq!(r.latest_end_lsn, None);
    assert!(r.replay_lsn.is_some() && r.is_slave && !r.synced);
    assert!(
        down.detail
            .iter()
            .any(|l| l.contains("connection to source lost"))
    );
    w.advance(75.5);
    let up = task(&w, "log-migrate", 75.5);
    assert_ne!(up.replication_state, ReplicationState::Disconnect);
    let r = rep(&up);
    let start = r.receive_start_lsn.unwrap();
    assert_eq!(start.0 % Lsn::SEGMENT, 0);
    assert!(start >= received_before.segment_start());
    assert!(
        up.detail
            .iter()
            .any(|l| l.contains(&format!("streaming from {start}")))
    );
    // It happens again four minutes later.
    w.advance(290.0);
    assert_eq!(
        task(&w, "log-migrate", 290.0).replication_state,
        ReplicationState::Disconnect
    );
}

#[test]
fn bi_finishes_its_backup_and_streams() {
    let mut w = world(1);
    let mut stages = vec![];
    for k in 0..=900 {
        let t = f64::from(k);
        w.advance(t);
        let s = task(&w, "bi-migrate", t).stage;
        if stages.last() != Some(&s) {
            stages.push(s);
        }
    }
    assert_eq!(
        stages,
        [Stage::Basebackup, Stage::Startup, Stage::Increment]
    );
    let v = task(&w, "bi-migrate", 900.0);
    assert!(v.lag_bytes().unwrap() < 64 * MIB, "{:?}", v.lag_bytes());
    for l in [
        "Backup data: 75%",
        "Backup data finished",
        "[Start RDS instance]",
    ] {
        assert!(v.detail.iter().any(|d| d.contains(l)), "{l}");
    }
}

#[test]
fn postgres_invariants_hold_for_an_hour() {
    let mut w = world(3);
    let mut last: std::collections::HashMap<String, (Lsn, Lsn)> = Default::default();
    for k in 0..=7200 {
        let t = f64::from(k) * 0.5;
        w.advance(t);
        for i in w.instance_ids() {
            for v in w.views(&i, t).unwrap() {
                let Some(r) = &v.replication else { continue };
                let replay = r.replay_lsn.unwrap();
                if let (Some(recv), Some(end), Some(start)) =
                    (r.received_lsn, r.latest_end_lsn, r.receive_start_lsn)
                {
                    assert!(recv <= end, "{} t={t}: received > latest end", v.task_name);
                    assert!(start <= recv, "{} t={t}", v.task_name);
                    assert_eq!(start.0 % Lsn::SEGMENT, 0);
                    if let Some((_, prev_end)) = last.get(&v.task_name) {
                        assert!(end >= *prev_end, "{} t={t}: end went back", v.task_name);
                    }
                    last.insert(v.task_name.clone(), (replay, end));
                }
                if let Some((prev_replay, _)) = last.get(&v.task_name) {
                    assert!(
                        replay >= *prev_replay,
                        "{} t={t}: replay went back",
                        v.task_name
                    );
                }
                assert!(
                    v.detail.len() < 80,
                    "{}: {} lines",
                    v.task_name,
                    v.detail.len()
                );
            }
        }
    }
}

#[test]
fn switchover_goes_switch_then_success() {
    let mut w = world(1);
    w.advance(70.0);
    assert!(w.activate("pgm-bp1demo00bi004", 440437401).is_err());
    assert_eq!(
        w.activate("pgm-bp1demo00crm02", 1).unwrap_err().code,
        "InvalidMigrateTask"
    );
    w.activate("pgm-bp1demo00crm02", 440437202).unwrap();
    let s = task(&w, "crm-migrate", 70.0);
    assert_eq!(s.stage, Stage::Switch);
    assert_eq!(s.replication_state, ReplicationState::Finish);
    assert!(s.switch_time.is_some());
    assert_eq!(
        w.activate("pgm-bp1demo00crm02", 440437202)
            .unwrap_err()
            .code,
        "InvalidMigrateStatus"
    );
    w.advance(80.0);
    let done = task(&w, "crm-migrate", 80.0);
    assert_eq!(done.stage, Stage::Success);
    assert!(!rep(&done).is_slave);
    assert!(
        done.detail
            .iter()
            .any(|l| l.contains("[Switch RDS instance]"))
    );
}

#[test]
fn created_tasks_run_through_the_stages() {
    let mut w = world(1);
    w.advance(10.0);
    let new = NewTask {
        task_name: "new-one".into(),
        precheck_only: false,
        source: SourceView {
            category: "ecsOnVpc".into(),
            ip: "10.1.1.1".into(),
            port: 5432,
            account: "m".into(),
            password: Password::new("pw"),
        },
    };
    assert!(w.create("pgm-nope", new.clone(), 10.0).is_err());
    let id = w.create("pgm-bp1demo00hr005", new, 10.0).unwrap();
    assert_eq!(id, 440437502);
    let v = task(&w, "new-one", 10.0);
    assert_eq!(v.stage, Stage::Precheck);
    assert!(v.detail.is_empty());
    assert_eq!(v.created, epoch() + chrono::Duration::seconds(10));
    w.advance(25.0);
    assert!(!task(&w, "new-one", 25.0).detail.is_empty());
    w.advance(200.0);
    assert_eq!(task(&w, "new-one", 200.0).stage, Stage::Increment);
}

#[test]
fn huge_jumps_stay_cheap_and_sane() {
    let mut w = world(1);
    let t0 = std::time::Instant::now();
    w.advance(1e9);
    assert!(t0.elapsed() < std::time::Duration::from_secs(30));
    for i in w.instance_ids() {
        for v in w.views(&i, 1e9).unwrap() {
            assert!(v.detail.len() < 80);
            if let Some(r) = &v.replication {
                assert!(r.replay_lsn.unwrap().0 as f64 <= MAX_LSN);
            }
        }
    }
    w.advance(f64::NAN);
    w.advance(f64::INFINITY);
    w.advance(-5.0);
}
