//! Render tests: the whole screen for each state, at 80x24 and 120x40 (and smaller), with a
//! fixed "now" so the snapshots are deterministic.
//!
//! insta names each file after the module path and the test (or the name given):
//! `tests/it/snapshots/it__dashboard_render__<name>.snap`.

use std::time::Duration;

use crossterm::event::KeyCode;
use insta::assert_snapshot;
use migtop::app::Action;
use migtop::verdict::readiness::VerdictKind;
use ratatui::style::Color;

use crate::support::dashboard::*;
use crate::support::keys::*;

/// Task 401 behind by 40 MiB and not catching up: NOT READY.
fn not_ready_app() -> migtop::app::App {
    let mut a = app();
    run(&mut a, 20, |s| {
        pos(
            0x5_0000_0000 + s as u64 * 3 * MIB,
            40 * MIB + s as u64 * MIB,
        )
    });
    select_task(&mut a, 401);
    a
}

/// Task 401 at 2 MiB lag with the source writing, for 40 s: IN SYNC.
fn in_sync_app() -> migtop::app::App {
    let mut a = app();
    run(&mut a, 40, |s| {
        pos(0x5_0000_0000 + s as u64 * 2 * MIB, 2 * MIB)
    });
    select_task(&mut a, 401);
    a
}

/// Task 401 caught up and the source idle for 40 s, as the source probe confirms: DRAINED.
fn drained_app() -> migtop::app::App {
    let mut a = migtop::app::App::new(probed_config(), t0());
    run_probed(&mut a, 60, |s| {
        let end = 0x5_0000_0000 + s.min(15) as u64 * 2 * MIB;
        (pos(end, if s < 15 { MIB } else { 0 }), Some(end))
    });
    select_task(&mut a, 401);
    a
}

/// The same idle source without a probe: RDS cannot know it is idle, so IN SYNC at best.
fn idle_unprobed_app() -> migtop::app::App {
    let mut a = app();
    run(&mut a, 60, |s| {
        let end = 0x5_0000_0000 + s.min(15) as u64 * 2 * MIB;
        pos(end, if s < 15 { MIB } else { 0 })
    });
    select_task(&mut a, 401);
    a
}

#[test]
fn idle_without_a_probe_80x24_and_120x40() {
    let mut a = idle_unprobed_app();
    let v = a.selected_task().unwrap().verdict.clone();
    assert!(
        matches!(
            v,
            migtop::verdict::readiness::Verdict::InSync {
                not_drained: migtop::verdict::readiness::NotDrained::NoProbe,
                ..
            }
        ),
        "{v:?}"
    );
    let t = render(&mut a, 80, 24);
    let s = screen(&t);
    assert!(s.contains("source position unknown"), "{s}");
    assert!(s.contains("DRAINED needs --source-dsn"), "{s}");
    assert!(!s.contains("loses nothing"), "{s}");
    assert_snapshot!("idle_without_a_probe_80x24", t.backend());
    assert_snapshot!(
        "idle_without_a_probe_120x40",
        render(&mut a, 120, 40).backend()
    );
}

#[test]
fn not_ready_80x24() {
    let mut a = not_ready_app();
    assert_eq!(
        a.selected_task().unwrap().verdict.kind(),
        VerdictKind::NotReady
    );
    assert_snapshot!(render(&mut a, 80, 24).backend());
}

#[test]
fn not_ready_120x40() {
    let mut a = not_ready_app();
    assert_snapshot!(render(&mut a, 120, 40).backend());
}

#[test]
fn in_sync_80x24() {
    let mut a = in_sync_app();
    assert_eq!(
        a.selected_task().unwrap().verdict.kind(),
        VerdictKind::InSync
    );
    assert_snapshot!(render(&mut a, 80, 24).backend());
}

#[test]
fn in_sync_120x40() {
    let mut a = in_sync_app();
    assert_snapshot!(render(&mut a, 120, 40).backend());
}

#[test]
fn drained_80x24() {
    let mut a = drained_app();
    assert_eq!(
        a.selected_task().unwrap().verdict.kind(),
        VerdictKind::Drained
    );
    assert_snapshot!(render(&mut a, 80, 24).backend());
}

#[test]
fn drained_120x40() {
    let mut a = drained_app();
    assert_snapshot!(render(&mut a, 120, 40).backend());
}

#[test]
fn precheck_task_with_failure_80x24() {
    let mut a = not_ready_app();
    select_task(&mut a, 501);
    assert_snapshot!(render(&mut a, 80, 24).backend());
}

/// Task 402's base backup polled every 5 s for 40 s: 25% at first, 50% from 30 s on (the two
/// lines 100 s apart in the log's own times, +08 and assumed: 402 has no ReplicationInfo).
fn basebackup_app(until: i64) -> migtop::app::App {
    let mut a = app();
    let mut s = 0;
    while s <= until {
        let mut detail = format!(
            r"{}[Backup data]\n2026-03-01 14:35:00 --- Start to backup data from source by pg_basebackup (18.0 GiB)\n2026-03-01 14:36:40 --- Backup data: 25% (4.50 GiB of 18.0 GiB)\n",
            &DETAIL[..DETAIL.find("[Start RDS").unwrap()]
        );
        if s >= 30 {
            detail.push_str(r"2026-03-01 14:38:20 --- Backup data: 50% (9.00 GiB of 18.0 GiB)\n");
        }
        let mut items = east_items(pos(0x5_0000_0000, 0));
        items[1] = item(402, "billing", "basebackup", "unstarted", None, &detail);
        ok(&mut a, "pgm-demo-east", s, items);
        ok(&mut a, "pgm-demo-west", s, west_items());
        s += 5;
    }
    a.update(Action::Tick(
        at(until) + chrono::Duration::milliseconds(1500),
    ));
    select_task(&mut a, 402);
    a
}

#[test]
fn basebackup_progress_80x24_and_120x40() {
    // One progress line: the percentage, no rate and no ETA.
    let mut a = basebackup_app(20);
    let s = screen(&render(&mut a, 120, 40));
    assert!(s.contains("basebackup 25%"), "{s}");
    assert!(s.contains("▶ basebackup 25% › · startup"), "{s}");
    assert!(!s.contains("ETA 3m"), "{s}");
    // Two: 4.5 GiB in 100 s, 9 GiB left, seen 11.5 s ago.
    let mut a = basebackup_app(40);
    let t = render(&mut a, 80, 24);
    let s = screen(&t);
    assert!(s.contains("basebackup 50%"), "{s}");
    assert!(s.contains("46.1 MiB/s · ETA 3m08s"), "{s}");
    assert_snapshot!("basebackup_progress_80x24", t.backend());
    a.update(Action::Resize(120, 40));
    a.on_key(key(KeyCode::PageDown));
    let t = render(&mut a, 120, 40);
    let s = screen(&t);
    // The log's times in local time (UTC here), the zone said once and marked as assumed.
    assert!(s.contains("times +08 (assumed) → local"), "{s}");
    assert!(s.contains("03-01 06:38:20 Backup data: 50%"), "{s}");
    assert_snapshot!("basebackup_progress_120x40", t.backend());
}

#[test]
fn failing_poll_80x24_and_120x40() {
    let mut a = in_sync_app();
    fail(&mut a, "pgm-demo-west", 45, throttled(), 10);
    a.update(Action::Tick(at(47)));
    let t = render(&mut a, 80, 24);
    let s = screen(&t);
    assert!(s.contains("Throttling.User"), "{s}");
    assert!(s.contains("retry in 8s"), "{s}");
    assert!(
        s.contains("8A2F1C3E-5B7D-4E9A-9C1B-2D3E4F5A6B7C"),
        "request id shown: {s}"
    );
    assert_snapshot!("failing_poll_80x24", t.backend());
    assert_snapshot!("failing_poll_120x40", render(&mut a, 120, 40).backend());
}

#[test]
fn first_poll_failing_shows_the_instance_row() {
    let mut a = app();
    fail(&mut a, "pgm-demo-west", 0, throttled(), 5);
    ok(
        &mut a,
        "pgm-demo-east",
        0,
        east_items(pos(0x5_0000_0000, MIB)),
    );
    a.update(Action::Tick(at(1)));
    a.on_key(ch('G'));
    let s = screen(&render(&mut a, 80, 24));
    assert!(s.contains("Throttling.User"), "{s}");
    assert!(s.contains("no data"), "{s}");
    assert!(s.contains("updated 1s ago"), "east's data is fresh: {s}");
}

#[test]
fn stale_data_80x24_and_120x40() {
    let mut a = in_sync_app();
    // Nothing for 40 s at a 5 s interval: stale.
    a.update(Action::Tick(at(80)));
    let v = &a.selected_task().unwrap().verdict;
    assert_eq!(v.kind(), VerdictKind::NotReady);
    let t = render(&mut a, 80, 24);
    let s = screen(&t);
    assert!(s.contains("STALE"), "{s}");
    assert_snapshot!("stale_80x24", t.backend());
    assert_snapshot!("stale_120x40", render(&mut a, 120, 40).backend());
}

fn long_detail() -> String {
    let mut d = String::from(DETAIL);
    for i in 0..60 {
        d.push_str(&format!(
            r"2026-03-01 14:{:02}:{:02} --- Synchronize data: applied WAL segment 00000001000000050000{:04X}\n",
            10 + i / 60,
            i % 60,
            i
        ));
    }
    d
}

#[test]
fn long_log_scrolled_80x24_and_120x40() {
    let mut a = app();
    let detail = long_detail();
    ok(
        &mut a,
        "pgm-demo-east",
        0,
        vec![item(
            401,
            "orders",
            "increment",
            "streaming",
            Some(pos(0x5_0000_0000, MIB)),
            &detail,
        )],
    );
    a.update(Action::Tick(at(1)));
    a.update(Action::Resize(80, 24));
    a.on_key(key(KeyCode::PageDown));
    a.on_key(key(KeyCode::PageDown));
    let t = render(&mut a, 80, 24);
    let s = screen(&t);
    assert!(
        !s.contains("[Check rds empty]"),
        "scrolled past the top: {s}"
    );
    assert_snapshot!("long_log_scrolled_80x24", t.backend());
    // Search, then jump to the second match.
    typing(&mut a, "/segment 00000001000000050000002");
    a.on_key(key(KeyCode::Enter));
    a.on_key(ch('n'));
    assert_snapshot!("long_log_search_120x40", render(&mut a, 120, 40).backend());
}

#[test]
fn help_overlay_80x24_and_120x40() {
    let mut a = in_sync_app();
    a.on_key(ch('?'));
    assert_snapshot!("help_80x24", render(&mut a, 80, 24).backend());
    assert_snapshot!("help_120x40", render(&mut a, 120, 40).backend());
}

/// At 60x18 the help does not fit: it says how much is below, and scrolling down reaches
/// the verdict definitions.
#[test]
fn help_scrolls_when_it_does_not_fit_60x18() {
    let mut a = in_sync_app();
    a.on_key(key(KeyCode::F(1)));
    let top = format!("{:?}", render(&mut a, 60, 18).backend());
    assert!(top.contains("more (↓ PgDn)"), "{top}");
    assert!(!top.contains("DRAINED (needs"), "{top}");
    a.on_key(key(KeyCode::End));
    let bottom = render(&mut a, 60, 18);
    let text = format!("{:?}", bottom.backend());
    assert!(
        text.contains("DRAINED (needs") && text.contains("IN SYNC:") && text.contains("Lag ≥ X"),
        "{text}"
    );
    assert!(!text.contains("more (↓ PgDn)"), "{text}");
    assert_snapshot!("help_60x18_scrolled", bottom.backend());
}

#[test]
fn small_60x18_collapses_panels() {
    let mut a = not_ready_app();
    let t = render(&mut a, 60, 18);
    let s = screen(&t);
    assert!(s.contains("NOT READY"), "{s}");
    assert!(
        !s.contains("Details"),
        "details collapse at 60 columns: {s}"
    );
    assert_snapshot!("small_60x18", t.backend());
    // With a failing poll on top, still nothing overlaps.
    fail(&mut a, "pgm-demo-west", 25, throttled(), 10);
    assert_snapshot!("small_60x18_failing", render(&mut a, 60, 18).backend());
}

#[test]
fn too_small_asks_to_enlarge() {
    let mut a = not_ready_app();
    let t = render(&mut a, 40, 10);
    let s = screen(&t);
    assert!(s.contains("Enlarge the pane"), "{s}");
    assert_snapshot!("too_small_40x10", t.backend());
}

#[test]
fn every_size_from_tiny_to_large_renders_without_panicking() {
    let mut a = not_ready_app();
    fail(&mut a, "pgm-demo-west", 25, throttled(), 10);
    for w in (1..=130).step_by(7) {
        for h in (1..=45).step_by(4) {
            render(&mut a, w, h);
        }
    }
    a.on_key(ch('?'));
    for (w, h) in [(50, 14), (51, 15), (10, 5), (200, 60)] {
        render(&mut a, w, h);
    }
}

#[test]
fn switchover_dialog_and_disabled_notice() {
    // Without --allow-switchover, S explains how to enable it.
    let mut a = in_sync_app();
    a.on_key(ch('S'));
    let s = screen(&render(&mut a, 80, 24));
    assert!(s.contains("--allow-switchover"), "{s}");
    a.on_key(key(KeyCode::Esc));

    let mut cfg = config();
    cfg.allow_switchover = true;
    let mut a = migtop::app::App::new(cfg, t0());
    run(&mut a, 40, |s| {
        pos(0x5_0000_0000 + s as u64 * 2 * MIB, 2 * MIB)
    });
    select_task(&mut a, 401);
    a.on_key(ch('S'));
    typing(&mut a, "pgm-demo-east");
    let t = render(&mut a, 80, 24);
    let s = screen(&t);
    assert!(s.contains("Not DRAINED"), "red warning unless drained: {s}");
    assert_snapshot!("switchover_80x24", t.backend());
}

#[test]
fn no_color_uses_no_colours() {
    let mut cfg = config();
    cfg.color = false;
    let mut a = migtop::app::App::new(cfg, t0());
    run(&mut a, 40, |s| {
        pos(0x5_0000_0000 + s as u64 * 2 * MIB, 2 * MIB)
    });
    fail(&mut a, "pgm-demo-west", 45, throttled(), 10);
    a.on_key(ch('p'));
    let t = render(&mut a, 120, 40);
    for cell in t.backend().buffer().content() {
        assert_eq!(cell.fg, Color::Reset, "{cell:?}");
        assert_eq!(cell.bg, Color::Reset, "{cell:?}");
    }
    // And the colour build does use colour, never as a full-screen background.
    let mut a = in_sync_app();
    let t = render(&mut a, 120, 40);
    let cells = t.backend().buffer().content();
    assert!(cells.iter().any(|c| c.fg != Color::Reset));
    let with_bg = cells.iter().filter(|c| c.bg != Color::Reset).count();
    assert!(
        with_bg < cells.len() / 20,
        "{with_bg} cells with a background"
    );
}

#[test]
fn unknown_lag_is_never_shown_as_zero() {
    let mut a = app();
    let mut it = item(
        401,
        "orders",
        "increment",
        "streaming",
        Some(pos(0x5_0000_0000, MIB)),
        DETAIL,
    );
    // ReplayLsn "null": the lag cannot be computed.
    let ri = it["ReplicationInfo"].as_str().unwrap().replace(
        "ReplayLsn\\\":\\\"",
        "ReplayLsn\\\":\\\"null\\\",\\\"X\\\":\\\"",
    );
    it["ReplicationInfo"] = ri.into();
    ok(&mut a, "pgm-demo-east", 0, vec![it]);
    a.update(Action::Tick(at(1)));
    let s = screen(&render(&mut a, 80, 24));
    assert!(s.contains("unknown"), "{s}");
    assert!(!s.contains(" 0 B"), "{s}");
    let _ = Duration::ZERO;
}

/// Task 401 with a slow link: 2 MiB reported behind, the source 3 MiB further than the
/// LatestEndLsn it last announced, writing 1 MiB/s; the source probe reads it every poll.
fn true_lag_app() -> migtop::app::App {
    let mut a = migtop::app::App::new(probed_config(), t0());
    run_probed(&mut a, 40, |s| {
        let end = 0x5_0000_0000 + s as u64 * MIB;
        (pos(end, 2 * MIB), Some(end + 3 * MIB))
    });
    select_task(&mut a, 401);
    a
}

#[test]
fn true_lag_80x24_and_120x40() {
    let mut a = true_lag_app();
    let t = render(&mut a, 80, 24);
    let s = screen(&t);
    assert!(s.contains(" reported 2.00 MiB"), "{s}");
    assert!(s.contains(" true     5.00 MiB"), "{s}");
    assert!(s.contains("source WAL 1.00 MiB/s"), "{s}");
    // At 80 columns the legend keeps its words and leaves the figures to the bars.
    assert!(
        s.contains("█ not replayed ▒ not received ░ not sent"),
        "{s}"
    );
    assert_snapshot!("true_lag_80x24", t.backend());
    let t = render(&mut a, 120, 40);
    let s = screen(&t);
    assert!(s.contains("not sent 3.00 MiB"), "{s}");
    assert!(s.contains("Src LSN  5/2B00000"), "{s}");
    assert_snapshot!("true_lag_120x40", t.backend());
    // The verdict is judged on the true lag: 5 MiB is within 16 MiB, so IN SYNC, and it
    // says 5 MiB, not the reported 2.
    let v = &a.selected_task().unwrap().verdict;
    assert_eq!(
        *v,
        migtop::verdict::readiness::Verdict::InSync {
            lag: 5 * MIB,
            stable: Duration::from_secs(40),
            not_drained: migtop::verdict::readiness::NotDrained::SourceWriting,
        }
    );
}

#[test]
fn probe_failure_80x24() {
    let mut a = migtop::app::App::new(probed_config(), t0());
    // Read fine for 20 s, then the source refuses connections.
    run_probed(&mut a, 40, |s| {
        let end = 0x5_0000_0000 + s as u64 * MIB;
        (pos(end, 2 * MIB), (s < 20).then_some(end + MIB))
    });
    select_task(&mut a, 401);
    let t = render(&mut a, 80, 24);
    let s = screen(&t);
    assert!(s.contains("! source probe · true lag unknown"), "{s}");
    assert!(
        s.contains(" true      unknown  source probe: cannot"),
        "{s}"
    );
    assert!(s.contains("DRAINED unconfirmed"), "{s}");
    assert!(!s.contains("monitor:") || s.contains("monitor:*"), "{s}");
    // Never fatal: the reported figures are all there.
    assert!(s.contains(" reported 2.00 MiB"), "{s}");
    assert_snapshot!("probe_failure_80x24", t.backend());
}

#[test]
fn drained_with_a_probe_needs_the_source_to_agree() {
    // The API says 0 lag and a still LatestEndLsn for a minute, but the source keeps
    // writing past it (e.g. the walsender stalled): not DRAINED, and once the standby has
    // received nothing of it for seconds, not ready at all.
    let mut a = migtop::app::App::new(probed_config(), t0());
    run_probed(&mut a, 60, |s| {
        let end = 0x5_0000_0000;
        (pos(end, 0), Some(end + s as u64 * 1000))
    });
    select_task(&mut a, 401);
    let v = &a.selected_task().unwrap().verdict;
    assert!(
        matches!(
            v.reasons(),
            [migtop::verdict::readiness::Reason::NotReceiving { .. }]
        ),
        "{v:?}"
    );
    // When the source agrees (its position is ReplayLsn), it is.
    let mut a = migtop::app::App::new(probed_config(), t0());
    run_probed(&mut a, 60, |_| {
        let end = 0x5_0000_0000;
        (pos(end, 0), Some(end))
    });
    select_task(&mut a, 401);
    assert_eq!(
        a.selected_task().unwrap().verdict.kind(),
        VerdictKind::Drained
    );
}

/// Past the switchover the badge says where the task is instead of raising NOT READY.
#[test]
fn finished_and_switching_tasks_are_not_alarms() {
    for (stage, state, badge) in [
        ("success", "finish", "FINISHED"),
        ("switch", "streaming", "SWITCHING"),
    ] {
        let mut a = app();
        ok(
            &mut a,
            "pgm-demo-east",
            0,
            vec![item(901, "done-task", stage, state, None, DETAIL)],
        );
        a.update(Action::Tick(at(1)));
        select_task(&mut a, 901);
        let s = screen(&render(&mut a, 80, 24));
        assert!(s.contains(badge), "{badge} missing:\n{s}");
        assert!(!s.contains("NOT READY"), "{s}");
    }
}

/// Task 401 streaming at 40 MiB behind, then its standby disconnected from 25 s on: the
/// positions RDS reports freeze while the source may write on.
fn disconnected_app(cfg: migtop::app::AppConfig) -> migtop::app::App {
    let mut a = migtop::app::App::new(cfg, t0());
    let main = pos(0x5_0000_0000, 40 * MIB);
    let mut s = 0;
    while s <= 40 {
        let mut east = east_items(main);
        if s >= 25 {
            east[0] = item(401, "orders", "increment", "disconnect", Some(main), DETAIL);
        }
        ok(&mut a, "pgm-demo-east", s, east);
        ok(&mut a, "pgm-demo-west", s, west_items());
        s += 5;
    }
    a.update(Action::Tick(at(40) + chrono::Duration::milliseconds(1500)));
    select_task(&mut a, 401);
    a
}

/// A disconnected standby: its lag is only a lower bound, everywhere it shows.
#[test]
fn disconnected_lag_is_a_lower_bound_80x24_and_120x40() {
    let mut a = disconnected_app(config());
    assert!(a.selected_task().unwrap().lag_is_lower_bound());
    let t = render(&mut a, 80, 24);
    let s = screen(&t);
    assert!(s.contains("disconnect ≥ 40.0 MiB"), "the LAG cell: {s}");
    // The link is cut: neither the reported end's rate nor the replay's says how the lag
    // will move (issue 19, item 7).
    assert!(
        s.contains("WAL unknown · replay unknown"),
        "no rate while the link is cut: {s}"
    );
    assert!(s.contains(" ≥ 40.0 MiB ▕"), "the gauge: {s}");
    assert!(s.contains("lower bound: no ETA"), "{s}");
    assert!(s.contains("lag > 16.0 MiB"), "the short reason: {s}");
    for exact in ["caught up", "keeping up", "ETA "] {
        assert!(!s.contains(exact), "{exact}: {s}");
    }
    assert_snapshot!("disconnected_80x24", t.backend());
    let t = render(&mut a, 120, 40);
    let s = screen(&t);
    assert!(s.contains("not received ≥ 20.0 MiB"), "{s}");
    assert!(s.contains("lag ≥ 40.0 MiB > 16.0 MiB"), "{s}");
    assert_snapshot!("disconnected_120x40", t.backend());
}

/// The switchover dialog of a disconnected standby says its lag is a lower bound.
#[test]
fn switchover_dialog_of_a_disconnected_standby_80x24() {
    let mut cfg = config();
    cfg.allow_switchover = true;
    let mut a = disconnected_app(cfg);
    a.on_key(ch('S'));
    let t = render(&mut a, 80, 24);
    let s = screen(&t);
    assert!(s.contains("lag ≥ 40.0 MiB"), "{s}");
    assert_snapshot!("switchover_disconnected_80x24", t.backend());
}

/// The standby still says streaming, but nothing has come from the source since 0 s: past
/// the keepalive period (30 s, assumed) the link is dead and the lag only a lower bound.
#[test]
fn a_silent_link_makes_the_lag_a_lower_bound_80x24() {
    let mut a = app();
    let main = pos(0x5_0000_0000, 2 * MIB);
    let mut s = 0;
    // Silent past the assumed keepalive period (30 s) and its grace (15 s).
    while s <= 50 {
        // The items' receipt time is t0's: it never moves.
        ok_as_is(&mut a, "pgm-demo-east", s, east_items(main));
        ok(&mut a, "pgm-demo-west", s, west_items());
        s += 5;
    }
    a.update(Action::Tick(at(50) + chrono::Duration::milliseconds(1500)));
    select_task(&mut a, 401);
    let e = a.selected_task().unwrap();
    assert_eq!(e.verdict.kind(), VerdictKind::NotReady, "{:?}", e.verdict);
    assert!(e.lag_is_lower_bound());
    let t = render(&mut a, 80, 24);
    let s = screen(&t);
    assert!(s.contains("streaming  ≥ 2.00 MiB"), "{s}");
    assert!(s.contains("no message"), "{s}");
    assert!(s.contains("lower bound: no ETA"), "{s}");
    assert_snapshot!("silent_link_80x24", t.backend());
}

/// A finished task: its final state, no rates, nothing to catch up.
#[test]
fn a_finished_task_shows_no_rates_80x24_and_120x40() {
    let mut a = in_sync_app();
    select_task(&mut a, 502);
    let t = render(&mut a, 80, 24);
    let s = screen(&t);
    assert!(s.contains("final: state finish · replayed to 9/0"), "{s}");
    assert!(s.contains("migration finished"), "{s}");
    for rate in ["B/s", "caught up", "ETA"] {
        assert!(!s.contains(rate), "{rate}: {s}");
    }
    assert_snapshot!("finished_80x24", t.backend());
    assert_snapshot!("finished_120x40", render(&mut a, 120, 40).backend());
}

/// Issue 19, item 7: with one source per instance (the demo's simulated probe), Details'
/// `Src LSN` is the selected task's own source, not the last one read.
#[test]
fn details_show_the_selected_task_s_own_source_position() {
    let mut c = probed_config();
    c.instances = vec!["pgm-east".into(), "pgm-west".into()];
    let mut a = migtop::app::App::new(c, at(0));
    let east = 0x5_0000_0000u64;
    let west = 0x9_0000_0000u64;
    ok_probed(
        &mut a,
        "pgm-east",
        0,
        vec![item(
            1,
            "east",
            "increment",
            "streaming",
            Some(pos(east, 0)),
            "",
        )],
        source_at(0, east),
    );
    // West is read last: its position is the newest reading of all.
    ok_probed(
        &mut a,
        "pgm-west",
        1,
        vec![item(
            2,
            "west",
            "increment",
            "streaming",
            Some(pos(west, 0)),
            "",
        )],
        source_at(1, west),
    );
    select_task(&mut a, 1);
    let s = screen(&render(&mut a, 120, 40));
    assert!(s.contains("5/0 ("), "east's own source position: {s}");
    assert!(!s.contains("9/0 ("), "not west's: {s}");
}
