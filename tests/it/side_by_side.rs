//! The cost benchmark's harness (benches/side_by_side.sh) still runs: a few seconds of
//! `migtop watch` in a pseudo-terminal against the simulator, quit with `q`. No figures are
//! checked here (they belong in BENCHMARKS.md, not in a timed test); only that it ran.

use std::process::Command;

use crate::support::tools;

#[test]
fn the_side_by_side_harness_runs_the_dashboard_in_a_pty() {
    let Some(python3) = tools::python3() else {
        return;
    };
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/support/side_by_side.py"
    );
    let out = Command::new(python3)
        .arg(script)
        .args(["--migtop", env!("CARGO_BIN_EXE_migtop")])
        .args(["--only", "migtop", "--duration", "2", "--size", "100x30"])
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("migtop watch"))
        .unwrap_or_else(|| panic!("no result line:\n{stdout}\n{stderr}"));
    // Quit with `q`, exit code 0, and something drawn.
    assert!(line.contains(" exit 0 "), "{line}");
    assert!(!line.contains("terminal     0.0 KB"), "{line}");
}
