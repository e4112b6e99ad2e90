//! The official Alibaba Cloud Python SDKs against `migtop simulate` (tests/interop/run.sh).
//! The script skips, saying why, only when PyPI cannot be reached.

use crate::support::machine;

#[test]
fn official_python_sdks_accept_the_simulator() {
    let _machine = machine::heavy_blocking();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/run.sh");
    let out = std::process::Command::new("bash")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_migtop"))
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(out.status.success(), "interop failed:\n{stdout}\n{stderr}");
}
