//! The XML form of a response, read into JSON and decoded as a page.
#![no_main]

use libfuzzer_sys::fuzz_target;
use migtop::model::{Page, xml};

fuzz_target!(|text: &str| {
    if let Ok(v) = xml::to_json(text) {
        let _ = Page::from_json("pgm-fuzz", &v);
    }
});
