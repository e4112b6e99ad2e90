//! Keeping secrets off the screen: conninfo passwords, DSN passwords, AccessKey ids in messages.

/// Masks the value of every `password=` key in a libpq conninfo string (quoted or not) and the
/// password of a `postgres://user:pass@host` URI.
pub fn conninfo(s: &str) -> String {
    if s.contains("://") {
        return dsn_uri(s);
    }
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

/// Masks the password in a `postgres://user:pass@host/db?password=...` URI.
pub fn dsn_uri(s: &str) -> String {
    let Some(scheme_end) = s.find("://") else {
        return conninfo(s);
    };
    let (scheme, rest) = s.split_at(scheme_end + 3);
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let authority = match authority.rfind('@') {
        Some(at) => {
            let (userinfo, host) = authority.split_at(at);
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:********{host}"),
                None => authority.to_string(),
            }
        }
        None => authority.to_string(),
    };
    let path = match path.split_once('?') {
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
        None => path.to_string(),
    };
    format!("{scheme}{authority}{path}")
}

/// Replaces every occurrence of `needle` (an AccessKey id) in `msg` with a masked form that
/// keeps its first 4 characters so the DBA can still tell which key was used.
pub fn access_key(msg: &str, needle: &str) -> String {
    if needle.len() < 4 {
        return msg.to_string();
    }
    msg.replace(needle, &mask_key(needle))
}

/// Masks every occurrence of `secret` in `msg`, as written and percent-encoded once or twice
/// (the forms a string to sign quotes it in).
pub fn secret(msg: &str, secret: &str) -> String {
    if secret.is_empty() {
        return msg.to_string();
    }
    let once = crate::rfc3986::percent_encode(secret);
    let twice = crate::rfc3986::percent_encode(&once);
    let mut out = msg.to_string();
    for form in [twice, once, secret.to_string()] {
        out = out.replace(&form, "********");
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
    }

    #[test]
    fn tokens_are_masked_in_every_encoding() {
        let token = "CAIS+abc/def==";
        let once = crate::rfc3986::percent_encode(token);
        let twice = crate::rfc3986::percent_encode(&once);
        let msg = format!("raw {token} once {once} twice {twice}");
        assert_eq!(
            secret(&msg, token),
            "raw ******** once ******** twice ********"
        );
        assert_eq!(secret("nothing here", ""), "nothing here");
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
