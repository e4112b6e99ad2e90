//! When the simulated source wrote which position, to date what the standby replayed.

use std::collections::VecDeque;

/// Source write samples kept to map a replayed LSN back to its commit time.
const HISTORY_CAP: usize = 4096;

/// When the source wrote which position: `(position, simulated time)` samples, oldest first.
#[derive(Debug, Clone, Default)]
pub struct WriteHistory(VecDeque<(f64, f64)>);

impl WriteHistory {
    /// Records that the source had written up to `pos` at `t` (positions only grow).
    pub fn push(&mut self, pos: f64, t: f64) {
        if let Some(last) = self.0.back()
            && pos <= last.0
        {
            return;
        }
        if self.0.len() >= HISTORY_CAP {
            self.0.pop_front();
        }
        self.0.push_back((pos, t));
    }

    /// When the source wrote position `pos` (its commit time, for ReplayTimestamp).
    pub fn written_at(&self, pos: f64) -> Option<f64> {
        let first = self.0.front()?;
        if pos <= first.0 {
            return Some(first.1);
        }
        let i = self.0.partition_point(|(p, _)| *p < pos);
        match (self.0.get(i.wrapping_sub(1)), self.0.get(i)) {
            (Some(a), Some(b)) if b.0 > a.0 => {
                Some(a.1 + (b.1 - a.1) * ((pos - a.0) / (b.0 - a.0)).clamp(0.0, 1.0))
            }
            (_, Some(b)) => Some(b.1),
            (Some(a), None) => Some(a.1),
            (None, None) => None,
        }
    }

    /// The time of the latest sample.
    pub fn last_time(&self) -> Option<f64> {
        self.0.back().map(|(_, t)| *t)
    }
}
