//! Base backup progress as the `Detail` log reports it:
//! `2022-02-25 17:00:45 --- Backup data: 75% (13.5 GiB of 18.0 GiB)`.

use chrono::NaiveDateTime;

use super::precheck::{DetailLine, Precheck};
use crate::util::units;

/// How far the base backup was, by one progress line.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BackupProgress {
    /// 0 to 100.
    pub percent: f64,
    /// Bytes copied and the backup's size, when the line gives both (`done <= total`).
    pub sizes: Option<(u64, u64)>,
}

impl BackupProgress {
    /// Reads the text of a progress line, `Backup data: 75% (13.5 GiB of 18.0 GiB)` (the
    /// sizes are optional); `None` for any other line or an impossible figure.
    pub fn parse(text: &str) -> Option<BackupProgress> {
        let rest = strip_prefix_ignore_case(text.trim(), "backup data:")?.trim_start();
        let (number, rest) = rest.split_once('%')?;
        let percent: f64 = number.trim().parse().ok()?;
        if !(0.0..=100.0).contains(&percent) {
            return None;
        }
        let sizes = rest
            .trim()
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
            .and_then(|inner| inner.split_once(" of "))
            .and_then(|(done, total)| {
                let done = units::parse_bytes(done).ok()?;
                let total = units::parse_bytes(total).ok()?;
                (done <= total && total > 0).then_some((done, total))
            });
        Some(BackupProgress { percent, sizes })
    }

    /// Bytes still to copy, when the sizes are known.
    pub fn remaining_bytes(&self) -> Option<u64> {
        self.sizes.map(|(done, total)| total - done)
    }
}

/// A progress line: what it says and when it was written (in the instance's zone, see
/// [`super::DetailZone`]).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BackupReading {
    pub at: Option<NaiveDateTime>,
    pub progress: BackupProgress,
}

impl Precheck {
    /// The last `n` base backup progress lines (timed or not), oldest first.
    pub fn backup_readings(&self, n: usize) -> Vec<BackupReading> {
        let mut found: Vec<BackupReading> = self
            .lines
            .iter()
            .rev()
            .filter_map(|l| {
                let (at, text) = match l {
                    DetailLine::Progress { time, text } => (*time, text),
                    // The same words without a time: a reading all the same.
                    DetailLine::Text(text) => (None, text),
                    _ => return None,
                };
                BackupProgress::parse(text).map(|progress| BackupReading { at, progress })
            })
            .take(n)
            .collect();
        found.reverse();
        found
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    #[test]
    fn the_line_of_the_issue() {
        let p = BackupProgress::parse("Backup data: 75% (13.5 GiB of 18.0 GiB)").unwrap();
        assert_eq!(p.percent, 75.0);
        assert_eq!(p.sizes, Some((GIB * 27 / 2, 18 * GIB)));
        assert_eq!(p.remaining_bytes(), Some(GIB * 9 / 2));
    }

    #[test]
    fn sizes_are_optional_and_checked() {
        let p = BackupProgress::parse("backup DATA: 12.5%").unwrap();
        assert_eq!((p.percent, p.sizes), (12.5, None));
        // Sizes that cannot be right are dropped, the percentage kept.
        for odd in [
            "Backup data: 50% (20 GiB of 10 GiB)",
            "Backup data: 50% (a lot of more)",
            "Backup data: 50% (1 GiB)",
            "Backup data: 50% (0 B of 0 B)",
            "Backup data: 50% (1 GiB of 9999999 PiB)",
        ] {
            let p = BackupProgress::parse(odd).unwrap();
            assert_eq!((p.percent, p.sizes), (50.0, None), "{odd}");
        }
    }

    #[test]
    fn other_lines_and_garbage_are_not_progress() {
        for text in [
            "",
            "Backup data finished",
            "Start to backup data from source by pg_basebackup (48.0 GiB)",
            "Backup data:",
            "Backup data: %",
            "Backup data: 101%",
            "Backup data: -1%",
            "Backup data: NaN%",
            "Backup data: inf%",
            "Backup data: 75",
            "Backup data: 七十%",
            "Backup dat",
            "Backup dataé: 5%",
            "é",
        ] {
            assert_eq!(BackupProgress::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn readings_come_from_progress_lines_oldest_first() {
        let p = Precheck::parse(
            "[Backup data]\n\
             2022-02-25 17:00:29 --- Start to backup data from source by pg_basebackup (18.0 GiB)\n\
             2022-02-25 17:01:29 --- Backup data: 25% (4.50 GiB of 18.0 GiB)\n\
             Backup data: 40%\n\
             2022-02-25 17:02:29 --- Backup data: 50% (9.00 GiB of 18.0 GiB)\n\
             2022-02-25 17:03:29 --- Backup data: 75% (13.5 GiB of 18.0 GiB)\n",
        );
        let r = p.backup_readings(2);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].progress.percent, 50.0);
        assert_eq!(r[1].progress.percent, 75.0);
        assert_eq!(r[1].at.unwrap().to_string(), "2022-02-25 17:03:29");
        // A bare `Backup data: 40%` is a reading without a time.
        let all = p.backup_readings(10);
        assert_eq!(all.len(), 4);
        assert_eq!((all[1].at, all[1].progress.percent), (None, 40.0));
        assert!(Precheck::parse("").backup_readings(2).is_empty());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = BackupProgress::parse(&s);
            let _ = BackupProgress::parse(&format!("Backup data: {s}"));
            let _ = Precheck::parse(&s).backup_readings(2);
        }
    }
}
