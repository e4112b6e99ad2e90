//! Typed API errors, their retry class and a readable sentence for each.

use serde::Serialize;

/// What went wrong talking to the RDS OpenAPI.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiError {
    /// The service answered with an error body.
    #[error("{}", api_sentence(.code, .message, .request_id.as_deref(), *.http_status))]
    Api {
        code: String,
        message: String,
        request_id: Option<String>,
        http_status: u16,
    },
    /// The request did not complete (connect, reset, TLS...).
    #[error("network error talking to {endpoint}: {message}")]
    Network { endpoint: String, message: String },
    /// No complete answer within the timeout (for the whole poll), after `attempts` tries.
    #[error(
        "no complete answer from {endpoint} within {seconds:.0} s (--timeout, for the whole poll){}",
        attempts_note(*.attempts)
    )]
    Timeout {
        endpoint: String,
        seconds: f64,
        attempts: u32,
    },
    /// An answer came but could not be read.
    #[error("unreadable response (HTTP {http_status}): {message}")]
    BadResponse { http_status: u16, message: String },
    /// Temporary credentials (STS role, ECS RAM role, credentials URI) could not be had;
    /// `message` is the whole sentence, with the service's code and request id when it gave
    /// them.
    #[error("{message}")]
    Credentials {
        message: String,
        code: Option<String>,
        request_id: Option<String>,
        retryable: bool,
    },
}

/// " (3 attempts)" after a timeout that was retried; nothing after a single try.
fn attempts_note(attempts: u32) -> String {
    if attempts > 1 {
        format!(", {attempts} attempts")
    } else {
        String::new()
    }
}

/// The JSON contract's error object.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ErrorJson {
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    pub http_status: Option<u16>,
}

fn api_sentence(code: &str, message: &str, request_id: Option<&str>, status: u16) -> String {
    let hint = hint(code).map(|h| format!(" {h}")).unwrap_or_default();
    let rid = request_id
        .map(|r| format!(", request id {r}"))
        .unwrap_or_default();
    let message = message.trim_end_matches('.');
    format!("{code}: {message} (HTTP {status}{rid}).{hint}")
}

/// What the DBA should do about a code, where the code alone is not enough.
fn hint(code: &str) -> Option<&'static str> {
    Some(match code {
        c if c.starts_with("InvalidTimeStamp") => {
            "This machine's clock is probably off by more than 15 minutes; sync it (NTP) and retry."
        }
        c if c.starts_with("InvalidSecurityToken") || c == "MissingSecurityToken" => {
            "The STS credentials have expired or are incomplete; refresh them."
        }
        "SignatureDoesNotMatch" | "IncompleteSignature" => "Check the AccessKey secret.",
        c if c.starts_with("InvalidAccessKeyId") => {
            "Check the AccessKey id, and that it is active."
        }
        c if c.starts_with("Forbidden") => {
            "The RAM user needs the permission rds:DescribeCloudMigrationResult."
        }
        "InvalidDBInstanceName.NotFound" => "Check the instance id and the region.",
        _ => return None,
    })
}

impl ApiError {
    /// Whether the same request may succeed if sent again (with a fresh nonce).
    pub fn is_retryable(&self) -> bool {
        match self {
            ApiError::Api {
                code, http_status, ..
            } => {
                code == "SignatureNonceUsed"
                    || code.starts_with("Throttling")
                    || code == "InternalError"
                    || code == "ServiceUnavailable"
                    || *http_status >= 500
            }
            ApiError::Network { .. } | ApiError::Timeout { .. } => true,
            ApiError::BadResponse { http_status, .. } => *http_status >= 500 || *http_status == 200,
            ApiError::Credentials { retryable, .. } => *retryable,
        }
    }

    /// Whether the error is final: asking again cannot change the answer (the instance, or
    /// the AccessKey, does not exist), so a script says so at once instead of retrying.
    pub fn is_final(&self) -> bool {
        match self {
            ApiError::Api { code, .. } => {
                (code.starts_with("InvalidDBInstance") && code.ends_with("NotFound"))
                    || code == "InvalidAccessKeyId.NotFound"
            }
            _ => false,
        }
    }

    /// The API code, or a migtop code for transport failures.
    pub fn code(&self) -> &str {
        match self {
            ApiError::Api { code, .. } => code,
            ApiError::Network { .. } => "NetworkError",
            ApiError::Timeout { .. } => "Timeout",
            ApiError::BadResponse { .. } => "BadResponse",
            ApiError::Credentials { code, .. } => code.as_deref().unwrap_or("CredentialsError"),
        }
    }

    /// The request id, when the service gave one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            ApiError::Api { request_id, .. } | ApiError::Credentials { request_id, .. } => {
                request_id.as_deref()
            }
            _ => None,
        }
    }

    /// The JSON contract's error object.
    pub fn to_json(&self) -> ErrorJson {
        let (message, http_status) = match self {
            ApiError::Api {
                message,
                http_status,
                ..
            } => (message.clone(), Some(*http_status)),
            ApiError::BadResponse { http_status, .. } => (self.to_string(), Some(*http_status)),
            _ => (self.to_string(), None),
        };
        ErrorJson {
            code: self.code().to_string(),
            message,
            request_id: self.request_id().map(str::to_string),
            http_status,
        }
    }
}

/// An error and its causes in one line.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: &str, status: u16) -> ApiError {
        ApiError::Api {
            code: code.into(),
            message: "m.".into(),
            request_id: Some("R-1".into()),
            http_status: status,
        }
    }

    #[test]
    fn retry_classes_follow_the_notes() {
        for c in [
            "SignatureNonceUsed",
            "Throttling",
            "Throttling.User",
            "Throttling.Api",
            "InternalError",
            "ServiceUnavailable",
        ] {
            assert!(api(c, 400).is_retryable(), "{c}");
        }
        assert!(api("Whatever", 503).is_retryable());
        for c in [
            "InvalidDBInstanceName.NotFound",
            "SignatureDoesNotMatch",
            "IncompleteSignature",
            "InvalidAccessKeyId.NotFound",
            "InvalidAccessKeyId.Inactive",
            "InvalidTimeStamp.Expired",
            "InvalidSecurityToken.Expired",
            "MissingSecurityToken",
            "Forbidden.RAM",
        ] {
            assert!(!api(c, 400).is_retryable(), "{c}");
        }
        assert!(
            ApiError::Timeout {
                endpoint: "e".into(),
                seconds: 1.0,
                attempts: 1,
            }
            .is_retryable()
        );
        let e = ApiError::Timeout {
            endpoint: "https://e".into(),
            seconds: 2.0,
            attempts: 3,
        };
        assert_eq!(
            e.to_string(),
            "no complete answer from https://e within 2 s (--timeout, for the whole poll), 3 attempts"
        );
    }

    #[test]
    fn sentence_names_code_message_and_request_id() {
        let s = api("InvalidTimeStamp.Expired", 400).to_string();
        assert_eq!(
            s,
            "InvalidTimeStamp.Expired: m (HTTP 400, request id R-1). This machine's clock is probably off by more than 15 minutes; sync it (NTP) and retry."
        );
    }
}
