//! From `ApiArgs` to what talks to the world: the API client, the task filter and the
//! source probe. Warnings go to stderr.

use crate::aliyun::{self, ClientConfig, CredentialOptions, RdsClient, RetryPolicy, TaskFilter};
use crate::cli::ApiArgs;
use crate::poller::PrimarySource;
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

/// A primary's instance name: `host:port/dbname` as the DSN resolves them (never the
/// password).
pub fn primary_name(dsn: &SourceDsn) -> Result<String, UsageError> {
    let resolved = dsn
        .resolve()
        .map_err(|e| UsageError(format!("--primary {}: {e}", dsn.redacted())))?;
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

/// With `--primary`: the walsenders of each primary as the tasks, each primary its own
/// source probe, and the instance names. `None` without `--primary`.
pub fn primaries(
    args: &ApiArgs,
) -> Result<Option<(PrimarySource, PerInstance, Vec<String>)>, UsageError> {
    if args.primaries.is_empty() {
        return Ok(None);
    }
    let mut pairs = Vec::new();
    let mut probes = Vec::new();
    for dsn in &args.primaries {
        let mut name = primary_name(dsn)?;
        if pairs.iter().any(|(n, _)| *n == name) {
            name = format!("{name}#{}", pairs.len() + 1);
        }
        if dsn.has_password() {
            say(format_args!(
                "migtop: warning: the password in --primary shows in `ps` and shell history; \
                 prefer PGPASSWORD or ~/.pgpass"
            ));
        }
        let mut probe = SourceProbe::new(dsn.clone(), args.timeout)
            .map_err(|e| UsageError(format!("--primary {}: {e}", dsn.redacted())))?;
        for w in probe.take_warnings() {
            say(format_args!("migtop: warning: {w}"));
        }
        probes.push((name.clone(), probe));
        pairs.push((name, dsn.clone()));
    }
    let names = pairs.iter().map(|(n, _)| n.clone()).collect();
    Ok(Some((
        PrimarySource::new(pairs, args.timeout),
        PerInstance::new(probes),
        names,
    )))
}

/// Resolves credentials and endpoint and builds the client; warnings go to stderr.
pub fn client(args: &ApiArgs) -> Result<RdsClient, UsageError> {
    // watch and status read --primary before they ask for a client; the rest cannot yet.
    if !args.primaries.is_empty() {
        return Err(UsageError(
            "--primary works with watch and status; this command reads the RDS API (-i ID)".into(),
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
