//! Server text made safe for a terminal, and cut to a width.
//!
//! Everything a server sends (task fields, error codes, messages, request ids, the precheck
//! log) passes through [`printable`] before it reaches the terminal: the status table,
//! stderr, the dashboard and logs. A hostile server could otherwise clear the screen
//! (`ESC[2J`), leave the alternate screen (`ESC[?1049l`), ring the bell or write the clipboard
//! (OSC 52). JSON output keeps the text as sent, escaped: serde escapes C0, and
//! [`escape_json_controls`] DEL, C1 and the invisible characters.
//!
//! Text can also lie about its own shape without a single control character: a bidi override
//! (`invoice\u{202e}gpj.exe` shows as `invoiceexe.jpg`) or a zero-width character
//! (`pgm-\u{200b}x` shows as `pgm-x`). Those are not dropped, which would hide that they were
//! there, but shown as a visible marker, `<U+202E>` ([`marker`]), so what is on the
//! screen is what the server sent. Non-ASCII letters in an identifier (a Cyrillic `а` in an
//! instance id) are legal text, so they stay, and [`id_hint`] says what they are.

use std::borrow::Cow;

use unicode_width::UnicodeWidthChar;

const ESC: char = '\x1b';
const BEL: char = '\x07';

/// `s` without control characters: C0 (tab, CR and LF become a space), DEL and C1, and
/// without escape sequences (CSI, OSC, DCS, SOS, PM, APC strings and two-character escapes),
/// payload included. Borrows when there is nothing to remove.
pub fn printable(s: &str) -> Cow<'_, str> {
    clean(s, false)
}

/// Like [`printable`], but keeps line feeds (a multi-line text such as the precheck log);
/// CR LF becomes LF and a lone CR a line feed.
pub fn printable_lines(s: &str) -> Cow<'_, str> {
    clean(s, true)
}

/// Characters a terminal does not show or that reorder what it shows: the bidirectional
/// controls (U+061C, U+200E–U+200F, U+202A–U+202E, U+2066–U+2069), Unicode's
/// Default_Ignorable_Code_Point set (zero-width spaces and joiners, the BOM, soft hyphen,
/// fillers, variation selectors, tags...), and the line and paragraph separators (U+2028,
/// U+2029), which some terminals break lines on.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}'..='\u{1160}' | '\u{17B4}'..='\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFFB}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

/// The visible marker for an invisible character `c`: `<U+200B>`.
pub fn marker(c: char) -> String {
    format!("<U+{:04X}>", c as u32)
}

fn is_unsafe(c: char) -> bool {
    c.is_control() || is_invisible(c)
}

/// Whether `s` holds anything [`clean`] changes. ASCII text, nearly all of it, is checked
/// byte by byte (a 50 MB `Detail` passes here on every poll that changes it).
fn needs_cleaning(s: &str) -> bool {
    if s.is_ascii() {
        return s.bytes().any(|b| b < 0x20 || b == 0x7f);
    }
    s.chars().any(is_unsafe)
}

fn clean(s: &str, keep_lf: bool) -> Cow<'_, str> {
    if !needs_cleaning(s) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ESC => skip_escape(&mut chars),
            // C1 introducers of strings (DCS, SOS, OSC, PM, APC) and CSI, as 8-bit codes.
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            '\u{9b}' => skip_csi(&mut chars),
            '\n' if keep_lf => out.push('\n'),
            '\r' if keep_lf => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            '\t' | '\n' | '\r' => out.push(' '),
            c if is_invisible(c) => out.push_str(&marker(c)),
            c if is_unsafe(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Skips what follows an ESC: a CSI, a string (OSC, DCS, SOS, PM, APC) up to its terminator,
/// or the one character of a two-character escape.
fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('[') => skip_csi(chars),
        Some(']' | 'P' | 'X' | '^' | '_') => skip_string(chars),
        // nF escapes (ESC SP F, ESC ( B...): intermediates then one final character.
        Some('\x20'..='\x2f') => {
            for c in chars.by_ref() {
                if !('\x20'..='\x2f').contains(&c) {
                    break;
                }
            }
        }
        _ => {}
    }
}

/// Parameters and intermediates up to the final byte (0x40–0x7e); stops early at anything
/// that cannot be part of a CSI, which is then dropped too.
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if !('\x20'..='\x3f').contains(&c) {
            break;
        }
    }
}

/// A control string up to BEL, ST (ESC \) or the 8-bit ST; to the end if unterminated, as a
/// terminal would swallow it.
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            BEL | '\u{9c}' => return,
            ESC => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                return;
            }
            _ => {}
        }
    }
}

/// JSON text with DEL, the C1 controls and the invisible characters ([`is_invisible`])
/// written as `\u` escapes: serde escapes only C0, a terminal may act on an 8-bit CSI
/// (U+009B), and a bidi override would reorder the document on the screen it is printed to.
/// Valid only on JSON text, where these characters can only stand inside strings; the
/// document means the same afterwards.
pub fn escape_json_controls(json: &str) -> Cow<'_, str> {
    let escaped = |c: char| ('\u{7f}'..='\u{9f}').contains(&c) || is_invisible(c);
    if !json.chars().any(escaped) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if escaped(c) {
            // Beyond the BMP: a surrogate pair, as JSON writes it.
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{:04x}", u));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// What an identifier (an instance id, a task name) holds that a reader would not see or
/// could mistake: its invisible characters and its non-ASCII letters (a Cyrillic `а`, a Greek
/// `ο`, a fullwidth `ｘ` look like ASCII ones; RDS ids are ASCII). `None` for a plain one.
pub fn id_hint(id: &str) -> Option<String> {
    let invisible: Vec<String> = id
        .chars()
        .filter(|c| is_invisible(*c))
        .map(marker)
        .collect();
    let foreign: Vec<String> = id
        .chars()
        .filter(|c| !c.is_ascii() && !c.is_control() && !is_invisible(*c))
        .map(|c| format!("{c} (U+{:04X})", c as u32))
        .collect();
    let mut parts = Vec::new();
    if !invisible.is_empty() {
        parts.push(format!(
            "invisible characters, shown as {}",
            dedup(invisible).join(" ")
        ));
    }
    if !foreign.is_empty() {
        parts.push(format!(
            "non-ASCII characters that may look like ASCII ones: {}",
            dedup(foreign).join(", ")
        ));
    }
    (!parts.is_empty()).then(|| format!("{} holds {}", printable(id), parts.join("; and ")))
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    v.retain(|s| seen.insert(s.clone()));
    v
}

/// `s` cut to at most `max` terminal columns, ending in `…` when cut.
pub fn truncate(s: &str, max: usize) -> Cow<'_, str> {
    let mut width = 0;
    for (i, c) in s.char_indices() {
        width += c.width().unwrap_or(0);
        if width > max {
            // Room for the ellipsis: back off until the kept part fits in max - 1.
            let mut kept = String::new();
            let mut w = 0;
            for c in s[..i].chars() {
                let cw = c.width().unwrap_or(0);
                if w + cw + 1 > max {
                    break;
                }
                w += cw;
                kept.push(c);
            }
            if max > 0 {
                kept.push('…');
            }
            return Cow::Owned(kept);
        }
    }
    Cow::Borrowed(s)
}

/// Terminal columns `s` takes.
pub fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The escapes of issue 10 and a few more, each with its payload.
    const HOSTILE: &[&str] = &[
        "\x1b]52;c;aGVsbG8=\x07",
        "\x1b]52;c;aGVsbG8=\x1b\\",
        "\x1b[2J",
        "\x1b[?1049l",
        "\x07",
        "\x1b[31;1m",
        "\x1bP+q544e\x1b\\",
        "\x1b(0",
        "\x1bc",
        "\u{9b}2J",
        "\u{9d}52;c;aGVsbG8=\u{9c}",
        "\x7f",
        "\x00\x01\x08\x0b\x0c\x0e\x1f",
    ];

    #[test]
    fn strips_every_escape_and_its_payload() {
        for h in HOSTILE {
            let s = format!("before{h}after");
            let p = printable(&s);
            assert_eq!(p, "beforeafter", "{h:?}");
            assert!(!p.chars().any(char::is_control));
        }
    }

    #[test]
    fn whitespace_becomes_spaces_or_lines() {
        assert_eq!(printable("a\tb\r\nc"), "a b  c");
        assert_eq!(printable_lines("a\tb\r\nc\rd\n\x1b[2Je"), "a b\nc\nd\ne");
        assert!(matches!(printable("plain ✓ 中文"), Cow::Borrowed(_)));
    }

    #[test]
    fn unterminated_strings_swallow_the_rest() {
        assert_eq!(printable("ok\x1b]52;c;aGVsbG8="), "ok");
        assert_eq!(printable("ok\x1b"), "ok");
        assert_eq!(printable("ok\x1b["), "ok");
    }

    #[test]
    fn json_keeps_its_meaning_without_raw_c1() {
        let v = serde_json::json!({"a": "x\u{9b}2J\u{7f}\u{1b}y", "b": "ok ✓"});
        let text = serde_json::to_string(&v).unwrap();
        let escaped = escape_json_controls(&text);
        assert!(!escaped.chars().any(char::is_control), "{escaped}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&escaped).unwrap(),
            v
        );
    }

    #[test]
    fn invisible_and_bidi_characters_are_shown_as_markers() {
        assert_eq!(printable("pgm-\u{200b}x"), "pgm-<U+200B>x");
        assert_eq!(
            printable("invoice\u{202e}gpj.exe"),
            "invoice<U+202E>gpj.exe"
        );
        assert_eq!(
            printable("\u{feff}a\u{200d}b\u{2066}c\u{2069}"),
            "<U+FEFF>a<U+200D>b<U+2066>c<U+2069>"
        );
        assert_eq!(printable_lines("a\u{2028}b\nc"), "a<U+2028>b\nc");
        assert_eq!(printable("x\u{e0041}"), "x<U+E0041>");
        // Visible non-ASCII text is left alone.
        assert!(matches!(printable("plain ✓ 中文 ок"), Cow::Borrowed(_)));
    }

    #[test]
    fn json_escapes_invisible_characters_and_keeps_the_meaning() {
        let v = serde_json::json!({"a": "invoice\u{202e}gpj.exe \u{200b} \u{e0041}"});
        let text = serde_json::to_string(&v).unwrap();
        let escaped = escape_json_controls(&text);
        assert!(!escaped.chars().any(is_invisible), "{escaped}");
        assert!(
            escaped.contains("\\u202e") && escaped.contains("\\udb40\\udc41"),
            "{escaped}"
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&escaped).unwrap(),
            v
        );
    }

    #[test]
    fn id_hints_name_invisible_and_look_alike_characters() {
        assert_eq!(id_hint("pgm-bp1x"), None);
        let h = id_hint("pgm-\u{200b}x").unwrap();
        assert!(
            h.contains("pgm-<U+200B>x holds invisible characters, shown as <U+200B>"),
            "{h}"
        );
        let h = id_hint("pgm-\u{430}x").unwrap();
        assert!(h.contains("non-ASCII") && h.contains("U+0430"), "{h}");
    }

    proptest::proptest! {
        /// Whatever a server sends, what reaches a terminal has no control character, no
        /// invisible one, and every character of it was sent or is part of a marker.
        #[test]
        fn printable_text_shows_its_whole_shape(s in "\\PC*|[\\x00-\\x{2070}\\x{fe00}-\\x{feff}\\x{e0000}-\\x{e0080}]*") {
            for p in [printable(&s), printable_lines(&s)] {
                proptest::prop_assert!(!p.chars().any(|c| (c.is_control() && c != '\n') || is_invisible(c)), "{:?}", p);
            }
            if !s.chars().any(char::is_control) {
                // Nothing swallowed by an escape: one marker per invisible character.
                let invisible = s.chars().filter(|c| is_invisible(*c)).count();
                proptest::prop_assert_eq!(printable(&s).matches("<U+").count(), invisible + s.matches("<U+").count());
            }
            let json = serde_json::to_string(&s).unwrap();
            let escaped = escape_json_controls(&json);
            proptest::prop_assert!(!escaped.chars().any(|c| c.is_control() || is_invisible(c)));
            proptest::prop_assert_eq!(serde_json::from_str::<String>(&escaped).unwrap(), s);
        }
    }

    #[test]
    fn truncates_by_columns_with_an_ellipsis() {
        assert_eq!(truncate("abcdef", 6), "abcdef");
        assert_eq!(truncate("abcdefg", 6), "abcde…");
        assert_eq!(truncate("中文中文", 5), "中文…");
        assert_eq!(truncate("abc", 0), "");
        let long = "x".repeat(70_000);
        assert_eq!(width(&truncate(&long, 60)), 60);
    }
}
