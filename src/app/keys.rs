//! Keys to actions: what a key means depends on the mode (dialog, overlay, search input,
//! focused panel).

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::{Action, App, Effect, Focus, LabCommand, Overlay};

impl App {
    /// Maps a key to an action in the current mode, then applies it.
    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        match self.key_action(key) {
            Some(a) => self.update(a),
            None => Vec::new(),
        }
    }

    /// The action a key means right now, if any.
    pub fn key_action(&self, key: KeyEvent) -> Option<Action> {
        if key.kind == KeyEventKind::Release {
            return None;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        // F10 quits from anywhere, as Ctrl-C does (mc, htop).
        if (ctrl && matches!(key.code, KeyCode::Char('c'))) || key.code == KeyCode::F(10) {
            return Some(Action::Quit);
        }
        match &self.overlay {
            Some(Overlay::Switchover(_)) => {
                return match key.code {
                    KeyCode::Esc => Some(Action::Escape),
                    KeyCode::Enter => Some(Action::DialogConfirm),
                    KeyCode::Backspace => Some(Action::DialogBackspace),
                    KeyCode::Char(c) if !ctrl => Some(Action::DialogChar(c)),
                    _ => None,
                };
            }
            Some(Overlay::Help) => {
                let page = i32::from(self.size.1.saturating_sub(6).max(1));
                return match key.code {
                    KeyCode::Esc | KeyCode::Enter | KeyCode::Char('?') | KeyCode::F(1) => {
                        Some(Action::Escape)
                    }
                    KeyCode::Char('q') => Some(Action::Quit),
                    KeyCode::Up | KeyCode::Char('k') => Some(Action::HelpScroll(-1)),
                    KeyCode::Down | KeyCode::Char('j') => Some(Action::HelpScroll(1)),
                    KeyCode::PageUp => Some(Action::HelpScroll(-page)),
                    KeyCode::PageDown | KeyCode::Char(' ') => Some(Action::HelpScroll(page)),
                    KeyCode::Home | KeyCode::Char('g') => Some(Action::HelpScroll(-1000)),
                    KeyCode::End | KeyCode::Char('G') => Some(Action::HelpScroll(1000)),
                    _ => None,
                };
            }
            Some(Overlay::Checklist) => {
                return match key.code {
                    KeyCode::Esc | KeyCode::Enter | KeyCode::Char('c') => Some(Action::Escape),
                    KeyCode::Char('q') => Some(Action::Quit),
                    _ => None,
                };
            }
            Some(Overlay::Notice { .. }) => {
                return match key.code {
                    KeyCode::Esc | KeyCode::Enter | KeyCode::Char('?') | KeyCode::F(1) => {
                        Some(Action::Escape)
                    }
                    KeyCode::Char('q') => Some(Action::Quit),
                    _ => None,
                };
            }
            None => {}
        }
        if self.log.input.is_some() {
            return match key.code {
                KeyCode::Esc => Some(Action::SearchCancel),
                KeyCode::Enter => Some(Action::SearchSubmit),
                KeyCode::Backspace => Some(Action::SearchBackspace),
                KeyCode::Char(c) if !ctrl => Some(Action::SearchChar(c)),
                _ => None,
            };
        }
        let log = self.focus == Focus::Log;
        Some(match key.code {
            KeyCode::Char('u') if ctrl => Action::ScrollHalfPages(-1),
            KeyCode::Char('d') if ctrl => Action::ScrollHalfPages(1),
            KeyCode::Char('b') if ctrl => Action::ScrollPages(-1),
            KeyCode::Char('f') if ctrl => Action::ScrollPages(1),
            _ if ctrl => return None,
            KeyCode::Char('q') => Action::Quit,
            KeyCode::Char('?') | KeyCode::F(1) => Action::ToggleHelp,
            KeyCode::Esc => Action::Escape,
            KeyCode::Tab | KeyCode::BackTab => Action::FocusNext,
            KeyCode::Up | KeyCode::Char('k') if log => Action::ScrollLines(-1),
            KeyCode::Down | KeyCode::Char('j') if log => Action::ScrollLines(1),
            KeyCode::Up | KeyCode::Char('k') => Action::Up,
            KeyCode::Down | KeyCode::Char('j') => Action::Down,
            KeyCode::Home | KeyCode::Char('g') if log => Action::LogTop,
            KeyCode::End | KeyCode::Char('G') if log => Action::LogBottom,
            KeyCode::Home | KeyCode::Char('g') => Action::First,
            KeyCode::End | KeyCode::Char('G') => Action::Last,
            KeyCode::PageUp => Action::ScrollPages(-1),
            KeyCode::PageDown => Action::ScrollPages(1),
            KeyCode::Char('/') => Action::SearchStart,
            KeyCode::Char('n') => Action::NextMatch,
            KeyCode::Char('N') => Action::PrevMatch,
            KeyCode::Char('f') => Action::ToggleFollow,
            KeyCode::Char('r') => Action::PollNow,
            KeyCode::Char('p') | KeyCode::Char(' ') => Action::TogglePause,
            KeyCode::Char('+') | KeyCode::Char('=') => Action::IntervalUp,
            KeyCode::Char('-') | KeyCode::Char('_') => Action::IntervalDown,
            KeyCode::Char('S') => Action::Switchover,
            KeyCode::Char('c') => Action::ToggleChecklist,
            KeyCode::Char('F') if self.config.lab_keys => Action::Lab(LabCommand::ToggleFreeze),
            KeyCode::Char('C') if self.config.lab_keys => Action::Lab(LabCommand::ToggleCut),
            KeyCode::Char('U') if self.config.lab_keys => Action::Lab(LabCommand::DropFixtures),
            KeyCode::Char('P') if self.config.lab_keys => {
                Action::Lab(LabCommand::ToggleReplayPause)
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fixtures::{app, ch, ctrl, key};
    use crate::app::{SwitchDialog, SwitchPhase};

    #[test]
    fn plain_keys_map_to_actions() {
        let a = app();
        assert!(matches!(a.key_action(ch('q')), Some(Action::Quit)));
        assert!(matches!(a.key_action(ch('j')), Some(Action::Down)));
        assert!(matches!(a.key_action(ch('G')), Some(Action::Last)));
        assert!(matches!(a.key_action(ch('/')), Some(Action::SearchStart)));
        assert!(matches!(a.key_action(ch('+')), Some(Action::IntervalUp)));
        assert!(matches!(
            a.key_action(ctrl('d')),
            Some(Action::ScrollHalfPages(1))
        ));
        assert!(a.key_action(ctrl('x')).is_none());
        assert!(a.key_action(ch('x')).is_none());
    }

    #[test]
    fn arrows_scroll_the_log_when_it_has_focus() {
        let mut a = app();
        a.focus = Focus::Log;
        assert!(matches!(
            a.key_action(ch('k')),
            Some(Action::ScrollLines(-1))
        ));
        assert!(matches!(
            a.key_action(key(KeyCode::Home)),
            Some(Action::LogTop)
        ));
    }

    #[test]
    fn typed_text_is_text_and_ctrl_c_always_quits() {
        let mut a = app();
        a.log.input = Some(String::new());
        assert!(matches!(
            a.key_action(ch('q')),
            Some(Action::SearchChar('q'))
        ));
        assert!(matches!(a.key_action(ctrl('c')), Some(Action::Quit)));
        a.log.input = None;
        a.overlay = Some(Overlay::Switchover(SwitchDialog {
            task_key: "k".into(),
            instance: "pgm-a".into(),
            typed: String::new(),
            phase: SwitchPhase::Typing,
            hint: None,
        }));
        assert!(matches!(
            a.key_action(ch('q')),
            Some(Action::DialogChar('q'))
        ));
        assert!(matches!(
            a.key_action(key(KeyCode::Enter)),
            Some(Action::DialogConfirm)
        ));
        a.overlay = Some(Overlay::Help);
        assert!(matches!(a.key_action(ch('?')), Some(Action::Escape)));
        // In the help, the arrows scroll it (it may not fit); other keys do nothing.
        assert!(matches!(a.key_action(ch('j')), Some(Action::HelpScroll(1))));
        assert!(a.key_action(ch('x')).is_none());
    }

    #[test]
    fn f1_is_help_and_f10_quits_from_anywhere() {
        let mut a = app();
        assert!(matches!(
            a.key_action(key(KeyCode::F(1))),
            Some(Action::ToggleHelp)
        ));
        a.on_key(key(KeyCode::F(1)));
        assert_eq!(a.overlay, Some(Overlay::Help));
        assert!(matches!(
            a.key_action(key(KeyCode::F(1))),
            Some(Action::Escape)
        ));
        for mode in 0..3 {
            let mut a = app();
            match mode {
                0 => {}
                1 => a.overlay = Some(Overlay::Help),
                _ => a.log.input = Some(String::new()),
            }
            assert!(matches!(
                a.key_action(key(KeyCode::F(10))),
                Some(Action::Quit)
            ));
        }
    }

    #[test]
    fn help_scrolls_within_bounds_and_reopens_at_the_top() {
        let mut a = app();
        a.on_key(ch('?'));
        a.on_key(key(KeyCode::Up));
        assert_eq!(a.help_scroll, 0);
        a.on_key(ch('j'));
        a.on_key(key(KeyCode::Down));
        assert_eq!(a.help_scroll, 2);
        a.on_key(key(KeyCode::End));
        assert!(a.help_scroll <= 64);
        a.on_key(key(KeyCode::Home));
        assert_eq!(a.help_scroll, 0);
        a.on_key(key(KeyCode::PageDown));
        assert!(a.help_scroll > 0);
        a.on_key(key(KeyCode::Esc));
        a.on_key(key(KeyCode::F(1)));
        assert_eq!(a.help_scroll, 0, "the help reopens at its top");
    }

    #[test]
    fn lab_keys_only_in_the_lab() {
        let mut a = app();
        for c in ['F', 'C', 'P', 'U'] {
            assert!(a.key_action(ch(c)).is_none(), "{c} outside the lab");
        }
        a.config.lab_keys = true;
        assert_eq!(
            a.on_key(ch('F')),
            vec![Effect::Lab(LabCommand::ToggleFreeze)]
        );
        assert_eq!(a.on_key(ch('C')), vec![Effect::Lab(LabCommand::ToggleCut)]);
        assert_eq!(
            a.on_key(ch('P')),
            vec![Effect::Lab(LabCommand::ToggleReplayPause)]
        );
        assert_eq!(
            a.on_key(ch('U')),
            vec![Effect::Lab(LabCommand::DropFixtures)]
        );
        // The lowercase keys keep their meaning.
        assert!(matches!(a.key_action(ch('f')), Some(Action::ToggleFollow)));
        assert!(matches!(a.key_action(ch('p')), Some(Action::TogglePause)));
        a.update(Action::LabDone(Ok("link frozen".into())));
        assert_eq!(a.lab_note.as_deref(), Some("link frozen"));
        a.update(Action::LabDone(Err("standby gone".into())));
        assert_eq!(a.lab_note.as_deref(), Some("lab key failed: standby gone"));
    }

    #[test]
    fn releases_are_ignored_and_quitting_is_state() {
        let mut a = app();
        let mut release = ch('q');
        release.kind = KeyEventKind::Release;
        assert!(a.key_action(release).is_none());
        assert!(a.on_key(ch('q')).is_empty());
        assert!(a.quit);
    }

    #[test]
    fn c_opens_and_closes_the_checklist() {
        let mut a = app();
        a.on_key(ch('c'));
        assert_eq!(a.overlay, Some(Overlay::Checklist));
        // Keys meant for the dashboard do nothing under it; c, Esc and Enter close it.
        assert!(a.key_action(ch('r')).is_none());
        a.on_key(ch('c'));
        assert_eq!(a.overlay, None);
        a.on_key(ch('c'));
        a.on_key(key(KeyCode::Esc));
        assert_eq!(a.overlay, None);
    }
}
