//! The `Detail` log a task grows as it runs: precheck sections and check results, then
//! timestamped progress lines per stage. Bounded: event lines beyond a cap drop the oldest.

use std::collections::VecDeque;

use chrono::{DateTime, FixedOffset};
use serde::Deserialize;

/// Event lines kept in a section before the oldest are dropped.
pub const EVENT_CAP: usize = 20;

/// One precheck check: its section, its line, and what to say when it warns or fails.
#[derive(Debug, Clone, Copy)]
pub struct CheckDef {
    /// Key used in scenario files.
    pub key: &'static str,
    pub section: &'static str,
    pub name: &'static str,
    pub warning: &'static str,
    pub failure: &'static str,
}

/// The checks RDS runs, in order (as in the reference sample).
pub const CHECKS: &[CheckDef] = &[
    CheckDef {
        key: "rds_empty",
        section: "Check rds empty",
        name: "Check rds databases",
        warning: "rds instance has user databases",
        failure: "rds instance is not empty, user databases exist",
    },
    CheckDef {
        key: "ip",
        section: "Check source connectivity",
        name: "Check ip connectable",
        warning: "source ip responds slowly",
        failure: "source ip is not reachable from rds",
    },
    CheckDef {
        key: "port",
        section: "Check source connectivity",
        name: "Check port connectable",
        warning: "source port responds slowly",
        failure: "source port is not reachable, check the firewall and listen_addresses",
    },
    CheckDef {
        key: "database",
        section: "Check source connectivity",
        name: "Check database connectable",
        warning: "pg_hba.conf uses trust authentication",
        failure: "cannot connect to database, check pg_hba.conf and the password",
    },
    CheckDef {
        key: "replication_privilege",
        section: "Check source connectivity",
        name: "Check account replication privilege",
        warning: "replication slots are not used",
        failure: "account has no REPLICATION privilege",
    },
    CheckDef {
        key: "createrole_privilege",
        section: "Check source connectivity",
        name: "Check account createrole privilege",
        warning: "account is not a superuser",
        failure: "account has no CREATEROLE privilege",
    },
    CheckDef {
        key: "monitor_privilege",
        section: "Check source connectivity",
        name: "Check account monitor privilege",
        warning: "account cannot read pg_stat_replication",
        failure: "account is not a member of pg_monitor",
    },
    CheckDef {
        key: "major_version",
        section: "Check source version",
        name: "Check major version consistent",
        warning: "minor versions differ",
        failure: "source major version is not the same as rds pg",
    },
    CheckDef {
        key: "glibc",
        section: "Check source glibc version",
        name: "Check source glibc version compatible",
        warning: "source glibc version is not compatible with rds pg",
        failure: "source glibc version is not supported",
    },
    CheckDef {
        key: "disk_size",
        section: "Check disk size",
        name: "Check disk size enough",
        warning: "rds disk will be more than 80% full after migration",
        failure: "rds disk is smaller than the source data",
    },
    CheckDef {
        key: "wal_keep_size",
        section: "Check wal keep size",
        name: "Check wal keep size large enough",
        warning: "wal_keep_size is small for the expected backup time",
        failure: "wal_keep_size is too small, set it to at least 16GB",
    },
    CheckDef {
        key: "spec_params",
        section: "Check spec params",
        name: "Check if spec params too large",
        warning: "max_connections is close to the rds spec limit",
        failure: "max_connections on source is larger than the rds spec allows",
    },
];

/// How one check ends.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum CheckResult {
    /// `"success"`, `"warning"` or `"fail"` with the built-in message.
    Status(CheckStatus),
    /// A status with a custom message.
    WithMessage {
        status: CheckStatus,
        message: String,
    },
}

/// A check's status word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Success,
    Warning,
    Fail,
}

impl CheckResult {
    /// The status.
    pub fn status(&self) -> CheckStatus {
        match self {
            CheckResult::Status(s) | CheckResult::WithMessage { status: s, .. } => *s,
        }
    }
}

/// The text of one check line: `Name: success` or `Name: warning(warning:why)`.
pub fn check_line(def: &CheckDef, result: &CheckResult) -> String {
    let (word, default) = match result.status() {
        CheckStatus::Success => return format!("{}: success", def.name),
        CheckStatus::Warning => ("warning", def.warning),
        CheckStatus::Fail => ("fail", def.failure),
    };
    let why = match result {
        CheckResult::WithMessage { message, .. } => message.as_str(),
        CheckResult::Status(_) => default,
    };
    format!("{}: {word}({word}:{why})", def.name)
}

/// The precheck section of `Detail` with the first `done` checks finished.
pub fn precheck_lines(results: &[CheckResult], done: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut section = "";
    for (def, result) in CHECKS.iter().zip(results).take(done) {
        if def.section != section {
            section = def.section;
            out.push(format!("[{section}]"));
        }
        out.push(check_line(def, result));
    }
    out
}

/// `2022-02-25 17:00:29 --- text`.
pub fn progress(at: &DateTime<FixedOffset>, text: &str) -> String {
    format!("{} --- {text}", at.format("%Y-%m-%d %H:%M:%S"))
}

/// A stage section: a header line, fixed lines, and a bounded tail of event lines.
#[derive(Debug, Clone, PartialEq)]
struct Section {
    header: String,
    lines: Vec<String>,
    events: VecDeque<String>,
}

/// The whole log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DetailLog {
    precheck: Vec<String>,
    sections: Vec<Section>,
}

impl DetailLog {
    /// Replaces the precheck part.
    pub fn set_precheck(&mut self, lines: Vec<String>) {
        self.precheck = lines;
    }

    /// Starts a new section `[header]` with a first line.
    pub fn section(&mut self, header: &str, line: String) {
        self.sections.push(Section {
            header: format!("[{header}]"),
            lines: vec![line],
            events: VecDeque::new(),
        });
    }

    /// Adds a fixed line to the current section.
    pub fn line(&mut self, line: String) {
        if let Some(s) = self.sections.last_mut() {
            s.lines.push(line);
        }
    }

    /// Adds an event line to the current section, dropping the oldest beyond [`EVENT_CAP`].
    pub fn event(&mut self, line: String) {
        if let Some(s) = self.sections.last_mut() {
            if s.events.len() >= EVENT_CAP {
                s.events.pop_front();
            }
            s.events.push_back(line);
        }
    }

    /// Every line, in order.
    pub fn lines(&self) -> Vec<String> {
        let mut out = self.precheck.clone();
        for s in &self.sections {
            out.push(s.header.clone());
            out.extend(s.lines.iter().cloned());
            out.extend(s.events.iter().cloned());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Precheck, Severity};

    fn all(status: CheckStatus) -> Vec<CheckResult> {
        vec![CheckResult::Status(status); CHECKS.len()]
    }

    #[test]
    fn full_success_precheck_matches_the_sample_layout() {
        let lines = precheck_lines(&all(CheckStatus::Success), CHECKS.len());
        assert_eq!(lines[0], "[Check rds empty]");
        assert_eq!(lines[1], "Check rds databases: success");
        assert_eq!(lines[2], "[Check source connectivity]");
        assert_eq!(
            lines.last().unwrap(),
            "Check if spec params too large: success"
        );
        assert_eq!(lines.len(), CHECKS.len() + 7);
        assert_eq!(precheck_lines(&all(CheckStatus::Success), 0).len(), 0);
    }

    #[test]
    fn warnings_and_failures_parse_back() {
        let mut r = all(CheckStatus::Success);
        r[8] = CheckResult::Status(CheckStatus::Warning);
        r[4] = CheckResult::WithMessage {
            status: CheckStatus::Fail,
            message: "role migratetest: no REPLICATION".into(),
        };
        let text = precheck_lines(&r, CHECKS.len()).join("\n");
        assert!(text.contains(
            "Check source glibc version compatible: warning(warning:source glibc version is not compatible with rds pg)"
        ));
        let p = Precheck::parse(&text);
        assert_eq!((p.counts.warning, p.counts.fail), (1, 1));
        assert!(p.problems().iter().any(|(s, l)| *s == Some("Check source connectivity")
            && matches!(l, crate::model::DetailLine::Check { severity: Severity::Fail, message: Some(m), .. } if m == "role migratetest: no REPLICATION")));
    }

    #[test]
    fn events_are_capped() {
        let mut d = DetailLog::default();
        d.set_precheck(vec!["[Check rds empty]".into()]);
        d.section("Synchronize data", "first".into());
        for i in 0..100 {
            d.event(format!("e{i}"));
        }
        let lines = d.lines();
        assert_eq!(lines.len(), 3 + EVENT_CAP);
        assert_eq!(lines[1], "[Synchronize data]");
        assert_eq!(lines.last().unwrap(), "e99");
        assert_eq!(lines[3], format!("e{}", 100 - EVENT_CAP));
    }
}
