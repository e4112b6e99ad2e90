//! The compact human table of `migtop status`.

use crate::aliyun::{ApiError, InstanceSnapshot};
use crate::commands::output::json::Blockers;
use crate::model::{Stage, Task};
use crate::probe::{ProbeReport, SourceComparison};
use crate::verdict::history::SampleData;
use crate::verdict::readiness::{self, Verdict, VerdictKind};

use crate::util::text;
use crate::util::units;

/// Columns a cell takes at most; longer server text is cut with `…` (a 65,536-column pad
/// would also overflow `format!`'s width).
pub const MAX_CELL: usize = 60;

/// Renders every instance's tasks as aligned columns; errored instances get one line each.
/// LAG is the judged lag ([`SampleData::judged_lag`]), `≥ X` when only a lower bound
/// ([`readiness::lag_is_lower_bound`]): with a source probe, the larger of the reported and
/// the true lag, and a TRUE LAG column (source position − ReplayLsn) follows it.
/// READY, last, is `yes` when nothing in this poll rules a switchover out (see the note it
/// adds), else the first blocker in short form and how many more there are.
pub fn render(
    results: &[(String, Result<InstanceSnapshot, ApiError>)],
    probe: Option<&ProbeReport>,
    blockers: &Blockers,
) -> String {
    let mut header = vec!["INSTANCE", "TASK", "STAGE", "STATE", "LAG"];
    if probe.is_some() {
        header.push("TRUE LAG");
    }
    header.extend(["SYNCED", "PRECHECK", "READY"]);
    let mut any_yes = false;
    let sample = probe.and_then(|p| p.sample());
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    let mut notes = Vec::new();
    for (instance, result) in results {
        match result {
            Ok(snap) if snap.tasks.is_empty() => {
                notes.push(format!("{instance}: no migration tasks"))
            }
            Ok(snap) => {
                for t in &snap.tasks {
                    let r = t.replication.as_ref();
                    let c = t.precheck.counts;
                    let data = SampleData::probed(t, probe.is_some(), sample);
                    let reasons = blockers.get(&t.key()).map(Vec::as_slice).unwrap_or(&[]);
                    let name = match t.task_id {
                        Some(id) => format!("{id} {}", t.task_name.as_deref().unwrap_or(""))
                            .trim_end()
                            .to_string(),
                        None => t.display_name(),
                    };
                    let mut row = vec![
                        instance.clone(),
                        name,
                        t.stage
                            .as_ref()
                            .map(|s| {
                                let n = s.index().map_or("?".into(), |i| i.to_string());
                                match backup_percent(t) {
                                    Some(p) => format!("{s} {p}% ({n}/6)"),
                                    None => format!("{s} ({n}/6)"),
                                }
                            })
                            .unwrap_or_else(|| "-".into()),
                        t.replication_state
                            .as_ref()
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| "-".into()),
                        // The lag readiness judges, as the dashboard's task table shows it:
                        // `≥ X` when only a lower bound.
                        data.judged_lag()
                            .map(|l| units::lag(l, readiness::lag_is_lower_bound(&data, reasons)))
                            .unwrap_or_else(|| "unknown".into()),
                    ];
                    if probe.is_some() {
                        row.push(
                            sample
                                .and_then(|s| SourceComparison::new(s, r).true_lag_bytes)
                                .map(units::bytes)
                                .unwrap_or_else(|| "unknown".into()),
                        );
                    }
                    row.extend([
                        r.and_then(|r| r.synced)
                            .map(|b| if b { "yes" } else { "no" }.to_string())
                            .unwrap_or_else(|| "-".into()),
                        format!("{} ok, {} warn, {} fail", c.success, c.warning, c.fail),
                        match reasons {
                            // Past the switchover: where the task is, not a blocker.
                            _ if past_switchover(reasons) => {
                                Verdict::NotReady(reasons.to_vec()).label().to_string()
                            }
                            [] => {
                                any_yes = true;
                                "yes".to_string()
                            }
                            [one] => one.short(),
                            [first, more @ ..] => format!("{} (+{})", first.short(), more.len()),
                        },
                    ]);
                    rows.push(row);
                }
            }
            Err(_) => notes.push(format!("{instance}: not read (the error is on stderr)")),
        }
    }
    // Server text reaches the terminal only through here: control characters stripped, cut.
    for r in &mut rows {
        for cell in r.iter_mut() {
            *cell = text::truncate(&text::printable(cell), MAX_CELL).into_owned();
        }
    }
    let mut out = String::new();
    if rows.len() > 1 {
        let widths: Vec<usize> = (0..header.len())
            .map(|c| rows.iter().map(|r| text::width(&r[c])).max().unwrap_or(0))
            .collect();
        for r in &rows {
            let mut line = String::new();
            for (i, (cell, w)) in r.iter().zip(&widths).enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                line.push_str(cell);
                line.extend(std::iter::repeat_n(
                    ' ',
                    w.saturating_sub(text::width(cell)),
                ));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    if let Some(p) = probe {
        notes.push(match sample {
            Some(s) => format!(
                "source {}: at {}{}{}",
                p.target,
                s.lsn,
                s.timeline
                    .map(|t| format!(" on timeline {t}"))
                    .unwrap_or_default(),
                if s.in_recovery {
                    " (the source is itself a standby)"
                } else {
                    ""
                }
            ),
            None => format!("source {}: not read (the error is on stderr)", p.target),
        });
        if let Some(c) = &p.checklist {
            notes.push(format!(
                "source checklist: {} (in {} database{})",
                c.counts_text(),
                c.databases.len(),
                if c.databases.len() == 1 { "" } else { "s" }
            ));
            for i in &c.items {
                notes.push(format!("  {}: {i}", i.severity().label()));
            }
        }
    }
    if any_yes {
        notes.push(
            "READY yes: nothing in this one poll rules a switchover out; IN SYNC needs the lag \
             to hold for --stable-for (migtop wait --in-sync)"
                .to_string(),
        );
    }
    for n in notes {
        out.push_str(&text::printable(&n));
        out.push('\n');
    }
    out
}

/// Whether the one-poll verdict of these reasons is SWITCHING or FINISHED.
fn past_switchover(reasons: &[readiness::Reason]) -> bool {
    matches!(
        Verdict::NotReady(reasons.to_vec()).kind(),
        VerdictKind::Switching | VerdictKind::Finished
    )
}

/// The base backup's percentage by the newest progress line of `Detail`, in stage
/// basebackup (as the dashboard's STAGE cell shows it).
fn backup_percent(t: &Task) -> Option<u8> {
    if t.stage != Some(Stage::Basebackup) {
        return None;
    }
    let p = t.precheck.backup_readings(1).pop()?.progress.percent;
    (p < 100.0).then(|| p.floor() as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Task;
    use crate::probe::{ProbeError, SourceSample};

    fn results() -> Vec<(String, Result<InstanceSnapshot, ApiError>)> {
        one_task(serde_json::json!({
            "TaskId": 7,
            "MigrateStage": "increment",
            "ReplicationState": "streaming",
            "ReplicationInfo": "{\"ReceivedLsn\":\"0/3000000\",\"LatestEndLsn\":\"0/3000000\",\"ReplayLsn\":\"0/3000000\",\"Synced\":\"true\"}",
        }))
    }

    fn one_task(item: serde_json::Value) -> Vec<(String, Result<InstanceSnapshot, ApiError>)> {
        vec![(
            "pgm-1".to_string(),
            Ok(InstanceSnapshot {
                instance: "pgm-1".into(),
                request_id: None,
                tasks: vec![Task::from_value("pgm-1", &item).unwrap()],
                item_errors: vec![],
                ..Default::default()
            }),
        )]
    }

    #[test]
    fn a_huge_task_name_is_cut_not_a_panic() {
        let name = "n".repeat(70_000);
        let out = render(
            &one_task(serde_json::json!({"TaskId": 7, "TaskName": name})),
            None,
            &Blockers::new(),
        );
        let row = out.lines().nth(1).unwrap();
        assert!(
            row.contains(&format!("7 {}…", "n".repeat(MAX_CELL - 3))),
            "{row}"
        );
        assert!(out.len() < 1000, "{}", out.len());
    }

    #[test]
    fn a_base_backup_shows_its_percentage() {
        let row = |detail: &str| {
            let out = render(
                &one_task(serde_json::json!({
                    "TaskId": 7, "MigrateStage": "basebackup", "Detail": detail,
                })),
                None,
                &Blockers::new(),
            );
            out.lines().nth(1).unwrap().to_string()
        };
        let r = row(
            "2022-02-25 17:01:00 --- Backup data: 25% (4.50 GiB of 18.0 GiB)\n2022-02-25 17:02:40 --- Backup data: 50.5% (9.09 GiB of 18.0 GiB)",
        );
        assert!(r.contains("basebackup 50% (2/6)"), "{r}");
        for plain in ["", "Backup data: 100%", "Backup data: soon"] {
            let r = row(plain);
            assert!(r.contains("basebackup (2/6)"), "{plain:?}: {r}");
        }
    }

    #[test]
    fn escapes_in_task_fields_are_stripped() {
        let out = render(
            &one_task(serde_json::json!({
                "TaskId": 7,
                "TaskName": "a\x1b]52;c;aGVsbG8=\x07b\x1b[2J\x1b[?1049l\x07",
                "MigrateStage": "\x1b[31mweird\u{9b}2J",
                "ReplicationState": "x\x7fy",
            })),
            None,
            &Blockers::new(),
        );
        assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out:?}");
        assert!(out.contains("7 ab"), "{out}");
        assert!(out.contains("weird"), "{out}");
        assert!(out.contains("xy"), "{out}");
    }

    #[test]
    fn ready_shows_the_first_blocker_in_short_form() {
        let none = render(&results(), None, &Blockers::new());
        assert!(none.lines().nth(1).unwrap().ends_with("  yes"), "{none}");
        assert!(
            none.contains("READY yes: nothing in this one poll"),
            "{none}"
        );
        let mut b = Blockers::new();
        b.insert(
            "pgm-1/7".into(),
            vec![
                crate::verdict::readiness::Reason::State(Some(
                    crate::model::ReplicationState::Catchup,
                )),
                crate::verdict::readiness::Reason::NotSynced(Some(false)),
            ],
        );
        let out = render(&results(), None, &b);
        assert!(
            out.lines()
                .nth(1)
                .unwrap()
                .ends_with("  state catchup (+1)"),
            "{out}"
        );
        assert!(!out.contains("READY yes"), "{out}");
    }

    #[test]
    fn a_lower_bound_lag_reads_at_least() {
        let out = render(
            &one_task(serde_json::json!({
                "TaskId": 7,
                "MigrateStage": "increment",
                "ReplicationState": "disconnect",
                "ReplicationInfo": "{\"ReceivedLsn\":\"0/3000000\",\"LatestEndLsn\":\"0/3000000\",\"ReplayLsn\":\"0/3000000\"}",
            })),
            None,
            &Blockers::new(),
        );
        let row = out.lines().nth(1).unwrap();
        assert!(row.contains("disconnect  ≥ 0 B  "), "{out}");
    }

    #[test]
    fn no_true_lag_column_without_a_probe() {
        let out = render(&results(), None, &Blockers::new());
        assert!(!out.contains("TRUE LAG"), "{out}");
        assert!(!out.contains("source"), "{out}");
    }

    #[test]
    fn true_lag_column_with_a_probe() {
        let report = ProbeReport {
            target: "postgres://u@src/db".into(),
            result: Ok(SourceSample {
                at: chrono::Utc::now(),
                lsn: "0/3100000".parse().unwrap(),
                in_recovery: false,
                timeline: Some(2),
                server_version: None,
                round_trip_ms: 1,
                next_xid: None,
                xid_in_progress: None,
                wal_sender_timeout: None,
                simulated: false,
            }),
            checklist: None,
        };
        let out = render(&results(), Some(&report), &Blockers::new());
        let lines: Vec<&str> = out.lines().collect();
        let header: Vec<&str> = lines[0].split_whitespace().collect();
        assert!(
            header
                .windows(4)
                .any(|w| w == ["LAG", "TRUE", "LAG", "SYNCED"]),
            "{out}"
        );
        // LAG is the judged figure: the true lag is larger than the reported 0 B.
        assert!(lines[1].contains("1.00 MiB  1.00 MiB  yes"), "{out}");
        assert_eq!(
            lines[2],
            "source postgres://u@src/db: at 0/3100000 on timeline 2"
        );
    }

    #[test]
    fn lag_is_the_reported_one_when_larger_than_the_true_lag() {
        // The source is behind the standby's LatestEndLsn (read before the API answered):
        // the reported lag stands.
        let mut r = results();
        if let Ok(s) = &mut r[0].1 {
            s.tasks[0] = Task::from_value(
                "pgm-1",
                &serde_json::json!({
                    "TaskId": 7,
                    "MigrateStage": "increment",
                    "ReplicationState": "streaming",
                    "ReplicationInfo": "{\"ReceivedLsn\":\"0/3200000\",\"LatestEndLsn\":\"0/3200000\",\"ReplayLsn\":\"0/3000000\",\"Synced\":\"false\"}",
                }),
            )
            .unwrap();
        }
        let report = ProbeReport {
            target: "postgres://u@src/db".into(),
            result: Ok(SourceSample {
                at: chrono::Utc::now(),
                lsn: "0/3100000".parse().unwrap(),
                in_recovery: false,
                timeline: None,
                server_version: None,
                round_trip_ms: 1,
                next_xid: None,
                xid_in_progress: None,
                wal_sender_timeout: None,
                simulated: false,
            }),
            checklist: None,
        };
        let out = render(&r, Some(&report), &Blockers::new());
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[1].contains("2.00 MiB  1.00 MiB  no"), "{out}");
    }

    #[test]
    fn failed_probe_shows_unknown() {
        let report = ProbeReport {
            target: "postgres://u@src/db".into(),
            result: Err(ProbeError::Timeout {
                target: "postgres://u@src/db".into(),
                secs: 10,
            }),
            checklist: None,
        };
        let out = render(&results(), Some(&report), &Blockers::new());
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[1].contains("0 B  unknown   yes"), "{out}");
        assert!(lines[2].contains("not read"), "{out}");
    }

    #[test]
    fn a_finished_task_reads_finished_and_the_checklist_follows_the_table() {
        use crate::model::Stage;
        use crate::probe::checklist::{Finding, RelKind};
        use crate::verdict::readiness::Reason;
        let results = one_task(serde_json::json!({
            "TaskId": 7,
            "MigrateStage": "success",
            "ReplicationState": "finish",
        }));
        let mut blockers = Blockers::new();
        blockers.insert("pgm-1/7".into(), vec![Reason::Stage(Some(Stage::Success))]);
        let report = ProbeReport {
            target: "postgres://u@src/db".into(),
            result: Err(ProbeError::Config("x".into())),
            checklist: Some(Box::new(crate::probe::Checklist::new(
                chrono::Utc::now(),
                vec!["postgres".into()],
                vec![Finding::Unlogged {
                    database: "postgres".into(),
                    schema: "public".into(),
                    name: "cache\u{1b}[31m".into(),
                    relkind: RelKind::Table,
                    bytes: 8192,
                    rows: Some(1),
                }],
            ))),
        };
        let out = render(&results, Some(&report), &blockers);
        let row = out.lines().nth(1).unwrap();
        assert!(row.ends_with("FINISHED"), "{out}");
        assert!(
            out.contains("source checklist: 1 loses data (in 1 database)"),
            "{out}"
        );
        assert!(
            out.contains(
                "  loses data: unlogged table public.cache in postgres (8.00 KiB, ~1 row)"
            ),
            "{out}"
        );
        assert!(
            !out.contains('\u{1b}'),
            "server text is made printable: {out}"
        );
    }
}
