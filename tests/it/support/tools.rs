//! One skip policy for tests that need a tool from outside Rust (tmux, python3, the Python
//! SDKs, PostgreSQL, Prometheus): under `CI=true` a missing tool is a failure, because
//! `.ci/run` installs them all and a missing one there is a broken setup that would otherwise
//! pass without testing; elsewhere the test prints
//! `SKIPPED <test>: needs <tool>, missing: <why>` and passes.

use std::path::PathBuf;

/// Whether the tests run under CI (`CI` set to anything but empty, `0` or `false`).
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// Says that `tool` is missing (`why`: what failed and how to install it): panics under CI,
/// else prints the skip. Returns `None`, for `let Some(..) = .. else { return }`.
pub fn missing<T>(tool: &str, why: &str) -> Option<T> {
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    if under_ci() {
        panic!("{test} needs {tool}, missing under CI=true: {why}; .ci/run must install it");
    }
    eprintln!("SKIPPED {test}: needs {tool}, missing: {why}");
    None
}

/// The executable `name` on PATH, or [`missing`] with `install` as the hint.
pub fn on_path(name: &str, install: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    match found {
        Some(p) => Some(p),
        None => missing(name, &format!("not on PATH; {install}")),
    }
}

/// tmux, for the end-to-end dashboard tests.
pub fn tmux() -> Option<PathBuf> {
    on_path("tmux", "Debian package `tmux`")
}

/// python3, for the side-by-side harness and the SDK interop test.
pub fn python3() -> Option<PathBuf> {
    on_path(
        "python3",
        "Debian package `python3` (and `python3-venv` for interop)",
    )
}

/// PostgreSQL's server binaries, for the lab tests.
pub fn postgres() -> Option<()> {
    match migtop::lab::pg::PgBin::find(None) {
        Ok(_) => Some(()),
        Err(e) => missing(
            "PostgreSQL",
            &format!("{e:#}; .ci/install-postgres, or MIGTOP_PG_BINDIR"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_tool_is_a_skip_locally_and_a_failure_under_ci() {
        let name = "migtop-no-such-tool";
        let found = std::panic::catch_unwind(|| on_path(name, "none"));
        if under_ci() {
            let err = found.expect_err("a failure under CI");
            let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
            assert!(msg.contains(name) && msg.contains("CI=true"), "{msg}");
        } else {
            assert_eq!(found.expect("a skip locally"), None);
        }
    }
}
