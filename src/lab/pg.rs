//! Real PostgreSQL clusters for the lab: finding the binaries, the unprivileged user they run
//! as, `initdb`, `pg_basebackup`, starting servers and waiting until they answer.
//!
//! Servers are started as direct children (`postgres -D DIR -p PORT`, in their own process
//! group so a terminal's Ctrl-C reaches migtop, not them) so the lab always knows their pids
//! and can stop them itself. When migtop runs as root they run as an unprivileged user
//! (`postgres` by default) through `setuid`/`setgid` on the child, like `runuser -u postgres`
//! without an intermediate process that could outlive a kill.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};

/// Oldest major version the lab supports (`pg_stat_wal_receiver.flushed_lsn` is 13+).
pub const MIN_MAJOR: u32 = 13;

/// The PostgreSQL server binaries.
#[derive(Debug, Clone)]
pub struct PgBin {
    pub dir: PathBuf,
    pub major: u32,
    /// `postgres --version`, e.g. `postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)`.
    pub version: String,
}

impl PgBin {
    /// Finds the server binaries: `explicit`, else `MIGTOP_PG_BINDIR` (either one is then the
    /// only place looked at: an explicit choice never silently falls back), else
    /// `/usr/lib/postgresql/15/bin`, `pg_config --bindir`, the newest
    /// `/usr/lib/postgresql/*/bin`, then `initdb` on PATH.
    pub fn find(explicit: Option<&Path>) -> anyhow::Result<PgBin> {
        let mut tried = Vec::new();
        let mut candidates: Vec<PathBuf> = Vec::new();
        let chosen = explicit
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("MIGTOP_PG_BINDIR").map(PathBuf::from));
        if let Some(dir) = chosen {
            return PgBin::at(&dir)?.ok_or_else(|| {
                anyhow::anyhow!(
                    "PostgreSQL server binaries (initdb, postgres, pg_basebackup) not found in {} \
                     (MIGTOP_PG_BINDIR or the lab's bindir option)",
                    dir.display()
                )
            });
        }
        candidates.push(PathBuf::from("/usr/lib/postgresql/15/bin"));
        if let Ok(out) = std::process::Command::new("pg_config")
            .arg("--bindir")
            .stderr(Stdio::null())
            .output()
            && out.status.success()
        {
            candidates.push(PathBuf::from(
                String::from_utf8_lossy(&out.stdout).trim().to_string(),
            ));
        }
        if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
            let mut versions: Vec<(u32, PathBuf)> = entries
                .flatten()
                .filter_map(|e| {
                    let v = e.file_name().to_str()?.parse::<u32>().ok()?;
                    Some((v, e.path().join("bin")))
                })
                .collect();
            versions.sort_by_key(|v| std::cmp::Reverse(v.0));
            candidates.extend(versions.into_iter().map(|(_, p)| p));
        }
        if let Some(path) = std::env::var_os("PATH") {
            candidates.extend(std::env::split_paths(&path));
        }
        for dir in candidates {
            if tried.contains(&dir) {
                continue;
            }
            tried.push(dir.clone());
            if let Some(bin) = PgBin::at(&dir)? {
                return Ok(bin);
            }
        }
        bail!(
            "PostgreSQL server binaries (initdb, postgres, pg_basebackup) not found; looked in \
             /usr/lib/postgresql/*/bin, pg_config --bindir and PATH. Install them with \
             `.ci/install-postgres` (Debian: apt-get install postgresql-15) or set MIGTOP_PG_BINDIR"
        )
    }

    /// The binaries in `dir`: `None` if they are not all there, an error if too old.
    fn at(dir: &Path) -> anyhow::Result<Option<PgBin>> {
        let all_there = ["initdb", "postgres", "pg_basebackup"]
            .iter()
            .all(|t| is_executable(&dir.join(t)));
        if !all_there {
            return Ok(None);
        }
        let out = std::process::Command::new(dir.join("postgres"))
            .arg("--version")
            .output()
            .with_context(|| format!("cannot run {}/postgres", dir.display()))?;
        let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let major = parse_major(&version)
            .with_context(|| format!("cannot read the version from {version:?}"))?;
        if major < MIN_MAJOR {
            bail!(
                "{} is PostgreSQL {major}; the lab needs {MIN_MAJOR} or newer",
                dir.display()
            );
        }
        Ok(Some(PgBin {
            dir: dir.to_path_buf(),
            major,
            version,
        }))
    }

    /// Path of one tool. `pgbench` may live elsewhere (e.g. /usr/bin), so PATH is searched too.
    pub fn tool(&self, name: &str) -> PathBuf {
        let p = self.dir.join(name);
        if is_executable(&p) {
            return p;
        }
        if let Some(path) = std::env::var_os("PATH") {
            for d in std::env::split_paths(&path) {
                if is_executable(&d.join(name)) {
                    return d.join(name);
                }
            }
        }
        p
    }
}

fn is_executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `postgres (PostgreSQL) 15.18 (Debian ...)` → 15; `... 9.6.1` → 9.
pub fn parse_major(version: &str) -> Option<u32> {
    let num = version
        .split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))?;
    num.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// The unprivileged account servers run as when migtop runs as root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAs {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

impl RunAs {
    /// `None` when not root (servers run as ourselves); else the named user (default
    /// `postgres`), which must exist.
    pub fn decide(user: Option<&str>) -> anyhow::Result<Option<RunAs>> {
        if !nix::unistd::geteuid().is_root() {
            return Ok(None);
        }
        let name = user.unwrap_or("postgres");
        let (uid, gid) = lookup_user(name).with_context(|| {
            format!(
                "PostgreSQL refuses to run as root and there is no user {name:?} to run it as; \
                 create one (`useradd --system {name}`) or name another"
            )
        })?;
        if uid == 0 {
            bail!("the lab's servers cannot run as {name:?}: it is root");
        }
        Ok(Some(RunAs {
            name: name.to_string(),
            uid,
            gid,
        }))
    }
}

/// The uid and gid of user `name` (getpwnam_r, through nix).
fn lookup_user(name: &str) -> Option<(u32, u32)> {
    let user = nix::unistd::User::from_name(name).ok()??;
    Some((user.uid.as_raw(), user.gid.as_raw()))
}

/// Makes a command run as `run_as` (if any), away from the terminal's process group, with no
/// inherited libpq environment (PGHOST, PGPORT, ... would redirect the tools).
pub fn prepare(cmd: &mut std::process::Command, run_as: Option<&RunAs>, cwd: &Path) {
    for (k, _) in std::env::vars_os() {
        if k.to_str().is_some_and(|k| k.starts_with("PG")) {
            cmd.env_remove(k);
        }
    }
    cmd.current_dir(cwd).stdin(Stdio::null()).process_group(0);
    if let Some(u) = run_as {
        cmd.uid(u.uid).gid(u.gid);
        cmd.env("HOME", cwd)
            .env("USER", &u.name)
            .env("LOGNAME", &u.name);
    }
}

/// Runs a tool to completion (off the async threads) and fails with its output's tail.
pub async fn run_tool(
    mut cmd: std::process::Command,
    what: &str,
    timeout: Duration,
) -> anyhow::Result<()> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut cmd = tokio::process::Command::from(cmd);
    cmd.kill_on_drop(true);
    let child = cmd
        .spawn()
        .with_context(|| format!("cannot start {what}"))?;
    let out = tokio::time::timeout(timeout, child.wait_with_output())
        .await
        .map_err(|_| anyhow::anyhow!("{what} did not finish within {} s", timeout.as_secs()))?
        .with_context(|| format!("{what} failed to run"))?;
    if !out.status.success() {
        let mut text = String::from_utf8_lossy(&out.stderr).to_string();
        text.push_str(&String::from_utf8_lossy(&out.stdout));
        bail!("{what} failed ({}): {}", out.status, tail(&text, 12));
    }
    Ok(())
}

/// The last `n` non-empty lines of a text, joined with " | ".
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

/// The last lines of a server log, for error messages.
pub fn log_tail(path: &Path, n: usize) -> String {
    std::fs::read_to_string(path)
        .map(|t| tail(&t, n))
        .unwrap_or_else(|_| format!("(no log at {})", path.display()))
}

/// A free loopback TCP port (bound then released; the caller retries if it is taken since).
pub fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("cannot bind a loopback port")?;
    Ok(l.local_addr()?.port())
}

/// Settings of the lab's primary, inherited by the standby through `pg_basebackup`.
pub const SERVER_CONF: &str = "
# --- migtop lab ---
listen_addresses = '127.0.0.1'
max_connections = 40
shared_buffers = 16MB
# logical: the lab makes a logical slot for the source checklist to find (a standby works
# the same at either level); prepared transactions: the checklist names one left open.
wal_level = logical
max_prepared_transactions = 4
max_wal_senders = 4
max_replication_slots = 4
wal_keep_size = 128MB
max_slot_wal_keep_size = 2GB
min_wal_size = 32MB
max_wal_size = 256MB
# A throwaway lab: durability is not the point, speed is.
fsync = off
hot_standby = on
wal_receiver_status_interval = 1s
wal_retrieve_retry_interval = 1s
wal_receiver_timeout = 30s
wal_sender_timeout = 30s
datestyle = 'iso, mdy'
timezone = 'UTC'
log_timezone = 'UTC'
log_line_prefix = '%m [%p] %q%a '
log_checkpoints = off
";

/// `initdb` of a fresh cluster with the lab's settings.
pub async fn initdb(
    bin: &PgBin,
    run_as: Option<&RunAs>,
    lab_dir: &Path,
    data: &Path,
) -> anyhow::Result<()> {
    let mut cmd = std::process::Command::new(bin.tool("initdb"));
    prepare(&mut cmd, run_as, lab_dir);
    cmd.arg("-D")
        .arg(data)
        .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"])
        .arg("--no-sync");
    run_tool(cmd, "initdb", Duration::from_secs(120)).await?;
    let conf = data.join("postgresql.conf");
    let mut text = std::fs::read_to_string(&conf).context("cannot read postgresql.conf")?;
    text.push_str(SERVER_CONF);
    std::fs::write(&conf, text).context("cannot write postgresql.conf")?;
    Ok(())
}

/// `pg_basebackup -R` of the standby from `port` (the link), with a replication slot.
pub async fn basebackup(
    bin: &PgBin,
    run_as: Option<&RunAs>,
    lab_dir: &Path,
    data: &Path,
    port: u16,
    slot: &str,
) -> anyhow::Result<()> {
    let mut cmd = std::process::Command::new(bin.tool("pg_basebackup"));
    prepare(&mut cmd, run_as, lab_dir);
    cmd.arg("-D")
        .arg(data)
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres"])
        .args(["-R", "-X", "stream", "-c", "fast", "-C", "-S", slot])
        .arg("--no-sync");
    run_tool(cmd, "pg_basebackup", Duration::from_secs(300)).await
}

/// Starts `postgres -D data -p port` as a child writing its log to `log`.
pub fn spawn_server(
    bin: &PgBin,
    run_as: Option<&RunAs>,
    lab_dir: &Path,
    data: &Path,
    port: u16,
    cluster_name: &str,
    log: &Path,
) -> anyhow::Result<std::process::Child> {
    // A fresh log per start, so a retry is judged on its own output.
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(log)
        .with_context(|| format!("cannot open {}", log.display()))?;
    let mut cmd = std::process::Command::new(bin.tool("postgres"));
    prepare(&mut cmd, run_as, lab_dir);
    // The Unix socket lives in the lab directory (private, removed with it); a path too long
    // for a socket means TCP only.
    let sockets = if lab_dir.as_os_str().len() < 90 {
        lab_dir.display().to_string()
    } else {
        String::new()
    };
    cmd.arg("-D")
        .arg(data)
        .args(["-p", &port.to_string()])
        .args(["-c", &format!("unix_socket_directories={sockets}")])
        .args(["-c", &format!("cluster_name={cluster_name}")])
        .stdout(log_file.try_clone()?)
        .stderr(log_file);
    cmd.spawn()
        .with_context(|| format!("cannot start {}", bin.tool("postgres").display()))
}

/// `host=127.0.0.1 port=P user=postgres dbname=postgres`.
pub fn conninfo(port: u16) -> String {
    format!("host=127.0.0.1 port={port} user=postgres dbname=postgres connect_timeout=5")
}

/// Waits until the named server accepts connections; fails early with its log if it exits.
pub async fn wait_ready(
    cleanup: &super::guard::Cleanup,
    name: &str,
    port: u16,
    log: &Path,
    timeout: Duration,
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if cleanup.exited(name) {
            bail!(
                "the server on port {port} exited during startup: {}",
                log_tail(log, 8)
            );
        }
        let last_err = match tokio_postgres::connect(&conninfo(port), tokio_postgres::NoTls).await {
            Ok((client, conn)) => {
                drop(client);
                let _ = conn.await;
                return Ok(());
            }
            Err(e) => crate::probe::error_text(&e),
        };
        if tokio::time::Instant::now() > deadline {
            bail!(
                "the server on port {port} did not accept connections within {} s ({last_err}): {}",
                timeout.as_secs(),
                log_tail(log, 8)
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// True if a server log shows it lost a race for its port.
pub fn lost_port_race(log: &Path) -> bool {
    std::fs::read_to_string(log).is_ok_and(|t| {
        t.contains("could not bind") || t.contains("could not create any TCP/IP sockets")
    })
}

/// Creates the lab directory `PARENT/migtop-lab-PID-RANDOM`, private to the server user.
pub fn create_lab_dir(parent: &Path, run_as: Option<&RunAs>) -> anyhow::Result<PathBuf> {
    let name = format!(
        "migtop-lab-{}-{}",
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let dir = parent.join(name);
    std::fs::create_dir(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    if let Some(u) = run_as {
        std::os::unix::fs::chown(&dir, Some(u.uid), Some(u.gid))
            .with_context(|| format!("cannot give {} to {}", dir.display(), u.name))?;
        if let Some(blocker) = unreachable_ancestor(&dir, u) {
            let _ = std::fs::remove_dir(&dir);
            bail!(
                "user {} cannot reach {} because {} is closed to it; set TMPDIR to a directory it can enter (e.g. /tmp)",
                u.name,
                dir.display(),
                blocker.display()
            );
        }
    }
    Ok(dir)
}

/// The first ancestor `u` cannot traverse (no x permission for it), if any.
fn unreachable_ancestor(dir: &Path, u: &RunAs) -> Option<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    for a in dir.ancestors().skip(1) {
        let Ok(m) = std::fs::metadata(a) else {
            return Some(a.to_path_buf());
        };
        let mode = m.mode();
        let ok = if m.uid() == u.uid {
            mode & 0o100 != 0
        } else if m.gid() == u.gid {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        };
        if !ok {
            return Some(a.to_path_buf());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(
            parse_major("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"),
            Some(15)
        );
        assert_eq!(parse_major("postgres (PostgreSQL) 9.6.24"), Some(9));
        assert_eq!(parse_major("postgres (PostgreSQL) 17beta1"), Some(17));
        assert_eq!(parse_major("nothing"), None);
    }

    #[test]
    fn tails() {
        assert_eq!(tail("a\n\nb\nc\n", 2), "b | c");
        assert_eq!(tail("", 3), "");
    }

    #[test]
    fn lab_dirs_are_private_and_named_for_the_owner() {
        let parent = tempfile::tempdir().unwrap();
        let d = create_lab_dir(parent.path(), None).unwrap();
        let name = d.file_name().unwrap().to_str().unwrap().to_string();
        assert!(name.starts_with(&format!("migtop-lab-{}-", std::process::id())));
        let mode = std::fs::metadata(&d).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }
}
