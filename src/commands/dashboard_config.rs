//! The dashboard's settings from the command line, built in one place: the UI flags, the
//! instances, the header's label and the source probe's target.

use std::time::Duration;

use chrono::Local;

use crate::app::AppConfig;
use crate::cli::UiArgs;
use crate::probe::Probe;
use crate::verdict::readiness::ReadinessConfig;

/// Default poll interval of `watch`.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(5);
/// Default poll interval of `demo` and `lab` (the simulator is cheap to ask).
pub const DEMO_INTERVAL: Duration = Duration::from_secs(2);

/// Whether colour is wanted: not with `--no-color`, not with a non-empty `NO_COLOR`.
pub fn color_enabled(no_color_flag: bool, no_color_env: Option<&str>) -> bool {
    !no_color_flag && no_color_env.is_none_or(|v| v.is_empty())
}

/// The header's label of a simulated session: `demo`, or `demo ×10` when time runs faster.
pub fn speed_label(name: &str, speed: f64) -> String {
    if speed == 1.0 {
        name.to_string()
    } else {
        format!("{name} ×{speed}")
    }
}

/// The dashboard settings of `command` (named in hints): the UI flags (`default_interval` unless `--interval`), the
/// instances to poll, the header's label and the target of the source probe, if any.
pub fn app_config(
    command: &str,
    ui: &UiArgs,
    default_interval: Duration,
    instances: Vec<String>,
    label: Option<String>,
    probe: Option<&dyn Probe>,
) -> AppConfig {
    let no_color_env = std::env::var("NO_COLOR").ok();
    AppConfig {
        instances,
        interval: ui.interval.unwrap_or(default_interval),
        readiness: ui.thresholds.readiness(),
        allow_switchover: ui.allow_switchover,
        bell: !ui.no_bell,
        color: color_enabled(ui.no_color, no_color_env.as_deref()),
        local_offset: *Local::now().offset(),
        label,
        source_probe: probe.map(|p| p.target().to_string()),
        command: command.to_string(),
        lab_keys: command == "lab",
    }
}

/// The settings of a headless run (`exporter`): no screen, so no colour, bell or switchover;
/// the same readiness rules and probe target as the dashboard.
pub fn headless_config(
    instances: Vec<String>,
    interval: Duration,
    readiness: ReadinessConfig,
    probe: Option<&dyn Probe>,
) -> AppConfig {
    AppConfig {
        interval,
        readiness,
        bell: false,
        color: false,
        local_offset: *Local::now().offset(),
        source_probe: probe.map(|p| p.target().to_string()),
        ..AppConfig::new(instances)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_rules() {
        assert!(color_enabled(false, None));
        assert!(color_enabled(false, Some("")));
        assert!(!color_enabled(false, Some("1")));
        assert!(!color_enabled(true, None));
    }

    #[test]
    fn labels_name_the_speed() {
        assert_eq!(speed_label("demo", 1.0), "demo");
        assert_eq!(speed_label("lab", 10.0), "lab ×10");
        assert_eq!(speed_label("demo", 0.5), "demo ×0.5");
    }
}
