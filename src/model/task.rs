//! A cloud-migration task and the page of tasks `DescribeCloudMigrationResult` returns.

use chrono::{DateTime, FixedOffset};
use serde_json::{Map, Value};

use super::precheck::Precheck;
use super::replication::ReplicationInfo;
use super::stage::{ReplicationState, Stage};
use super::value::{int, port, text, time};

/// Where the self-managed source runs and how RDS reaches it (never its password).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Source {
    pub category: Option<String>,
    pub ip: Option<String>,
    pub port: Option<i64>,
    pub account: Option<String>,
}

/// What a task is: an RDS cloud-migration task, or a standby read from its own primary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// A `DescribeCloudMigrationResult` task.
    #[default]
    Rds,
    /// A walsender in the primary's `pg_stat_replication` (`--primary`): no RDS stages, no
    /// precheck log.
    Physical,
}

impl TaskKind {
    /// An RDS task (the default, left out of recordings).
    pub fn is_rds(&self) -> bool {
        *self == TaskKind::Rds
    }
}

/// One migration task, decoded tolerantly. `SourcePassword` is deliberately not kept.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Task {
    /// Where the task comes from (written only when not RDS, so RDS recordings stay as
    /// they were; recordings without it are RDS tasks).
    #[serde(skip_serializing_if = "TaskKind::is_rds")]
    pub kind: TaskKind,
    pub task_id: Option<i64>,
    pub task_name: Option<String>,
    /// The instance this task was read from (the `DBInstanceName` asked for).
    pub instance: String,
    pub target_instance_name: Option<String>,
    pub stage: Option<Stage>,
    pub replication_state: Option<ReplicationState>,
    pub replication: Option<ReplicationInfo>,
    pub precheck: Precheck,
    pub source: Source,
    pub created: Option<DateTime<FixedOffset>>,
    pub modified: Option<DateTime<FixedOffset>>,
    pub switch_time: Option<DateTime<FixedOffset>>,
    /// Fields that were present but could not be read, in words.
    pub decode_warnings: Vec<String>,
}

impl Task {
    /// Decodes one element of `Items`. Never fails on odd field types; only a non-object fails.
    pub fn from_value(instance: &str, v: &Value) -> Result<Task, String> {
        let o = v
            .as_object()
            .ok_or_else(|| format!("task item is not an object but {}", kind(v)))?;
        Ok(Task::from_object(instance, o))
    }

    /// Decodes one task object.
    pub fn from_object(instance: &str, o: &Map<String, Value>) -> Task {
        let mut decode_warnings = Vec::new();
        let replication = match text(o.get("ReplicationInfo")) {
            Some(raw) => match ReplicationInfo::parse(&raw) {
                Ok(r) => r,
                Err(e) => {
                    decode_warnings.push(e.to_string());
                    None
                }
            },
            None => match o.get("ReplicationInfo") {
                Some(Value::Object(obj)) => Some(ReplicationInfo::from_object(obj)),
                _ => None,
            },
        };
        Task {
            kind: TaskKind::Rds,
            // A negative TaskId is no id at all.
            task_id: int(o.get("TaskId")).filter(|id| *id >= 0),
            task_name: text(o.get("TaskName")),
            instance: instance.to_string(),
            target_instance_name: text(o.get("TargetInstanceName")),
            stage: text(o.get("MigrateStage")).map(|s| Stage::parse(&s)),
            replication_state: text(o.get("ReplicationState")).map(|s| ReplicationState::parse(&s)),
            replication,
            precheck: text(o.get("Detail"))
                .map(|d| Precheck::parse(&d))
                .unwrap_or_default(),
            source: Source {
                category: text(o.get("SourceCategory")),
                ip: text(o.get("SourceIpAddress")),
                port: port(o.get("SourcePort")),
                account: text(o.get("SourceAccount")),
            },
            created: time(o.get("GmtCreated")),
            modified: time(o.get("GmtModified")),
            switch_time: time(o.get("SwitchTime")),
            decode_warnings,
        }
    }

    /// A stable key for the task across polls: instance plus TaskId (or name).
    pub fn key(&self) -> String {
        match (self.task_id, &self.task_name) {
            (Some(id), _) => format!("{}/{id}", self.instance),
            (None, Some(n)) => format!("{}/{n}", self.instance),
            (None, None) => format!("{}/?", self.instance),
        }
    }

    /// Short display name: the task name if set, else the id.
    pub fn display_name(&self) -> String {
        match (&self.task_name, self.task_id) {
            (Some(n), _) => n.clone(),
            (None, Some(id)) => id.to_string(),
            (None, None) => "(unnamed)".to_string(),
        }
    }

    /// Total lag in bytes per the notes' formula; `None` when unknown.
    pub fn lag_bytes(&self) -> Option<u64> {
        self.replication.as_ref()?.lag_bytes()
    }
}

/// One decoded page of `DescribeCloudMigrationResult` (or the precheck variant).
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub request_id: Option<String>,
    pub total_size: Option<i64>,
    pub page_number: Option<i64>,
    pub page_size: Option<i64>,
    pub tasks: Vec<Task>,
    /// Items that could not be decoded at all; the others are still in `tasks`.
    pub item_errors: Vec<String>,
    /// How many elements `Items` held, decodable or not.
    pub item_count: usize,
}

impl Page {
    /// Decodes a response body. `Items` may be an array, a single object, absent or null,
    /// and may be wrapped as `{"Items": {"Item": [...]}}` or `{"Items": {"Tasks": [...]}}`.
    pub fn from_json(instance: &str, body: &Value) -> Result<Page, String> {
        let o = body
            .as_object()
            .ok_or_else(|| format!("response is not a JSON object but {}", kind(body)))?;
        let items: Vec<&Value> = match o.get("Items") {
            None | Some(Value::Null) => vec![],
            Some(Value::Array(a)) => a.iter().collect(),
            Some(Value::Object(inner)) => {
                let wrapped = ["Item", "Items", "Tasks", "Task"]
                    .iter()
                    .find_map(|k| inner.get(*k).filter(|_| inner.len() == 1));
                match wrapped {
                    Some(Value::Array(a)) => a.iter().collect(),
                    Some(single @ Value::Object(_)) => vec![single],
                    _ => vec![o.get("Items").unwrap()],
                }
            }
            Some(Value::String(s))
                if s.trim().is_empty() || s.trim().eq_ignore_ascii_case("null") =>
            {
                vec![]
            }
            Some(other) => vec![other],
        };
        let mut page = Page {
            request_id: text(o.get("RequestId")),
            total_size: int(o.get("TotalSize")),
            page_number: int(o.get("PageNumber")),
            page_size: int(o.get("PageSize")),
            item_count: items.len(),
            ..Default::default()
        };
        for (i, item) in items.into_iter().enumerate() {
            match Task::from_value(instance, item) {
                Ok(t) => page.tasks.push(t),
                Err(e) => page.item_errors.push(format!("item {}: {e}", i + 1)),
            }
        }
        Ok(page)
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn items_as_array_object_or_absent() {
        let one = json!({"TaskId": "7", "MigrateStage": "increment"});
        for body in [
            json!({"Items": [one.clone()]}),
            json!({"Items": one.clone()}),
            json!({"Items": {"Item": [one.clone()]}}),
        ] {
            let p = Page::from_json("pgm-1", &body).unwrap();
            assert_eq!(p.tasks.len(), 1, "{body}");
            assert_eq!(p.tasks[0].task_id, Some(7));
            assert_eq!(p.tasks[0].stage, Some(Stage::Increment));
        }
        assert!(
            Page::from_json("pgm-1", &json!({"TotalSize": 0}))
                .unwrap()
                .tasks
                .is_empty()
        );
        assert!(
            Page::from_json("pgm-1", &json!({"Items": null}))
                .unwrap()
                .tasks
                .is_empty()
        );
        assert!(Page::from_json("pgm-1", &json!([1])).is_err());
    }

    #[test]
    fn one_bad_item_keeps_the_others() {
        let body =
            json!({"Items": [ {"TaskId": 1}, 42, {"TaskId": 3, "ReplicationInfo": "{broken"} ]});
        let p = Page::from_json("pgm-1", &body).unwrap();
        assert_eq!(p.tasks.len(), 2);
        assert_eq!(p.item_errors.len(), 1);
        assert_eq!(p.tasks[1].replication, None);
        assert_eq!(p.tasks[1].decode_warnings.len(), 1);
    }

    #[test]
    fn out_of_domain_numbers_are_unknown() {
        let t = Task::from_value(
            "i",
            &json!({"TaskId": 1.5e300, "SourcePort": 999999, "TaskName": "x"}),
        )
        .unwrap();
        assert_eq!(t.task_id, None);
        assert_eq!(t.source.port, None);
        let t = Task::from_value("i", &json!({"TaskId": -3, "SourcePort": -1})).unwrap();
        assert_eq!(t.task_id, None);
        assert_eq!(t.source.port, None);
        let t = Task::from_value("i", &json!({"TaskId": "42", "SourcePort": "5432"})).unwrap();
        assert_eq!(t.task_id, Some(42));
        assert_eq!(t.source.port, Some(5432));
    }

    #[test]
    fn unknown_stage_is_kept() {
        let t = Task::from_value(
            "i",
            &json!({"MigrateStage": "rollback", "ReplicationState": "paused"}),
        )
        .unwrap();
        assert_eq!(t.stage, Some(Stage::Unknown("rollback".into())));
        assert_eq!(
            t.replication_state,
            Some(ReplicationState::Unknown("paused".into()))
        );
    }
}
