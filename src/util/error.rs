//! How migtop fails: configuration problems as [`UsageError`], and the process exit codes.

/// Exit code: every instance was read.
pub const EXIT_OK: i32 = 0;
/// Exit code: an API or network error occurred (what was read is still printed).
pub const EXIT_API: i32 = 1;
/// Exit code: usage or configuration error (for `wait` and `switchover` also a task filter
/// matching no task or several).
pub const EXIT_USAGE: i32 = 2;
/// Exit code of `wait` and `switchover`: the time given with `--timeout` ran out.
pub const EXIT_TIMEOUT: i32 = 3;
/// Exit code of `wait`: the task can no longer get there (precheck failed, stage past the
/// target, task gone).
pub const EXIT_UNREACHABLE: i32 = 4;
/// Exit code of `switchover`: refused, the requirement does not hold (or was not confirmed).
pub const EXIT_REFUSED: i32 = 5;

/// A configuration problem: printed as one sentence, exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Prints one line on stderr with control characters and escape sequences removed: error
/// sentences quote what the server said (codes, messages, request ids).
pub fn say(line: impl std::fmt::Display) {
    eprintln!("{}", crate::util::text::printable(&line.to_string()));
}

/// The exit code of a command's result; an error is printed on stderr first (a usage error
/// as its one sentence, any other with its chain of causes).
pub fn report(result: anyhow::Result<i32>) -> i32 {
    match result {
        Ok(code) => code,
        Err(e) => {
            if e.downcast_ref::<UsageError>().is_some() {
                // migtop's own sentence, which may be laid out on several lines (the
                // first-run hint): its line feeds are kept, and only they.
                eprintln!(
                    "{}",
                    crate::util::text::printable_lines(&format!("migtop: {e}"))
                );
                EXIT_USAGE
            } else {
                say(format_args!("migtop: {e:#}"));
                EXIT_API
            }
        }
    }
}
