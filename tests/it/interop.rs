//! The official Alibaba Cloud Python SDKs against `migtop simulate` (tests/interop/run.sh).
//! The script exits 77 when a tool is missing (python3, its venv module, PyPI out of reach):
//! a printed skip locally, a failure under CI (see [`crate::support::tools`]).

use crate::support::{machine, tools};

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
    if out.status.code() == Some(77) {
        let why = stdout
            .lines()
            .find_map(|l| l.strip_prefix("interop: SKIP: "))
            .unwrap_or("see the output above");
        let _: Option<()> = tools::missing("the Alibaba Cloud Python SDKs", why);
        return;
    }
    assert!(out.status.success(), "interop failed:\n{stdout}\n{stderr}");
}
