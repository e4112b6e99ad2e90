//! A child's stdout as a channel of lines, read on a thread of its own.

use std::io::{BufRead, BufReader, Read};
use std::sync::mpsc;

/// Every line `out` gives, in order, until it ends. The thread keeps draining after the
/// receiver is dropped: a closed pipe would make the child's next write fail with EPIPE, and
/// `migtop` exits on that ("Broken pipe"), which stopped a simulator mid-test now and then.
pub fn lines(out: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}
