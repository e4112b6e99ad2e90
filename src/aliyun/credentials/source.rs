//! Where credentials come from: a fixed pair, or a service that hands out temporary ones.

use super::Credentials;

/// The ECS metadata service's fixed address.
pub const ECS_METADATA_DEFAULT: &str = "http://100.100.100.200";

/// How migtop obtains credentials. Only [`Source::Static`] is known up front; the others are
/// fetched (and refetched before they expire) by a [`super::Provider`].
#[derive(Debug, Clone)]
pub enum Source {
    /// An AccessKey pair, perhaps with a fixed STS token.
    Static(Credentials),
    /// STS `AssumeRole`, signed with the credentials of `base`.
    AssumeRole(AssumeRole),
    /// The ECS instance's RAM role from the metadata service.
    EcsRamRole(EcsRamRole),
    /// A URL that answers with temporary credentials (`CredentialsURI`).
    Uri(CredentialsUri),
}

impl Source {
    /// Where the credentials come from, in words (never a secret).
    pub fn origin(&self) -> String {
        match self {
            Source::Static(c) => c.origin.clone(),
            Source::AssumeRole(r) => format!(
                "role {} assumed through {} with the {}",
                r.role_arn,
                r.endpoint,
                r.base.origin()
            ),
            Source::EcsRamRole(e) => format!(
                "the ECS instance's RAM role {} from {} ({})",
                e.role_name
                    .as_deref()
                    .unwrap_or("(as the metadata service names it)"),
                e.endpoint,
                e.origin
            ),
            Source::Uri(u) => format!("{} ({})", u.url, u.origin),
        }
    }

    /// The AccessKey at the root of the chain (what signs the first request), if any.
    pub fn root_key(&self) -> Option<&Credentials> {
        match self {
            Source::Static(c) => Some(c),
            Source::AssumeRole(r) => r.base.root_key(),
            _ => None,
        }
    }

    /// The fixed credentials, when no service is involved.
    pub fn as_static(&self) -> Option<&Credentials> {
        match self {
            Source::Static(c) => Some(c),
            _ => None,
        }
    }
}

/// STS `AssumeRole` as the aliyun CLI's `RamRoleArn` and `ChainableRamRoleArn` modes do it.
#[derive(Debug, Clone)]
pub struct AssumeRole {
    /// The credentials that sign the call.
    pub base: Box<Source>,
    pub role_arn: String,
    pub session_name: String,
    /// 900 s or more; STS caps it at the role's maximum session duration.
    pub duration_seconds: u32,
    pub external_id: Option<String>,
    pub policy: Option<String>,
    /// The STS endpoint (https, or http to loopback).
    pub endpoint: reqwest::Url,
}

/// The ECS metadata service (IMDS), as the aliyun CLI's `EcsRamRole` mode uses it.
#[derive(Debug, Clone)]
pub struct EcsRamRole {
    /// `None`: ask the metadata service which role the instance has.
    pub role_name: Option<String>,
    /// Normally `http://100.100.100.200`; overridable for tests.
    pub endpoint: reqwest::Url,
    /// Refuse the plain (IMDSv1) mode when no session token can be had.
    pub disable_imds_v1: bool,
    /// Which profile or variable asked for it.
    pub origin: String,
}

/// A URL answering `{"Code":"Success","AccessKeyId",...,"Expiration"}`.
#[derive(Debug, Clone)]
pub struct CredentialsUri {
    pub url: reqwest::Url,
    pub origin: String,
}
