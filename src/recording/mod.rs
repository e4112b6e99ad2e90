//! Recordings: every poll as one JSON line, appended to a file, read back for `replay` and
//! `report`.
//!
//! One line per entry, each self-contained and carrying the format version:
//!
//! ```text
//! {"v":1,"kind":"poll","instance":"pgm-1","started":"…","at":"…","snapshot":{…},"source":{…}}
//! {"v":1,"kind":"poll","instance":"pgm-1","started":"…","at":"…","error":{"api":{…}}}
//! {"v":1,"kind":"switchover","instance":"pgm-1","requested":"…","at":"…","accepted":true,…}
//! {"v":1,"kind":"cutover","instance":"pgm-1","at":"…","event":{"step":"fence_on"}}
//! ```
//!
//! A poll line is [`PollResult`] in serde form: the decoded tasks (already redacted: no
//! `SourcePassword`, conninfo passwords masked) or the error, and the source probe's reading
//! (its target is the redacted DSN; on the polls that read it, the source's checklist). Lines
//! are written with one `write` each on a file opened for appending, so several runs (and
//! several processes) can add to one file. A line that
//! cannot be read (a torn last line after a crash, a newer version, another kind) is skipped
//! with a warning; it never stops the rest from being read.

pub mod cutover;
pub mod player;
pub mod report;
pub mod writer;

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::aliyun::{ApiError, InstanceSnapshot};
use crate::poller::PollResult;
use crate::probe::{Checklist, ProbeError, ProbeReport, SourceSample};

/// The version written in every line's `v`; readers skip lines of a newer version.
pub const FORMAT_VERSION: u32 = 1;

/// One line of a recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Entry {
    /// One poll of one instance.
    Poll(PollRecord),
    /// A switchover (ActivateMigrationTargetInstance) migtop sent, and its answer.
    Switchover(SwitchoverRecord),
    /// A step of a cutover `migtop switchover` carried out (fence, token, checks).
    Cutover(cutover::CutoverRecord),
}

impl Entry {
    /// When the entry happened (the answer's time).
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Entry::Poll(p) => p.at,
            Entry::Switchover(s) => s.at,
            Entry::Cutover(c) => c.at,
        }
    }

    /// The instance it concerns.
    pub fn instance(&self) -> &str {
        match self {
            Entry::Poll(p) => &p.instance,
            Entry::Switchover(s) => &s.instance,
            Entry::Cutover(c) => &c.instance,
        }
    }
}

/// A [`PollResult`] as written: the tasks (`snapshot`) or the `error`, never both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PollRecord {
    pub instance: String,
    /// When the request was sent.
    pub started: DateTime<Utc>,
    /// When the answer (or the error) came.
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The source probe's reading after this poll, if a probe was configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<ProbeRecord>,
}

/// What a poll gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The decoded tasks.
    Snapshot(InstanceSnapshot),
    /// Why the tasks could not be read.
    Error(ApiError),
}

/// A [`ProbeReport`] as written: the redacted DSN and the sample or the error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeRecord {
    /// The source's DSN, redacted.
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<SourceSample>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ProbeError>,
    /// The source's checklist, on the polls that read it (at start, then now and then). One
    /// this version cannot read (a newer kind of item) is dropped, not the poll with it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient"
    )]
    pub checklist: Option<Box<Checklist>>,
}

/// `Some` when the value reads as a `T`, `None` otherwise (never an error).
fn lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let v = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(v).ok())
}

/// A switchover request and its answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SwitchoverRecord {
    pub instance: String,
    /// The task it was meant for, when known.
    #[serde(default)]
    pub task_id: Option<i64>,
    /// When ActivateMigrationTargetInstance was sent.
    pub requested: DateTime<Utc>,
    /// When its answer came.
    pub at: DateTime<Utc>,
    /// Whether the API accepted it.
    pub accepted: bool,
    /// The answer in words (the error's sentence when refused).
    pub message: String,
    /// Who sent it: `dashboard`, `switchover`, ...
    #[serde(default)]
    pub origin: String,
}

impl From<&PollResult> for PollRecord {
    fn from(r: &PollResult) -> PollRecord {
        PollRecord {
            instance: r.instance.clone(),
            started: r.started,
            at: r.at,
            outcome: match &r.result {
                Ok(s) => Outcome::Snapshot(s.clone()),
                Err(e) => Outcome::Error(e.clone()),
            },
            source: r.source.as_ref().map(|p| ProbeRecord {
                target: p.target.clone(),
                sample: p.result.as_ref().ok().cloned(),
                error: p.result.as_ref().err().cloned(),
                checklist: p.checklist.clone(),
            }),
        }
    }
}

impl PollRecord {
    /// The poll as the pollers reported it, to feed the dashboard's state.
    pub fn to_poll_result(&self) -> PollResult {
        PollResult {
            instance: self.instance.clone(),
            started: self.started,
            at: self.at,
            result: match &self.outcome {
                Outcome::Snapshot(s) => Ok(s.clone()),
                Outcome::Error(e) => Err(e.clone()),
            },
            source: self.source.as_ref().map(|p| ProbeReport {
                target: p.target.clone(),
                result: match (&p.sample, &p.error) {
                    (Some(s), _) => Ok(s.clone()),
                    (None, Some(e)) => Err(e.clone()),
                    (None, None) => Err(ProbeError::Config(
                        "the recording holds no reading for this poll".into(),
                    )),
                },
                checklist: p.checklist.clone(),
            }),
        }
    }
}

/// Why a recording could not be opened or read.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error("cannot open the recording {path}: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write to the recording {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the recording {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a migtop recording: {reason}")]
    NotARecording { path: PathBuf, reason: String },
    #[error("cannot read the recording {path}: {reason}")]
    Refused { path: PathBuf, reason: String },
}

/// The largest recording read: what a replay or a report holds in memory stays near 100 MB
/// (the entries are decoded, about 1.5× the text). A longer recording is split at line
/// boundaries (`split -C 60M`) and each part replayed.
pub const MAX_RECORDING_BYTES: u64 = 64 * 1024 * 1024;

/// The longest line (one poll) read: twice an API page's cap ([`crate::aliyun::body::MAX_BODY_BYTES`]),
/// room for what a real poll records with its JSON escaping. A longer one is skipped with a
/// warning, never held whole: decoding it would take several times its size.
pub const MAX_RECORDING_LINE_BYTES: usize = 16 * 1024 * 1024;

/// Appends entries to a recording file. One `write` per line, so lines from concurrent
/// writers (or runs) never interleave within a line.
#[derive(Debug)]
pub struct Recorder {
    file: File,
    path: PathBuf,
}

impl Recorder {
    /// Opens (or creates) `path` for appending. A last line left torn by a crash is closed
    /// with a newline first, so the next line stays readable.
    pub fn open(path: impl AsRef<Path>) -> Result<Recorder, RecordingError> {
        let path = path.as_ref().to_path_buf();
        let open_err = |source| RecordingError::Open {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&path)
            .map_err(open_err)?;
        let len = file.metadata().map_err(open_err)?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len - 1)).map_err(open_err)?;
            file.read_exact(&mut last).map_err(open_err)?;
            if last[0] != b'\n' {
                file.write_all(b"\n")
                    .map_err(|source| RecordingError::Write {
                        path: path.clone(),
                        source,
                    })?;
            }
        }
        Ok(Recorder { file, path })
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one poll.
    pub fn append(&mut self, poll: &PollResult) -> Result<(), RecordingError> {
        self.append_entry(&Entry::Poll(PollRecord::from(poll)))
    }

    /// Appends any entry (e.g. a [`SwitchoverRecord`]).
    pub fn append_entry(&mut self, entry: &Entry) -> Result<(), RecordingError> {
        let line = encode(entry);
        self.file
            .write_all(line.as_bytes())
            .map_err(|source| RecordingError::Write {
                path: self.path.clone(),
                source,
            })
    }
}

/// One entry as a line of the file, newline included. DEL, C1 and the invisible and bidi
/// characters are written as `\u` escapes ([`crate::util::text::escape_json_controls`]): the
/// line means the same, and a recording shown with `cat` or `less` cannot be reordered by a
/// task name.
pub fn encode(entry: &Entry) -> String {
    #[derive(Serialize)]
    struct Line<'a> {
        v: u32,
        #[serde(flatten)]
        entry: &'a Entry,
    }
    let mut s = serde_json::to_string(&Line {
        v: FORMAT_VERSION,
        entry,
    })
    // Only maps with string keys and plain values: serialisation cannot fail.
    .expect("a recording entry serialises");
    if let std::borrow::Cow::Owned(escaped) = crate::util::text::escape_json_controls(&s) {
        s = escaped;
    }
    s.push('\n');
    s
}

/// A recording read back: its entries in time order, and what was skipped.
#[derive(Debug, Clone, Default)]
pub struct Recording {
    pub entries: Vec<Entry>,
    /// One sentence per line that could not be read, or other oddities.
    pub warnings: Vec<String>,
}

impl Recording {
    /// Reads the file at `path`: a regular file of at most [`MAX_RECORDING_BYTES`], line by
    /// line, each line at most [`MAX_RECORDING_LINE_BYTES`].
    pub fn read(path: impl AsRef<Path>) -> Result<Recording, RecordingError> {
        use crate::util::file::{self, FileError};
        use std::io::BufRead;
        let path = path.as_ref();
        let refused = |reason: String| RecordingError::Refused {
            path: path.to_path_buf(),
            reason,
        };
        let (handle, meta) = file::open_regular(path).map_err(|e| match e {
            FileError::NotFound => RecordingError::Read {
                path: path.to_path_buf(),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            },
            FileError::Io(source) => RecordingError::Read {
                path: path.to_path_buf(),
                source,
            },
            other => refused(other.to_string()),
        })?;
        if meta.len() > MAX_RECORDING_BYTES {
            return Err(refused(format!(
                "{} is larger than migtop's limit of {} for a recording; split it at line boundaries (split -C 60M) and replay the parts",
                crate::util::units::bytes(meta.len()),
                crate::util::units::bytes(MAX_RECORDING_BYTES)
            )));
        }
        let read_err = |source| RecordingError::Read {
            path: path.to_path_buf(),
            source,
        };
        let mut reader = std::io::BufReader::new(std::io::Read::take(handle, MAX_RECORDING_BYTES));
        let mut rec = Recording::default();
        let mut line = Vec::new();
        let mut n = 0;
        loop {
            n += 1;
            line.clear();
            let got = (&mut reader)
                .take(MAX_RECORDING_LINE_BYTES as u64 + 1)
                .read_until(b'\n', &mut line)
                .map_err(read_err)?;
            if got == 0 {
                break;
            }
            if line.len() > MAX_RECORDING_LINE_BYTES && line.last() != Some(&b'\n') {
                // Too long to hold: skip to its end without keeping it.
                loop {
                    let buf = reader.fill_buf().map_err(read_err)?;
                    if buf.is_empty() {
                        break;
                    }
                    match buf.iter().position(|b| *b == b'\n') {
                        Some(i) => {
                            reader.consume(i + 1);
                            break;
                        }
                        None => {
                            let len = buf.len();
                            reader.consume(len);
                        }
                    }
                }
                rec.warnings.push(format!(
                    "line {n}: skipped (longer than migtop's limit of {} for one line)",
                    crate::util::units::bytes(MAX_RECORDING_LINE_BYTES as u64)
                ));
                continue;
            }
            let complete = line.last() == Some(&b'\n');
            let text = String::from_utf8_lossy(&line);
            rec.take_line(n, &text, complete);
        }
        rec.finish();
        if rec.entries.is_empty() {
            let reason = match rec.warnings.first() {
                Some(w) => w.clone(),
                None => "the file is empty".to_string(),
            };
            return Err(RecordingError::NotARecording {
                path: path.to_path_buf(),
                reason,
            });
        }
        Ok(rec)
    }

    /// One line of the file (1-based `n`); `complete`: it ended with a newline (a last line
    /// without one may be torn by a crash).
    fn take_line(&mut self, n: usize, line: &str, complete: bool) {
        let line = line.trim();
        if line.is_empty() {
            return;
        }
        match decode(line) {
            Ok(e) => self.entries.push(e),
            Err(why) if !complete => self
                .warnings
                .push(format!("line {n}: skipped a torn last line ({why})")),
            Err(why) => self.warnings.push(format!("line {n}: skipped ({why})")),
        }
    }

    /// Puts the entries in time order, saying so when they were far out of it.
    fn finish(&mut self) {
        // Writers running side by side interleave by a little; a run appended after a later
        // one is worth a word.
        let far = chrono::Duration::seconds(60);
        if self.entries.windows(2).any(|w| w[0].at() - w[1].at() > far) {
            self.warnings.push(
                "entries were out of time order (runs appended out of order); sorted by time"
                    .into(),
            );
        }
        self.entries.sort_by_key(|e| e.at());
    }

    /// Reads recording text. Lines that cannot be read are skipped with a warning each; the
    /// entries are put in time order (appends from several runs may overlap).
    pub fn parse(text: &str) -> Recording {
        let mut rec = Recording::default();
        let complete = text.ends_with('\n');
        let lines: Vec<&str> = text.split('\n').collect();
        let last_nonempty = lines.iter().rposition(|l| !l.trim().is_empty());
        for (i, line) in lines.iter().enumerate() {
            rec.take_line(i + 1, line, complete || Some(i) != last_nonempty);
        }
        rec.finish();
        rec
    }

    /// The polls only, in order.
    pub fn polls(&self) -> impl Iterator<Item = &PollRecord> {
        self.entries.iter().filter_map(|e| match e {
            Entry::Poll(p) => Some(p),
            _ => None,
        })
    }

    /// Every instance, in order of first appearance.
    pub fn instances(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for e in &self.entries {
            if !out.iter().any(|i| i == e.instance()) {
                out.push(e.instance().to_string());
            }
        }
        out
    }

    /// The redacted target of the source probe, if any poll carries a reading.
    pub fn probe_target(&self) -> Option<String> {
        self.polls()
            .find_map(|p| p.source.as_ref().map(|s| s.target.clone()))
    }
}

/// Reads one line: the version first, then the entry.
fn decode(line: &str) -> Result<Entry, String> {
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let version = v
        .get("v")
        .and_then(|v| v.as_u64())
        .ok_or("no format version \"v\"")?;
    if version > FORMAT_VERSION as u64 {
        return Err(format!(
            "format version {version} is newer than this migtop reads ({FORMAT_VERSION})"
        ));
    }
    serde_json::from_value(v).map_err(|e| format!("not a recording entry: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Page;
    use serde_json::json;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000 + s, 0).unwrap()
    }

    const MARKERS: [&str; 4] = [
        "SRCPW-MARK-7731",
        "CONNPW-MARK-5120",
        "DSNPW-MARK-9044",
        "SourcePassword",
    ];

    /// A snapshot decoded from an API body holding every secret the API can send.
    fn snapshot(instance: &str) -> InstanceSnapshot {
        let ri = json!({
            "Status": "streaming", "ReceiveStartLsn": "0/3000000", "ReceivedLsn": "0/3000148",
            "LatestEndLsn": "0/3000148", "ReplayLsn": "0/3000100", "Synced": "true",
            "ReceivedTli": "1",
            "Conninfo": "user=rep password=CONNPW-MARK-5120 host=10.0.0.5 port=5432",
        })
        .to_string();
        let body = json!({"RequestId": "R-1", "Items": [{
            "TaskId": 7, "TaskName": "orders <&> \"x\"", "MigrateStage": "increment",
            "ReplicationState": "streaming", "ReplicationInfo": ri,
            "SourcePassword": "SRCPW-MARK-7731", "SourceAccount": "rep",
            "Detail": "[Check disk]\\nCheck disk size enough: warning(warning:small)\\n2026-02-28 17:00:29 --- Start",
        }]});
        let page = Page::from_json(instance, &body).unwrap();
        InstanceSnapshot {
            instance: instance.into(),
            request_id: page.request_id,
            tasks: page.tasks,
            item_errors: page.item_errors,
            ..Default::default()
        }
    }

    fn probe_ok(at: DateTime<Utc>) -> ProbeReport {
        ProbeReport {
            target: crate::util::redact::dsn_uri(
                "postgres://rep:DSNPW-MARK-9044@10.0.0.5/postgres",
            ),
            result: Ok(SourceSample {
                at,
                lsn: "0/3000200".parse().unwrap(),
                in_recovery: false,
                timeline: Some(1),
                server_version: Some(150004),
                round_trip_ms: 2,
                next_xid: None,
                xid_in_progress: None,
                wal_sender_timeout: None,
                simulated: false,
            }),
            checklist: None,
        }
    }

    fn poll(s: i64) -> PollResult {
        PollResult {
            instance: "pgm-1".into(),
            started: t(s),
            at: t(s) + chrono::Duration::milliseconds(120),
            result: Ok(snapshot("pgm-1")),
            source: Some(probe_ok(t(s))),
        }
    }

    fn failed(s: i64) -> PollResult {
        PollResult {
            instance: "pgm-1".into(),
            started: t(s),
            at: t(s),
            result: Err(ApiError::Api {
                code: "Throttling.User".into(),
                message: "Request was denied".into(),
                request_id: Some("R-2".into()),
                http_status: 400,
            }),
            source: None,
        }
    }

    #[test]
    fn a_poll_round_trips_through_one_line() {
        for p in [poll(0), failed(5)] {
            let line = encode(&Entry::Poll(PollRecord::from(&p)));
            assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
            assert!(line.starts_with("{\"v\":1,\"kind\":\"poll\",\"instance\":\"pgm-1\""));
            let rec = Recording::parse(&line);
            assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
            let Entry::Poll(back) = &rec.entries[0] else {
                panic!("not a poll")
            };
            let back = back.to_poll_result();
            assert_eq!(back.instance, p.instance);
            assert_eq!(back.at, p.at);
            assert_eq!(back.source, p.source);
            match (&back.result, &p.result) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a.tasks, b.tasks);
                    assert_eq!(a.request_id, b.request_id);
                }
                (Err(a), Err(b)) => assert_eq!(a, b),
                _ => panic!("outcome changed"),
            }
        }
    }

    #[test]
    fn invisible_and_bidi_characters_are_escaped_in_the_file_and_read_back() {
        let mut p = failed(5);
        let hostile = "invoice\u{202e}gpj.exe\u{200b}\u{9b}";
        if let Err(ApiError::Api { message, .. }) = &mut p.result {
            *message = hostile.into();
        }
        let line = encode(&Entry::Poll(PollRecord::from(&p)));
        assert!(
            !line.contains('\u{202e}') && !line.contains('\u{200b}') && !line.contains('\u{9b}'),
            "{line}"
        );
        assert!(line.contains("\\u202e"), "{line}");
        let rec = Recording::parse(&line);
        let Entry::Poll(back) = &rec.entries[0] else {
            panic!("not a poll")
        };
        assert_eq!(back.to_poll_result().result, p.result);
    }

    #[test]
    fn no_secret_reaches_a_recording() {
        let mut text = String::new();
        for p in [poll(0), failed(5)] {
            text.push_str(&encode(&Entry::Poll(PollRecord::from(&p))));
        }
        for m in MARKERS {
            assert!(!text.contains(m), "{m} leaked into {text}");
        }
        assert!(text.contains("password=********"));
    }

    #[test]
    fn appends_across_runs_and_skips_a_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rec.jsonl");
        let mut r = Recorder::open(&path).unwrap();
        r.append(&poll(0)).unwrap();
        r.append(&failed(5)).unwrap();
        drop(r);
        // A crash mid-write leaves half a line.
        let full = encode(&Entry::Poll(PollRecord::from(&poll(10))));
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&full.as_bytes()[..full.len() / 2]).unwrap();
        drop(f);
        let rec = Recording::read(&path).unwrap();
        assert_eq!(rec.entries.len(), 2);
        assert_eq!(rec.warnings.len(), 1);
        assert!(
            rec.warnings[0].contains("torn last line"),
            "{:?}",
            rec.warnings
        );
        // The next run closes the torn line first and appends after it.
        let mut r = Recorder::open(&path).unwrap();
        r.append(&poll(15)).unwrap();
        drop(r);
        let rec = Recording::read(&path).unwrap();
        assert_eq!(rec.entries.len(), 3);
        assert_eq!(rec.warnings.len(), 1);
        assert!(
            rec.warnings[0].starts_with("line 3: skipped"),
            "{:?}",
            rec.warnings
        );
        assert_eq!(rec.entries[2].at(), poll(15).at);
    }

    #[test]
    fn newer_versions_and_other_files_are_refused_line_by_line() {
        let good = encode(&Entry::Poll(PollRecord::from(&poll(0))));
        let newer = good.replacen("{\"v\":1", "{\"v\":2", 1);
        let rec = Recording::parse(&format!("{newer}{good}{{\"v\":1,\"kind\":\"dance\"}}\n"));
        assert_eq!(rec.entries.len(), 1);
        assert_eq!(rec.warnings.len(), 2);
        assert!(rec.warnings[0].contains("newer"), "{:?}", rec.warnings);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, "hello\nworld\n").unwrap();
        let e = Recording::read(&path).unwrap_err().to_string();
        assert!(e.contains("is not a migtop recording"), "{e}");
        std::fs::write(&path, "").unwrap();
        assert!(Recording::read(&path).is_err());
    }

    #[test]
    fn entries_are_put_in_time_order() {
        let a = encode(&Entry::Poll(PollRecord::from(&poll(10))));
        let b = encode(&Entry::Poll(PollRecord::from(&poll(0))));
        let rec = Recording::parse(&format!("{a}{b}"));
        assert_eq!(rec.entries[0].at(), poll(0).at);
        assert!(rec.warnings.is_empty(), "side by side: no word");
        let c = encode(&Entry::Poll(PollRecord::from(&poll(-3600))));
        let rec = Recording::parse(&format!("{a}{b}{c}"));
        assert_eq!(rec.entries[0].at(), poll(-3600).at);
        assert_eq!(rec.warnings.len(), 1);
        assert_eq!(rec.instances(), vec!["pgm-1".to_string()]);
        assert!(rec.probe_target().unwrap().contains("********"));
    }

    #[test]
    fn a_switchover_line_round_trips() {
        let e = Entry::Switchover(SwitchoverRecord {
            instance: "pgm-1".into(),
            task_id: Some(7),
            requested: t(0),
            at: t(1),
            accepted: true,
            message: "ActivateMigrationTargetInstance accepted.".into(),
            origin: "dashboard".into(),
        });
        let line = encode(&e);
        assert!(line.contains("\"kind\":\"switchover\""));
        assert_eq!(Recording::parse(&line).entries, vec![e]);
    }

    #[test]
    fn a_checklist_round_trips_and_an_unreadable_one_drops_alone() {
        use crate::probe::checklist::{Finding, RelKind};
        let mut poll = poll(0);
        let mut report = probe_ok(poll.at);
        report.checklist = Some(Box::new(Checklist::new(
            poll.at,
            vec!["postgres".into()],
            vec![Finding::Unlogged {
                database: "postgres".into(),
                schema: "public".into(),
                name: "t".into(),
                relkind: RelKind::Table,
                bytes: 8192,
                rows: Some(2),
            }],
        )));
        poll.source = Some(report.clone());
        let line = encode(&Entry::Poll(PollRecord::from(&poll)));
        let rec = Recording::parse(&line);
        let Entry::Poll(p) = &rec.entries[0] else {
            panic!("{rec:?}")
        };
        assert_eq!(
            p.to_poll_result().source.unwrap().checklist,
            report.checklist
        );
        // A newer kind of item: the poll stays, without its checklist.
        let newer = line.replace("\"kind\":\"unlogged\"", "\"kind\":\"from_the_future\"");
        assert_ne!(newer, line);
        let rec = Recording::parse(&newer);
        assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
        let Entry::Poll(p) = &rec.entries[0] else {
            panic!("{rec:?}")
        };
        let source = p.to_poll_result().source.unwrap();
        assert!(source.result.is_ok());
        assert_eq!(source.checklist, None);
    }
}
