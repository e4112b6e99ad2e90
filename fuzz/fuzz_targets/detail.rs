//! The precheck log (`Detail`): every line lands in exactly one severity count.
#![no_main]

use libfuzzer_sys::fuzz_target;
use migtop::model::Precheck;

fuzz_target!(|text: &str| {
    let p = Precheck::parse(text);
    let c = p.counts;
    assert!(c.success + c.warning + c.fail + c.other <= p.lines.len());
});
