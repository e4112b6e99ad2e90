//! What the credential fetchers share: an HTTP client that never follows redirects, bounded
//! bodies, the temporary-credentials JSON every source answers with, and the fetch error.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;

use super::Credentials;
use crate::aliyun::ApiError;

/// Largest credentials response read; anything longer is refused (a real one is ~1 KiB).
const MAX_BODY: usize = 64 * 1024;

/// Why fresh credentials could not be fetched, in one sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchError {
    /// The sentence shown to the DBA (never holds a secret).
    pub message: String,
    /// The service's error code (STS `Code`), when it gave one.
    pub code: Option<String>,
    pub request_id: Option<String>,
    /// Network trouble and 5xx may pass; refusals will not.
    pub retryable: bool,
}

impl From<FetchError> for ApiError {
    fn from(e: FetchError) -> ApiError {
        ApiError::Credentials {
            message: e.message,
            code: e.code,
            request_id: e.request_id,
            retryable: e.retryable,
        }
    }
}

/// Temporary credentials and when they stop working.
#[derive(Debug, Clone)]
pub struct Temporary {
    pub credentials: Credentials,
    pub expiration: DateTime<Utc>,
}

/// The client the fetchers use: timeouts, no redirects (a redirect could carry a signed
/// request elsewhere), and optionally no proxy (the metadata service is link-local).
pub fn client(timeout: Duration, proxy: bool) -> reqwest::Result<reqwest::Client> {
    let mut b = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("migtop/", env!("CARGO_PKG_VERSION")));
    if !proxy {
        b = b.no_proxy();
    }
    b.build()
}

/// Sends `req` and reads at most [`MAX_BODY`] bytes of the answer: (status, body).
pub async fn send(req: reqwest::RequestBuilder, what: &str) -> Result<(u16, Vec<u8>), FetchError> {
    let mut resp = req.send().await.map_err(|e| network(what, &e))?;
    let status = resp.status().as_u16();
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| network(what, &e))? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(FetchError {
                message: format!("{what} answered with more than {MAX_BODY} bytes; refusing it"),
                code: None,
                request_id: None,
                retryable: false,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, body))
}

fn network(what: &str, e: &reqwest::Error) -> FetchError {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let how = if e.is_timeout() {
        "no answer in time".to_string()
    } else {
        cause.to_string()
    };
    FetchError {
        message: format!("cannot reach {what}: {how}"),
        code: None,
        request_id: None,
        retryable: true,
    }
}

/// The fields STS, the ECS metadata service and a credentials URI all answer with.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Wire {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub access_key_id: Option<String>,
    #[serde(default)]
    pub access_key_secret: Option<String>,
    #[serde(default)]
    pub security_token: Option<String>,
    #[serde(default)]
    pub expiration: Option<String>,
}

impl Wire {
    /// The credentials, or an error naming what is missing (never quoting the body: it may
    /// hold a secret).
    pub fn into_temporary(self, what: &str, origin: &str) -> Result<Temporary, FetchError> {
        let bad = |m: String| FetchError {
            message: format!("{what} answered without usable credentials: {m}"),
            code: None,
            request_id: None,
            retryable: false,
        };
        let field = |v: Option<String>, name: &str| {
            v.filter(|s| !s.is_empty())
                .ok_or_else(|| bad(format!("no {name}")))
        };
        let id = field(self.access_key_id, "AccessKeyId")?;
        let secret = field(self.access_key_secret, "AccessKeySecret")?;
        let token = field(self.security_token, "SecurityToken")?;
        let exp = field(self.expiration, "Expiration")?;
        let expiration = parse_expiration(&exp)
            .ok_or_else(|| bad(format!("Expiration {exp:?} is not a UTC time")))?;
        Ok(Temporary {
            credentials: Credentials {
                access_key_id: id,
                access_key_secret: secret.into(),
                security_token: Some(token.into()),
                origin: origin.to_string(),
            },
            expiration,
        })
    }
}

/// `2026-11-30T10:00:00Z` (what the services send), or any RFC 3339 time.
pub fn parse_expiration(s: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%SZ")
        .map(|n| n.and_utc())
        .ok()
        .or_else(|| {
            DateTime::parse_from_rfc3339(s.trim())
                .ok()
                .map(|d| d.with_timezone(&Utc))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn wire_needs_every_field_and_never_quotes_the_secret() {
        let w: Wire = serde_json::from_str(
            r#"{"Code":"Success","AccessKeyId":"STS.a","AccessKeySecret":"s3cr3t","SecurityToken":"tok","Expiration":"2030-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        let t = w.into_temporary("the test", "o").unwrap();
        assert_eq!(t.credentials.security_token.unwrap().expose_secret(), "tok");
        assert_eq!(t.expiration.to_rfc3339(), "2030-01-01T00:00:00+00:00");
        let w: Wire =
            serde_json::from_str(r#"{"AccessKeyId":"STS.a","AccessKeySecret":"s3cr3t"}"#).unwrap();
        let e = w.into_temporary("the test", "o").unwrap_err();
        assert!(e.message.contains("no SecurityToken"), "{e:?}");
        assert!(!e.message.contains("s3cr3t"));
    }
}
