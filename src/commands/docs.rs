//! `migtop completions SHELL` and `migtop man`: generated from the clap definitions, so they
//! never drift from the flags.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, ShellArg};

/// The completion script for `shell`.
pub fn completion_script(shell: ShellArg) -> Vec<u8> {
    let shell = match shell {
        ShellArg::Bash => Shell::Bash,
        ShellArg::Zsh => Shell::Zsh,
        ShellArg::Fish => Shell::Fish,
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "migtop", &mut out);
    out
}

/// What the flags cannot say: how `switchover` keeps a cutover from losing data, and what
/// each step needs from the source's role (README "Switching over safely" in full).
const SWITCHING_OVER_SAFELY: &str = r#".SH "SWITCHING OVER SAFELY"
.TP
.B The source checklist
With \-\-source\-dsn, every database of the source is read for what physical replication
does not carry (unlogged tables, sequences and materialized views: empty on RDS), what breaks
consumers (logical slots, subscriptions) and what blocks DRAINED (prepared transactions,
sessions holding a transaction id). Needs CONNECT on every database and pg_read_all_stats.
.TP
.B The check at the switch
With \-\-require drained, immediately before ActivateMigrationTargetInstance the source is
read again: if its next transaction id moved since the judged window, switchover refuses
(exit 5); if only its position moved (housekeeping WAL), the standby must have received it
first. It prints when the verdict was judged, when the call was sent, and the source position
then. Needs login only.
.TP
.B The fence (\-\-fence)
Checks the role first (superuser, or on PostgreSQL 15+ GRANT ALTER SYSTEM ON PARAMETER
default_transaction_read_only, EXECUTE on pg_reload_conf(), pg_signal_backend and
pg_read_all_stats); without them it says so and changes nothing. Then ALTER SYSTEM SET
default_transaction_read_only = on and pg_reload_conf(); lists the sessions still holding a
transaction id (ends them with \-\-fence\-terminate, else waits); waits for DRAINED under the
fence; takes the token (the source's WAL position once no transaction id moves); waits until
the standby replayed up to the token; activates. On success the fence stays and the command
that lifts it is printed. On a refusal, \-\-timeout, an error, Ctrl\-C or SIGTERM before the
activation the fence is lifted (ALTER SYSTEM RESET, reload). It is a soft fence: a session can
override it.
.TP
.B The proof (\-\-target\-dsn)
After success, the new primary must be out of recovery, on a newer timeline, and its timeline
must begin at or past the token: "verified: the new primary holds everything up to TOKEN", or
every failure and exit 1. Reading the timeline history file needs pg_read_server_files (else
pg_last_wal_replay_lsn() is used).
"#;

/// The man page, in roff.
pub fn man_page() -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    out.extend_from_slice(SWITCHING_OVER_SAFELY.as_bytes());
    Ok(out)
}

/// `migtop completions SHELL`.
pub fn completions(shell: ShellArg) -> anyhow::Result<i32> {
    write_stdout(&completion_script(shell))
}

/// `migtop man`.
pub fn man() -> anyhow::Result<i32> {
    write_stdout(&man_page()?)
}

fn write_stdout(bytes: &[u8]) -> anyhow::Result<i32> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_name_the_sub_commands_and_flags() {
        for shell in [ShellArg::Bash, ShellArg::Zsh, ShellArg::Fish] {
            let s = String::from_utf8(completion_script(shell)).unwrap();
            assert!(s.contains("cutover") && s.contains("status"), "{shell:?}");
        }
        let man = String::from_utf8(man_page().unwrap()).unwrap();
        assert!(
            man.starts_with(".ie") || man.contains(".TH migtop"),
            "{man}"
        );
        for words in [
            "SWITCHING OVER SAFELY",
            "default_transaction_read_only",
            "soft fence",
            "holds everything up to TOKEN",
        ] {
            assert!(man.contains(words), "{words}");
        }
    }
}
