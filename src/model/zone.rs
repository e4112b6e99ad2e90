//! The zone of `Detail`'s timestamps. They carry no offset (`2022-02-25 17:00:29`), unlike
//! ReplicationInfo's (`2022-03-01 14:42:57.967537+08`), so it is taken from those when the
//! task has any, else assumed.

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};

use super::task::Task;

/// Seconds east of UTC assumed for `Detail`'s timestamps when the task says nothing of its
/// zone: every sample seen writes them in UTC+08 (the API reference's sample, whose
/// ReplicationInfo says `+08` beside a `Detail` written minutes before it).
pub const ASSUMED_DETAIL_OFFSET_SECS: i32 = 8 * 3600;

/// The zone a task's `Detail` timestamps are read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DetailZone {
    pub offset: FixedOffset,
    /// Nothing in the task said so: [`ASSUMED_DETAIL_OFFSET_SECS`].
    pub assumed: bool,
}

impl DetailZone {
    /// The assumed zone, [`ASSUMED_DETAIL_OFFSET_SECS`].
    pub fn assumed() -> DetailZone {
        DetailZone {
            offset: FixedOffset::east_opt(ASSUMED_DETAIL_OFFSET_SECS).expect("within a day"),
            assumed: true,
        }
    }

    /// The zone of `task`'s `Detail`: the offset of its ReplicationInfo's timestamps (the
    /// same instance writes both), else the assumed one.
    pub fn of(task: &Task) -> DetailZone {
        let offset = task.replication.as_ref().and_then(|r| {
            [
                r.last_msg_receipt_time,
                r.last_msg_send_time,
                r.latest_end_time,
                r.replay_timestamp,
            ]
            .into_iter()
            .flatten()
            .next()
            .map(|t| *t.offset())
        });
        match offset {
            Some(offset) => DetailZone {
                offset,
                assumed: false,
            },
            None => DetailZone::assumed(),
        }
    }

    /// `t`, written in this zone, as an instant.
    pub fn instant(&self, t: NaiveDateTime) -> Option<DateTime<Utc>> {
        self.offset
            .from_local_datetime(&t)
            .single()
            .map(|t| t.with_timezone(&Utc))
    }

    /// The offset as people write it: `+08`, `-03:30`, `+00`.
    pub fn label(&self) -> String {
        let secs = self.offset.local_minus_utc();
        let sign = if secs < 0 { '-' } else { '+' };
        let (h, m) = (secs.unsigned_abs() / 3600, secs.unsigned_abs() % 3600 / 60);
        if m == 0 {
            format!("{sign}{h:02}")
        } else {
            format!("{sign}{h:02}:{m:02}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Page;

    #[test]
    fn the_sample_says_plus_eight() {
        let body: serde_json::Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/doc-sample-response.json"
        ))
        .unwrap();
        let p = Page::from_json("pgm-1", &body).unwrap();
        let z = DetailZone::of(&p.tasks[0]);
        assert_eq!(z, DetailZone::assumed().with_assumed(false));
        assert_eq!(z.label(), "+08");
    }

    #[test]
    fn without_replication_info_the_zone_is_assumed() {
        let z = DetailZone::of(&Task::default());
        assert!(z.assumed);
        assert_eq!(z.offset.local_minus_utc(), ASSUMED_DETAIL_OFFSET_SECS);
        let t = NaiveDateTime::parse_from_str("2022-02-25 17:00:29", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(
            z.instant(t).unwrap().to_rfc3339(),
            "2022-02-25T09:00:29+00:00"
        );
    }

    #[test]
    fn labels() {
        let at = |s| DetailZone {
            offset: FixedOffset::east_opt(s).unwrap(),
            assumed: false,
        };
        assert_eq!(at(0).label(), "+00");
        assert_eq!(at(19800).label(), "+05:30");
        assert_eq!(at(-12600).label(), "-03:30");
        assert_eq!(at(-3600).label(), "-01");
    }

    impl DetailZone {
        fn with_assumed(mut self, assumed: bool) -> DetailZone {
            self.assumed = assumed;
            self
        }
    }
}
