//! `migtop report FILE`: a recording as one self-contained HTML page.

use std::io::Write;
use std::path::PathBuf;

use chrono::{FixedOffset, Local};

use super::replay::{read, readiness};
use crate::cli::ReportArgs;
use crate::recording::report::{self, ReportConfig};
use crate::util::error::{EXIT_OK, UsageError};

/// Where the page goes: `-o`, else the recording's name with `.html`.
pub fn output_path(args: &ReportArgs) -> PathBuf {
    match &args.output {
        Some(p) => p.clone(),
        None => args.file.with_extension("html"),
    }
}

/// `migtop report FILE [-o PAGE]`.
pub async fn run(args: ReportArgs) -> anyhow::Result<i32> {
    let out = output_path(&args);
    if out == args.file {
        return Err(UsageError(format!(
            "-o {} would overwrite the recording; name another file",
            out.display()
        ))
        .into());
    }
    let rec = read(&args.file)?;
    let title = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| args.file.display().to_string());
    let cfg = ReportConfig {
        readiness: readiness(&args.judge),
        local_offset: if args.utc {
            FixedOffset::east_opt(0).expect("zero offset")
        } else {
            *Local::now().offset()
        },
        interval: args.judge.interval,
        title,
    };
    let built = report::build(&rec, &cfg);
    let page = report::html::render(&built);
    if out.as_os_str() == "-" {
        std::io::stdout().write_all(page.as_bytes())?;
        return Ok(EXIT_OK);
    }
    // Written beside its final name, then renamed: a failure never leaves half a page.
    let tmp = out.with_extension("html.partial");
    let write = std::fs::write(&tmp, &page).and_then(|()| std::fs::rename(&tmp, &out));
    if let Err(e) = write {
        let _ = std::fs::remove_file(&tmp);
        return Err(UsageError(format!("cannot write {}: {e}", out.display())).into());
    }
    eprintln!(
        "migtop: wrote {} ({} task{}, {} polls, {} to {})",
        out.display(),
        built.tasks.len(),
        if built.tasks.len() == 1 { "" } else { "s" },
        built.polls,
        built
            .from
            .with_timezone(&cfg.local_offset)
            .format("%Y-%m-%d %H:%M:%S"),
        built.to.with_timezone(&cfg.local_offset).format("%H:%M:%S"),
    );
    Ok(EXIT_OK)
}
