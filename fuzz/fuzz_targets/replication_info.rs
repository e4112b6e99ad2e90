//! The `ReplicationInfo` string (JSON, or JSON with backslash-escaped quotes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use migtop::model::ReplicationInfo;

fuzz_target!(|text: &str| {
    if let Ok(Some(r)) = ReplicationInfo::parse(text) {
        let _ = r.lag_bytes();
        let _ = r.not_received_bytes();
        let _ = r.not_replayed_bytes();
        if r.replay_lsn.is_none() {
            assert_eq!(r.lag_bytes(), None, "a lag without a ReplayLsn");
        }
    }
});
