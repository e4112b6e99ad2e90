//! `migtop status`: one poll of every instance, printed as a table or JSON.
//!
//! With `--source-dsn`, the source is read once *after* the API answered, so its position is
//! never behind what the standby had replayed when the API read it: the true lag can only be
//! overstated by the WAL written in between (milliseconds' worth), never understated.
//!
//! Exit codes depend on the API reads only (an incomplete read, whose pages never reached
//! TotalSize, exits 1 like a failed one). A source probe failure is one sentence on stderr
//! and `source_probe.error` in JSON (`source_lsn` and `true_lag_bytes` are then `null`); the
//! exit code stays what the API reads made it, since the API read itself succeeded.

use chrono::{DateTime, Utc};

use super::{api, cutover, record};
use crate::aliyun::{ApiError, InstanceSnapshot};
use crate::app::headless::Judge;
use crate::cli::{OutputFormat, StatusArgs};
use crate::commands::dashboard_config::WATCH_INTERVAL;
use crate::commands::output::json::Blockers;
use crate::commands::output::{json, table};
use crate::poller::PollResult;
use crate::probe::SourceComparison;
use crate::util::error::{EXIT_API, EXIT_OK, UsageError, say};
use crate::verdict::readiness::ReadinessConfig;

/// Polls every instance once, concurrently, prints what was read and returns the exit code.
pub async fn run(mut args: StatusArgs) -> anyhow::Result<i32> {
    cutover::apply(&mut args.api, cutover::Knobs::status(&mut args.max_lag))?;
    // One source for every instance, as with --source-dsn: at most one primary.
    if args.api.primaries.len() > 1 {
        return Err(UsageError(
            "status reads one --primary at a time (watch takes several)".into(),
        )
        .into());
    }
    let api::Sources {
        source,
        mut probe,
        instances,
        ..
    } = api::sources(&args.api)?;
    let mut recorder = record::open(args.record.as_deref())?;
    let started = Utc::now();
    let reads = instances.iter().map(|i| {
        let source = source.clone();
        async move {
            let result = source.fetch(i).await;
            (i.clone(), result, Utc::now())
        }
    });
    let answered = futures::future::join_all(reads).await;
    let answer_times: Vec<DateTime<Utc>> = answered.iter().map(|(_, _, at)| *at).collect();
    let results: Vec<(String, Result<InstanceSnapshot, ApiError>)> =
        answered.into_iter().map(|(i, r, _)| (i, r)).collect();
    // One source for every instance (a --source-dsn, or the one --primary).
    let report = match (probe.as_mut(), instances.first()) {
        (Some(p), Some(first)) => Some(p.report(first).await),
        _ => None,
    };
    let polls: Vec<PollResult> = results
        .iter()
        .zip(&answer_times)
        .map(|((instance, result), at)| PollResult {
            instance: instance.clone(),
            started,
            at: *at,
            result: result.clone(),
            // As the dashboard's pollers: the source is read after a successful poll.
            source: report.clone().filter(|_| result.is_ok()),
        })
        .collect();
    let blockers = blockers(
        &args,
        &instances,
        &polls,
        report.as_ref().map(|r| r.target.clone()),
    );
    match args.output {
        OutputFormat::Json => {
            let doc = json::StatusJson::build(&results, report.as_ref(), &blockers);
            let text = serde_json::to_string_pretty(&doc)?;
            println!("{}", crate::util::text::escape_json_controls(&text));
        }
        OutputFormat::Table => print!("{}", table::render(&results, report.as_ref(), &blockers)),
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
                for w in snap.warnings() {
                    eprintln!("migtop: {instance}: warning: {w}");
                }
                // Tasks may be missing: a verdict on "every task" cannot be trusted.
                if snap.incomplete() {
                    code = EXIT_API;
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
    // Last, so a recording that cannot be written still leaves the output and messages.
    if let Some(rec) = recorder.as_mut() {
        // In the order the answers came, as the dashboard records them.
        let mut order: Vec<usize> = (0..results.len()).collect();
        order.sort_by_key(|i| answer_times[*i]);
        for i in order {
            rec.append(&polls[i])?;
        }
    }
    Ok(code)
}

/// What this one poll already says against a switchover, per task: the dashboard's verdict
/// over it (a headless [`Judge`]), minus the stable window it cannot have seen.
fn blockers(
    args: &StatusArgs,
    instances: &[String],
    polls: &[PollResult],
    probe_target: Option<String>,
) -> Blockers {
    let readiness = ReadinessConfig {
        max_lag: args.max_lag.unwrap_or(ReadinessConfig::default().max_lag),
        ..ReadinessConfig::default()
    };
    let first = polls.iter().map(|p| p.at).min().unwrap_or_else(Utc::now);
    let mut judge = Judge::new(
        instances.to_vec(),
        WATCH_INTERVAL,
        readiness,
        probe_target,
        first,
    );
    let mut by_time: Vec<&PollResult> = polls.iter().collect();
    by_time.sort_by_key(|p| p.at);
    for p in by_time {
        judge.feed(p.clone());
    }
    let mut out = Blockers::new();
    for p in polls {
        let Ok(snap) = &p.result else { continue };
        for t in &snap.tasks {
            if let Some(e) = judge.task(&t.key()) {
                out.insert(t.key(), e.verdict.blockers().into_iter().cloned().collect());
            }
        }
    }
    out
}
