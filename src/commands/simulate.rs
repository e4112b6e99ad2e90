//! `migtop simulate`: the simulator as a server on loopback until Ctrl-C or SIGTERM.

use std::io::Write;

use crate::aliyun::Credentials;
use crate::aliyun::credentials::{self, CredentialError, CredentialOptions};
use crate::cli::{ShapeArg, SimulateArgs};
use crate::sim::{self, ScenarioOptions, Shape};
use crate::util::error::UsageError;
use crate::util::logging;
use crate::util::signals::StopSignals;

/// The credentials a simulator serving other tools accepts (`simulate`, `lab --serve`) and a
/// phrase saying where the secret comes from.
pub fn served_credentials() -> Result<(Credentials, String), UsageError> {
    match credentials::resolve(&CredentialOptions::default()) {
        Ok(r) => {
            for w in &r.warnings {
                eprintln!("{w}");
            }
            // The simulator accepts the AccessKey pair at the root (the one that would sign
            // AssumeRole); the ECS metadata service or a URI has none.
            let Some(credentials) = r.source.root_key().cloned() else {
                return Err(UsageError(format!(
                    "cannot pick the credentials to accept: {} is not an AccessKey pair; set {} and {} for the simulator",
                    r.source.origin(),
                    credentials::ENV_KEY_ID,
                    credentials::ENV_KEY_SECRET
                )));
            };
            let origin = format!("secret from the {}", credentials.origin);
            Ok((credentials, origin))
        }
        Err(CredentialError::NotFound(..)) => Ok((
            sim::demo_credentials(),
            "nothing configured, so the documented demo pair; its secret is in assets/scenarios/README.md"
                .to_string(),
        )),
        Err(e) => Err(UsageError(format!(
            "cannot pick the credentials to accept: {e}"
        ))),
    }
}

/// `migtop simulate`: serve until Ctrl-C or SIGTERM.
pub async fn run(args: SimulateArgs) -> anyhow::Result<i32> {
    logging::to_stderr("info");
    let (credentials, origin) = served_credentials()?;
    let scenario = sim::load_scenario(args.scenario.as_deref())?;
    let key_id = credentials.access_key_id.clone();
    let handle = sim::start_scenario(
        &scenario,
        ScenarioOptions {
            listen: args.listen,
            speed: args.speed,
            seed: args.seed,
            credentials,
            extra_faults: args.faults.clone(),
            shape: args.shape.map(|s| match s {
                ShapeArg::Sample => Shape::sample(),
                ShapeArg::Plain => Shape::plain(),
            }),
            sts: sim::sts::StsConfig {
                lifetime_cap: args.sts_lifetime,
                ..Default::default()
            },
        },
    )
    .await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {}", handle.endpoint())?;
    writeln!(out, "instances: {}", handle.instances.join(" "))?;
    writeln!(out, "accepts AccessKey id {key_id} ({origin})")?;
    let name = if scenario.name.is_empty() {
        "unnamed"
    } else {
        &scenario.name
    };
    writeln!(
        out,
        "scenario {name}, speed {}x, seed {}; stop with Ctrl-C",
        args.speed, args.seed
    )?;
    writeln!(
        out,
        "also serves STS AssumeRole (set {}={}) and the ECS metadata service (set {}={}, role {})",
        credentials::ENV_STS_ENDPOINT,
        handle.endpoint(),
        credentials::ENV_ECS_METADATA_ENDPOINT,
        handle.endpoint(),
        sim::sts::ECS_ROLE
    )?;
    // A line that works when pasted: the binary's path, and the demo pair when it is the one.
    let endpoint = handle.endpoint();
    let instance = handle.instances.first().map(String::as_str).unwrap_or("ID");
    writeln!(
        out,
        "{}",
        super::try_line::try_line(
            &key_id,
            &["status", "--endpoint", &endpoint, "-i", instance]
        )
    )?;
    out.flush()?;
    drop(out);
    // A server started from a shell: SIGHUP keeps its default action.
    StopSignals::listen_without_hangup()?.recv().await;
    handle.shutdown().await;
    Ok(0)
}
