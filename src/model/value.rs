//! Tolerant readers for JSON values whose types drift between responses.
//!
//! The API sends numbers as strings and strings as numbers, and writes `"null"` for absent
//! values; these helpers turn all of that into `Option`s instead of decode failures.

use std::sync::OnceLock;

use chrono::format::{Item, ParseResult, Parsed, StrftimeItems};
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;

/// A strftime format read once: chrono's `parse_from_str` reads its format string again on
/// every call, which was most of the cost of decoding a poll's timestamps. Parses exactly as
/// `parse_from_str` does with the same format.
pub struct Format {
    text: &'static str,
    items: OnceLock<Vec<Item<'static>>>,
}

impl Format {
    /// The format `text` (chrono's strftime syntax).
    pub const fn new(text: &'static str) -> Format {
        Format {
            text,
            items: OnceLock::new(),
        }
    }

    fn parsed(&self, s: &str) -> ParseResult<Parsed> {
        // A format that did not parse has no items and so matches nothing but "".
        let items = self.items.get_or_init(|| {
            StrftimeItems::new(self.text)
                .parse_to_owned()
                .unwrap_or_default()
        });
        let mut parsed = Parsed::new();
        chrono::format::parse(&mut parsed, s, items.iter())?;
        Ok(parsed)
    }

    /// Like [`NaiveDateTime::parse_from_str`].
    pub fn naive(&self, s: &str) -> ParseResult<NaiveDateTime> {
        self.parsed(s)?.to_naive_datetime_with_offset(0)
    }

    /// Like [`DateTime::parse_from_str`].
    pub fn fixed(&self, s: &str) -> ParseResult<DateTime<FixedOffset>> {
        self.parsed(s)?.to_datetime()
    }
}

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

/// An integer given as a number or as a decimal string; `None` for anything that is not a
/// whole number within `i64` (never saturated: 1.5e300 is not `i64::MAX`).
pub fn int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().and_then(whole)),
        other => {
            let t = text(Some(other))?;
            t.parse()
                .ok()
                .or_else(|| t.parse::<f64>().ok().and_then(whole))
        }
    }
}

/// `f` as an `i64` if it is a whole number inside `i64`'s range.
fn whole(f: f64) -> Option<i64> {
    // 2^63 is exactly representable; every f64 below it in magnitude converts exactly.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (f.is_finite() && f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f)).then_some(f as i64)
}

/// A TCP port: 1 to 65535, else `None`.
pub fn port(v: Option<&Value>) -> Option<i64> {
    int(v).filter(|p| (1..=65535).contains(p))
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
    static WITH_OFFSET: [Format; 2] = [
        Format::new("%Y-%m-%d %H:%M:%S%.f%#z"),
        Format::new("%Y-%m-%dT%H:%M:%S%.f%#z"),
    ];
    static WITHOUT: [Format; 4] = [
        Format::new("%Y-%m-%d %H:%M:%S%.f"),
        Format::new("%Y-%m-%dT%H:%M:%S%.f"),
        Format::new("%Y-%m-%dT%H:%MZ"),
        Format::new("%Y-%m-%dT%H:%M:%SZ"),
    ];
    for fmt in &WITH_OFFSET {
        if let Ok(t) = fmt.fixed(s) {
            return Some(t);
        }
    }
    for fmt in &WITHOUT {
        if let Ok(t) = fmt.naive(s) {
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
    fn formats_read_once_parse_as_chrono_does() {
        let inputs = [
            "2022-03-01 14:42:57.967537+08",
            "2022-03-01 14:42:57+08:00",
            "2022-03-01T14:42:57.5-0530",
            "2022-03-01 14:42:57",
            "2022-03-01 14:42:57.123",
            "2022-3-1 4:42:57",
            "2022-02-30 14:42:57",
            "2016-12-31 23:59:60",
            "2022-03-01T14:42Z",
            "2022-03-01T14:42:57Z",
            " 2022-03-01 14:42:57 ",
            "not a time",
            "",
        ];
        for f in [
            "%Y-%m-%d %H:%M:%S%.f%#z",
            "%Y-%m-%dT%H:%M:%S%.f%#z",
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%MZ",
            "%Y-%m-%dT%H:%M:%SZ",
        ] {
            let fmt = Format::new(f);
            for s in inputs {
                assert_eq!(
                    fmt.naive(s),
                    NaiveDateTime::parse_from_str(s, f),
                    "{f} {s:?}"
                );
                assert_eq!(fmt.fixed(s), DateTime::parse_from_str(s, f), "{f} {s:?}");
            }
        }
    }

    #[test]
    fn text_and_numbers_cross_over() {
        assert_eq!(text(Some(&json!(123456))), Some("123456".into()));
        assert_eq!(text(Some(&json!("null"))), None);
        assert_eq!(text(Some(&json!(null))), None);
        assert_eq!(text(Some(&json!(""))), None);
        assert_eq!(int(Some(&json!("5432"))), Some(5432));
        assert_eq!(int(Some(&json!(5432))), Some(5432));
        assert_eq!(int(Some(&json!("abc"))), None);
        assert_eq!(int(Some(&json!(7.0))), Some(7));
        assert_eq!(int(Some(&json!("7"))), Some(7));
    }

    #[test]
    fn numbers_outside_their_domain_are_none_not_saturated() {
        assert_eq!(int(Some(&json!(1.5e300))), None);
        assert_eq!(int(Some(&json!(-1.5e300))), None);
        assert_eq!(int(Some(&json!("1.5e300"))), None);
        assert_eq!(int(Some(&json!(9.3e18))), None);
        assert_eq!(int(Some(&json!(1.5))), None);
        assert_eq!(int(Some(&json!("99999999999999999999"))), None);
        assert_eq!(port(Some(&json!(999999))), None);
        assert_eq!(port(Some(&json!(-1))), None);
        assert_eq!(port(Some(&json!("0"))), None);
        assert_eq!(port(Some(&json!(5432))), Some(5432));
        assert_eq!(port(Some(&json!("65535"))), Some(65535));
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
