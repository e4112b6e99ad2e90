//! The verdict: whether a task can be switched over now, and why not. Pure functions of a
//! task's samples: `history` keeps the samples and their rates, `backup` reads the base
//! backup's progress from them, `readiness` judges.

pub mod backup;
pub mod cutover;
pub mod history;
pub mod readiness;
pub mod words;
