//! RFC 3986 percent-encoding, as Alibaba Cloud's signatures quote names and values (and as
//! redaction must find a secret quoted in a string to sign).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// RFC 3986 unreserved characters stay; everything else is `%XX` with uppercase hex.
pub const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes `s` as UTF-8 per RFC 3986 (space is `%20`, `*` is `%2A`, `~` stays).
pub fn percent_encode(s: &str) -> String {
    utf8_percent_encode(s, RFC3986).to_string()
}
