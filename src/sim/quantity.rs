//! Quantities in scenario files: durations (`20s`, `1m30s`, `2h`, or seconds as a number),
//! sizes (`16MiB`, `1.5GiB`, or bytes as a number) and rates (`4MiB/s`, or bytes per second),
//! read as text or numbers through the shared parsers in [`crate::util::units`].

use std::fmt;

use serde::{Deserialize, Deserializer, de};

use crate::util::units;

/// A duration in (simulated) seconds.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Secs(pub f64);

/// A byte count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Bytes(pub u64);

/// Bytes per second.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Rate(pub f64);

/// Parses `20s`, `1m30s`, `500ms`, `2h`, `3d` or a bare number of seconds.
pub fn parse_secs(s: &str) -> Result<Secs, String> {
    units::parse_seconds(s).map(Secs)
}

/// Parses `16MiB`, `1.5 GiB`, `500KB` or a bare number of bytes.
pub fn parse_bytes(s: &str) -> Result<Bytes, String> {
    units::parse_bytes(s).map(Bytes)
}

/// Parses `4MiB/s` (or `4MiB`) or a bare number of bytes per second.
pub fn parse_rate(s: &str) -> Result<Rate, String> {
    units::parse_rate(s).map(Rate)
}

/// Accepts a string or a number and hands it to `parse`.
struct TextOrNumber<T>(fn(&str) -> Result<T, String>, &'static str);

impl<'de, T> de::Visitor<'de> for TextOrNumber<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.1)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.0)(v).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        (self.0)(&v.to_string()).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        (self.0)(&v.to_string()).map_err(E::custom)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        (self.0)(&v.to_string()).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for Secs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextOrNumber(
            parse_secs,
            "a duration like \"20s\" or seconds",
        ))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextOrNumber(parse_bytes, "a size like \"16MiB\" or bytes"))
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextOrNumber(
            parse_rate,
            "a rate like \"4MiB/s\" or bytes per second",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse_secs("20s").unwrap(), Secs(20.0));
        assert_eq!(parse_secs("1m30s").unwrap(), Secs(90.0));
        assert_eq!(parse_secs("2.5").unwrap(), Secs(2.5));
        assert!(parse_secs("-1").is_err());
        assert!(parse_secs("soon").is_err());
        assert_eq!(parse_bytes("16MiB").unwrap(), Bytes(16 << 20));
        assert_eq!(parse_bytes("1024").unwrap(), Bytes(1024));
        assert!(parse_bytes("lots").is_err());
        assert_eq!(parse_rate("4MiB/s").unwrap(), Rate(4.0 * 1048576.0));
        assert_eq!(parse_rate("0").unwrap(), Rate(0.0));
        assert!(parse_rate("-5").is_err());
        assert!(parse_rate("1e300").is_err());
    }

    #[test]
    fn deserializes_strings_and_numbers() {
        #[derive(Deserialize)]
        struct T {
            a: Secs,
            b: Bytes,
            c: Rate,
        }
        let t: T = serde_json::from_str(r#"{"a": 5, "b": "1KiB", "c": 2.5}"#).unwrap();
        assert_eq!((t.a, t.b, t.c), (Secs(5.0), Bytes(1024), Rate(2.5)));
        let e = serde_json::from_str::<T>(r#"{"a": "x", "b": 1, "c": 1}"#)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("not a duration"), "{e}");
    }
}
