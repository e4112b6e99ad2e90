//! Reading a response body within bounds: its size after decompression, its nesting depth,
//! its encoding. A hostile or broken server gets a clear `BadResponse`, never migtop's memory.

use serde_json::Value;

/// The most migtop reads of one response body, after decompression. A full page of 100 tasks
/// with long precheck logs is well under 1 MiB.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// The deepest XML element nesting read (a real response is 4 deep).
pub const MAX_XML_DEPTH: usize = 64;

/// A body as read: its bytes, and whether invalid UTF-8 had to be replaced.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub value: Value,
    /// Set when the body held bytes that are not UTF-8 (replaced by U+FFFD).
    pub lossy: bool,
    /// The body's size in bytes (after decompression).
    pub size: usize,
}

/// Why a body was not read to its end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// More than `cap` bytes after decompression.
    #[error(
        "the response body is larger than migtop's limit of {} MiB (after decompression); a real page is far smaller",
        .cap / (1024 * 1024)
    )]
    TooLarge { cap: usize },
    /// The client's deadline passed mid-body (a body that trickles or never ends): the same
    /// deadline as in the headers, so the same error.
    #[error("timed out reading the response body")]
    Timeout,
    /// The transport failed mid-body.
    #[error("{0}")]
    Transport(String),
}

/// Reads `resp`'s body chunk by chunk (decompressed as it arrives), stopping at `cap` bytes.
pub async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>, ReadError> {
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(ReadError::TooLarge { cap });
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| {
        if e.is_timeout() {
            ReadError::Timeout
        } else {
            ReadError::Transport(super::error::chain(&e.without_url()))
        }
    })? {
        if out.len() + chunk.len() > cap {
            return Err(ReadError::TooLarge { cap });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Reads a response body: JSON as asked for, or the service's XML form (some proxies and
/// older gateways ignore `Format`). Invalid UTF-8 and lone surrogate escapes are replaced by
/// U+FFFD so that one bad task does not hide the others. Anything else is an error naming
/// what it was.
pub fn parse(bytes: &[u8]) -> Result<Decoded, String> {
    let size = bytes.len();
    let (text, lossy) = match std::str::from_utf8(bytes) {
        Ok(t) => (std::borrow::Cow::Borrowed(t), false),
        Err(_) => (String::from_utf8_lossy(bytes), true),
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(value) => Ok(Decoded { value, lossy, size }),
        Err(json_err) => {
            // serde_json reports a lone surrogate in several ways ("lone leading surrogate",
            // "unexpected end of hex escape", ...): retry once with them replaced.
            if text.contains("\\u") {
                let fixed = replace_lone_surrogates(&text);
                if let Ok(value) = serde_json::from_str::<Value>(&fixed) {
                    return Ok(Decoded {
                        value,
                        lossy: true,
                        size,
                    });
                }
            }
            let looks_like_api_xml =
                text.trim_start().starts_with('<') && text.contains("<RequestId>");
            if looks_like_api_xml {
                crate::model::xml::to_json(&text).map(|value| Decoded { value, lossy, size })
            } else {
                Err(format!("not JSON ({json_err})"))
            }
        }
    }
}

/// Rewrites `\uD800`..`\uDFFF` escapes that are not a proper surrogate pair as `\uFFFD`
/// (serde_json refuses them; they stand for text that was never valid UTF-16).
fn replace_lone_surrogates(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut last = 0;
    let mut in_string = false;
    let hex4 = |at: usize| -> Option<u16> {
        let h = s.get(at..at + 4)?;
        u16::from_str_radix(h, 16).ok()
    };
    while i < b.len() {
        match b[i] {
            b'"' => {
                in_string = !in_string;
                i += 1;
            }
            b'\\' if in_string => {
                if b.get(i + 1) == Some(&b'u')
                    && let Some(u) = hex4(i + 2)
                {
                    if (0xD800..0xDC00).contains(&u) {
                        let pair = b.get(i + 6) == Some(&b'\\')
                            && b.get(i + 7) == Some(&b'u')
                            && hex4(i + 8).is_some_and(|l| (0xDC00..0xE000).contains(&l));
                        if pair {
                            i += 12;
                        } else {
                            out.push_str(&s[last..i]);
                            out.push_str("\\uFFFD");
                            i += 6;
                            last = i;
                        }
                    } else if (0xDC00..0xE000).contains(&u) {
                        out.push_str(&s[last..i]);
                        out.push_str("\\uFFFD");
                        i += 6;
                        last = i;
                    } else {
                        i += 6;
                    }
                } else {
                    i += 2;
                }
            }
            _ => i += 1,
        }
    }
    out.push_str(&s[last.min(s.len())..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_nesting_is_bounded_by_serde_json() {
        // serde_json stops at 128 levels: a deep body is an error, not a stack overflow.
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        let e = parse(deep.as_bytes()).unwrap_err();
        assert!(e.contains("recursion limit"), "{e}");
        let deep = "{\"a\":".repeat(100_000) + "1" + &"}".repeat(100_000);
        assert!(parse(deep.as_bytes()).is_err());
        let ok = "[".repeat(100) + &"]".repeat(100);
        assert!(parse(ok.as_bytes()).is_ok());
    }

    #[test]
    fn xml_nesting_is_bounded() {
        let deep = format!(
            "<R><RequestId>x</RequestId>{}{}</R>",
            "<a>".repeat(100_000),
            "</a>".repeat(100_000)
        );
        let e = parse(deep.as_bytes()).unwrap_err();
        assert!(e.contains("nested deeper than 64"), "{e}");
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        let mut body =
            br#"{"Items":[{"TaskId":1,"TaskName":"ok"},{"TaskId":2,"TaskName":"bad "#.to_vec();
        body.extend_from_slice(&[0xff, 0xfe]);
        body.extend_from_slice(br#""}]}"#);
        let d = parse(&body).unwrap();
        assert!(d.lossy);
        assert_eq!(d.value["Items"][1]["TaskName"], "bad \u{fffd}\u{fffd}");
        assert_eq!(d.value["Items"][0]["TaskName"], "ok");
    }

    #[test]
    fn lone_surrogates_are_replaced() {
        let body = r#"{"Items":[{"TaskName":"a\ud800b"},{"TaskName":"\udc00"},{"TaskName":"\ud83d\ude00 \\ud800"}]}"#;
        let d = parse(body.as_bytes()).unwrap();
        assert!(d.lossy);
        assert_eq!(d.value["Items"][0]["TaskName"], "a\u{fffd}b");
        assert_eq!(d.value["Items"][1]["TaskName"], "\u{fffd}");
        assert_eq!(d.value["Items"][2]["TaskName"], "\u{1f600} \\ud800");
    }

    #[test]
    fn clean_bodies_are_not_lossy() {
        let d = parse(br#"{"a":"\u00e9"}"#).unwrap();
        assert!(!d.lossy);
        assert!(parse(b"<html>").unwrap_err().starts_with("not JSON"));
    }
}
