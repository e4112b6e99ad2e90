//! API errors as the real endpoint returns them: code, message, HTTP status, and the body
//! `{"RequestId","HostId","Code","Message","Recommend"}`.

use serde_json::{Value, json};

/// One API error the simulator answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message} (HTTP {status})")]
pub struct SimError {
    pub code: String,
    pub message: String,
    pub status: u16,
}

impl SimError {
    /// Any code, message and status.
    pub fn new(code: &str, message: impl Into<String>, status: u16) -> SimError {
        SimError {
            code: code.to_string(),
            message: message.into(),
            status,
        }
    }

    /// `InvalidDBInstanceName.NotFound` (404), the documented error of the operation.
    pub fn instance_not_found() -> SimError {
        SimError::new(
            "InvalidDBInstanceName.NotFound",
            "The database instance does not exist.",
            404,
        )
    }

    /// `MissingParameter` for a required parameter.
    pub fn missing_parameter(name: &str) -> SimError {
        SimError::new(
            "MissingParameter",
            format!(
                "The input parameter \"{name}\" that is mandatory for processing this request is not supplied."
            ),
            400,
        )
    }

    /// `InvalidParameter` for a value that cannot be used.
    pub fn invalid_parameter(name: &str, why: &str) -> SimError {
        SimError::new(
            "InvalidParameter",
            format!("The specified parameter \"{name}\" is not valid: {why}."),
            400,
        )
    }

    /// `IncompleteSignature`: the signature parts are missing or malformed.
    pub fn incomplete_signature(why: &str) -> SimError {
        SimError::new(
            "IncompleteSignature",
            format!("The request signature does not conform to Aliyun standards. {why}"),
            400,
        )
    }

    /// `SignatureDoesNotMatch`, echoing the server's string to sign like the real service (the
    /// legacy SDK compares it with its own to tell a wrong secret from a signing bug).
    pub fn signature_mismatch(string_to_sign: &str) -> SimError {
        SimError::new(
            "SignatureDoesNotMatch",
            format!(
                "Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"
            ),
            400,
        )
    }

    /// `InvalidAccessKeyId.NotFound` (404).
    pub fn access_key_not_found() -> SimError {
        SimError::new(
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
            404,
        )
    }

    /// `InvalidTimeStamp.Expired`: more than 15 minutes off.
    pub fn timestamp_expired(ts: &str, server_now: &str) -> SimError {
        SimError::new(
            "InvalidTimeStamp.Expired",
            format!(
                "Specified time stamp or date value is expired. Request time {ts}, server time {server_now}; they must be within 15 minutes."
            ),
            400,
        )
    }

    /// `InvalidTimeStamp.Format`.
    pub fn timestamp_format(ts: &str) -> SimError {
        SimError::new(
            "InvalidTimeStamp.Format",
            format!(
                "Specified time stamp or date value is not well formatted: {ts:?} (expected YYYY-MM-DDThh:mm:ssZ)."
            ),
            400,
        )
    }

    /// `SignatureNonceUsed`: the nonce was seen in the last 15 minutes.
    pub fn nonce_used() -> SimError {
        SimError::new(
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
            400,
        )
    }

    /// `MissingSecurityToken`: STS credentials need their token.
    pub fn missing_security_token() -> SimError {
        SimError::new(
            "MissingSecurityToken",
            "The SecurityToken is mandatory for this AccessKey.",
            400,
        )
    }

    /// `InvalidSecurityToken.Malformed`.
    pub fn security_token_malformed() -> SimError {
        SimError::new(
            "InvalidSecurityToken.Malformed",
            "Specified SecurityToken is malformed.",
            400,
        )
    }

    /// `InvalidAction.NotFound` (404) for an unknown Action.
    pub fn unknown_action(action: &str) -> SimError {
        SimError::new(
            "InvalidAction.NotFound",
            format!(
                "Specified api is not found, please check your url and method. (Action {action:?})"
            ),
            404,
        )
    }

    /// `InvalidVersion` for a Version other than 2014-08-15.
    pub fn invalid_version(version: &str) -> SimError {
        SimError::new(
            "InvalidVersion",
            format!("Specified parameter Version {version:?} is not valid."),
            400,
        )
    }

    /// `InvalidMigrateStatus`: switchover outside stage increment (or not synced).
    pub fn invalid_migrate_status() -> SimError {
        SimError::new(
            "InvalidMigrateStatus",
            "The migrate target instance is not synced with source instance.",
            400,
        )
    }

    /// `InvalidMigrateTask`: no running task to switch over.
    pub fn invalid_migrate_task() -> SimError {
        SimError::new("InvalidMigrateTask", "No running migrate task found.", 400)
    }

    /// `IncorrectDBInstanceState`.
    pub fn incorrect_instance_state(why: &str) -> SimError {
        SimError::new(
            "IncorrectDBInstanceState",
            format!("Current DB instance state does not support this operation. {why}"),
            403,
        )
    }

    /// `Throttling.User` (a fault).
    pub fn throttling_user() -> SimError {
        SimError::new(
            "Throttling.User",
            "Request was denied due to user flow control.",
            400,
        )
    }

    /// `ServiceUnavailable` (503) or `InternalError` (500) (a fault).
    pub fn server_error(status: u16) -> SimError {
        if status == 503 {
            SimError::new(
                "ServiceUnavailable",
                "The request has failed due to a temporary failure of the server.",
                503,
            )
        } else {
            SimError::new(
                "InternalError",
                "The request processing has failed due to some unknown error, exception or failure.",
                status,
            )
        }
    }

    /// `OperationDenied` for operations a task source does not support.
    pub fn unsupported(what: &str) -> SimError {
        SimError::new(
            "OperationDenied",
            format!("{what} is not supported by this endpoint."),
            403,
        )
    }

    /// The error body.
    pub fn body(&self, request_id: &str, host_id: &str) -> Value {
        json!({
            "RequestId": request_id,
            "HostId": host_id,
            "Code": self.code,
            "Message": self.message,
            "Recommend": format!(
                "https://api.aliyun.com/troubleshoot?q={}&product=Rds&requestId={request_id}",
                self.code
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_the_real_shape() {
        let b = SimError::instance_not_found().body("R-1", "rds.aliyuncs.com");
        let o = b.as_object().unwrap();
        let mut keys: Vec<&str> = o.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            ["Code", "HostId", "Message", "Recommend", "RequestId"]
        );
        assert_eq!(o["Code"], "InvalidDBInstanceName.NotFound");
        assert_eq!(SimError::instance_not_found().status, 404);
    }

    #[test]
    fn mismatch_message_ends_with_the_string_to_sign() {
        // The legacy Python SDK splits the message at ':' and compares part 1.
        let e = SimError::signature_mismatch("POST&%2F&A%3D1");
        assert_eq!(e.message.split(':').nth(1), Some("POST&%2F&A%3D1"));
    }
}
