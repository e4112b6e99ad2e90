//! A task as the API shows it: stage, replication state and the receiver's figures, the way
//! `pg_stat_wal_receiver` and the RDS API report them.

use super::task::TaskSim;
use crate::model::{ReplicationState, Stage};
use crate::sim::position::lsn;
use crate::sim::scenario::SourceSpec;
use crate::sim::source::{Password, ReplicationView, SourceView, TaskView};

impl TaskSim {
    /// The task as the API shows it at simulated time `now`.
    pub fn view(&self, now: f64) -> TaskView {
        let at = |t: f64| self.calendar.at(t);
        let local = |t: f64| at(t).with_timezone(&self.tz);
        let replication_state = match self.stage {
            Stage::Precheck | Stage::Basebackup | Stage::Unknown(_) => ReplicationState::Unstarted,
            Stage::Startup | Stage::Increment => {
                if !self.connected {
                    ReplicationState::Disconnect
                } else if self.caught_up {
                    ReplicationState::Streaming
                } else {
                    ReplicationState::Catchup
                }
            }
            Stage::Switch | Stage::Success => ReplicationState::Finish,
        };
        let spec = &self.spec;
        let replay_ts = self.history.written_at(self.replay);
        let receiver_running = matches!(
            self.stage,
            Stage::Startup | Stage::Increment | Stage::Switch
        ) && self.connected
            && !self.promoted;
        let replication = match self.stage {
            Stage::Precheck | Stage::Basebackup | Stage::Unknown(_) => None,
            _ => {
                let lag_secs = if self.promoted
                    || (receiver_running && self.replay >= self.received.floor())
                {
                    Some(0.0)
                } else {
                    replay_ts.map(|ts| ((now - ts).max(0.0) * 1000.0).round() / 1000.0)
                };
                let mut r = ReplicationView {
                    replay_lsn: Some(lsn(self.replay)),
                    replay_timestamp: replay_ts.map(local),
                    replay_lag_seconds: lag_secs,
                    synced: self.promoted
                        || (receiver_running && self.caught_up && self.received >= self.latest_end),
                    is_slave: !self.promoted,
                    ..Default::default()
                };
                if receiver_running {
                    // A receipt a fraction of a millisecond after the send, varying per tick.
                    let receipt = self.last_msg + 0.000_2 + (self.tick % 17) as f64 * 0.000_11;
                    r.status = Some("streaming".into());
                    r.receive_start_lsn = Some(lsn(self.receive_start));
                    r.receive_start_tli = Some(spec.timeline);
                    r.received_lsn = Some(lsn(self.received));
                    r.received_tli = Some(spec.timeline);
                    r.latest_end_lsn = Some(lsn(self.latest_end));
                    r.latest_end_time = Some(local(self.latest_end_time));
                    r.last_msg_send_time = Some(local(self.last_msg));
                    r.last_msg_receipt_time = Some(local(receipt));
                    r.conninfo = Some(conninfo(&spec.source));
                }
                Some(r)
            }
        };
        TaskView {
            task_id: spec.id,
            task_name: spec.name.clone(),
            target_instance: self.instance.clone(),
            stage: self.stage.clone(),
            replication_state,
            replication,
            detail: self.detail.lines(),
            source: SourceView {
                category: spec.source.category.clone(),
                ip: spec.source.ip.clone(),
                port: spec.source.port,
                account: spec.source.account.clone(),
                password: Password::new(spec.source.password.clone()),
            },
            created: at(self.created),
            modified: at(self.modified),
            switch_time: self.switch_time.map(at),
        }
    }
}

/// The receiver's conninfo as pg_stat_wal_receiver shows it (password already obfuscated).
pub fn conninfo(s: &SourceSpec) -> String {
    format!(
        "user={} password=******** channel_binding=prefer dbname=replication host={} port={} application_name=rds_db_instance fallback_application_name=walreceiver sslmode=prefer sslcompression=1 sslsni=1 ssl_min_protocol_version=TLSv1.2 gssencmode=prefer krbsrvname=postgres target_session_attrs=any",
        s.account, s.ip, s.port
    )
}
