//! Key presses as crossterm reports them.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use migtop::app::{App, Effect};

/// A key press.
pub fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// A character key.
pub fn ch(c: char) -> KeyEvent {
    key(KeyCode::Char(c))
}

/// Ctrl + a character.
pub fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

/// Types every character of `s`.
pub fn typing(app: &mut App, s: &str) -> Vec<Effect> {
    s.chars().flat_map(|c| app.on_key(ch(c))).collect()
}
