//! The aliyun CLI's `~/.aliyun/config.json`: `{"current": NAME, "profiles": [...]}`, each
//! profile with a `mode` and the fields that mode needs (field names as the CLI writes them).

use std::path::Path;

use serde::Deserialize;

use super::chain::{self, Env, RoleFields};
use super::*;

/// Longest chain of `source_profile` links followed (a loop is an error, not a hang).
const MAX_CHAIN: usize = 8;

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
    #[serde(default)]
    ram_role_arn: Option<String>,
    #[serde(default)]
    ram_session_name: Option<String>,
    #[serde(default)]
    expired_seconds: Option<serde_json::Value>,
    #[serde(default)]
    external_id: Option<String>,
    #[serde(default)]
    policy: Option<String>,
    #[serde(default)]
    sts_region: Option<String>,
    #[serde(default)]
    source_profile: Option<String>,
    #[serde(default)]
    ram_role_name: Option<String>,
    #[serde(default)]
    credentials_uri: Option<String>,
}

/// Picks the profile (`--profile`, else `ALIBABA_CLOUD_PROFILE`, else `current`) and turns it
/// into a source.
pub(super) fn resolve(
    opts: &CredentialOptions,
    env: Env,
    path: &Path,
    text: &str,
) -> Result<Resolved, CredentialError> {
    let mut warnings = Vec::new();
    warnings.extend(permission_warning(path));
    let config: CliConfig = serde_json::from_str(text).map_err(|e| {
        CredentialError::Unreadable(path.to_path_buf(), format!("not valid JSON ({e})"))
    })?;
    let wanted = opts
        .profile
        .clone()
        .or_else(|| env(ENV_PROFILE))
        .or(config.current.clone())
        .unwrap_or_else(|| "default".into());
    let profile = find(&config, &wanted, path)?;
    let region = chain::region(opts, env, profile.region_id.clone());
    let source = source_of(&config, profile, path, env, region.as_deref(), 0)?;
    Ok(Resolved {
        source,
        region,
        warnings,
    })
}

fn find<'a>(
    config: &'a CliConfig,
    name: &str,
    path: &Path,
) -> Result<&'a CliProfile, CredentialError> {
    config
        .profiles
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| {
            let list = config
                .profiles
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            CredentialError::NoSuchProfile(
                name.to_string(),
                path.to_path_buf(),
                if list.is_empty() { "none".into() } else { list },
            )
        })
}

fn source_of(
    config: &CliConfig,
    p: &CliProfile,
    path: &Path,
    env: Env,
    region: Option<&str>,
    depth: usize,
) -> Result<Source, CredentialError> {
    let name = &p.name;
    let origin = format!("profile {} in {}", name, path.display());
    let field = |v: &Option<String>, f: &'static str| {
        v.clone()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| CredentialError::MissingField(name.clone(), f))
    };
    // AK ignores sts_token, StsToken needs it, RamRoleArn signs with it when present.
    #[derive(PartialEq)]
    enum Token {
        Ignored,
        Required,
        IfSet,
    }
    let key = |token: Token| -> Result<Source, CredentialError> {
        Ok(Source::Static(Credentials {
            access_key_id: field(&p.access_key_id, "access_key_id")?,
            access_key_secret: field(&p.access_key_secret, "access_key_secret")?.into(),
            security_token: match token {
                Token::Ignored => None,
                Token::Required => Some(field(&p.sts_token, "sts_token")?.into()),
                Token::IfSet => p
                    .sts_token
                    .clone()
                    .filter(|t| !t.is_empty())
                    .map(Into::into),
            },
            origin: origin.clone(),
        }))
    };
    let role = || RoleFields {
        role_arn: p.ram_role_arn.clone(),
        session_name: p.ram_session_name.clone(),
        duration_seconds: p.expired_seconds.as_ref().and_then(|v| match v {
            serde_json::Value::Number(n) => n.as_u64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }),
        external_id: p.external_id.clone(),
        policy: p.policy.clone(),
        sts_region: p.sts_region.clone(),
    };
    let who = format!("profile {name:?}");
    let mode = p
        .mode
        .clone()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "AK".into());
    // The CLI matches mode names without regard to case.
    match mode.to_ascii_lowercase().as_str() {
        "ak" => key(Token::Ignored),
        "ststoken" => key(Token::Required),
        "ramrolearn" => chain::assume_role(env, key(Token::IfSet)?, role(), region, &who),
        "chainableramrolearn" => {
            let source_name = field(&p.source_profile, "source_profile")?;
            if depth >= MAX_CHAIN {
                return Err(CredentialError::Invalid(format!(
                    "profile {name:?}: source_profile links loop or run deeper than {MAX_CHAIN} profiles"
                )));
            }
            let source = find(config, &source_name, path)?;
            let base = source_of(config, source, path, env, region, depth + 1)?;
            chain::assume_role(env, base, role(), region, &who)
        }
        "ecsramrole" => chain::ecs_ram_role(env, p.ram_role_name.clone(), origin.clone()),
        // Deprecated by the CLI in favour of ChainableRamRoleArn, still found in old configs.
        "ramrolearnwithrolename" => {
            let base = chain::ecs_ram_role(env, p.ram_role_name.clone(), origin.clone())?;
            chain::assume_role(env, base, role(), region, &who)
        }
        "credentialsuri" => {
            let (uri, what) = match p.credentials_uri.clone().filter(|u| !u.is_empty()) {
                Some(u) => (u, format!("credentials_uri of profile {name:?}")),
                None => (
                    env(ENV_CREDENTIALS_URI).ok_or_else(|| {
                        CredentialError::MissingField(name.clone(), "credentials_uri")
                    })?,
                    ENV_CREDENTIALS_URI.to_string(),
                ),
            };
            chain::credentials_uri(&uri, &what)
        }
        _ => Err(CredentialError::UnsupportedMode(name.clone(), mode)),
    }
}
