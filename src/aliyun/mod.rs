//! Talking to the Alibaba Cloud RDS OpenAPI: signing, credentials, endpoints, errors, client.

pub mod body;
pub mod client;
pub mod credentials;
pub mod endpoint;
pub mod error;
pub mod sign;

pub use client::{ClientConfig, InstanceSnapshot, RdsClient, ReadNotes, RetryPolicy, TaskFilter};
pub use credentials::{CredentialOptions, Credentials};
pub use error::ApiError;
