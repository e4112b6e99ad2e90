//! The source checklist on screen: DRAINED with unlogged tables says what is lost (never
//! "loses nothing"), the `S` dialog lists the items above the typed confirmation, and `c`
//! shows every item by severity; at 80x24 and 120x40.

use insta::assert_snapshot;
use migtop::probe::Checklist;
use migtop::probe::checklist::{Finding, RelKind};
use migtop::verdict::readiness::VerdictKind;

use crate::support::dashboard::*;
use crate::support::keys::*;

fn unlogged(db: &str, name: &str, bytes: u64, rows: Option<u64>) -> Finding {
    Finding::Unlogged {
        database: db.into(),
        schema: "public".into(),
        name: name.into(),
        relkind: RelKind::Table,
        bytes,
        rows,
    }
}

/// Unlogged tables in two databases and a logical slot: what the lab makes.
fn lossy(at_s: i64) -> Checklist {
    Checklist::new(
        at(at_s),
        vec!["postgres".into(), "shop".into()],
        vec![
            unlogged("postgres", "orders_cache", 3_358_720, Some(50_000)),
            unlogged("shop", "cart_cache", 1_212_416, Some(18_000)),
            Finding::LogicalSlot {
                name: "migtop_lab_cdc".into(),
                plugin: Some("test_decoding".into()),
                database: Some("postgres".into()),
                active: false,
            },
        ],
    )
}

/// Every severity, and what could not be read.
fn everything(at_s: i64) -> Checklist {
    let mut items = lossy(at_s).items;
    items.extend([
        Finding::Subscription {
            name: "from_legacy".into(),
            database: Some("shop".into()),
            enabled: true,
        },
        Finding::Prepared {
            gid: "migtop_lab_prepared".into(),
            database: "postgres".into(),
            age_secs: 754,
        },
        Finding::XidSession {
            pid: 48213,
            user: Some("app".into()),
            application: Some("orders-api".into()),
            client: Some("10.0.3.17".into()),
            age_secs: Some(3),
            query: Some("UPDATE orders SET paid = true WHERE id = $1".into()),
        },
        Finding::Unreadable {
            what: "database hr".into(),
            reason: "FATAL: permission denied for database \"hr\"".into(),
            severity: migtop::probe::checklist::Severity::LosesData,
        },
    ]);
    Checklist::new(at(at_s), vec!["postgres".into(), "shop".into()], items)
}

/// Feeds one more poll of both instances at `at_s`, the source at `end`, with `checklist`.
fn poll_with(app: &mut migtop::app::App, at_s: i64, end: u64, lag: u64, checklist: Checklist) {
    for (instance, items) in [
        ("pgm-demo-east", east_items(pos(end, lag))),
        ("pgm-demo-west", west_items()),
    ] {
        let mut report = source_at(at_s, end);
        report.checklist = Some(Box::new(checklist.clone()));
        ok_probed(app, instance, at_s, items, report);
    }
}

/// Task 401 DRAINED (the source idle for 45 s, all replayed), with unlogged tables.
fn drained_lossy_app(allow_switchover: bool) -> migtop::app::App {
    let mut cfg = probed_config();
    cfg.allow_switchover = allow_switchover;
    let mut a = migtop::app::App::new(cfg, t0());
    let end = |s: i64| 0x5_0000_0000 + s.min(15) as u64 * 2 * MIB;
    run_probed(&mut a, 60, |s| {
        (pos(end(s), if s < 15 { MIB } else { 0 }), Some(end(s)))
    });
    poll_with(&mut a, 65, end(65), 0, lossy(65));
    select_task(&mut a, 401);
    a
}

#[test]
fn drained_with_unlogged_tables_says_what_is_lost_80x24_and_120x40() {
    let mut a = drained_lossy_app(false);
    assert_eq!(
        a.selected_task().unwrap().verdict.kind(),
        VerdictKind::Drained
    );
    for (w, h) in [(80, 24), (120, 40)] {
        let t = render(&mut a, w, h);
        let s = screen(&t);
        assert!(!s.contains("loses nothing"), "{s}");
        assert!(s.contains("2 unlogged tables"), "{s}");
        assert_snapshot!(format!("drained_unlogged_{w}x{h}"), t.backend());
    }
}

#[test]
fn the_switchover_dialog_lists_the_checklist_80x24_and_120x40() {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut a = drained_lossy_app(true);
        a.on_key(ch('S'));
        typing(&mut a, "pgm-demo");
        let t = render(&mut a, w, h);
        let s = screen(&t);
        assert!(!s.contains("loses nothing"), "{s}");
        assert!(s.contains("orders_cache"), "{s}");
        assert!(s.contains("cart_cache"), "{s}");
        assert!(s.contains("Type the"), "{s}");
        // The items come above the confirmation.
        assert!(
            s.find("cart_cache").unwrap() < s.find("Type the").unwrap(),
            "{s}"
        );
        assert_snapshot!(format!("switchover_checklist_{w}x{h}"), t.backend());
    }
}

#[test]
fn the_checklist_overlay_80x24_and_120x40() {
    let mut a = drained_lossy_app(false);
    poll_with(&mut a, 70, 0x5_0000_0000 + 30 * MIB, 0, everything(70));
    a.on_key(ch('c'));
    for (w, h) in [(80, 24), (120, 40)] {
        let t = render(&mut a, w, h);
        let s = screen(&t);
        assert!(s.contains("Source checklist"), "{s}");
        assert!(s.contains("loses data (3)"), "{s}");
        assert_snapshot!(format!("checklist_overlay_{w}x{h}"), t.backend());
    }
    a.on_key(ch('c'));
    assert!(a.overlay().is_none(), "c closes it again");
}
