//! The precheck log (`Detail`): every line lands in exactly one severity count, and base
//! backup progress read from it is always a possible figure.
#![no_main]

use libfuzzer_sys::fuzz_target;
use migtop::model::Precheck;

fuzz_target!(|text: &str| {
    let p = Precheck::parse(text);
    let c = p.counts;
    assert!(c.success + c.warning + c.fail + c.other <= p.lines.len());
    for r in p.backup_readings(3) {
        let b = r.progress;
        assert!((0.0..=100.0).contains(&b.percent));
        if let Some((done, total)) = b.sizes {
            assert!(done <= total && total > 0);
            assert_eq!(b.remaining_bytes(), Some(total - done));
        }
    }
});
