//! The simulator's STS: `AssumeRole` (RPC, version 2015-04-01, signed like the RDS calls and
//! checked by the same verifier) and the ECS metadata service's role credentials, both handing
//! out temporary credentials (`STS.` AccessKeyId, secret, SecurityToken, Expiration) that the
//! RDS side then accepts until they expire.
//!
//! Roles: any well-formed `acs:ram::ACCOUNT:role/NAME` can be assumed, except the documented
//! refusals: `role/denied` (`NoPermission`, 403) and names starting with `missing`
//! (`EntityNotExist.Role`, 404).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use rand::distr::Alphanumeric;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::error::SimError;

/// The STS API version.
pub const STS_VERSION: &str = "2015-04-01";
/// The role name STS refuses to let anyone assume.
pub const DENIED_ROLE: &str = "denied";
/// Role names starting with this do not exist.
pub const MISSING_ROLE_PREFIX: &str = "missing";
/// The RAM role the simulated ECS instance has.
pub const ECS_ROLE: &str = "migtop-ecs-role";
/// The account the simulated ECS role belongs to.
pub const ACCOUNT_ID: &str = "1234567890123456";
/// How long the metadata service's credentials last (the real service rotates them hourly,
/// each valid for about 6 hours).
const ECS_LIFETIME: Duration = Duration::from_secs(6 * 3600);
/// Temporary keys remembered at most; expired ones go first.
const CAP: usize = 100_000;

/// Whether `action` is an STS operation (and so carries version 2015-04-01).
pub fn is_sts_action(action: &str) -> bool {
    matches!(action, "AssumeRole" | "GetCallerIdentity")
}

/// How the simulated STS behaves.
#[derive(Debug, Clone)]
pub struct StsConfig {
    /// Issued credentials last at most this long, whatever DurationSeconds asks (so tests can
    /// watch credentials expire and be renewed). `None`: as asked.
    pub lifetime_cap: Option<Duration>,
    /// The RAM role the metadata service reports.
    pub ecs_role: String,
}

impl Default for StsConfig {
    fn default() -> Self {
        StsConfig {
            lifetime_cap: None,
            ecs_role: ECS_ROLE.to_string(),
        }
    }
}

/// One issued temporary key.
#[derive(Clone)]
pub struct IssuedKey {
    pub secret: SecretString,
    pub token: SecretString,
    pub expiration: DateTime<Utc>,
}

/// The STS state: configuration and every key handed out.
pub struct Sts {
    config: StsConfig,
    issued: Mutex<HashMap<String, IssuedKey>>,
    /// The metadata service's session tokens and when each expires.
    imds_tokens: Mutex<HashMap<String, DateTime<Utc>>>,
}

fn random(n: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl Sts {
    /// An STS with nothing issued yet.
    pub fn new(config: StsConfig) -> Sts {
        Sts {
            config,
            issued: Mutex::new(HashMap::new()),
            imds_tokens: Mutex::new(HashMap::new()),
        }
    }

    /// The key issued under `access_key_id`, expired or not.
    pub fn lookup(&self, access_key_id: &str) -> Option<IssuedKey> {
        let map = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        map.get(access_key_id).cloned()
    }

    /// Keys remembered now.
    pub fn issued_count(&self) -> usize {
        self.issued.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Issues a key for `lifetime` (capped by the configuration): (AccessKeyId, key).
    pub fn issue(&self, lifetime: Duration, now: DateTime<Utc>) -> (String, IssuedKey) {
        let lifetime = self
            .config
            .lifetime_cap
            .map_or(lifetime, |cap| lifetime.min(cap));
        let id = format!("STS.NT{}", random(22));
        let key = IssuedKey {
            secret: random(40).into(),
            token: format!("CAIS{}", random(180)).into(),
            expiration: now + chrono::Duration::from_std(lifetime).unwrap_or_default(),
        };
        let mut map = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= CAP {
            map.retain(|_, k| k.expiration > now);
        }
        if map.len() >= CAP
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, k)| k.expiration)
                .map(|(id, _)| id.clone())
        {
            map.remove(&oldest);
        }
        map.insert(id.clone(), key.clone());
        (id, key)
    }

    /// `AssumeRole`: checks RoleArn, RoleSessionName and DurationSeconds as STS does.
    pub fn assume_role(
        &self,
        p: &BTreeMap<String, String>,
        request_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Value, SimError> {
        let get = |k: &str| p.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let arn = get("RoleArn").ok_or_else(|| SimError::missing_parameter("RoleArn"))?;
        let session =
            get("RoleSessionName").ok_or_else(|| SimError::missing_parameter("RoleSessionName"))?;
        let (account, role) = parse_role_arn(arn).ok_or_else(|| {
            SimError::new(
                "InvalidParameter.RoleArn",
                "The parameter RoleArn is wrongly formed.",
                400,
            )
        })?;
        let session_ok = (2..=64).contains(&session.len())
            && session
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.@=,".contains(c));
        if !session_ok {
            return Err(SimError::new(
                "InvalidParameter.RoleSessionName",
                "The parameter RoleSessionName is wrongly formed.",
                400,
            ));
        }
        let duration: u64 = match get("DurationSeconds") {
            None => 3600,
            Some(d) => d.parse().map_err(|_| duration_error())?,
        };
        if !(900..=43_200).contains(&duration) {
            return Err(duration_error());
        }
        if role == DENIED_ROLE {
            return Err(SimError::new(
                "NoPermission",
                "You are not authorized to do this action. You should be authorized by RAM.",
                403,
            ));
        }
        if role.starts_with(MISSING_ROLE_PREFIX) {
            return Err(SimError::new(
                "EntityNotExist.Role",
                format!("The role not exists: acs:ram::{account}:role/{role}."),
                404,
            ));
        }
        let (id, key) = self.issue(Duration::from_secs(duration), now);
        Ok(json!({
            "RequestId": request_id,
            "AssumedRoleUser": {
                "Arn": format!("acs:ram::{account}:assumed-role/{role}/{session}"),
                "AssumedRoleId": format!("3{}:{session}", &random(17)),
            },
            "Credentials": {
                "AccessKeyId": id,
                "AccessKeySecret": key.secret.expose_secret(),
                "SecurityToken": key.token.expose_secret(),
                "Expiration": utc(key.expiration),
            },
        }))
    }

    /// The metadata service's answer for the instance's role.
    pub fn ecs_credentials(&self, now: DateTime<Utc>) -> Value {
        let (id, key) = self.issue(ECS_LIFETIME, now);
        json!({
            "AccessKeyId": id,
            "AccessKeySecret": key.secret.expose_secret(),
            "Expiration": utc(key.expiration),
            "SecurityToken": key.token.expose_secret(),
            "LastUpdated": utc(now),
            "Code": "Success",
        })
    }

    /// A metadata-service session token valid for `ttl`.
    pub fn issue_imds_token(&self, ttl: Duration, now: DateTime<Utc>) -> String {
        let token = random(56);
        let mut map = self.imds_tokens.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= CAP {
            map.retain(|_, exp| *exp > now);
            if map.len() >= CAP {
                map.clear();
            }
        }
        map.insert(
            token.clone(),
            now + chrono::Duration::from_std(ttl).unwrap_or_default(),
        );
        token
    }

    /// Whether `token` is a live metadata-service session token.
    pub fn imds_token_valid(&self, token: &str, now: DateTime<Utc>) -> bool {
        let map = self.imds_tokens.lock().unwrap_or_else(|e| e.into_inner());
        map.get(token).is_some_and(|exp| *exp > now)
    }

    /// The RAM role the simulated instance has.
    pub fn ecs_role(&self) -> &str {
        &self.config.ecs_role
    }
}

fn duration_error() -> SimError {
    SimError::new(
        "InvalidParameter.DurationSeconds",
        "The Min/Max value of DurationSeconds is 15min/12hr.",
        400,
    )
}

/// `acs:ram::ACCOUNT:role/NAME` → (ACCOUNT, NAME).
fn parse_role_arn(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("acs:ram::")?;
    let (account, role) = rest.split_once(":role/")?;
    let ok = !account.is_empty()
        && account.chars().all(|c| c.is_ascii_digit())
        && !role.is_empty()
        && role
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    ok.then_some((account, role))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn assume_role_issues_keys_it_remembers() {
        let sts = Sts::new(StsConfig::default());
        let now = Utc::now();
        let v = sts
            .assume_role(
                &params(&[
                    ("RoleArn", "acs:ram::123:role/reader"),
                    ("RoleSessionName", "migtop-1"),
                    ("DurationSeconds", "900"),
                ]),
                "R-1",
                now,
            )
            .unwrap();
        let c = &v["Credentials"];
        let id = c["AccessKeyId"].as_str().unwrap();
        assert!(id.starts_with("STS."));
        let key = sts.lookup(id).unwrap();
        assert_eq!(
            key.secret.expose_secret(),
            c["AccessKeySecret"].as_str().unwrap()
        );
        assert_eq!(c["Expiration"], utc(now + chrono::Duration::seconds(900)));
        assert_eq!(
            v["AssumedRoleUser"]["Arn"],
            "acs:ram::123:assumed-role/reader/migtop-1"
        );
    }

    #[test]
    fn refusals_use_sts_codes() {
        let sts = Sts::new(StsConfig::default());
        let now = Utc::now();
        let code = |pairs: &[(&str, &str)]| sts.assume_role(&params(pairs), "R", now).unwrap_err();
        let e = code(&[
            ("RoleArn", "acs:ram::1:role/denied"),
            ("RoleSessionName", "ab"),
        ]);
        assert_eq!((e.code.as_str(), e.status), ("NoPermission", 403));
        let e = code(&[
            ("RoleArn", "acs:ram::1:role/missing-x"),
            ("RoleSessionName", "ab"),
        ]);
        assert_eq!((e.code.as_str(), e.status), ("EntityNotExist.Role", 404));
        let e = code(&[
            ("RoleArn", "arn:aws:iam::1:role/x"),
            ("RoleSessionName", "ab"),
        ]);
        assert_eq!(e.code, "InvalidParameter.RoleArn");
        let e = code(&[("RoleArn", "acs:ram::1:role/x"), ("RoleSessionName", "a b")]);
        assert_eq!(e.code, "InvalidParameter.RoleSessionName");
        let e = code(&[
            ("RoleArn", "acs:ram::1:role/x"),
            ("RoleSessionName", "ab"),
            ("DurationSeconds", "60"),
        ]);
        assert_eq!(e.code, "InvalidParameter.DurationSeconds");
        assert_eq!(code(&[("RoleSessionName", "ab")]).code, "MissingParameter");
    }

    #[test]
    fn the_cap_shortens_lifetimes() {
        let sts = Sts::new(StsConfig {
            lifetime_cap: Some(Duration::from_secs(5)),
            ..Default::default()
        });
        let now = Utc::now();
        let v = sts.ecs_credentials(now);
        assert_eq!(v["Code"], "Success");
        assert_eq!(v["Expiration"], utc(now + chrono::Duration::seconds(5)));
    }
}
