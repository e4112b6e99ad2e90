//! What `migtop lab` does to the replication over time, besides the write load: a replay
//! pause (the not-replayed part grows while WAL still arrives), a link cut (the standby disconnects,
//! the reported lag freezes while the source keeps writing; only the true lag shows it) and
//! a link freeze (the walsender stops sending but the connection stays up: the standby
//! still says `streaming` with lag 0; only the source probe sees the writes).
//!
//! Offsets count from the moment the load starts and are scaled with `--speed` like the
//! load plan, so faults land in the same phase of the plan at any speed.

use std::sync::Arc;
use std::time::Duration;

use super::Lab;

/// One thing the lab does to the replication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabEvent {
    /// `pg_wal_replay_pause()` on the standby.
    PauseReplay,
    /// `pg_wal_replay_resume()`.
    ResumeReplay,
    /// The link refuses the standby's connection.
    CutLink,
    /// The link lets the standby reconnect.
    RestoreLink,
    /// Nothing goes from the primary to the standby; both connections stay open.
    FreezeLink,
    /// The frozen link flows again.
    ThawLink,
}

impl LabEvent {
    /// What the event does, for logs.
    pub fn describe(self) -> &'static str {
        match self {
            LabEvent::PauseReplay => "replay paused on the standby",
            LabEvent::ResumeReplay => "replay resumed on the standby",
            LabEvent::CutLink => "replication link cut",
            LabEvent::RestoreLink => "replication link restored",
            LabEvent::FreezeLink => "replication link frozen",
            LabEvent::ThawLink => "replication link thawed",
        }
    }

    /// Carries the event out on `lab`.
    pub async fn apply(self, lab: &Lab) -> anyhow::Result<()> {
        match self {
            LabEvent::PauseReplay => lab.pause_replay().await,
            LabEvent::ResumeReplay => lab.resume_replay().await,
            LabEvent::CutLink => {
                lab.cut_link();
                Ok(())
            }
            LabEvent::RestoreLink | LabEvent::ThawLink => {
                lab.restore_link();
                Ok(())
            }
            LabEvent::FreezeLink => {
                lab.freeze_link();
                Ok(())
            }
        }
    }
}

/// Events at offsets from the start of the load.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub events: Vec<(Duration, LabEvent)>,
}

impl Schedule {
    /// The default schedule, timed against the lab's default load plan
    /// (`LoadPlan::demo().scaled(2.0)`: warm-up 0–5 s, burst 5–12.5 s, quiet 12.5–20 s,
    /// burst 20–30 s, steady 30–45 s, trickle 45–55 s, then no writes): replay paused from
    /// 22 s to 28 s (during the second burst), the link cut from 36 s to 44 s (during the
    /// steady phase), the link frozen from 47 s to 55 s (during the trickle, shorter than the
    /// lab's 30 s `wal_receiver_timeout`, so the standby says `streaming` throughout).
    pub fn demo() -> Schedule {
        let s = Duration::from_secs;
        Schedule {
            events: vec![
                (s(22), LabEvent::PauseReplay),
                (s(28), LabEvent::ResumeReplay),
                (s(36), LabEvent::CutLink),
                (s(44), LabEvent::RestoreLink),
                (s(47), LabEvent::FreezeLink),
                (s(55), LabEvent::ThawLink),
            ],
        }
    }

    /// No events.
    pub fn none() -> Schedule {
        Schedule { events: Vec::new() }
    }

    /// The same schedule `speed` times faster.
    pub fn scaled(mut self, speed: f64) -> Schedule {
        if speed.is_finite() && speed > 0.0 {
            for (at, _) in &mut self.events {
                *at = at.div_f64(speed);
            }
        }
        self
    }

    /// `replay paused 22–28 s, link cut 36–44 s, link frozen 47–55 s` (pairs of events as
    /// spans).
    pub fn describe(&self) -> String {
        let secs = |d: Duration| {
            let s = d.as_secs_f64();
            if (s - s.round()).abs() < 0.05 {
                format!("{}", s.round() as u64)
            } else {
                format!("{s:.1}")
            }
        };
        let mut parts = Vec::new();
        let mut open: Vec<(LabEvent, Duration)> = Vec::new();
        for (at, ev) in &self.events {
            let closes = match ev {
                LabEvent::ResumeReplay => Some(LabEvent::PauseReplay),
                LabEvent::RestoreLink => Some(LabEvent::CutLink),
                LabEvent::ThawLink => Some(LabEvent::FreezeLink),
                _ => None,
            };
            match closes.and_then(|c| open.iter().position(|(e, _)| *e == c)) {
                Some(i) => {
                    let (e, from) = open.remove(i);
                    let what = match e {
                        LabEvent::PauseReplay => "replay paused",
                        LabEvent::FreezeLink => "link frozen",
                        _ => "link cut",
                    };
                    parts.push(format!("{what} {}–{} s", secs(from), secs(*at)));
                }
                None => match ev {
                    LabEvent::PauseReplay | LabEvent::CutLink | LabEvent::FreezeLink => {
                        open.push((*ev, *at))
                    }
                    other => parts.push(format!("{} at {} s", other.describe(), secs(*at))),
                },
            }
        }
        for (e, from) in open {
            parts.push(format!("{} from {} s", e.describe(), secs(from)));
        }
        if parts.is_empty() {
            "no replay pause, link cut or freeze".to_string()
        } else {
            parts.join(", ")
        }
    }

    /// Runs the events on `lab`, each at its offset from now. A failed event is logged and
    /// the schedule goes on (e.g. pausing replay on a standby already promoted).
    pub async fn run(self, lab: Arc<Lab>) {
        let start = tokio::time::Instant::now();
        for (at, ev) in self.events {
            tokio::time::sleep_until(start + at).await;
            match ev.apply(&lab).await {
                Ok(()) => tracing::info!("lab: {}", ev.describe()),
                Err(e) => tracing::warn!("lab: {} failed: {e:#}", ev.describe()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_schedule_scales_and_reads_well() {
        let d = Schedule::demo();
        assert_eq!(
            d.describe(),
            "replay paused 22–28 s, link cut 36–44 s, link frozen 47–55 s"
        );
        let fast = d.clone().scaled(4.0);
        assert_eq!(fast.events[0].0, Duration::from_millis(5500));
        assert_eq!(
            fast.describe(),
            "replay paused 5.5–7 s, link cut 9–11 s, link frozen 11.8–13.8 s"
        );
        assert_eq!(
            Schedule::none().describe(),
            "no replay pause, link cut or freeze"
        );
        let open = Schedule {
            events: vec![(Duration::from_secs(3), LabEvent::CutLink)],
        };
        assert_eq!(open.describe(), "replication link cut from 3 s");
    }
}
