//! The source's connection string: parsed like libpq would, shown only with its password masked.
//!
//! Both libpq forms are taken (`postgres://user@host:port/db?sslmode=require` and
//! `host=h port=5432 user=u dbname=d`), along with the libpq environment (`PGHOST`, `PGPORT`,
//! `PGUSER`, `PGDATABASE`, `PGPASSWORD`, `PGPASSFILE`, `PGSSLMODE`, `PGSSLROOTCERT`,
//! `PGAPPNAME`, `PGCONNECT_TIMEOUT`) and `~/.pgpass`, so a DBA can keep the password out of the
//! command line as with `psql`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tokio_postgres::config::Host;

use super::tls::{RootCert, SslMode};

/// A PostgreSQL DSN whose `Display` and `Debug` never show the password.
#[derive(Clone)]
pub struct SourceDsn {
    raw: SecretString,
    shown: String,
}

/// Why a DSN cannot be used; the text never holds the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DsnError(pub String);

/// A DSN resolved against the environment: what to connect to and how.
pub struct Resolved {
    /// The tokio-postgres configuration (its `Debug` redacts the password).
    pub config: tokio_postgres::Config,
    /// The libpq `sslmode`.
    pub ssl_mode: SslMode,
    /// Where trusted root certificates come from (`sslrootcert`).
    pub root_cert: RootCert,
    /// Things the DBA should know (an unsafe `.pgpass`, ...), one sentence each.
    pub warnings: Vec<String>,
}

/// Keys migtop handles itself instead of handing them to tokio-postgres.
const OWN_KEYS: [&str; 3] = ["sslmode", "sslrootcert", "passfile"];
/// libpq keys that change nothing for a read-only probe and are dropped silently.
const IGNORED_KEYS: [&str; 5] = [
    "sslcompression",
    "sslsni",
    "krbsrvname",
    "gsslib",
    "service",
];
/// Default connect timeout when neither the DSN nor `PGCONNECT_TIMEOUT` sets one.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl SourceDsn {
    /// Wraps a DSN without checking it; [`SourceDsn::resolve`] reports problems (redacted).
    pub fn new(raw: impl Into<String>) -> SourceDsn {
        let raw: String = raw.into();
        let shown = crate::redact::conninfo(raw.trim());
        SourceDsn {
            raw: SecretString::from(raw.trim().to_string()),
            shown,
        }
    }

    /// True for an empty DSN.
    pub fn is_empty(&self) -> bool {
        self.shown.is_empty()
    }

    /// The DSN with any password replaced by `********`.
    pub fn redacted(&self) -> &str {
        &self.shown
    }

    /// The DSN as given, for connecting and for finding the password in messages.
    pub(crate) fn secret(&self) -> &SecretString {
        &self.raw
    }

    /// True when the DSN itself carries a password (which `ps` and shell history would show).
    pub fn has_password(&self) -> bool {
        split(self.raw.expose_secret())
            .ok()
            .and_then(|(rest, _)| rest.parse::<tokio_postgres::Config>().ok())
            .is_some_and(|c| c.get_password().is_some())
    }

    /// Resolves the DSN with the process environment and `~/.pgpass`.
    pub fn resolve(&self) -> Result<Resolved, DsnError> {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        self.resolve_with(&|k| std::env::var(k).ok(), home.as_deref())
    }

    /// Resolves the DSN with the given environment lookup and home directory.
    pub fn resolve_with(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
        home: Option<&Path>,
    ) -> Result<Resolved, DsnError> {
        let raw = self.raw.expose_secret();
        let scrub = |msg: String| scrub_password(&msg, raw);
        let (rest, own) = split(raw).map_err(|e| DsnError(scrub(e)))?;
        let mut config: tokio_postgres::Config =
            rest.parse().map_err(|e: tokio_postgres::Error| {
                DsnError(scrub(format!(
                    "the source DSN is not valid: {}",
                    super::error_text(&e)
                )))
            })?;
        let mut warnings = Vec::new();
        let get = |k: &str| {
            own.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .or_else(|| {
                    let var = match k {
                        "sslmode" => "PGSSLMODE",
                        "sslrootcert" => "PGSSLROOTCERT",
                        "passfile" => "PGPASSFILE",
                        _ => return None,
                    };
                    env(var).filter(|v| !v.is_empty())
                })
        };

        if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
            match env("PGHOST").filter(|h| !h.is_empty()) {
                Some(h) => {
                    for one in h.split(',') {
                        config.host(one.trim());
                    }
                }
                None => {
                    // libpq's default is the Unix socket directory, as psql does.
                    let sock = Path::new("/var/run/postgresql");
                    if sock.is_dir() {
                        config.host_path(sock);
                    } else {
                        config.host("localhost");
                    }
                }
            }
        }
        if config.get_ports().is_empty()
            && let Some(p) = env("PGPORT").filter(|p| !p.is_empty())
        {
            let port: u16 = p
                .trim()
                .parse()
                .map_err(|_| DsnError(format!("PGPORT={p:?} is not a port number")))?;
            config.port(port);
        }
        if config.get_user().is_none() {
            let user = env("PGUSER")
                .filter(|u| !u.is_empty())
                .or_else(os_user_name)
                .ok_or_else(|| {
                    DsnError("the source DSN names no user and PGUSER is not set".into())
                })?;
            config.user(user);
        }
        if config.get_dbname().is_none()
            && let Some(db) = env("PGDATABASE").filter(|d| !d.is_empty())
        {
            config.dbname(db);
        }
        if config.get_application_name().is_none() {
            config.application_name(env("PGAPPNAME").unwrap_or_else(|| "migtop".into()));
        }
        if config.get_connect_timeout().is_none() {
            let t = match env("PGCONNECT_TIMEOUT").filter(|t| !t.is_empty()) {
                Some(t) => t
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|s| *s > 0)
                    .map(|s| Duration::from_secs(s.max(2)))
                    .ok_or_else(|| {
                        DsnError(format!(
                            "PGCONNECT_TIMEOUT={t:?} is not a number of seconds"
                        ))
                    })?,
                None => DEFAULT_CONNECT_TIMEOUT,
            };
            config.connect_timeout(t);
        }
        if config.get_password().is_none() {
            if let Some(p) = env("PGPASSWORD").filter(|p| !p.is_empty()) {
                config.password(p);
            } else {
                let file = get("passfile")
                    .map(PathBuf::from)
                    .or_else(|| home.map(|h| h.join(".pgpass")));
                if let Some(file) = file
                    && let Some(p) = pgpass_for(&config, &file, &mut warnings)
                {
                    config.password(p);
                }
            }
        }

        let ssl_mode = match get("sslmode") {
            Some(m) => SslMode::parse(&m).ok_or_else(|| {
                DsnError(format!(
                    "sslmode {m:?} is not one of disable, allow, prefer, require, verify-ca, verify-full"
                ))
            })?,
            None => SslMode::Prefer,
        };
        let root_cert = match get("sslrootcert") {
            Some(v) if v == "system" => RootCert::System,
            Some(v) => RootCert::File(PathBuf::from(v)),
            None => RootCert::Default(home.map(|h| h.join(".postgresql/root.crt"))),
        };
        Ok(Resolved {
            config,
            ssl_mode,
            root_cert,
            warnings,
        })
    }
}

impl fmt::Display for SourceDsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for SourceDsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SourceDsn({:?})", self.shown)
    }
}

impl std::str::FromStr for SourceDsn {
    type Err = std::convert::Infallible;

    /// Never fails: a bad DSN is reported later by [`SourceDsn::resolve`], redacted. (clap
    /// would otherwise echo the raw value, password included, in its error.)
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(SourceDsn::new(s))
    }
}

/// Replaces the literal password, if it shows up in a message, with `********`.
pub fn scrub_password(msg: &str, raw_dsn: &str) -> String {
    let mut out = msg.to_string();
    if let Ok((rest, _)) = split(raw_dsn)
        && let Ok(c) = rest.parse::<tokio_postgres::Config>()
        && let Some(p) = c.get_password().and_then(|p| std::str::from_utf8(p).ok())
        && p.len() >= 3
    {
        out = out.replace(p, "********");
    }
    crate::redact::conninfo(&out)
}

/// Splits a DSN into what tokio-postgres understands and the keys migtop handles itself.
fn split(raw: &str) -> Result<(String, Vec<(String, String)>), String> {
    let raw = raw.trim();
    if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
        return Ok(split_uri(raw));
    }
    let pairs = conninfo_pairs(raw)?;
    let mut own = Vec::new();
    let mut kept = Vec::new();
    for (k, v) in pairs {
        if OWN_KEYS.contains(&k.as_str()) {
            own.push((k, v));
        } else if let Some(reason) = unsupported(&k, &v) {
            return Err(reason);
        } else if !IGNORED_KEYS.contains(&k.as_str()) {
            kept.push(format!("{k}={}", quote(&v)));
        }
    }
    Ok((kept.join(" "), own))
}

fn split_uri(raw: &str) -> (String, Vec<(String, String)>) {
    let Some((base, query)) = raw.split_once('?') else {
        return (raw.to_string(), vec![]);
    };
    let mut own = Vec::new();
    let mut kept = Vec::new();
    for kv in query.split('&').filter(|kv| !kv.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        let dk = percent_encoding::percent_decode_str(k)
            .decode_utf8_lossy()
            .to_string();
        if OWN_KEYS.contains(&dk.as_str()) {
            let dv = percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .to_string();
            own.push((dk, dv));
        } else if !IGNORED_KEYS.contains(&dk.as_str()) {
            kept.push(kv);
        }
    }
    let rest = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (rest, own)
}

/// Options a read-only probe cannot honour: better refused than silently ignored.
fn unsupported(key: &str, value: &str) -> Option<String> {
    match key {
        "sslcert" | "sslkey" | "sslpassword" => Some(format!(
            "{key}: client certificates are not supported by the source probe; use password or trust authentication"
        )),
        "gssencmode" if value == "require" => Some(
            "gssencmode=require: GSSAPI encryption is not supported by the source probe".into(),
        ),
        "gssencmode" => None,
        _ => None,
    }
}

/// The `key=value` pairs of a libpq conninfo string (values single-quoted with `\` escapes, or bare).
fn conninfo_pairs(s: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(out);
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') {
            return Err(format!(
                "the source DSN is not valid: expected `=` after {key:?} (use key=value pairs or a postgres:// URI)"
            ));
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            loop {
                match chars.next() {
                    Some('\\') => match chars.next() {
                        Some(c) => value.push(c),
                        None => return Err(unterminated(&key)),
                    },
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => return Err(unterminated(&key)),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                chars.next();
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        value.push(n);
                    }
                } else {
                    value.push(c);
                }
            }
        }
        out.push((key.to_ascii_lowercase(), value));
    }
}

fn unterminated(key: &str) -> String {
    format!("the source DSN is not valid: the quoted value of {key:?} is not closed")
}

/// A conninfo value, quoted so that any character survives.
fn quote(v: &str) -> String {
    format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The password `.pgpass` (or `passfile`) holds for this connection, libpq's rules.
fn pgpass_for(
    config: &tokio_postgres::Config,
    file: &Path,
    warnings: &mut Vec<String>,
) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(file).ok()?;
    if !meta.is_file() {
        return None;
    }
    if meta.permissions().mode() & 0o077 != 0 {
        warnings.push(format!(
            "{} is readable by group or others, so it is ignored as libpq does (chmod 0600 it)",
            file.display()
        ));
        return None;
    }
    let content = std::fs::read_to_string(file).ok()?;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        // libpq matches Unix-socket connections as "localhost".
        Some(Host::Unix(_)) | None => "localhost".to_string(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let user = config.get_user().unwrap_or_default();
    let db = config.get_dbname().unwrap_or(user);
    pgpass_lookup(&content, &host, &port, db, user)
}

/// Finds the first `.pgpass` line matching host, port, database and user (`*` matches any).
pub fn pgpass_lookup(
    content: &str,
    host: &str,
    port: &str,
    db: &str,
    user: &str,
) -> Option<String> {
    for line in content.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = pgpass_fields(line);
        if fields.len() < 5 {
            continue;
        }
        let want = [host, port, db, user];
        if fields[..4]
            .iter()
            .zip(want)
            .all(|(f, w)| f == "*" || f == w)
        {
            return Some(fields[4..].join(":"));
        }
    }
    None
}

/// Splits one `.pgpass` line on unescaped `:`; `\:` and `\\` are literal.
fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    fields.last_mut().unwrap().push(n);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

/// The login name of the current user, as libpq's default user.
fn os_user_name() -> Option<String> {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(|| {
            // SAFETY: getpwuid returns a pointer into static storage or null; read at once.
            unsafe {
                let pw = libc::getpwuid(libc::geteuid());
                if pw.is_null() {
                    return None;
                }
                std::ffi::CStr::from_ptr((*pw).pw_name)
                    .to_str()
                    .ok()
                    .map(str::to_string)
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn resolve(dsn: &str, env: &[(&str, &str)]) -> Result<Resolved, DsnError> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        SourceDsn::new(dsn).resolve_with(&|k| env.get(k).cloned(), None)
    }

    #[test]
    fn display_and_debug_never_show_the_password() {
        for dsn in [
            "postgres://repl:s3cr3t-pw@10.0.0.5:5432/postgres?sslmode=require",
            "host=10.0.0.5 user=repl password=s3cr3t-pw dbname=postgres",
            "host=10.0.0.5 user=repl password='s3cr3t-pw' sslmode=verify-full",
            "postgresql://repl@10.0.0.5/postgres?password=s3cr3t-pw",
        ] {
            let d = SourceDsn::new(dsn);
            assert!(!d.to_string().contains("s3cr3t"), "{d}");
            assert!(!format!("{d:?}").contains("s3cr3t"), "{d:?}");
            assert!(d.has_password(), "{dsn}");
            let r = d.resolve_with(&|_| None, None).unwrap();
            assert!(!format!("{:?}", r.config).contains("s3cr3t"));
            assert_eq!(r.config.get_password(), Some(&b"s3cr3t-pw"[..]));
        }
        assert!(!SourceDsn::new("postgres://u@h/db").has_password());
    }

    #[test]
    fn errors_are_redacted() {
        let e = resolve("host=h password=s3cr3t-pw port=notaport", &[])
            .err()
            .unwrap();
        assert!(!e.0.contains("s3cr3t"), "{e}");
        assert!(e.0.contains("port"), "{e}");
        let e = resolve("postgres://u:s3cr3t-pw@h:99999999/db", &[])
            .err()
            .unwrap();
        assert!(!e.0.contains("s3cr3t"), "{e}");
        let e = resolve("host=h password='s3cr3t-pw", &[]).err().unwrap();
        assert!(!e.0.contains("s3cr3t"), "{e}");
        let e = resolve("host=h sslmode=sometimes password=s3cr3t-pw", &[])
            .err()
            .unwrap();
        assert!(e.0.contains("sslmode") && !e.0.contains("s3cr3t"), "{e}");
        let e = resolve("host=h sslcert=/c.pem", &[]).err().unwrap();
        assert!(e.0.contains("client certificates"), "{e}");
    }

    #[test]
    fn ssl_options_are_taken_out_for_migtop() {
        let r = resolve(
            "postgres://u@db.example.com:6432/app?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&application_name=x",
            &[],
        )
        .unwrap();
        assert_eq!(r.ssl_mode, SslMode::VerifyFull);
        assert_eq!(r.root_cert, RootCert::File("/etc/ca.pem".into()));
        assert_eq!(r.config.get_ports(), &[6432]);
        assert_eq!(r.config.get_application_name(), Some("x"));
        let r = resolve(
            "host=h user=u sslmode = 'verify-ca' sslrootcert=system",
            &[],
        )
        .unwrap();
        assert_eq!(r.ssl_mode, SslMode::VerifyCa);
        assert_eq!(r.root_cert, RootCert::System);
        let r = resolve("host=h user=u", &[("PGSSLMODE", "disable")]).unwrap();
        assert_eq!(r.ssl_mode, SslMode::Disable);
        let r = resolve("host=h user=u", &[]).unwrap();
        assert_eq!(r.ssl_mode, SslMode::Prefer, "libpq's default");
    }

    #[test]
    fn libpq_environment_fills_the_gaps() {
        let r = resolve(
            "dbname=app",
            &[
                ("PGHOST", "10.1.1.1"),
                ("PGPORT", "5433"),
                ("PGUSER", "dba"),
                ("PGPASSWORD", "from-env"),
                ("PGCONNECT_TIMEOUT", "3"),
            ],
        )
        .unwrap();
        assert!(matches!(&r.config.get_hosts()[0], Host::Tcp(h) if h == "10.1.1.1"));
        assert_eq!(r.config.get_ports(), &[5433]);
        assert_eq!(r.config.get_user(), Some("dba"));
        assert_eq!(r.config.get_dbname(), Some("app"));
        assert_eq!(r.config.get_password(), Some(&b"from-env"[..]));
        assert_eq!(
            r.config.get_connect_timeout(),
            Some(&Duration::from_secs(3))
        );
        assert_eq!(r.config.get_application_name(), Some("migtop"));
        // The DSN wins over the environment.
        let r = resolve(
            "host=h port=1 user=u password=p",
            &[("PGPORT", "2"), ("PGUSER", "x"), ("PGPASSWORD", "y")],
        )
        .unwrap();
        assert_eq!(r.config.get_ports(), &[1]);
        assert_eq!(r.config.get_user(), Some("u"));
        assert_eq!(r.config.get_password(), Some(&b"p"[..]));
        assert!(resolve("host=h user=u", &[("PGPORT", "x")]).is_err());
    }

    #[test]
    fn pgpass_rules() {
        let file = "# comment\n\
                    other:5432:*:dba:nope\n\
                    db1:5432:app:dba:pa\\:ss\n\
                    *:*:*:dba:fallback\n";
        assert_eq!(
            pgpass_lookup(file, "db1", "5432", "app", "dba").as_deref(),
            Some("pa:ss")
        );
        assert_eq!(
            pgpass_lookup(file, "db2", "5432", "app", "dba").as_deref(),
            Some("fallback")
        );
        assert_eq!(pgpass_lookup(file, "db1", "5432", "app", "other"), None);
    }

    #[test]
    fn pgpass_file_is_used_only_when_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pass");
        std::fs::write(&file, "h:5432:*:u:from-file\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let dsn = format!("host=h user=u passfile={}", file.display());
        let r = resolve(&dsn, &[]).unwrap();
        assert_eq!(r.config.get_password(), None);
        assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let r = resolve(&dsn, &[]).unwrap();
        assert_eq!(r.config.get_password(), Some(&b"from-file"[..]));
        assert!(r.warnings.is_empty());
        // ~/.pgpass through the home directory.
        std::fs::copy(&file, dir.path().join(".pgpass")).unwrap();
        std::fs::set_permissions(
            dir.path().join(".pgpass"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        let r = SourceDsn::new("host=h user=u")
            .resolve_with(&|_| None, Some(dir.path()))
            .unwrap();
        assert_eq!(r.config.get_password(), Some(&b"from-file"[..]));
    }

    #[test]
    fn quoting_roundtrips_odd_values() {
        let r = resolve(
            r"host=h user=u password='it\'s a \\ pass' options='-c x=1'",
            &[],
        )
        .unwrap();
        assert_eq!(r.config.get_password(), Some(&br"it's a \ pass"[..]));
        assert_eq!(r.config.get_options(), Some("-c x=1"));
    }
}
