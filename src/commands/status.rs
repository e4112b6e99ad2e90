//! `migtop status`: one poll of every instance, printed as a table or JSON.
//!
//! With `--source-dsn`, the source is read once *after* the API answered, so its position is
//! never behind what the standby had replayed when the API read it: the true lag can only be
//! overstated by the WAL written in between (milliseconds' worth), never understated.
//!
//! Exit codes depend on the API reads only. A source probe failure is one sentence on stderr
//! and `source_probe.error` in JSON (`source_lsn` and `true_lag_bytes` are then `null`); the
//! exit code stays what the API reads made it, since the API read itself succeeded.

use super::api;
use crate::aliyun::{ApiError, InstanceSnapshot};
use crate::cli::{OutputFormat, StatusArgs};
use crate::error::{EXIT_API, EXIT_OK, say};
use crate::output::{json, table};
use crate::probe::SourceComparison;

/// Polls every instance once, concurrently, prints what was read and returns the exit code.
pub async fn run(args: StatusArgs) -> anyhow::Result<i32> {
    let client = api::client(&args.api)?;
    let mut probe = api::source_probe(&args.api)?;
    let filter = api::filter(&args.api);
    let reads = args.api.instances.iter().map(|i| {
        let client = client.clone();
        let filter = filter.clone();
        async move { (i.clone(), client.describe_tasks(i, &filter).await) }
    });
    let results: Vec<(String, Result<InstanceSnapshot, ApiError>)> =
        futures::future::join_all(reads).await;
    let report = match probe.as_mut() {
        Some(p) => Some(p.report().await),
        None => None,
    };
    match args.output {
        OutputFormat::Json => {
            let doc = json::StatusJson::build(&results, report.as_ref());
            let text = serde_json::to_string_pretty(&doc)?;
            println!("{}", crate::text::escape_json_controls(&text));
        }
        OutputFormat::Table => print!("{}", table::render(&results, report.as_ref())),
    }
    let mut code = EXIT_OK;
    for (instance, result) in &results {
        match result {
            Ok(snap) => {
                for e in &snap.item_errors {
                    say(format_args!(
                        "migtop: {instance}: skipped an unreadable task ({e})"
                    ));
                }
            }
            Err(e) => {
                say(format_args!("migtop: {instance}: {e}"));
                code = EXIT_API;
            }
        }
    }
    if let Some(report) = &report {
        let api_ok = results.iter().any(|(_, r)| r.is_ok());
        match &report.result {
            Err(e) if api_ok => say(format_args!(
                "migtop: source probe: {e}; the API read succeeded, only the true lag is unknown"
            )),
            Err(e) => say(format_args!("migtop: source probe: {e}")),
            Ok(sample) => {
                for (instance, result) in &results {
                    let Ok(snap) = result else { continue };
                    for t in &snap.tasks {
                        let c = SourceComparison::new(sample, t.replication.as_ref());
                        if c.mismatch {
                            say(format_args!(
                                "migtop: {instance}: task {} has replayed past the source's position {}: --source-dsn does not look like this task's source",
                                t.display_name(),
                                sample.lsn
                            ));
                        }
                    }
                }
            }
        }
    }
    Ok(code)
}
