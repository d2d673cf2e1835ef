//! Errors of dataset loading. Every variant names the file, and where it applies the row and the column.

use std::fmt;
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};

use super::spec::SplitName;

pub type DataResult<T> = Result<T, DataError>;

/// Where in a file something went wrong, written as the user counts:
///
/// - CSV/TSV: `row N` is the N-th record after the header (1-based), `line L` the physical line it
///   starts on (1-based, the header is line 1). They differ when fields hold newlines.
/// - JSON Lines and plain text: `line L` (1-based).
/// - Parquet: `row N` (1-based over the whole file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct At {
    pub path: PathBuf,
    pub row: Option<NonZeroU64>,
    pub line: Option<NonZeroU64>,
    pub column: Option<String>,
}

impl At {
    pub fn file(path: &Path) -> Self {
        Self { path: path.to_path_buf(), row: None, line: None, column: None }
    }

    /// Sets the row (1-based; 0 leaves it unset).
    pub fn row(mut self, row: u64) -> Self {
        self.row = NonZeroU64::new(row);
        self
    }

    /// Sets the line (1-based; 0 leaves it unset).
    pub fn line(mut self, line: u64) -> Self {
        self.line = NonZeroU64::new(line);
        self
    }

    pub fn column(mut self, column: &str) -> Self {
        self.column = Some(column.to_string());
        self
    }
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        match (self.row, self.line) {
            (Some(row), Some(line)) => write!(f, ", row {row} (line {line})")?,
            (Some(row), None) => write!(f, ", row {row}")?,
            (None, Some(line)) => write!(f, ", line {line}")?,
            (None, None) => {}
        }
        if let Some(column) = &self.column {
            write!(f, ", column {column:?}")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{}: no such file or folder", path.display())]
    NotFound { path: PathBuf },

    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{}: the file is empty", path.display())]
    EmptyFile { path: PathBuf },

    #[error("{}: the file has a header but no rows", path.display())]
    NoRows { path: PathBuf },

    #[error("{}: unknown file type; expected .csv, .tsv, .jsonl, .json, .parquet or .txt", path.display())]
    UnknownFormat { path: PathBuf },

    #[error("{at}: expected {expected} fields as in the header, found {found}")]
    FieldCount { at: At, expected: u64, found: u64 },

    #[error("{at}: {message}")]
    Malformed { at: At, message: String },

    /// `offset` counts bytes from the start of the CSV field, or of the line in line-based files.
    #[error("{at}: not valid UTF-8 (byte 0x{byte:02X} at offset {offset})")]
    NotUtf8 { at: At, byte: u8, offset: usize },

    #[error("{}: no column {column:?}; available columns: {}", path.display(), available.join(", "))]
    MissingColumn { path: PathBuf, column: String, available: Vec<String> },

    #[error(
        "{}: cannot tell which column holds the text; available columns: {}; name it with the text column option",
        path.display(), available.join(", ")
    )]
    NoTextColumn { path: PathBuf, available: Vec<String> },

    #[error("{at}: expected {expected}, found {found}")]
    WrongType { at: At, expected: String, found: String },

    #[error("{at}: label {label:?} appears in the {split} split but not in train (train labels: {})", known.join(", "))]
    UnseenLabel { at: At, label: String, split: SplitName, known: Vec<String> },

    #[error("{at}: label {label:?} is not one of the ClassLabel names ({})", names.join(", "))]
    NotAClassLabel { at: At, label: String, names: Vec<String> },

    #[error("{}: not a valid Parquet file: {message}", path.display())]
    Parquet { path: PathBuf, message: String },

    #[error("{}: no train/validation/test files and no class sub-folders found; it holds: {}", path.display(), listing(found))]
    NoSplitFiles { path: PathBuf, found: Vec<String> },

    #[error("{}: more than one kind of file for the {split} split: {}", path.display(), files.join(", "))]
    DuplicateSplit { path: PathBuf, split: String, files: Vec<String> },

    #[error("{}: no train split; found only: {}", path.display(), found.join(", "))]
    NoTrainSplit { path: PathBuf, found: Vec<String> },

    #[error("loading was cancelled")]
    Cancelled,

    #[error("Hugging Face Hub, {repo}: {message}")]
    Hub { repo: String, message: String },

    #[error("{repo} is not in the Hugging Face cache at {} and offline mode is on (HF_HUB_OFFLINE)", cache.display())]
    NotCached { repo: String, cache: PathBuf },

    #[error(
        "{repo}: no data files (.parquet, .csv, .tsv, .jsonl, .json, .txt) and no auto-converted Parquet \
         (refs/convert/parquet); the repo holds: {}",
        listing(found)
    )]
    NoHubData { repo: String, found: Vec<String> },

    #[error("{repo}: no config {config:?}; available configs: {}", available.join(", "))]
    UnknownConfig { repo: String, config: String, available: Vec<String> },

    #[error("invalid dataset spec {spec:?}: {message}")]
    InvalidSpec { spec: String, message: String },

    #[error("invalid option: {0}")]
    InvalidOption(String),

    #[error("tokenizer: {0}")]
    Tokenize(String),

    #[error("{0}")]
    Other(String),
}

fn listing(found: &[String]) -> String {
    if found.is_empty() {
        "nothing".into()
    } else {
        found.join(", ")
    }
}

impl From<crate::core::CoreError> for DataError {
    fn from(error: crate::core::CoreError) -> Self {
        use crate::core::CoreError;
        match error {
            CoreError::Cancelled => Self::Cancelled,
            CoreError::NotCached { repo, cache } => Self::NotCached { repo, cache },
            CoreError::Hub { repo, message } => Self::Hub { repo, message },
            CoreError::Io { path, source } => Self::Io { path, source },
            other => Self::Other(other.to_string()),
        }
    }
}

impl DataError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io { path: path.to_path_buf(), source }
    }

    /// The error for a field that is not UTF-8.
    /// The error for a field or line (`bytes`) that is not UTF-8.
    pub fn not_utf8(at: At, bytes: &[u8], error: std::str::Utf8Error) -> Self {
        let offset = error.valid_up_to();
        Self::NotUtf8 { at, byte: bytes.get(offset).copied().unwrap_or(0), offset }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_is_written_as_users_count() {
        let at = At::file(Path::new("d/train.csv")).row(3).line(7).column("label");
        assert_eq!(at.to_string(), "d/train.csv, row 3 (line 7), column \"label\"");
        assert_eq!(At::file(Path::new("a.jsonl")).line(2).to_string(), "a.jsonl, line 2");
        assert_eq!(
            At::file(Path::new("a.parquet")).row(9).column("text").to_string(),
            "a.parquet, row 9, column \"text\""
        );
    }
}
