//! `migtop config`: where the config file is and the settings it gives (never secrets: the
//! file holds no password, and the DSN is shown redacted all the same).

use std::io::Write;

use super::cutover;
use crate::cli::{ApiArgs, ConfigArgs, UiArgs};
use crate::commands::config_file::ConfigFile;
use crate::verdict::readiness::ReadinessConfig;

/// `migtop config`.
pub async fn run(args: ConfigArgs) -> anyhow::Result<i32> {
    let path = cutover::path();
    let file = cutover::load()?;
    let mut api = ApiArgs {
        cutover: args.cutover.clone(),
        ..Default::default()
    };
    let mut ui = UiArgs::default();
    cutover::merge(
        &mut api,
        cutover::Knobs::ui(&mut ui),
        file.as_ref(),
        path.as_deref(),
    )?;
    let text = render(
        path.as_deref(),
        file.as_ref(),
        args.cutover.as_deref(),
        &api,
        &ui,
    );
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(0)
}

/// The report: the path, the cutovers there are, then the effective settings as TOML lines.
fn render(
    path: Option<&std::path::Path>,
    file: Option<&ConfigFile>,
    cutover: Option<&str>,
    api: &ApiArgs,
    ui: &UiArgs,
) -> String {
    let mut s = String::new();
    match (path, file) {
        (Some(p), Some(f)) => {
            s.push_str(&format!("# config file: {}\n", p.display()));
            let names: Vec<&str> = f.cutovers.keys().map(String::as_str).collect();
            if names.is_empty() {
                s.push_str("# cutovers: none\n");
            } else {
                s.push_str(&format!("# cutovers: {}\n", names.join(", ")));
            }
            if !f.broken.is_empty() {
                let names: Vec<&str> = f.broken.keys().map(String::as_str).collect();
                s.push_str(&format!(
                    "# not usable (see the warnings on stderr): {}\n",
                    names.join(", ")
                ));
            }
        }
        (Some(p), None) => s.push_str(&format!("# config file: {} (none there)\n", p.display())),
        (None, _) => s.push_str("# config file: none (neither MIGTOP_CONFIG nor HOME is set)\n"),
    }
    match cutover {
        Some(name) => s.push_str(&format!(
            "# effective settings of --cutover {name} (over [defaults]; flags win over both):\n"
        )),
        None => s.push_str("# effective settings ([defaults]; flags win):\n"),
    }
    let quote = |v: &str| format!("{v:?}");
    let mut line = |key: &str, value: Option<String>| {
        if let Some(v) = value {
            s.push_str(&format!("{key} = {v}\n"));
        }
    };
    if !api.instances.is_empty() {
        let list: Vec<String> = api.instances.iter().map(|i| quote(i)).collect();
        line("instances", Some(format!("[{}]", list.join(", "))));
    }
    line("endpoint", api.endpoint.as_deref().map(quote));
    line("region", api.region.as_deref().map(quote));
    line("profile", api.profile.as_deref().map(quote));
    line("task_id", api.task_id.map(|v| v.to_string()));
    line("task_name", api.task_name.as_deref().map(quote));
    line("source_ip", api.source_ip.as_deref().map(quote));
    line("source_port", api.source_port.map(|v| v.to_string()));
    line(
        "source_dsn",
        api.source_dsn.as_ref().map(|d| quote(d.redacted())),
    );
    let d = ReadinessConfig::default();
    let (max_lag, note_lag) = match ui.thresholds.max_lag {
        Some(v) => (v, ""),
        None => (d.max_lag, "  # built-in default"),
    };
    let (stable, note_stable) = match ui.thresholds.stable_for {
        Some(v) => (v, ""),
        None => (d.stable_for, "  # built-in default"),
    };
    line(
        "max_lag",
        Some(format!("{}{note_lag}", quote(&exact_bytes(max_lag)))),
    );
    line(
        "stable_for",
        Some(format!(
            "{}{note_stable}",
            quote(&humantime::format_duration(stable).to_string())
        )),
    );
    line(
        "interval",
        Some(match ui.interval {
            Some(v) => quote(&humantime::format_duration(v).to_string()),
            None => "\"5s\"  # built-in default (2s for demo and lab)".to_string(),
        }),
    );
    s
}

/// A size as written in the file, exactly (no rounding): `16MiB`, `500KiB`, `1000`.
fn exact_bytes(n: u64) -> String {
    for (unit, size) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if n >= size && n.is_multiple_of(size) {
            return format!("{}{unit}", n / size);
        }
    }
    n.to_string()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn shows_path_cutovers_and_settings_but_no_password() {
        let f = ConfigFile::parse(
            "[defaults]\nregion = \"cn-hangzhou\"\n[cutover.prod]\ninstances = [\"pgm-a\"]\nsource_dsn = \"host=h user=repl\"\nmax_lag = \"2MiB\"\n",
            Path::new("/c.toml"),
        )
        .unwrap();
        let mut api = ApiArgs {
            cutover: Some("prod".into()),
            ..Default::default()
        };
        let mut ui = UiArgs::default();
        cutover::merge(&mut api, cutover::Knobs::ui(&mut ui), Some(&f), None).unwrap();
        let s = render(
            Some(Path::new("/c.toml")),
            Some(&f),
            Some("prod"),
            &api,
            &ui,
        );
        assert!(s.contains("# config file: /c.toml"), "{s}");
        assert!(s.contains("# cutovers: prod"), "{s}");
        assert!(s.contains("instances = [\"pgm-a\"]"), "{s}");
        assert!(s.contains("region = \"cn-hangzhou\""), "{s}");
        assert!(s.contains("max_lag = \"2MiB\""), "{s}");
        assert_eq!(exact_bytes(1536), "1536");
        assert!(
            s.contains("stable_for = \"30s\"  # built-in default"),
            "{s}"
        );
        // Whatever is printed parses back as TOML (comments aside).
        let body: String = s
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(body.parse::<toml::Table>().is_ok(), "{body}");
    }
}
