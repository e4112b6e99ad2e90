//! The `Detail` log: precheck sections, check results and timestamped progress lines.

use std::borrow::Cow;

use chrono::NaiveDateTime;

use super::value::Format;

/// How a check line ended.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Success,
    Warning,
    Fail,
    Other,
}

impl Severity {
    fn parse(word: &str) -> Severity {
        match word.trim().to_ascii_lowercase().as_str() {
            "success" | "succeed" | "succeeded" | "pass" | "passed" | "ok" => Severity::Success,
            "warning" | "warn" => Severity::Warning,
            "fail" | "failed" | "failure" | "error" => Severity::Fail,
            _ => Severity::Other,
        }
    }

    /// Lower-case name, as used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Success => "success",
            Severity::Warning => "warning",
            Severity::Fail => "fail",
            Severity::Other => "other",
        }
    }
}

/// One line of `Detail`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetailLine {
    /// `[Check disk size]`
    Section(String),
    /// `Check disk size enough: success` or `...: warning(warning:why)`
    Check {
        name: String,
        severity: Severity,
        /// The status word as written (`success`, `warning`, ...).
        status: String,
        /// The explanation in parentheses, without a repeated `warning:` prefix.
        message: Option<String>,
    },
    /// `2022-02-25 17:00:29 --- Start RDS instance as slave`
    Progress {
        time: Option<NaiveDateTime>,
        text: String,
    },
    /// Anything else, kept as written.
    Text(String),
}

/// Check counts per severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SeverityCounts {
    pub success: usize,
    pub warning: usize,
    pub fail: usize,
    pub other: usize,
}

/// The parsed `Detail` log.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Precheck {
    pub lines: Vec<DetailLine>,
    pub counts: SeverityCounts,
}

impl Precheck {
    /// Parses `Detail`, whose line breaks may be real or literal `\n`.
    pub fn parse(detail: &str) -> Precheck {
        let normalized = normalize_breaks(detail);
        let lines = normalized
            .split('\n')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(parse_line)
            .collect();
        Precheck::from_lines(lines)
    }

    /// A log of these lines, its checks counted (for logs migtop writes itself, such as a
    /// standby's read from PostgreSQL).
    pub fn from_lines(lines: Vec<DetailLine>) -> Precheck {
        let mut counts = SeverityCounts::default();
        for l in &lines {
            if let DetailLine::Check { severity, .. } = l {
                match severity {
                    Severity::Success => counts.success += 1,
                    Severity::Warning => counts.warning += 1,
                    Severity::Fail => counts.fail += 1,
                    Severity::Other => counts.other += 1,
                }
            }
        }
        Precheck { lines, counts }
    }

    /// Check lines that warned or failed, with their section.
    pub fn problems(&self) -> Vec<(Option<&str>, &DetailLine)> {
        let mut section = None;
        let mut found = Vec::new();
        for l in &self.lines {
            match l {
                DetailLine::Section(s) => section = Some(s.as_str()),
                DetailLine::Check {
                    severity: Severity::Warning | Severity::Fail,
                    ..
                } => found.push((section, l)),
                _ => {}
            }
        }
        found
    }

    /// The name of the first check that failed, if any.
    pub fn first_failure(&self) -> Option<&str> {
        self.lines.iter().find_map(|l| match l {
            DetailLine::Check {
                name,
                severity: Severity::Fail,
                ..
            } => Some(name.as_str()),
            _ => None,
        })
    }

    /// The last progress line, if any (what the task is doing now).
    pub fn last_progress(&self) -> Option<&DetailLine> {
        self.lines
            .iter()
            .rev()
            .find(|l| matches!(l, DetailLine::Progress { .. }))
    }
}

/// `detail` with its literal `\r\n` and `\n` and its real CR LF turned into real line
/// feeds, as the three replacements in that order would, in one pass (the replacements were
/// most of the cost of decoding a poll), and without a copy when there is nothing to turn.
fn normalize_breaks(detail: &str) -> Cow<'_, str> {
    if !detail.contains(['\\', '\r']) {
        return Cow::Borrowed(detail);
    }
    let mut out = String::with_capacity(detail.len());
    let mut rest = detail;
    while let Some(c) = rest.chars().next() {
        let (line_feed, len) = if rest.starts_with("\\r\\n") {
            (true, 4)
        } else if rest.starts_with("\\n") || c == '\n' {
            (true, if c == '\n' { 1 } else { 2 })
        } else {
            (false, c.len_utf8())
        };
        if line_feed {
            // The last replacement: a real CR before a line feed goes (once).
            if out.ends_with('\r') {
                out.pop();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
        rest = &rest[len..];
    }
    Cow::Owned(out)
}

fn parse_line(line: &str) -> DetailLine {
    if line.starts_with('[') && line.ends_with(']') && line.len() >= 2 {
        return DetailLine::Section(line[1..line.len() - 1].trim().to_string());
    }
    if let Some((stamp, text)) = line.split_once("---") {
        let stamp = stamp.trim();
        if stamp.len() >= 10 && stamp.as_bytes()[0].is_ascii_digit() {
            static WHOLE: Format = Format::new("%Y-%m-%d %H:%M:%S");
            static FRACTION: Format = Format::new("%Y-%m-%d %H:%M:%S%.f");
            let time = WHOLE.naive(stamp).or_else(|_| FRACTION.naive(stamp)).ok();
            return DetailLine::Progress {
                time,
                text: text.trim().to_string(),
            };
        }
    }
    if let Some((name, result)) = split_check(line) {
        let result = result.trim();
        let (status, message) = match result.split_once('(') {
            Some((word, rest)) => {
                let msg = rest.strip_suffix(')').unwrap_or(rest).trim();
                let word = word.trim();
                // `warning(warning:why)` repeats the status inside; keep only the why.
                let msg = msg
                    .split_once(':')
                    .filter(|(prefix, _)| prefix.trim().eq_ignore_ascii_case(word))
                    .map(|(_, m)| m.trim())
                    .unwrap_or(msg);
                (word, (!msg.is_empty()).then(|| msg.to_string()))
            }
            None => (result, None),
        };
        let severity = Severity::parse(status);
        if severity != Severity::Other
            || name.trim_start().to_ascii_lowercase().starts_with("check")
        {
            return DetailLine::Check {
                name: name.trim().to_string(),
                severity,
                status: status.to_string(),
                message,
            };
        }
    }
    DetailLine::Text(line.to_string())
}

/// Splits `name: status(message)` at the first `:` outside the parenthesised message, which
/// may itself hold colons (`warning(warning:a: b)`).
fn split_check(line: &str) -> Option<(&str, &str)> {
    let head_end = line.find('(').unwrap_or(line.len());
    let colon = line[..head_end].find(':')?;
    Some((&line[..colon], &line[colon + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn one_pass_breaks_match_the_three_replacements(s in "[\\\\rn\r\na€]{0,24}") {
            let replaced = s
                .replace("\\r\\n", "\n")
                .replace("\\n", "\n")
                .replace("\r\n", "\n");
            proptest::prop_assert_eq!(normalize_breaks(&s), replaced);
        }
    }

    const SAMPLE: &str = r"[Check rds empty]\nCheck rds databases: success\n[Check source glibc version]\nCheck source glibc version compatible: warning(warning:source glibc version is not compatible with rds pg)\n[Start RDS instance]\n2022-02-25 17:00:29 --- Start RDS instance as slave for data replication\n[Synchronize data]\n2022-02-25 17:01:05 --- Synchronize data from source to RDS by streaming replication \n";

    #[test]
    fn literal_newlines_parse_into_sections_checks_and_progress() {
        let p = Precheck::parse(SAMPLE);
        assert_eq!(p.lines.len(), 8);
        assert_eq!(p.lines[0], DetailLine::Section("Check rds empty".into()));
        assert_eq!(
            p.lines[3],
            DetailLine::Check {
                name: "Check source glibc version compatible".into(),
                severity: Severity::Warning,
                status: "warning".into(),
                message: Some("source glibc version is not compatible with rds pg".into()),
            }
        );
        match &p.lines[5] {
            DetailLine::Progress { time, text } => {
                assert_eq!(time.unwrap().to_string(), "2022-02-25 17:00:29");
                assert_eq!(text, "Start RDS instance as slave for data replication");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            p.counts,
            SeverityCounts {
                success: 1,
                warning: 1,
                fail: 0,
                other: 0
            }
        );
        assert_eq!(p.problems().len(), 1);
        assert_eq!(p.problems()[0].0, Some("Check source glibc version"));
    }

    #[test]
    fn real_newlines_give_the_same_result() {
        assert_eq!(
            Precheck::parse(&SAMPLE.replace("\\n", "\n")),
            Precheck::parse(SAMPLE)
        );
    }

    #[test]
    fn failures_and_odd_lines() {
        let p = Precheck::parse(
            "Check disk size enough: fail(disk too small: need 20G)\nsomething odd\nCheck x: pending\n",
        );
        assert_eq!(
            p.counts,
            SeverityCounts {
                success: 0,
                warning: 0,
                fail: 1,
                other: 1
            }
        );
        match &p.lines[0] {
            DetailLine::Check { message, .. } => {
                assert_eq!(message.as_deref(), Some("disk too small: need 20G"))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(p.lines[1], DetailLine::Text("something odd".into()));
        assert!(Precheck::parse("").lines.is_empty());
    }
}
