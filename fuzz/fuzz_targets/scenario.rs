//! Simulator scenario files: whatever loads also validates without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use migtop::sim::Scenario;

fuzz_target!(|text: &str| {
    if let Ok(s) = Scenario::from_json(text, "fuzz") {
        let _ = s.validate();
        let _ = s.instance_ids();
    }
});
