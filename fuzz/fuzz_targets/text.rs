//! Server text on its way to a terminal or a JSON document: no control character, no
//! invisible or bidi character survives `printable` (each becomes a visible marker), the JSON
//! escaping keeps the text's meaning, and `id_hint` names what an id hides.
#![no_main]

use libfuzzer_sys::fuzz_target;
use migtop::util::text::{escape_json_controls, id_hint, is_invisible, printable, printable_lines, truncate, width};

fuzz_target!(|text: &str| {
    let p = printable(text);
    assert!(!p.chars().any(|c| c.is_control() || is_invisible(c)), "{p:?}");
    let l = printable_lines(text);
    assert!(!l.chars().any(|c| (c.is_control() && c != '\n') || is_invisible(c)), "{l:?}");
    let json = serde_json::to_string(text).unwrap();
    let escaped = escape_json_controls(&json);
    assert!(!escaped.chars().any(|c| c.is_control() || is_invisible(c)));
    assert_eq!(serde_json::from_str::<String>(&escaped).unwrap(), text);
    if let Some(h) = id_hint(text) {
        assert!(!h.chars().any(|c| c.is_control() || is_invisible(c)), "{h:?}");
    } else {
        assert!(text.chars().all(|c| c.is_ascii() || c.is_control()));
    }
    assert!(width(&truncate(&p, 40)) <= 40);
});
