//! Where the credentials come from, in the order of the official default chain: the
//! environment, the aliyun CLI's `~/.aliyun/config.json`, the SDKs' `~/.alibabacloud/credentials`,
//! the ECS instance's RAM role, a credentials URI. A profile may name a fixed AccessKey, an STS
//! token, a role to assume (`RamRoleArn`, `ChainableRamRoleArn`), the instance's RAM role
//! (`EcsRamRole`) or a credentials URI (`CredentialsURI`); temporary credentials are fetched by
//! a [`Provider`] and fetched again before they expire.
//!
//! Secrets are never taken from command-line flags: they would show in `ps` and shell history.

mod chain;
mod ecs_metadata;
mod http;
mod ini_file;
mod profile;
mod provider;
mod source;
pub mod sts;
mod uri;

use std::path::{Path, PathBuf};

use secrecy::SecretString;

pub use chain::{resolve, resolve_with};
pub use http::FetchError;
pub use provider::Provider;
pub use source::{AssumeRole, CredentialsUri, ECS_METADATA_DEFAULT, EcsRamRole, Source};

/// Env var holding the AccessKey id.
pub const ENV_KEY_ID: &str = "ALIBABA_CLOUD_ACCESS_KEY_ID";
/// Env var holding the AccessKey secret.
pub const ENV_KEY_SECRET: &str = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";
/// Env var holding an STS token.
pub const ENV_TOKEN: &str = "ALIBABA_CLOUD_SECURITY_TOKEN";
/// The Terraform provider's name for the AccessKey id.
pub const ENV_TF_KEY_ID: &str = "ALICLOUD_ACCESS_KEY";
/// The Terraform provider's name for the AccessKey secret.
pub const ENV_TF_KEY_SECRET: &str = "ALICLOUD_SECRET_KEY";
/// The Terraform provider's name for an STS token.
pub const ENV_TF_TOKEN: &str = "ALICLOUD_SECURITY_TOKEN";
/// Env var naming the aliyun CLI profile.
pub const ENV_PROFILE: &str = "ALIBABA_CLOUD_PROFILE";
/// Env var pointing at the Alibaba Cloud credentials file (INI).
pub const ENV_CREDENTIALS_FILE: &str = "ALIBABA_CLOUD_CREDENTIALS_FILE";
/// Env var naming the region.
pub const ENV_REGION: &str = "ALIBABA_CLOUD_REGION_ID";
/// Env var naming a role to assume with the environment's AccessKey (or a profile's default).
pub const ENV_ROLE_ARN: &str = "ALIBABA_CLOUD_ROLE_ARN";
/// Env var naming the role session.
pub const ENV_ROLE_SESSION_NAME: &str = "ALIBABA_CLOUD_ROLE_SESSION_NAME";
/// Env var with the external id a role's trust policy may demand.
pub const ENV_EXTERNAL_ID: &str = "ALIBABA_CLOUD_EXTERNAL_ID";
/// Env var overriding the STS endpoint (host or URL).
pub const ENV_STS_ENDPOINT: &str = "ALIBABA_CLOUD_STS_ENDPOINT";
/// Env var naming the STS region.
pub const ENV_STS_REGION: &str = "ALIBABA_CLOUD_STS_REGION";
/// Env var asking for the VPC STS endpoint (`true`).
pub const ENV_VPC_ENDPOINT: &str = "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED";
/// Env var naming the ECS instance's RAM role (and so enabling that step of the chain).
pub const ENV_ECS_ROLE: &str = "ALIBABA_CLOUD_ECS_METADATA";
/// Env var turning the ECS metadata service off (`true`).
pub const ENV_ECS_DISABLED: &str = "ALIBABA_CLOUD_ECS_METADATA_DISABLED";
/// Env var refusing the metadata service's plain mode (`true`).
pub const ENV_IMDSV1_DISABLED: &str = "ALIBABA_CLOUD_IMDSV1_DISABLED";
/// migtop's own: where the ECS metadata service is (tests; default `http://100.100.100.200`).
pub const ENV_ECS_METADATA_ENDPOINT: &str = "MIGTOP_ECS_METADATA_ENDPOINT";
/// Env var naming a credentials URI.
pub const ENV_CREDENTIALS_URI: &str = "ALIBABA_CLOUD_CREDENTIALS_URI";

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
                &crate::util::redact::mask_key(&self.access_key_id),
            )
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// How to get credentials, the region they point at and anything worth warning about.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub source: Source,
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
    #[error("no credentials: set {ENV_KEY_ID} and {ENV_KEY_SECRET}, or configure the aliyun CLI ({path}), or write {ini}, or name the ECS instance's RAM role in {ENV_ECS_ROLE}", path = .0.display(), ini = .1.display())]
    NotFound(PathBuf, PathBuf),
    #[error("profile {0:?} in {path} has type {1}, which migtop does not support; use type access_key, sts, ram_role_arn or ecs_ram_role, or set {ENV_KEY_ID}/{ENV_KEY_SECRET}", path = .2.display())]
    UnsupportedType(String, String, PathBuf),
    #[error("{0} is set but {1} is not; set both")]
    HalfSet(&'static str, &'static str),
    #[error("cannot read {path}: {message}", path = .0.display(), message = .1)]
    Unreadable(PathBuf, String),
    #[error("profile {0:?} is not in {path} (profiles there: {list})", path = .1.display(), list = .2)]
    NoSuchProfile(String, PathBuf, String),
    #[error(
        "profile {0:?} uses mode {1}, which migtop does not support; use a profile with mode AK, StsToken, RamRoleArn, ChainableRamRoleArn, EcsRamRole or CredentialsURI, or set {ENV_KEY_ID}/{ENV_KEY_SECRET}"
    )]
    UnsupportedMode(String, String),
    #[error("profile {0:?} has no {1}")]
    MissingField(String, &'static str),
    /// A setting that cannot work, in one sentence.
    #[error("{0}")]
    Invalid(String),
}

/// The aliyun CLI's default config path.
pub fn default_config_path(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    let home = env("HOME").unwrap_or_else(|| ".".into());
    Path::new(&home).join(".aliyun").join("config.json")
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

/// Reads the text of the aliyun CLI's `config.json` as if found at `path` (the fuzz targets
/// feed it text; the chain reads the file and calls the same code).
pub fn from_cli_config(
    text: &str,
    path: &Path,
    opts: &CredentialOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Resolved, CredentialError> {
    profile::resolve(opts, env, path, text)
}

/// Reads the text of the SDKs' INI credentials file as if found at `path`.
pub fn from_credentials_text(
    text: &str,
    path: &Path,
    opts: &CredentialOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Resolved, CredentialError> {
    ini_file::resolve(opts, env, path, text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    fn fixed(r: &Resolved) -> &Credentials {
        r.source.as_static().expect("fixed credentials")
    }

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
        {"name":"role","mode":"OIDC","access_key_id":"x","access_key_secret":"y"}]}"#;

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
        assert_eq!(fixed(&r).access_key_id, "LTAIenv");
        assert_eq!(
            fixed(&r).security_token.clone().unwrap().expose_secret(),
            "t"
        );
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
        assert_eq!(fixed(&r).access_key_id, "LTAIwork");
        assert_eq!(r.region.as_deref(), Some("cn-beijing"));
        assert!(r.warnings.is_empty());
        let r = resolve_with(&opts, &env_of(&[(ENV_PROFILE, "sts")])).unwrap();
        assert_eq!(
            fixed(&r).security_token.clone().unwrap().expose_secret(),
            "tok"
        );
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
        assert_eq!(fixed(&r).access_key_id, "LTAIwork");
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
        assert!(e.to_string().contains("mode OIDC"), "{e}");
        assert!(
            e.to_string()
                .contains("RamRoleArn, ChainableRamRoleArn, EcsRamRole"),
            "{e}"
        );
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
            "[default]\ntype = access_key\naccess_key_id = LTAIini\naccess_key_secret = s\n\n[temp]\ntype = sts\naccess_key_id = STS.x\naccess_key_secret = s2\nsecurity_token = tok\n\n[role]\ntype = oidc_role_arn\n",
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
        assert_eq!(fixed(&r).access_key_id, "LTAIini");
        assert!(fixed(&r).security_token.is_none());
        assert!(r.warnings.is_empty());
        let r = resolve_with(&opts, &env_of(&[(ENV_PROFILE, "temp")])).unwrap();
        assert_eq!(
            fixed(&r).security_token.clone().unwrap().expose_secret(),
            "tok"
        );
        opts.profile = Some("role".into());
        let e = resolve_with(&opts, &env_of(&[])).unwrap_err().to_string();
        assert!(
            e.contains("oidc_role_arn") && e.contains("access_key, sts, ram_role_arn"),
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
        assert_eq!(fixed(&r).access_key_id, "LTAIini");
    }

    #[test]
    fn terraform_names_and_half_set_pairs() {
        let env = env_of(&[
            (ENV_TF_KEY_ID, "LTAItf"),
            (ENV_TF_KEY_SECRET, "s"),
            (ENV_TF_TOKEN, "t"),
        ]);
        let r = resolve_with(&CredentialOptions::default(), &env).unwrap();
        assert_eq!(fixed(&r).access_key_id, "LTAItf");
        assert_eq!(fixed(&r).origin, "environment (ALICLOUD_ACCESS_KEY)");
        assert_eq!(
            fixed(&r).security_token.clone().unwrap().expose_secret(),
            "t"
        );
        // The SDK name wins over Terraform's.
        let env = env_of(&[
            (ENV_KEY_ID, "LTAIsdk"),
            (ENV_KEY_SECRET, "s"),
            (ENV_TF_KEY_ID, "LTAItf"),
            (ENV_TF_KEY_SECRET, "s"),
        ]);
        let r = resolve_with(&CredentialOptions::default(), &env).unwrap();
        assert_eq!(fixed(&r).access_key_id, "LTAIsdk");
        assert_eq!(
            resolve_with(
                &CredentialOptions::default(),
                &env_of(&[(ENV_TF_KEY_SECRET, "s")])
            )
            .unwrap_err(),
            CredentialError::HalfSet(ENV_TF_KEY_SECRET, ENV_TF_KEY_ID)
        );
    }

    #[test]
    fn role_modes_resolve_to_sources() {
        let cfg = r#"{"current":"r","profiles":[
            {"name":"r","mode":"ramrolearn","access_key_id":"LTAIa","access_key_secret":"s","ram_role_arn":"acs:ram::1:role/x","sts_region":"cn-shanghai","expired_seconds":"1800"},
            {"name":"c","mode":"ChainableRamRoleArn","source_profile":"r","ram_role_arn":"acs:ram::1:role/y"},
            {"name":"e","mode":"EcsRamRole","ram_role_name":"ecs-role"},
            {"name":"u","mode":"CredentialsURI","credentials_uri":"http://127.0.0.1:9/creds"},
            {"name":"bad","mode":"RamRoleArn","access_key_id":"LTAIa","access_key_secret":"s"}]}"#;
        let (_d, path) = config(cfg, 0o600);
        let at = |p: &str, env: &[(&str, &str)]| {
            resolve_with(
                &CredentialOptions {
                    config_path: Some(path.clone()),
                    profile: Some(p.into()),
                    ..Default::default()
                },
                &env_of(env),
            )
        };
        let r = at("r", &[]).unwrap();
        let Source::AssumeRole(a) = &r.source else {
            panic!("{:?}", r.source)
        };
        assert_eq!(a.endpoint.as_str(), "https://sts.cn-shanghai.aliyuncs.com/");
        assert_eq!(a.duration_seconds, 1800);
        assert!(a.session_name.starts_with("migtop-"));
        assert_eq!(r.source.root_key().unwrap().access_key_id, "LTAIa");
        let r = at("c", &[]).unwrap();
        let Source::AssumeRole(a) = &r.source else {
            panic!("{:?}", r.source)
        };
        assert_eq!(a.role_arn, "acs:ram::1:role/y");
        assert!(matches!(a.base.as_ref(), Source::AssumeRole(_)));
        let r = at("e", &[]).unwrap();
        let Source::EcsRamRole(e) = &r.source else {
            panic!("{:?}", r.source)
        };
        assert_eq!(e.role_name.as_deref(), Some("ecs-role"));
        assert_eq!(e.endpoint.as_str(), "http://100.100.100.200/");
        assert!(matches!(at("u", &[]).unwrap().source, Source::Uri(_)));
        let e = at("bad", &[]).unwrap_err().to_string();
        assert!(
            e.contains("ram_role_arn") && e.contains(ENV_ROLE_ARN),
            "{e}"
        );
        // ALIBABA_CLOUD_ROLE_ARN fills in a missing ram_role_arn.
        assert!(at("bad", &[(ENV_ROLE_ARN, "acs:ram::1:role/z")]).is_ok());
        let e = at("e", &[(ENV_ECS_METADATA_ENDPOINT, "http://10.0.0.1")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("plain http"), "{e}");
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
