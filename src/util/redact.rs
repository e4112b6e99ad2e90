//! Keeping secrets off the screen: conninfo passwords, DSN passwords, AccessKey ids in messages.

/// Masks the value of every `password=` key in a libpq conninfo string (quoted or not) and the
/// password of a `postgres://user:pass@host` URI.
pub fn conninfo(s: &str) -> String {
    let uri_masked;
    let s = if s.contains("://") {
        uri_masked = dsn_uri(s);
        uri_masked.as_str()
    } else {
        s
    };
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = find_key(rest, "password") {
        let (head, tail) = rest.split_at(pos);
        out.push_str(head);
        // tail starts at "password", then optional spaces, '=', optional spaces, value.
        let after_key = &tail["password".len()..];
        let eq = after_key.find('=').unwrap_or(0);
        let after_eq = after_key[eq + 1..].trim_start();
        let skipped = after_key.len() - after_eq.len();
        out.push_str("password=********");
        let value_len = conninfo_value_len(after_eq);
        rest = &after_key[skipped + value_len..];
    }
    out.push_str(rest);
    out
}

/// Byte position of `key` followed by optional spaces and `=`, at a word start.
fn find_key(s: &str, key: &str) -> Option<usize> {
    let lower = s.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(key) {
        let at = from + i;
        let word_start = at == 0 || lower.as_bytes()[at - 1].is_ascii_whitespace();
        let after = lower[at + key.len()..].trim_start();
        if word_start && after.starts_with('=') {
            return Some(at);
        }
        from = at + key.len();
    }
    None
}

/// Length of one conninfo value: a single-quoted string with `\` escapes, or up to whitespace.
fn conninfo_value_len(s: &str) -> usize {
    let b = s.as_bytes();
    if b.first() == Some(&b'\'') {
        let mut i = 1;
        while i < b.len() {
            match b[i] {
                b'\\' => i += 2,
                b'\'' => return i + 1,
                _ => i += 1,
            }
        }
        return b.len();
    }
    b.iter()
        .position(|c| c.is_ascii_whitespace())
        .unwrap_or(b.len())
}

/// Masks the password in every `scheme://user:pass@host/db?password=...` URI of `s`.
///
/// Text from elsewhere (a server's Conninfo, an error message) cannot be trusted to be a
/// well-formed URI, so this errs on the side of masking: the user info runs to the *last* `@`
/// of the URI, so that a `/`, `?` or `@` left unencoded in the password is masked with it.
pub fn dsn_uri(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(scheme_end) = rest.find("://") {
        let (head, tail) = rest.split_at(scheme_end + 3);
        out.push_str(head);
        let end = tail.find(|c: char| c.is_whitespace()).unwrap_or(tail.len());
        let (uri, after) = tail.split_at(end);
        out.push_str(&mask_uri(uri));
        rest = after;
    }
    out.push_str(rest);
    out
}

/// One URI without its scheme: `user:pass@host...` with the password masked, and any
/// `password=` query parameter.
fn mask_uri(uri: &str) -> String {
    let (userinfo, hosts) = match uri.rfind('@') {
        Some(at) => (Some(&uri[..at]), &uri[at..]),
        None => (None, uri),
    };
    let userinfo = match userinfo {
        Some(u) => match u.split_once(':') {
            Some((user, _)) => format!("{user}:********"),
            None => u.to_string(),
        },
        None => String::new(),
    };
    let hosts = match hosts.split_once('?') {
        Some((p, q)) => {
            let q: Vec<String> = q
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=********"),
                    _ => kv.to_string(),
                })
                .collect();
            format!("{p}?{}", q.join("&"))
        }
        None => hosts.to_string(),
    };
    format!("{userinfo}{hosts}")
}

/// Replaces every occurrence of `needle` (an AccessKey id) in `msg` with a masked form that
/// keeps its first 4 characters so the DBA can still tell which key was used.
pub fn access_key(msg: &str, needle: &str) -> String {
    if needle.len() < 4 {
        return msg.to_string();
    }
    msg.replace(needle, &mask_key(needle))
}

/// The shortest run of a secret's characters that is masked wherever it shows up.
const SECRET_WINDOW: usize = 12;

/// Masks `secret` in `msg` however a server quotes it: as written, percent-encoded once or
/// twice (the forms a string to sign quotes it in), lower-cased, with `+` decoded as a space,
/// or cut short. Every run of `msg` that matches at least 12 consecutive characters of one
/// of those forms (case and `+`/space aside) becomes `********`; a secret shorter than that
/// is masked when it appears whole.
pub fn secret(msg: &str, secret: &str) -> String {
    if secret.is_empty() {
        return msg.to_string();
    }
    let once = crate::util::rfc3986::percent_encode(secret);
    let twice = crate::util::rfc3986::percent_encode(&once);
    let norm = |b: u8| match b {
        b'+' => b' ',
        b => b.to_ascii_lowercase(),
    };
    let forms: Vec<Vec<u8>> = [secret.as_bytes(), once.as_bytes(), twice.as_bytes()]
        .iter()
        .map(|f| f.iter().map(|b| norm(*b)).collect())
        .collect();
    let window = SECRET_WINDOW.min(secret.len());
    let mut windows = std::collections::HashSet::new();
    for f in &forms {
        for w in f.windows(window) {
            windows.insert(w.to_vec());
        }
    }
    let m: Vec<u8> = msg.bytes().map(norm).collect();
    let mut covered = vec![false; m.len()];
    for (i, w) in m.windows(window).enumerate() {
        if windows.contains(w) {
            covered[i..i + window].iter_mut().for_each(|c| *c = true);
        }
    }
    if !covered.contains(&true) {
        return msg.to_string();
    }
    // Matched bytes are ASCII (the forms are), so each run starts and ends on a char boundary.
    let mut out = String::with_capacity(msg.len());
    let mut i = 0;
    while i < m.len() {
        if covered[i] {
            out.push_str("********");
            while i < m.len() && covered[i] {
                i += 1;
            }
        } else {
            let start = i;
            while i < m.len() && !covered[i] {
                i += 1;
            }
            out.push_str(&msg[start..i]);
        }
    }
    out
}

/// `LTAI5tAbCd...` shown as `LTAI****`.
pub fn mask_key(key: &str) -> String {
    let head: String = key.chars().take(4).collect();
    format!("{head}****")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conninfo_passwords_are_masked() {
        assert_eq!(
            conninfo("user=a password=s3cret host=h"),
            "user=a password=******** host=h"
        );
        assert_eq!(
            conninfo("password = 'a b\\' c' host=h"),
            "password=******** host=h"
        );
        assert_eq!(conninfo("host=h password=x"), "host=h password=********");
        assert_eq!(
            conninfo("user=passwordless host=h"),
            "user=passwordless host=h"
        );
        assert_eq!(conninfo("PASSWORD=x"), "password=********");
    }

    #[test]
    fn uri_passwords_are_masked() {
        assert_eq!(
            conninfo("postgres://u:p%40ss@127.0.0.1:5432/db"),
            "postgres://u:********@127.0.0.1:5432/db"
        );
        assert_eq!(
            dsn_uri("postgresql://u@h/db?sslmode=disable&password=zz"),
            "postgresql://u@h/db?sslmode=disable&password=********"
        );
        assert_eq!(dsn_uri("postgres://h/db"), "postgres://h/db");
        // Unencoded '?', '/' and '@' in the password are masked with it.
        for pw in ["p?ss", "p/ss", "p@ss", "p/s?s@x"] {
            let masked = conninfo(&format!(
                "source postgres://u:{pw}@h/db?sslmode=require: down"
            ));
            assert_eq!(
                masked, "source postgres://u:********@h/db?sslmode=require: down",
                "{pw}"
            );
        }
    }

    #[test]
    fn tokens_are_masked_in_every_encoding() {
        let token = "CAIS+abc/def==";
        let once = crate::util::rfc3986::percent_encode(token);
        let twice = crate::util::rfc3986::percent_encode(&once);
        let msg = format!("raw {token} once {once} twice {twice}");
        assert_eq!(
            secret(&msg, token),
            "raw ******** once ******** twice ********"
        );
        assert_eq!(secret("nothing here", ""), "nothing here");
    }

    #[test]
    fn tokens_are_masked_truncated_lowercased_or_with_plus_as_space() {
        let token = "CAISzQJ1q6Ft5B2yfSjIr5bkKfPztL1/0qK+M1Xzg3RhWeN/hLTPpjz2IHtKeXNvAOAasv8+nmFY7PkZlqB6T55OSAmcNZEu9kVU3L5P6Dz6fNrMohxdYj2mAi3xUZr9Qw==";
        let once = crate::util::rfc3986::percent_encode(token);
        let twice = crate::util::rfc3986::percent_encode(&once);
        for quoted in [
            token[..40].to_string(),
            token[30..90].to_string(),
            token.to_lowercase(),
            token.replace('+', " "),
            once.to_lowercase(),
            twice[..150].to_string(),
            twice.to_lowercase().replace("%252b", "%252B"),
        ] {
            let msg = format!("token \"{quoted}\" expired");
            let out = secret(&msg, token);
            assert_eq!(out, "token \"********\" expired", "{quoted}");
        }
        // A body cut at 120 characters, mid-token, is masked up to the cut.
        let body = format!("<Error>SecurityToken={token}</Error>");
        let cut: String = body.chars().take(120).collect();
        let out = secret(&cut, token);
        assert!(out.ends_with("SecurityToken=********"), "{out}");
        // Unrelated text stays.
        assert_eq!(
            secret("CAIS is a prefix only", token),
            "CAIS is a prefix only"
        );
        assert_eq!(secret("héllo wörld", token), "héllo wörld");
    }

    #[test]
    fn access_keys_are_masked() {
        assert_eq!(
            access_key(
                "Specified signature is not matched with our calculation. server string to sign is:GET&%2F&AccessKeyId%3DLTAI5tSECRETID",
                "LTAI5tSECRETID"
            ),
            "Specified signature is not matched with our calculation. server string to sign is:GET&%2F&AccessKeyId%3DLTAI****"
        );
    }
}
