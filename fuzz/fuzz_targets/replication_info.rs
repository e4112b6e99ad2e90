//! The `ReplicationInfo` string (JSON, or JSON with backslash-escaped quotes): whatever the
//! positions say, a lag is never computed from `0/0` or from a ReplayLsn ahead of everything
//! received, never exceeds the head, and a negative ReplayLag is not kept.
#![no_main]

use libfuzzer_sys::fuzz_target;
use migtop::model::{Lsn, ReplicationInfo};

fuzz_target!(|text: &str| {
    if let Ok(Some(r)) = ReplicationInfo::parse(text) {
        let _ = r.not_received_bytes();
        let _ = r.not_replayed_bytes();
        for l in [r.received_lsn, r.latest_end_lsn, r.replay_lsn, r.receive_start_lsn] {
            assert_ne!(l, Some(Lsn::INVALID), "0/0 is no position");
        }
        if let Some(lag) = r.lag_bytes() {
            let head = r.latest_end_lsn.unwrap().max(r.received_lsn.unwrap());
            let replay = r.replay_lsn.expect("a lag without a ReplayLsn");
            assert!(replay <= head);
            assert_eq!(lag, head.0 - replay.0);
        }
        if r.replay_ahead() {
            assert_eq!(r.lag_bytes(), None);
        }
        if let Some(s) = r.replay_lag_seconds {
            assert!(s.is_finite() && s >= 0.0, "{s}");
        }
    }
});
