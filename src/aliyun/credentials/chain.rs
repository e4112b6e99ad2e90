//! The default chain: environment, aliyun CLI config, SDK credentials file, ECS RAM role,
//! credentials URI; and the settings every role-based source shares.

use std::path::PathBuf;

use super::source::{AssumeRole, CredentialsUri, ECS_METADATA_DEFAULT, EcsRamRole, Source};
use super::*;

/// How the chain reads the environment (a closure, so tests need not touch the process's).
pub(super) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Resolves credentials and region from `opts` and the process environment.
pub fn resolve(opts: &CredentialOptions) -> Result<Resolved, CredentialError> {
    resolve_with(opts, &|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
}

/// Like [`resolve`], reading the environment through `env` (for tests).
pub fn resolve_with(opts: &CredentialOptions, env: Env) -> Result<Resolved, CredentialError> {
    if opts.profile.is_none()
        && let Some(r) = from_env(opts, env)?
    {
        return Ok(r);
    }
    let path = opts
        .config_path
        .clone()
        .unwrap_or_else(|| default_config_path(env));
    match read_credentials_file(&path) {
        Ok(text) => profile::resolve(opts, env, &path, &text),
        // Third in the official chain: the SDKs' INI credentials file.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let ini = ini_file::path(opts, env);
            match read_credentials_file(&ini) {
                Ok(text) => ini_file::resolve(opts, env, &ini, &text),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    after_files(opts, env, path, ini)
                }
                Err(e) => Err(CredentialError::Unreadable(ini, e.to_string())),
            }
        }
        Err(e) => Err(CredentialError::Unreadable(path, e.to_string())),
    }
}

/// The largest aliyun CLI config or credentials file read: real ones are a few KiB.
pub const MAX_CREDENTIALS_FILE_BYTES: u64 = 1024 * 1024;

/// Reads a credentials file: only a regular file, at most [`MAX_CREDENTIALS_FILE_BYTES`];
/// a missing one is `NotFound`, as `std::fs` says it.
fn read_credentials_file(path: &std::path::Path) -> std::io::Result<String> {
    use crate::util::file::{FileError, read_text_capped};
    read_text_capped(path, MAX_CREDENTIALS_FILE_BYTES).map_err(|e| match e {
        FileError::NotFound => std::io::Error::from(std::io::ErrorKind::NotFound),
        FileError::Io(e) => e,
        other => std::io::Error::other(other.to_string()),
    })
}

/// The region: `--region`, else the environment's, else the profile's.
pub(super) fn region(
    opts: &CredentialOptions,
    env: Env,
    profile_region: Option<String>,
) -> Option<String> {
    opts.region
        .clone()
        .or_else(|| env(ENV_REGION))
        .or(profile_region.filter(|r| !r.trim().is_empty()))
}

/// The first of two variable names that is set, with its name.
fn either(env: Env, a: &'static str, b: &'static str) -> Option<(&'static str, String)> {
    env(a).map(|v| (a, v)).or_else(|| env(b).map(|v| (b, v)))
}

/// First in the chain: `ALIBABA_CLOUD_ACCESS_KEY_ID`/`_SECRET`/`SECURITY_TOKEN`, or the
/// Terraform provider's `ALICLOUD_ACCESS_KEY`/`ALICLOUD_SECRET_KEY`/`ALICLOUD_SECURITY_TOKEN`;
/// with `ALIBABA_CLOUD_ROLE_ARN` set, the role is assumed with them (as the aliyun CLI does).
fn from_env(opts: &CredentialOptions, env: Env) -> Result<Option<Resolved>, CredentialError> {
    let id = either(env, ENV_KEY_ID, ENV_TF_KEY_ID);
    let secret = either(env, ENV_KEY_SECRET, ENV_TF_KEY_SECRET);
    let (id_name, id, secret) = match (id, secret) {
        (Some((n, id)), Some((_, secret))) => (n, id, secret),
        (Some((n, _)), None) => {
            let other = if n == ENV_KEY_ID {
                ENV_KEY_SECRET
            } else {
                ENV_TF_KEY_SECRET
            };
            return Err(CredentialError::HalfSet(n, other));
        }
        (None, Some((n, _))) => {
            let other = if n == ENV_KEY_SECRET {
                ENV_KEY_ID
            } else {
                ENV_TF_KEY_ID
            };
            return Err(CredentialError::HalfSet(n, other));
        }
        (None, None) => return Ok(None),
    };
    let origin = if id_name == ENV_KEY_ID {
        "environment".to_string()
    } else {
        format!("environment ({id_name})")
    };
    let base = Source::Static(Credentials {
        access_key_id: id,
        access_key_secret: secret.into(),
        security_token: either(env, ENV_TOKEN, ENV_TF_TOKEN).map(|(_, t)| t.into()),
        origin,
    });
    let region = region(opts, env, None);
    let source = match env(ENV_ROLE_ARN) {
        Some(_) => assume_role(
            env,
            base,
            RoleFields::default(),
            region.as_deref(),
            "the environment",
        )?,
        None => base,
    };
    Ok(Some(Resolved {
        source,
        region,
        warnings: vec![],
    }))
}

/// After both files: the ECS RAM role when `ALIBABA_CLOUD_ECS_METADATA` names it, else a
/// credentials URI from `ALIBABA_CLOUD_CREDENTIALS_URI`.
///
/// The newest SDKs probe the metadata service even when no role is named; migtop does not,
/// so a laptop without credentials gets a clear error at once instead of a timeout.
fn after_files(
    opts: &CredentialOptions,
    env: Env,
    cli: PathBuf,
    ini: PathBuf,
) -> Result<Resolved, CredentialError> {
    let region = region(opts, env, None);
    let source = if opts.profile.is_some() {
        None
    } else if let Some(role) = env(ENV_ECS_ROLE) {
        Some(ecs_ram_role(env, Some(role), ENV_ECS_ROLE.to_string())?)
    } else if let Some(uri) = env(ENV_CREDENTIALS_URI) {
        Some(credentials_uri(&uri, ENV_CREDENTIALS_URI)?)
    } else {
        None
    };
    match source {
        Some(source) => Ok(Resolved {
            source,
            region,
            warnings: vec![],
        }),
        None => Err(CredentialError::NotFound(cli, ini)),
    }
}

/// The role settings a profile may carry; what it leaves out comes from the environment.
#[derive(Debug, Default)]
pub(super) struct RoleFields {
    pub role_arn: Option<String>,
    pub session_name: Option<String>,
    pub duration_seconds: Option<u64>,
    pub external_id: Option<String>,
    pub policy: Option<String>,
    pub sts_region: Option<String>,
}

fn nonempty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// An `AssumeRole` source signed by `base`; `who` names the profile (for errors).
pub(super) fn assume_role(
    env: Env,
    base: Source,
    f: RoleFields,
    region: Option<&str>,
    who: &str,
) -> Result<Source, CredentialError> {
    let role_arn = nonempty(f.role_arn)
        .or_else(|| nonempty(env(ENV_ROLE_ARN)))
        .ok_or_else(|| {
            CredentialError::Invalid(format!(
                "{who} assumes a role but names none: set ram_role_arn or {ENV_ROLE_ARN}"
            ))
        })?;
    if !role_arn.starts_with("acs:ram::") || !role_arn.contains(":role/") {
        return Err(CredentialError::Invalid(format!(
            "{who}: role ARN {role_arn:?} is not of the form acs:ram::ACCOUNT_ID:role/NAME"
        )));
    }
    let session_name = nonempty(f.session_name)
        .or_else(|| nonempty(env(ENV_ROLE_SESSION_NAME)))
        .unwrap_or_else(|| format!("migtop-{}", chrono::Utc::now().timestamp()));
    let duration = match f.duration_seconds {
        None | Some(0) => sts::DEFAULT_DURATION,
        Some(d) if d < u64::from(sts::MIN_DURATION) => {
            return Err(CredentialError::Invalid(format!(
                "{who}: a role session lasts at least {} seconds, not {d}",
                sts::MIN_DURATION
            )));
        }
        Some(d) => u32::try_from(d).unwrap_or(u32::MAX),
    };
    let sts_region = nonempty(f.sts_region).or_else(|| nonempty(env(ENV_STS_REGION)));
    let endpoint = sts_endpoint(env, sts_region.as_deref().or(region))?;
    Ok(Source::AssumeRole(AssumeRole {
        base: Box::new(base),
        role_arn,
        session_name,
        duration_seconds: duration,
        external_id: nonempty(f.external_id).or_else(|| nonempty(env(ENV_EXTERNAL_ID))),
        policy: nonempty(f.policy),
        endpoint,
    }))
}

/// `ALIBABA_CLOUD_STS_ENDPOINT` (a host means https), else the region's STS endpoint.
fn sts_endpoint(env: Env, region: Option<&str>) -> Result<reqwest::Url, CredentialError> {
    match env(ENV_STS_ENDPOINT) {
        Some(e) => checked_url(&e, ENV_STS_ENDPOINT, &[]),
        None => {
            let vpc = env(ENV_VPC_ENDPOINT).is_some_and(|v| v.eq_ignore_ascii_case("true"));
            let url = sts::endpoint_for_region(region, vpc);
            reqwest::Url::parse(&url).map_err(|_| {
                CredentialError::Invalid(format!(
                    "region {region:?} gives no valid STS endpoint ({url})"
                ))
            })
        }
    }
}

/// A URL from a setting: a bare host means https; plain http only to loopback (or to one of
/// `also_plain`, e.g. the metadata service's link-local address).
fn checked_url(
    value: &str,
    setting: &str,
    also_plain: &[&str],
) -> Result<reqwest::Url, CredentialError> {
    let allow = reqwest::Url::parse(value.trim())
        .ok()
        .and_then(|u| u.host_str().map(|h| also_plain.contains(&h)))
        .unwrap_or(false);
    crate::aliyun::endpoint::validate(value, allow).map_err(|e| {
        CredentialError::Invalid(match e {
            crate::aliyun::endpoint::EndpointError::InsecureHttp(_) => format!(
                "{setting}={value} uses plain http to a non-loopback host, so credentials would cross the network unencrypted; use https"
            ),
            _ => format!("{setting}={value:?} is not a valid http(s) URL or host name"),
        })
    })
}

/// The ECS instance's RAM role (`role`: `None` asks the metadata service).
pub(super) fn ecs_ram_role(
    env: Env,
    role: Option<String>,
    origin: String,
) -> Result<Source, CredentialError> {
    if env(ENV_ECS_DISABLED).is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return Err(CredentialError::Invalid(format!(
            "{origin} asks for the ECS instance's RAM role, but {ENV_ECS_DISABLED}=true turns the metadata service off"
        )));
    }
    let endpoint = match env(ENV_ECS_METADATA_ENDPOINT) {
        Some(e) => checked_url(&e, ENV_ECS_METADATA_ENDPOINT, &["100.100.100.200"])?,
        None => reqwest::Url::parse(ECS_METADATA_DEFAULT)
            .map_err(|e| CredentialError::Invalid(e.to_string()))?,
    };
    Ok(Source::EcsRamRole(EcsRamRole {
        role_name: nonempty(role).or_else(|| nonempty(env(ENV_ECS_ROLE))),
        endpoint,
        disable_imds_v1: env(ENV_IMDSV1_DISABLED).is_some_and(|v| v.eq_ignore_ascii_case("true")),
        origin,
    }))
}

/// A credentials URI (`origin` names the setting).
pub(super) fn credentials_uri(uri: &str, origin: &str) -> Result<Source, CredentialError> {
    Ok(Source::Uri(CredentialsUri {
        url: checked_url(uri, origin, &[])?,
        origin: origin.to_string(),
    }))
}
