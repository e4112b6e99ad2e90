//! End to end in tmux: `demo --record` at high speed, then `replay` of that recording driven
//! by keys, then `report` of it, as a DBA would do after a cutover rehearsal.

use std::process::Command;
use std::thread::sleep;
use std::time::Duration;

use crate::e2e_tmux::Tmux;
use crate::support::machine;

#[test]
fn demo_recording_replays_in_tmux_and_reports() {
    let _machine = machine::quiet();
    let bin = env!("CARGO_BIN_EXE_migtop");
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rehearsal.jsonl");
    let rec = rec.to_str().unwrap();
    let cmd = format!("{bin} demo --speed 20 --interval 1s --no-bell --record {rec}");
    let Some(t) = Tmux::start("e2e-replay", (120, 40), &cmd) else {
        return;
    };
    t.wait_for("the demo's tasks", Duration::from_secs(30), |s| {
        s.contains("Tasks (7)")
    });
    // About ten seconds of polls (some 200 simulated seconds at ×20).
    sleep(Duration::from_secs(10));
    t.quit_with("q");
    let lines = std::fs::read_to_string(rec).unwrap().lines().count();
    assert!(lines >= 5 * 5, "only {lines} polls recorded");

    // The replay: on the recording's clock, paused by Space, stepped by the arrows.
    t.launch((120, 40), &format!("{bin} replay --speed 1 {rec}"));
    let s = t.wait_for("the replay", Duration::from_secs(20), |s| {
        s.contains("replay") && s.contains("Tasks (7)")
    });
    assert!(s.contains(&format!("/{lines}")), "{s}");
    t.keys(&["Space"]);
    t.wait_for("paused", Duration::from_secs(5), |s| s.contains("paused"));
    let pos = |s: &str| -> usize {
        let head = s.lines().next().unwrap_or("");
        let slash = head.find(&format!("/{lines}")).expect("the position");
        head[..slash].rsplit(' ').next().unwrap().parse().unwrap()
    };
    let before = pos(&t.capture(false));
    t.keys(&["Right", "Right"]);
    let s = t.wait_for("two steps on", Duration::from_secs(5), |s| {
        pos(s) == before + 2
    });
    assert!(s.contains("paused"), "{s}");
    t.keys(&["Left"]);
    t.wait_for("one step back", Duration::from_secs(5), |s| {
        pos(s) == before + 1
    });
    // `S` in a paused replay: nothing else changes the screen, so the notice must be drawn on
    // its own (it once opened unseen and swallowed the keys after it), and Esc closes it.
    t.keys(&["S"]);
    t.wait_for(
        "the replay's switchover notice",
        Duration::from_secs(5),
        |s| s.contains("nothing is sent to the API"),
    );
    t.keys(&["Escape"]);
    let s = t.wait_for("the notice closed", Duration::from_secs(5), |s| {
        !s.contains("nothing is sent to the API")
    });
    assert_eq!(pos(&s), before + 1, "{s}");
    t.keys(&["Right"]);
    t.wait_for("keys reach the replay again", Duration::from_secs(5), |s| {
        pos(s) == before + 2
    });
    t.quit_with("q");

    // The report of the same recording.
    let page = dir.path().join("rehearsal.html");
    let out = Command::new(bin).args(["report", rec]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(page).unwrap();
    assert!(html.contains("crm-migrate"));
}
