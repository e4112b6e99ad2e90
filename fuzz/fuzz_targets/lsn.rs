//! `X/Y` LSNs: whatever parses prints back to something that parses to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use migtop::model::Lsn;

fuzz_target!(|text: &str| {
    if let Ok(l) = text.parse::<Lsn>() {
        let again: Lsn = l.to_string().parse().expect("an LSN's own text parses");
        assert_eq!(l, again);
        let _ = l.bytes_since(Lsn::default());
    }
});
