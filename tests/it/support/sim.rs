//! An in-process simulator on a manual clock, and migtop's own client for it.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use migtop::aliyun::{ClientConfig, Credentials, RdsClient, RetryPolicy};
use migtop::sim::{FaultSpec, ManualClock, Scenario, ScenarioSource, ServerConfig, SimHandle};

/// The AccessKey id the simulator accepts.
pub const KEY_ID: &str = "LTAI5tTestKeyId";
/// Its secret.
pub const SECRET: &str = "test-secret";

/// The simulator's credentials (and the client's).
pub fn creds() -> Credentials {
    Credentials {
        access_key_id: KEY_ID.into(),
        access_key_secret: SECRET.to_string().into(),
        security_token: None,
        origin: "test".into(),
    }
}

fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 11, 2, 0, 0).unwrap()
}

/// A simulator on a manual clock (time moves only when the test says so).
pub struct Sim {
    pub handle: SimHandle,
    pub clock: Arc<ManualClock>,
}

impl Sim {
    /// Its base URL.
    pub fn endpoint(&self) -> String {
        self.handle.endpoint()
    }

    /// Moves its clock `secs` seconds on.
    pub fn advance(&self, secs: f64) {
        self.clock.advance(secs);
    }
}

/// A simulator serving `scenario` with `faults`, accepting `credentials`.
pub async fn sim_with(scenario: Scenario, faults: Vec<FaultSpec>, credentials: Credentials) -> Sim {
    let clock = Arc::new(ManualClock::new(epoch()));
    let source = Arc::new(ScenarioSource::new(&scenario, 1, clock.clone()));
    let shape = scenario.shape;
    let handle = migtop::sim::start_with_config(
        ServerConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            credentials,
            shape,
            faults,
            seed: 1,
            clock: clock.clone(),
        },
        source,
    )
    .await
    .expect("simulator starts");
    Sim { handle, clock }
}

/// A simulator serving the built-in scenario, without faults.
pub async fn sim() -> Sim {
    sim_with(Scenario::builtin(), vec![], creds()).await
}

/// migtop's own client for the simulator, with retries off unless asked for.
pub fn client(endpoint: &str, timeout: Duration, attempts: u32) -> RdsClient {
    client_with(endpoint, timeout, attempts, creds())
}

/// As [`client`], with other credentials.
pub fn client_with(endpoint: &str, timeout: Duration, attempts: u32, c: Credentials) -> RdsClient {
    RdsClient::new(
        ClientConfig {
            endpoint: endpoint.parse().unwrap(),
            timeout,
            retry: RetryPolicy {
                max_attempts: attempts,
                base: Duration::from_millis(10),
                cap: Duration::from_millis(50),
            },
            region: None,
        },
        c,
    )
    .unwrap()
}
