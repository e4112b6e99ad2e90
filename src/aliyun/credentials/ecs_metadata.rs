//! The ECS instance's RAM role credentials from the metadata service, as the official SDKs
//! fetch them: a session token first (`PUT /latest/api/token`, IMDSv2 "hardened mode"),
//! falling back to the plain mode unless `ALIBABA_CLOUD_IMDSV1_DISABLED=true`; then
//! `GET /latest/meta-data/ram/security-credentials/` for the role name when none is given,
//! and `GET .../security-credentials/ROLE` for the credentials.

use super::http::{self, FetchError, Temporary, Wire};
use super::source::EcsRamRole;

/// Path of the session-token call.
pub const TOKEN_PATH: &str = "/latest/api/token";
/// Path under which role names and their credentials live.
pub const CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";
/// Header asking for a session token of this many seconds.
pub const TOKEN_TTL_HEADER: &str = "X-aliyun-ecs-metadata-token-ttl-seconds";
/// Header carrying the session token.
pub const TOKEN_HEADER: &str = "X-aliyun-ecs-metadata-token";
/// Token lifetime asked for (the SDKs ask for 6 hours).
const TOKEN_TTL: u32 = 21_600;

fn url(e: &EcsRamRole, path: &str) -> reqwest::Url {
    let mut u = e.endpoint.clone();
    u.set_path(path);
    u.set_query(None);
    u
}

fn what(e: &EcsRamRole) -> String {
    format!(
        "the ECS metadata service at {}",
        e.endpoint.as_str().trim_end_matches('/')
    )
}

/// A session token, or `None` when the service gives none and plain mode is allowed.
async fn token(http: &reqwest::Client, e: &EcsRamRole) -> Result<Option<String>, FetchError> {
    let req = http
        .put(url(e, TOKEN_PATH))
        .header(TOKEN_TTL_HEADER, TOKEN_TTL.to_string());
    let refused = |m: String| FetchError {
        message: format!(
            "{} gave no session token ({m}) and ALIBABA_CLOUD_IMDSV1_DISABLED=true forbids the plain mode",
            what(e)
        ),
        code: None,
        request_id: None,
        retryable: true,
    };
    match http::send(req, &what(e)).await {
        Ok((200, body)) => Ok(Some(String::from_utf8_lossy(&body).trim().to_string())),
        Ok((status, _)) if e.disable_imds_v1 => Err(refused(format!("HTTP {status}"))),
        Err(err) if e.disable_imds_v1 => Err(refused(err.message)),
        _ => Ok(None),
    }
}

async fn get(
    http: &reqwest::Client,
    e: &EcsRamRole,
    path: &str,
    token: Option<&str>,
) -> Result<Vec<u8>, FetchError> {
    let mut req = http.get(url(e, path));
    if let Some(t) = token {
        req = req.header(TOKEN_HEADER, t);
    }
    let (status, body) = http::send(req, &what(e)).await?;
    if status != 200 {
        let hint = if status == 404 {
            "; is a RAM role of that name attached to this instance?"
        } else if status == 401 || status == 403 {
            "; the instance may require the hardened (token) mode"
        } else {
            ""
        };
        return Err(FetchError {
            message: format!("{} answered HTTP {status} for {path}{hint}", what(e)),
            code: None,
            request_id: None,
            retryable: status >= 500,
        });
    }
    Ok(body)
}

/// Fetches the role's current credentials.
pub async fn fetch(http: &reqwest::Client, e: &EcsRamRole) -> Result<Temporary, FetchError> {
    let token = token(http, e).await?;
    let role = match &e.role_name {
        Some(r) => r.clone(),
        None => {
            let body = get(http, e, CREDENTIALS_PATH, token.as_deref()).await?;
            let text = String::from_utf8_lossy(&body);
            text.lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(str::to_string)
                .ok_or_else(|| FetchError {
                    message: format!(
                        "{} names no RAM role: none is attached to this instance",
                        what(e)
                    ),
                    code: None,
                    request_id: None,
                    retryable: false,
                })?
        }
    };
    let path = format!(
        "{CREDENTIALS_PATH}{}",
        crate::aliyun::sign::percent_encode(&role)
    );
    let body = get(http, e, &path, token.as_deref()).await?;
    let wire: Wire = serde_json::from_slice(&body).map_err(|_| FetchError {
        message: format!(
            "{} answered {path} with something that is not JSON",
            what(e)
        ),
        code: None,
        request_id: None,
        retryable: false,
    })?;
    if wire.code.as_deref() != Some("Success") {
        return Err(FetchError {
            message: format!(
                "{} answered Code {:?} for role {role}",
                what(e),
                wire.code.as_deref().unwrap_or("")
            ),
            code: wire.code.clone(),
            request_id: None,
            retryable: false,
        });
    }
    wire.into_temporary(&what(e), &format!("ECS RAM role {role} from {}", what(e)))
}
