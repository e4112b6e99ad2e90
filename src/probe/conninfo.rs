//! libpq's connection-string grammar, read byte for byte as PostgreSQL 15's `fe-connect.c`
//! does (`conninfo_parse`, `conninfo_uri_parse_options`, `conninfo_uri_parse_params`,
//! `conninfo_uri_decode`): both forms, percent-decoding, every keyword.
//!
//! The result is a list of `(keyword, value)` pairs with the place each value came from, so a
//! password can be masked where the parser found it rather than where a string cut guesses
//! it is. Error texts never quote a value (libpq's do, password included).

use std::ops::Range;

/// Every keyword libpq 15 accepts, plus the newer ones migtop knows what to do with.
pub const KEYWORDS: &[&str] = &[
    "service",
    "user",
    "password",
    "passfile",
    "channel_binding",
    "connect_timeout",
    "dbname",
    "host",
    "hostaddr",
    "port",
    "client_encoding",
    "options",
    "application_name",
    "fallback_application_name",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "sslmode",
    "sslcompression",
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslrootcert",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "requirepeer",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "gssencmode",
    "krbsrvname",
    "gsslib",
    "target_session_attrs",
    "replication",
    // PostgreSQL 16 and 17.
    "require_auth",
    "sslcertmode",
    "load_balance_hosts",
    "gssdelegation",
    "sslnegotiation",
];

/// One keyword's value as written, and where (byte range in the input) its text was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub key: &'static str,
    pub value: String,
    /// The bytes of the input the value was read from (quotes and escapes included).
    pub span: Range<usize>,
}

/// A parsed connection string: later values of a keyword win, as in libpq.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conninfo {
    /// Every `keyword=value` read, in order (a keyword may repeat; the last one counts).
    pub params: Vec<Param>,
    /// Written as a `postgres://` or `postgresql://` URI.
    pub uri: bool,
}

impl Conninfo {
    /// The value of `key`, the last one given.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|p| p.key == key)
            .map(|p| p.value.as_str())
    }

    /// `input` with every password value replaced by `********`.
    pub fn masked(&self, input: &str) -> String {
        let mut spans: Vec<Range<usize>> = self
            .params
            .iter()
            .filter(|p| p.key == "password" || p.key == "sslpassword")
            .map(|p| p.span.clone())
            .collect();
        spans.sort_by_key(|r| r.start);
        let mut out = String::with_capacity(input.len());
        let mut at = 0;
        for s in spans {
            if s.start < at || s.end > input.len() {
                continue;
            }
            out.push_str(&input[at..s.start]);
            out.push_str("********");
            at = s.end;
        }
        out.push_str(&input[at..]);
        out
    }
}

/// Why a connection string cannot be read (never quoting a value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError(msg.into()))
}

/// The length of a `postgresql://` or `postgres://` prefix, as libpq's `uri_prefix_length`.
fn uri_prefix_length(s: &str) -> Option<usize> {
    ["postgresql://", "postgres://"]
        .iter()
        .find(|p| s.starts_with(*p))
        .map(|p| p.len())
}

/// C's `isspace` in the C locale (which, unlike `u8::is_ascii_whitespace`, includes `\v`).
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// Parses a connection string the way `psql "$DSN"` does: a URI, `key=value` pairs, or (with
/// neither a URI prefix nor an `=`) a database name.
pub fn parse(s: &str) -> Result<Conninfo, ParseError> {
    if let Some(prefix) = uri_prefix_length(s) {
        return parse_uri(s, prefix);
    }
    if !s.contains('=') {
        // psql passes its argument as `dbname` with expand_dbname: a plain word is a name.
        let mut c = Conninfo::default();
        if !s.is_empty() {
            store(&mut c, "dbname", s.to_string(), 0..s.len())?;
        }
        return Ok(c);
    }
    parse_pairs(s)
}

/// Stores `key=value`, libpq's `conninfo_storeval` (with its `requiressl` translation).
fn store(c: &mut Conninfo, key: &str, value: String, span: Range<usize>) -> Result<(), ParseError> {
    let (key, value) = if key == "requiressl" {
        let v = if value.starts_with('1') {
            "require"
        } else {
            "prefer"
        };
        ("sslmode", v.to_string())
    } else {
        (key, value)
    };
    let Some(key) = KEYWORDS.iter().find(|k| **k == key) else {
        return err(format!("invalid connection option {}", quote_key(key)));
    };
    c.params.push(Param { key, value, span });
    Ok(())
}

/// A keyword as it may be named in an error. An unknown word is not quoted: it may be half of
/// a password with a blank in it (`password=a b`), which must not end up on the screen.
fn quote_key(key: &str) -> String {
    let lower = key.to_ascii_lowercase();
    if KEYWORDS.contains(&key) {
        format!("\"{key}\"")
    } else if KEYWORDS.contains(&lower.as_str()) {
        format!("\"{key}\" (keywords are lower case)")
    } else {
        "a word that is not a keyword".to_string()
    }
}

/// libpq's `conninfo_parse`: `key = value` pairs, values bare or single-quoted, `\` escaping.
fn parse_pairs(s: &str) -> Result<Conninfo, ParseError> {
    let b = s.as_bytes();
    let mut c = Conninfo::default();
    let mut i = 0;
    while i < b.len() {
        if is_space(b[i]) {
            i += 1;
            continue;
        }
        let key_start = i;
        while i < b.len() && b[i] != b'=' && !is_space(b[i]) {
            i += 1;
        }
        let key = &s[key_start..i];
        while i < b.len() && is_space(b[i]) {
            i += 1;
        }
        if i >= b.len() || b[i] != b'=' {
            return err(format!(
                "missing \"=\" after {} at byte {} of the connection info string",
                quote_key(key),
                key_start + 1
            ));
        }
        i += 1;
        while i < b.len() && is_space(b[i]) {
            i += 1;
        }
        let value_start = i;
        let mut value = Vec::new();
        if i < b.len() && b[i] == b'\'' {
            i += 1;
            loop {
                match b.get(i) {
                    None => {
                        return err("unterminated quoted string in connection info string");
                    }
                    Some(b'\\') => {
                        i += 1;
                        if let Some(&n) = b.get(i) {
                            value.push(n);
                            i += 1;
                        }
                    }
                    Some(b'\'') => {
                        i += 1;
                        break;
                    }
                    Some(&o) => {
                        value.push(o);
                        i += 1;
                    }
                }
            }
        } else {
            while i < b.len() {
                if is_space(b[i]) {
                    break;
                }
                if b[i] == b'\\' {
                    i += 1;
                    if let Some(&n) = b.get(i) {
                        value.push(n);
                        i += 1;
                    }
                } else {
                    value.push(b[i]);
                    i += 1;
                }
            }
        }
        let span = value_start..i;
        // Input is UTF-8 and escapes only drop ASCII backslashes, so this cannot fail.
        let value = String::from_utf8(value)
            .map_err(|_| ParseError("a value is not valid UTF-8".into()))?;
        store(&mut c, key, value, span)?;
    }
    Ok(c)
}

/// libpq's `conninfo_uri_parse_options`:
/// `postgresql://[user[:password]@][host][:port][,...][/dbname][?param=value&...]`.
fn parse_uri(uri: &str, prefix: usize) -> Result<Conninfo, ParseError> {
    let b = uri.as_bytes();
    let len = b.len();
    let mut c = Conninfo {
        uri: true,
        ..Default::default()
    };
    let start = prefix;
    let mut p = start;
    // Credentials only if an '@' comes before any '/' (a '?' does not stop the look-ahead).
    while p < len && b[p] != b'@' && b[p] != b'/' {
        p += 1;
    }
    if p < len && b[p] == b'@' {
        let mut q = start;
        while b[q] != b':' && b[q] != b'@' {
            q += 1;
        }
        if q > start {
            store(
                &mut c,
                "user",
                decode(&uri[start..q], "user name")?,
                start..q,
            )?;
        }
        if b[q] == b':' {
            let pw = q + 1;
            q = pw;
            while b[q] != b'@' {
                q += 1;
            }
            if q > pw {
                store(&mut c, "password", decode(&uri[pw..q], "password")?, pw..q)?;
            }
        }
        p = q + 1;
    } else {
        p = start;
    }

    let mut hosts = String::new();
    let mut ports = String::new();
    let hosts_start = p;
    let mut prevchar: Option<u8>;
    loop {
        let host;
        if p < len && b[p] == b'[' {
            p += 1;
            let h = p;
            while p < len && b[p] != b']' {
                p += 1;
            }
            if p >= len {
                return err(
                    "end of string reached when looking for matching \"]\" in IPv6 host address in URI",
                );
            }
            if p == h {
                return err("IPv6 host address may not be empty in URI");
            }
            host = &uri[h..p];
            p += 1;
            if p < len && !matches!(b[p], b':' | b'/' | b'?' | b',') {
                return err(format!(
                    "unexpected character at position {} in URI (expected \":\" or \"/\")",
                    p + 1
                ));
            }
        } else {
            let h = p;
            while p < len && !matches!(b[p], b':' | b'/' | b'?' | b',') {
                p += 1;
            }
            host = &uri[h..p];
        }
        prevchar = b.get(p).copied();
        hosts.push_str(host);
        if prevchar == Some(b':') {
            p += 1;
            let port = p;
            while p < len && !matches!(b[p], b'/' | b'?' | b',') {
                p += 1;
            }
            prevchar = b.get(p).copied();
            ports.push_str(&uri[port..p]);
        }
        if prevchar != Some(b',') {
            break;
        }
        p += 1;
        hosts.push(',');
        ports.push(',');
    }
    let hosts_span = hosts_start..p;
    if !hosts.is_empty() {
        store(&mut c, "host", decode(&hosts, "host")?, hosts_span.clone())?;
    }
    if !ports.is_empty() {
        store(&mut c, "port", decode(&ports, "port")?, hosts_span)?;
    }
    if prevchar.is_some_and(|ch| ch != b'?') {
        p += 1;
        let db = p;
        while p < len && b[p] != b'?' {
            p += 1;
        }
        prevchar = b.get(p).copied();
        if p > db {
            store(
                &mut c,
                "dbname",
                decode(&uri[db..p], "database name")?,
                db..p,
            )?;
        }
    }
    if prevchar.is_some() {
        p += 1;
        parse_uri_params(uri, p, &mut c)?;
    }
    Ok(c)
}

/// libpq's `conninfo_uri_parse_params`: `key=value` separated by `&`, both percent-decoded.
fn parse_uri_params(uri: &str, mut p: usize, c: &mut Conninfo) -> Result<(), ParseError> {
    let b = uri.as_bytes();
    let len = b.len();
    while p < len {
        let key_start = p;
        let mut eq: Option<usize> = None;
        loop {
            if p < len && b[p] == b'=' {
                if eq.is_some() {
                    return err("extra key/value separator \"=\" in URI query parameter");
                }
                eq = Some(p);
                p += 1;
            } else if p >= len || b[p] == b'&' {
                break;
            } else {
                p += 1;
            }
        }
        let Some(eq) = eq else {
            return err("missing key/value separator \"=\" in URI query parameter");
        };
        let end = p;
        if p < len {
            p += 1; // past '&'
        }
        let key = decode(&uri[key_start..eq], "query parameter name")?;
        let value = decode(&uri[eq + 1..end], "query parameter value")?;
        // JDBC's `ssl=true`, as libpq takes it.
        let (key, value) = if key == "ssl" && value == "true" {
            ("sslmode".to_string(), "require".to_string())
        } else {
            (key, value)
        };
        let span = eq + 1..end;
        store(c, &key, value, span)
            .map_err(|_| ParseError(format!("invalid URI query parameter: {}", quote_key(&key))))?;
    }
    Ok(())
}

/// libpq's `conninfo_uri_decode`: `%XX` only (`+` stays `+`); `%00` and bad escapes refused.
fn decode(s: &str, what: &str) -> Result<String, ParseError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let hex = |x: Option<&u8>| x.and_then(|c| (*c as char).to_digit(16));
        let (Some(hi), Some(lo)) = (hex(b.get(i + 1)), hex(b.get(i + 2))) else {
            return err(format!("invalid percent-encoded token in the URI's {what}"));
        };
        let v = (hi << 4 | lo) as u8;
        if v == 0 {
            return err(format!(
                "forbidden value %00 in percent-encoded value (the URI's {what})"
            ));
        }
        out.push(v);
        i += 3;
    }
    String::from_utf8(out).map_err(|_| {
        ParseError(format!(
            "the URI's {what} is not valid UTF-8 once percent-decoded"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(s: &str, k: &str) -> Option<String> {
        parse(s).unwrap().get(k).map(str::to_string)
    }

    #[test]
    fn question_mark_in_a_uri_password_keeps_sslmode() {
        let s = "postgres://u:p?ss@host/db?sslmode=require";
        let c = parse(s).unwrap();
        assert_eq!(c.get("user"), Some("u"));
        assert_eq!(c.get("password"), Some("p?ss"));
        assert_eq!(c.get("host"), Some("host"));
        assert_eq!(c.get("dbname"), Some("db"));
        assert_eq!(c.get("sslmode"), Some("require"));
        assert_eq!(c.masked(s), "postgres://u:********@host/db?sslmode=require");
    }

    #[test]
    fn uri_forms_as_libpq_reads_them() {
        let s = "postgresql://us%40er:p%3Fss%2Fw%40rd%25x@h1:5433,[::1]:5434,h3/d%20b?application_name=a+b%20c&ssl=true";
        let c = parse(s).unwrap();
        assert_eq!(c.get("user"), Some("us@er"));
        assert_eq!(c.get("password"), Some("p?ss/w@rd%x"));
        assert_eq!(c.get("host"), Some("h1,::1,h3"));
        assert_eq!(c.get("port"), Some("5433,5434,"));
        assert_eq!(c.get("dbname"), Some("d b"));
        assert_eq!(c.get("application_name"), Some("a+b c"));
        assert_eq!(c.get("sslmode"), Some("require"));
        assert!(c.masked(s).contains("us%40er:********@h1"));
        // Query parameters override the authority; the last one wins.
        assert_eq!(
            get("postgres://h:1/db?host=x&port=2&port=3", "port").as_deref(),
            Some("3")
        );
        assert_eq!(get("postgres://h/db?host=x", "host").as_deref(), Some("x"));
        assert_eq!(
            get("postgres://u@h?requiressl=1", "sslmode").as_deref(),
            Some("require")
        );
        assert_eq!(
            get("postgres://u@h?password=a%26b&sslmode=disable&", "password").as_deref(),
            Some("a&b")
        );
        assert_eq!(get("postgres://", "host"), None);
        assert_eq!(get("postgres://u@", "user").as_deref(), Some("u"));
        assert_eq!(get("postgres://:p@h", "user"), None);
    }

    #[test]
    fn uri_errors_as_libpq_refuses() {
        for bad in [
            // A '/' before the '@': no credentials, host "u", port "p", then a query "ss/w@...".
            "postgres://u:p?ss/w@rd@h/db",
            "postgres://u:p%zz@h/db",
            "postgres://u:p%0@h/db",
            "postgres://u:p%00@h/db",
            "postgres://h/db?a=b=c",
            "postgres://h/db?sslmode",
            "postgres://h/db?x=1&&sslmode=disable",
            "postgres://h/db?PASSWORD=x",
            "postgres://h/db?foo=bar",
            "postgres://[::1/db",
            "postgres://[]/db",
            "postgres://[::1]x/db",
        ] {
            let e = parse(bad).unwrap_err();
            for secret in ["p?ss", "p%zz", "p%0", "rd@h"] {
                assert!(!e.0.contains(secret), "{bad}: {e}");
            }
        }
    }

    #[test]
    fn key_value_pairs_as_libpq_reads_them() {
        let s = r"host = h  port=5433 user=u password='it\'s a \\ pw' dbname=d\ b options='-c x=1'";
        let c = parse(s).unwrap();
        assert!(!c.uri);
        assert_eq!(c.get("host"), Some("h"));
        assert_eq!(c.get("port"), Some("5433"));
        assert_eq!(c.get("password"), Some(r"it's a \ pw"));
        assert_eq!(c.get("dbname"), Some("d b"));
        assert_eq!(c.get("options"), Some("-c x=1"));
        assert_eq!(
            c.masked(s),
            "host = h  port=5433 user=u password=******** dbname=d\\ b options='-c x=1'"
        );
        // After '=' blanks are skipped, so an empty value swallows the next word.
        assert_eq!(
            get("password= host=h", "password").as_deref(),
            Some("host=h")
        );
        assert_eq!(get("host=h password=", "password").as_deref(), Some(""));
        // Keywords are case-sensitive and must exist.
        assert!(parse("PASSWORD=x").is_err());
        assert!(parse("host=h foo=1").is_err());
        assert!(parse("host=h password='open").is_err());
        assert!(parse("host=h port").is_err());
        // A bare word is a database name, as with psql.
        assert_eq!(get("mydb", "dbname").as_deref(), Some("mydb"));
        assert_eq!(parse("").unwrap(), Conninfo::default());
        // Later values win.
        assert_eq!(get("port=1 port=2", "port").as_deref(), Some("2"));
        // Vertical tab is a blank for libpq.
        assert_eq!(get("host=h\x0bport=3", "port").as_deref(), Some("3"));
    }

    #[test]
    fn errors_never_quote_a_password_shaped_key() {
        let e = parse("hunter2!secret=x").unwrap_err();
        assert!(!e.0.contains("hunter2"), "{e}");
        let e = parse("postgres://h/db?hunter2%21=x").unwrap_err();
        assert!(!e.0.contains("hunter2"), "{e}");
        let e = parse("host=h password=a b").unwrap_err();
        assert!(!e.0.contains("\"b\""), "{e}");
        let e = parse("PASSWORD=x").unwrap_err();
        assert!(e.0.contains("lower case"), "{e}");
    }
}
