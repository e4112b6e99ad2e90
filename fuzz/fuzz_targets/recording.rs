//! A recording's text (JSON lines, possibly torn, reordered or from a newer version): read
//! whatever lines can be, in time order, with a warning for each that cannot.
#![no_main]

use libfuzzer_sys::fuzz_target;
use migtop::recording::Recording;

fuzz_target!(|text: &str| {
    let rec = Recording::parse(text);
    assert!(rec.entries.windows(2).all(|w| w[0].at() <= w[1].at()));
    let _ = rec.instances();
    let _ = rec.probe_target();
});
