//! Injected faults: latency, hangs, 5xx, throttling, malformed or truncated bodies and
//! connection resets, each at a rate and/or in a window of simulated time.

use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;

use super::error::SimError;
use super::quantity::{Secs, parse_secs};

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// The answer comes `delay` late (default 1 s).
    Latency,
    /// The answer comes `delay` late (default 120 s), past any sane client timeout.
    Hang,
    /// HTTP `status` (default 503) with InternalError / ServiceUnavailable.
    ServerError,
    /// `Throttling.User`, HTTP 400.
    Throttling,
    /// HTTP 200 with a body that is not JSON (an HTML proxy page).
    Malformed,
    /// HTTP 200 with the JSON body cut in half.
    Truncated,
    /// The TCP connection is reset without an answer.
    Reset,
}

/// One fault rule.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub kind: FaultKind,
    /// Probability per request, 0 to 1 (default 1: every request in the window).
    #[serde(default = "one")]
    pub rate: f64,
    /// Window start in simulated seconds (default: from the start).
    #[serde(default)]
    pub from: Option<Secs>,
    /// Window end in simulated seconds (default: forever).
    #[serde(default)]
    pub to: Option<Secs>,
    /// For latency and hang: how long, in wall-clock time.
    #[serde(default)]
    pub delay: Option<Secs>,
    /// For server_error: the HTTP status (500-599).
    #[serde(default)]
    pub status: Option<u16>,
    /// Only these actions (default: every action).
    #[serde(default)]
    pub actions: Vec<String>,
}

fn one() -> f64 {
    1.0
}

impl FaultSpec {
    /// A rule of `kind` on every request.
    pub fn always(kind: FaultKind) -> FaultSpec {
        FaultSpec {
            kind,
            rate: 1.0,
            from: None,
            to: None,
            delay: None,
            status: None,
            actions: vec![],
        }
    }

    /// Checks ranges; the message names the problem.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.rate.is_finite() && (0.0..=1.0).contains(&self.rate)) {
            return Err(format!("fault rate {} is not between 0 and 1", self.rate));
        }
        if let (Some(f), Some(t)) = (self.from, self.to)
            && t.0 < f.0
        {
            return Err(format!(
                "fault window ends ({}s) before it starts ({}s)",
                t.0, f.0
            ));
        }
        if let Some(s) = self.status
            && !(500..=599).contains(&s)
        {
            return Err(format!("fault status {s} is not a 5xx status"));
        }
        if let Some(d) = self.delay
            && d.0 > 3600.0
        {
            return Err("fault delay above 1h".into());
        }
        Ok(())
    }

    fn applies(&self, action: &str, t: f64) -> bool {
        (self.actions.is_empty() || self.actions.iter().any(|a| a == action))
            && self.from.is_none_or(|f| t >= f.0)
            && self.to.is_none_or(|e| t < e.0)
    }

    /// Parses the `--fault` flag: `KIND[:RATE][:PARAM][@FROM..TO]`, e.g. `throttling:0.2`,
    /// `latency:1:800ms`, `5xx:0.1:500`, `hang:1:60s`, `reset@30s..60s`.
    pub fn parse_flag(s: &str) -> Result<FaultSpec, String> {
        let (main, window) = match s.split_once('@') {
            Some((m, w)) => (m, Some(w)),
            None => (s, None),
        };
        let mut parts = main.split(':');
        let kind = match parts.next().unwrap_or("").trim() {
            "latency" | "slow" => FaultKind::Latency,
            "hang" | "timeout" => FaultKind::Hang,
            "5xx" | "server_error" | "500" | "503" => FaultKind::ServerError,
            "throttling" | "throttle" => FaultKind::Throttling,
            "malformed" => FaultKind::Malformed,
            "truncated" => FaultKind::Truncated,
            "reset" => FaultKind::Reset,
            other => {
                return Err(format!(
                    "unknown fault {other:?}; use latency, hang, 5xx, throttling, malformed, truncated or reset"
                ));
            }
        };
        let mut spec = FaultSpec::always(kind);
        if main.starts_with("500") {
            spec.status = Some(500);
        }
        if let Some(rate) = parts.next().filter(|r| !r.is_empty()) {
            spec.rate = rate
                .trim()
                .parse()
                .map_err(|_| format!("fault rate {rate:?} is not a number between 0 and 1"))?;
        }
        if let Some(param) = parts.next().filter(|p| !p.is_empty()) {
            match kind {
                FaultKind::Latency | FaultKind::Hang => spec.delay = Some(parse_secs(param)?),
                FaultKind::ServerError => {
                    spec.status = Some(
                        param
                            .trim()
                            .parse()
                            .map_err(|_| format!("fault status {param:?} is not a number"))?,
                    )
                }
                _ => return Err(format!("fault {kind:?} takes no parameter")),
            }
        }
        if parts.next().is_some() {
            return Err(format!("{s:?}: too many ':' parts (KIND[:RATE][:PARAM])"));
        }
        if let Some(w) = window {
            let (from, to) = w
                .split_once("..")
                .ok_or_else(|| format!("fault window {w:?} is not FROM..TO like 30s..60s"))?;
            if !from.is_empty() {
                spec.from = Some(parse_secs(from)?);
            }
            if !to.is_empty() {
                spec.to = Some(parse_secs(to)?);
            }
        }
        spec.validate()?;
        Ok(spec)
    }
}

/// What happens to one request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaultPlan {
    /// Wait this long first (latency and hang add up).
    pub delay: Duration,
    /// Then, instead of the normal answer...
    pub outcome: Option<Outcome>,
}

/// A replacement for the normal answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Error(SimError),
    Malformed,
    Truncated,
    Reset,
}

/// The fault rules and a seeded random source (the same seed gives the same sequence).
pub struct Faults {
    specs: Vec<FaultSpec>,
    rng: Mutex<StdRng>,
}

impl Faults {
    /// Rules, drawn from a generator seeded with `seed`.
    pub fn new(specs: Vec<FaultSpec>, seed: u64) -> Faults {
        Faults {
            specs,
            rng: Mutex::new(StdRng::seed_from_u64(seed ^ 0x6661_756c_7473)),
        }
    }

    /// No faults.
    pub fn none() -> Faults {
        Faults::new(vec![], 0)
    }

    /// The rules.
    pub fn specs(&self) -> &[FaultSpec] {
        &self.specs
    }

    /// Decides the faults of one request for `action` at simulated time `t`.
    pub fn plan(&self, action: &str, t: f64) -> FaultPlan {
        let mut plan = FaultPlan::default();
        if self.specs.is_empty() {
            return plan;
        }
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        for spec in &self.specs {
            // Draw for every rule so one rule's window does not shift another's sequence.
            let roll: f64 = rng.random();
            if !spec.applies(action, t) || roll >= spec.rate {
                continue;
            }
            match spec.kind {
                FaultKind::Latency => {
                    plan.delay += secs(spec.delay.map_or(1.0, |d| d.0));
                }
                FaultKind::Hang => {
                    plan.delay += secs(spec.delay.map_or(120.0, |d| d.0));
                }
                _ if plan.outcome.is_some() => {}
                FaultKind::ServerError => {
                    plan.outcome = Some(Outcome::Error(SimError::server_error(
                        spec.status.unwrap_or(503),
                    )))
                }
                FaultKind::Throttling => {
                    plan.outcome = Some(Outcome::Error(SimError::throttling_user()))
                }
                FaultKind::Malformed => plan.outcome = Some(Outcome::Malformed),
                FaultKind::Truncated => plan.outcome = Some(Outcome::Truncated),
                FaultKind::Reset => plan.outcome = Some(Outcome::Reset),
            }
        }
        plan
    }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.clamp(0.0, 3600.0))
}

/// The body of a malformed answer: what a misbehaving proxy returns with HTTP 200.
pub const MALFORMED_BODY: &str = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>Tengine</center></body></html>";

/// The first half of `body`, cut on a character boundary.
pub fn truncate(body: &str) -> String {
    let mut cut = body.len() / 2;
    while !body.is_char_boundary(cut) {
        cut -= 1;
    }
    body[..cut].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse() {
        let f = FaultSpec::parse_flag("throttling:0.25").unwrap();
        assert_eq!((f.kind, f.rate), (FaultKind::Throttling, 0.25));
        let f = FaultSpec::parse_flag("latency:1:800ms").unwrap();
        assert_eq!(f.delay, Some(Secs(0.8)));
        let f = FaultSpec::parse_flag("5xx::500").unwrap();
        assert_eq!(
            (f.kind, f.rate, f.status),
            (FaultKind::ServerError, 1.0, Some(500))
        );
        let f = FaultSpec::parse_flag("reset@30s..1m").unwrap();
        assert_eq!((f.from, f.to), (Some(Secs(30.0)), Some(Secs(60.0))));
        for bad in [
            "nope",
            "throttling:2",
            "throttling:x",
            "5xx:1:404",
            "reset:1:5s",
            "reset@1m..30s",
            "reset@30s",
            "a:b:c:d",
        ] {
            assert!(FaultSpec::parse_flag(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn plans_follow_rate_window_and_action() {
        let mut spec = FaultSpec::always(FaultKind::Throttling);
        spec.from = Some(Secs(10.0));
        spec.to = Some(Secs(20.0));
        spec.actions = vec!["DescribeCloudMigrationResult".into()];
        let f = Faults::new(vec![spec], 1);
        assert_eq!(f.plan("DescribeCloudMigrationResult", 5.0).outcome, None);
        assert!(matches!(
            f.plan("DescribeCloudMigrationResult", 15.0).outcome,
            Some(Outcome::Error(ref e)) if e.code == "Throttling.User"
        ));
        assert_eq!(
            f.plan("ActivateMigrationTargetInstance", 15.0).outcome,
            None
        );
        assert_eq!(f.plan("DescribeCloudMigrationResult", 20.0).outcome, None);
    }

    #[test]
    fn rates_are_deterministic_per_seed_and_roughly_right() {
        let spec = FaultSpec {
            rate: 0.3,
            ..FaultSpec::always(FaultKind::Reset)
        };
        let run = |seed| {
            let f = Faults::new(vec![spec.clone()], seed);
            (0..1000)
                .map(|_| f.plan("A", 0.0).outcome.is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        let hits = run(7).iter().filter(|h| **h).count();
        assert!((200..400).contains(&hits), "{hits}");
    }

    #[test]
    fn latency_adds_and_first_outcome_wins() {
        let mut lat = FaultSpec::always(FaultKind::Latency);
        lat.delay = Some(Secs(0.5));
        let f = Faults::new(
            vec![
                lat.clone(),
                lat,
                FaultSpec::always(FaultKind::Malformed),
                FaultSpec::always(FaultKind::Reset),
            ],
            1,
        );
        let p = f.plan("A", 0.0);
        assert_eq!(p.delay, Duration::from_secs(1));
        assert_eq!(p.outcome, Some(Outcome::Malformed));
    }

    #[test]
    fn truncation_is_char_safe() {
        assert_eq!(truncate("{\"a\":1}"), "{\"a");
        assert_eq!(truncate("ééé"), "é");
        assert_eq!(truncate(""), "");
    }
}
