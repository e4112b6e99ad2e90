//! The config file under the command line: `[cutover.NAME]` (with `--cutover NAME`) and
//! `[defaults]` fill what the flags leave unset. Flags win over the cutover table, which wins
//! over `[defaults]`; a value from the file counts as if given on the command line, so it
//! also wins over the environment (ALIBABA_CLOUD_REGION_ID, ALIBABA_CLOUD_PROFILE).
//!
//! Every command that reads the API calls [`apply`] once, first thing. The judging settings
//! (`interval`, `max_lag`, `stable_for`) have no clap defaults, so "not given" stays visible;
//! each command applies its built-in default after the merge.

use std::time::Duration;

use crate::cli::{ApiArgs, ScriptArgs, ThresholdArgs, UiArgs};
use crate::commands::config_file::{self, ConfigFile, Settings};
use crate::util::error::UsageError;

/// Where the config file is for this process (see [`config_file::default_path`]).
pub fn path() -> Option<std::path::PathBuf> {
    config_file::default_path(&|k| std::env::var(k).ok())
}

/// Reads this process's config file, if there is one.
pub fn load() -> Result<Option<ConfigFile>, UsageError> {
    let file = match path() {
        Some(p) => ConfigFile::load(&p).map_err(|e| UsageError(e.0))?,
        None => None,
    };
    // Before the dashboard takes the screen, so they are seen.
    for w in file.iter().flat_map(|f| &f.warnings) {
        eprintln!("migtop: warning: {w}");
    }
    Ok(file)
}

/// The judging settings a command takes, as places the config file may fill; `None` for a
/// setting the command does not have.
#[derive(Default)]
pub struct Knobs<'a> {
    /// `interval`.
    pub interval: Option<&'a mut Option<Duration>>,
    /// `max_lag`.
    pub max_lag: Option<&'a mut Option<u64>>,
    /// `stable_for`.
    pub stable_for: Option<&'a mut Option<Duration>>,
}

impl<'a> Knobs<'a> {
    /// The dashboard's (`watch`, `config`).
    pub fn ui(ui: &'a mut UiArgs) -> Self {
        Knobs {
            interval: Some(&mut ui.interval),
            max_lag: Some(&mut ui.thresholds.max_lag),
            stable_for: Some(&mut ui.thresholds.stable_for),
        }
    }

    /// The scripted commands' (`wait`, `switchover`).
    pub fn script(s: &'a mut ScriptArgs) -> Self {
        Knobs {
            interval: Some(&mut s.interval),
            max_lag: Some(&mut s.thresholds.max_lag),
            stable_for: Some(&mut s.thresholds.stable_for),
        }
    }

    /// `exporter`'s, beside its `api` (borrowed apart).
    pub fn exporter(interval: &'a mut Option<Duration>, t: &'a mut ThresholdArgs) -> Self {
        Knobs {
            interval: Some(interval),
            max_lag: Some(&mut t.max_lag),
            stable_for: Some(&mut t.stable_for),
        }
    }

    /// `status`'s: one poll, so only the lag limit.
    pub fn status(max_lag: &'a mut Option<u64>) -> Self {
        Knobs {
            max_lag: Some(max_lag),
            ..Knobs::default()
        }
    }
}

/// Fills `api` and the command's `knobs` from the config file, then insists on at least one
/// instance, saying what to try when there is none.
pub fn apply(api: &mut ApiArgs, knobs: Knobs<'_>) -> Result<(), UsageError> {
    let file = load()?;
    merge(api, knobs, file.as_ref(), path().as_deref())?;
    if api.instances.is_empty() && api.primaries.is_empty() && api.standbys.is_empty() {
        return Err(UsageError(first_run_hint(file.as_ref())));
    }
    // An id pasted with a zero-width space or a look-alike letter would fail with a "not
    // found" that looks like a typo; say what is in it before the first request.
    for id in &api.instances {
        if let Some(hint) = crate::util::text::id_hint(id) {
            eprintln!("migtop: warning: instance id {hint}; RDS instance ids are plain ASCII");
        }
    }
    Ok(())
}

/// The merge itself: flags, then `[cutover.NAME]`, then `[defaults]`. `path` is where the
/// file was looked for (named when `--cutover` finds none).
pub fn merge(
    api: &mut ApiArgs,
    knobs: Knobs<'_>,
    file: Option<&ConfigFile>,
    path: Option<&std::path::Path>,
) -> Result<(), UsageError> {
    let cutover = match (&api.cutover, file) {
        (None, _) => None,
        (Some(name), Some(f)) => Some(f.cutover(name).map_err(|e| UsageError(e.0))?),
        (Some(name), None) => {
            return Err(UsageError(match path {
                Some(p) => format!(
                    "--cutover {name}: there is no config file at {} (see `migtop config`)",
                    p.display()
                ),
                None => format!(
                    "--cutover {name}: no config file (set {} or HOME)",
                    config_file::ENV_CONFIG
                ),
            }));
        }
    };
    let empty = Settings::default();
    let defaults = file.map_or(&empty, |f| &f.defaults);
    let layers = [cutover.unwrap_or(&empty), defaults];
    // The first layer that sets the key, when the command line does not.
    macro_rules! fill {
        ($target:expr, $key:ident) => {
            if $target.is_none() {
                $target = layers.iter().find_map(|l| l.$key.clone());
            }
        };
    }
    if api.instances.is_empty() {
        api.instances = layers
            .iter()
            .find_map(|l| l.instances.clone())
            .unwrap_or_default();
    }
    fill!(api.endpoint, endpoint);
    fill!(api.region, region);
    fill!(api.profile, profile);
    fill!(api.task_id, task_id);
    fill!(api.task_name, task_name);
    fill!(api.source_ip, source_ip);
    fill!(api.source_port, source_port);
    fill!(api.source_dsn, source_dsn);
    if let Some(t) = knobs.max_lag {
        fill!(*t, max_lag);
    }
    if let Some(t) = knobs.stable_for {
        fill!(*t, stable_for);
    }
    if let Some(t) = knobs.interval {
        fill!(*t, interval);
    }
    Ok(())
}

/// What bare `migtop` (no instance anywhere) says instead of only "name an instance".
pub fn first_run_hint(file: Option<&ConfigFile>) -> String {
    let mut s = String::from("name at least one instance to watch. Try:\n");
    s.push_str("  migtop demo              the dashboard against a built-in simulator (no account needed)\n");
    s.push_str(
        "  migtop -i pgm-XXXX       an RDS instance, with credentials from ~/.aliyun/config.json\n",
    );
    s.push_str(
        "                           (aliyun configure) or ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET\n",
    );
    if let Some(f) = file.filter(|f| !f.cutovers.is_empty()) {
        let names: Vec<&str> = f.cutovers.keys().map(String::as_str).collect();
        s.push_str(&format!(
            "  migtop --cutover NAME    a cutover from {}: {}\n",
            f.path.display(),
            names.join(", ")
        ));
    }
    s.push_str("  migtop --help            every option");
    s
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn file() -> ConfigFile {
        ConfigFile::parse(
            r#"
[defaults]
region = "cn-hangzhou"
max_lag = "1MiB"
stable_for = "10s"
interval = "3s"
instances = ["pgm-default"]

[cutover.prod]
instances = ["pgm-a", "pgm-b"]
max_lag = "2MiB"
task_name = "move"
"#,
            Path::new("/c.toml"),
        )
        .unwrap()
    }

    fn watch(args: &[&str]) -> (ApiArgs, UiArgs) {
        let cli =
            Cli::try_parse_from(std::iter::once("migtop").chain(args.iter().copied())).unwrap();
        let w = match cli.command {
            Some(Command::Watch(w)) => w,
            None => cli.watch,
            other => panic!("{other:?}"),
        };
        (w.api, w.ui)
    }

    fn merged(args: &[&str]) -> (ApiArgs, UiArgs) {
        let (mut api, mut ui) = watch(args);
        merge(&mut api, Knobs::ui(&mut ui), Some(&file()), None).unwrap();
        (api, ui)
    }

    #[test]
    fn flags_win_over_the_cutover_which_wins_over_defaults() {
        let (api, ui) = merged(&["watch", "--cutover", "prod"]);
        assert_eq!(api.instances, ["pgm-a", "pgm-b"]);
        assert_eq!(
            ui.thresholds.max_lag,
            Some(2 * 1024 * 1024),
            "cutover over defaults"
        );
        assert_eq!(
            ui.thresholds.stable_for,
            Some(Duration::from_secs(10)),
            "defaults fill"
        );
        assert_eq!(api.region.as_deref(), Some("cn-hangzhou"));
        assert_eq!(api.task_name.as_deref(), Some("move"));

        // The flags' own defaults (16MiB, 30s) must not count as given.
        let (api, ui) = merged(&[
            "watch",
            "--cutover",
            "prod",
            "-i",
            "pgm-flag",
            "--max-lag",
            "16MiB",
            "--region",
            "cn-beijing",
            "--interval",
            "7s",
        ]);
        assert_eq!(api.instances, ["pgm-flag"]);
        assert_eq!(
            ui.thresholds.max_lag,
            Some(16 * 1024 * 1024),
            "an explicit flag wins"
        );
        assert_eq!(api.region.as_deref(), Some("cn-beijing"));
        assert_eq!(ui.interval, Some(Duration::from_secs(7)));
    }

    #[test]
    fn defaults_apply_without_a_cutover() {
        let (api, ui) = merged(&[]);
        assert_eq!(api.instances, ["pgm-default"]);
        assert_eq!(ui.interval, Some(Duration::from_secs(3)));
        assert_eq!(api.task_name, None, "a cutover's keys stay in the cutover");
    }

    #[test]
    fn unset_everywhere_stays_unset() {
        let (mut api, mut ui) = watch(&["watch", "-i", "x"]);
        merge(&mut api, Knobs::ui(&mut ui), None, None).unwrap();
        assert_eq!(
            (ui.thresholds.max_lag, ui.thresholds.stable_for, ui.interval),
            (None, None, None)
        );
    }

    #[test]
    fn unknown_cutover_or_missing_file_is_an_error() {
        let (mut api, mut ui) = watch(&["watch", "--cutover", "nope"]);
        let e = merge(&mut api, Knobs::ui(&mut ui), Some(&file()), None).unwrap_err();
        assert!(
            e.0.contains("[cutover.nope]") && e.0.contains("prod"),
            "{e}"
        );
        let e = merge(
            &mut api,
            Knobs::default(),
            None,
            Some(Path::new("/x/config.toml")),
        )
        .unwrap_err();
        assert!(e.0.contains("/x/config.toml"), "{e}");
    }

    #[test]
    fn status_takes_the_cutover_too() {
        let cli = Cli::try_parse_from(["migtop", "status", "--cutover", "prod"]).unwrap();
        let Some(Command::Status(mut s)) = cli.command else {
            panic!()
        };
        merge(
            &mut s.api,
            Knobs::status(&mut s.max_lag),
            Some(&file()),
            None,
        )
        .unwrap();
        assert_eq!(s.api.instances, ["pgm-a", "pgm-b"]);
        assert_eq!(s.max_lag, Some(2 * 1024 * 1024), "the cutover's max_lag");
    }

    #[test]
    fn wait_switchover_and_exporter_take_the_cutover_s_thresholds() {
        let cli =
            Cli::try_parse_from(["migtop", "wait", "--cutover", "prod", "--in-sync"]).unwrap();
        let Some(Command::Wait(mut w)) = cli.command else {
            panic!()
        };
        merge(
            &mut w.api,
            Knobs::script(&mut w.script),
            Some(&file()),
            None,
        )
        .unwrap();
        assert_eq!(w.script.thresholds.max_lag, Some(2 * 1024 * 1024));
        assert_eq!(
            w.script.thresholds.stable_for,
            Some(Duration::from_secs(10))
        );
        assert_eq!(w.script.interval, Some(Duration::from_secs(3)));

        let cli = Cli::try_parse_from([
            "migtop",
            "switchover",
            "--require",
            "in-sync",
            "--cutover",
            "prod",
            "--stable-for",
            "1m",
        ])
        .unwrap();
        let Some(Command::Switchover(mut s)) = cli.command else {
            panic!()
        };
        merge(
            &mut s.api,
            Knobs::script(&mut s.script),
            Some(&file()),
            None,
        )
        .unwrap();
        assert_eq!(
            s.script.thresholds.stable_for,
            Some(Duration::from_secs(60)),
            "flag wins"
        );
        assert_eq!(s.script.thresholds.max_lag, Some(2 * 1024 * 1024));

        let cli = Cli::try_parse_from(["migtop", "exporter", "--cutover", "prod"]).unwrap();
        let Some(Command::Exporter(mut e)) = cli.command else {
            panic!()
        };
        let knobs = Knobs::exporter(&mut e.interval, &mut e.thresholds);
        merge(&mut e.api, knobs, Some(&file()), None).unwrap();
        assert_eq!(e.api.instances, ["pgm-a", "pgm-b"]);
        assert_eq!(e.interval, Some(Duration::from_secs(3)));
        assert_eq!(e.thresholds.max_lag, Some(2 * 1024 * 1024));
    }

    #[test]
    fn first_run_names_demo_credentials_and_cutovers() {
        let h = first_run_hint(None);
        assert!(h.contains("migtop demo") && h.contains("migtop -i"), "{h}");
        assert!(!h.contains("--cutover"));
        let h = first_run_hint(Some(&file()));
        assert!(h.contains("--cutover NAME") && h.contains("prod"), "{h}");
    }
}
