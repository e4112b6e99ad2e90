//! Server text made safe for a terminal, and cut to a width.
//!
//! Everything a server sends (task fields, error codes, messages, request ids, the precheck
//! log) passes through [`printable`] before it reaches the terminal: the status table,
//! stderr, the dashboard and logs. A hostile server could otherwise clear the screen
//! (`ESC[2J`), leave the alternate screen (`ESC[?1049l`), ring the bell or write the clipboard
//! (OSC 52). JSON output keeps the text as sent, escaped: serde escapes C0, and
//! [`escape_json_controls`] DEL and C1.

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

fn is_unsafe(c: char) -> bool {
    c.is_control()
}

fn clean(s: &str, keep_lf: bool) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
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

/// JSON text with DEL and the C1 controls written as `\u` escapes: serde escapes only C0,
/// and a terminal may act on an 8-bit CSI (U+009B). Valid only on JSON text, where these
/// characters can only stand inside strings; the document means the same afterwards.
pub fn escape_json_controls(json: &str) -> Cow<'_, str> {
    if !json.chars().any(|c| ('\u{7f}'..='\u{9f}').contains(&c)) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if ('\u{7f}'..='\u{9f}').contains(&c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
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
    fn truncates_by_columns_with_an_ellipsis() {
        assert_eq!(truncate("abcdef", 6), "abcdef");
        assert_eq!(truncate("abcdefg", 6), "abcde…");
        assert_eq!(truncate("中文中文", 5), "中文…");
        assert_eq!(truncate("abc", 0), "");
        let long = "x".repeat(70_000);
        assert_eq!(width(&truncate(&long, 60)), 60);
    }
}
