//! The precheck log's view state: scrolling, following the tail and searching. Rows and
//! matches come from [`crate::app::view::log_text`], the same module the log panel draws with.

use super::{Action, App, Focus};
use crate::app::view::layout;
use crate::app::view::log_text::{self, LogClock, LogRow};
use crate::model::{DetailZone, Precheck, Task};

/// Wrapped logs kept: the selected task's and the few selected just before, so moving the
/// selection back and forth does not re-wrap a big log on every key.
const WRAPS_KEPT: usize = 4;

/// Logs of up to this many lines are wrapped whole when first shown (a few milliseconds), so
/// the scrollbar is exact; longer ones only as far as they are shown.
const WRAP_WHOLE_LINES: usize = 5_000;

/// The wrapped logs of the last few tasks shown, most recent first.
#[derive(Debug, Clone, Default)]
pub(super) struct WrapCache {
    entries: Vec<Wrapped>,
}

/// One task's log wrapped to one width, as far as it has been shown: (task key, log
/// revision, width, clock) and the rows of its first `rows_of` lines. A 50 MB `Detail` takes
/// seconds to wrap whole; the first frame needs only the rows on screen, so lines are
/// wrapped in order as far as a view, a scroll or a search match asks, and the whole log
/// only for its end (`G`, follow).
#[derive(Debug, Clone, Default)]
struct Wrapped {
    key: Option<(String, u64, usize, LogClock)>,
    /// The rows of the lines wrapped so far, in order.
    rows: Vec<LogRow>,
    /// For each line wrapped so far, its first row.
    first_row: Vec<usize>,
}

impl Wrapped {
    /// Lines wrapped so far.
    fn lines(&self) -> usize {
        self.first_row.len()
    }

    /// Whether every line of `p` is wrapped.
    fn complete(&self, p: &Precheck) -> bool {
        self.lines() >= p.lines.len()
    }

    /// Wraps the next line; false when there is none.
    fn wrap_next(&mut self, p: &Precheck, width: usize, clock: &LogClock) -> bool {
        let i = self.lines();
        let Some(l) = p.lines.get(i) else {
            return false;
        };
        self.first_row.push(self.rows.len());
        log_text::wrap_into(i, l, width, clock, &mut self.rows);
        true
    }

    /// Wraps until there are at least `n` rows, or the log ends.
    fn grow_rows(&mut self, n: usize, p: &Precheck, width: usize, clock: &LogClock) {
        while self.rows.len() < n && self.wrap_next(p, width, clock) {}
    }

    /// Wraps until line `line` is, or the log ends.
    fn grow_line(&mut self, line: usize, p: &Precheck, width: usize, clock: &LogClock) {
        while self.lines() <= line && self.wrap_next(p, width, clock) {}
    }

    /// The rows of the whole log: exact once complete, else what is wrapped plus one row per
    /// line not yet wrapped (a lower bound, for the scrollbar).
    fn total(&self, p: &Precheck) -> usize {
        self.rows.len() + p.lines.len().saturating_sub(self.lines())
    }
}

/// What the log panel shows: the rows in view, where they start and how many rows the log
/// has (`exact`: all of it is wrapped; else a lower bound).
#[derive(Debug, Clone, PartialEq)]
pub struct LogWindow {
    pub rows: Vec<LogRow>,
    pub top: usize,
    pub total: usize,
    pub exact: bool,
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
                let h = self.log_size().map_or(1, |(_, h)| h.max(2) - 1);
                self.scroll_log(n * h as i64);
            }
            Action::ScrollHalfPages(n) => {
                let h = self.log_size().map_or(1, |(_, h)| (h / 2).max(1));
                self.scroll_log(n * h as i64);
            }
            Action::LogTop => {
                self.log.follow = false;
                self.log.auto = false;
                self.log.scroll = 0;
            }
            Action::LogBottom => {
                if let Some(bottom) = self.log_bottom() {
                    self.log.scroll = bottom;
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
                    if let Some(bottom) = self.log_bottom() {
                        self.log.scroll = bottom;
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

    /// The log panel's inner width and height, when it is on screen.
    pub(super) fn log_size(&self) -> Option<(usize, usize)> {
        let inner = layout::log_inner(self.layout().log?);
        Some((inner.width as usize, inner.height as usize))
    }

    /// Runs `f` on the selected task's log wrapped to `width` (as far as it is), with the log
    /// and the clock: the cache's entry for it, made first when the task, its `Detail` or
    /// the width changed since.
    fn with_wrapped<T>(
        &self,
        width: usize,
        f: impl FnOnce(&mut Wrapped, &Precheck, &LogClock) -> T,
    ) -> Option<T> {
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
                // Older revisions and widths of this task will not be asked for again.
                entries.retain(|w| w.key.as_ref().is_some_and(|k| k.0 != want.0));
                entries.truncate(WRAPS_KEPT - 1);
                entries.insert(
                    0,
                    Wrapped {
                        key: Some(want),
                        ..Default::default()
                    },
                );
            }
        }
        Some(f(&mut entries[0], &entry.task.precheck, &clock))
    }

    /// The first row in view for a panel `height` rows high: the tail when following; where
    /// the DBA scrolled to; else the section of the first warning or failure, so problems are
    /// in view when a task is selected. Wraps as far as that needs.
    fn top_of(
        &self,
        w: &mut Wrapped,
        p: &Precheck,
        width: usize,
        clock: &LogClock,
        height: usize,
    ) -> usize {
        // The largest top with `want` in view: rows up to `want + height` are wrapped, so it
        // is known exactly once the log ends before them.
        let clamp = |w: &mut Wrapped, want: usize| {
            w.grow_rows(want.saturating_add(height), p, width, clock);
            if w.complete(p) {
                want.min(w.rows.len().saturating_sub(height))
            } else {
                want
            }
        };
        if self.log.follow {
            w.grow_rows(usize::MAX, p, width, clock);
            return w.rows.len().saturating_sub(height);
        }
        if self.log.auto && self.selected_task().is_some() {
            // Stay at the top when the problem (and a little after it) is visible from there.
            let row = log_text::first_problem_line(p).map(|line| {
                w.grow_line(line, p, width, clock);
                w.first_row.get(line).copied().unwrap_or(0)
            });
            return match row {
                Some(row) if row + 4 > height => clamp(w, row),
                _ => 0,
            };
        }
        clamp(w, self.log.scroll)
    }

    /// The selected task's log as the panel `width` × `height` shows it: only the rows in
    /// view are wrapped (and those before them).
    pub fn log_window(&self, width: usize, height: usize) -> Option<LogWindow> {
        self.with_wrapped(width, |w, p, clock| {
            if p.lines.len() <= WRAP_WHOLE_LINES {
                w.grow_rows(usize::MAX, p, width, clock);
            }
            let top = self.top_of(w, p, width, clock, height);
            w.grow_rows(top.saturating_add(height), p, width, clock);
            let end = w.rows.len().min(top.saturating_add(height));
            LogWindow {
                rows: w
                    .rows
                    .get(top..end)
                    .map(<[LogRow]>::to_vec)
                    .unwrap_or_default(),
                top,
                total: w.total(p),
                exact: w.complete(p),
            }
        })
    }

    /// The first row in view of the log panel as it is laid out now.
    pub fn log_top(&self) -> Option<usize> {
        let (width, h) = self.log_size()?;
        self.with_wrapped(width, |w, p, clock| self.top_of(w, p, width, clock, h))
    }

    /// The top that shows the end of the log (wrapping all of it).
    fn log_bottom(&self) -> Option<usize> {
        let (width, h) = self.log_size()?;
        self.with_wrapped(width, |w, p, clock| {
            w.grow_rows(usize::MAX, p, width, clock);
            w.rows.len().saturating_sub(h)
        })
    }

    /// The rows of the whole log at the panel's width (wrapping all of it), for tests.
    #[cfg(test)]
    fn all_rows(&self) -> Vec<LogRow> {
        let (width, _) = self.log_size().unwrap();
        self.with_wrapped(width, |w, p, clock| {
            w.grow_rows(usize::MAX, p, width, clock);
            w.rows.clone()
        })
        .unwrap()
    }

    pub(super) fn scroll_log(&mut self, n: i64) {
        let Some((width, h)) = self.log_size() else {
            return;
        };
        let Some(next) = self.with_wrapped(width, |w, p, clock| {
            let cur = self.top_of(w, p, width, clock, h) as i64;
            let want = (cur + n).max(0) as usize;
            w.grow_rows(want.saturating_add(h), p, width, clock);
            if w.complete(p) {
                want.min(w.rows.len().saturating_sub(h))
            } else {
                want
            }
        }) else {
            return;
        };
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
    /// after the top of the view. Wraps the log as far as the match.
    pub(super) fn jump_to_match(&mut self, dir: i64, first: bool) {
        let Some((width, h)) = self.log_size() else {
            return;
        };
        let Some(search) = self.log.search.clone() else {
            return;
        };
        let Some((idx, top, row, bottom)) = self
            .with_wrapped(width, |w, p, clock| {
                let top = self.top_of(w, p, width, clock, h);
                if search.matches.is_empty() {
                    return None;
                }
                let n = search.matches.len();
                let idx = match (search.current, first) {
                    (Some(c), false) => (c as i64 + dir).rem_euclid(n as i64) as usize,
                    _ => {
                        // Matches are in line order, and rows too: the first whose line starts at
                        // or below the top (the top's line is wrapped: it is in view).
                        let top_line = w.rows.get(top).map_or(usize::MAX, |r| r.line);
                        let i = search.matches.partition_point(|m| {
                            *m < top_line || (*m == top_line && w.first_row[*m] < top)
                        });
                        let after = (i < n).then_some(i);
                        match (after, dir) {
                            (Some(i), d) if d >= 0 => i,
                            (Some(i), _) => (i + n - 1) % n,
                            (None, d) if d >= 0 => 0,
                            (None, _) => n - 1,
                        }
                    }
                };
                let line = search.matches[idx];
                w.grow_line(line, p, width, clock);
                let row = w.first_row.get(line).copied().unwrap_or(0);
                w.grow_rows(row.saturating_add(h), p, width, clock);
                let bottom = w.complete(p).then(|| w.rows.len().saturating_sub(h));
                Some((idx, top, row, bottom))
            })
            .flatten()
        else {
            if let Some(s) = &mut self.log.search {
                s.current = None;
            }
            return;
        };
        if let Some(s) = &mut self.log.search {
            s.current = Some(idx);
        }
        if row < top || row >= top + h {
            let want = row.saturating_sub(h / 3);
            self.log.scroll = bottom.map_or(want, |b| want.min(b));
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
        let (_, h) = a.log_size().unwrap();
        assert!(a.all_rows().len() > h);
        assert_eq!(a.log_top(), Some(60), "the warning's section heading");
    }

    #[test]
    fn scrolling_leaves_the_tail_and_stays_in_bounds() {
        let mut a = long_log();
        a.update(Action::ToggleFollow);
        let (_, h) = a.log_size().unwrap();
        let rows = a.all_rows();
        assert_eq!(a.log_top(), Some(rows.len() - h));
        a.update(Action::ScrollLines(-1));
        assert!(!a.log.follow);
        a.update(Action::LogTop);
        a.update(Action::ScrollLines(-5));
        assert_eq!(a.log_top(), Some(0));
        a.update(Action::ScrollPages(1000));
        assert_eq!(a.log_top(), Some(rows.len() - h));
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
        let (_, h) = a.log_size().unwrap();
        let top = a.log_top().unwrap();
        let row = a.all_rows().iter().position(|r| r.line == 61).unwrap();
        assert!(row >= top && row < top + h, "the match is in view");
    }

    #[test]
    fn only_what_is_shown_or_searched_is_wrapped() {
        let mut detail = String::new();
        for i in 0..20_000 {
            detail.push_str(&format!("Check step {i}: success\n"));
        }
        detail.push_str("Check last: warning(warning:late)\n");
        let mut a = app();
        a.update(Action::Resize(80, 24));
        ok(
            &mut a,
            EAST,
            0,
            &[item(1, "increment", "streaming", Some(0), &detail)],
        );
        a.update(Action::LogTop);
        let (width, h) = a.log_size().unwrap();
        let wrapped = |a: &App| a.wrapped.borrow().entries[0].lines();
        let w = a.log_window(width, h).unwrap();
        assert_eq!((w.top, w.rows.len()), (0, h));
        assert!(!w.exact && w.total >= 20_001, "{} {}", w.total, w.exact);
        assert!(wrapped(&a) <= h, "only the rows in view: {}", wrapped(&a));
        // A search match far down wraps as far as it, not further.
        search(&mut a, "step 15000:");
        let top = a.log_top().unwrap();
        assert!((14_990..=15_000).contains(&top), "{top}");
        assert!(wrapped(&a) < 15_100, "{}", wrapped(&a));
        // The end wraps it all, exactly.
        a.update(Action::LogBottom);
        let w = a.log_window(width, h).unwrap();
        assert!(w.exact);
        assert_eq!(w.top + h, w.total);
        assert_eq!(
            w.rows.last().unwrap().text().trim(),
            "! Check last: warning — late"
        );
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
