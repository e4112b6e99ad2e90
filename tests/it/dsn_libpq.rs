//! The source DSN against libpq itself (issue 10): for every DSN of a corpus, `psql` (libpq 15)
//! and migtop must agree on user, database, port, password and sslmode, and what libpq
//! connects with must be what migtop's probe connects with.
//!
//! A throwaway server on 127.0.0.1 with SCRAM password authentication and no TLS; roles whose
//! passwords hold `?`, `/`, `@`, `%`, `:`, `&`, `=` and `#`.

use std::path::Path;
use std::time::Duration;

use migtop::lab::{guard, pg};
use migtop::probe::tls::SslMode;
use migtop::probe::{SourceDsn, SourceProbe};

use crate::support::machine;
use crate::support::pg as pgtest;

/// The role with the short password of the issue's table row.
const Q_USER: &str = "dsn_q";
const Q_PASS: &str = "p?ss";
/// A role whose password needs every kind of escaping.
const X_USER: &str = "dsn_x";
const X_PASS: &str = "p?ss/w@rd%x:y&z=1#h";
/// `X_PASS` percent-encoded for a URI.
const X_PASS_ENC: &str = "p%3Fss%2Fw%40rd%25x%3Ay%26z%3D1%23h";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// libpq connected.
    Connects,
    /// libpq refused because the server has no TLS and sslmode demands it.
    NeedsTls,
    /// The server refused the password.
    AuthFails,
    /// libpq refused the string itself (never connected).
    Invalid,
}

/// One corpus entry: the DSN (`{port}` replaced) and what libpq makes of it.
struct Case {
    dsn: &'static str,
    outcome: Outcome,
    /// user, database, password, sslmode as libpq reads them (unused for `Invalid`).
    user: &'static str,
    db: &'static str,
    password: &'static str,
    sslmode: SslMode,
}

const fn case(
    dsn: &'static str,
    outcome: Outcome,
    user: &'static str,
    db: &'static str,
    password: &'static str,
    sslmode: SslMode,
) -> Case {
    Case {
        dsn,
        outcome,
        user,
        db,
        password,
        sslmode,
    }
}

const fn invalid(dsn: &'static str) -> Case {
    case(dsn, Outcome::Invalid, "", "", "", SslMode::Prefer)
}

use Outcome::*;
use SslMode::{Disable, Prefer, Require};

const CORPUS: &[Case] = &[
    // The issue's row: the '?' in the password is not the start of the query.
    case(
        "postgres://dsn_q:p?ss@127.0.0.1:{port}/dsn_db?sslmode=require",
        NeedsTls,
        Q_USER,
        "dsn_db",
        Q_PASS,
        Require,
    ),
    case(
        "postgres://dsn_q:p?ss@127.0.0.1:{port}/dsn_db?sslmode=disable",
        Connects,
        Q_USER,
        "dsn_db",
        Q_PASS,
        Disable,
    ),
    case(
        "postgres://dsn_q:p?ss@127.0.0.1:{port}/dsn_db",
        Connects,
        Q_USER,
        "dsn_db",
        Q_PASS,
        Prefer,
    ),
    case(
        "postgresql://dsn_q:p?ss@127.0.0.1:{port}/dsn_db?ssl=true",
        NeedsTls,
        Q_USER,
        "dsn_db",
        Q_PASS,
        Require,
    ),
    case(
        "postgres://dsn_q:p?ss@127.0.0.1:{port}/dsn_db?requiressl=1",
        NeedsTls,
        Q_USER,
        "dsn_db",
        Q_PASS,
        Require,
    ),
    case(
        "postgres://dsn_q:p?ss@127.0.0.1:{port}/dsn_db?sslmode=disable&",
        Connects,
        Q_USER,
        "dsn_db",
        Q_PASS,
        Disable,
    ),
    // Every special character, percent-encoded.
    case(
        "postgres://dsn_x:p%3Fss%2Fw%40rd%25x%3Ay%26z%3D1%23h@127.0.0.1:{port}/dsn_db?sslmode=disable",
        Connects,
        X_USER,
        "dsn_db",
        X_PASS,
        Disable,
    ),
    // Lower-case hex, and a '?' left as it is.
    case(
        "postgres://dsn_x:p?ss%2fw%40rd%25x%3ay%26z%3d1%23h@127.0.0.1:{port}/dsn_db?application_name=a+b%20c",
        Connects,
        X_USER,
        "dsn_db",
        X_PASS,
        Prefer,
    ),
    // The password as a query parameter; later parameters override the authority.
    case(
        "postgres://dsn_x@127.0.0.1:1/dsn_db?port={port}&password=p%3Fss%2Fw%40rd%25x%3Ay%26z%3D1%23h&sslmode=disable",
        Connects,
        X_USER,
        "dsn_db",
        X_PASS,
        Disable,
    ),
    // Several hosts.
    case(
        "postgres://dsn_q:p%3Fss@127.0.0.1:{port},127.0.0.1:{port}/dsn_db?sslmode=disable",
        Connects,
        Q_USER,
        "dsn_db",
        Q_PASS,
        Disable,
    ),
    // A percent-encoded database name.
    case(
        "postgres://dsn_q:p%3Fss@127.0.0.1:{port}/d%20b?sslmode=disable",
        Connects,
        Q_USER,
        "d b",
        Q_PASS,
        Disable,
    ),
    // key=value forms.
    case(
        "host=127.0.0.1 port={port} user=dsn_x password='p?ss/w@rd%x:y&z=1#h' dbname=dsn_db sslmode=disable",
        Connects,
        X_USER,
        "dsn_db",
        X_PASS,
        Disable,
    ),
    case(
        r"host=127.0.0.1 port={port} user=dsn_q password=p\?ss dbname = 'dsn_db'",
        Connects,
        Q_USER,
        "dsn_db",
        Q_PASS,
        Prefer,
    ),
    case(
        "host=127.0.0.1 port={port} user=dsn_q password=p?ss dbname=dsn_db sslmode=require",
        NeedsTls,
        Q_USER,
        "dsn_db",
        Q_PASS,
        Require,
    ),
    // An empty value swallows the next word: the password is "dbname=dsn_db".
    case(
        "host=127.0.0.1 port={port} user=dsn_q password= dbname=dsn_db sslmode=disable",
        AuthFails,
        Q_USER,
        Q_USER,
        "dbname=dsn_db",
        Disable,
    ),
    case(
        "postgres://dsn_q:p%3Fs@127.0.0.1:{port}/dsn_db?sslmode=disable",
        AuthFails,
        Q_USER,
        "dsn_db",
        "p?s",
        Disable,
    ),
    // What libpq refuses outright.
    invalid("postgres://dsn_x:p?ss/w@rd%x@127.0.0.1:{port}/dsn_db"),
    invalid("postgres://dsn_q:p%zz@127.0.0.1:{port}/dsn_db"),
    invalid("postgres://dsn_q:p%00@127.0.0.1:{port}/dsn_db"),
    invalid("postgres://dsn_q:p?ss@127.0.0.1:{port}/dsn_db?foo=bar"),
    invalid("postgres://dsn_q:p?ss@127.0.0.1:{port}/dsn_db?sslmode"),
    invalid("postgres://dsn_q:p?ss@127.0.0.1:{port}/dsn_db?a=1&&sslmode=disable"),
    invalid("postgres://dsn_q:p?ss@127.0.0.1:{port}/dsn_db?PASSWORD=x"),
    invalid("host=127.0.0.1 port={port} user=dsn_q password=p?ss sslmode=REQUIRE"),
    invalid("host=127.0.0.1 port={port} USER=dsn_q"),
    invalid("host=127.0.0.1 port={port} user=dsn_q password='p?ss"),
    invalid("host=127.0.0.1 port=notaport user=dsn_q"),
];

/// What psql made of a DSN: connected as (user, database, port), or its error.
fn psql(psql: &Path, dsn: &str, home: &Path) -> Result<(String, String, u16), String> {
    let out = std::process::Command::new(psql)
        .arg(dsn)
        .args([
            "-X",
            "-A",
            "-t",
            "-c",
            "select current_user, current_database(), inet_server_port()",
        ])
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PGCONNECT_TIMEOUT", "5")
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let f: Vec<&str> = text.split('|').collect();
    Ok((f[0].into(), f[1].into(), f[2].parse().unwrap()))
}

fn classify(r: &Result<(String, String, u16), String>) -> Outcome {
    match r {
        Ok(_) => Connects,
        Err(e) if e.contains("does not support SSL") => NeedsTls,
        Err(e) if e.contains("password authentication failed") => AuthFails,
        Err(_) => Invalid,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn migtop_reads_every_dsn_as_libpq_does() {
    if !pgtest::have_pg() {
        return;
    }
    let _heavy = machine::heavy().await;
    let bin = pg::PgBin::find(None).unwrap();
    let run_as = pg::RunAs::decide(None).unwrap();
    let dir = pg::create_lab_dir(&std::env::temp_dir(), run_as.as_ref()).unwrap();
    let cleanup = guard::Cleanup::new(dir.clone());
    let _guard = guard::LabGuard(cleanup.clone());
    let data = dir.join("data");
    pg::initdb(&bin, run_as.as_ref(), &dir, &data)
        .await
        .unwrap();
    // SCRAM for everyone but the superuser the helpers connect as.
    std::fs::write(
        data.join("pg_hba.conf"),
        "local all all trust\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n",
    )
    .unwrap();
    let log = dir.join("server.log");
    let port = pg::free_port().unwrap();
    let child =
        pg::spawn_server(&bin, run_as.as_ref(), &dir, &data, port, "dsn-corpus", &log).unwrap();
    cleanup.add_server("dsn", child);
    pg::wait_ready(&cleanup, "dsn", port, &log, Duration::from_secs(60))
        .await
        .unwrap();
    let admin = pgtest::connect(&pg::conninfo(port)).await;
    for sql in [
        format!("CREATE ROLE {Q_USER} LOGIN PASSWORD '{Q_PASS}'"),
        format!("CREATE ROLE {X_USER} LOGIN PASSWORD '{X_PASS}'"),
        "CREATE DATABASE dsn_db".into(),
        "CREATE DATABASE \"d b\"".into(),
    ] {
        admin.batch_execute(&sql).await.unwrap();
    }
    // The encoded form in the corpus is the password.
    assert_eq!(
        percent_encoding::percent_decode_str(X_PASS_ENC).decode_utf8_lossy(),
        X_PASS
    );

    let home = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for c in CORPUS {
        let dsn = c.dsn.replace("{port}", &port.to_string());
        let libpq = psql(&bin.tool("psql"), &dsn, home.path());
        let got = classify(&libpq);
        if got != c.outcome {
            failures.push(format!(
                "{dsn}: libpq gave {got:?} ({libpq:?}), the corpus says {:?}",
                c.outcome
            ));
            continue;
        }
        if let Ok((user, db, p)) = &libpq {
            assert_eq!(
                (user.as_str(), db.as_str(), *p),
                (c.user, c.db, port),
                "{dsn}"
            );
        }
        let source = SourceDsn::new(dsn.clone());
        let resolved = source.resolve_with(&|_| None, Some(home.path()));
        match (c.outcome, resolved) {
            (Invalid, Ok(_)) => failures.push(format!("{dsn}: libpq refuses it, migtop took it")),
            (Invalid, Err(_)) => {}
            (_, Err(e)) => failures.push(format!("{dsn}: migtop refused it: {e}")),
            (_, Ok(r)) => {
                let cfg = &r.config;
                let user = cfg.get_user().unwrap_or_default();
                let got = (
                    user,
                    cfg.get_dbname().unwrap_or(user),
                    cfg.get_password()
                        .map(|p| String::from_utf8_lossy(p).to_string()),
                    r.ssl_mode,
                    cfg.get_ports().first().copied(),
                );
                let want = (
                    c.user,
                    c.db,
                    Some(c.password.to_string()),
                    c.sslmode,
                    Some(port),
                );
                if got != want {
                    failures.push(format!("{dsn}: migtop read {got:?}, libpq {want:?}"));
                }
                // And what it connects with: the probe succeeds exactly when psql did.
                let mut probe = SourceProbe::new(source.clone(), Duration::from_secs(10)).unwrap();
                let sample = probe.sample().await;
                match (c.outcome, &sample) {
                    (Connects, Ok(_)) => {}
                    (NeedsTls | AuthFails, Err(_)) => {}
                    _ => failures.push(format!("{dsn}: the probe gave {sample:?}")),
                }
                if let Err(e) = &sample {
                    let text = e.to_string();
                    if text.contains(c.password) && c.password.len() > 3 {
                        failures.push(format!("{dsn}: the password shows in {text}"));
                    }
                }
            }
        }
        // Never shown, whatever libpq made of it.
        let shown = source.redacted();
        for secret in [Q_PASS, X_PASS, X_PASS_ENC, "p%3Fss", "w@rd"] {
            if shown.contains(secret) {
                failures.push(format!("{dsn}: shown as {shown}"));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
