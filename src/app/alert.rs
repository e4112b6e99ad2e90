//! The header's alert, decided from the state (the layout needs its size).

use super::App;
use crate::app::view::alert::{Alert, Retry};

impl App {
    /// The header's alert: the most recent failed poll; else a failing source probe; else
    /// answers with items that could not be decoded.
    pub fn alert(&self) -> Option<Alert> {
        let failing: Vec<_> = self
            .instances
            .iter()
            .filter_map(|i| i.last_error.as_ref().map(|(t, e)| (i, t, e)))
            .collect();
        let Some((inst, _, err)) = failing.iter().max_by_key(|(_, t, _)| **t) else {
            if let Some(e) = self.source.as_ref().and_then(|s| s.error()) {
                return Some(Alert::ProbeFailed {
                    error: e.to_string(),
                });
            }
            let inst = self.instances.iter().find(|i| !i.item_errors.is_empty())?;
            return Some(Alert::Unreadable {
                instance: inst.name.clone(),
                errors: inst.item_errors.clone(),
            });
        };
        let retry = match (self.paused, inst.next_poll, inst.polling_since) {
            (true, _, _) => Retry::Paused,
            (_, _, Some(_)) => Retry::Running,
            (_, Some(n), _) => Retry::In((n - self.now).to_std().unwrap_or_default()),
            _ => Retry::Soon,
        };
        let sentence = err.to_string();
        let prefix = format!("{}: ", err.code());
        let message = sentence
            .strip_prefix(&prefix)
            .unwrap_or(&sentence)
            .to_string();
        Some(Alert::PollFailed {
            instance: inst.name.clone(),
            code: err.code().to_string(),
            retry,
            others: failing.len() - 1,
            message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Action;
    use crate::app::fixtures::{EAST, WEST, app, at, fail, throttled};
    use crate::poller::PollEvent;

    #[test]
    fn the_latest_failure_with_its_retry() {
        let mut a = app();
        assert_eq!(a.alert(), None);
        fail(&mut a, WEST, 0, throttled());
        fail(&mut a, EAST, 2, throttled());
        a.update(Action::Poll(PollEvent::Scheduled {
            instance: EAST.into(),
            next: Some(at(7)),
        }));
        let Some(Alert::PollFailed {
            instance,
            code,
            retry,
            others,
            message,
        }) = a.alert()
        else {
            panic!("no poll alert");
        };
        assert_eq!(instance, EAST);
        assert_eq!(code, "Throttling.User");
        assert_eq!(retry, Retry::In(std::time::Duration::from_secs(5)));
        assert_eq!(others, 1);
        assert!(!message.starts_with("Throttling.User"), "{message}");
        a.update(Action::TogglePause);
        assert!(matches!(
            a.alert(),
            Some(Alert::PollFailed {
                retry: Retry::Paused,
                ..
            })
        ));
    }

    #[test]
    fn an_alert_takes_header_rows() {
        let mut a = app();
        assert_eq!(a.layout_input(80).alert_rows, 0);
        fail(&mut a, EAST, 0, throttled());
        assert_eq!(a.layout_input(200).alert_rows, 1);
        assert_eq!(a.layout_input(30).alert_rows, 2);
    }
}
