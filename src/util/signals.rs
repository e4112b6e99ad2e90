//! The signals that stop migtop (SIGINT, SIGTERM and, where wanted, SIGHUP), listened to as
//! one stream so a command can wait for "any stop signal" and exit with 128 + its number.

use std::io;

use nix::sys::signal::Signal as Sig;
use tokio::signal::unix::{Signal, SignalKind, signal};

/// A signal asking migtop to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    Interrupt,
    Terminate,
    Hangup,
}

impl StopSignal {
    /// `SIGINT`, `SIGTERM`, `SIGHUP`.
    pub fn name(self) -> &'static str {
        match self {
            StopSignal::Interrupt => "SIGINT",
            StopSignal::Terminate => "SIGTERM",
            StopSignal::Hangup => "SIGHUP",
        }
    }

    /// The signal's number.
    pub fn number(self) -> i32 {
        match self {
            StopSignal::Interrupt => Sig::SIGINT as i32,
            StopSignal::Terminate => Sig::SIGTERM as i32,
            StopSignal::Hangup => Sig::SIGHUP as i32,
        }
    }

    /// The shell's convention for a process ended by this signal: 128 + its number.
    pub fn exit_code(self) -> i32 {
        128 + self.number()
    }
}

/// Listeners for the stop signals, registered when made so none is lost in between.
pub struct StopSignals {
    interrupt: Signal,
    terminate: Signal,
    /// `None`: SIGHUP keeps its default action (the process ends).
    hangup: Option<Signal>,
}

impl StopSignals {
    /// SIGINT, SIGTERM and SIGHUP.
    pub fn listen() -> io::Result<StopSignals> {
        Ok(StopSignals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
            hangup: Some(signal(SignalKind::hangup())?),
        })
    }

    /// SIGINT and SIGTERM only (a server started from a shell).
    pub fn listen_without_hangup() -> io::Result<StopSignals> {
        Ok(StopSignals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
            hangup: None,
        })
    }

    /// The next stop signal.
    pub async fn recv(&mut self) -> StopSignal {
        let StopSignals {
            interrupt,
            terminate,
            hangup,
        } = self;
        let hangup = async {
            match hangup {
                Some(h) => h.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = interrupt.recv() => StopSignal::Interrupt,
            _ = terminate.recv() => StopSignal::Terminate,
            _ = hangup => StopSignal::Hangup,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_shell() {
        assert_eq!(StopSignal::Interrupt.exit_code(), 130);
        assert_eq!(StopSignal::Terminate.exit_code(), 143);
        assert_eq!(StopSignal::Hangup.exit_code(), 129);
        assert_eq!(StopSignal::Terminate.name(), "SIGTERM");
    }
}
