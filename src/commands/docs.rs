//! `migtop completions SHELL` and `migtop man`: generated from the clap definitions, so they
//! never drift from the flags.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use clap_mangen::roff::{Roff, bold, roman};

use crate::aliyun::credentials;
use crate::cli::{Cli, ShellArg};
use crate::commands::config_file;
use crate::util::error;

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

/// The man page, in roff: clap's sections, then the commands (as `migtop NAME`: there is one
/// page, no `migtop-status(1)`), EXIT STATUS and ENVIRONMENT.
pub fn man_page() -> std::io::Result<Vec<u8>> {
    let cmd = Cli::command();
    let man = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    let mut roff = Roff::default();
    roff.control("SH", ["COMMANDS"]);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_name();
        roff.control("TP", [] as [&str; 0]);
        roff.text([bold(format!("migtop {name}"))]);
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        let more = if name == "help" {
            String::new()
        } else {
            format!(" Its options: migtop {name} --help.")
        };
        roff.text([roman(format!("{about}.{more}").replace("..", "."))]);
    }
    roff.control("SH", ["EXIT STATUS"]);
    for (code, what) in EXIT_CODES {
        roff.control("TP", [] as [&str; 0]);
        roff.text([bold(code.to_string())]);
        roff.text([roman(*what)]);
    }
    roff.control("SH", ["ENVIRONMENT"]);
    for (name, what) in ENVIRONMENT {
        roff.control("TP", [] as [&str; 0]);
        roff.text([bold(*name)]);
        roff.text([roman(*what)]);
    }
    roff.control("SH", ["FILES"]);
    roff.control("TP", [] as [&str; 0]);
    roff.text([bold("$XDG_CONFIG_HOME/migtop/config.toml")]);
    roff.text([roman(
        "The config file ([defaults], [cutover.NAME]); ~/.config/migtop/config.toml without XDG_CONFIG_HOME. Only a regular file that no other user may write is read: see migtop config.",
    )]);
    roff.control("TP", [] as [&str; 0]);
    roff.text([bold("~/.aliyun/config.json")]);
    roff.text([roman("The aliyun CLI's profiles (--profile).")]);
    roff.to_writer(&mut out)?;
    out.extend_from_slice(SWITCHING_OVER_SAFELY.as_bytes());
    man.render_version_section(&mut out)?;
    Ok(out)
}

/// The exit codes and what each means, for the man page.
const EXIT_CODES: &[(i32, &str)] = &[
    (
        error::EXIT_OK,
        "Success: every instance was read (wait: the condition holds).",
    ),
    (
        error::EXIT_API,
        "An API or network error (what was read is still printed).",
    ),
    (
        error::EXIT_USAGE,
        "A usage or configuration error (wait and switchover: also a filter matching no task, or several).",
    ),
    (
        error::EXIT_TIMEOUT,
        "wait, switchover: the --timeout ran out.",
    ),
    (
        error::EXIT_UNREACHABLE,
        "wait: the task can no longer get there (precheck failed, stage past the target, task gone).",
    ),
    (
        error::EXIT_REFUSED,
        "switchover: refused, the requirement does not hold or was not confirmed.",
    ),
];

/// The environment variables migtop reads, for the man page.
const ENVIRONMENT: &[(&str, &str)] = &[
    (
        credentials::ENV_KEY_ID,
        "AccessKey id (with ALIBABA_CLOUD_ACCESS_KEY_SECRET); ALICLOUD_ACCESS_KEY is read too.",
    ),
    (
        credentials::ENV_KEY_SECRET,
        "AccessKey secret; ALICLOUD_SECRET_KEY is read too. Never shown.",
    ),
    (
        credentials::ENV_TOKEN,
        "STS security token of temporary credentials.",
    ),
    (
        credentials::ENV_PROFILE,
        "The aliyun CLI profile to use (--profile wins).",
    ),
    (
        credentials::ENV_CREDENTIALS_FILE,
        "The Alibaba Cloud credentials file.",
    ),
    (credentials::ENV_REGION, "Region id (--region wins)."),
    (
        credentials::ENV_ROLE_ARN,
        "A RAM role to assume (with ALIBABA_CLOUD_ROLE_SESSION_NAME, ALIBABA_CLOUD_EXTERNAL_ID).",
    ),
    (
        credentials::ENV_STS_ENDPOINT,
        "The STS endpoint (ALIBABA_CLOUD_STS_REGION, ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED).",
    ),
    (
        credentials::ENV_ECS_ROLE,
        "The ECS instance RAM role (ALIBABA_CLOUD_ECS_METADATA_DISABLED turns it off).",
    ),
    (
        credentials::ENV_CREDENTIALS_URI,
        "A URI serving credentials.",
    ),
    (
        config_file::ENV_CONFIG,
        "The config file (wins over XDG_CONFIG_HOME and HOME).",
    ),
    (
        "MIGTOP_SOURCE_DSN",
        "The source PostgreSQL's DSN (--source-dsn); its password is never shown.",
    ),
    (
        "PGPASSFILE",
        "Where the source's password is read (else ~/.pgpass), as libpq does; PGHOST, PGUSER and the other PG variables are read as libpq reads them.",
    ),
    (
        "MIGTOP_PG_BINDIR",
        "migtop lab: where the PostgreSQL server binaries are.",
    ),
    (
        "NO_COLOR",
        "Set: no colour (the meaning is kept by other means).",
    ),
];

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
        // One page: no reference to pages that do not exist.
        assert!(
            !man.contains("migtop\\-status(1)") && !man.contains("(1)"),
            "{man}"
        );
        for section in ["EXIT STATUS", "ENVIRONMENT", "COMMANDS", "OPTIONS"] {
            assert!(
                man.contains(&format!(".SH \"{section}\""))
                    || man.contains(&format!(".SH {section}")),
                "{section}: {man}"
            );
        }
        assert!(man.contains("ALIBABA_CLOUD_ACCESS_KEY_ID") && man.contains("MIGTOP_CONFIG"));
    }
}
