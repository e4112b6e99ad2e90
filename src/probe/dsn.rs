//! The source's connection string: parsed like libpq would, shown only with its password masked.
//!
//! Both libpq forms are read by [`conninfo`](super::conninfo) exactly as libpq reads them
//! (`postgres://user@host:port/db?sslmode=require` and `host=h port=5432 user=u dbname=d`).
//! What tokio-postgres reads the same way is handed to it; migtop keeps what it lacks: the
//! libpq environment (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGSSLMODE`, ... every
//! variable libpq reads), `~/.pgpass` / `passfile`, all six `sslmode`s and `sslrootcert`.
//! A DBA can so keep the password out of the command line as with `psql`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tokio_postgres::config::Host;

use super::conninfo;
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

/// Default connect timeout when neither the DSN nor `PGCONNECT_TIMEOUT` sets one.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The environment variable libpq reads for a keyword not in the DSN (`conninfo_add_defaults`).
fn env_var(key: &str) -> Option<&'static str> {
    Some(match key {
        "service" => "PGSERVICE",
        "user" => "PGUSER",
        "password" => "PGPASSWORD",
        "passfile" => "PGPASSFILE",
        "channel_binding" => "PGCHANNELBINDING",
        "connect_timeout" => "PGCONNECT_TIMEOUT",
        "dbname" => "PGDATABASE",
        "host" => "PGHOST",
        "hostaddr" => "PGHOSTADDR",
        "port" => "PGPORT",
        "client_encoding" => "PGCLIENTENCODING",
        "options" => "PGOPTIONS",
        "application_name" => "PGAPPNAME",
        "sslmode" => "PGSSLMODE",
        "sslcompression" => "PGSSLCOMPRESSION",
        "sslcert" => "PGSSLCERT",
        "sslkey" => "PGSSLKEY",
        "sslrootcert" => "PGSSLROOTCERT",
        "sslcrl" => "PGSSLCRL",
        "sslcrldir" => "PGSSLCRLDIR",
        "sslsni" => "PGSSLSNI",
        "requirepeer" => "PGREQUIREPEER",
        "ssl_min_protocol_version" => "PGSSLMINPROTOCOLVERSION",
        "ssl_max_protocol_version" => "PGSSLMAXPROTOCOLVERSION",
        "gssencmode" => "PGGSSENCMODE",
        "krbsrvname" => "PGKRBSRVNAME",
        "gsslib" => "PGGSSLIB",
        "target_session_attrs" => "PGTARGETSESSIONATTRS",
        "require_auth" => "PGREQUIREAUTH",
        "sslcertmode" => "PGSSLCERTMODE",
        "load_balance_hosts" => "PGLOADBALANCEHOSTS",
        "sslnegotiation" => "PGSSLNEGOTIATION",
        _ => return None,
    })
}

/// Keywords tokio-postgres reads the way libpq does; handed to it as they are.
const DELEGATED: [&str; 13] = [
    "user",
    "dbname",
    "options",
    "host",
    "hostaddr",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "tcp_user_timeout",
    "target_session_attrs",
    "channel_binding",
    "load_balance_hosts",
    "sslnegotiation",
];

/// Options a read-only probe cannot honour: better refused than silently ignored.
fn unsupported(key: &str, value: &str) -> Option<String> {
    Some(match key {
        "sslcert" | "sslkey" | "sslpassword" => format!(
            "{key}: client certificates are not supported by the source probe; use password or trust authentication"
        ),
        "sslcrl" | "sslcrldir" => format!(
            "{key}: certificate revocation lists are not supported by the source probe"
        ),
        "service" => {
            "service: connection service files (pg_service.conf) are not supported; give the parameters in the DSN".into()
        }
        "requirepeer" => "requirepeer is not supported by the source probe".into(),
        "require_auth" => "require_auth is not supported by the source probe".into(),
        "sslcertmode" if value == "require" => {
            "sslcertmode=require: client certificates are not supported by the source probe".into()
        }
        "gssencmode" if value == "require" => {
            "gssencmode=require: GSSAPI encryption is not supported by the source probe".into()
        }
        "gssencmode" if !matches!(value, "disable" | "prefer") => {
            "gssencmode is not one of disable, prefer, require".into()
        }
        "replication" if !matches!(value, "0" | "false" | "off" | "no") => {
            "replication: the source probe runs plain queries, not a replication connection".into()
        }
        "target_session_attrs" if !matches!(value, "any" | "read-write" | "read-only") => format!(
            "target_session_attrs {value:?} is not supported by the source probe (any, read-write, read-only are)"
        ),
        _ => return None,
    })
}

impl SourceDsn {
    /// Wraps a DSN without checking it; [`SourceDsn::resolve`] reports problems (redacted).
    pub fn new(raw: impl Into<String>) -> SourceDsn {
        let raw: String = raw.into();
        let raw = raw.trim().to_string();
        let shown = match conninfo::parse(&raw) {
            Ok(c) if misread_password(&c).is_none() => c.masked(&raw),
            Ok(c) if c.uri => "postgres://********".into(),
            _ => "(an unreadable DSN)".into(),
        };
        SourceDsn {
            raw: SecretString::from(raw),
            shown,
        }
    }

    /// True for an empty DSN.
    pub fn is_empty(&self) -> bool {
        self.raw.expose_secret().is_empty()
    }

    /// The DSN with any password replaced by `********`, where libpq's parser finds it.
    pub fn redacted(&self) -> &str {
        &self.shown
    }

    /// The DSN as given, for connecting and for finding the password in messages.
    pub(crate) fn secret(&self) -> &SecretString {
        &self.raw
    }

    /// True when the DSN itself carries a password (which `ps` and shell history would show).
    pub fn has_password(&self) -> bool {
        conninfo::parse(self.raw.expose_secret())
            .is_ok_and(|c| c.get("password").is_some_and(|p| !p.is_empty()))
    }

    /// Resolves the DSN with the process environment and `~/.pgpass`.
    pub fn resolve(&self) -> Result<Resolved, DsnError> {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        self.resolve_with(&|k| std::env::var(k).ok(), home.as_deref())
    }

    /// Resolves the DSN with the given environment lookup and home directory, as libpq's
    /// `conninfo_add_defaults` and `connectOptions2` do.
    pub fn resolve_with(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
        home: Option<&Path>,
    ) -> Result<Resolved, DsnError> {
        let raw = self.raw.expose_secret();
        let info = conninfo::parse(raw)
            .map_err(|e| DsnError(format!("the source DSN is not valid: {e}")))?;
        if let Some(why) = misread_password(&info) {
            return Err(DsnError(format!("the source DSN is not valid: {why}")));
        }
        let l = Lookup {
            info: &info,
            env,
            raw,
        };
        for k in conninfo::KEYWORDS {
            if let Some(v) = l.set(k)
                && let Some(why) = unsupported(k, &v)
            {
                return Err(DsnError(l.scrub(why)));
            }
        }
        let mut config: tokio_postgres::Config =
            delegated(&l)?
                .join(" ")
                .parse()
                .map_err(|e: tokio_postgres::Error| {
                    DsnError(l.scrub(format!(
                        "the source DSN is not valid: {}",
                        super::error_text(&e)
                    )))
                })?;
        let mut warnings = Vec::new();
        libpq_defaults(&mut config, &l)?;
        connect_timeout(&mut config, &l)?;
        password(&mut config, &l, home, &mut warnings);
        let (ssl_mode, root_cert) = tls(&l, home)?;
        Ok(Resolved {
            config,
            ssl_mode,
            root_cert,
            warnings,
        })
    }
}

/// Where a keyword's value comes from: the DSN, else its environment variable.
struct Lookup<'a> {
    info: &'a conninfo::Conninfo,
    env: &'a dyn Fn(&str) -> Option<String>,
    /// The DSN as given, for scrubbing its password out of messages.
    raw: &'a str,
}

impl Lookup<'_> {
    /// A keyword's value: the DSN's, else its environment variable's (an empty value given in
    /// the DSN still counts as given, as in libpq).
    fn given(&self, k: &str) -> Option<String> {
        self.info
            .get(k)
            .map(str::to_string)
            .or_else(|| env_var(k).and_then(self.env))
    }

    /// A keyword's value when it is not empty.
    fn set(&self, k: &str) -> Option<String> {
        self.given(k).filter(|v| !v.is_empty())
    }

    /// `msg` with the DSN's password masked.
    fn scrub(&self, msg: String) -> String {
        scrub_password(&msg, self.raw)
    }
}

/// The keywords tokio-postgres reads as libpq does, as `key=value` pairs (ports checked).
fn delegated(l: &Lookup) -> Result<Vec<String>, DsnError> {
    let mut kv: Vec<String> = Vec::new();
    for k in DELEGATED {
        if let Some(v) = l.set(k) {
            kv.push(format!("{k}={}", quote(&v)));
        }
    }
    if let Some(v) = l.set("keepalives_count") {
        kv.push(format!("keepalives_retries={}", quote(&v)));
    }
    if let Some(ports) = ports(l)? {
        kv.push(format!("port={ports}"));
    }
    Ok(kv)
}

/// The port list as libpq checks it: each 1 to 65535 (empty: 5432), one for all hosts or
/// one per host.
fn ports(l: &Lookup) -> Result<Option<String>, DsnError> {
    let Some(ports) = l.set("port") else {
        return Ok(None);
    };
    let hosts = l.set("host").map_or(0, |h| h.split(',').count());
    let addrs = l.set("hostaddr").map_or(0, |h| h.split(',').count());
    let mut list = Vec::new();
    for p in ports.split(',') {
        let p = p.trim_matches(|c: char| c.is_ascii_whitespace());
        if p.is_empty() {
            list.push("5432".to_string());
            continue;
        }
        match p.parse::<i64>() {
            Ok(n) if (1..=65535).contains(&n) => list.push(n.to_string()),
            _ => {
                return Err(DsnError(l.scrub(
                    "the source DSN is not valid: invalid port number (1 to 65535)".into(),
                )));
            }
        }
    }
    let n_hosts = hosts.max(addrs).max(1);
    if list.len() != 1 && list.len() != n_hosts {
        return Err(DsnError(format!(
            "the source DSN is not valid: could not match {} port numbers to {n_hosts} hosts",
            list.len()
        )));
    }
    Ok(Some(list.join(",")))
}

/// libpq's defaults for what the DSN leaves out: the Unix socket directory (as psql), the
/// login name, and `migtop` as the application name.
fn libpq_defaults(config: &mut tokio_postgres::Config, l: &Lookup) -> Result<(), DsnError> {
    if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
        let sock = Path::new("/var/run/postgresql");
        if sock.is_dir() {
            config.host_path(sock);
        } else {
            config.host("localhost");
        }
    }
    if config.get_user().is_none() {
        let user = os_user_name()
            .ok_or_else(|| DsnError("the source DSN names no user and PGUSER is not set".into()))?;
        config.user(user);
    }
    match l
        .set("application_name")
        .or_else(|| l.set("fallback_application_name"))
    {
        Some(a) => config.application_name(a),
        None => config.application_name("migtop"),
    };
    Ok(())
}

/// `connect_timeout` as libpq reads it (whole seconds; zero or less: none; under 2 s: 2 s),
/// else [`DEFAULT_CONNECT_TIMEOUT`].
fn connect_timeout(config: &mut tokio_postgres::Config, l: &Lookup) -> Result<(), DsnError> {
    let Some(t) = l.set("connect_timeout") else {
        config.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
        return Ok(());
    };
    let secs = t
        .trim_matches(|c: char| c.is_ascii_whitespace())
        .parse::<i64>()
        .map_err(|_| {
            DsnError(format!(
                "connect_timeout {t:?} is not a whole number of seconds"
            ))
        })?;
    // libpq: zero or less waits forever (the probe's own timeout still bounds it); less than
    // 2 s is taken as 2 s.
    if secs > 0 {
        config.connect_timeout(Duration::from_secs(secs.max(2) as u64));
    }
    Ok(())
}

/// The password: the DSN's or PGPASSWORD, else the password file's line for this target.
fn password(
    config: &mut tokio_postgres::Config,
    l: &Lookup,
    home: Option<&Path>,
    warnings: &mut Vec<String>,
) {
    if let Some(p) = l.set("password") {
        config.password(p);
        return;
    }
    let file = l
        .set("passfile")
        .map(PathBuf::from)
        .or_else(|| home.map(|h| h.join(".pgpass")));
    if let Some(file) = file
        && let Some(p) = pgpass_for(config, &file, warnings)
    {
        config.password(p);
    }
}

/// `sslmode` (libpq's default `prefer`; the deprecated PGREQUIRESSL=1 still read) and where
/// the root certificates come from.
fn tls(l: &Lookup, home: Option<&Path>) -> Result<(SslMode, RootCert), DsnError> {
    let ssl_mode = match l.given("sslmode") {
        Some(m) => SslMode::parse(&m).ok_or_else(|| {
            DsnError(format!(
                "sslmode {m:?} is not one of disable, allow, prefer, require, verify-ca, verify-full"
            ))
        })?,
        None if (l.env)("PGREQUIRESSL").is_some_and(|v| v.starts_with('1')) => SslMode::Require,
        None => SslMode::Prefer,
    };
    let root_cert = match l.set("sslrootcert") {
        Some(v) if v == "system" => RootCert::System,
        Some(v) => RootCert::File(PathBuf::from(v)),
        None => RootCert::Default(home.map(|h| h.join(".postgresql/root.crt"))),
    };
    Ok((ssl_mode, root_cert))
}

/// Why a parsed URI looks like a password with an unencoded `/` or `@`: libpq then reads part
/// of the password as host, port or database name, and migtop refuses rather than show or
/// connect with it.
fn misread_password(c: &conninfo::Conninfo) -> Option<&'static str> {
    let at_in = |k: &str| c.get(k).is_some_and(|v| v.contains('@'));
    (c.uri && (at_in("host") || at_in("dbname") || at_in("port"))).then_some(
        "an '@' after the host: a '/', '?' or '@' in a URI's password must be percent-encoded (%2F, %3F, %40), or use host=... password=... form",
    )
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

/// Replaces the DSN's password, if it shows up in a message, with `********`.
pub fn scrub_password(msg: &str, raw_dsn: &str) -> String {
    let mut out = msg.to_string();
    if let Ok(c) = conninfo::parse(raw_dsn) {
        for p in &c.params {
            if p.key == "password" && p.value.len() >= 3 {
                out = out.replace(&p.value, "********");
            }
        }
    }
    crate::util::redact::conninfo(&out)
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
    // A password file is a few lines: 1 MiB is plenty, and a FIFO or a device is not read.
    let content = crate::util::file::read_text_capped(file, 1024 * 1024).ok()?;
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
            // getpwuid_r (nix), not getpwuid: its static buffer is shared by every thread of
            // the runtime.
            let uid = nix::unistd::geteuid();
            nix::unistd::User::from_uid(uid)
                .ok()
                .flatten()
                .map(|u| u.name)
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
