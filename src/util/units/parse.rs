//! Parsers of sizes, durations, rates and speeds, shared by the command line and scenario
//! files. Each returns one sentence saying what was expected.

use std::time::Duration;

/// The longest duration any flag takes: 10 years (of 365.25 days, as humantime counts them). Far beyond any migration window,
/// and far inside what `chrono` date arithmetic and `Instant` deadlines can hold, so nothing
/// downstream (history windows, deadlines, `2 × --stable-for`) can overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(10 * 31_557_600);

/// The largest size any flag takes: 1 PiB, far beyond any WAL lag or link rate, and exact in
/// an `f64` (rates and gauge positions are computed in floating point).
pub const MAX_BYTES: u64 = 1 << 50;

/// Parses `5s`, `1m30s`, `500ms`, or a bare number of seconds (above zero, at most
/// [`MAX_DURATION`]).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let d = if let Ok(secs) = s.parse::<f64>() {
        if !(secs.is_finite() && secs > 0.0) {
            return Err(format!("{s:?} is not a positive duration"));
        }
        // Compared before converting: from_secs_f64 panics on values beyond u64 seconds.
        if secs > MAX_DURATION.as_secs_f64() {
            return Err(too_long(s));
        }
        Duration::from_secs_f64(secs)
    } else {
        humantime::parse_duration(s).map_err(|e| {
            if matches!(e, humantime::DurationError::NumberOverflow) {
                too_long(s)
            } else {
                format!("{s:?} is not a duration like 5s, 500ms or 1m ({e})")
            }
        })?
    };
    if d.is_zero() {
        return Err("the duration must be above zero".into());
    }
    if d > MAX_DURATION {
        return Err(too_long(s));
    }
    Ok(d)
}

fn too_long(s: &str) -> String {
    format!("{s:?} is longer than the longest duration migtop takes (10 years)")
}

/// A poll interval: at least 1 s, at most 1 h.
pub fn parse_interval(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d < Duration::from_secs(1) || d > Duration::from_secs(3600) {
        return Err(format!("{s:?}: the interval must be between 1s and 1h"));
    }
    Ok(d)
}

/// Parses byte sizes: `16MiB`, `1 GiB`, `500KB`, `1048576`.
/// At most [`MAX_BYTES`].
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let b = s
        .trim()
        .parse::<bytesize::ByteSize>()
        .map(|b| b.as_u64())
        .map_err(|e| format!("{s:?} is not a size like 16MiB, 1GiB or 500KB ({e})"))?;
    if b > MAX_BYTES {
        return Err(format!(
            "{s:?} is larger than the largest size migtop takes (1 PiB)"
        ));
    }
    Ok(b)
}

/// A listen address such as `127.0.0.1:9847` or `[::1]:9847`.
pub fn parse_listen(s: &str) -> Result<std::net::SocketAddr, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("{s:?} is not an address like 127.0.0.1:9847 or [::1]:9847"))
}

/// A speed factor between 0.01 and 10000.
pub fn parse_speed(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number"))?;
    if !(0.01..=10000.0).contains(&v) {
        return Err(format!("speed {v} is out of range (0.01 to 10000)"));
    }
    Ok(v)
}

/// Seconds of (simulated) time: `20s`, `1m30s`, `500ms`, `2h`, `3d` or a bare number;
/// zero is allowed, unlike [`parse_duration`].
pub fn parse_seconds(s: &str) -> Result<f64, String> {
    let s = s.trim();
    if let Ok(v) = s.parse::<f64>() {
        return check_seconds(v);
    }
    humantime::parse_duration(s)
        .map(|d| d.as_secs_f64())
        .map_err(|e| format!("{s:?} is not a duration like 20s, 1m30s or 2h ({e})"))
        .and_then(check_seconds)
}

fn check_seconds(v: f64) -> Result<f64, String> {
    if v.is_finite() && (0.0..=1e9).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not a duration between 0 and 1e9 seconds"))
    }
}

/// Bytes per second: `4MiB/s` (or `4MiB`) or a bare number.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let s = s.trim();
    if let Ok(v) = s.parse::<f64>() {
        return check_rate(v);
    }
    let size = s.strip_suffix("/s").unwrap_or(s);
    parse_bytes(size)
        .map_err(|_| format!("{s:?} is not a rate like 4MiB/s"))
        .and_then(|b| check_rate(b as f64))
}

fn check_rate(v: f64) -> Result<f64, String> {
    // 1 TiB/s is far beyond any WAL stream; the cap keeps LSN arithmetic far from overflow.
    if v.is_finite() && (0.0..=1024f64.powi(4)).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not a rate between 0 and 1 TiB/s"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes_and_durations() {
        assert_eq!(parse_bytes("16MiB").unwrap(), 16 * 1024 * 1024);
        assert_eq!(parse_bytes("1 GiB").unwrap(), 1 << 30);
        assert_eq!(parse_bytes("1048576").unwrap(), 1 << 20);
        assert!(parse_bytes("lots").is_err());
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("-1").is_err());
        assert!(parse_interval("100ms").is_err());
        assert!(parse_speed("0").is_err());
    }

    #[test]
    fn absurd_durations_and_sizes_are_errors_not_panics() {
        for s in [
            "300000years",
            "11years",
            "1e300",
            "1e19",
            "400000000",
            "99999999999999999999999s",
            "18446744073709551615s",
        ] {
            let e = parse_duration(s).unwrap_err();
            assert!(e.contains("10 years") || e.contains("not a"), "{s}: {e}");
        }
        assert_eq!(parse_duration("10years").unwrap(), MAX_DURATION);
        assert!(parse_duration("3650days").is_ok());
        for s in ["NaN", "inf", "-inf", "-0"] {
            assert!(parse_duration(s).is_err(), "{s}");
            assert!(parse_speed(s).is_err(), "{s}");
        }
        for s in ["2PiB", "16EiB", "18446744073709551615", "1e30"] {
            assert!(parse_bytes(s).is_err(), "{s}");
        }
        assert_eq!(parse_bytes("1PiB").unwrap(), MAX_BYTES);
    }

    #[test]
    fn parses_scenario_units() {
        assert_eq!(parse_seconds("20s").unwrap(), 20.0);
        assert_eq!(parse_seconds("1m30s").unwrap(), 90.0);
        assert_eq!(parse_seconds("2.5").unwrap(), 2.5);
        assert!(parse_seconds("-1").is_err());
        assert!(parse_seconds("soon").is_err());
        assert_eq!(parse_bytes("1024").unwrap(), 1024);
        assert_eq!(parse_rate("4MiB/s").unwrap(), 4.0 * 1048576.0);
        assert_eq!(parse_rate("0").unwrap(), 0.0);
        assert!(parse_rate("-5").is_err());
        assert!(parse_rate("1e300").is_err());
    }
}
