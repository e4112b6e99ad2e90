//! Human-readable byte counts, rates and durations.

use std::time::Duration;

/// `0 B`, `512 B`, `1.5 KiB`, `16.0 MiB`, `2.25 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = UNITS[0];
    for u in &UNITS[1..] {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    if v < 10.0 {
        format!("{v:.2} {unit}")
    } else if v < 100.0 {
        format!("{v:.1} {unit}")
    } else {
        format!("{v:.0} {unit}")
    }
}

/// A lag in bytes as [`bytes`], `≥ ` first when it is only a lower bound (the source may be
/// further ahead than the standby knows): `1.50 KiB`, `≥ 1.50 KiB`.
pub fn lag(n: u64, lower_bound: bool) -> String {
    if lower_bound {
        format!("≥ {}", bytes(n))
    } else {
        bytes(n)
    }
}

/// A byte rate: `1.5 MiB/s`.
pub fn rate(bytes_per_sec: f64) -> String {
    if !bytes_per_sec.is_finite() || bytes_per_sec < 0.0 {
        return "?".into();
    }
    format!("{}/s", bytes(bytes_per_sec.round() as u64))
}

/// A short duration: `45s`, `3m12s`, `2h05m`, `3d04h`.
pub fn duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        3600..=86399 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86400, (s % 86400) / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(lag(0, true), "≥ 0 B");
        assert_eq!(lag(1536, false), "1.50 KiB");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.50 KiB");
        assert_eq!(bytes(16 * 1024 * 1024), "16.0 MiB");
        assert_eq!(bytes(300 * 1024 * 1024), "300 MiB");
        assert_eq!(bytes(u64::MAX), "16384 PiB");
        assert_eq!(rate(2048.0), "2.00 KiB/s");
        assert_eq!(rate(f64::NAN), "?");
        assert_eq!(duration(Duration::from_secs(59)), "59s");
        assert_eq!(duration(Duration::from_secs(192)), "3m12s");
        assert_eq!(duration(Duration::from_secs(7500)), "2h05m");
        assert_eq!(duration(Duration::from_secs(90000)), "1d01h");
    }
}
