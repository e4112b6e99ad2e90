//! Helpers shared by the test modules, one module per purpose.

pub mod dashboard;
pub mod http;
pub mod keys;
pub mod lines;
pub mod machine;
pub mod pg;
pub mod rpc;
pub mod script;
pub mod sim;
pub mod tools;
