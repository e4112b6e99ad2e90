//! STS `AssumeRole` (RPC, version 2015-04-01, signature v1), as the official credentials
//! SDKs send it: the signing credentials' AccessKeyId (and SecurityToken when they are
//! temporary themselves), RoleArn, RoleSessionName, DurationSeconds, optional ExternalId and
//! Policy.

use std::collections::BTreeMap;

use secrecy::ExposeSecret;
use serde::Deserialize;

use super::Credentials;
use super::http::{self, FetchError, Temporary, Wire};
use super::source::AssumeRole;
use crate::aliyun::sign;

/// The STS API version.
pub const STS_VERSION: &str = "2015-04-01";
/// Session length when none is configured (the SDKs' default).
pub const DEFAULT_DURATION: u32 = 3600;
/// The shortest session STS grants.
pub const MIN_DURATION: u32 = 900;

/// The STS endpoint for a region: `sts.REGION.aliyuncs.com` (`sts-vpc.` inside a VPC), or the
/// central `sts.aliyuncs.com` when no region is known.
pub fn endpoint_for_region(region: Option<&str>, vpc: bool) -> String {
    match region.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) if vpc => format!("https://sts-vpc.{r}.aliyuncs.com"),
        Some(r) => format!("https://sts.{r}.aliyuncs.com"),
        None => "https://sts.aliyuncs.com".to_string(),
    }
}

/// The parameters of one signed `AssumeRole` call (fresh nonce and timestamp).
pub fn signed_params(role: &AssumeRole, signer: &Credentials) -> BTreeMap<String, String> {
    let mut p = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        p.insert(k.to_string(), v);
    };
    put("Action", "AssumeRole".into());
    put("Version", STS_VERSION.into());
    put("Format", "JSON".into());
    put("AccessKeyId", signer.access_key_id.clone());
    put("SignatureMethod", "HMAC-SHA1".into());
    put("SignatureVersion", "1.0".into());
    put("SignatureNonce", uuid::Uuid::new_v4().to_string());
    put(
        "Timestamp",
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    );
    put("RoleArn", role.role_arn.clone());
    put("RoleSessionName", role.session_name.clone());
    put("DurationSeconds", role.duration_seconds.to_string());
    if let Some(x) = &role.external_id {
        put("ExternalId", x.clone());
    }
    if let Some(x) = &role.policy {
        put("Policy", x.clone());
    }
    if let Some(t) = &signer.security_token {
        put("SecurityToken", t.expose_secret().to_string());
    }
    let signature = sign::sign(signer.access_key_secret.expose_secret(), "POST", &p);
    p.insert("Signature".into(), signature);
    p
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    #[serde(default)]
    request_id: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    credentials: Option<Wire>,
}

/// Calls `AssumeRole` signed with `signer`; POST with a form body, so nothing secret-adjacent
/// lands in a URL.
pub async fn assume_role(
    http: &reqwest::Client,
    role: &AssumeRole,
    signer: &Credentials,
) -> Result<Temporary, FetchError> {
    let params = signed_params(role, signer);
    let body = params
        .iter()
        .map(|(k, v)| format!("{}={}", sign::percent_encode(k), sign::percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let what = format!("STS at {}", role.endpoint.as_str().trim_end_matches('/'));
    let req = http
        .post(role.endpoint.clone())
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(reqwest::header::ACCEPT, "application/json")
        .body(body);
    let (status, bytes) = http::send(req, &what).await?;
    let redact = |s: &str| {
        let s = crate::util::redact::access_key(s, &signer.access_key_id);
        match &signer.security_token {
            Some(t) => crate::util::redact::secret(&s, t.expose_secret()),
            None => s,
        }
    };
    let answer: Answer = serde_json::from_slice(&bytes).map_err(|_| FetchError {
        message: format!(
            "cannot assume role {}: {what} answered HTTP {status} with a body that is not STS JSON",
            role.role_arn
        ),
        code: None,
        request_id: None,
        retryable: status >= 500,
    })?;
    match answer.credentials {
        Some(c) if status < 300 => c.into_temporary(
            &what,
            &format!("role {} assumed through {}", role.role_arn, what),
        ),
        _ => {
            let code = answer.code.unwrap_or_else(|| format!("HTTP{status}"));
            let message = redact(
                answer
                    .message
                    .as_deref()
                    .unwrap_or("(no message)")
                    .trim_end_matches('.'),
            );
            let rid = answer
                .request_id
                .as_deref()
                .map(|r| format!(", request id {r}"))
                .unwrap_or_default();
            Err(FetchError {
                message: format!(
                    "STS refused to assume role {}: {code}: {message} (HTTP {status}{rid}){}",
                    role.role_arn,
                    hint(&code)
                ),
                code: Some(code.clone()),
                request_id: answer.request_id,
                retryable: status >= 500 || code.starts_with("Throttling"),
            })
        }
    }
}

/// What to check for the common refusals.
fn hint(code: &str) -> &'static str {
    match code {
        "NoPermission" => {
            "; the signing identity needs sts:AssumeRole on that role and the role's trust policy must name it"
        }
        c if c.starts_with("EntityNotExist") => "; check ram_role_arn",
        c if c.starts_with("InvalidSecurityToken") => {
            "; the credentials that sign AssumeRole have expired"
        }
        c if c.starts_with("InvalidAccessKeyId") || c == "SignatureDoesNotMatch" => {
            "; check the AccessKey of the profile that signs AssumeRole"
        }
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aliyun::credentials::Source;

    fn role() -> AssumeRole {
        AssumeRole {
            base: Box::new(Source::Static(Credentials {
                access_key_id: "LTAIbase".into(),
                access_key_secret: "base-secret".to_string().into(),
                security_token: Some("base-token".to_string().into()),
                origin: "t".into(),
            })),
            role_arn: "acs:ram::123:role/reader".into(),
            session_name: "migtop-test".into(),
            duration_seconds: 900,
            external_id: Some("ext".into()),
            policy: None,
            endpoint: "http://127.0.0.1:1".parse().unwrap(),
        }
    }

    #[test]
    fn params_are_what_the_sdks_send_and_verify() {
        let r = role();
        let Source::Static(signer) = r.base.as_ref() else {
            unreachable!()
        };
        let p = signed_params(&r, signer);
        assert_eq!(p["Action"], "AssumeRole");
        assert_eq!(p["Version"], "2015-04-01");
        assert_eq!(p["RoleArn"], "acs:ram::123:role/reader");
        assert_eq!(p["DurationSeconds"], "900");
        assert_eq!(p["ExternalId"], "ext");
        assert_eq!(p["SecurityToken"], "base-token");
        let mut unsigned = p.clone();
        let sig = unsigned.remove("Signature").unwrap();
        assert_eq!(sign::sign("base-secret", "POST", &unsigned), sig);
    }

    #[test]
    fn regional_endpoints() {
        assert_eq!(endpoint_for_region(None, false), "https://sts.aliyuncs.com");
        assert_eq!(
            endpoint_for_region(Some("cn-beijing"), false),
            "https://sts.cn-beijing.aliyuncs.com"
        );
        assert_eq!(
            endpoint_for_region(Some("cn-beijing"), true),
            "https://sts-vpc.cn-beijing.aliyuncs.com"
        );
    }
}
