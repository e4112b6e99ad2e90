//! Tolerant readers for JSON values whose types drift between responses.
//!
//! The API sends numbers as strings and strings as numbers, and writes `"null"` for absent
//! values; these helpers turn all of that into `Option`s instead of decode failures.

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;

/// Text of a string, number or bool; `None` for null, `""` and the string `"null"`.
pub fn text(v: Option<&Value>) -> Option<String> {
    let s = match v? {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!s.is_empty() && !s.eq_ignore_ascii_case("null")).then_some(s)
}

/// An integer given as a number or as a decimal string.
pub fn int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        other => text(Some(other))?.parse().ok(),
    }
}

/// A boolean given as a bool, `"true"`/`"false"`, `"t"`/`"f"`, `"1"`/`"0"` or a number.
pub fn boolean(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        other => match text(Some(other))?.to_ascii_lowercase().as_str() {
            "true" | "t" | "1" | "yes" | "on" => Some(true),
            "false" | "f" | "0" | "no" | "off" => Some(false),
            _ => None,
        },
    }
}

/// Parses the timestamps the API and PostgreSQL write: ISO-8601 (`2022-02-25T08:53:13Z`) and
/// PostgreSQL's `2022-03-01 14:42:57.967537+08`. A stamp without an offset is taken as UTC.
pub fn timestamp(s: &str) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    if s.is_empty() || s.eq_ignore_ascii_case("null") {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t);
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(t);
        }
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%MZ",
        "%Y-%m-%dT%H:%M:%SZ",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(Utc.from_utc_datetime(&t).fixed_offset());
        }
    }
    None
}

/// A timestamp field, tolerant of `"null"` and unparseable text (both `None`).
pub fn time(v: Option<&Value>) -> Option<DateTime<FixedOffset>> {
    timestamp(&text(v)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_and_numbers_cross_over() {
        assert_eq!(text(Some(&json!(123456))), Some("123456".into()));
        assert_eq!(text(Some(&json!("null"))), None);
        assert_eq!(text(Some(&json!(null))), None);
        assert_eq!(text(Some(&json!(""))), None);
        assert_eq!(int(Some(&json!("5432"))), Some(5432));
        assert_eq!(int(Some(&json!(5432))), Some(5432));
        assert_eq!(int(Some(&json!("abc"))), None);
        assert_eq!(boolean(Some(&json!("true"))), Some(true));
        assert_eq!(boolean(Some(&json!("f"))), Some(false));
        assert_eq!(boolean(Some(&json!("maybe"))), None);
    }

    #[test]
    fn timestamps_of_both_styles() {
        let pg = timestamp("2022-03-01 14:42:57.967537+08").unwrap();
        assert_eq!(pg.to_rfc3339(), "2022-03-01T14:42:57.967537+08:00");
        let iso = timestamp("2022-02-25T08:53:13Z").unwrap();
        assert_eq!(
            iso.with_timezone(&Utc).to_rfc3339(),
            "2022-02-25T08:53:13+00:00"
        );
        assert!(timestamp("2022-02-25 17:03:59.3344+08").is_some());
        assert!(timestamp("2024-01-01 10:00:00+05:30").is_some());
        assert!(timestamp("2024-01-01 10:00:00").is_some());
        assert!(timestamp("null").is_none());
        assert!(timestamp("yesterday").is_none());
    }
}
