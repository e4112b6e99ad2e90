//! The switchover: the confirmation dialog, the typed instance id, the call and its answer.

use super::{Action, App, Effect, Overlay};
use crate::aliyun::ApiError;
use crate::model::Stage;
use crate::poller::Control;
use crate::util::text::{id_hint, printable};

/// The state of the switchover dialog.
#[derive(Debug, Clone, PartialEq)]
pub enum SwitchPhase {
    /// Waiting for the DBA to type the instance id.
    Typing,
    /// ActivateMigrationTargetInstance has been sent.
    Sending,
    /// The API's answer, in words: Ok for accepted, Err for refused.
    Done(Result<String, String>),
}

/// The switchover confirmation dialog.
#[derive(Debug, Clone, PartialEq)]
pub struct SwitchDialog {
    pub task_key: String,
    pub instance: String,
    pub typed: String,
    pub phase: SwitchPhase,
    /// Shown under the input after a wrong confirmation.
    pub hint: Option<String>,
}

impl App {
    /// Applies a switchover action (open, type, confirm, the API's answer).
    pub(super) fn update_switchover(&mut self, action: Action, out: &mut Vec<Effect>) {
        match action {
            Action::Switchover => self.open_switchover(),
            Action::DialogChar(c) => {
                if let Some(Overlay::Switchover(d)) = &mut self.overlay
                    && d.phase == SwitchPhase::Typing
                    && d.typed.chars().count() < 128
                {
                    d.typed.push(c);
                    d.hint = None;
                }
            }
            Action::DialogBackspace => {
                if let Some(Overlay::Switchover(d)) = &mut self.overlay
                    && d.phase == SwitchPhase::Typing
                {
                    d.typed.pop();
                    d.hint = None;
                }
            }
            Action::DialogConfirm => {
                // Re-checked at the moment of sending: the task may have moved on meanwhile.
                let still_increment = match &self.overlay {
                    Some(Overlay::Switchover(d)) => self
                        .tasks
                        .get(&d.task_key)
                        .is_some_and(|e| e.task.stage == Some(Stage::Increment)),
                    _ => false,
                };
                if let Some(Overlay::Switchover(d)) = &mut self.overlay {
                    match d.phase {
                        SwitchPhase::Typing if !still_increment => {
                            d.hint = Some(
                                "the task is no longer in stage increment; not sent".to_string(),
                            );
                        }
                        // The id as typed, or as shown (an invisible character as its marker,
                        // which cannot be typed otherwise).
                        SwitchPhase::Typing
                            if d.typed.trim() == d.instance
                                || d.typed.trim() == printable(&d.instance) =>
                        {
                            d.phase = SwitchPhase::Sending;
                            out.push(Effect::Switchover {
                                instance: d.instance.clone(),
                            });
                        }
                        SwitchPhase::Typing => {
                            d.hint = Some(match id_hint(&d.instance) {
                                // Typing what looks like the id can never match: say why.
                                Some(why) => format!(
                                    "type {} exactly to confirm ({why}: the id given with -i is not what it looks like)",
                                    printable(&d.instance)
                                ),
                                None => format!("type {} exactly to confirm", d.instance),
                            });
                        }
                        SwitchPhase::Sending => {}
                        SwitchPhase::Done(_) => self.overlay = None,
                    }
                }
            }
            Action::SwitchoverDone(result) => {
                let ok = result.is_ok();
                let answer = switchover_answer(result);
                match &mut self.overlay {
                    Some(Overlay::Switchover(d)) if d.phase == SwitchPhase::Sending => {
                        d.phase = SwitchPhase::Done(answer);
                    }
                    _ => {
                        let (title, text) = match answer {
                            Ok(t) => ("Switchover accepted".to_string(), t),
                            Err(t) => ("Switchover refused".to_string(), t),
                        };
                        self.overlay = Some(Overlay::Notice { title, text });
                    }
                }
                if ok {
                    out.push(Effect::Poller(Control::PollNow));
                }
            }
            _ => {}
        }
    }

    pub(super) fn open_switchover(&mut self) {
        if !self.config.allow_switchover {
            // The hint names the command in use: `demo` takes no -i.
            let example = match self.config.command.as_str() {
                "watch" => "migtop watch --allow-switchover -i ID".to_string(),
                other => format!("migtop {other} --allow-switchover"),
            };
            self.overlay = Some(Overlay::Notice {
                title: "Switchover disabled".into(),
                text: format!(
                    "migtop calls ActivateMigrationTargetInstance only when started with \
                     --allow-switchover, e.g. `{example}`."
                ),
            });
            return;
        }
        let Some(entry) = self.selected_task() else {
            self.overlay = Some(Overlay::Notice {
                title: "No task selected".into(),
                text: "Select a task in stage increment first.".into(),
            });
            return;
        };
        if entry.task.stage != Some(Stage::Increment) {
            let stage = entry
                .task
                .stage
                .as_ref()
                .map_or("unknown".to_string(), |s| s.to_string());
            self.overlay = Some(Overlay::Notice {
                title: "Switchover not possible".into(),
                text: format!(
                    "A switchover is only possible in stage increment; task {} is in stage {stage}.",
                    entry.task.display_name()
                ),
            });
            return;
        }
        self.overlay = Some(Overlay::Switchover(SwitchDialog {
            task_key: entry.task.key(),
            instance: entry.task.instance.clone(),
            typed: String::new(),
            phase: SwitchPhase::Typing,
            hint: None,
        }));
    }
}

fn switchover_answer(result: Result<serde_json::Value, ApiError>) -> Result<String, String> {
    match result {
        Ok(v) => {
            let field = |k: &str| crate::model::value::text(v.get(k));
            let mut parts = vec!["ActivateMigrationTargetInstance accepted".to_string()];
            if let Some(t) = field("TaskId") {
                parts.push(format!("task {t}"));
            }
            if let Some(r) = field("RequestId") {
                parts.push(format!("request id {r}"));
            }
            Ok(parts.join(", ") + ".")
        }
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fixtures::{EAST, app, item, ok};

    fn ready_app(allow: bool) -> App {
        let mut a = app();
        a.config.allow_switchover = allow;
        ok(
            &mut a,
            EAST,
            0,
            &[item(1, "increment", "streaming", Some(0), "")],
        );
        a
    }

    fn dialog(a: &App) -> &SwitchDialog {
        match &a.overlay {
            Some(Overlay::Switchover(d)) => d,
            other => panic!("no dialog: {other:?}"),
        }
    }

    #[test]
    fn disabled_without_the_flag() {
        let mut a = ready_app(false);
        a.update(Action::Switchover);
        assert!(
            matches!(&a.overlay, Some(Overlay::Notice { title, text }) if title == "Switchover disabled" && text.contains("migtop watch --allow-switchover -i ID"))
        );
    }

    #[test]
    fn the_disabled_hint_names_the_command_in_use() {
        let mut a = ready_app(false);
        a.config.command = "demo".into();
        a.update(Action::Switchover);
        let Some(Overlay::Notice { text, .. }) = &a.overlay else {
            panic!("{:?}", a.overlay)
        };
        assert!(text.contains("`migtop demo --allow-switchover`"), "{text}");
    }

    #[test]
    fn only_the_exact_instance_id_sends() {
        let mut a = ready_app(true);
        a.update(Action::Switchover);
        for c in "pgm-eas".chars() {
            a.update(Action::DialogChar(c));
        }
        assert!(a.update(Action::DialogConfirm).is_empty());
        assert_eq!(
            dialog(&a).hint.as_deref(),
            Some("type pgm-east exactly to confirm")
        );
        a.update(Action::DialogChar('t'));
        assert_eq!(dialog(&a).hint, None);
        assert_eq!(
            a.update(Action::DialogConfirm),
            vec![Effect::Switchover {
                instance: EAST.into()
            }]
        );
        assert_eq!(dialog(&a).phase, SwitchPhase::Sending);
        let out = a.update(Action::SwitchoverDone(Ok(
            serde_json::json!({"RequestId": "R-1"}),
        )));
        assert_eq!(out, vec![Effect::Poller(Control::PollNow)]);
        assert_eq!(
            dialog(&a).phase,
            SwitchPhase::Done(Ok(
                "ActivateMigrationTargetInstance accepted, request id R-1.".into()
            ))
        );
    }

    #[test]
    fn an_id_with_an_invisible_character_is_explained_and_confirmable_as_shown() {
        let mut a = ready_app(true);
        a.update(Action::Switchover);
        // The id as given with -i, with a zero-width space pasted in.
        if let Some(Overlay::Switchover(d)) = &mut a.overlay {
            d.instance = "pgm-\u{200b}east".into();
        }
        for c in "pgm-east".chars() {
            a.update(Action::DialogChar(c));
        }
        assert!(a.update(Action::DialogConfirm).is_empty());
        let hint = dialog(&a).hint.clone().unwrap();
        assert!(hint.contains("type pgm-<U+200B>east exactly"), "{hint}");
        assert!(
            hint.contains("invisible characters, shown as <U+200B>"),
            "{hint}"
        );
        for _ in 0..8 {
            a.update(Action::DialogBackspace);
        }
        for c in "pgm-<U+200B>east".chars() {
            a.update(Action::DialogChar(c));
        }
        let out = a.update(Action::DialogConfirm);
        assert!(
            matches!(&out[..], [Effect::Switchover { instance }] if instance == "pgm-\u{200b}east"),
            "{out:?}"
        );
    }

    #[test]
    fn a_task_that_left_increment_is_not_sent() {
        let mut a = ready_app(true);
        a.update(Action::Switchover);
        for c in EAST.chars() {
            a.update(Action::DialogChar(c));
        }
        ok(
            &mut a,
            EAST,
            5,
            &[item(1, "switch", "streaming", Some(0), "")],
        );
        assert!(a.update(Action::DialogConfirm).is_empty());
        assert!(
            dialog(&a)
                .hint
                .as_deref()
                .unwrap()
                .contains("no longer in stage increment")
        );
    }

    #[test]
    fn an_answer_after_the_dialog_closed_becomes_a_notice() {
        let mut a = ready_app(true);
        let err = ApiError::BadResponse {
            http_status: 0,
            message: "gone".into(),
        };
        assert!(a.update(Action::SwitchoverDone(Err(err))).is_empty());
        assert!(
            matches!(&a.overlay, Some(Overlay::Notice { title, .. }) if title == "Switchover refused")
        );
    }
}
