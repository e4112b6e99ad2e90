//! Key-script tests: keys in, state and commands out, no terminal.

use std::time::Duration;

use crossterm::event::KeyCode;
use migtop::app::{Action, Effect, Focus, Overlay, SwitchPhase};
use migtop::poller::Control;
use migtop::verdict::readiness::VerdictKind;

use crate::support::dashboard::*;
use crate::support::keys::*;

fn selected_id(a: &migtop::app::App) -> Option<i64> {
    a.selected_task().and_then(|e| e.task.task_id)
}

#[test]
fn select_moves_across_instances_and_sticks_to_the_task() {
    let mut a = app();
    run(&mut a, 0, |_| pos(0x5_0000_0000, MIB));
    a.update(Action::Resize(80, 24));
    assert_eq!(selected_id(&a), Some(401));
    a.on_key(ch('j'));
    a.on_key(key(KeyCode::Down));
    assert_eq!(selected_id(&a), Some(403));
    a.on_key(ch('j'));
    assert_eq!(
        selected_id(&a),
        Some(501),
        "moves on into the next instance"
    );
    a.on_key(ch('G'));
    assert_eq!(selected_id(&a), Some(502));
    a.on_key(ch('j'));
    assert_eq!(selected_id(&a), Some(502), "stops at the end");
    a.on_key(ch('k'));
    a.on_key(key(KeyCode::Up));
    assert_eq!(selected_id(&a), Some(403));
    a.on_key(ch('g'));
    assert_eq!(selected_id(&a), Some(401));
    // The selection follows the task when rows change under it.
    select_task(&mut a, 403);
    let mut items = east_items(pos(0x5_0000_0000, MIB));
    items.remove(0);
    ok(&mut a, "pgm-demo-east", 5, items);
    assert_eq!(selected_id(&a), Some(403));
    // And the table scrolls to keep it visible.
    a.update(Action::Resize(60, 18));
    a.on_key(ch('G'));
    assert!(a.task_offset() > 0, "offset {}", a.task_offset());
    a.on_key(ch('g'));
    assert_eq!(a.task_offset(), 0);
}

fn long_log_app() -> migtop::app::App {
    let mut a = app();
    let mut d = String::from(DETAIL);
    for i in 0..80 {
        d.push_str(&format!(
            r"2026-03-01 14:{:02}:{:02} --- step {i} done\n",
            10 + i / 60,
            i % 60
        ));
    }
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
            &d,
        )],
    );
    a.update(Action::Resize(80, 24));
    a
}

#[test]
fn scrolling_the_log() {
    let mut a = long_log_app();
    // From the top (the log opens at its first warning).
    a.update(Action::LogTop);
    a.on_key(key(KeyCode::PageDown));
    let page = a.log().scroll;
    assert!(page >= 4, "a page is most of the viewport: {page}");
    a.on_key(ctrl('d'));
    let half = a.log().scroll - page;
    assert!(half >= 2 && half < page, "half page {half}");
    a.on_key(ctrl('u'));
    assert_eq!(a.log().scroll, page);
    a.on_key(key(KeyCode::PageUp));
    assert_eq!(a.log().scroll, 0);
    a.on_key(key(KeyCode::PageUp));
    assert_eq!(a.log().scroll, 0, "never above the top");
    // With focus on the log, j/k and g/G scroll it instead of moving the selection.
    a.on_key(key(KeyCode::Tab));
    assert_eq!(a.focus(), Focus::Log);
    a.on_key(ch('j'));
    a.on_key(ch('j'));
    assert_eq!(a.log().scroll, 2);
    a.on_key(ch('G'));
    let bottom = a.log().scroll;
    for _ in 0..5 {
        a.on_key(key(KeyCode::PageDown));
    }
    assert_eq!(a.log().scroll, bottom, "never below the bottom");
    a.on_key(ch('g'));
    assert_eq!(a.log().scroll, 0);
    a.on_key(key(KeyCode::Tab));
    assert_eq!(a.focus(), Focus::Tasks);
}

#[test]
fn follow_keeps_the_tail_in_view() {
    let mut a = long_log_app();
    a.on_key(ch('f'));
    assert!(a.log().follow);
    let mut d = String::from(DETAIL);
    for i in 0..120 {
        d.push_str(&format!(r"2026-03-01 15:00:00 --- more {i}\n"));
    }
    ok(
        &mut a,
        "pgm-demo-east",
        5,
        vec![item(
            401,
            "orders",
            "increment",
            "streaming",
            Some(pos(0x5_0000_0000, MIB)),
            &d,
        )],
    );
    let s = screen(&render(&mut a, 80, 24));
    assert!(s.contains("more 119"), "{s}");
    // Scrolling up leaves follow mode.
    a.on_key(key(KeyCode::PageUp));
    assert!(!a.log().follow);
    let s = screen(&render(&mut a, 80, 24));
    assert!(!s.contains("more 119"), "{s}");
}

#[test]
fn search_with_next_and_previous() {
    let mut a = long_log_app();
    a.on_key(ch('/'));
    assert_eq!(a.focus(), Focus::Log);
    assert!(a.log().input.is_some());
    // While typing, keys are text: q does not quit.
    let cmds = typing(&mut a, "step 1");
    assert!(cmds.is_empty());
    assert!(!a.quit());
    a.on_key(key(KeyCode::Backspace));
    typing(&mut a, "1");
    a.on_key(key(KeyCode::Enter));
    let s = a.log().search.clone().unwrap();
    assert_eq!(s.query, "step 1");
    // "step 1", "step 10".."step 19": 11 matches.
    assert_eq!(s.matches.len(), 11);
    assert_eq!(s.current, Some(0));
    let first_scroll = a.log().scroll;
    assert!(first_scroll > 0, "jumped down to the first match");
    a.on_key(ch('n'));
    assert_eq!(a.log().search.as_ref().unwrap().current, Some(1));
    a.on_key(ch('N'));
    a.on_key(ch('N'));
    assert_eq!(
        a.log().search.as_ref().unwrap().current,
        Some(10),
        "wraps around"
    );
    a.on_key(ch('n'));
    assert_eq!(a.log().search.as_ref().unwrap().current, Some(0));
    // Case-insensitive.
    a.on_key(ch('/'));
    typing(&mut a, "GLIBC");
    a.on_key(key(KeyCode::Enter));
    assert_eq!(a.log().search.as_ref().unwrap().matches.len(), 2);
    // Esc clears the search; Esc while typing cancels only the typing.
    a.on_key(ch('/'));
    typing(&mut a, "zzz");
    a.on_key(key(KeyCode::Esc));
    assert!(a.log().input.is_none());
    assert_eq!(a.log().search.as_ref().unwrap().query, "GLIBC");
    a.on_key(key(KeyCode::Esc));
    assert!(a.log().search.is_none());
    // A search with no match.
    a.on_key(ch('/'));
    typing(&mut a, "no such text");
    a.on_key(key(KeyCode::Enter));
    assert!(a.log().search.as_ref().unwrap().matches.is_empty());
    let s = screen(&render(&mut a, 80, 24));
    assert!(s.contains("no match"), "{s}");
}

#[test]
fn pause_poll_now_and_interval() {
    let mut a = app();
    assert_eq!(a.on_key(ch('r')), vec![Effect::Poller(Control::PollNow)]);
    assert_eq!(
        a.on_key(ch('p')),
        vec![Effect::Poller(Control::Pause(true))]
    );
    assert!(a.paused());
    let s = screen(&render(&mut a, 80, 24));
    assert!(s.contains("PAUSED"), "{s}");
    assert_eq!(
        a.on_key(ch(' ')),
        vec![Effect::Poller(Control::Pause(false))]
    );
    assert!(!a.paused());
    assert_eq!(
        a.on_key(ch('+')),
        vec![Effect::Poller(Control::Interval(Duration::from_secs(10)))]
    );
    a.on_key(ch('-'));
    a.on_key(ch('-'));
    a.on_key(ch('-'));
    a.on_key(ch('-'));
    assert_eq!(a.interval(), Duration::from_secs(1));
    assert!(a.on_key(ch('-')).is_empty(), "1 s is the floor");
    for _ in 0..30 {
        a.on_key(ch('+'));
    }
    assert_eq!(a.interval(), Duration::from_secs(3600));
    // The interval decides staleness.
    let s = screen(&render(&mut a, 80, 24));
    assert!(s.contains("every 1h"), "{s}");
}

#[test]
fn help_and_quit() {
    let mut a = app();
    a.on_key(ch('?'));
    assert_eq!(a.overlay(), Some(&Overlay::Help));
    a.on_key(ch('j'));
    assert_eq!(
        a.overlay(),
        Some(&Overlay::Help),
        "keys other than close are ignored"
    );
    a.on_key(key(KeyCode::Esc));
    assert_eq!(a.overlay(), None);
    a.on_key(ch('?'));
    a.on_key(ch('?'));
    assert_eq!(a.overlay(), None);
    assert_eq!(a.on_key(ch('q')), vec![]);
    assert!(a.quit());
    let mut a = app();
    a.on_key(ch('/'));
    assert_eq!(a.on_key(ctrl('c')), vec![]);
    assert!(a.quit(), "Ctrl-C quits even while typing");
}

#[test]
fn bells_on_stage_change_disconnect_and_readiness() {
    let mut a = app();
    let cmds = run(&mut a, 10, |s| pos(0x5_0000_0000 + s as u64 * MIB, MIB));
    assert!(
        !cmds.contains(&Effect::Bell),
        "no bell for what was already so"
    );
    // Stage change: 402 goes from basebackup to startup.
    let mut items = east_items(pos(0x5_0000_0000, MIB));
    items[1]["MigrateStage"] = "startup".into();
    assert!(ok(&mut a, "pgm-demo-east", 15, items.clone()).contains(&Effect::Bell));
    // Entering disconnect.
    items[0]["ReplicationState"] = "disconnect".into();
    assert!(ok(&mut a, "pgm-demo-east", 20, items.clone()).contains(&Effect::Bell));
    assert!(
        !ok(&mut a, "pgm-demo-east", 25, items).contains(&Effect::Bell),
        "only on entering"
    );
    // Reaching IN SYNC rings once; staying there does not.
    let mut a = app();
    let mut bells = 0;
    for s in (0..=60).step_by(5) {
        let c = ok(
            &mut a,
            "pgm-demo-east",
            s,
            east_items(pos(0x5_0000_0000 + s as u64 * MIB, MIB)),
        );
        bells += c.iter().filter(|c| **c == Effect::Bell).count();
    }
    assert_eq!(bells, 1);
    select_task(&mut a, 401);
    assert_eq!(
        a.selected_task().unwrap().verdict.kind(),
        VerdictKind::InSync
    );
    // --no-bell silences everything.
    let mut cfg = config();
    cfg.bell = false;
    let mut a = migtop::app::App::new(cfg, t0());
    run(&mut a, 0, |_| pos(0x5_0000_0000, MIB));
    let mut items = east_items(pos(0x5_0000_0000, MIB));
    items[1]["MigrateStage"] = "startup".into();
    assert!(!ok(&mut a, "pgm-demo-east", 5, items).contains(&Effect::Bell));
}

#[test]
fn switchover_needs_the_flag_the_stage_and_the_typed_id() {
    let mut a = app();
    run(&mut a, 40, |s| pos(0x5_0000_0000 + s as u64 * MIB, MIB));
    a.on_key(ch('S'));
    assert!(
        matches!(&a.overlay(), Some(Overlay::Notice { text, .. }) if text.contains("--allow-switchover"))
    );
    a.on_key(key(KeyCode::Esc));

    let mut cfg = config();
    cfg.allow_switchover = true;
    let mut a = migtop::app::App::new(cfg, t0());
    run(&mut a, 40, |s| pos(0x5_0000_0000 + s as u64 * MIB, MIB));
    // Not in increment: explained, no dialog.
    select_task(&mut a, 402);
    a.on_key(ch('S'));
    assert!(
        matches!(&a.overlay(), Some(Overlay::Notice { text, .. }) if text.contains("basebackup"))
    );
    a.on_key(key(KeyCode::Esc));
    select_task(&mut a, 401);
    a.on_key(ch('S'));
    assert!(matches!(a.overlay(), Some(Overlay::Switchover(_))));
    // A wrong id is refused; q is text here, not quit.
    typing(&mut a, "pgm-demo-wesq");
    assert!(!a.quit());
    assert!(a.on_key(key(KeyCode::Enter)).is_empty());
    let Some(Overlay::Switchover(d)) = &a.overlay() else {
        panic!()
    };
    assert!(d.hint.is_some());
    for _ in 0..4 {
        a.on_key(key(KeyCode::Backspace));
    }
    typing(&mut a, "east");
    assert_eq!(
        a.on_key(key(KeyCode::Enter)),
        vec![Effect::Switchover {
            instance: "pgm-demo-east".into()
        }]
    );
    let Some(Overlay::Switchover(d)) = &a.overlay() else {
        panic!()
    };
    assert_eq!(d.phase, SwitchPhase::Sending);
    // Enter again does not send twice.
    assert!(a.on_key(key(KeyCode::Enter)).is_empty());
    let answer =
        serde_json::json!({"RequestId": "R-9", "TaskId": 401, "DBInstanceName": "pgm-demo-east"});
    assert_eq!(
        a.update(Action::SwitchoverDone(Ok(answer))),
        vec![Effect::Poller(Control::PollNow)]
    );
    let Some(Overlay::Switchover(d)) = &a.overlay() else {
        panic!()
    };
    assert!(matches!(&d.phase, SwitchPhase::Done(Ok(t)) if t.contains("R-9")));
    let s = screen(&render(&mut a, 80, 24));
    assert!(s.contains("accepted"), "{s}");
    // Once sent, the dialog reports where the task is, not a verdict about switching again.
    assert!(!s.contains("Not DRAINED"), "{s}");
    assert!(s.contains("Now: stage increment"), "{s}");
    a.on_key(key(KeyCode::Enter));
    assert_eq!(a.overlay(), None);
    // A refusal is shown as the API's sentence.
    a.on_key(ch('S'));
    typing(&mut a, "pgm-demo-east");
    a.on_key(key(KeyCode::Enter));
    let err = migtop::aliyun::ApiError::Api {
        code: "InvalidMigrateStatus".into(),
        message: "The migrate target instance is not synced with source instance.".into(),
        request_id: Some("R-10".into()),
        http_status: 400,
    };
    assert!(a.update(Action::SwitchoverDone(Err(err))).is_empty());
    let s = screen(&render(&mut a, 80, 24));
    assert!(s.contains("InvalidMigrateStatus"), "{s}");
}

#[test]
fn failed_polls_leave_gaps_and_errors_clear_on_success() {
    let mut a = app();
    run(&mut a, 10, |_| pos(0x5_0000_0000, MIB));
    fail(&mut a, "pgm-demo-east", 15, throttled(), 10);
    let inst = &a.instances()[0];
    assert_eq!(inst.failures, 1);
    assert!(inst.last_error.is_some());
    select_task(&mut a, 401);
    let series = a.selected_task().unwrap().history.lag_series(10);
    assert_eq!(series.last(), Some(&None), "a gap where the poll failed");
    ok(
        &mut a,
        "pgm-demo-east",
        25,
        east_items(pos(0x5_0000_0000, MIB)),
    );
    assert!(a.instances()[0].last_error.is_none());
    assert_eq!(a.instances()[0].failures, 0);
}

#[test]
fn switchover_is_not_sent_once_the_task_left_increment() {
    let mut cfg = config();
    cfg.allow_switchover = true;
    let mut a = migtop::app::App::new(cfg, t0());
    run(&mut a, 40, |s| pos(0x5_0000_0000 + s as u64 * MIB, MIB));
    select_task(&mut a, 401);
    a.on_key(ch('S'));
    typing(&mut a, "pgm-demo-east");
    // Meanwhile someone else switched it over.
    let mut items = east_items(pos(0x5_0000_0000, 0));
    items[0]["MigrateStage"] = "switch".into();
    ok(&mut a, "pgm-demo-east", 45, items);
    assert!(a.on_key(key(KeyCode::Enter)).is_empty());
    let Some(Overlay::Switchover(d)) = &a.overlay() else {
        panic!()
    };
    assert_eq!(d.phase, SwitchPhase::Typing);
    assert!(d.hint.as_deref().unwrap().contains("no longer"));
}

#[test]
fn unreadable_items_are_reported_not_dropped_silently() {
    let mut a = app();
    let mut snap = snapshot("pgm-demo-east", east_items(pos(0x5_0000_0000, MIB)));
    snap.item_errors
        .push("item 4: task item is not an object but a number".into());
    a.update(Action::Poll(migtop::poller::PollEvent::Finished(
        migtop::poller::PollResult {
            instance: "pgm-demo-east".into(),
            started: at(0),
            at: at(0),
            result: Ok(snap),
            source: None,
        },
    )));
    let s = screen(&render(&mut a, 100, 30));
    assert!(s.contains("1 unreadable task skipped"), "{s}");
}

#[test]
fn the_log_opens_at_the_first_warning_or_failure() {
    let mut a = app();
    run(&mut a, 0, |_| pos(0x5_0000_0000, MIB));
    a.update(Action::Resize(80, 24));
    select_task(&mut a, 401);
    let s = screen(&render(&mut a, 80, 24));
    assert!(s.contains("[Check source glibc version]"), "{s}");
    assert!(s.contains("Check source glibc version compatible"), "{s}");
    // Each newly selected task opens at its own first problem.
    select_task(&mut a, 501);
    let s = screen(&render(&mut a, 80, 24));
    assert!(s.contains("Check disk size enough: fail"), "{s}");
    // Once scrolled by hand, the position sticks as the log refreshes.
    a.on_key(key(KeyCode::PageUp));
    let s = screen(&render(&mut a, 80, 24));
    assert!(s.contains("[Check rds empty]"), "{s}");
    run(&mut a, 5, |_| pos(0x5_0000_0000, MIB));
    let s = screen(&render(&mut a, 80, 24));
    assert!(s.contains("[Check rds empty]"), "{s}");
}

#[test]
fn a_scrolled_table_still_names_the_instance_of_its_first_row() {
    let mut a = app();
    run(&mut a, 0, |_| pos(0x5_0000_0000, MIB));
    a.update(Action::Resize(80, 20));
    // Two rows in view; move to the third task so the view starts inside east's group.
    a.on_key(ch('j'));
    a.on_key(ch('j'));
    assert_eq!(a.task_offset(), 1);
    assert_eq!(selected_id(&a), Some(403));
    let s = screen(&render(&mut a, 80, 20));
    let first_row = s.lines().nth(3).unwrap();
    // At 80 columns the id is shortened in the middle (`pgm-de…-east`).
    assert!(
        first_row.contains("pgm-de") && first_row.contains("-east"),
        "{s}"
    );
}
