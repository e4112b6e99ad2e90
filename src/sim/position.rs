//! WAL positions as the scenario engine keeps them: byte counts in `f64`, exact up to
//! [`MAX_LSN`].

use crate::model::Lsn;

/// LSN positions are kept as f64 bytes; this keeps them exact (2^52 bytes = 4 PiB).
pub const MAX_LSN: f64 = 4_503_599_627_370_496.0;

/// The start of the WAL segment holding `pos`.
pub fn segment_start(pos: f64) -> f64 {
    let seg = Lsn::SEGMENT as f64;
    (pos / seg).floor() * seg
}

/// The position as an LSN (clamped to 0..=MAX_LSN).
pub fn lsn(pos: f64) -> Lsn {
    Lsn(pos.clamp(0.0, MAX_LSN).floor() as u64)
}
