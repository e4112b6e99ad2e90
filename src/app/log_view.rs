//! The precheck log's view state: scrolling, following the tail and searching. Rows and
//! matches come from [`crate::app::view::log_text`], the same module the log panel draws with.

use std::sync::Arc;

use super::{Action, App, Focus};
use crate::app::view::layout;
use crate::app::view::log_text::{self, LogClock, LogRow};
use crate::model::{DetailZone, Task};

/// Wrapped logs kept: the selected task's and the few selected just before, so moving the
/// selection back and forth does not re-wrap a big log on every key.
const WRAPS_KEPT: usize = 4;

/// The wrapped logs of the last few tasks shown, most recent first.
#[derive(Debug, Clone, Default)]
pub(super) struct WrapCache {
    entries: Vec<Wrapped>,
}

/// One task's log wrapped to one width: (task key, log revision, width, clock) and the rows.
#[derive(Debug, Clone, Default)]
struct Wrapped {
    key: Option<(String, u64, usize, LogClock)>,
    rows: Arc<Vec<LogRow>>,
    /// The row of the first warning or failure's section, found once per wrap.
    first_problem: Option<usize>,
    /// For each logical line, its first row (so a match is found without a scan).
    first_row: Arc<Vec<usize>>,
}

/// A search in the precheck log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Search {
    pub query: String,
    /// Indices of matching log lines (logical lines of `Detail`).
    pub matches: Vec<usize>,
    /// Index into `matches` of the current match.
    pub current: Option<usize>,
}

/// The precheck log panel's view state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogView {
    /// First visible display row (ignored while following or placed automatically).
    pub scroll: usize,
    /// The DBA has not scrolled this task's log yet: it opens at the first warning or failure.
    pub auto: bool,
    /// Keep the newest lines in view as the log grows.
    pub follow: bool,
    pub search: Option<Search>,
    /// The search being typed after `/`.
    pub input: Option<String>,
    /// What `search.matches` was computed for: (task key, log revision, query, clock).
    pub(super) searched: Option<(String, u64, String, LogClock)>,
}

impl App {
    /// How `task`'s log times are shown: from the zone of its `Detail` to the local offset.
    pub fn log_clock(&self, task: &Task) -> LogClock {
        LogClock {
            zone: DetailZone::of(task),
            local: self.config.local_offset,
        }
    }

    /// Applies a log action (scrolling, search, follow); other actions are not the log's.
    pub(super) fn update_log(&mut self, action: Action) {
        match action {
            Action::ScrollLines(n) => self.scroll_log(n),
            Action::ScrollPages(n) => {
                let h = self.log_geometry().map_or(1, |(_, h)| h.max(2) - 1);
                self.scroll_log(n * h as i64);
            }
            Action::ScrollHalfPages(n) => {
                let h = self.log_geometry().map_or(1, |(_, h)| (h / 2).max(1));
                self.scroll_log(n * h as i64);
            }
            Action::LogTop => {
                self.log.follow = false;
                self.log.auto = false;
                self.log.scroll = 0;
            }
            Action::LogBottom => {
                if let Some((rows, h)) = self.log_geometry() {
                    self.log.scroll = rows.len().saturating_sub(h);
                    self.log.auto = false;
                }
            }
            Action::SearchStart => {
                self.focus = Focus::Log;
                self.log.input = Some(String::new());
            }
            Action::SearchChar(c) => {
                if let Some(s) = &mut self.log.input
                    && s.chars().count() < 200
                {
                    s.push(c);
                }
            }
            Action::SearchBackspace => {
                if let Some(s) = &mut self.log.input {
                    s.pop();
                }
            }
            Action::SearchCancel => self.log.input = None,
            Action::SearchSubmit => {
                let query = self.log.input.take().unwrap_or_default();
                if query.trim().is_empty() {
                    self.log.search = None;
                } else {
                    self.log.search = Some(Search {
                        query,
                        ..Default::default()
                    });
                    self.refresh_matches();
                    self.jump_to_match(0, true);
                }
            }
            Action::NextMatch => self.jump_to_match(1, false),
            Action::PrevMatch => self.jump_to_match(-1, false),
            Action::ToggleFollow => {
                if self.log.follow {
                    // Stay where the tail was rather than jumping back up.
                    if let Some((rows, h)) = self.log_geometry() {
                        self.log.scroll = rows.len().saturating_sub(h);
                    }
                    self.log.follow = false;
                    self.log.auto = false;
                } else {
                    self.log.follow = true;
                }
            }
            _ => {}
        }
    }

    /// The precheck log of the selected task, wrapped for the current log panel width, and the
    /// panel's inner height.
    pub(super) fn log_geometry(&self) -> Option<(Arc<Vec<LogRow>>, usize)> {
        let inner = layout::log_inner(self.layout().log?);
        let rows = self.wrapped_log(inner.width as usize)?;
        Some((rows, inner.height as usize))
    }

    /// The selected task's log wrapped to `width`: from the cache unless the task, its
    /// `Detail` or the width changed since the last call.
    pub fn wrapped_log(&self, width: usize) -> Option<Arc<Vec<LogRow>>> {
        self.with_wrapped(width, |c| c.rows.clone())
    }

    fn with_wrapped<T>(&self, width: usize, f: impl FnOnce(&Wrapped) -> T) -> Option<T> {
        let (key, entry) = self.selected_entry()?;
        let clock = self.log_clock(&entry.task);
        let want = (key.to_string(), entry.log_rev, width, clock);
        let mut cache = self.wrapped.borrow_mut();
        let entries = &mut cache.entries;
        match entries.iter().position(|w| w.key.as_ref() == Some(&want)) {
            Some(0) => {}
            Some(i) => {
                let hit = entries.remove(i);
                entries.insert(0, hit);
            }
            None => {
                let p = &entry.task.precheck;
                let rows = log_text::wrap(p, width, &clock);
                let mut first_row = vec![0; p.lines.len()];
                for (i, r) in rows.iter().enumerate().rev() {
                    first_row[r.line] = i;
                }
                // Older revisions and widths of this task will not be asked for again.
                entries.retain(|w| w.key.as_ref().is_some_and(|k| k.0 != want.0));
                entries.truncate(WRAPS_KEPT - 1);
                entries.insert(
                    0,
                    Wrapped {
                        first_problem: log_text::first_problem_row(p, &rows),
                        key: Some(want),
                        rows: Arc::new(rows),
                        first_row: Arc::new(first_row),
                    },
                );
            }
        }
        Some(f(&entries[0]))
    }

    /// The first log row to show, given the wrapped rows and the viewport height: the tail
    /// when following; where the DBA scrolled to; else the section of the first warning or
    /// failure, so problems are in view when a task is selected.
    pub fn log_scroll(&self, rows: &[LogRow], height: usize) -> usize {
        let max = rows.len().saturating_sub(height);
        if self.log.follow {
            return max;
        }
        if self.log.auto && self.selected_task().is_some() {
            // Stay at the top when the problem (and a little after it) is visible from there.
            return match self.first_problem_row(rows) {
                Some(row) if row + 4 > height => row.min(max),
                _ => 0,
            };
        }
        self.log.scroll.min(max)
    }

    /// [`log_text::first_problem_row`] of the selected task, from the cache when `rows` are
    /// the cached rows.
    fn first_problem_row(&self, rows: &[LogRow]) -> Option<usize> {
        if let Some(w) = self
            .wrapped
            .borrow()
            .entries
            .iter()
            .find(|w| std::ptr::eq(w.rows.as_slice(), rows))
        {
            return w.first_problem;
        }
        let entry = self.selected_task()?;
        log_text::first_problem_row(&entry.task.precheck, rows)
    }

    pub(super) fn scroll_log(&mut self, n: i64) {
        let Some((rows, h)) = self.log_geometry() else {
            return;
        };
        let max = rows.len().saturating_sub(h);
        let cur = self.log_scroll(&rows, h) as i64;
        let next = (cur + n).clamp(0, max as i64) as usize;
        if n < 0 {
            // Scrolling up leaves the tail.
            self.log.follow = false;
        }
        self.log.scroll = next;
        self.log.auto = false;
    }

    pub(super) fn refresh_matches(&mut self) {
        let Some(search) = &self.log.search else {
            self.log.searched = None;
            return;
        };
        // Searched again only when the query, the task or its Detail changed: not on every
        // poll or key.
        let target = self.selected_entry().map(|(k, e)| {
            (
                k.to_string(),
                e.log_rev,
                search.query.clone(),
                self.log_clock(&e.task),
            )
        });
        if target.is_some() && target == self.log.searched {
            return;
        }
        let matches = match self.selected_task() {
            Some(e) => {
                log_text::matching_lines(&e.task.precheck, &search.query, &self.log_clock(&e.task))
            }
            None => Vec::new(),
        };
        self.log.searched = target;
        if let Some(s) = &mut self.log.search {
            if s.current.is_some_and(|c| c >= matches.len()) {
                s.current = None;
            }
            s.matches = matches;
        }
    }

    /// Moves to the next (`dir` 1) or previous (-1) match; `first` picks the first match at or
    /// after the top of the view.
    pub(super) fn jump_to_match(&mut self, dir: i64, first: bool) {
        let Some(log_area) = self.layout().log else {
            return;
        };
        let inner = layout::log_inner(log_area);
        let (width, h) = (inner.width as usize, inner.height as usize);
        let Some((rows, first_row)) =
            self.with_wrapped(width, |c| (c.rows.clone(), c.first_row.clone()))
        else {
            return;
        };
        let top = self.log_scroll(&rows, h);
        let row_of = |line: usize| first_row.get(line).copied().unwrap_or(0);
        let Some(search) = &mut self.log.search else {
            return;
        };
        if search.matches.is_empty() {
            search.current = None;
            return;
        }
        let n = search.matches.len();
        let idx = match (search.current, first) {
            (Some(c), false) => (c as i64 + dir).rem_euclid(n as i64) as usize,
            _ => {
                // Matches are in line order, and rows too: the first at or below the top.
                let i = search.matches.partition_point(|m| row_of(*m) < top);
                let after = (i < n).then_some(i);
                match (after, dir) {
                    (Some(i), d) if d >= 0 => i,
                    (Some(i), _) => (i + n - 1) % n,
                    (None, d) if d >= 0 => 0,
                    (None, _) => n - 1,
                }
            }
        };
        search.current = Some(idx);
        let row = row_of(search.matches[idx]);
        if row < top || row >= top + h {
            self.log.scroll = row.saturating_sub(h / 3).min(rows.len().saturating_sub(h));
        } else {
            self.log.scroll = top;
        }
        self.log.follow = false;
        self.log.auto = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fixtures::{EAST, app, item, ok};

    /// An app at 80×24 with one task whose log has 40 checks, a warning at check 30.
    fn long_log() -> App {
        let mut detail = String::new();
        for i in 0..40 {
            detail.push_str(&format!("[Check step {i}]\n"));
            if i == 30 {
                detail.push_str("Check Größe: warning(warning:zu groß)\n");
            } else {
                detail.push_str(&format!("Check step {i}: success\n"));
            }
        }
        let mut a = app();
        a.update(Action::Resize(80, 24));
        ok(
            &mut a,
            EAST,
            0,
            &[item(1, "increment", "streaming", Some(0), &detail)],
        );
        a
    }

    fn search(a: &mut App, q: &str) {
        a.update(Action::SearchStart);
        for c in q.chars() {
            a.update(Action::SearchChar(c));
        }
        a.update(Action::SearchSubmit);
    }

    #[test]
    fn the_log_opens_at_the_first_problem() {
        let a = long_log();
        let (rows, h) = a.log_geometry().unwrap();
        assert!(rows.len() > h);
        assert_eq!(a.log_scroll(&rows, h), 60, "the warning's section heading");
    }

    #[test]
    fn scrolling_leaves_the_tail_and_stays_in_bounds() {
        let mut a = long_log();
        a.update(Action::ToggleFollow);
        let (rows, h) = a.log_geometry().unwrap();
        assert_eq!(a.log_scroll(&rows, h), rows.len() - h);
        a.update(Action::ScrollLines(-1));
        assert!(!a.log.follow);
        a.update(Action::LogTop);
        a.update(Action::ScrollLines(-5));
        assert_eq!(a.log_scroll(&rows, h), 0);
        a.update(Action::ScrollPages(1000));
        assert_eq!(a.log_scroll(&rows, h), rows.len() - h);
    }

    #[test]
    fn a_search_finds_lines_and_jumps_between_them() {
        let mut a = long_log();
        a.update(Action::LogTop);
        search(&mut a, "STEP 1");
        let s = a.log.search.clone().unwrap();
        // `step 1`, `step 10`..`step 19`, each a heading and a check line.
        assert_eq!(s.matches.len(), 22);
        assert_eq!(s.current, Some(0));
        a.update(Action::PrevMatch);
        assert_eq!(a.log.search.as_ref().unwrap().current, Some(21));
        a.update(Action::NextMatch);
        assert_eq!(a.log.search.as_ref().unwrap().current, Some(0));
        assert_eq!(a.focus, Focus::Log);
    }

    #[test]
    fn a_non_ascii_search_ignores_case() {
        let mut a = long_log();
        // Lowercasing, not full case folding: `SS` is not `ß`.
        search(&mut a, "GRÖSSE");
        assert!(a.log.search.as_ref().unwrap().matches.is_empty());
        search(&mut a, "GRÖẞE");
        assert_eq!(a.log.search.as_ref().unwrap().matches, vec![61]);
        search(&mut a, "größe");
        let s = a.log.search.as_ref().unwrap();
        assert_eq!(s.matches, vec![61]);
        let (rows, h) = a.log_geometry().unwrap();
        let top = a.log_scroll(&rows, h);
        let row = rows.iter().position(|r| r.line == 61).unwrap();
        assert!(row >= top && row < top + h, "the match is in view");
    }

    #[test]
    fn an_empty_search_clears_it() {
        let mut a = long_log();
        search(&mut a, "step");
        search(&mut a, "  ");
        assert_eq!(a.log.search, None);
        assert_eq!(a.log.input, None);
    }
}
