//! The header's alert: the one problem worth a line under the header, as data. The state
//! decides which (it needs the row count for the layout); the header draws it.

use std::time::Duration;

use unicode_width::UnicodeWidthStr;

use crate::util::units;

/// When a failing instance is polled again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retry {
    /// Polling is paused.
    Paused,
    /// A poll is running now.
    Running,
    /// The next poll is this far away.
    In(Duration),
    /// No poll is scheduled yet.
    Soon,
}

/// The most pressing problem, most useful part first so it survives truncation.
#[derive(Debug, Clone, PartialEq)]
pub enum Alert {
    /// The most recent failed poll across instances.
    PollFailed {
        instance: String,
        /// The error's code, e.g. `Forbidden.RAM`.
        code: String,
        retry: Retry,
        /// How many other instances are failing too.
        others: usize,
        /// The error's sentence without its code.
        message: String,
    },
    /// The source probe fails: never fatal, only the true lag is unknown.
    ProbeFailed { error: String },
    /// Items of an instance's answer that could not be decoded.
    Unreadable {
        instance: String,
        errors: Vec<String>,
    },
}

/// How a piece of the alert is meant to look; the theme decides the style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Bad,
    Warn,
    Strong,
    Dim,
    Plain,
}

impl Alert {
    /// The alert's text as pieces with their tone, in order.
    pub fn pieces(&self) -> Vec<(String, Tone)> {
        match self {
            Alert::PollFailed {
                instance,
                code,
                retry,
                others,
                message,
            } => {
                let retry = match retry {
                    Retry::Paused => "paused".to_string(),
                    Retry::Running => "retrying…".to_string(),
                    Retry::In(d) => format!("retry in {}", units::duration(*d)),
                    Retry::Soon => "retry soon".to_string(),
                };
                let more = if *others > 0 {
                    format!(" (+{others} more failing)")
                } else {
                    String::new()
                };
                vec![
                    (" ✗ ".into(), Tone::Bad),
                    (format!("{instance} "), Tone::Strong),
                    (code.clone(), Tone::Bad),
                    (format!(" · {retry}{more} · "), Tone::Dim),
                    (message.clone(), Tone::Plain),
                ]
            }
            Alert::ProbeFailed { error } => vec![
                (" ! ".into(), Tone::Warn),
                ("source probe".into(), Tone::Strong),
                (" · true lag unknown · ".into(), Tone::Dim),
                (error.clone(), Tone::Plain),
            ],
            Alert::Unreadable { instance, errors } => {
                let n = errors.len();
                vec![
                    (" ! ".into(), Tone::Warn),
                    (format!("{instance} "), Tone::Strong),
                    (
                        format!(
                            "{n} unreadable task{} skipped: ",
                            if n == 1 { "" } else { "s" }
                        ),
                        Tone::Warn,
                    ),
                    (errors.join("; "), Tone::Plain),
                ]
            }
        }
    }

    /// The alert's width in columns, unwrapped.
    pub fn width(&self) -> usize {
        self.pieces().iter().map(|(s, _)| s.width()).sum()
    }

    /// Rows the alert needs at `width` columns (1, or 2 when it has to wrap).
    pub fn rows(&self, width: u16) -> u16 {
        if self.width() <= width as usize { 1 } else { 2 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(others: usize) -> Alert {
        Alert::PollFailed {
            instance: "pgm-a".into(),
            code: "Throttling".into(),
            retry: Retry::In(Duration::from_secs(5)),
            others,
            message: "Request was denied due to request throttling.".into(),
        }
    }

    #[test]
    fn a_failed_poll_reads_code_first() {
        let text: String = failed(1).pieces().into_iter().map(|(s, _)| s).collect();
        assert_eq!(
            text,
            " ✗ pgm-a Throttling · retry in 5s (+1 more failing) · Request was denied due to request throttling."
        );
    }

    #[test]
    fn rows_depend_on_the_width() {
        let a = failed(0);
        let w = a.width() as u16;
        assert_eq!(a.rows(w), 1);
        assert_eq!(a.rows(w - 1), 2);
        let u = Alert::Unreadable {
            instance: "pgm-a".into(),
            errors: vec!["item 3: no TaskId".into()],
        };
        let text: String = u.pieces().into_iter().map(|(s, _)| s).collect();
        assert_eq!(
            text,
            " ! pgm-a 1 unreadable task skipped: item 3: no TaskId"
        );
    }
}
