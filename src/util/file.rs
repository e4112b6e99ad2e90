//! Reading a file named by the user or the environment without trusting what is there: only a
//! regular file (a FIFO would block the read forever, `/dev/zero` never ends), opened without
//! blocking, and at most a cap of bytes (checked before reading and again while reading, since
//! the file can grow in between). Every file migtop reads goes through here, each with its own
//! cap (BENCHMARKS.md lists them).

use std::fs::{File, Metadata};
use std::io::Read;
use std::path::Path;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// There is no file there.
    #[error("no such file")]
    NotFound,
    /// Something other than a regular file (a symlink to one is fine).
    #[error("not a regular file ({0}); migtop reads only a regular file there")]
    NotRegular(&'static str),
    /// Larger than the cap.
    #[error("larger than migtop's limit of {} for this file", crate::util::units::bytes(*.cap))]
    TooLarge { cap: u64 },
    /// Opening or reading failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Opens `path` for reading if it is a regular file, without blocking on a FIFO (whose open
/// waits for a writer); the checks are made on the file opened, so nothing can be swapped in
/// between.
pub fn open_regular(path: &Path) -> Result<(File, Metadata), FileError> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => FileError::NotFound,
            _ => FileError::Io(e),
        })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(FileError::NotRegular(kind(&meta)));
    }
    Ok((file, meta))
}

/// Reads at most `cap` bytes of `file` (opened by [`open_regular`]); more is [`FileError::TooLarge`].
pub fn read_opened(file: File, meta: &Metadata, cap: u64) -> Result<Vec<u8>, FileError> {
    if meta.len() > cap {
        return Err(FileError::TooLarge { cap });
    }
    let mut out = Vec::with_capacity(meta.len() as usize);
    file.take(cap + 1).read_to_end(&mut out)?;
    if out.len() as u64 > cap {
        return Err(FileError::TooLarge { cap });
    }
    Ok(out)
}

/// The bytes of the regular file at `path`, at most `cap` of them.
pub fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, FileError> {
    let (file, meta) = open_regular(path)?;
    read_opened(file, &meta, cap)
}

/// The text of the regular file at `path`, at most `cap` bytes; invalid UTF-8 is an error,
/// as `std::fs::read_to_string` makes it.
pub fn read_text_capped(path: &Path, cap: u64) -> Result<String, FileError> {
    String::from_utf8(read_capped(path, cap)?).map_err(|e| {
        FileError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            e.utf8_error(),
        ))
    })
}

/// What a non-regular file is, in a word.
fn kind(meta: &Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_regular_file_within_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, b"hello").unwrap();
        assert_eq!(read_capped(&f, 5).unwrap(), b"hello");
        assert!(matches!(
            read_capped(&f, 4),
            Err(FileError::TooLarge { cap: 4 })
        ));
        assert!(matches!(
            read_capped(&dir.path().join("none"), 9),
            Err(FileError::NotFound)
        ));
        assert!(matches!(
            read_capped(dir.path(), 9),
            Err(FileError::NotRegular("a directory"))
        ));
        assert!(matches!(
            read_capped(Path::new("/dev/zero"), 9),
            Err(FileError::NotRegular("a character device"))
        ));
        let fifo = dir.path().join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        // Returns at once: a blocking open would wait for a writer forever.
        assert!(matches!(
            read_capped(&fifo, 9),
            Err(FileError::NotRegular("a FIFO"))
        ));
    }
}
