//! The reference page's samples, byte for byte, decode with all their quirks.

use migtop::model::{DetailLine, Lsn, Page, Severity, Stage, xml};

const JSON: &str = include_str!("../fixtures/doc-sample-response.json");
const XML: &str = include_str!("../fixtures/doc-sample-response.xml");

fn check(page: &Page) {
    assert_eq!(page.total_size, Some(1));
    assert_eq!(page.page_number, Some(1));
    assert_eq!(page.page_size, Some(10));
    assert_eq!(
        page.request_id.as_deref(),
        Some("1B983C48-9793-5EAA-8F7F-00EAEC517675")
    );
    assert_eq!(page.tasks.len(), 1);
    assert!(page.item_errors.is_empty());
    let t = &page.tasks[0];
    assert_eq!(t.task_id, Some(440437220));
    assert_eq!(
        t.task_name.as_deref(),
        Some("362c6c7a-4d20-4eac-898c-1495ceab374c")
    );
    assert_eq!(t.stage, Some(Stage::Increment));
    assert_eq!(t.stage.as_ref().unwrap().index(), Some(4));
    assert_eq!(t.source.category.as_deref(), Some("ecsonvpc"));
    assert_eq!(t.source.port, Some(5432));
    assert_eq!(t.source.account.as_deref(), Some("migratetest"));
    assert_eq!(t.created.unwrap().to_rfc3339(), "2022-02-25T08:53:13+00:00");
    assert_eq!(
        t.switch_time.unwrap().to_rfc3339(),
        "2022-03-01T06:40:51+00:00"
    );
    let r = t.replication.as_ref().expect("ReplicationInfo decodes");
    assert_eq!(r.status.as_deref(), Some("streaming"));
    assert_eq!(r.receive_start_lsn, Some(Lsn(0x3000000)));
    assert_eq!(r.received_lsn, Some(Lsn(0x3000148)));
    assert_eq!(r.latest_end_lsn, Some(Lsn(0x3000148)));
    assert_eq!(r.replay_lsn, Some(Lsn(0x3000148)));
    assert_eq!(
        (
            r.lag_bytes(),
            r.not_received_bytes(),
            r.not_replayed_bytes()
        ),
        (Some(0), Some(0), Some(0))
    );
    assert_eq!(r.synced, Some(true));
    assert_eq!(r.is_slave, Some(true));
    assert_eq!(r.replay_timestamp, None, "\"null\" is unknown");
    assert_eq!(
        r.last_msg_send_time.unwrap().to_rfc3339(),
        "2022-03-01T14:42:57.967537+08:00"
    );
    assert!(r.conninfo.as_deref().unwrap().contains("password=********"));
    let p = &t.precheck;
    assert_eq!(
        (p.counts.success, p.counts.warning, p.counts.fail),
        (11, 1, 0)
    );
    let sections: Vec<&str> = p
        .lines
        .iter()
        .filter_map(|l| {
            if let DetailLine::Section(s) = l {
                Some(s.as_str())
            } else {
                None
            }
        })
        .collect();
    assert_eq!(sections.len(), 9);
    assert_eq!(sections[0], "Check rds empty");
    assert_eq!(sections[8], "Synchronize data");
    assert!(p.lines.iter().any(|l| matches!(l, DetailLine::Check { severity: Severity::Warning, message: Some(m), .. } if m == "source glibc version is not compatible with rds pg")));
    assert_eq!(
        p.lines
            .iter()
            .filter(|l| matches!(l, DetailLine::Progress { time: Some(_), .. }))
            .count(),
        2
    );
    assert!(
        !format!("{page:?}").contains("123456"),
        "SourcePassword is never kept"
    );
}

#[test]
fn json_sample() {
    let v: serde_json::Value = serde_json::from_str(JSON).unwrap();
    check(&Page::from_json("pgm-bp102g323jd4****", &v).unwrap());
}

#[test]
fn xml_sample() {
    let v = xml::to_json(XML).unwrap();
    check(&Page::from_json("pgm-bp102g323jd4****", &v).unwrap());
}

#[test]
fn sample_variations() {
    let mut v: serde_json::Value = serde_json::from_str(JSON).unwrap();
    // Items as an array, as the SDK model has it.
    let item = v["Items"].clone();
    v["Items"] = serde_json::json!([item.clone(), item.clone()]);
    assert_eq!(Page::from_json("i", &v).unwrap().tasks.len(), 2);
    // Plain ReplicationInfo, real newlines, numbers as strings, strings as numbers.
    let mut plain = item.clone();
    plain["ReplicationInfo"] = item["ReplicationInfo"]
        .as_str()
        .unwrap()
        .replace("\\\"", "\"")
        .into();
    plain["Detail"] = item["Detail"].as_str().unwrap().replace("\\n", "\n").into();
    plain["TaskId"] = "440437220".into();
    plain["SourcePort"] = "5432".into();
    plain["TaskName"] = 12345.into();
    v["Items"] = plain;
    let page = Page::from_json("i", &v).unwrap();
    let t = &page.tasks[0];
    assert_eq!(t.task_id, Some(440437220));
    assert_eq!(t.task_name.as_deref(), Some("12345"));
    assert_eq!(
        t.replication.as_ref().unwrap().replay_lsn,
        Some(Lsn(0x3000148))
    );
    assert_eq!(t.precheck.counts.warning, 1);
    // Items absent.
    v.as_object_mut().unwrap().remove("Items");
    assert!(Page::from_json("i", &v).unwrap().tasks.is_empty());
}
