//! Server text made printable as it enters the dashboard's state: every string the screens
//! show from a poll passes [`poll_result`] once, so no panel can draw an escape sequence.

use crate::aliyun::{ApiError, InstanceSnapshot};
use crate::model::{DetailLine, ReplicationState, Stage, Task};
use crate::poller::PollResult;
use crate::util::text::printable;

fn clean(s: &mut String) {
    if let std::borrow::Cow::Owned(p) = printable(s) {
        *s = p;
    }
}

fn clean_opt(s: &mut Option<String>) {
    if let Some(s) = s {
        clean(s);
    }
}

/// Strips control characters and escape sequences from every server string of a poll.
pub(super) fn poll_result(r: &mut PollResult) {
    match &mut r.result {
        Ok(snap) => snapshot(snap),
        Err(e) => error(e),
    }
    // Table names, application names and queries are the source's users' text.
    if let Some(c) = r.source.as_mut().and_then(|s| s.checklist.as_mut()) {
        c.texts_mut(clean);
    }
}

fn snapshot(snap: &mut InstanceSnapshot) {
    clean_opt(&mut snap.request_id);
    snap.item_errors.iter_mut().for_each(clean);
    snap.tasks.iter_mut().for_each(task);
}

/// The same for one task: names, unknown stage and state words, the source, the
/// ReplicationInfo strings, the precheck log and the decode warnings.
pub(super) fn task(t: &mut Task) {
    clean_opt(&mut t.task_name);
    clean_opt(&mut t.target_instance_name);
    if let Some(Stage::Unknown(s)) = &mut t.stage {
        clean(s);
    }
    if let Some(ReplicationState::Unknown(s)) = &mut t.replication_state {
        clean(s);
    }
    if let Some(r) = &mut t.replication {
        clean_opt(&mut r.status);
        clean_opt(&mut r.conninfo);
    }
    clean_opt(&mut t.source.category);
    clean_opt(&mut t.source.ip);
    clean_opt(&mut t.source.account);
    t.decode_warnings.iter_mut().for_each(clean);
    for l in &mut t.precheck.lines {
        match l {
            DetailLine::Section(s) | DetailLine::Text(s) => clean(s),
            DetailLine::Check {
                name,
                status,
                message,
                ..
            } => {
                clean(name);
                clean(status);
                clean_opt(message);
            }
            DetailLine::Progress { text, .. } => clean(text),
        }
    }
}

fn error(e: &mut ApiError) {
    match e {
        ApiError::Api {
            code,
            message,
            request_id,
            ..
        } => {
            clean(code);
            clean(message);
            clean_opt(request_id);
        }
        ApiError::Network { endpoint, message } => {
            clean(endpoint);
            clean(message);
        }
        ApiError::Timeout { endpoint, .. } => clean(endpoint),
        ApiError::BadResponse { message, .. } => clean(message),
        ApiError::Credentials {
            message,
            code,
            request_id,
            ..
        } => {
            clean(message);
            clean_opt(code);
            clean_opt(request_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_string_of_a_task_is_cleaned() {
        let bad = "x\u{1b}]52;c;aGVsbG8=\u{7}\u{1b}[2J\u{1b}[?1049l\u{7}y";
        let item = serde_json::json!({
            "TaskId": 7,
            "TaskName": bad,
            "TargetInstanceName": bad,
            "MigrateStage": bad,
            "ReplicationState": bad,
            "SourceIpAddress": bad,
            "SourceAccount": bad,
            "SourceCategory": bad,
            "Detail": format!("[{bad}]\ncheck {bad}: warning({bad})\n2022-02-25 17:00:29 --- {bad}\n{bad}"),
            "ReplicationInfo": serde_json::json!({"Status": bad, "Conninfo": bad}).to_string(),
        });
        let mut t = Task::from_value("pgm-1", &item).unwrap();
        task(&mut t);
        let dbg = format!("{t:?}");
        assert!(!dbg.contains("\\u{1b}") && !dbg.contains("\\u{7}"), "{dbg}");
        assert!(!dbg.contains("52;c;") && !dbg.contains("[2J"), "{dbg}");
        assert_eq!(t.task_name.as_deref(), Some("xy"));
    }

    #[test]
    fn api_errors_are_cleaned() {
        let mut e = ApiError::Api {
            code: "Bad\u{1b}[2JCode".into(),
            message: "m\u{7}".into(),
            request_id: Some("r\u{9b}2J".into()),
            http_status: 400,
        };
        error(&mut e);
        assert_eq!(e.to_string(), "BadCode: m (HTTP 400, request id r).");
    }
}
