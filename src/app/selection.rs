//! The task table's rows (tasks grouped by instance) and the selection kept in view.

use std::collections::HashMap;

use super::{App, RowRef, TaskEntry};

impl App {
    pub(super) fn rebuild_rows(&mut self) {
        let selected_key = self.rows.get(self.selected).cloned();
        let mut rows = Vec::new();
        // Grouped in one pass: a filter per instance was instances × tasks string compares on
        // every poll result (100 instances × 1,000 tasks: 100,000 per result).
        let mut by_instance: HashMap<&str, Vec<(&TaskEntry, &String)>> = HashMap::new();
        for (k, e) in &self.tasks {
            by_instance
                .entry(e.task.instance.as_str())
                .or_default()
                .push((e, k));
        }
        for (idx, inst) in self.instances.iter().enumerate() {
            let mut keys = by_instance
                .get(inst.name.as_str())
                .cloned()
                .unwrap_or_default();
            keys.sort_by(|a, b| {
                (a.0.task.task_id, &a.0.task.task_name, a.1).cmp(&(
                    b.0.task.task_id,
                    &b.0.task.task_name,
                    b.1,
                ))
            });
            if keys.is_empty() {
                rows.push(RowRef::Instance(idx));
            } else {
                rows.extend(keys.into_iter().map(|(_, k)| RowRef::Task(k.clone())));
            }
        }
        self.rows = rows;
        if let Some(k) = selected_key {
            if let Some(pos) = self.rows.iter().position(|r| *r == k) {
                self.selected = pos;
            } else if let RowRef::Task(key) = &k {
                // The task vanished; stay on its instance.
                let inst = key.split('/').next().unwrap_or("");
                if let Some(pos) = self.rows.iter().position(|r| match r {
                    RowRef::Task(k2) => k2.split('/').next() == Some(inst),
                    RowRef::Instance(i) => self.instances[*i].name == inst,
                }) {
                    self.selected = pos;
                }
            }
        }
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
        self.keep_selection_visible();
    }

    pub(super) fn select(&mut self, idx: usize) {
        let idx = idx.min(self.rows.len().saturating_sub(1));
        if idx != self.selected {
            self.selected = idx;
            self.log.scroll = 0;
            self.log.auto = true;
            self.refresh_matches();
            if let Some(s) = &mut self.log.search {
                s.current = None;
            }
        }
        self.keep_selection_visible();
    }

    /// Task rows the table can show at the current size.
    pub(super) fn visible_task_rows(&self) -> usize {
        self.layout().tasks.height.saturating_sub(3).max(1) as usize
    }

    pub(super) fn keep_selection_visible(&mut self) {
        let visible = self.visible_task_rows();
        if self.selected < self.task_offset {
            self.task_offset = self.selected;
        } else if self.selected >= self.task_offset + visible {
            self.task_offset = self.selected + 1 - visible;
        }
        let max_offset = self.rows.len().saturating_sub(visible);
        self.task_offset = self.task_offset.min(max_offset);
    }
}

#[cfg(test)]
mod tests {
    use crate::app::fixtures::{EAST, WEST, app, item, ok};
    use crate::app::{Action, RowRef};

    fn tasks(ids: &[i64]) -> Vec<serde_json::Value> {
        ids.iter()
            .map(|id| item(*id, "precheck", "unstarted", None, ""))
            .collect()
    }

    #[test]
    fn rows_group_tasks_by_instance_in_id_order() {
        let mut a = app();
        ok(&mut a, WEST, 0, &tasks(&[9, 7]));
        ok(&mut a, EAST, 0, &tasks(&[3]));
        let ids: Vec<Option<i64>> = a
            .rows
            .iter()
            .map(|r| match r {
                RowRef::Task(k) => a.tasks[k].task.task_id,
                RowRef::Instance(_) => None,
            })
            .collect();
        assert_eq!(ids, vec![Some(3), Some(7), Some(9)]);
    }

    #[test]
    fn the_selection_follows_its_task_and_stays_on_its_instance() {
        let mut a = app();
        ok(&mut a, EAST, 0, &tasks(&[1, 2, 3]));
        // The last row is west's (no tasks yet); the one above it is task 3.
        a.update(Action::Last);
        assert_eq!(a.rows[a.selected], RowRef::Instance(1));
        a.update(Action::Up);
        assert_eq!(a.selected_task().unwrap().task.task_id, Some(3));
        // A task sorted in before it: the selection moves with the task.
        ok(&mut a, EAST, 5, &tasks(&[0, 1, 2, 3]));
        assert_eq!(a.selected_task().unwrap().task.task_id, Some(3));
        // The task vanishes: stay on a task of the same instance.
        ok(&mut a, EAST, 10, &tasks(&[0, 1]));
        assert_eq!(a.selected_instance().unwrap().name, EAST);
    }

    #[test]
    fn the_selection_is_kept_in_view() {
        let mut a = app();
        let many: Vec<i64> = (1..=30).collect();
        ok(&mut a, EAST, 0, &tasks(&many));
        a.update(Action::Resize(80, 24));
        a.update(Action::Last);
        let visible = a.visible_task_rows();
        assert!(a.selected >= a.task_offset && a.selected < a.task_offset + visible);
        a.update(Action::First);
        assert_eq!(a.task_offset, 0);
    }
}
