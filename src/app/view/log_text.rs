//! The precheck log as text: the parsed `Detail` as styled pieces, wrapped to a width, and
//! searched. One module for the state (which pages and jumps to matches) and the log panel
//! (which draws and highlights them), so both agree on rows and matches.

use std::ops::Range;

use chrono::FixedOffset;
use unicode_width::UnicodeWidthStr;

use crate::model::{DetailLine, DetailZone, Precheck, Severity};

/// How the log's times are shown: read in the zone `Detail` is written in, shown in the
/// session's local offset like every other time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LogClock {
    pub zone: DetailZone,
    pub local: FixedOffset,
}

impl LogClock {
    /// `2022-02-25 17:00:29` in the log's zone as `02-25 09:00:29` local (UTC here).
    fn show(&self, t: chrono::NaiveDateTime) -> String {
        match self.zone.instant(t) {
            Some(i) => i
                .with_timezone(&self.local)
                .format("%m-%d %H:%M:%S")
                .to_string(),
            None => t.format("%m-%d %H:%M:%S").to_string(),
        }
    }

    /// The note for the panel's title, when times are converted (`None` when the zones are
    /// the same): `+08 → local`, with `assumed` when nothing in the task gave the zone.
    pub fn note(&self, long: bool) -> Option<String> {
        if self.zone.offset == self.local {
            return None;
        }
        let z = self.zone.label();
        Some(match (long, self.zone.assumed) {
            (true, true) => format!("times {z} (assumed) → local"),
            (true, false) => format!("times {z} → local"),
            (false, true) => format!("{z}? → local"),
            (false, false) => format!("{z} → local"),
        })
    }
}

/// What a piece of log text is, for its style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Section,
    Success,
    Warning,
    Fail,
    Other,
    Time,
    Text,
}

/// One display row of the wrapped log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRow {
    /// The logical `Detail` line this row belongs to.
    pub line: usize,
    pub segs: Vec<(String, Kind)>,
}

impl LogRow {
    /// The row's text.
    pub fn text(&self) -> String {
        self.segs.iter().map(|(s, _)| s.as_str()).collect()
    }
}

fn severity_kind(s: Severity) -> Kind {
    match s {
        Severity::Success => Kind::Success,
        Severity::Warning => Kind::Warning,
        Severity::Fail => Kind::Fail,
        Severity::Other => Kind::Other,
    }
}

/// A log line as styled pieces (unwrapped), its time shown by `clock`.
pub fn segments(l: &DetailLine, clock: &LogClock) -> Vec<(String, Kind)> {
    match l {
        DetailLine::Section(s) => vec![(format!("[{s}]"), Kind::Section)],
        DetailLine::Check {
            name,
            severity,
            status,
            message,
        } => {
            let k = severity_kind(*severity);
            let sym = match severity {
                Severity::Success => "✓",
                Severity::Warning => "!",
                Severity::Fail => "✗",
                Severity::Other => "?",
            };
            let mut v = vec![
                (format!("  {sym} "), k),
                (name.clone(), Kind::Text),
                (": ".into(), Kind::Text),
                (status.clone(), k),
            ];
            if let Some(m) = message {
                v.push((format!(" — {m}"), k));
            }
            v
        }
        DetailLine::Progress { time, text } => {
            let stamp = time.map_or("---".to_string(), |t| clock.show(t));
            vec![
                ("  ".into(), Kind::Text),
                (stamp, Kind::Time),
                (format!(" {text}"), Kind::Text),
            ]
        }
        DetailLine::Text(s) => vec![(format!("  {s}"), Kind::Text)],
    }
}

/// The text of a log line as shown, for searching.
pub fn line_text(l: &DetailLine, clock: &LogClock) -> String {
    segments(l, clock).into_iter().map(|(s, _)| s).collect()
}

/// Splits pieces into words and single spaces, keeping each piece's kind.
fn tokens(segs: Vec<(String, Kind)>) -> Vec<(String, Kind)> {
    let mut out = Vec::new();
    for (s, k) in segs {
        let mut word = String::new();
        for c in s.chars() {
            if c == ' ' {
                if !word.is_empty() {
                    out.push((std::mem::take(&mut word), k));
                }
                out.push((" ".into(), k));
            } else {
                word.push(c);
            }
        }
        if !word.is_empty() {
            out.push((word, k));
        }
    }
    out
}

fn push_merged(segs: &mut Vec<(String, Kind)>, s: &str, k: Kind) {
    match segs.last_mut() {
        Some((last, lk)) if *lk == k => last.push_str(s),
        _ => segs.push((s.to_string(), k)),
    }
}

/// Drops the spaces a row ends with (where it was broken).
fn finish(mut segs: Vec<(String, Kind)>) -> Vec<(String, Kind)> {
    loop {
        let n = segs.len();
        let Some((last, _)) = segs.last_mut() else {
            break;
        };
        let trimmed = last.trim_end_matches(' ').len();
        if trimmed == 0 && n > 1 {
            segs.pop();
        } else {
            last.truncate(trimmed);
            break;
        }
    }
    segs
}

/// Wraps the log to `width` columns; continuation rows are indented.
pub fn wrap(p: &Precheck, width: usize, clock: &LogClock) -> Vec<LogRow> {
    let mut rows = Vec::new();
    for (i, l) in p.lines.iter().enumerate() {
        wrap_into(i, l, width, clock, &mut rows);
    }
    rows
}

/// Wraps logical line `i` (`l`) to `width` columns onto `rows`: one line at a time, so a big
/// log is wrapped only as far as it is shown (see `app::log_view`).
pub fn wrap_into(i: usize, l: &DetailLine, width: usize, clock: &LogClock, rows: &mut Vec<LogRow>) {
    let width = width.max(8);
    let indent = 4.min(width / 4);
    let segs = segments(l, clock);
    // Most lines fit: one row, without splitting into words.
    if segs.iter().map(|(s, _)| s.width()).sum::<usize>() <= width {
        let mut cur: Vec<(String, Kind)> = Vec::with_capacity(segs.len());
        for (s, k) in segs {
            if s.is_empty() {
                continue;
            }
            match cur.last_mut() {
                Some((last, lk)) if *lk == k => last.push_str(&s),
                _ => cur.push((s, k)),
            }
        }
        rows.push(LogRow {
            line: i,
            segs: finish(cur),
        });
        return;
    }
    wrap_line(i, segs, width, indent, rows);
}

/// Wraps one logical line that does not fit, word by word.
fn wrap_line(
    i: usize,
    segs: Vec<(String, Kind)>,
    width: usize,
    indent: usize,
    rows: &mut Vec<LogRow>,
) {
    {
        let mut cur: Vec<(String, Kind)> = Vec::new();
        let mut cur_w = 0;
        let mut fresh = true; // nothing but indentation on the current row
        for (tok, k) in tokens(segs) {
            let w = tok.width();
            if tok == " " && cur_w + 1 > width {
                continue;
            }
            if cur_w + w > width && !fresh {
                rows.push(LogRow {
                    line: i,
                    segs: finish(std::mem::take(&mut cur)),
                });
                cur.push((" ".repeat(indent), Kind::Text));
                cur_w = indent;
                fresh = true;
                if tok == " " {
                    continue;
                }
            }
            if cur_w + w > width {
                // A word longer than the row: break it anywhere.
                for c in tok.chars() {
                    let cw = c.to_string().width();
                    if cur_w + cw > width {
                        rows.push(LogRow {
                            line: i,
                            segs: finish(std::mem::take(&mut cur)),
                        });
                        cur.push((" ".repeat(indent), Kind::Text));
                        cur_w = indent;
                    }
                    push_merged(&mut cur, &c.to_string(), k);
                    cur_w += cw;
                }
                fresh = false;
                continue;
            }
            push_merged(&mut cur, &tok, k);
            cur_w += w;
            if tok != " " {
                fresh = false;
            }
        }
        rows.push(LogRow {
            line: i,
            segs: finish(cur),
        });
    }
}

/// The display row to open the log at: the section heading of the first warning or failure
/// (`None` when every check passed).
pub fn first_problem_row(p: &Precheck, rows: &[LogRow]) -> Option<usize> {
    let heading = first_problem_line(p)?;
    rows.iter().position(|r| r.line == heading)
}

/// The logical line to open the log at: the section heading of the first warning or failure
/// (or the line itself when its heading is far above), found without wrapping anything.
pub fn first_problem_line(p: &Precheck) -> Option<usize> {
    let problem = p.lines.iter().position(|l| {
        matches!(
            l,
            DetailLine::Check {
                severity: Severity::Warning | Severity::Fail,
                ..
            }
        )
    })?;
    let heading = p.lines[..problem]
        .iter()
        .rposition(|l| matches!(l, DetailLine::Section(_)))
        .filter(|h| problem - h <= 3)
        .unwrap_or(problem);
    Some(heading)
}

/// Case folding for search: Unicode lowercase, character by character. Matching lines and
/// highlighting within them both use it, so whatever matches is highlighted.
pub fn fold(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

/// The logical lines of `p` whose text (as shown) contains `query`, ignoring case.
pub fn matching_lines(p: &Precheck, query: &str, clock: &LogClock) -> Vec<usize> {
    let q = fold(query);
    p.lines
        .iter()
        .enumerate()
        .filter(|(_, l)| fold(&line_text(l, clock)).contains(&q))
        .map(|(i, _)| i)
        .collect()
}

/// The byte ranges of `text` where `query` occurs, ignoring case (as [`fold`] does), left to
/// right and not overlapping; each range covers whole characters of `text`.
pub fn find_all(text: &str, query: &str) -> Vec<Range<usize>> {
    let q = fold(query);
    if q.is_empty() {
        return Vec::new();
    }
    // The folded text, and for each of its bytes the original character it came from
    // (lowercasing may change a character's length, e.g. `İ` becomes `i̇`).
    let mut folded = String::with_capacity(text.len());
    let mut origin: Vec<Range<usize>> = Vec::with_capacity(text.len());
    for (at, c) in text.char_indices() {
        let span = at..at + c.len_utf8();
        for l in c.to_lowercase() {
            folded.push(l);
            origin.extend(std::iter::repeat_n(span.clone(), l.len_utf8()));
        }
    }
    let mut out: Vec<Range<usize>> = Vec::new();
    let mut from = 0;
    while let Some(pos) = folded[from..].find(&q) {
        let at = from + pos;
        let end = at + q.len();
        let range = origin[at].start..origin[end - 1].end;
        if out.last().is_none_or(|prev| range.start >= prev.end) {
            out.push(range);
        }
        from = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The log's times at +08 as the assumed zone, shown in UTC.
    const UTC: LogClock = LogClock {
        zone: DetailZone {
            offset: FixedOffset::east_opt(8 * 3600).unwrap(),
            assumed: true,
        },
        local: FixedOffset::east_opt(0).unwrap(),
    };

    #[test]
    fn times_are_shown_local_and_searched_as_shown() {
        let p = Precheck::parse("2022-02-25 17:00:29 --- Start RDS instance\n--- no time\n");
        assert_eq!(
            line_text(&p.lines[0], &UTC),
            "  02-25 09:00:29 Start RDS instance"
        );
        assert_eq!(line_text(&p.lines[1], &UTC), "  --- no time");
        assert_eq!(matching_lines(&p, "09:00", &UTC), vec![0]);
        assert!(matching_lines(&p, "17:00", &UTC).is_empty());
        // Across midnight, the date follows.
        let p = Precheck::parse("2022-03-01 07:59:59 --- early\n");
        assert_eq!(line_text(&p.lines[0], &UTC), "  02-28 23:59:59 early");
        let same = LogClock {
            local: UTC.zone.offset,
            ..UTC
        };
        assert_eq!(same.note(true), None);
        assert_eq!(
            UTC.note(true).as_deref(),
            Some("times +08 (assumed) → local")
        );
        assert_eq!(UTC.note(false).as_deref(), Some("+08? → local"));
        let told = LogClock {
            zone: DetailZone {
                assumed: false,
                ..UTC.zone
            },
            ..UTC
        };
        assert_eq!(told.note(true).as_deref(), Some("times +08 → local"));
    }

    #[test]
    fn wraps_long_lines_with_an_indent() {
        let p = Precheck::parse(
            "[Check source glibc version]\nCheck source glibc version compatible: warning(warning:source glibc version is not compatible with rds pg)\n",
        );
        let rows = wrap(&p, 30, &UTC);
        let texts: Vec<String> = rows.iter().map(|r| r.text()).collect();
        assert_eq!(
            texts,
            vec![
                "[Check source glibc version]",
                "  ! Check source glibc version",
                "    compatible: warning —",
                "    source glibc version is",
                "    not compatible with rds pg",
            ]
        );
        assert!(rows.iter().skip(1).all(|r| r.line == 1));
        assert!(texts.iter().all(|t| t.width() <= 30));
    }

    #[test]
    fn lines_that_fit_wrap_as_the_word_by_word_path_would() {
        let p = Precheck::parse(
            "[Check a]\nCheck  spaced   name : success\nCheck b: warning(warning:why )\n2022-02-25 17:00:29 --- Start   \nplain text \n中文 检查: fail(fail:原因)\n",
        );
        for width in [8, 20, 40, 200] {
            let fast = wrap(&p, width, &UTC);
            let mut slow = Vec::new();
            for (i, l) in p.lines.iter().enumerate() {
                wrap_line(i, segments(l, &UTC), width, 4.min(width / 4), &mut slow);
            }
            assert_eq!(fast, slow, "width {width}");
        }
    }

    #[test]
    fn very_long_words_are_broken() {
        let p = Precheck::parse(&"x".repeat(50));
        let rows = wrap(&p, 20, &UTC);
        assert!(rows.iter().all(|r| r.text().width() <= 20));
        assert_eq!(
            rows.iter().map(|r| r.text().trim().len()).sum::<usize>(),
            50
        );
    }

    #[test]
    fn the_first_problem_opens_at_its_section() {
        let p = Precheck::parse(
            "[Check a]\nCheck a: success\n[Check b]\nCheck b: warning(warning:b is odd)\n",
        );
        let rows = wrap(&p, 40, &UTC);
        assert_eq!(first_problem_row(&p, &rows), Some(2));
        let fine = Precheck::parse("[Check a]\nCheck a: success\n");
        assert_eq!(first_problem_row(&fine, &wrap(&fine, 40, &UTC)), None);
    }

    #[test]
    fn ascii_search_ignores_case() {
        assert_eq!(
            find_all("Check GLIBC here, glibc", "glibc"),
            vec![6..11, 18..23]
        );
        assert_eq!(find_all("aaaa", "aa"), vec![0..2, 2..4]);
        assert!(find_all("anything", "").is_empty());
    }

    #[test]
    fn non_ascii_search_matches_and_finds_the_same_text() {
        // A line the search matches must be one the panel can highlight.
        let p = Precheck::parse("[Prüfung]\nCHECK ÜBERSICHT: success\nCheck other: success\n");
        assert_eq!(matching_lines(&p, "übersicht", &UTC), vec![1]);
        let text = line_text(&p.lines[1], &UTC);
        let found = find_all(&text, "übersicht");
        assert_eq!(found.len(), 1);
        assert_eq!(&text[found[0].clone()], "ÜBERSICHT");
        assert_eq!(matching_lines(&p, "PRÜF", &UTC), vec![0]);
        assert_eq!(
            &"[Prüfung]"[find_all("[Prüfung]", "PRÜF")[0].clone()],
            "Prüf"
        );
    }

    #[test]
    fn lowercasing_that_changes_length_keeps_whole_characters() {
        // `İ` lowercases to two characters: a match on either covers the whole `İ`.
        let text = "xİy";
        let r = find_all(text, "i");
        assert_eq!(r.len(), 1);
        assert_eq!(&text[r[0].clone()], "İ");
        assert_eq!(&text[find_all(text, "İY")[0].clone()], "İy");
    }
}
