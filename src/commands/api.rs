//! From `ApiArgs` to what talks to the world: the API client, the task filter and the
//! source probe, or (`--primary`, `--standby`) the PostgreSQL servers themselves. Warnings go
//! to stderr.

use std::sync::Arc;

use crate::aliyun::{self, ClientConfig, CredentialOptions, RdsClient, RetryPolicy, TaskFilter};
use crate::cli::ApiArgs;
use crate::poller::{ApiSource, NativeSource, Side, SnapshotSource};
use crate::probe::Probe;
use crate::probe::per_instance::PerInstance;
use crate::probe::{SourceDsn, SourceProbe};
use crate::util::error::{UsageError, say};

/// The task filters given.
pub fn filter(args: &ApiArgs) -> TaskFilter {
    TaskFilter {
        task_id: args.task_id,
        task_name: args.task_name.clone(),
        source_ip: args.source_ip.clone(),
        source_port: args.source_port,
    }
}

/// The source probe, when `--source-dsn` (or MIGTOP_SOURCE_DSN) is given; a DSN that cannot
/// be used is a usage error, its text redacted. Warnings go to stderr.
pub fn source_probe(args: &ApiArgs) -> Result<Option<SourceProbe>, UsageError> {
    // An empty value (e.g. MIGTOP_SOURCE_DSN="") means no probe, not libpq's defaults.
    let Some(dsn) = args.source_dsn.as_ref().filter(|d| !d.is_empty()) else {
        return Ok(None);
    };
    let from_env = std::env::var_os("MIGTOP_SOURCE_DSN").is_some();
    if dsn.has_password() && !from_env {
        say(format_args!(
            "migtop: warning: the password in --source-dsn shows in `ps` and shell history; \
             prefer PGPASSWORD, ~/.pgpass or the MIGTOP_SOURCE_DSN variable"
        ));
    }
    let mut probe = SourceProbe::new(dsn.clone(), args.timeout)
        .map_err(|e| UsageError(format!("--source-dsn {}: {e}", dsn.redacted())))?;
    for w in probe.take_warnings() {
        say(format_args!("migtop: warning: {w}"));
    }
    Ok(Some(probe))
}

/// A server's instance name: `host:port/dbname` as the DSN resolves them (never the
/// password).
pub fn server_name(dsn: &SourceDsn, flag: &str) -> Result<String, UsageError> {
    let resolved = dsn
        .resolve()
        .map_err(|e| UsageError(format!("{flag} {}: {e}", dsn.redacted())))?;
    let c = &resolved.config;
    let host = match c.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_string(),
    };
    let port = c.get_ports().first().copied().unwrap_or(5432);
    let db = c.get_dbname().unwrap_or("postgres");
    Ok(format!("{host}:{port}/{db}"))
}

/// What `--primary` and `--standby` give: the source of their tasks, their source probes (none
/// when no primary is known) and the instance names.
pub type Native = (NativeSource, Option<PerInstance>, Vec<String>);

/// The servers read without a cloud API; `None` without `--primary` or `--standby`.
pub fn native(args: &ApiArgs) -> Result<Option<Native>, UsageError> {
    if args.primaries.is_empty() && args.standbys.is_empty() {
        return Ok(None);
    }
    // A standby's source is the primary, when there is exactly one to say which.
    let standby_source = match args.primaries.as_slice() {
        [one] => Some(one),
        _ => None,
    };
    let sides = args
        .primaries
        .iter()
        .map(|d| (Side::Primary, d, Some(d)))
        .chain(
            args.standbys
                .iter()
                .map(|d| (Side::Standby, d, standby_source)),
        );
    let mut servers: Vec<(String, Side, SourceDsn)> = Vec::new();
    let mut probes = Vec::new();
    for (side, dsn, source) in sides {
        let flag = match side {
            Side::Primary => "--primary",
            Side::Standby => "--standby",
        };
        let mut name = server_name(dsn, flag)?;
        if servers.iter().any(|(n, _, _)| *n == name) {
            name = format!("{name}#{}", servers.len() + 1);
        }
        if dsn.has_password() {
            say(format_args!(
                "migtop: warning: the password in {flag} shows in `ps` and shell history; \
                 prefer PGPASSWORD or ~/.pgpass"
            ));
        }
        if let Some(source) = source {
            let mut probe = SourceProbe::new(source.clone(), args.timeout)
                .map_err(|e| UsageError(format!("{flag} {}: {e}", source.redacted())))?;
            for w in probe.take_warnings() {
                say(format_args!("migtop: warning: {w}"));
            }
            probes.push((name.clone(), probe));
        }
        servers.push((name, side, dsn.clone()));
    }
    let names = servers.iter().map(|(n, _, _)| n.clone()).collect();
    Ok(Some((
        NativeSource::new(servers, args.timeout),
        (!probes.is_empty()).then(|| PerInstance::new(probes)),
        names,
    )))
}

/// Where a command's tasks come from: the cloud API, or the servers themselves.
pub struct Sources {
    pub source: Arc<dyn SnapshotSource>,
    /// The API client (for the switchover call); `None` without a cloud.
    pub client: Option<RdsClient>,
    pub probe: Option<Box<dyn Probe>>,
    pub instances: Vec<String>,
}

/// The cloud API's tasks (`-i`), or the servers' own (`--primary`, `--standby`), with their
/// source probes; warnings go to stderr.
pub fn sources(args: &ApiArgs) -> Result<Sources, UsageError> {
    if let Some((source, probe, instances)) = native(args)? {
        return Ok(Sources {
            source: Arc::new(source),
            client: None,
            probe: probe.map(|p| Box::new(p) as Box<dyn Probe>),
            instances,
        });
    }
    let client = client(args)?;
    Ok(Sources {
        source: Arc::new(ApiSource {
            client: client.clone(),
            filter: filter(args),
        }),
        client: Some(client),
        probe: source_probe(args)?.map(|p| Box::new(p) as Box<dyn Probe>),
        instances: args.instances.clone(),
    })
}

/// Resolves credentials and endpoint and builds the client; warnings go to stderr.
pub fn client(args: &ApiArgs) -> Result<RdsClient, UsageError> {
    // watch, status and exporter read --primary and --standby before they ask for a
    // client; wait and switchover cannot yet.
    if !args.primaries.is_empty() || !args.standbys.is_empty() {
        return Err(UsageError(
            "--primary and --standby work with watch, status and exporter; this command reads \
             the RDS API (-i ID)"
                .into(),
        ));
    }
    if args.instances.is_empty() {
        return Err(UsageError("name at least one instance with -i ID".into()));
    }
    let resolved = aliyun::credentials::resolve(&CredentialOptions {
        profile: args.profile.clone(),
        region: args.region.clone(),
        config_path: args.aliyun_config.clone(),
        credentials_path: None,
    })
    .map_err(|e| UsageError(e.to_string()))?;
    for w in &resolved.warnings {
        say(format_args!("{w}"));
    }
    let endpoint = args
        .endpoint
        .clone()
        .unwrap_or_else(|| aliyun::endpoint::for_region(resolved.region.as_deref()));
    let endpoint = aliyun::endpoint::validate(&endpoint, args.allow_insecure_http)
        .map_err(|e| UsageError(e.to_string()))?;
    let config = ClientConfig {
        endpoint,
        timeout: args.timeout,
        retry: RetryPolicy::default(),
        region: resolved.region,
    };
    RdsClient::from_source(config, resolved.source)
        .map_err(|e| UsageError(format!("cannot set up the HTTP client: {e}")))
}
