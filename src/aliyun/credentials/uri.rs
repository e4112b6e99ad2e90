//! `CredentialsURI`: a GET on a URL that answers
//! `{"Code":"Success","AccessKeyId","AccessKeySecret","SecurityToken","Expiration"}`.

use super::http::{self, FetchError, Temporary, Wire};
use super::source::CredentialsUri;

/// Fetches the credentials the URI hands out.
pub async fn fetch(http: &reqwest::Client, u: &CredentialsUri) -> Result<Temporary, FetchError> {
    // The URL may carry a secret in its query; name only scheme, host and path.
    let mut shown = u.url.clone();
    shown.set_query(None);
    let what = format!("the credentials URI {shown}");
    let (status, body) = http::send(http.get(u.url.clone()), &what).await?;
    if status != 200 {
        return Err(FetchError {
            message: format!("{what} answered HTTP {status}"),
            code: None,
            request_id: None,
            retryable: status >= 500,
        });
    }
    let wire: Wire = serde_json::from_slice(&body).map_err(|_| FetchError {
        message: format!("{what} answered with something that is not JSON"),
        code: None,
        request_id: None,
        retryable: false,
    })?;
    if wire.code.as_deref() != Some("Success") {
        return Err(FetchError {
            message: format!(
                "{what} answered Code {:?}, not Success",
                wire.code.as_deref().unwrap_or("")
            ),
            code: wire.code.clone(),
            request_id: None,
            retryable: false,
        });
    }
    wire.into_temporary(&what, &what)
}
