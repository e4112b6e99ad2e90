//! Request authentication as the real endpoint does it: signature v1 (HMAC-SHA1, params in the
//! query and/or a form body, GET or POST) and V3 (`ACS3-HMAC-SHA256` in `Authorization`),
//! timestamps within 15 minutes, nonces used once.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

use super::error::SimError;
use super::sts::{self, Sts, StsConfig};
use crate::aliyun::{Credentials, sign};
use crate::sim::sign_v3::{self, Authorization};

/// The one API version served.
pub const API_VERSION: &str = "2014-08-15";
/// How far a request's clock may be from ours, and how long a nonce is remembered.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Nonces remembered at most (oldest forgotten first), so memory stays bounded.
pub const NONCE_CAP: usize = 100_000;

/// A request as received, before any checks.
#[derive(Debug, Clone, Default)]
pub struct Incoming {
    pub method: String,
    /// The path as sent (percent-encoded), e.g. `/`.
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    /// Header names and values as received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Incoming {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn is_form(&self) -> bool {
        self.header("content-type")
            .is_some_and(|c| c.to_ascii_lowercase().contains("x-www-form-urlencoded"))
    }

    /// Query params, then form-body params (a later duplicate wins).
    pub fn params(&self) -> BTreeMap<String, String> {
        let mut p: BTreeMap<String, String> = form_urlencoded::parse(self.query.as_bytes())
            .into_owned()
            .collect();
        if self.is_form() {
            p.extend(form_urlencoded::parse(&self.body).into_owned());
        }
        p
    }

    fn query_params(&self) -> BTreeMap<String, String> {
        form_urlencoded::parse(self.query.as_bytes())
            .into_owned()
            .collect()
    }
}

/// Which signature a request carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureKind {
    V1,
    V3,
}

/// An authenticated request.
#[derive(Debug, Clone)]
pub struct Verified {
    pub action: String,
    /// Every request parameter (query and form body).
    pub params: BTreeMap<String, String>,
    pub kind: SignatureKind,
}

/// Nonces seen in the last 15 minutes, bounded.
#[derive(Default)]
struct NonceCache {
    seen: HashMap<String, Instant>,
    order: VecDeque<(Instant, String)>,
}

impl NonceCache {
    /// Records `nonce`; false when it was already used within the window.
    fn insert(&mut self, nonce: &str, now: Instant) -> bool {
        while let Some((t, n)) = self.order.front() {
            if now.duration_since(*t) < WINDOW && self.order.len() < NONCE_CAP {
                break;
            }
            if self.seen.get(n) == Some(t) {
                self.seen.remove(n);
            }
            self.order.pop_front();
        }
        if self.seen.contains_key(nonce) {
            return false;
        }
        self.seen.insert(nonce.to_string(), now);
        self.order.push_back((now, nonce.to_string()));
        true
    }

    fn len(&self) -> usize {
        self.seen.len()
    }
}

/// Checks requests against one AccessKey and the temporary keys its STS issued.
pub struct Verifier {
    credentials: Credentials,
    nonces: Mutex<NonceCache>,
    sts: Arc<Sts>,
}

/// The secret and token a request's AccessKeyId must sign with, and when they stop working.
struct Key {
    secret: SecretString,
    token: Option<SecretString>,
    expiration: Option<DateTime<Utc>>,
}

impl Verifier {
    /// Accepts requests signed with `credentials` (and keys its own STS issues).
    pub fn new(credentials: Credentials) -> Verifier {
        Verifier::with_sts(credentials, Arc::new(Sts::new(StsConfig::default())))
    }

    /// Like [`Verifier::new`], sharing `sts` (which issues the temporary keys).
    pub fn with_sts(credentials: Credentials, sts: Arc<Sts>) -> Verifier {
        Verifier {
            credentials,
            nonces: Mutex::new(NonceCache::default()),
            sts,
        }
    }

    /// The STS whose keys this verifier accepts.
    pub fn sts(&self) -> &Sts {
        &self.sts
    }

    /// The key behind `access_key_id`: the configured one, or one the STS issued.
    fn key(&self, access_key_id: &str) -> Result<Key, SimError> {
        if access_key_id == self.credentials.access_key_id {
            return Ok(Key {
                secret: self.credentials.access_key_secret.clone(),
                token: self.credentials.security_token.clone(),
                expiration: None,
            });
        }
        self.sts
            .lookup(access_key_id)
            .map(|k| Key {
                secret: k.secret,
                token: Some(k.token),
                expiration: Some(k.expiration),
            })
            .ok_or_else(SimError::access_key_not_found)
    }

    /// Nonces currently remembered.
    pub fn nonces_remembered(&self) -> usize {
        self.nonces.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Authenticates `req` at wall-clock time `now`.
    pub fn verify(&self, req: &Incoming, now: DateTime<Utc>) -> Result<Verified, SimError> {
        match req.header("authorization") {
            Some(a) if a.trim_start().starts_with("ACS3-") => self.verify_v3(req, a, now),
            _ => self.verify_v1(req, now),
        }
    }

    fn verify_v1(&self, req: &Incoming, now: DateTime<Utc>) -> Result<Verified, SimError> {
        let params = req.params();
        let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
        for part in ["Signature", "AccessKeyId", "SignatureNonce", "Timestamp"] {
            if get(part).is_none() {
                return Err(SimError::incomplete_signature(&format!(
                    "The {part} parameter is missing."
                )));
            }
        }
        match get("SignatureMethod") {
            Some("HMAC-SHA1") => {}
            other => {
                return Err(SimError::incomplete_signature(&format!(
                    "SignatureMethod must be HMAC-SHA1, not {:?}.",
                    other.unwrap_or("")
                )));
            }
        }
        if get("SignatureVersion") != Some("1.0") {
            return Err(SimError::incomplete_signature(
                "SignatureVersion must be 1.0.",
            ));
        }
        let ts = get("Timestamp").unwrap_or_default();
        check_time(ts, now)?;
        let key = self.key(get("AccessKeyId").unwrap_or_default())?;
        check_token(&key, get("SecurityToken"), now)?;
        let method = req.method.to_ascii_uppercase();
        let expected = sign::sign(key.secret.expose_secret(), &method, &params);
        if !sign::signatures_equal(&expected, get("Signature").unwrap_or_default()) {
            return Err(SimError::signature_mismatch(&sign::string_to_sign(
                &method, &params,
            )));
        }
        self.use_nonce(get("SignatureNonce").unwrap_or_default())?;
        let action = get("Action")
            .ok_or_else(|| SimError::missing_parameter("Action"))?
            .to_string();
        check_version(&action, get("Version"), "Version")?;
        Ok(Verified {
            action,
            params,
            kind: SignatureKind::V1,
        })
    }

    fn verify_v3(
        &self,
        req: &Incoming,
        authorization: &str,
        now: DateTime<Utc>,
    ) -> Result<Verified, SimError> {
        let auth = Authorization::parse(authorization)
            .map_err(|e| SimError::incomplete_signature(&format!("{e}.")))?;
        let header = |k: &str| req.header(k).map(str::trim).filter(|v| !v.is_empty());
        for required in ["x-acs-date", "x-acs-signature-nonce"] {
            if header(required).is_none() {
                return Err(SimError::incomplete_signature(&format!(
                    "The {required} header is missing."
                )));
            }
        }
        // host and every x-acs-* header must be signed. (content-type is signed by the
        // official SDKs when they send a body, but some HTTP stacks add one on their own, so
        // it is verified when signed and not demanded.)
        let mut must_sign: Vec<String> = req
            .headers
            .iter()
            .map(|(k, _)| k.to_ascii_lowercase())
            .filter(|k| k.starts_with("x-acs-") || k == "host")
            .collect();
        must_sign.push("host".into());
        if let Some(missing) = must_sign.iter().find(|h| !auth.signed_headers.contains(h)) {
            return Err(SimError::incomplete_signature(&format!(
                "The {missing} header must be signed."
            )));
        }
        check_time(header("x-acs-date").unwrap_or_default(), now)?;
        let key = self.key(&auth.access_key_id)?;
        check_token(&key, header("x-acs-security-token"), now)?;
        let body_hash = sign_v3::hex_sha256(&req.body);
        let payload_hash = match header("x-acs-content-sha256") {
            Some(h) if h.eq_ignore_ascii_case(&body_hash) => body_hash,
            Some(_) => {
                return Err(SimError::new(
                    "SignatureDoesNotMatch",
                    "The x-acs-content-sha256 header does not match the hash of the body.",
                    400,
                ));
            }
            None => body_hash,
        };
        let path = if req.path.is_empty() { "/" } else { &req.path };
        let cr = sign_v3::canonical_request(
            &req.method,
            path,
            &req.query_params(),
            &req.headers,
            &auth.signed_headers,
            &payload_hash,
        );
        let sts = sign_v3::string_to_sign(&cr);
        let expected = sign_v3::signature(key.secret.expose_secret(), &sts);
        if !sign::signatures_equal(&expected, &auth.signature) {
            return Err(SimError::signature_mismatch(&sts));
        }
        self.use_nonce(header("x-acs-signature-nonce").unwrap_or_default())?;
        let params = req.params();
        let action = header("x-acs-action")
            .or_else(|| params.get("Action").map(String::as_str))
            .ok_or_else(|| SimError::missing_parameter("x-acs-action"))?
            .to_string();
        let version = header("x-acs-version").or_else(|| params.get("Version").map(String::as_str));
        check_version(&action, version, "x-acs-version")?;
        Ok(Verified {
            action,
            params,
            kind: SignatureKind::V3,
        })
    }

    fn use_nonce(&self, nonce: &str) -> Result<(), SimError> {
        let mut cache = self.nonces.lock().unwrap_or_else(|e| e.into_inner());
        if cache.insert(nonce, Instant::now()) {
            Ok(())
        } else {
            Err(SimError::nonce_used())
        }
    }
}

/// The token sent must be the key's, and the key still valid.
fn check_token(key: &Key, sent: Option<&str>, now: DateTime<Utc>) -> Result<(), SimError> {
    match (&key.token, sent) {
        (None, None) => Ok(()),
        (Some(_), None) => Err(SimError::missing_security_token()),
        (Some(t), Some(s)) if sign::signatures_equal(t.expose_secret(), s) => {
            match key.expiration {
                Some(exp) if now >= exp => Err(SimError::new(
                    "InvalidSecurityToken.Expired",
                    "Specified SecurityToken is expired.",
                    400,
                )),
                _ => Ok(()),
            }
        }
        _ => Err(SimError::security_token_malformed()),
    }
}

/// RDS actions carry version 2014-08-15, STS actions 2015-04-01.
fn check_version(action: &str, version: Option<&str>, name: &str) -> Result<(), SimError> {
    let wanted = if sts::is_sts_action(action) {
        sts::STS_VERSION
    } else {
        API_VERSION
    };
    match version {
        Some(v) if v == wanted => Ok(()),
        Some(v) => Err(SimError::invalid_version(v)),
        None => Err(SimError::missing_parameter(name)),
    }
}

/// A UTC ISO-8601 timestamp within 15 minutes of `now`.
fn check_time(ts: &str, now: DateTime<Utc>) -> Result<(), SimError> {
    let parsed = NaiveDateTime::parse_from_str(ts, "%Y-%m-%dT%H:%M:%SZ")
        .map(|n| n.and_utc())
        .or_else(|_| {
            NaiveDateTime::parse_from_str(ts, "%Y-%m-%dT%H:%M:%S%.fZ").map(|n| n.and_utc())
        })
        .or_else(|_| DateTime::parse_from_rfc3339(ts).map(|d| d.with_timezone(&Utc)))
        .map_err(|_| SimError::timestamp_format(ts))?;
    let skew = (now - parsed).num_seconds().unsigned_abs();
    if skew > WINDOW.as_secs() {
        return Err(SimError::timestamp_expired(
            ts,
            &now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(token: Option<&str>) -> Credentials {
        Credentials {
            access_key_id: "testid".into(),
            access_key_secret: "testsecret".to_string().into(),
            security_token: token.map(|t| t.to_string().into()),
            origin: "test".into(),
        }
    }

    fn v1(now: DateTime<Utc>, nonce: &str, secret: &str, extra: &[(&str, &str)]) -> Incoming {
        let mut p: BTreeMap<String, String> = [
            ("Action", "DescribeCloudMigrationResult"),
            ("Version", API_VERSION),
            ("Format", "JSON"),
            ("AccessKeyId", "testid"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", nonce),
            ("DBInstanceName", "pgm-1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        p.insert(
            "Timestamp".into(),
            now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        );
        for (k, v) in extra {
            p.insert(k.to_string(), v.to_string());
        }
        let s = sign::sign(secret, "GET", &p);
        p.insert("Signature".into(), s);
        let query = p
            .iter()
            .map(|(k, v)| format!("{}={}", sign::percent_encode(k), sign::percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        Incoming {
            method: "GET".into(),
            path: "/".into(),
            query,
            headers: vec![("host".into(), "127.0.0.1:1".into())],
            body: vec![],
        }
    }

    #[test]
    fn v1_get_passes_then_nonce_is_spent() {
        let v = Verifier::new(creds(None));
        let now = Utc::now();
        let req = v1(now, "n-1", "testsecret", &[]);
        let ok = v.verify(&req, now).unwrap();
        assert_eq!(ok.action, "DescribeCloudMigrationResult");
        assert_eq!(ok.params["DBInstanceName"], "pgm-1");
        assert_eq!(ok.kind, SignatureKind::V1);
        assert_eq!(v.verify(&req, now).unwrap_err().code, "SignatureNonceUsed");
    }

    #[test]
    fn v1_errors() {
        let v = Verifier::new(creds(None));
        let now = Utc::now();
        let e = v.verify(&v1(now, "a", "wrong", &[]), now).unwrap_err();
        assert_eq!(e.code, "SignatureDoesNotMatch");
        assert!(
            e.message
                .contains("server string to sign is:GET&%2F&AccessKeyId%3Dtestid")
        );
        let e = v
            .verify(
                &v1(now, "b", "testsecret", &[("AccessKeyId", "other")]),
                now,
            )
            .unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.status),
            ("InvalidAccessKeyId.NotFound", 404)
        );
        let old = now - chrono::Duration::minutes(16);
        let e = v.verify(&v1(old, "c", "testsecret", &[]), now).unwrap_err();
        assert_eq!(e.code, "InvalidTimeStamp.Expired");
        let fresh = now - chrono::Duration::minutes(14);
        assert!(v.verify(&v1(fresh, "d", "testsecret", &[]), now).is_ok());
        let e = v
            .verify(
                &v1(now, "e", "testsecret", &[("Timestamp", "yesterday")]),
                now,
            )
            .unwrap_err();
        assert_eq!(e.code, "InvalidTimeStamp.Format");
        let mut req = v1(now, "f", "testsecret", &[]);
        req.query = req
            .query
            .split('&')
            .filter(|kv| !kv.starts_with("Signature="))
            .collect::<Vec<_>>()
            .join("&");
        assert_eq!(v.verify(&req, now).unwrap_err().code, "IncompleteSignature");
        let e = v
            .verify(
                &v1(now, "g", "testsecret", &[("Version", "2015-01-01")]),
                now,
            )
            .unwrap_err();
        assert_eq!(e.code, "InvalidVersion");
        // A failed request does not spend its nonce.
        assert!(v.verify(&v1(now, "a", "testsecret", &[]), now).is_ok());
    }

    #[test]
    fn v1_post_form_body_and_query_mix() {
        let v = Verifier::new(creds(None));
        let now = Utc::now();
        let mut req = v1(now, "p", "testsecret", &[]);
        // Re-sign for POST with half the params in the body.
        let mut p = req.params();
        p.remove("Signature");
        let s = sign::sign("testsecret", "POST", &p);
        p.insert("Signature".into(), s);
        let enc = |m: &BTreeMap<String, String>, body: bool| {
            m.iter()
                .filter(|(k, _)| (k.as_str() == "DBInstanceName") == body)
                .map(|(k, v)| format!("{}={}", sign::percent_encode(k), sign::percent_encode(v)))
                .collect::<Vec<_>>()
                .join("&")
        };
        req.method = "POST".into();
        req.query = enc(&p, false);
        req.body = enc(&p, true).into_bytes();
        req.headers.push((
            "Content-Type".into(),
            "application/x-www-form-urlencoded; charset=utf-8".into(),
        ));
        let ok = v.verify(&req, now).unwrap();
        assert_eq!(ok.params["DBInstanceName"], "pgm-1");
    }

    #[test]
    fn sts_tokens_are_checked() {
        let v = Verifier::new(creds(Some("tok")));
        let now = Utc::now();
        let e = v.verify(&v1(now, "1", "testsecret", &[]), now).unwrap_err();
        assert_eq!(e.code, "MissingSecurityToken");
        let e = v
            .verify(
                &v1(now, "2", "testsecret", &[("SecurityToken", "bad")]),
                now,
            )
            .unwrap_err();
        assert_eq!(e.code, "InvalidSecurityToken.Malformed");
        assert!(
            v.verify(
                &v1(now, "3", "testsecret", &[("SecurityToken", "tok")]),
                now
            )
            .is_ok()
        );
    }

    fn v3(now: DateTime<Utc>, nonce: &str, secret: &str) -> Incoming {
        let query: BTreeMap<String, String> = [("DBInstanceName", "pgm-1"), ("TaskName", "a b")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let hash = sign_v3::hex_sha256(b"");
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), "127.0.0.1:9".into()),
            ("x-acs-action".into(), "DescribeCloudMigrationResult".into()),
            ("x-acs-version".into(), API_VERSION.into()),
            (
                "x-acs-date".into(),
                now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            ),
            ("x-acs-signature-nonce".into(), nonce.into()),
            ("x-acs-content-sha256".into(), hash.clone()),
        ];
        let auth = sign_v3::authorize("testid", secret, "POST", "/", &query, &headers, &hash);
        headers.push(("Authorization".into(), auth));
        Incoming {
            method: "POST".into(),
            path: "/".into(),
            // Sent the way Python's urlencode writes it: '+' for space.
            query: "DBInstanceName=pgm-1&TaskName=a+b".into(),
            headers,
            body: vec![],
        }
    }

    #[test]
    fn v3_passes_and_fails_like_v1() {
        let v = Verifier::new(creds(None));
        let now = Utc::now();
        let ok = v.verify(&v3(now, "x1", "testsecret"), now).unwrap();
        assert_eq!(ok.kind, SignatureKind::V3);
        assert_eq!(ok.params["TaskName"], "a b");
        assert_eq!(
            v.verify(&v3(now, "x1", "testsecret"), now)
                .unwrap_err()
                .code,
            "SignatureNonceUsed"
        );
        let e = v.verify(&v3(now, "x2", "nope"), now).unwrap_err();
        assert_eq!(e.code, "SignatureDoesNotMatch");
        assert!(e.message.contains("ACS3-HMAC-SHA256\n"));
        let mut unsigned_header = v3(now, "x3", "testsecret");
        unsigned_header
            .headers
            .push(("x-acs-extra".into(), "1".into()));
        assert_eq!(
            v.verify(&unsigned_header, now).unwrap_err().code,
            "IncompleteSignature"
        );
        let mut tampered = v3(now, "x4", "testsecret");
        tampered.query = "DBInstanceName=pgm-2&TaskName=a+b".into();
        assert_eq!(
            v.verify(&tampered, now).unwrap_err().code,
            "SignatureDoesNotMatch"
        );
        let mut body = v3(now, "x5", "testsecret");
        body.body = b"x=1".to_vec();
        assert_eq!(
            v.verify(&body, now).unwrap_err().code,
            "SignatureDoesNotMatch"
        );
        let late = now + chrono::Duration::minutes(20);
        assert_eq!(
            v.verify(&v3(now, "x6", "testsecret"), late)
                .unwrap_err()
                .code,
            "InvalidTimeStamp.Expired"
        );
        let mut bad = v3(now, "x7", "testsecret");
        bad.headers.retain(|(k, _)| k != "Authorization");
        bad.headers.push((
            "Authorization".into(),
            "ACS3-HMAC-SHA256 Credential=testid".into(),
        ));
        assert_eq!(v.verify(&bad, now).unwrap_err().code, "IncompleteSignature");
    }

    #[test]
    fn nonce_cache_forgets_after_the_window_and_stays_bounded() {
        let mut c = NonceCache::default();
        let t0 = Instant::now();
        assert!(c.insert("a", t0));
        assert!(!c.insert("a", t0 + Duration::from_secs(60)));
        assert!(c.insert("a", t0 + WINDOW + Duration::from_secs(1)));
        for i in 0..(NONCE_CAP + 50) {
            c.insert(&i.to_string(), t0 + WINDOW * 2);
        }
        assert!(c.len() <= NONCE_CAP);
        assert!(c.order.len() <= NONCE_CAP);
    }
}
