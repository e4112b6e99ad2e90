//! Credentials at the moment of a request: fixed ones as they are, temporary ones cached and
//! fetched again before they expire.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::FutureExt;
use futures::future::BoxFuture;

use super::http::{self, FetchError, Temporary};
use super::source::{AssumeRole, CredentialsUri, EcsRamRole, Source};
use super::{Credentials, ecs_metadata, sts, uri};

/// Refetch at most this long before expiry (the SDKs' margin)...
const MAX_MARGIN: Duration = Duration::from_secs(15 * 60);
/// ...and after a failed refetch, wait this long before trying again while the old ones last.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(30);

/// Hands out current credentials. Cheap to share behind an `Arc`.
pub struct Provider {
    kind: Kind,
}

enum Kind {
    Fixed(Credentials),
    Fetched(Box<Fetched>),
}

/// Temporary credentials: how to fetch them and the last ones fetched.
struct Fetched {
    fetch: Fetch,
    http: reqwest::Client,
    cache: tokio::sync::Mutex<Option<Cached>>,
}

enum Fetch {
    AssumeRole(AssumeRole, Box<Provider>),
    Ecs(EcsRamRole),
    Uri(CredentialsUri),
}

struct Cached {
    temporary: Temporary,
    refresh_at: DateTime<Utc>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            Kind::Fixed(c) => f.debug_tuple("Provider::Fixed").field(c).finish(),
            Kind::Fetched(_) => f.write_str("Provider::Fetched"),
        }
    }
}

/// When to fetch again: halfway through a short lifetime, 15 minutes before the end of a
/// long one.
fn refresh_at(now: DateTime<Utc>, expiration: DateTime<Utc>) -> DateTime<Utc> {
    let left = (expiration - now).to_std().unwrap_or_default();
    let margin = (left / 2).min(MAX_MARGIN);
    expiration - chrono::Duration::from_std(margin).unwrap_or_default()
}

impl Provider {
    /// Fixed credentials.
    pub fn fixed(credentials: Credentials) -> Provider {
        Provider {
            kind: Kind::Fixed(credentials),
        }
    }

    /// A provider for `source`; `timeout` bounds each fetch.
    pub fn new(source: Source, timeout: Duration) -> reqwest::Result<Provider> {
        let fetched = |fetch: Fetch, proxy: bool| -> reqwest::Result<Provider> {
            Ok(Provider {
                kind: Kind::Fetched(Box::new(Fetched {
                    fetch,
                    http: http::client(timeout, proxy)?,
                    cache: tokio::sync::Mutex::new(None),
                })),
            })
        };
        match source {
            Source::Static(c) => Ok(Provider::fixed(c)),
            Source::AssumeRole(r) => {
                let base = Provider::new((*r.base).clone(), timeout)?;
                fetched(Fetch::AssumeRole(r, Box::new(base)), true)
            }
            // The metadata service is link-local: no proxy can reach it.
            Source::EcsRamRole(e) => fetched(Fetch::Ecs(e), false),
            Source::Uri(u) => fetched(Fetch::Uri(u), true),
        }
    }

    /// Whether the credentials are temporary ones this provider renews.
    pub fn is_refreshable(&self) -> bool {
        matches!(self.kind, Kind::Fetched(_))
    }

    /// The credentials to sign with now.
    pub fn current(&self) -> BoxFuture<'_, Result<Credentials, FetchError>> {
        async move {
            let (fetch, http, cache) = match &self.kind {
                Kind::Fixed(c) => return Ok(c.clone()),
                Kind::Fetched(f) => (&f.fetch, &f.http, &f.cache),
            };
            let mut cached = cache.lock().await;
            let now = Utc::now();
            if let Some(c) = cached.as_ref().filter(|c| now < c.refresh_at) {
                return Ok(c.temporary.credentials.clone());
            }
            match fetch.run(http).await {
                Ok(t) => {
                    let at = refresh_at(Utc::now(), t.expiration);
                    let creds = t.credentials.clone();
                    tracing::debug!(origin = %creds.origin, expiration = %t.expiration, "fetched temporary credentials");
                    *cached = Some(Cached {
                        temporary: t,
                        refresh_at: at,
                    });
                    Ok(creds)
                }
                Err(e) => match cached.as_mut() {
                    // The old ones still work: keep them, say why, try again a little later.
                    Some(c) if now < c.temporary.expiration => {
                        tracing::warn!(error = %e.message, "could not renew temporary credentials; using the current ones until they expire");
                        let retry = now + chrono::Duration::from_std(RETRY_AFTER_FAILURE).unwrap_or_default();
                        c.refresh_at = retry.min(c.temporary.expiration);
                        Ok(c.temporary.credentials.clone())
                    }
                    Some(c) => Err(FetchError {
                        message: format!(
                            "the temporary credentials expired at {} and could not be renewed: {}",
                            c.temporary.expiration.format("%Y-%m-%d %H:%M:%SZ"),
                            e.message
                        ),
                        ..e
                    }),
                    None => Err(e),
                },
            }
        }
        .boxed()
    }

    /// Forgets cached temporary credentials (the service called them expired), so the next
    /// [`Provider::current`] fetches new ones.
    pub async fn invalidate(&self) {
        if let Kind::Fetched(f) = &self.kind {
            *f.cache.lock().await = None;
        }
    }
}

impl Fetch {
    async fn run(&self, http: &reqwest::Client) -> Result<Temporary, FetchError> {
        match self {
            Fetch::AssumeRole(role, base) => {
                let signer = base.current().await?;
                sts::assume_role(http, role, &signer).await
            }
            Fetch::Ecs(e) => ecs_metadata::fetch(http, e).await,
            Fetch::Uri(u) => uri::fetch(http, u).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_comes_before_expiry() {
        let now = Utc::now();
        let hour = now + chrono::Duration::hours(1);
        assert_eq!(refresh_at(now, hour), hour - chrono::Duration::minutes(15));
        let short = now + chrono::Duration::seconds(10);
        assert_eq!(refresh_at(now, short), now + chrono::Duration::seconds(5));
        let past = now - chrono::Duration::seconds(10);
        assert_eq!(refresh_at(now, past), past);
    }
}
