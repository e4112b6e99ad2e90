//! A [`Recorder`] on a thread of its own behind a bounded queue, so that an event loop hands
//! over an entry and moves on: a slow or stuck disk delays the recording, never a frame, a key
//! or a poll.
//!
//! Bounded because an unbounded queue in front of a disk that stopped would grow until the
//! process is killed. When the queue is full, or a write fails, the writer stops and says why
//! once: the caller shows it and goes on without recording (a recording that ends is honest; one
//! that silently skips polls in the middle would not be).

use std::path::PathBuf;

use tokio::sync::{mpsc, oneshot};

use super::{Entry, PollRecord, Recorder, RecordingError};
use crate::poller::PollResult;

/// How many entries may wait for the disk: minutes of polls for a few hundred instances.
pub const QUEUE: usize = 4096;

/// Why recording stopped.
#[derive(Debug, thiserror::Error)]
pub enum WriterError {
    /// A write failed (the disk is full, the file went away...).
    #[error(transparent)]
    Write(#[from] RecordingError),
    /// The disk did not keep up: [`QUEUE`] entries were waiting.
    #[error("writing to the recording {path} fell {QUEUE} entries behind")]
    Behind { path: PathBuf },
}

/// The sending side: queue entries with [`RecordWriter::send`], learn of a failure from
/// [`RecordWriter::failed`], wait for the queue to drain with [`RecordWriter::finish`].
#[derive(Debug)]
pub struct RecordWriter {
    path: PathBuf,
    tx: mpsc::Sender<Entry>,
    failed: oneshot::Receiver<RecordingError>,
    done: tokio::task::JoinHandle<()>,
}

impl RecordWriter {
    /// Starts writing to `rec` on a blocking thread of the runtime.
    pub fn spawn(mut rec: Recorder) -> RecordWriter {
        let path = rec.path().to_path_buf();
        let (tx, mut rx) = mpsc::channel::<Entry>(QUEUE);
        let (fail_tx, failed) = oneshot::channel();
        let done = tokio::task::spawn_blocking(move || {
            while let Some(entry) = rx.blocking_recv() {
                if let Err(e) = rec.append_entry(&entry) {
                    // Closed before the error is told, so no send succeeds after it.
                    rx.close();
                    let _ = fail_tx.send(e);
                    return;
                }
            }
        });
        RecordWriter {
            path,
            tx,
            failed,
            done,
        }
    }

    /// Queues one finished poll.
    pub fn send_poll(&mut self, poll: &PollResult) -> Result<(), WriterError> {
        self.send(Entry::Poll(PollRecord::from(poll)))
    }

    /// Queues any entry without waiting. An error means recording has stopped: a write
    /// failed (that error) or the disk fell [`QUEUE`] entries behind.
    pub fn send(&mut self, entry: Entry) -> Result<(), WriterError> {
        match self.tx.try_send(entry) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => Err(WriterError::Behind {
                path: self.path.clone(),
            }),
            // The thread ended: only after a failed write, whose error is waiting.
            Err(mpsc::error::TrySendError::Closed(_)) => Err(match self.failed.try_recv() {
                Ok(e) => WriterError::Write(e),
                Err(_) => WriterError::Behind {
                    path: self.path.clone(),
                },
            }),
        }
    }

    /// Resolves when a write fails (pending forever while writes succeed): for a `select!`,
    /// so a failure is shown when it happens rather than at the next entry.
    pub async fn failed(&mut self) -> WriterError {
        match (&mut self.failed).await {
            Ok(e) => WriterError::Write(e),
            // The thread ended without an error: only at `finish`, never while selected on.
            Err(_) => std::future::pending().await,
        }
    }

    /// Writes what is queued, then stops (at the end of a session: nothing queued is lost).
    pub async fn finish(self) {
        drop(self.tx);
        let _ = self.done.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::{Recording, SwitchoverRecord};
    use chrono::{DateTime, Utc};

    fn entry(s: i64) -> Entry {
        let at = DateTime::<Utc>::from_timestamp(1_780_000_000 + s, 0).unwrap();
        Entry::Switchover(SwitchoverRecord {
            instance: "pgm-1".into(),
            task_id: Some(s),
            requested: at,
            at,
            accepted: true,
            message: "ok".into(),
            origin: "test".into(),
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn everything_queued_is_written_by_finish() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        let mut w = RecordWriter::spawn(Recorder::open(&path).unwrap());
        for s in 0..100 {
            w.send(entry(s)).unwrap();
        }
        w.finish().await;
        let rec = Recording::read(&path).unwrap();
        assert_eq!(rec.entries.len(), 100);
        assert_eq!(rec.entries[99], entry(99));
    }

    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_write_is_reported_once_and_stops_the_writer() {
        // /dev/full accepts the open and fails every write with ENOSPC.
        let mut w = RecordWriter::spawn(Recorder::open("/dev/full").unwrap());
        w.send(entry(0)).unwrap();
        let err = tokio::time::timeout(std::time::Duration::from_secs(10), w.failed())
            .await
            .expect("the failure is reported");
        assert!(err.to_string().contains("cannot write"), "{err}");
        assert!(w.send(entry(1)).is_err(), "a stopped writer takes nothing");
    }
}
