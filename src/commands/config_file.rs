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

/// The file as written. Each `[cutover.NAME]` is read on its own, so that one bad table
/// does not keep the others from being used.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    defaults: RawTable,
    #[serde(default)]
    cutover: BTreeMap<String, toml::Spanned<toml::Value>>,
}

/// The largest config file read: a real one is a few hundred bytes; anything bigger is not a
/// config file (a log, a device, a mistake), and is refused before it is read into memory.
pub const MAX_CONFIG_BYTES: u64 = 256 * 1024;

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
    /// `[cutover.NAME]` tables that could not be read, with why: reported, and refused only
    /// when asked for by name.
    pub broken: BTreeMap<String, ConfigError>,
    /// What is wrong with the file that does not stop it being used (group-writable, broken
    /// tables), one sentence each, for stderr.
    pub warnings: Vec<String>,
}

/// Why the config file cannot be used: one sentence naming the file.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl ConfigFile {
    /// Reads the file at `path`; `Ok(None)` when there is none. Only a regular file (a
    /// symlink to one is fine) of at most [`MAX_CONFIG_BYTES`] is read: a FIFO would block
    /// forever and `/dev/zero` would never end. A file others may write is refused, and one
    /// its group may write is used with a warning: the file chooses the endpoint that signed
    /// requests go to (ssh and the aliyun CLI are as strict with their own files).
    pub fn load(path: &Path) -> Result<Option<ConfigFile>, ConfigError> {
        use crate::util::file::{self, FileError};
        let fail = |why: String| ConfigError(format!("config file {}: {why}", path.display()));
        let (handle, meta) = match file::open_regular(path) {
            Ok(f) => f,
            Err(FileError::NotFound) => return Ok(None),
            Err(e @ FileError::NotRegular(_)) => return Err(fail(e.to_string())),
            Err(e) => return Err(fail(format!("cannot open it: {e}"))),
        };
        // Permissions first: a file others may write is refused before it is read.
        let warnings = permission_problems(&meta).map_err(fail)?;
        let bytes = file::read_opened(handle, &meta, MAX_CONFIG_BYTES).map_err(|e| match e {
            FileError::TooLarge { .. } => fail(format!(
                "larger than migtop's limit of {} KiB for a config file",
                MAX_CONFIG_BYTES / 1024
            )),
            e => fail(format!("cannot read it: {e}")),
        })?;
        let text = String::from_utf8(bytes)
            .map_err(|_| fail("cannot read it: not UTF-8 text".to_string()))?;
        let mut parsed = ConfigFile::parse(&text, path)?;
        let named = warnings
            .into_iter()
            .map(|w| format!("config file {}: {w}", path.display()));
        parsed.warnings.splice(0..0, named);
        Ok(Some(parsed))
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
        let mut broken = BTreeMap::new();
        let mut warnings = Vec::new();
        for (name, table) in raw.cutover {
            let line = text[..table.span().start.min(text.len())]
                .matches('\n')
                .count()
                + 1;
            let place = format!("{file} [cutover.{name}]");
            let settings = table
                .into_inner()
                .try_into::<RawTable>()
                // The message names the key, never the value (it may be a secret).
                .map_err(|e| {
                    let message = e.message().trim_end();
                    let at = unknown_key_line(text, line, message).unwrap_or(line);
                    ConfigError(format!("{file} line {at} [cutover.{name}]: {message}"))
                })
                .and_then(|raw| check(raw, &place));
            match settings {
                Ok(s) => {
                    cutovers.insert(name, s);
                }
                Err(e) => {
                    warnings.push(format!(
                        "{e} (so [cutover.{name}] is not used; the others are)"
                    ));
                    broken.insert(name, e);
                }
            }
        }
        Ok(ConfigFile {
            path: path.to_path_buf(),
            defaults,
            cutovers,
            broken,
            warnings,
        })
    }

    /// The `[cutover.NAME]` table, or an error listing the names there are.
    pub fn cutover(&self, name: &str) -> Result<&Settings, ConfigError> {
        if let Some(e) = self.broken.get(name) {
            return Err(ConfigError(e.0.clone()));
        }
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

/// The line of the key an "unknown field `KEY`" message names, in the table starting at
/// line `from` (1-based): a table read on its own has lost its positions.
fn unknown_key_line(text: &str, from: usize, message: &str) -> Option<usize> {
    let key = message.split('`').nth(1)?;
    text.lines()
        .enumerate()
        .skip(from)
        .take_while(|(_, l)| !l.trim_start().starts_with('['))
        .find(|(_, l)| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|(i, _)| i + 1)
}

/// Refuses a file anyone may write, or one owned by another user (root aside); warns when
/// its group may write it.
fn permission_problems(meta: &std::fs::Metadata) -> Result<Vec<String>, String> {
    use std::os::unix::fs::MetadataExt;
    let mode = meta.mode();
    let me = nix::unistd::geteuid().as_raw();
    if meta.uid() != me && meta.uid() != 0 {
        return Err(format!(
            "owned by another user (uid {}); it chooses where signed requests go, so migtop uses only a file you or root own",
            meta.uid()
        ));
    }
    if mode & 0o002 != 0 {
        return Err(format!(
            "writable by every user (mode {:o}); it chooses where signed requests go, so migtop refuses it: chmod o-w it",
            mode & 0o777
        ));
    }
    let mut warnings = Vec::new();
    if mode & 0o020 != 0 {
        warnings.push(format!(
            "writable by its group (mode {:o}), who could point signed requests at another endpoint: chmod g-w it",
            mode & 0o777
        ));
    }
    Ok(warnings)
}

/// Types one table's values; `place` names the file and table in errors.
fn check(raw: RawTable, place: &str) -> Result<Settings, ConfigError> {
    let bad = |key: &str, e: String| ConfigError(format!("{place}: {key}: {e}"));
    // A parser's message quotes the value it could not read: masked, since a misplaced secret
    // must not reach the screen.
    let masked = |value: &str, e: String| {
        if value.is_empty() {
            e
        } else {
            e.replace(value, "…")
        }
    };
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
            .map(|s| parse_bytes(&s).map_err(|e| bad("max_lag", masked(&s, e))))
            .transpose()?,
        stable_for: raw
            .stable_for
            .map(|s| parse_duration(&s).map_err(|e| bad("stable_for", masked(&s, e))))
            .transpose()?,
        interval: raw
            .interval
            .map(|s| parse_interval(&s).map_err(|e| bad("interval", masked(&s, e))))
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
        // A bad [cutover.NAME] spoils only itself: reported, and an error when asked for.
        let c =
            parse("[cutover.prod]\ninstances = [\"a\"]\nsource_password = \"hunter2\"\n").unwrap();
        assert!(
            c.warnings[0].contains("[cutover.prod] is not used"),
            "{:?}",
            c.warnings
        );
        let e = c.cutover("prod").unwrap_err().to_string();
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
        let c =
            parse("[cutover.x]\nmax_lag = \"lots\"\n[cutover.y]\nmax_lag = \"1MiB\"\n").unwrap();
        let e = c.cutover("x").unwrap_err().to_string();
        assert!(e.contains("[cutover.x]: max_lag"), "{e}");
        assert!(!e.contains("lots"), "the value is never echoed: {e}");
        assert_eq!(c.cutover("y").unwrap().max_lag, Some(1024 * 1024));
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
