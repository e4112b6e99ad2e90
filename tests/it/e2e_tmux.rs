//! End to end: the real binary's `demo` in a detached tmux pane at 80x24, driven by keys and
//! read back with `tmux capture-pane`, as a DBA would see it.

use std::process::{Command, Output};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::support::{machine, tools};

/// A private tmux server (its own socket), killed when the test ends, pass or fail.
pub(crate) struct Tmux {
    pub(crate) socket: String,
    pub(crate) session: String,
}

impl Tmux {
    /// A private server (socket `migtop-<name>-<pid>`) running `cmd` in a detached `w`×`h`
    /// session; `None` where tmux is not installed (a printed skip, a failure under CI: see
    /// [`tools`]).
    pub(crate) fn start(name: &str, (w, h): (u16, u16), cmd: &str) -> Option<Tmux> {
        tools::tmux()?;
        let t = Tmux {
            socket: format!("migtop-{name}-{}", std::process::id()),
            session: name.into(),
        };
        t.launch((w, h), cmd);
        Some(t)
    }

    /// Runs `cmd` in a fresh session (ending the one before). A shell around it waits for it
    /// and prints `MIGTOP-EXIT=<code>` when it ends (tmux itself is slow to reap a
    /// multi-threaded child, so #{pane_dead_status} is unreliable), then keeps the pane.
    pub(crate) fn launch(&self, (w, h): (u16, u16), cmd: &str) {
        let _ = self.run(&["kill-session", "-t", &self.session]);
        let (w, h) = (w.to_string(), h.to_string());
        let cmd = format!("{cmd}; echo MIGTOP-EXIT=$?; sleep 60");
        let out = self.run(&[
            "new-session",
            "-d",
            "-s",
            &self.session,
            "-x",
            &w,
            "-y",
            &h,
            &cmd,
        ]);
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Sends `key` and checks that it quits as a DBA expects: exit code 0 (as the shell
    /// printed it) and the terminal back on its main screen. The screen after, for more checks.
    pub(crate) fn quit_with(&self, key: &str) -> String {
        self.keys(&[key]);
        let after = self.wait_for("migtop to exit", Duration::from_secs(10), |s| {
            s.contains("MIGTOP-EXIT=")
        });
        let code = after
            .split("MIGTOP-EXIT=")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or_default();
        assert_eq!(code, "0", "{after}");
        assert_eq!(
            self.format("#{alternate_on}"),
            "0",
            "left the alternate screen"
        );
        after
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux runs")
    }

    pub(crate) fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.session];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success());
    }

    /// The pane's text; with `escapes`, including SGR sequences (to see the selection).
    pub(crate) fn capture(&self, escapes: bool) -> String {
        let mut args = vec!["capture-pane", "-p", "-t", &self.session];
        if escapes {
            args.push("-e");
        }
        String::from_utf8_lossy(&self.run(&args).stdout).into_owned()
    }

    pub(crate) fn format(&self, f: &str) -> String {
        let out = self.run(&["display-message", "-p", "-t", &self.session, f]);
        assert!(
            out.status.success(),
            "tmux display-message: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Waits until `pred` holds for the pane text, or fails with the last screen.
    pub(crate) fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let start = Instant::now();
        loop {
            let s = self.capture(false);
            if pred(&s) {
                return s;
            }
            if start.elapsed() > timeout {
                panic!("timed out waiting for {what}; the screen was:\n{s}");
            }
            sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// The text of the row drawn in reverse video (the selected task), if any.
fn selected_row(escaped: &str) -> Option<String> {
    escaped.lines().find(|l| l.contains("\x1b[7m")).map(|l| {
        // Strip escape sequences.
        let mut out = String::new();
        let mut chars = l.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for d in chars.by_ref() {
                    if d.is_ascii_alphabetic() {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    })
}

#[test]
fn demo_in_tmux_80x24() {
    // Keys are sent and the screen read at human pace: no lab or pip install meanwhile.
    let _machine = machine::quiet();
    let bin = env!("CARGO_BIN_EXE_migtop");
    let cmd = format!("{bin} demo --speed 20 --no-bell");
    let Some(t) = Tmux::start("e2e", (80, 24), &cmd) else {
        return;
    };

    // Tasks at several stages (with the simulated probe's lag rows, 80x24 shows five tasks:
    // the last ones are seen from the end of the list).
    let stages = ["precheck", "basebackup", "increment", "success"];
    let screen = t.wait_for("tasks listed", Duration::from_secs(30), |s| {
        s.contains("Tasks (") && stages.iter().filter(|st| s.contains(*st)).count() >= 2
    });
    t.keys(&["G"]);
    let end = t.wait_for("the end of the list", Duration::from_secs(10), |s| {
        s.contains("hr-migrate")
    });
    t.keys(&["g"]);
    let seen = stages
        .iter()
        .filter(|st| screen.contains(*st) || end.contains(*st))
        .count();
    assert!(seen >= 3, "{screen}\n{end}");
    t.wait_for("back at the top", Duration::from_secs(10), |s| {
        s.contains("erp-precheck-1")
    });
    assert!(screen.contains("Lag"), "{screen}");
    assert!(screen.contains("Precheck log"), "{screen}");

    // The selection moves with the keyboard.
    let first = selected_row(&t.capture(true)).expect("a selected row");
    t.keys(&["j"]);
    sleep(Duration::from_millis(500));
    let second = selected_row(&t.capture(true)).expect("a selected row");
    assert_ne!(first, second, "j moved the selection");

    // Some task's precheck log has the glibc warning: search for it on each task.
    // (The search leaves focus on the log; Tab gives j back to the task list.)
    t.keys(&["g", "/", "glibc", "Enter", "Tab"]);
    let mut found = false;
    for _ in 0..20 {
        sleep(Duration::from_millis(300));
        let s = t.capture(false);
        if s.contains("glibc version compatible") {
            found = true;
            break;
        }
        t.keys(&["j", "n"]);
    }
    assert!(
        found,
        "no task showed the glibc warning:\n{}",
        t.capture(false)
    );
    t.keys(&["Escape", "Escape"]);

    // Help opens and closes.
    t.keys(&["?"]);
    t.wait_for("the help overlay", Duration::from_secs(5), |s| {
        s.contains("Help") && s.contains("switchover") && s.contains("Ctrl-C")
    });
    t.keys(&["Escape"]);
    t.wait_for("help to close", Duration::from_secs(5), |s| {
        !s.contains("this help")
    });

    // q quits: the process ends with 0 and the terminal is back on the main screen.
    let after = t.quit_with("q");
    assert!(
        !after.contains("Precheck log"),
        "dashboard left on screen:\n{after}"
    );
}

/// F1 opens and closes the help, a clipped task list says how many rows are below, F10
/// quits with 0 and restores the terminal.
#[test]
fn f1_f10_and_the_more_marker_in_tmux_80x24() {
    let _machine = machine::quiet();
    let bin = env!("CARGO_BIN_EXE_migtop");
    let cmd = format!("{bin} demo --speed 20 --no-bell");
    let Some(t) = Tmux::start("e2e-keys", (80, 24), &cmd) else {
        return;
    };
    // The demo has more tasks than 80x24 shows: the list says so.
    let screen = t.wait_for("the more marker", Duration::from_secs(30), |s| {
        s.contains("Tasks (") && s.contains("more ─")
    });
    assert!(screen.contains("▼ "), "{screen}");

    t.keys(&["F1"]);
    t.wait_for("the help overlay", Duration::from_secs(5), |s| {
        s.contains("this help") && s.contains("F10")
    });
    t.keys(&["F1"]);
    t.wait_for("help to close", Duration::from_secs(5), |s| {
        !s.contains("this help")
    });

    t.quit_with("F10");
}

/// `watch --cutover NAME` takes its instance, endpoint and thresholds from the config file:
/// the dashboard shows the cutover's instance, its `max_lag` and its poll interval.
#[test]
fn a_named_cutover_drives_watch_in_tmux() {
    use std::sync::Arc;

    use crate::support::http;

    let _machine = machine::quiet();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (addr, _) = rt.block_on(http::serve(Arc::new(|_, _| (200, http::sample()))));
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join(".config/migtop");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "[defaults]\nendpoint = \"http://{addr}\"\n\n[cutover.prod]\n\
             instances = [\"pgm-bp102g323jd4\"]\nmax_lag = \"3MiB\"\ninterval = \"7s\"\n"
        ),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_migtop");
    let cmd = format!(
        "env HOME={} ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI5tCFGTEST \
         ALIBABA_CLOUD_ACCESS_KEY_SECRET=cfg-test-secret {bin} watch --cutover prod --no-bell",
        home.path().display()
    );
    let Some(t) = Tmux::start("e2e-cutover", (120, 40), &cmd) else {
        return;
    };
    // The first frame can come before the first poll's answer: wait for the tasks.
    let screen = t.wait_for(
        "the cutover's instance and its tasks",
        Duration::from_secs(30),
        |s| s.contains("pgm-bp102g323jd4") && s.contains("Tasks (") && !s.contains("Tasks (0)"),
    );
    assert!(
        screen.contains("every 7s"),
        "the cutover's interval:\n{screen}"
    );
    assert!(
        screen.contains("3.00 MiB") || screen.contains("3 MiB"),
        "the cutover's max_lag:\n{screen}"
    );
    assert!(!screen.contains("cfg-test-secret"), "{screen}");
    t.quit_with("q");
}

/// A recording that cannot be written (`/dev/full`: every write fails) stops with a notice,
/// written off the event loop, and the dashboard goes on: Esc closes the notice, keys work.
#[cfg(target_os = "linux")]
#[test]
fn a_recording_that_cannot_be_written_stops_with_a_notice() {
    let _machine = machine::quiet();
    let bin = env!("CARGO_BIN_EXE_migtop");
    let cmd = format!("{bin} demo --speed 20 --no-bell --record /dev/full");
    let Some(t) = Tmux::start("e2e-record-full", (100, 30), &cmd) else {
        return;
    };
    let screen = t.wait_for("the recording's notice", Duration::from_secs(30), |s| {
        s.contains("Recording stopped")
    });
    assert!(screen.contains("goes on without recording"), "{screen}");
    t.keys(&["Escape"]);
    t.wait_for("the notice closed", Duration::from_secs(5), |s| {
        !s.contains("Recording stopped") && s.contains("Tasks (")
    });
    t.keys(&["?"]);
    t.wait_for("the help", Duration::from_secs(5), |s| {
        s.contains("this help")
    });
    t.keys(&["Escape"]);
    t.quit_with("q");
}
