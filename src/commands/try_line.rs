//! The `try:` lines that `simulate` and `lab --serve` print: a command that works when pasted
//! into another shell, as printed. `migtop` is often not on `PATH` (after `cargo run`, or a
//! binary in a download folder), so the line names the running binary by its path; with the
//! documented demo pair it carries the pair too (the pair is public: it unlocks only the
//! simulator), since a fresh shell has no credentials.

use crate::aliyun::credentials;
use crate::sim;

/// `try: [demo pair] /path/to/migtop ARGS...`, every word quoted for a POSIX shell where it
/// needs to be. `key_id` is the AccessKey id the server accepts.
pub fn try_line(key_id: &str, args: &[&str]) -> String {
    let program = std::env::current_exe()
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|| "migtop".to_string());
    line(&program, key_id, args)
}

fn line(program: &str, key_id: &str, args: &[&str]) -> String {
    let mut words = Vec::new();
    if key_id == sim::DEMO_ACCESS_KEY_ID {
        words.push(format!(
            "{}={}",
            credentials::ENV_KEY_ID,
            quote(sim::DEMO_ACCESS_KEY_ID)
        ));
        words.push(format!(
            "{}={}",
            credentials::ENV_KEY_SECRET,
            quote(sim::DEMO_ACCESS_KEY_SECRET)
        ));
    }
    words.push(quote(program));
    words.extend(args.iter().map(|a| quote(a)));
    format!("try: {}", words.join(" "))
}

/// `s` as one word for a POSIX shell: as is when it holds only safe characters, else in
/// single quotes (a `'` inside written `'\''`).
pub fn quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-./:@%+=,".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_only_when_needed() {
        assert_eq!(quote("pgm-x"), "pgm-x");
        assert_eq!(quote("http://127.0.0.1:80"), "http://127.0.0.1:80");
        assert_eq!(quote("/a b/migtop"), "'/a b/migtop'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn the_demo_pair_is_carried_and_the_binary_named_by_path() {
        let l = line(
            "/w/target/debug/migtop",
            sim::DEMO_ACCESS_KEY_ID,
            &["status", "-i", "pgm-x"],
        );
        assert!(l.starts_with("try: ALIBABA_CLOUD_ACCESS_KEY_ID="), "{l}");
        assert!(
            l.ends_with(" /w/target/debug/migtop status -i pgm-x"),
            "{l}"
        );
        let l = line("/w/migtop", "LTAI5tOWN", &["status"]);
        assert_eq!(l, "try: /w/migtop status");
    }
}
