//! What the format readers hand back: the selected columns of one file, before labels become ids.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::error::At;

/// A label cell as it was in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawLabel {
    /// An empty cell, a JSON `null`, a Parquet null (and `-1` under a ClassLabel, as HF marks unlabeled rows).
    Missing,
    Int(i64),
    Str(String),
}

impl RawLabel {
    /// A text cell as a label: trimmed; empty is missing.
    pub fn from_text(cell: &str) -> Self {
        let cell = cell.trim();
        if cell.is_empty() {
            Self::Missing
        } else {
            Self::Str(cell.to_string())
        }
    }

    pub fn is_missing(&self) -> bool {
        matches!(self, Self::Missing)
    }
}

/// What a file says about itself before its rows are read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FileHeader {
    /// All column names, in file order.
    pub columns: Vec<String>,
    /// ClassLabel names by column, from Hugging Face `features` metadata.
    pub class_labels: HashMap<String, Vec<String>>,
}

/// The columns a reader should return. The names exist in the file (checked before reading).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    pub text: String,
    pub pair: Option<String>,
    pub label: Option<String>,
}

/// The selected columns of one file.
#[derive(Debug, Default)]
pub struct RawTable {
    pub path: PathBuf,
    pub texts: Vec<String>,
    pub pairs: Option<Vec<String>>,
    pub labels: Option<Vec<RawLabel>>,
    /// The row number (as in error messages) of each row where it is not `index + 1`.
    pub row_numbers: Option<Vec<u64>>,
    /// Whether row numbers are lines (JSON Lines, text) or records (CSV, Parquet).
    pub rows_are_lines: bool,
    /// For CSV: the line each record starts on (they differ from rows when fields hold newlines).
    pub lines: Option<Vec<u64>>,
    pub warnings: Vec<String>,
}

impl RawTable {
    pub fn new(path: &Path, selection: &Selection) -> Self {
        Self {
            path: path.to_path_buf(),
            pairs: selection.pair.as_ref().map(|_| Vec::new()),
            labels: selection.label.as_ref().map(|_| Vec::new()),
            ..Self::default()
        }
    }

    pub fn len(&self) -> usize {
        self.texts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// The user-facing row number of the row at `index`.
    pub fn row_number(&self, index: usize) -> u64 {
        self.row_numbers.as_ref().and_then(|r| r.get(index).copied()).unwrap_or(index as u64 + 1)
    }

    /// Where the row at `index` is, as error messages write it.
    pub fn at(&self, index: usize) -> At {
        let at = At::file(&self.path);
        let number = self.row_number(index);
        if self.rows_are_lines {
            return at.line(number);
        }
        let at = at.row(number);
        match self.lines.as_ref().and_then(|l| l.get(index)) {
            Some(&line) => at.line(line),
            None => at,
        }
    }

    /// The same place in words for warnings: `row 3, line 5`, `line 4` or `row 3`.
    pub fn place(&self, index: usize) -> String {
        let at = self.at(index);
        let mut parts = Vec::new();
        if let Some(row) = at.row {
            parts.push(format!("row {row}"));
        }
        if let Some(line) = at.line {
            parts.push(format!("line {line}"));
        }
        parts.join(", ")
    }
}
