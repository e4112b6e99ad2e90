//! PostgreSQL log sequence numbers (`X/Y` text form).

use std::fmt;
use std::str::FromStr;

/// A WAL position: a 64-bit byte offset written by PostgreSQL as two hex halves `X/Y`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Lsn(pub u64);

/// Why a string is not an LSN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an LSN (expected X/Y with up to 8 hex digits each): {0:?}")]
pub struct LsnParseError(pub String);

impl Lsn {
    /// `0/0`: PostgreSQL's `InvalidXLogRecPtr`, "no position" (a receiver that has not
    /// started, a column it has not filled). Never a real WAL position: WAL starts after it.
    pub const INVALID: Lsn = Lsn(0);

    /// Size of one WAL segment with PostgreSQL's default build (16 MiB).
    pub const SEGMENT: u64 = 16 * 1024 * 1024;

    /// This position, or `None` for [`Lsn::INVALID`] (which must never be read as position 0).
    pub fn valid(self) -> Option<Lsn> {
        (self != Lsn::INVALID).then_some(self)
    }

    /// Bytes from `other` up to `self`, as `pg_wal_lsn_diff(self, other)`; negative when `self` is behind.
    pub fn diff(self, other: Lsn) -> i128 {
        self.0 as i128 - other.0 as i128
    }

    /// Bytes from `other` up to `self`, clamped at zero.
    pub fn bytes_since(self, other: Lsn) -> u64 {
        self.0.saturating_sub(other.0)
    }

    /// The start of the WAL segment holding this position.
    pub fn segment_start(self) -> Lsn {
        Lsn(self.0 - self.0 % Self::SEGMENT)
    }

    /// This position moved forward by `bytes` (saturating).
    pub fn advance(self, bytes: u64) -> Lsn {
        Lsn(self.0.saturating_add(bytes))
    }
}

impl FromStr for Lsn {
    type Err = LsnParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || LsnParseError(s.to_string());
        let (hi, lo) = s.trim().split_once('/').ok_or_else(err)?;
        let half = |h: &str| -> Result<u64, LsnParseError> {
            if h.is_empty() || h.len() > 8 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(err());
            }
            u64::from_str_radix(h, 16).map_err(|_| err())
        };
        Ok(Lsn((half(hi)? << 32) | half(lo)?))
    }
}

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

impl serde::Serialize for Lsn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Lsn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_displays_postgres_forms() {
        assert_eq!("0/3000148".parse::<Lsn>().unwrap(), Lsn(0x3000148));
        assert_eq!(
            "16/B374D848".parse::<Lsn>().unwrap(),
            Lsn((0x16 << 32) | 0xB374D848)
        );
        assert_eq!(Lsn((0x16 << 32) | 0xB374D848).to_string(), "16/B374D848");
        assert_eq!(Lsn(0).to_string(), "0/0");
        assert_eq!("ffffffff/ffffffff".parse::<Lsn>().unwrap(), Lsn(u64::MAX));
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "null",
            "0",
            "/1",
            "1/",
            "0/123456789",
            "g/1",
            "0/1/2",
            "-1/0",
            "0 / 1",
        ] {
            assert!(bad.parse::<Lsn>().is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn difference_matches_pg_wal_lsn_diff() {
        let a: Lsn = "1/0".parse().unwrap();
        let b: Lsn = "0/FFFFFF00".parse().unwrap();
        assert_eq!(a.diff(b), 256);
        assert_eq!(b.diff(a), -256);
        assert_eq!(b.bytes_since(a), 0);
        assert_eq!(
            "0/3000148".parse::<Lsn>().unwrap().segment_start(),
            Lsn(0x3000000)
        );
    }

    proptest! {
        #[test]
        fn display_parse_roundtrip(v in any::<u64>()) {
            prop_assert_eq!(Lsn(v).to_string().parse::<Lsn>().unwrap(), Lsn(v));
        }

        #[test]
        fn diff_is_antisymmetric(a in any::<u64>(), b in any::<u64>()) {
            prop_assert_eq!(Lsn(a).diff(Lsn(b)), -Lsn(b).diff(Lsn(a)));
            prop_assert_eq!(Lsn(a).bytes_since(Lsn(b)) as i128, Lsn(a).diff(Lsn(b)).max(0));
        }

        #[test]
        fn lowercase_and_padded_parse(hi in 0u32.., lo in 0u32..) {
            let s = format!("{hi:08x}/{lo:08x}");
            prop_assert_eq!(s.parse::<Lsn>().unwrap(), Lsn(((hi as u64) << 32) | lo as u64));
        }
    }
}
