//! Which URL serves a region, and whether plain HTTP is allowed.

/// Regions served by the central `rds.aliyuncs.com` endpoint.
const CENTRAL: &[&str] = &[
    "cn-hangzhou",
    "cn-shanghai",
    "cn-beijing",
    "cn-shenzhen",
    "cn-qingdao",
    "cn-hongkong",
    "us-west-1",
    "us-east-1",
    "ap-southeast-1",
    "cn-hangzhou-finance",
    "cn-shanghai-finance-1",
    "cn-shenzhen-finance-1",
    "cn-north-2-gov-1",
];

/// The default endpoint when no region is known.
pub const DEFAULT: &str = "https://rds.aliyuncs.com";

/// The public endpoint for `region` (None → the central endpoint).
pub fn for_region(region: Option<&str>) -> String {
    match region.map(str::trim).filter(|r| !r.is_empty()) {
        None => DEFAULT.to_string(),
        Some(r) if CENTRAL.contains(&r) => DEFAULT.to_string(),
        Some(r) => format!("https://rds.{r}.aliyuncs.com"),
    }
}

/// Why an endpoint URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("endpoint {0:?} is not a valid http(s) URL")]
    Invalid(String),
    #[error(
        "endpoint {0} uses plain http to a non-loopback host; credentials and signatures would cross the network unencrypted. Use https, or pass --allow-insecure-http if you really mean it"
    )]
    InsecureHttp(String),
}

/// Checks an endpoint: http(s) only, plain http only to loopback unless `allow_insecure`.
/// A bare host (`rds.aliyuncs.com`, `host:port`), as the aliyun CLI takes it, means https.
pub fn validate(url: &str, allow_insecure: bool) -> Result<reqwest::Url, EndpointError> {
    let trimmed = url.trim();
    let full = if trimmed.contains("://") {
        trimmed.to_string()
    } else {
        format!("https://{trimmed}")
    };
    let parsed = reqwest::Url::parse(&full).map_err(|_| EndpointError::Invalid(url.to_string()))?;
    if !trimmed.contains("://") && (parsed.path() != "/" || parsed.query().is_some()) {
        // "host/path" is more likely a typo than a request for a path.
        return Err(EndpointError::Invalid(url.to_string()));
    }
    let host = parsed
        .host()
        .ok_or_else(|| EndpointError::Invalid(url.to_string()))?;
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" => {
            let loopback = match host {
                url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
                url::Host::Ipv4(ip) => ip.is_loopback(),
                url::Host::Ipv6(ip) => ip.is_loopback(),
            };
            if loopback || allow_insecure {
                Ok(parsed)
            } else {
                Err(EndpointError::InsecureHttp(url.to_string()))
            }
        }
        _ => Err(EndpointError::Invalid(url.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_map_to_endpoints() {
        assert_eq!(for_region(None), "https://rds.aliyuncs.com");
        assert_eq!(for_region(Some("cn-hangzhou")), "https://rds.aliyuncs.com");
        assert_eq!(
            for_region(Some("cn-zhangjiakou")),
            "https://rds.cn-zhangjiakou.aliyuncs.com"
        );
        assert_eq!(
            for_region(Some("eu-central-1")),
            "https://rds.eu-central-1.aliyuncs.com"
        );
    }

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(validate("http://127.0.0.1:8080", false).is_ok());
        assert!(validate("http://localhost:1", false).is_ok());
        assert!(validate("http://[::1]:1", false).is_ok());
        assert!(matches!(
            validate("http://10.0.0.1", false),
            Err(EndpointError::InsecureHttp(_))
        ));
        assert!(validate("http://10.0.0.1", true).is_ok());
        assert!(validate("https://rds.aliyuncs.com", false).is_ok());
        assert!(validate("ftp://x", false).is_err());
        assert!(validate("not a url", false).is_err());
    }

    #[test]
    fn a_bare_host_means_https() {
        assert_eq!(
            validate("rds.aliyuncs.com", false).unwrap().as_str(),
            "https://rds.aliyuncs.com/"
        );
        assert_eq!(
            validate(" rds-vpc.cn-beijing.aliyuncs.com:443 ", false)
                .unwrap()
                .as_str(),
            "https://rds-vpc.cn-beijing.aliyuncs.com/"
        );
        assert_eq!(
            validate("127.0.0.1:8443", false).unwrap().as_str(),
            "https://127.0.0.1:8443/"
        );
        assert!(validate("rds.aliyuncs.com/x", false).is_err());
        assert!(validate("", false).is_err());
    }
}
