//! Where the AccessKey comes from: environment, then the aliyun CLI's config file.
//!
//! Secrets are never taken from command-line flags: they would show in `ps` and shell history.

use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::Deserialize;

/// Env var holding the AccessKey id.
pub const ENV_KEY_ID: &str = "ALIBABA_CLOUD_ACCESS_KEY_ID";
/// Env var holding the AccessKey secret.
pub const ENV_KEY_SECRET: &str = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";
/// Env var holding an STS token.
pub const ENV_TOKEN: &str = "ALIBABA_CLOUD_SECURITY_TOKEN";
/// Env var naming the aliyun CLI profile.
pub const ENV_PROFILE: &str = "ALIBABA_CLOUD_PROFILE";
/// Env var pointing at the Alibaba Cloud credentials file (INI).
pub const ENV_CREDENTIALS_FILE: &str = "ALIBABA_CLOUD_CREDENTIALS_FILE";
/// Env var naming the region.
pub const ENV_REGION: &str = "ALIBABA_CLOUD_REGION_ID";

/// An AccessKey pair, optionally with an STS token. `Debug` never prints the secrets.
#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub access_key_secret: SecretString,
    pub security_token: Option<SecretString>,
    /// Where they came from, in words ("environment", "profile default in ~/.aliyun/config.json").
    pub origin: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field(
                "access_key_id",
                &crate::redact::mask_key(&self.access_key_id),
            )
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// Credentials plus the region they point at and anything worth warning about.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub credentials: Credentials,
    pub region: Option<String>,
    pub warnings: Vec<String>,
}

/// What the DBA asked for on the command line.
#[derive(Debug, Clone, Default)]
pub struct CredentialOptions {
    /// `--profile`: wins over the environment when given.
    pub profile: Option<String>,
    /// `--region`.
    pub region: Option<String>,
    /// The aliyun CLI config; `None` means `~/.aliyun/config.json`.
    pub config_path: Option<PathBuf>,
    /// The SDKs' credentials file; `None` means `ALIBABA_CLOUD_CREDENTIALS_FILE`, else
    /// `~/.alibabacloud/credentials`.
    pub credentials_path: Option<PathBuf>,
}

/// Why no usable credentials were found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("no credentials: set {ENV_KEY_ID} and {ENV_KEY_SECRET}, or configure the aliyun CLI ({path}), or write {ini}", path = .0.display(), ini = .1.display())]
    NotFound(PathBuf, PathBuf),
    #[error("profile {0:?} in {path} has type {1}, which migtop does not support; use type access_key or sts, or set {ENV_KEY_ID}/{ENV_KEY_SECRET}", path = .2.display())]
    UnsupportedType(String, String, PathBuf),
    #[error("{0} is set but {1} is not; set both")]
    HalfSet(&'static str, &'static str),
    #[error("cannot read {path}: {message}", path = .0.display(), message = .1)]
    Unreadable(PathBuf, String),
    #[error("profile {0:?} is not in {path} (profiles there: {list})", path = .1.display(), list = .2)]
    NoSuchProfile(String, PathBuf, String),
    #[error(
        "profile {0:?} uses mode {1}, which migtop does not support; use a profile with mode AK or StsToken, or set {ENV_KEY_ID}/{ENV_KEY_SECRET}"
    )]
    UnsupportedMode(String, String),
    #[error("profile {0:?} has no {1}")]
    MissingField(String, &'static str),
}

#[derive(Deserialize)]
struct CliConfig {
    #[serde(default)]
    current: Option<String>,
    #[serde(default)]
    profiles: Vec<CliProfile>,
}

#[derive(Deserialize)]
struct CliProfile {
    name: String,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    access_key_id: Option<String>,
    #[serde(default)]
    access_key_secret: Option<String>,
    #[serde(default)]
    sts_token: Option<String>,
    #[serde(default)]
    region_id: Option<String>,
}

/// The aliyun CLI's default config path.
pub fn default_config_path(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    let home = env("HOME").unwrap_or_else(|| ".".into());
    Path::new(&home).join(".aliyun").join("config.json")
}

/// Resolves credentials and region from `opts` and the process environment.
pub fn resolve(opts: &CredentialOptions) -> Result<Resolved, CredentialError> {
    resolve_with(opts, &|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
}

/// Like [`resolve`], reading the environment through `env` (for tests).
pub fn resolve_with(
    opts: &CredentialOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Resolved, CredentialError> {
    let env_region = env(ENV_REGION);
    if opts.profile.is_none() {
        match (env(ENV_KEY_ID), env(ENV_KEY_SECRET)) {
            (Some(id), Some(secret)) => {
                return Ok(Resolved {
                    credentials: Credentials {
                        access_key_id: id,
                        access_key_secret: secret.into(),
                        security_token: env(ENV_TOKEN).map(Into::into),
                        origin: "environment".into(),
                    },
                    region: opts.region.clone().or(env_region),
                    warnings: vec![],
                });
            }
            (Some(_), None) => return Err(CredentialError::HalfSet(ENV_KEY_ID, ENV_KEY_SECRET)),
            (None, Some(_)) => return Err(CredentialError::HalfSet(ENV_KEY_SECRET, ENV_KEY_ID)),
            (None, None) => {}
        }
    }
    let path = opts
        .config_path
        .clone()
        .unwrap_or_else(|| default_config_path(env));
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        // Third in the official chain: the SDKs' INI credentials file.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return from_credentials_file(opts, env, path);
        }
        Err(e) => return Err(CredentialError::Unreadable(path, e.to_string())),
    };
    let mut resolved = from_cli_config(&text, &path, opts, env)?;
    resolved.warnings.extend(permission_warning(&path));
    Ok(resolved)
}

/// Reads the text of the aliyun CLI's `config.json` (found at `path`).
pub fn from_cli_config(
    text: &str,
    path: &Path,
    opts: &CredentialOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Resolved, CredentialError> {
    let path = path.to_path_buf();
    let env_region = env(ENV_REGION);
    let warnings = Vec::new();
    let config: CliConfig = serde_json::from_str(text)
        .map_err(|e| CredentialError::Unreadable(path.clone(), format!("not valid JSON ({e})")))?;
    let wanted = opts
        .profile
        .clone()
        .or_else(|| env(ENV_PROFILE))
        .or(config.current.clone())
        .unwrap_or_else(|| "default".into());
    let profile = config
        .profiles
        .iter()
        .find(|p| p.name == wanted)
        .ok_or_else(|| {
            let list = config
                .profiles
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            CredentialError::NoSuchProfile(
                wanted.clone(),
                path.clone(),
                if list.is_empty() { "none".into() } else { list },
            )
        })?;
    let mode = profile.mode.clone().unwrap_or_else(|| "AK".into());
    let needs_token = match mode.as_str() {
        "AK" => false,
        "StsToken" => true,
        other => return Err(CredentialError::UnsupportedMode(wanted, other.to_string())),
    };
    let field = |v: &Option<String>, name: &'static str| {
        v.clone()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| CredentialError::MissingField(wanted.clone(), name))
    };
    let credentials = Credentials {
        access_key_id: field(&profile.access_key_id, "access_key_id")?,
        access_key_secret: field(&profile.access_key_secret, "access_key_secret")?.into(),
        security_token: if needs_token {
            Some(field(&profile.sts_token, "sts_token")?.into())
        } else {
            None
        },
        origin: format!("profile {} in {}", wanted, path.display()),
    };
    Ok(Resolved {
        credentials,
        region: opts
            .region
            .clone()
            .or(env_region)
            .or(profile.region_id.clone().filter(|r| !r.is_empty())),
        warnings,
    })
}

/// The SDKs' credentials file (`~/.alibabacloud/credentials`, INI): sections are profiles,
/// `type = access_key` or `sts` with `access_key_id`, `access_key_secret`, `security_token`.
fn from_credentials_file(
    opts: &CredentialOptions,
    env: &dyn Fn(&str) -> Option<String>,
    cli_path: PathBuf,
) -> Result<Resolved, CredentialError> {
    let path = opts
        .credentials_path
        .clone()
        .or_else(|| env(ENV_CREDENTIALS_FILE).map(PathBuf::from))
        .unwrap_or_else(|| {
            let home = env("HOME").unwrap_or_else(|| ".".into());
            Path::new(&home).join(".alibabacloud").join("credentials")
        });
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(CredentialError::NotFound(cli_path, path));
        }
        Err(e) => return Err(CredentialError::Unreadable(path, e.to_string())),
    };
    let mut resolved = from_credentials_text(&text, &path, opts, env)?;
    resolved.warnings.extend(permission_warning(&path));
    Ok(resolved)
}

/// Reads the text of the SDKs' credentials file (found at `path`).
pub fn from_credentials_text(
    text: &str,
    path: &Path,
    opts: &CredentialOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Resolved, CredentialError> {
    let path = path.to_path_buf();
    let ini = ini::Ini::load_from_str(text)
        .map_err(|e| CredentialError::Unreadable(path.clone(), format!("not valid INI ({e})")))?;
    let wanted = opts
        .profile
        .clone()
        .or_else(|| env(ENV_PROFILE))
        .unwrap_or_else(|| "default".into());
    let section = ini.section(Some(wanted.as_str())).ok_or_else(|| {
        let list: Vec<&str> = ini.sections().flatten().collect();
        let list = if list.is_empty() {
            "none".to_string()
        } else {
            list.join(", ")
        };
        CredentialError::NoSuchProfile(wanted.clone(), path.clone(), list)
    })?;
    let field = |name: &'static str| {
        section
            .get(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .ok_or_else(|| CredentialError::MissingField(wanted.clone(), name))
    };
    let kind = section.get("type").map(str::trim).unwrap_or("access_key");
    let security_token = match kind {
        "access_key" => None,
        "sts" => Some(field("security_token")?.into()),
        other => {
            return Err(CredentialError::UnsupportedType(
                wanted,
                other.to_string(),
                path,
            ));
        }
    };
    Ok(Resolved {
        credentials: Credentials {
            access_key_id: field("access_key_id")?,
            access_key_secret: field("access_key_secret")?.into(),
            security_token,
            origin: format!("profile {} in {}", wanted, path.display()),
        },
        region: opts.region.clone().or_else(|| env(ENV_REGION)).or_else(|| {
            section
                .get("region_id")
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
        }),
        warnings: vec![],
    })
}

/// A warning when the config file (which holds secrets) is readable by group or others.
#[cfg(unix)]
fn permission_warning(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then(|| {
        format!("warning: {} holds secrets but is readable by group/others (mode {mode:o}); run: chmod 600 {}", path.display(), path.display())
    })
}

#[cfg(not(unix))]
fn permission_warning(_: &Path) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    fn config(body: &str, mode: u32) -> (tempfile::TempDir, PathBuf) {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, body).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        (dir, path)
    }

    const CONFIG: &str = r#"{"current":"work","profiles":[
        {"name":"work","mode":"AK","access_key_id":"LTAIwork","access_key_secret":"s1","region_id":"cn-beijing"},
        {"name":"sts","mode":"StsToken","access_key_id":"STS.id","access_key_secret":"s2","sts_token":"tok","region_id":"eu-central-1"},
        {"name":"role","mode":"RamRoleArn","access_key_id":"x","access_key_secret":"y"}]}"#;

    #[test]
    fn environment_comes_first() {
        let (_d, path) = config(CONFIG, 0o600);
        let opts = CredentialOptions {
            config_path: Some(path),
            ..Default::default()
        };
        let env = env_of(&[
            (ENV_KEY_ID, "LTAIenv"),
            (ENV_KEY_SECRET, "sec"),
            (ENV_TOKEN, "t"),
            (ENV_REGION, "cn-shanghai"),
        ]);
        let r = resolve_with(&opts, &env).unwrap();
        assert_eq!(r.credentials.access_key_id, "LTAIenv");
        assert_eq!(r.credentials.security_token.unwrap().expose_secret(), "t");
        assert_eq!(r.region.as_deref(), Some("cn-shanghai"));
        assert_eq!(
            resolve_with(&opts, &env_of(&[(ENV_KEY_ID, "x")])).unwrap_err(),
            CredentialError::HalfSet(ENV_KEY_ID, ENV_KEY_SECRET)
        );
    }

    #[test]
    fn profiles_by_flag_env_or_current() {
        let (_d, path) = config(CONFIG, 0o600);
        let mut opts = CredentialOptions {
            config_path: Some(path),
            ..Default::default()
        };
        let r = resolve_with(&opts, &env_of(&[])).unwrap();
        assert_eq!(r.credentials.access_key_id, "LTAIwork");
        assert_eq!(r.region.as_deref(), Some("cn-beijing"));
        assert!(r.warnings.is_empty());
        let r = resolve_with(&opts, &env_of(&[(ENV_PROFILE, "sts")])).unwrap();
        assert_eq!(r.credentials.security_token.unwrap().expose_secret(), "tok");
        opts.profile = Some("work".into());
        opts.region = Some("us-west-1".into());
        // An explicit --profile wins over env credentials.
        let r = resolve_with(
            &opts,
            &env_of(&[
                (ENV_KEY_ID, "a"),
                (ENV_KEY_SECRET, "b"),
                (ENV_PROFILE, "sts"),
            ]),
        )
        .unwrap();
        assert_eq!(r.credentials.access_key_id, "LTAIwork");
        assert_eq!(r.region.as_deref(), Some("us-west-1"));
    }

    #[test]
    fn unsupported_modes_and_missing_profiles_are_clear() {
        let (_d, path) = config(CONFIG, 0o600);
        let opts = CredentialOptions {
            config_path: Some(path.clone()),
            profile: Some("role".into()),
            ..Default::default()
        };
        let e = resolve_with(&opts, &env_of(&[])).unwrap_err();
        assert!(e.to_string().contains("RamRoleArn"), "{e}");
        assert!(e.to_string().contains("AK or StsToken"), "{e}");
        let opts = CredentialOptions {
            config_path: Some(path),
            profile: Some("nope".into()),
            ..Default::default()
        };
        let e = resolve_with(&opts, &env_of(&[])).unwrap_err().to_string();
        assert!(e.contains("work, sts, role"), "{e}");
        let missing = CredentialOptions {
            config_path: Some("/nonexistent/config.json".into()),
            ..Default::default()
        };
        assert!(matches!(
            resolve_with(&missing, &env_of(&[("HOME", "/nonexistent")])),
            Err(CredentialError::NotFound(..))
        ));
    }

    #[test]
    fn the_sdk_credentials_file_comes_third() {
        let dir = tempfile::tempdir().unwrap();
        let ini = dir.path().join("credentials");
        std::fs::write(
            &ini,
            "[default]\ntype = access_key\naccess_key_id = LTAIini\naccess_key_secret = s\n\n[temp]\ntype = sts\naccess_key_id = STS.x\naccess_key_secret = s2\nsecurity_token = tok\n\n[role]\ntype = ram_role_arn\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&ini, std::fs::Permissions::from_mode(0o600)).unwrap();
        let mut opts = CredentialOptions {
            config_path: Some(dir.path().join("no-aliyun-config.json")),
            credentials_path: Some(ini.clone()),
            ..Default::default()
        };
        let r = resolve_with(&opts, &env_of(&[])).unwrap();
        assert_eq!(r.credentials.access_key_id, "LTAIini");
        assert!(r.credentials.security_token.is_none());
        assert!(r.warnings.is_empty());
        let r = resolve_with(&opts, &env_of(&[(ENV_PROFILE, "temp")])).unwrap();
        assert_eq!(r.credentials.security_token.unwrap().expose_secret(), "tok");
        opts.profile = Some("role".into());
        let e = resolve_with(&opts, &env_of(&[])).unwrap_err().to_string();
        assert!(
            e.contains("ram_role_arn") && e.contains("access_key or sts"),
            "{e}"
        );
        // The environment variable names the file too.
        opts.profile = None;
        opts.credentials_path = None;
        let r = resolve_with(
            &opts,
            &env_of(&[(ENV_CREDENTIALS_FILE, ini.to_str().unwrap())]),
        )
        .unwrap();
        assert_eq!(r.credentials.access_key_id, "LTAIini");
    }

    #[test]
    fn world_readable_config_warns() {
        let (_d, path) = config(CONFIG, 0o644);
        let opts = CredentialOptions {
            config_path: Some(path),
            ..Default::default()
        };
        let r = resolve_with(&opts, &env_of(&[])).unwrap();
        assert_eq!(r.warnings.len(), 1);
        assert!(r.warnings[0].contains("chmod 600"));
    }

    #[test]
    fn debug_hides_secrets() {
        let c = Credentials {
            access_key_id: "LTAIabcdefgh".into(),
            access_key_secret: "topsecret".to_string().into(),
            security_token: None,
            origin: "t".into(),
        };
        let d = format!("{c:?}");
        assert!(!d.contains("topsecret") && !d.contains("abcdefgh"), "{d}");
    }
}
