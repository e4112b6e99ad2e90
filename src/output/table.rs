//! The compact human table of `migtop status`.

use crate::aliyun::{ApiError, InstanceSnapshot};

use crate::units;

/// Renders every instance's tasks as aligned columns; errored instances get one line each.
pub fn render(results: &[(String, Result<InstanceSnapshot, ApiError>)]) -> String {
    let header = [
        "INSTANCE", "TASK", "STAGE", "STATE", "LAG", "SYNCED", "PRECHECK",
    ];
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
                    let name = match t.task_id {
                        Some(id) => format!("{id} {}", t.task_name.as_deref().unwrap_or(""))
                            .trim_end()
                            .to_string(),
                        None => t.display_name(),
                    };
                    rows.push(vec![
                        instance.clone(),
                        name,
                        t.stage
                            .as_ref()
                            .map(|s| {
                                format!(
                                    "{s} ({}/6)",
                                    s.index().map_or("?".into(), |i| i.to_string())
                                )
                            })
                            .unwrap_or_else(|| "-".into()),
                        t.replication_state
                            .as_ref()
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| "-".into()),
                        r.and_then(|r| r.lag_bytes())
                            .map(units::bytes)
                            .unwrap_or_else(|| "unknown".into()),
                        r.and_then(|r| r.synced)
                            .map(|b| if b { "yes" } else { "no" }.to_string())
                            .unwrap_or_else(|| "-".into()),
                        format!("{} ok, {} warn, {} fail", c.success, c.warning, c.fail),
                    ]);
                }
            }
            Err(_) => notes.push(format!("{instance}: not read (the error is on stderr)")),
        }
    }
    let mut out = String::new();
    if rows.len() > 1 {
        let widths: Vec<usize> = (0..header.len())
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        for r in &rows {
            let line: Vec<String> = r
                .iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
        }
    }
    for n in notes {
        out.push_str(&n);
        out.push('\n');
    }
    out
}
