//! `migtop status`: one poll of every instance, printed as a table or JSON.

use crate::aliyun::{ApiError, InstanceSnapshot};
use crate::cli::{EXIT_API, EXIT_OK, OutputFormat, StatusArgs};
use crate::output::{json, table};

/// Polls every instance once, concurrently, prints what was read and returns the exit code.
pub async fn run(args: StatusArgs) -> anyhow::Result<i32> {
    let client = args.api.client()?;
    let filter = args.api.filter();
    let reads = args.api.instances.iter().map(|i| {
        let client = client.clone();
        let filter = filter.clone();
        async move { (i.clone(), client.describe_tasks(i, &filter).await) }
    });
    let results: Vec<(String, Result<InstanceSnapshot, ApiError>)> =
        futures::future::join_all(reads).await;
    match args.output {
        OutputFormat::Json => {
            let doc = json::StatusJson {
                instances: results
                    .iter()
                    .map(|(i, r)| json::InstanceJson::from_result(i, r))
                    .collect(),
            };
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        OutputFormat::Table => print!("{}", table::render(&results)),
    }
    let mut code = EXIT_OK;
    for (instance, result) in &results {
        match result {
            Ok(snap) => {
                for e in &snap.item_errors {
                    eprintln!("migtop: {instance}: skipped an unreadable task ({e})");
                }
            }
            Err(e) => {
                eprintln!("migtop: {instance}: {e}");
                code = EXIT_API;
            }
        }
    }
    Ok(code)
}
