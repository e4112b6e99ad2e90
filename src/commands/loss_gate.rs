//! The checklist's gate before a switchover that requires DRAINED: DRAINED covers what the
//! source logged, so a *loses data* item (unlogged relations, or a database the checklist
//! could not read) refuses the switchover, naming each one, unless `--accept-loss` accepts it.

use crate::cli::{AcceptLossArg, Require};
use crate::probe::Checklist;
use crate::util::error::{EXIT_REFUSED, say};
use crate::verdict::words::{self, AcceptLoss};

/// What `--accept-loss` says, as the verdict's words know it.
pub fn accepted(args: &[AcceptLossArg]) -> Vec<AcceptLoss> {
    args.iter()
        .map(|a| match a {
            AcceptLossArg::Unlogged => AcceptLoss::Unlogged,
        })
        .collect()
}

/// Refuses (returns [`EXIT_REFUSED`], having said why) while the source's `checklist` has a
/// *loses data* item that `accept` does not accept; with `--require in-sync` (which already
/// accepts losing what was not replayed) and when nothing is lost, lets it pass. Accepted
/// losses are still named, once.
pub fn check(
    require: Require,
    accept: &[AcceptLossArg],
    task: &str,
    checklist: Option<&Checklist>,
) -> Option<i32> {
    if require != Require::Drained {
        return None;
    }
    match words::loss_refusal(checklist, &accepted(accept)) {
        Ok(lines) if lines.is_empty() => None,
        Ok(lines) => {
            say(format_args!(
                "migtop: task {task}: loss accepted (--accept-loss unlogged):"
            ));
            for l in lines {
                say(format_args!("  - {l}"));
            }
            None
        }
        Err(lines) => {
            say(format_args!(
                "migtop: refused: task {task} is DRAINED, but the source's checklist finds data \
                 RDS will not have (--accept-loss unlogged switches over anyway); nothing sent:"
            ));
            for l in lines {
                say(format_args!("  - {l}"));
            }
            Some(EXIT_REFUSED)
        }
    }
}
