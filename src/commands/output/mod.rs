//! What `migtop status` prints.

pub mod json;
pub mod table;
