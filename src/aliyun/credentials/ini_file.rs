//! The SDKs' credentials file (`~/.alibabacloud/credentials`, INI): sections are profiles with
//! `type = access_key | sts | ram_role_arn | ecs_ram_role` and the keys the official SDKs read
//! (`access_key_id`, `access_key_secret`, `security_token`, `role_arn`, `role_session_name`,
//! `policy`, `role_name`, `region_id`).

use std::path::{Path, PathBuf};

use super::chain::{self, Env, RoleFields};
use super::*;

/// `--credentials-file`-like option, else `ALIBABA_CLOUD_CREDENTIALS_FILE`, else the default.
pub(super) fn path(opts: &CredentialOptions, env: Env) -> PathBuf {
    opts.credentials_path
        .clone()
        .or_else(|| env(ENV_CREDENTIALS_FILE).map(PathBuf::from))
        .unwrap_or_else(|| {
            let home = env("HOME").unwrap_or_else(|| ".".into());
            Path::new(&home).join(".alibabacloud").join("credentials")
        })
}

/// The profile (`--profile`, else `ALIBABA_CLOUD_PROFILE`, else `default`) as a source.
pub(super) fn resolve(
    opts: &CredentialOptions,
    env: Env,
    path: &Path,
    text: &str,
) -> Result<Resolved, CredentialError> {
    let ini = ini::Ini::load_from_str(text).map_err(|e| {
        CredentialError::Unreadable(path.to_path_buf(), format!("not valid INI ({e})"))
    })?;
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
        CredentialError::NoSuchProfile(wanted.clone(), path.to_path_buf(), list)
    })?;
    let get = |name: &str| {
        section
            .get(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let field = |name: &'static str| {
        get(name).ok_or_else(|| CredentialError::MissingField(wanted.clone(), name))
    };
    let origin = format!("profile {} in {}", wanted, path.display());
    let key = |token: Option<SecretString>| -> Result<Source, CredentialError> {
        Ok(Source::Static(Credentials {
            access_key_id: field("access_key_id")?,
            access_key_secret: field("access_key_secret")?.into(),
            security_token: token,
            origin: origin.clone(),
        }))
    };
    let region = chain::region(opts, env, get("region_id"));
    let kind = get("type").unwrap_or_else(|| "access_key".into());
    let source = match kind.as_str() {
        "access_key" => key(None)?,
        "sts" => key(Some(field("security_token")?.into()))?,
        "ram_role_arn" => chain::assume_role(
            env,
            key(None)?,
            RoleFields {
                role_arn: get("role_arn"),
                session_name: get("role_session_name"),
                policy: get("policy"),
                ..Default::default()
            },
            region.as_deref(),
            &format!("profile {wanted:?} in {}", path.display()),
        )?,
        "ecs_ram_role" => chain::ecs_ram_role(env, get("role_name"), origin.clone())?,
        other => {
            return Err(CredentialError::UnsupportedType(
                wanted,
                other.to_string(),
                path.to_path_buf(),
            ));
        }
    };
    let mut warnings = Vec::new();
    warnings.extend(permission_warning(path));
    Ok(Resolved {
        source,
        region,
        warnings,
    })
}
