//! Loading progress, for the UI's progress bar and the CLI.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use super::error::{DataError, DataResult};

/// How far a load has got. Rows and bytes count over all files of the dataset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadProgress {
    /// The file being read.
    pub file: PathBuf,
    pub rows_read: u64,
    /// Bytes of the files read so far (for Parquet: compressed bytes of the row groups read).
    pub bytes_read: u64,
    /// Total bytes of all files to read.
    pub total_bytes: u64,
}

impl LoadProgress {
    /// Share read, 0.0 to 1.0.
    pub fn fraction(&self) -> f32 {
        if self.total_bytes == 0 {
            0.0
        } else {
            (self.bytes_read as f64 / self.total_bytes as f64).min(1.0) as f32
        }
    }
}

/// Sends [`LoadProgress`] to the caller's callback, not more often than every 64 KiB or at the end of a file.
pub struct ProgressSink<'a> {
    callback: &'a mut dyn FnMut(LoadProgress),
    cancel: Option<&'a AtomicBool>,
    total_bytes: u64,
    done_bytes: u64,
    done_rows: u64,
    last_sent_bytes: u64,
}

impl<'a> ProgressSink<'a> {
    const STEP_BYTES: u64 = 64 * 1024;

    pub fn new(callback: &'a mut dyn FnMut(LoadProgress), cancel: Option<&'a AtomicBool>, total_bytes: u64) -> Self {
        Self { callback, cancel, total_bytes, done_bytes: 0, done_rows: 0, last_sent_bytes: 0 }
    }

    /// Progress within the file being read: rows and bytes read from it so far. Fails with
    /// [`DataError::Cancelled`] once the cancel flag is set.
    pub fn update(&mut self, file: &Path, rows_in_file: u64, bytes_in_file: u64) -> DataResult<()> {
        let bytes_read = self.done_bytes + bytes_in_file;
        if bytes_read >= self.last_sent_bytes + Self::STEP_BYTES {
            self.send(file, self.done_rows + rows_in_file, bytes_read);
        }
        self.check_cancel()
    }

    /// [`DataError::Cancelled`] once the cancel flag is set.
    pub fn check_cancel(&self) -> DataResult<()> {
        match self.cancel {
            Some(flag) if flag.load(Ordering::Relaxed) => Err(DataError::Cancelled),
            _ => Ok(()),
        }
    }

    /// Marks a file as read.
    pub fn finish_file(&mut self, file: &Path, rows: u64, bytes: u64) {
        self.done_rows += rows;
        self.done_bytes += bytes;
        self.send(file, self.done_rows, self.done_bytes);
    }

    fn send(&mut self, file: &Path, rows_read: u64, bytes_read: u64) {
        self.last_sent_bytes = bytes_read;
        (self.callback)(LoadProgress {
            file: file.to_path_buf(),
            rows_read,
            bytes_read,
            total_bytes: self.total_bytes.max(bytes_read),
        });
    }
}
