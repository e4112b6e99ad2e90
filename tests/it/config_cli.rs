//! The config file, completions, the man page and the first-run hint, through the real binary.

use std::path::Path;
use std::sync::Arc;

use tokio::process::Command;

use crate::support::http;

/// Runs migtop with HOME at `home` (so `~/.config/migtop/config.toml` is the test's).
async fn migtop(home: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_migtop"))
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tCFGTEST")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "cfg-test-secret")
        .output()
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn write_config(home: &Path, text: &str) {
    let dir = home.join(".config/migtop");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), text).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_named_cutover_drives_status() {
    let (addr, _) = http::serve(Arc::new(|_, _| (200, http::sample()))).await;
    let home = tempfile::tempdir().unwrap();
    write_config(
        home.path(),
        &format!(
            "[defaults]\nendpoint = \"http://{addr}\"\n\n[cutover.prod]\ninstances = [\"pgm-bp102g323jd4\"]\n"
        ),
    );
    let (code, out, err) =
        migtop(home.path(), &["status", "--cutover", "prod", "-o", "json"]).await;
    assert_eq!(code, 0, "stderr: {err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["instances"][0]["instance"], "pgm-bp102g323jd4");

    // A flag wins over the file: this instance, not the cutover's.
    let (_, out, err) = migtop(
        home.path(),
        &[
            "status",
            "--cutover",
            "prod",
            "-i",
            "pgm-other",
            "-o",
            "json",
        ],
    )
    .await;
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{err}"));
    assert_eq!(doc["instances"][0]["instance"], "pgm-other");
    assert_eq!(doc["instances"].as_array().unwrap().len(), 1);

    let (code, out, _) = migtop(home.path(), &["config", "--cutover", "prod"]).await;
    assert_eq!(code, 0);
    assert!(out.contains(".config/migtop/config.toml"), "{out}");
    assert!(out.contains("instances = [\"pgm-bp102g323jd4\"]"), "{out}");
    assert!(!out.contains("cfg-test-secret"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_exporter_takes_a_named_cutover_and_its_interval() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let (addr, _) = http::serve(Arc::new(|_, _| (200, http::sample()))).await;
    let home = tempfile::tempdir().unwrap();
    write_config(
        home.path(),
        &format!(
            "[defaults]\nendpoint = \"http://{addr}\"\ninterval = \"3s\"\n\n[cutover.prod]\ninstances = [\"pgm-bp102g323jd4\"]\n"
        ),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_migtop"))
        .args(["exporter", "--cutover", "prod", "--listen", "127.0.0.1:0"])
        .env_clear()
        .env("HOME", home.path())
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tCFGTEST")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "cfg-test-secret")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = String::new();
    for _ in 0..2 {
        let line = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
            .await
            .expect("the exporter printed its banner")
            .unwrap()
            .unwrap_or_default();
        seen.push_str(&line);
        seen.push('\n');
    }
    assert!(seen.contains("polling pgm-bp102g323jd4 every 3s"), "{seen}");
    child.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn config_errors_name_the_key_and_file_and_never_the_password() {
    let home = tempfile::tempdir().unwrap();
    write_config(
        home.path(),
        "[cutover.prod]\ninstances = [\"a\"]\nsource_dsn = \"postgres://repl:hunter2@h/db\"\n",
    );
    let (code, _, err) = migtop(home.path(), &["status", "--cutover", "prod"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("config.toml [cutover.prod]: source_dsn"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");

    write_config(home.path(), "[defaults]\nmax_lagg = \"1MiB\"\n");
    let (code, _, err) = migtop(home.path(), &["status", "-i", "x"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("max_lagg") && err.contains("config.toml line 2"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bare_migtop_says_what_to_try() {
    let home = tempfile::tempdir().unwrap();
    let (code, _, err) = migtop(home.path(), &[]).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("migtop demo") && err.contains("migtop -i"),
        "{err}"
    );
    assert!(!err.contains("--cutover NAME"), "{err}");
    write_config(home.path(), "[cutover.prod]\ninstances = [\"a\"]\n");
    let (code, _, err) = migtop(home.path(), &[]).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--cutover NAME") && err.contains("prod"),
        "{err}"
    );
}

/// Runs `prog args` on `input`, or `None` when `prog` is not installed.
fn run_tool(prog: &str, args: &[&str], input: &[u8]) -> Option<std::process::Output> {
    use std::io::Write;
    let mut child = std::process::Command::new(prog)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take().unwrap().write_all(input).unwrap();
    Some(child.wait_with_output().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn completion_scripts_load_where_the_shell_is_installed() {
    let home = tempfile::tempdir().unwrap();
    for (shell, prog, args) in [
        ("bash", "bash", vec!["-n"]),
        ("zsh", "zsh", vec!["-n"]),
        ("fish", "fish", vec!["--no-execute"]),
    ] {
        let (code, script, err) = migtop(home.path(), &["completions", shell]).await;
        assert_eq!(code, 0, "{err}");
        assert!(script.contains("cutover"), "{shell}");
        match run_tool(prog, &args, script.as_bytes()) {
            Some(out) => assert!(
                out.status.success(),
                "{shell}: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
            None => eprintln!("{prog} not installed: only generated, not loaded"),
        }
    }
    // bash is always there: the completion function really gets defined.
    let (_, script, _) = migtop(home.path(), &["completions", "bash"]).await;
    let f = home.path().join("migtop.bash");
    std::fs::write(&f, script).unwrap();
    let out = run_tool(
        "bash",
        &[
            "-c",
            &format!("source {} && complete -p migtop", f.display()),
        ],
        b"",
    )
    .expect("bash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Where fish and zsh are installed, their scripts load and complete too.
    let (_, script, _) = migtop(home.path(), &["completions", "fish"]).await;
    let f = home.path().join("migtop.fish");
    std::fs::write(&f, script).unwrap();
    let load = format!("source {}; complete -C 'migtop --cut'", f.display());
    if let Some(out) = run_tool("fish", &["-c", &load], b"") {
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("--cutover"), "fish completes: {text}");
    }
    let (_, script, _) = migtop(home.path(), &["completions", "zsh"]).await;
    let f = home.path().join("_migtop");
    std::fs::write(&f, script).unwrap();
    let load = format!(
        "autoload -U compinit; compinit -u -D; source {}; print ${{+functions[_migtop]}}",
        f.display()
    );
    if let Some(out) = run_tool("zsh", &["-f", "-c", &load], b"") {
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(text.trim(), "1", "zsh defines _migtop: {text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_man_page_renders_where_man_or_groff_is_installed() {
    let home = tempfile::tempdir().unwrap();
    let (code, page, err) = migtop(home.path(), &["man"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(page.contains(".TH migtop"), "{page}");
    // Issue 19, item 7: one page (no migtop-status(1), which does not exist), with the exit
    // codes and the environment.
    assert!(!page.contains("(1)"), "{page}");
    assert!(
        page.contains("EXIT STATUS") && page.contains("ENVIRONMENT"),
        "{page}"
    );
    let f = home.path().join("migtop.1");
    std::fs::write(&f, &page).unwrap();
    let path = f.display().to_string();
    let rendered = run_tool("man", &["-l", &path], b"")
        .filter(|o| o.status.success())
        .or_else(|| run_tool("groff", &["-man", "-Tutf8", &path], b""));
    match rendered {
        Some(out) => {
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains("cutover"), "{text}");
        }
        None => eprintln!("neither man nor groff installed: page generated, not rendered"),
    }
}

/// Issue 19, item 4: only a regular file of a sane size is read, and one others may write is
/// refused (group: a warning). `config` and `status --cutover` answer at once, never hang or
/// read forever.
#[tokio::test(flavor = "multi_thread")]
async fn only_a_regular_small_file_that_only_its_owner_writes_is_trusted() {
    use std::os::unix::fs::PermissionsExt;
    let quick = |home: std::path::PathBuf, args: &'static [&'static str]| async move {
        tokio::time::timeout(std::time::Duration::from_secs(20), migtop(&home, args))
            .await
            .expect("migtop answered, neither hung nor read forever")
    };
    let at = |home: &Path| home.join(".config/migtop/config.toml");

    // A FIFO: nothing writes it, so an ordinary open would wait forever.
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".config/migtop")).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(at(home.path()))
        .status()
        .unwrap();
    assert!(made.success());
    for args in [&["config"][..], &["status", "--cutover", "x"][..]] {
        let (code, _, err) = quick(home.path().to_path_buf(), args).await;
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("not a regular file (a FIFO)"), "{err}");
    }

    // A symlink to /dev/zero.
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".config/migtop")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", at(home.path())).unwrap();
    let (code, _, err) = quick(home.path().to_path_buf(), &["config"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("a character device"), "{err}");

    // Too big to be a config file.
    let home = tempfile::tempdir().unwrap();
    write_config(home.path(), &format!("# {}\n", "x".repeat(1 << 20)));
    let (code, _, err) = quick(home.path().to_path_buf(), &["config"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("limit of 256 KiB"), "{err}");

    // World-writable: refused, naming the fix; group-writable: used, with a warning.
    let home = tempfile::tempdir().unwrap();
    write_config(home.path(), "[defaults]\ninstances = [\"pgm-a\"]\n");
    let perm = |mode| {
        std::fs::set_permissions(at(home.path()), std::fs::Permissions::from_mode(mode)).unwrap()
    };
    perm(0o666);
    let (code, out, err) = quick(home.path().to_path_buf(), &["config"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("writable by every user") && err.contains("chmod o-w"),
        "{err}"
    );
    assert!(!out.contains("pgm-a"), "{out}");
    perm(0o664);
    let (code, out, err) = quick(home.path().to_path_buf(), &["config"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("writable by its group") && out.contains("pgm-a"),
        "{err}{out}"
    );
    perm(0o600);
    let (code, _, err) = quick(home.path().to_path_buf(), &["config"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("warning"), "{err}");
}

/// Issue 19, item 7: one bad `[cutover.x]` table is reported, and the others still run.
#[tokio::test(flavor = "multi_thread")]
async fn one_bad_cutover_table_does_not_break_the_others() {
    let (addr, _) = http::serve(Arc::new(|_, _| (200, http::sample()))).await;
    let home = tempfile::tempdir().unwrap();
    write_config(
        home.path(),
        &format!(
            "[defaults]\nendpoint = \"http://{addr}\"\n\n[cutover.bad]\ninstances = [\"pgm-x\"]\nmax_lagg = \"1MiB\"\n\n[cutover.worse]\nmax_lag = \"lots\"\n\n[cutover.good]\ninstances = [\"pgm-good\"]\n"
        ),
    );
    let (code, out, err) =
        migtop(home.path(), &["status", "--cutover", "good", "-o", "json"]).await;
    assert_eq!(code, 0, "stderr: {err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["instances"][0]["instance"], "pgm-good");
    assert!(
        err.contains("[cutover.bad] is not used")
            && err.contains("config.toml line 6 [cutover.bad]: unknown field `max_lagg`"),
        "{err}"
    );
    assert!(
        err.contains("[cutover.worse] is not used") && err.contains("max_lag"),
        "{err}"
    );
    assert!(!err.contains("lots"), "a value is never echoed: {err}");
    // Asked for by name, the bad one is an error naming its key.
    let (code, _, err) = migtop(home.path(), &["status", "--cutover", "bad"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("max_lagg"), "{err}");
    // `config` lists the good ones and names the bad.
    let (code, out, err) = migtop(home.path(), &["config"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("good"), "{out}");
    assert!(err.contains("[cutover.bad] is not used"), "{err}");
}

/// Issue 19, item 7: bare `migtop` prints its first-run hint laid out as written, one
/// suggestion a line, not flattened onto one.
#[tokio::test(flavor = "multi_thread")]
async fn bare_migtop_prints_the_first_run_hint_on_several_lines() {
    let home = tempfile::tempdir().unwrap();
    let (code, out, err) = migtop(home.path(), &[]).await;
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty(), "{out}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines[0], "migtop: name at least one instance to watch. Try:",
        "{err}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.trim_start().starts_with("migtop demo ")),
        "{err}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.trim_start().starts_with("migtop --help ")),
        "{err}"
    );
    assert!(lines.len() >= 4, "{err}");
}
