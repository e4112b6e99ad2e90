//! Role-based credentials against the simulator's STS and ECS metadata service: migtop's own
//! client assumes a role (directly, chained, refused), reads through the ECS RAM role, renews
//! credentials before they expire, and `migtop status` does it all from an aliyun CLI profile.

use crate::support::http;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use migtop::aliyun::credentials::{self, CredentialOptions, Provider, Source};
use migtop::aliyun::{ApiError, ClientConfig, Credentials, RdsClient, RetryPolicy, TaskFilter};
use migtop::sim::sts::StsConfig;
use migtop::sim::{RealClock, Scenario, ScenarioSource, ServerConfig, Shape, SimHandle};

const KEY_ID: &str = "LTAI5tRoleTestKey";
const SECRET: &str = "role-test-secret";

fn base() -> Credentials {
    Credentials {
        access_key_id: KEY_ID.into(),
        access_key_secret: SECRET.to_string().into(),
        security_token: None,
        origin: "test".into(),
    }
}

async fn sim(sts: StsConfig) -> SimHandle {
    let scenario = Scenario::builtin();
    let clock = Arc::new(RealClock::new(1.0));
    let source = Arc::new(ScenarioSource::new(&scenario, 1, clock.clone()));
    migtop::sim::start_with_sts(
        ServerConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            credentials: base(),
            shape: Shape::sample(),
            faults: vec![],
            seed: 1,
            clock,
        },
        sts,
        source,
    )
    .await
    .expect("simulator starts")
}

fn config(endpoint: &str) -> ClientConfig {
    ClientConfig {
        endpoint: endpoint.parse().unwrap(),
        timeout: Duration::from_secs(10),
        retry: RetryPolicy {
            max_attempts: 1,
            base: Duration::from_millis(10),
            cap: Duration::from_millis(50),
        },
        region: None,
    }
}

/// Resolves with `pairs` as the whole environment and `config_json` as ~/.aliyun/config.json.
fn resolve(
    pairs: &[(&str, &str)],
    config_json: Option<&str>,
    profile: Option<&str>,
) -> Result<credentials::Resolved, credentials::CredentialError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    if let Some(text) = config_json {
        std::fs::write(&path, text).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let mut env: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    env.insert("HOME".into(), dir.path().to_string_lossy().into_owned());
    let opts = CredentialOptions {
        profile: profile.map(str::to_string),
        config_path: Some(path),
        ..Default::default()
    };
    credentials::resolve_with(&opts, &|k| env.get(k).cloned())
}

fn role_config(role: &str) -> String {
    format!(
        r#"{{"current":"role","profiles":[
        {{"name":"keys","mode":"AK","access_key_id":"{KEY_ID}","access_key_secret":"{SECRET}"}},
        {{"name":"role","mode":"RamRoleArn","access_key_id":"{KEY_ID}","access_key_secret":"{SECRET}",
          "ram_role_arn":"acs:ram::1234567890123456:role/{role}","ram_session_name":"migtop-test","expired_seconds":900}},
        {{"name":"chained","mode":"ChainableRamRoleArn","source_profile":"role",
          "ram_role_arn":"acs:ram::1234567890123456:role/second","ram_session_name":"migtop-chain"}}]}}"#
    )
}

async fn read_all(client: &RdsClient, instances: &[String]) -> Result<usize, ApiError> {
    let mut n = 0;
    for i in instances {
        n += client
            .describe_tasks(i, &TaskFilter::default())
            .await?
            .tasks
            .len();
    }
    Ok(n)
}

#[tokio::test(flavor = "multi_thread")]
async fn ram_role_arn_and_chained_roles_read_tasks() {
    let h = sim(StsConfig::default()).await;
    let env = [("ALIBABA_CLOUD_STS_ENDPOINT", h.endpoint())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for profile in ["role", "chained"] {
        let r = resolve(&env, Some(&role_config("reader")), Some(profile)).unwrap();
        assert!(matches!(r.source, Source::AssumeRole(_)), "{:?}", r.source);
        let provider = Arc::new(Provider::new(r.source, Duration::from_secs(5)).unwrap());
        let c = provider.current().await.unwrap();
        assert!(c.access_key_id.starts_with("STS."), "{c:?}");
        assert!(c.security_token.is_some());
        let client = RdsClient::with_provider(config(&h.endpoint()), provider).unwrap();
        assert!(
            read_all(&client, &h.instances).await.unwrap() > 0,
            "{profile}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_environment_assumes_alibaba_cloud_role_arn() {
    let h = sim(StsConfig::default()).await;
    let endpoint = h.endpoint();
    // The Terraform provider's names, and the SDKs' role variables.
    let r = resolve(
        &[
            ("ALICLOUD_ACCESS_KEY", KEY_ID),
            ("ALICLOUD_SECRET_KEY", SECRET),
            ("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1:role/from-env"),
            ("ALIBABA_CLOUD_ROLE_SESSION_NAME", "env-session"),
            ("ALIBABA_CLOUD_STS_ENDPOINT", &endpoint),
        ],
        None,
        None,
    )
    .unwrap();
    let Source::AssumeRole(role) = &r.source else {
        panic!("{:?}", r.source)
    };
    assert_eq!(role.session_name, "env-session");
    let client = RdsClient::from_source(config(&endpoint), r.source.clone()).unwrap();
    assert!(read_all(&client, &h.instances).await.unwrap() > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_role_is_one_sentence_with_code_and_request_id() {
    let h = sim(StsConfig::default()).await;
    let env = [("ALIBABA_CLOUD_STS_ENDPOINT", h.endpoint())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for (role, code) in [
        ("denied", "NoPermission"),
        ("missing-one", "EntityNotExist.Role"),
    ] {
        let r = resolve(&env, Some(&role_config(role)), Some("role")).unwrap();
        let client = RdsClient::from_source(config(&h.endpoint()), r.source).unwrap();
        let e = read_all(&client, &h.instances).await.unwrap_err();
        let text = e.to_string();
        assert_eq!(e.code(), code, "{text}");
        assert!(e.request_id().is_some(), "{text}");
        assert!(text.contains(&format!("role/{role}")), "{text}");
        assert!(text.contains("request id"), "{text}");
        assert!(!text.contains('\n'), "{text}");
        assert!(!text.contains(SECRET), "{text}");
        assert!(!e.is_retryable());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ecs_ram_role_from_the_metadata_service() {
    let h = sim(StsConfig::default()).await;
    let endpoint = h.endpoint();
    // Named by the environment (the last step of the chain), or found by asking.
    for role in [Some("migtop-ecs-role"), None] {
        let mut env = vec![("MIGTOP_ECS_METADATA_ENDPOINT", endpoint.as_str())];
        let config_json = match role {
            Some(r) => {
                env.push(("ALIBABA_CLOUD_ECS_METADATA", r));
                None
            }
            None => Some(r#"{"current":"ecs","profiles":[{"name":"ecs","mode":"EcsRamRole"}]}"#),
        };
        let r = resolve(&env, config_json, None).unwrap();
        assert!(matches!(r.source, Source::EcsRamRole(_)), "{:?}", r.source);
        let client = RdsClient::from_source(config(&endpoint), r.source).unwrap();
        assert!(read_all(&client, &h.instances).await.unwrap() > 0);
    }
    // A role the instance does not have.
    let r = resolve(
        &[
            ("MIGTOP_ECS_METADATA_ENDPOINT", &endpoint),
            ("ALIBABA_CLOUD_ECS_METADATA", "not-this-one"),
        ],
        None,
        None,
    )
    .unwrap();
    let client = RdsClient::from_source(config(&endpoint), r.source).unwrap();
    let e = read_all(&client, &h.instances)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("HTTP 404") && e.contains("RAM role of that name"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn temporary_credentials_are_renewed_before_they_expire() {
    let h = sim(StsConfig {
        lifetime_cap: Some(Duration::from_secs(3)),
        ..Default::default()
    })
    .await;
    let endpoint = h.endpoint();
    let env = [("ALIBABA_CLOUD_STS_ENDPOINT", endpoint.as_str())];
    let r = resolve(&env, Some(&role_config("reader")), Some("role")).unwrap();
    let provider = Arc::new(Provider::new(r.source, Duration::from_secs(5)).unwrap());
    let client = RdsClient::with_provider(config(&endpoint), provider.clone()).unwrap();
    let first = provider.current().await.unwrap();
    let mut ids = vec![first.access_key_id.clone()];
    // Four lifetimes of polling: every read succeeds, on ever newer credentials.
    for _ in 0..12 {
        assert!(read_all(&client, &h.instances[..1]).await.unwrap() > 0);
        let now = provider.current().await.unwrap().access_key_id;
        if ids.last() != Some(&now) {
            ids.push(now);
        }
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
    assert!(ids.len() >= 3, "renewed only {} times", ids.len() - 1);
    // The first credentials are refused now, as expired.
    let old = RdsClient::new(config(&endpoint), first).unwrap();
    let e = read_all(&old, &h.instances[..1]).await.unwrap_err();
    assert_eq!(e.code(), "InvalidSecurityToken.Expired", "{e}");
}

#[test]
fn role_settings_are_checked_up_front() {
    let e = resolve(
        &[],
        Some(&role_config("x").replace("\"expired_seconds\":900", "\"expired_seconds\":60")),
        Some("role"),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("at least 900"), "{e}");
    let e = resolve(
        &[("ALIBABA_CLOUD_STS_ENDPOINT", "http://10.1.2.3:80")],
        Some(&role_config("x")),
        Some("role"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("plain http") && e.contains("ALIBABA_CLOUD_STS_ENDPOINT"),
        "{e}"
    );
    // A bare host means https; the region picks the STS endpoint otherwise.
    let r = resolve(
        &[(
            "ALIBABA_CLOUD_STS_ENDPOINT",
            "sts-vpc.cn-hangzhou.aliyuncs.com",
        )],
        Some(&role_config("x")),
        Some("role"),
    )
    .unwrap();
    let Source::AssumeRole(a) = r.source else {
        panic!()
    };
    assert_eq!(
        a.endpoint.as_str(),
        "https://sts-vpc.cn-hangzhou.aliyuncs.com/"
    );
    let r = resolve(
        &[("ALIBABA_CLOUD_REGION_ID", "cn-beijing")],
        Some(&role_config("x")),
        Some("role"),
    )
    .unwrap();
    let Source::AssumeRole(a) = r.source else {
        panic!()
    };
    assert_eq!(a.endpoint.as_str(), "https://sts.cn-beijing.aliyuncs.com/");
    let loop_config = r#"{"profiles":[
        {"name":"a","mode":"ChainableRamRoleArn","source_profile":"b","ram_role_arn":"acs:ram::1:role/x"},
        {"name":"b","mode":"ChainableRamRoleArn","source_profile":"a","ram_role_arn":"acs:ram::1:role/y"}]}"#;
    let e = resolve(&[], Some(loop_config), Some("a"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("loop"), "{e}");
    let e = resolve(
        &[
            ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true"),
            ("ALIBABA_CLOUD_ECS_METADATA", "r"),
        ],
        None,
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("ALIBABA_CLOUD_ECS_METADATA_DISABLED"), "{e}");
}

/// `migtop status` with an aliyun CLI profile of mode RamRoleArn pointed at the simulator.
async fn status_with_role(endpoint: &str, instance: &str, role: &str) -> (i32, String) {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".aliyun")).unwrap();
    let path = home.path().join(".aliyun/config.json");
    std::fs::write(&path, role_config(role)).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_migtop"))
        .args([
            "status",
            "--endpoint",
            endpoint,
            "-i",
            instance,
            "-o",
            "json",
        ])
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ALIBABA_CLOUD_STS_ENDPOINT", endpoint)
        .output()
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn status_reads_through_a_ram_role_arn_profile() {
    let h = sim(StsConfig::default()).await;
    let endpoint = h.endpoint();
    let (code, out) = status_with_role(&endpoint, &h.instances[0], "reader").await;
    assert_eq!(code, 0, "{out}");
    let json = &out[..out.rfind('}').unwrap() + 1];
    let doc: serde_json::Value = serde_json::from_str(json).unwrap();
    assert!(!doc["instances"][0]["tasks"].as_array().unwrap().is_empty());
    assert!(!out.contains(SECRET));
    let (code, out) = status_with_role(&endpoint, &h.instances[0], "denied").await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("NoPermission") && out.contains("request id"),
        "{out}"
    );
    assert!(!out.contains(SECRET), "{out}");
}

/// A credentials URI and an endpoint in one scripted server: URI answers carry `tok-N` (N the
/// request's index); the endpoint calls a token expired when `expired(token)`.
async fn uri_and_endpoint(
    expired: fn(&str) -> bool,
) -> (String, Arc<std::sync::Mutex<Vec<http::Seen>>>) {
    let (addr, seen) = http::serve(Arc::new(move |s: &http::Seen, n| {
        match s.params.get("SecurityToken") {
            Some(t) if expired(t) => (
                400,
                http::error_body(
                    "InvalidSecurityToken.Expired",
                    "Specified SecurityToken is expired.",
                    "R-EXP",
                ),
            ),
            Some(_) => (200, http::sample()),
            None => (
                200,
                serde_json::json!({
                    "Code": "Success",
                    "AccessKeyId": format!("STS.uri{n}"),
                    "AccessKeySecret": "uri-secret",
                    "SecurityToken": format!("tok-{n}"),
                    "Expiration": "2099-01-01T00:00:00Z",
                })
                .to_string(),
            ),
        }
    }))
    .await;
    (format!("http://{addr}"), seen)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_the_service_calls_expired_is_renewed_once() {
    let (endpoint, seen) = uri_and_endpoint(|t| t == "tok-0").await;
    let uri = format!("{endpoint}/credentials");
    let r = resolve(&[("ALIBABA_CLOUD_CREDENTIALS_URI", &uri)], None, None).unwrap();
    assert!(matches!(r.source, Source::Uri(_)), "{:?}", r.source);
    let client = RdsClient::from_source(config(&endpoint), r.source).unwrap();
    let snap = client
        .describe_tasks("pgm-bp102g323jd4", &TaskFilter::default())
        .await
        .unwrap();
    assert_eq!(snap.tasks.len(), 1);
    let tokens: Vec<Option<String>> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.params.get("SecurityToken").cloned())
        .collect();
    // URI, refused call, URI again, accepted call.
    assert_eq!(
        tokens,
        [None, Some("tok-0".into()), None, Some("tok-2".into())]
    );

    // A service that refuses every token: one renewal, then the error, not a loop.
    let (endpoint, seen) = uri_and_endpoint(|_| true).await;
    let uri = format!("{endpoint}/credentials");
    let r = resolve(&[("ALIBABA_CLOUD_CREDENTIALS_URI", &uri)], None, None).unwrap();
    let client = RdsClient::from_source(config(&endpoint), r.source).unwrap();
    let e = client
        .describe_tasks("pgm-bp102g323jd4", &TaskFilter::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "InvalidSecurityToken.Expired");
    assert_eq!(seen.lock().unwrap().len(), 4);
}
