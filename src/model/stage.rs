//! Migration stages and replication states, as the API names them.

use std::fmt;

/// A cloud-migration stage (`MigrateStage`). Unknown values are kept, never a decode failure.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Stage {
    Precheck,
    Basebackup,
    Startup,
    Increment,
    Switch,
    Success,
    /// A value this version of migtop does not know, kept verbatim.
    Unknown(String),
}

impl Stage {
    /// The six known stages in the order a task goes through them.
    pub const ALL: [Stage; 6] = [
        Stage::Precheck,
        Stage::Basebackup,
        Stage::Startup,
        Stage::Increment,
        Stage::Switch,
        Stage::Success,
    ];

    /// Parses the API's text; matching ignores case and surrounding space.
    pub fn parse(s: &str) -> Stage {
        match s.trim().to_ascii_lowercase().as_str() {
            "precheck" => Stage::Precheck,
            "basebackup" => Stage::Basebackup,
            "startup" => Stage::Startup,
            "increment" => Stage::Increment,
            "switch" => Stage::Switch,
            "success" => Stage::Success,
            _ => Stage::Unknown(s.trim().to_string()),
        }
    }

    /// One of the six known stages by name (a flag's value); anything else is refused.
    pub fn parse_known(s: &str) -> Result<Stage, String> {
        match Stage::parse(s) {
            Stage::Unknown(_) => Err(format!(
                "{s:?} is not a stage: one of precheck, basebackup, startup, increment, switch, success"
            )),
            known => Ok(known),
        }
    }

    /// The API's name of the stage.
    pub fn as_str(&self) -> &str {
        match self {
            Stage::Precheck => "precheck",
            Stage::Basebackup => "basebackup",
            Stage::Startup => "startup",
            Stage::Increment => "increment",
            Stage::Switch => "switch",
            Stage::Success => "success",
            Stage::Unknown(s) => s,
        }
    }

    /// Position 1..=6 in the stage sequence; `None` for an unknown stage.
    pub fn index(&self) -> Option<u8> {
        Stage::ALL
            .iter()
            .position(|s| s == self)
            .map(|i| i as u8 + 1)
    }

    /// A short human label for the progress bar.
    pub fn label(&self) -> &str {
        match self {
            Stage::Precheck => "precheck",
            Stage::Basebackup => "base backup",
            Stage::Startup => "startup",
            Stage::Increment => "increment",
            Stage::Switch => "switch",
            Stage::Success => "success",
            Stage::Unknown(s) => s,
        }
    }
}

impl PartialOrd for Stage {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        match (self.index(), other.index()) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ if self == other => Some(std::cmp::Ordering::Equal),
            _ => None,
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state of the replication link (`ReplicationState`). Unknown values are kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReplicationState {
    Unstarted,
    Catchup,
    Streaming,
    Disconnect,
    Finish,
    /// A value this version of migtop does not know, kept verbatim.
    Unknown(String),
}

impl ReplicationState {
    /// Parses the API's text; matching ignores case and surrounding space.
    pub fn parse(s: &str) -> ReplicationState {
        match s.trim().to_ascii_lowercase().as_str() {
            "unstarted" => ReplicationState::Unstarted,
            "catchup" => ReplicationState::Catchup,
            "streaming" => ReplicationState::Streaming,
            "disconnect" | "disconnected" => ReplicationState::Disconnect,
            "finish" | "finished" => ReplicationState::Finish,
            _ => ReplicationState::Unknown(s.trim().to_string()),
        }
    }

    /// The API's name of the state.
    pub fn as_str(&self) -> &str {
        match self {
            ReplicationState::Unstarted => "unstarted",
            ReplicationState::Catchup => "catchup",
            ReplicationState::Streaming => "streaming",
            ReplicationState::Disconnect => "disconnect",
            ReplicationState::Finish => "finish",
            ReplicationState::Unknown(s) => s,
        }
    }
}

impl fmt::Display for ReplicationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Stages and states are written as the API names them (recordings), and read back the same way.
macro_rules! serde_as_api_text {
    ($t:ty) => {
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Ok(<$t>::parse(&s))
            }
        }
    };
}

serde_as_api_text!(Stage);
serde_as_api_text!(ReplicationState);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_are_ordered_and_indexed() {
        for (i, s) in Stage::ALL.iter().enumerate() {
            assert_eq!(s.index(), Some(i as u8 + 1));
            assert_eq!(&Stage::parse(s.as_str()), s);
        }
        assert!(Stage::Precheck < Stage::Increment);
        assert!(Stage::Switch < Stage::Success);
        assert_eq!(Stage::parse(" Increment "), Stage::Increment);
    }

    #[test]
    fn unknown_values_are_kept() {
        let s = Stage::parse("rollback");
        assert_eq!(s, Stage::Unknown("rollback".into()));
        assert_eq!(s.index(), None);
        assert_eq!(s.to_string(), "rollback");
        assert_eq!(s.partial_cmp(&Stage::Precheck), None);
        assert_eq!(
            ReplicationState::parse("stopping"),
            ReplicationState::Unknown("stopping".into())
        );
        assert_eq!(
            ReplicationState::parse("STREAMING"),
            ReplicationState::Streaming
        );
    }
}
