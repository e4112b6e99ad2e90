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

/// The man page, in roff.
pub fn man_page() -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
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
    }
}
