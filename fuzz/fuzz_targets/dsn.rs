//! Source DSNs: parsed as libpq does, resolved without an environment, and never shown with
//! their password.
#![no_main]

use libfuzzer_sys::fuzz_target;
use migtop::probe::SourceDsn;
use migtop::probe::conninfo;

fuzz_target!(|text: &str| {
    let dsn = SourceDsn::new(text);
    let shown = dsn.redacted().to_string();
    let raw = text.trim();
    if let Ok(c) = conninfo::parse(raw) {
        for p in &c.params {
            // A password that appears nowhere else in the DSN must not appear when shown.
            if p.key == "password"
                && p.value.len() >= 4
                && raw.matches(p.value.as_str()).count() == 1
            {
                let written = &raw[p.span.clone()];
                if raw.matches(written).count() == 1 {
                    assert!(!shown.contains(written), "{shown:?} shows {written:?}");
                }
            }
        }
    }
    if let Err(e) = dsn.resolve_with(&|_| None, None) {
        let _ = e.to_string();
    }
});
