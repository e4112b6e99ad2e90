//! Sizes, durations, rates and speeds: parsed from what people type ([`parse`]) and shown
//! the way people read them ([`format`]).

pub mod format;
pub mod parse;

pub use format::{bytes, duration, lag, rate};
pub use parse::{
    parse_bytes, parse_duration, parse_interval, parse_listen, parse_rate, parse_seconds,
    parse_speed,
};
