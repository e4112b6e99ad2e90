//! Whatever the API sends, decoding never panics and never invents numbers.

use migtop::model::{Lsn, Page, Precheck, ReplicationInfo};
use proptest::prelude::*;
use serde_json::Value;

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        ".{0,40}".prop_map(Value::String),
        prop_oneof![
            Just("null"),
            Just("0/3000148"),
            Just("increment"),
            Just("{\\\"Status\\\":\\\"x\\\"}")
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    let keys = prop_oneof![
        Just("Items".to_string()),
        Just("TaskId".to_string()),
        Just("MigrateStage".to_string()),
        Just("ReplicationInfo".to_string()),
        Just("Detail".to_string()),
        Just("TotalSize".to_string()),
        Just("SourcePort".to_string()),
        Just("GmtCreated".to_string()),
        "[A-Za-z]{1,8}",
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(keys.clone(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn pages_never_panic(v in arb_json()) {
        if let Ok(page) = Page::from_json("pgm-x", &v) {
            prop_assert_eq!(page.tasks.len() + page.item_errors.len(), page.item_count);
            for t in &page.tasks {
                // Lag figures are either derived from real LSNs or unknown.
                if let Some(r) = t.replication.as_ref().filter(|r| r.replay_lsn.is_none()) {
                    prop_assert_eq!(r.lag_bytes(), None);
                }
            }
        }
    }

    #[test]
    fn strings_never_panic(s in "\\PC{0,200}") {
        let _ = ReplicationInfo::parse(&s);
        let p = Precheck::parse(&s);
        prop_assert!(p.counts.success + p.counts.warning + p.counts.fail + p.counts.other <= p.lines.len());
        let _ = s.parse::<Lsn>();
        let _ = migtop::util::redact::conninfo(&s);
        let _ = migtop::model::value::timestamp(&s);
        let _ = migtop::model::xml::to_json(&s);
    }

    #[test]
    fn conninfo_password_never_survives(pw in "[A-Za-z0-9!@#%^&*]{6,20}", before in "[a-z]{0,5}", quoted in any::<bool>()) {
        let value = if quoted { format!("'{pw}'") } else { pw.clone() };
        let s = format!("user=u{before} password={value} host=h");
        let masked = migtop::util::redact::conninfo(&s);
        prop_assert_eq!(masked, format!("user=u{before} password=******** host=h"));
    }
}
