//! Cleaning up after the lab whatever happens: both servers stopped, the directory removed.
//!
//! - Drop of the lab (normal return, `?`, and unwinding from a panic) runs the cleanup.
//! - [`cleanup_all`] runs every live lab's cleanup; it is registered with `atexit`, so
//!   `std::process::exit` while a lab is alive elsewhere still cleans up.
//! - [`exit_on_signals`] turns SIGINT, SIGTERM and SIGHUP into cleanup plus exit.
//! - A lab killed with SIGKILL cannot clean up: [`sweep_stale`] removes such leftovers (whose
//!   owner pid, in the directory name, is gone) when the next lab starts.
//!
//! Stopping a server is PostgreSQL's immediate shutdown (SIGQUIT to the postmaster, what
//! `pg_ctl stop -m immediate` sends), then SIGKILL if it is still there after a few seconds.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once, Weak};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// How long a server gets to leave after SIGQUIT before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);

static REGISTRY: Mutex<Vec<Weak<Cleanup>>> = Mutex::new(Vec::new());
static ATEXIT: Once = Once::new();

/// One server process the lab started.
struct Server {
    name: String,
    child: Child,
}

/// What must be undone for one lab; runs at most once.
pub struct Cleanup {
    dir: PathBuf,
    servers: Mutex<Vec<Server>>,
    done: AtomicBool,
    grace: Duration,
}

impl Cleanup {
    /// A cleanup for the lab in `dir`, registered for [`cleanup_all`].
    pub fn new(dir: PathBuf) -> Arc<Cleanup> {
        Cleanup::with_grace(dir, STOP_GRACE)
    }

    /// As [`Cleanup::new`], with another delay between SIGQUIT and SIGKILL.
    pub fn with_grace(dir: PathBuf, grace: Duration) -> Arc<Cleanup> {
        let c = Arc::new(Cleanup {
            dir,
            servers: Mutex::new(Vec::new()),
            done: AtomicBool::new(false),
            grace,
        });
        let mut reg = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
        reg.retain(|w| w.strong_count() > 0);
        reg.push(Arc::downgrade(&c));
        drop(reg);
        ATEXIT.call_once(|| {
            // Neither nix nor rustix wraps atexit(3) (Rust has no exit hooks), so this stays the
            // one raw libc call. SAFETY: registering a plain extern "C" function with no
            // captured state.
            unsafe {
                libc::atexit(cleanup_at_exit);
            }
        });
        c
    }

    /// The lab directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Adds a server to stop; servers are stopped in reverse order of adding.
    pub fn add_server(&self, name: &str, child: Child) {
        let mut s = self.servers.lock().unwrap_or_else(|e| e.into_inner());
        s.push(Server {
            name: name.to_string(),
            child,
        });
    }

    /// Stops the named server now and forgets it (a failed start).
    pub fn stop_server(&self, name: &str) {
        let taken = {
            let mut s = self.servers.lock().unwrap_or_else(|e| e.into_inner());
            s.iter().position(|s| s.name == name).map(|i| s.remove(i))
        };
        if let Some(mut s) = taken {
            stop(&mut s.child, &s.name, self.grace);
        }
    }

    /// Pids of the servers added, by name.
    pub fn pids(&self) -> Vec<(String, u32)> {
        let s = self.servers.lock().unwrap_or_else(|e| e.into_inner());
        s.iter().map(|s| (s.name.clone(), s.child.id())).collect()
    }

    /// Whether the named server's process has exited.
    pub fn exited(&self, name: &str) -> bool {
        let mut s = self.servers.lock().unwrap_or_else(|e| e.into_inner());
        s.iter_mut()
            .find(|s| s.name == name)
            .is_none_or(|s| !matches!(s.child.try_wait(), Ok(None)))
    }

    /// True once the cleanup ran.
    pub fn is_done(&self) -> bool {
        self.done.load(Ordering::SeqCst)
    }

    /// Stops every server and removes the directory. Idempotent; blocking (a few seconds at
    /// worst).
    pub fn run(&self) {
        if self.done.swap(true, Ordering::SeqCst) {
            return;
        }
        let mut servers = {
            let mut s = self.servers.lock().unwrap_or_else(|e| e.into_inner());
            std::mem::take(&mut *s)
        };
        while let Some(mut s) = servers.pop() {
            stop(&mut s.child, &s.name, self.grace);
        }
        if let Err(e) = std::fs::remove_dir_all(&self.dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            eprintln!(
                "migtop: could not remove the lab directory {}: {e}",
                self.dir.display()
            );
        }
    }
}

/// Runs the cleanup when the last owner lets go.
pub struct LabGuard(pub Arc<Cleanup>);

impl Drop for LabGuard {
    fn drop(&mut self) {
        self.0.run();
    }
}

/// Immediate shutdown, then SIGKILL after `grace`; always reaps the child.
fn stop(child: &mut Child, name: &str, grace: Duration) {
    if matches!(child.try_wait(), Ok(Some(_))) {
        return;
    }
    let pid = child.id() as i32;
    // Our own child, not yet reaped: the pid is still ours.
    let _ = kill(Pid::from_raw(pid), Signal::SIGQUIT);
    let start = Instant::now();
    while start.elapsed() < grace {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    tracing::warn!("lab {name} server (pid {pid}) ignored SIGQUIT; killing it");
    let _ = child.kill();
    let _ = child.wait();
}

/// Cleans up every lab still alive in this process.
pub fn cleanup_all() {
    let labs: Vec<Arc<Cleanup>> = {
        let reg = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
        reg.iter().filter_map(Weak::upgrade).collect()
    };
    for l in labs {
        l.run();
    }
}

extern "C" fn cleanup_at_exit() {
    // At exit another thread may hold the registry; never block the exit on it.
    let labs: Vec<Arc<Cleanup>> = match REGISTRY.try_lock() {
        Ok(reg) => reg.iter().filter_map(Weak::upgrade).collect(),
        Err(_) => return,
    };
    for l in labs {
        l.run();
    }
}

/// On SIGINT, SIGTERM or SIGHUP: clean up every lab, then exit with 128 + the signal number.
/// For commands whose only job is the lab (`migtop lab --serve`); a dashboard handles its
/// own signals and lets the lab drop. Must be called inside a tokio runtime.
pub fn exit_on_signals() -> std::io::Result<tokio::task::JoinHandle<()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    Ok(tokio::spawn(async move {
        let code = tokio::select! {
            _ = int.recv() => 128 + Signal::SIGINT as i32,
            _ = term.recv() => 128 + Signal::SIGTERM as i32,
            _ = hup.recv() => 128 + Signal::SIGHUP as i32,
        };
        let _ = tokio::task::spawn_blocking(cleanup_all).await;
        std::process::exit(code);
    }))
}

/// Removes labs left in `parent` by processes that no longer exist (killed with SIGKILL):
/// their servers are stopped and their directories removed. Returns the directories removed.
pub fn sweep_stale(parent: &Path) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(parent) else {
        return removed;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(owner) = name
            .to_str()
            .and_then(|n| n.strip_prefix("migtop-lab-"))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<i32>().ok())
        else {
            continue;
        };
        if owner == std::process::id() as i32 || alive(owner) {
            continue;
        }
        let dir = e.path();
        for server in ["standby", "primary"] {
            let data = dir.join(server);
            if let Some(pid) = postmaster_pid(&data)
                && alive(pid)
                && runs_in(pid, &data)
            {
                // A process identified as this lab's postmaster (see `runs_in`).
                let _ = kill(Pid::from_raw(pid), Signal::SIGQUIT);
                let start = Instant::now();
                while alive(pid) && start.elapsed() < STOP_GRACE {
                    std::thread::sleep(Duration::from_millis(20));
                }
                if alive(pid) {
                    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                }
            }
        }
        if std::fs::remove_dir_all(&dir).is_ok() {
            tracing::info!("removed a stale lab left by pid {owner}: {}", dir.display());
            removed.push(dir);
        }
    }
    removed
}

/// The postmaster's pid from `postmaster.pid` in a data directory.
fn postmaster_pid(data: &Path) -> Option<i32> {
    std::fs::read_to_string(data.join("postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

/// Whether a process exists (zombies count as gone).
pub fn alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state is the field after the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        // Without /proc, ask the kernel.
        // Without /proc, ask the kernel (no signal: only checks for existence).
        Err(_) => kill(Pid::from_raw(pid), None).is_ok(),
    }
}

/// Whether `pid` is the postmaster of `data` (its command line names the directory), so a
/// recycled pid or another namespace's process is never signalled.
fn runs_in(pid: i32, data: &Path) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let want = data.as_os_str().as_encoded_bytes();
    cmdline.split(|b| *b == 0).any(|arg| arg == want)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    // cleanup_all reaches every lab in the process: these tests take turns.
    static SERIAL: Mutex<()> = Mutex::new(());

    fn serial() -> std::sync::MutexGuard<'static, ()> {
        SERIAL.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn sleeper() -> Child {
        Command::new("sleep").arg("600").spawn().unwrap()
    }

    #[test]
    fn drop_stops_processes_and_removes_the_directory() {
        let _serial = serial();
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("migtop-lab-test");
        std::fs::create_dir_all(dir.join("primary")).unwrap();
        std::fs::write(dir.join("primary/file"), "x").unwrap();
        let c = Cleanup::new(dir.clone());
        c.add_server("primary", sleeper());
        c.add_server("standby", sleeper());
        let pids: Vec<i32> = c.pids().iter().map(|(_, p)| *p as i32).collect();
        assert!(pids.iter().all(|p| alive(*p)));
        assert!(!c.exited("primary"));
        drop(LabGuard(c.clone()));
        assert!(c.is_done());
        assert!(pids.iter().all(|p| !alive(*p)), "servers still running");
        assert!(!dir.exists(), "directory left behind");
        c.run(); // idempotent
    }

    #[test]
    fn a_process_ignoring_sigquit_is_killed() {
        let _serial = serial();
        let dir = tempfile::tempdir().unwrap().keep();
        let grace = Duration::from_millis(300);
        let c = Cleanup::with_grace(dir.clone(), grace);
        // An ignored signal stays ignored across exec.
        let stubborn = Command::new("sh")
            .args(["-c", "trap '' QUIT; exec sleep 600"])
            .spawn()
            .unwrap();
        let pid = stubborn.id() as i32;
        c.add_server("primary", stubborn);
        std::thread::sleep(Duration::from_millis(100));
        let t = Instant::now();
        c.run();
        assert!(!alive(pid));
        assert!(t.elapsed() >= grace);
        assert!(!dir.exists());
    }

    #[test]
    fn cleanup_all_reaches_registered_labs_and_skips_dropped_ones() {
        let _serial = serial();
        let dir = tempfile::tempdir().unwrap().keep();
        let c = Cleanup::new(dir.clone());
        c.add_server("primary", sleeper());
        let pid = c.pids()[0].1 as i32;
        let gone = Cleanup::new(tempfile::tempdir().unwrap().keep());
        gone.run();
        drop(gone);
        cleanup_all();
        assert!(c.is_done());
        assert!(!alive(pid));
        assert!(!dir.exists());
    }

    #[test]
    fn stale_labs_of_dead_owners_are_swept() {
        let parent = tempfile::tempdir().unwrap();
        // A pid that cannot be running: above the kernel's pid_max (4194304 at most).
        let stale = parent.path().join("migtop-lab-99999999-abcd");
        std::fs::create_dir_all(stale.join("primary")).unwrap();
        let mine = parent
            .path()
            .join(format!("migtop-lab-{}-abcd", std::process::id()));
        std::fs::create_dir_all(&mine).unwrap();
        let other = parent.path().join("unrelated");
        std::fs::create_dir_all(&other).unwrap();
        let removed = sweep_stale(parent.path());
        assert_eq!(removed, vec![stale.clone()]);
        assert!(!stale.exists() && mine.exists() && other.exists());
    }
}
