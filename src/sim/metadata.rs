//! The simulated ECS metadata service (the part the credentials SDKs use), in hardened mode:
//! `PUT /latest/api/token` with `X-aliyun-ecs-metadata-token-ttl-seconds` gives a session
//! token; `GET /latest/meta-data/ram/security-credentials/` names the instance's RAM role and
//! `GET .../security-credentials/ROLE` gives its temporary credentials, both only with a live
//! token in `X-aliyun-ecs-metadata-token` (403 without: the plain IMDSv1 mode is off).
//!
//! Clients reach it at the simulator's address, or, as they would reach 100.100.100.200, with
//! the simulator as their HTTP proxy (the request line then carries the absolute URL).

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::sts::Sts;

/// Every path the metadata service answers starts with this.
pub const PREFIX: &str = "/latest/";
const TOKEN_PATH: &str = "/latest/api/token";
const CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";
const TTL_HEADER: &str = "x-aliyun-ecs-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "x-aliyun-ecs-metadata-token";
/// Longest session token lifetime (6 hours).
const MAX_TTL: u64 = 21_600;

/// Whether a request is for the metadata service rather than the API.
pub fn is_metadata_path(path: &str) -> bool {
    path.starts_with(PREFIX)
}

/// An answer: HTTP status, content type, body.
pub type Answer = (u16, &'static str, String);

fn text(status: u16, body: &str) -> Answer {
    (status, "text/plain", body.to_string())
}

/// Answers one metadata request; `header` looks a request header up by lowercase name.
pub fn respond(
    sts: &Sts,
    method: &str,
    path: &str,
    header: &dyn Fn(&str) -> Option<String>,
    now: DateTime<Utc>,
) -> Answer {
    if path == TOKEN_PATH {
        if !method.eq_ignore_ascii_case("PUT") {
            return text(405, "Method Not Allowed");
        }
        let ttl = header(TTL_HEADER).and_then(|v| v.trim().parse::<u64>().ok());
        return match ttl {
            Some(t) if (1..=MAX_TTL).contains(&t) => {
                text(200, &sts.issue_imds_token(Duration::from_secs(t), now))
            }
            _ => text(400, "Bad Request"),
        };
    }
    let Some(rest) = path.strip_prefix(CREDENTIALS_PATH) else {
        return text(404, "Not Found");
    };
    if !method.eq_ignore_ascii_case("GET") {
        return text(405, "Method Not Allowed");
    }
    let token_ok = header(TOKEN_HEADER).is_some_and(|t| sts.imds_token_valid(t.trim(), now));
    if !token_ok {
        return text(403, "Forbidden");
    }
    let rest = percent_encoding::percent_decode_str(rest).decode_utf8_lossy();
    match rest.trim_end_matches('/') {
        "" => text(200, sts.ecs_role()),
        role if role == sts.ecs_role() => (
            200,
            "application/json",
            sts.ecs_credentials(now).to_string(),
        ),
        _ => text(404, "Not Found"),
    }
}

/// [`respond`] as an HTTP response.
pub(crate) fn answer(
    sts: &Sts,
    parts: &hyper::http::request::Parts,
    request_id: &str,
) -> hyper::Response<http_body_util::Full<bytes::Bytes>> {
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (status, kind, body) = respond(
        sts,
        parts.method.as_str(),
        parts.uri.path(),
        &header,
        Utc::now(),
    );
    tracing::info!(method = %parts.method, path = parts.uri.path(), status, "metadata");
    hyper::Response::builder()
        .status(status)
        .header("content-type", kind)
        .header("x-acs-request-id", request_id)
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
        .unwrap_or_else(|_| hyper::Response::new(http_body_util::Full::new(bytes::Bytes::new())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::sts::StsConfig;

    #[test]
    fn hardened_mode_round_trip() {
        let sts = Sts::new(StsConfig::default());
        let now = Utc::now();
        let none = |_: &str| None;
        assert_eq!(respond(&sts, "GET", CREDENTIALS_PATH, &none, now).0, 403);
        assert_eq!(respond(&sts, "PUT", TOKEN_PATH, &none, now).0, 400);
        let ttl = |k: &str| (k == TTL_HEADER).then(|| "60".to_string());
        let (status, _, token) = respond(&sts, "PUT", TOKEN_PATH, &ttl, now);
        assert_eq!(status, 200);
        let with = |k: &str| (k == TOKEN_HEADER).then(|| token.clone());
        let (status, _, role) = respond(&sts, "GET", CREDENTIALS_PATH, &with, now);
        assert_eq!((status, role.as_str()), (200, "migtop-ecs-role"));
        let path = format!("{CREDENTIALS_PATH}{role}");
        let (status, kind, body) = respond(&sts, "GET", &path, &with, now);
        assert_eq!((status, kind), (200, "application/json"));
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(sts.lookup(v["AccessKeyId"].as_str().unwrap()).is_some());
        let other = format!("{CREDENTIALS_PATH}other");
        assert_eq!(respond(&sts, "GET", &other, &with, now).0, 404);
        let later = now + chrono::Duration::seconds(61);
        assert_eq!(respond(&sts, "GET", &path, &with, later).0, 403);
    }
}
