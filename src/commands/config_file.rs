//! The config file (`$XDG_CONFIG_HOME/migtop/config.toml`): a `[defaults]` table and named
//! cutovers `[cutover.NAME]`, keys named after the long flags in snake case. This module
//! reads and checks the file; `commands::cutover` merges it under the command line.
//!
//! Errors name the file and the key (with its line) and never echo a value: a misplaced
//! password must not land on the screen.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::probe::SourceDsn;
use crate::util::units::{parse_bytes, parse_duration, parse_interval};

/// Environment variable naming the config file (wins over the XDG location).
pub const ENV_CONFIG: &str = "MIGTOP_CONFIG";

/// Where the config file is: `MIGTOP_CONFIG`, else `$XDG_CONFIG_HOME/migtop/config.toml`
/// (an absolute XDG_CONFIG_HOME only, as the XDG spec says), else
/// `~/.config/migtop/config.toml`; `None` without any of them.
pub fn default_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(p) = env(ENV_CONFIG).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let base = match env("XDG_CONFIG_HOME").filter(|p| Path::new(p).is_absolute()) {
        Some(x) => PathBuf::from(x),
        None => PathBuf::from(env("HOME").filter(|h| !h.is_empty())?).join(".config"),
    };
    Some(base.join("migtop").join("config.toml"))
}

/// One table of the file as written (every key optional).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    instances: Option<Vec<String>>,
    endpoint: Option<String>,
    region: Option<String>,
    profile: Option<String>,
    task_id: Option<i64>,
    task_name: Option<String>,
    source_ip: Option<String>,
    source_port: Option<u16>,
    source_dsn: Option<String>,
    max_lag: Option<String>,
    stable_for: Option<String>,
    interval: Option<String>,
}

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    defaults: RawTable,
    #[serde(default)]
    cutover: BTreeMap<String, RawTable>,
}

/// One table, checked and typed; `None` where the table does not set the key.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `instances`.
    pub instances: Option<Vec<String>>,
    /// `endpoint`.
    pub endpoint: Option<String>,
    /// `region`.
    pub region: Option<String>,
    /// `profile` (an aliyun CLI profile name).
    pub profile: Option<String>,
    /// `task_id`.
    pub task_id: Option<i64>,
    /// `task_name`.
    pub task_name: Option<String>,
    /// `source_ip`.
    pub source_ip: Option<String>,
    /// `source_port`.
    pub source_port: Option<u16>,
    /// `source_dsn`, never with a password.
    pub source_dsn: Option<SourceDsn>,
    /// `max_lag` in bytes.
    pub max_lag: Option<u64>,
    /// `stable_for`.
    pub stable_for: Option<Duration>,
    /// `interval`.
    pub interval: Option<Duration>,
}

/// A config file, read and checked.
#[derive(Debug, Clone, Default)]
pub struct ConfigFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// `[defaults]`.
    pub defaults: Settings,
    /// `[cutover.NAME]` tables by name.
    pub cutovers: BTreeMap<String, Settings>,
}

/// Why the config file cannot be used: one sentence naming the file.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl ConfigFile {
    /// Reads the file at `path`; `Ok(None)` when there is none.
    pub fn load(path: &Path) -> Result<Option<ConfigFile>, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => ConfigFile::parse(&text, path).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ConfigError(format!(
                "cannot read the config file {}: {e}",
                path.display()
            ))),
        }
    }

    /// Parses the text of the file at `path` (named in errors).
    pub fn parse(text: &str, path: &Path) -> Result<ConfigFile, ConfigError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            // Not toml's own Display: it quotes the offending line, which may hold a secret.
            let line = e
                .span()
                .map(|s| format!(" line {}", text[..s.start].matches('\n').count() + 1))
                .unwrap_or_default();
            ConfigError(format!(
                "config file {}{line}: {}",
                path.display(),
                e.message().trim_end()
            ))
        })?;
        let file = path.display();
        let defaults = check(raw.defaults, &format!("{file} [defaults]"))?;
        let mut cutovers = BTreeMap::new();
        for (name, table) in raw.cutover {
            let settings = check(table, &format!("{file} [cutover.{name}]"))?;
            cutovers.insert(name, settings);
        }
        Ok(ConfigFile {
            path: path.to_path_buf(),
            defaults,
            cutovers,
        })
    }

    /// The `[cutover.NAME]` table, or an error listing the names there are.
    pub fn cutover(&self, name: &str) -> Result<&Settings, ConfigError> {
        self.cutovers.get(name).ok_or_else(|| {
            let known = if self.cutovers.is_empty() {
                "it defines none".to_string()
            } else {
                format!(
                    "it defines {}",
                    self.cutovers.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            };
            ConfigError(format!(
                "no [cutover.{name}] in the config file {}: {known}",
                self.path.display()
            ))
        })
    }
}

/// Types one table's values; `place` names the file and table in errors.
fn check(raw: RawTable, place: &str) -> Result<Settings, ConfigError> {
    let bad = |key: &str, e: String| ConfigError(format!("{place}: {key}: {e}"));
    let source_dsn = match raw.source_dsn {
        None => None,
        Some(s) => {
            let dsn = SourceDsn::new(s);
            if dsn.has_password() {
                return Err(bad(
                    "source_dsn",
                    "holds a password; keep it in ~/.pgpass (or PGPASSFILE), not in the config file"
                        .into(),
                ));
            }
            Some(dsn)
        }
    };
    if let Some(list) = &raw.instances
        && list.iter().any(|i| i.trim().is_empty())
    {
        return Err(bad("instances", "an empty instance id".into()));
    }
    Ok(Settings {
        instances: raw.instances,
        endpoint: raw.endpoint,
        region: raw.region,
        profile: raw.profile,
        task_id: raw.task_id,
        task_name: raw.task_name,
        source_ip: raw.source_ip,
        source_port: raw.source_port,
        source_dsn,
        max_lag: raw
            .max_lag
            .map(|s| parse_bytes(&s).map_err(|e| bad("max_lag", e)))
            .transpose()?,
        stable_for: raw
            .stable_for
            .map(|s| parse_duration(&s).map_err(|e| bad("stable_for", e)))
            .transpose()?,
        interval: raw
            .interval
            .map(|s| parse_interval(&s).map_err(|e| bad("interval", e)))
            .transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ConfigFile, ConfigError> {
        ConfigFile::parse(text, Path::new("/etc/x/config.toml"))
    }

    #[test]
    fn reads_defaults_and_cutovers() {
        let c = parse(
            r#"
[defaults]
region = "cn-hangzhou"
max_lag = "16MiB"

[cutover.prod]
instances = ["pgm-a", "pgm-b"]
endpoint = "rds.aliyuncs.com"
task_name = "move"
source_dsn = "postgres://repl@10.0.0.5/postgres"
stable_for = "1m"
interval = "2s"
source_port = 5432
task_id = 7
"#,
        )
        .unwrap();
        assert_eq!(c.defaults.region.as_deref(), Some("cn-hangzhou"));
        assert_eq!(c.defaults.max_lag, Some(16 * 1024 * 1024));
        let p = c.cutover("prod").unwrap();
        assert_eq!(p.instances.as_ref().unwrap(), &["pgm-a", "pgm-b"]);
        assert_eq!(p.stable_for, Some(Duration::from_secs(60)));
        assert_eq!(p.interval, Some(Duration::from_secs(2)));
        assert_eq!((p.task_id, p.source_port), (Some(7), Some(5432)));
        assert!(p.source_dsn.is_some());
    }

    #[test]
    fn unknown_keys_name_the_key_line_and_file_and_never_the_value() {
        let e = parse("[cutover.prod]\ninstances = [\"a\"]\nsource_password = \"hunter2\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("source_password"), "{e}");
        assert!(e.contains("/etc/x/config.toml line 3"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        let e = parse("[default]\n").unwrap_err().to_string();
        assert!(e.contains("default"), "{e}");
    }

    #[test]
    fn a_password_in_source_dsn_is_an_error_naming_the_key_and_file() {
        for dsn in [
            "postgres://repl:hunter2@h/postgres",
            "host=h user=u password=hunter2",
        ] {
            let e = parse(&format!("[defaults]\nsource_dsn = \"{dsn}\"\n"))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("/etc/x/config.toml [defaults]: source_dsn"),
                "{e}"
            );
            assert!(!e.contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn bad_values_name_the_table_and_key() {
        let e = parse("[cutover.x]\nmax_lag = \"lots\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("[cutover.x]: max_lag"), "{e}");
        let e = parse("[defaults]\ninterval = \"0s\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("interval"), "{e}");
    }

    #[test]
    fn missing_cutover_lists_the_known_ones() {
        let c = parse("[cutover.a]\n[cutover.b]\n").unwrap();
        let e = c.cutover("c").unwrap_err().to_string();
        assert!(e.contains("it defines a, b"), "{e}");
    }

    #[test]
    fn path_rules() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            default_path(&env(&[("HOME", "/home/u")])),
            Some(PathBuf::from("/home/u/.config/migtop/config.toml"))
        );
        assert_eq!(
            default_path(&env(&[("HOME", "/home/u"), ("XDG_CONFIG_HOME", "/x")])),
            Some(PathBuf::from("/x/migtop/config.toml"))
        );
        assert_eq!(
            default_path(&env(&[("HOME", "/home/u"), ("XDG_CONFIG_HOME", "rel")])),
            Some(PathBuf::from("/home/u/.config/migtop/config.toml"))
        );
        assert_eq!(
            default_path(&env(&[
                ("MIGTOP_CONFIG", "/c.toml"),
                ("XDG_CONFIG_HOME", "/x")
            ])),
            Some(PathBuf::from("/c.toml"))
        );
        assert_eq!(default_path(&env(&[])), None);
    }
}
