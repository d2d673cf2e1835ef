//! JSON Lines: one JSON object per line. Blank lines are skipped (with a warning when there are any).
//! A `.json` file is read the same way; a JSON array file gets a clear error.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use super::error::{At, DataError, DataResult};
use super::progress::ProgressSink;
use super::raw::{FileHeader, RawLabel, RawTable, Selection};

/// Calls `each(line_number, line)` for every line that is not blank, after checking it is UTF-8.
/// Returns the number of blank lines skipped (trailing ones not counted) and the bytes read.
/// After reading a line-based file: an empty one is an error, skipped blank lines are a warning.
pub(super) fn finish_lines(table: &mut RawTable, path: &Path, blanks: u64) -> DataResult<()> {
    if table.is_empty() {
        return Err(DataError::EmptyFile { path: path.to_path_buf() });
    }
    if blanks > 0 {
        table.warnings.push(format!("{}: skipped {blanks} blank line(s)", path.display()));
    }
    Ok(())
}

pub(super) fn for_each_line(
    path: &Path,
    mut each: impl FnMut(u64, &str, u64) -> DataResult<bool>,
) -> DataResult<(u64, u64)> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    if file.metadata().map_err(|e| DataError::io(path, e))?.len() == 0 {
        return Err(DataError::EmptyFile { path: path.to_path_buf() });
    }
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut buffer = Vec::new();
    let (mut line_number, mut bytes, mut blank_run, mut blanks) = (0u64, 0u64, 0u64, 0u64);
    loop {
        buffer.clear();
        let n = reader.read_until(b'\n', &mut buffer).map_err(|e| DataError::io(path, e))?;
        if n == 0 {
            break;
        }
        line_number += 1;
        bytes += n as u64;
        let line = std::str::from_utf8(&buffer)
            .map_err(|e| DataError::not_utf8(At::file(path).line(line_number), &buffer, e))?;
        let line = line.trim_start_matches('\u{feff}').trim();
        if line.is_empty() {
            blank_run += 1;
            continue;
        }
        blanks += blank_run;
        blank_run = 0;
        if !each(line_number, line, bytes)? {
            break;
        }
    }
    Ok((blanks, bytes))
}

/// The keys of the first object, in file order.
pub fn read_header(path: &Path) -> DataResult<FileHeader> {
    let mut columns = None;
    for_each_line(path, |line_number, line, _| {
        columns = Some(object_keys(path, line_number, line)?);
        Ok(false)
    })?;
    let columns = columns.ok_or_else(|| DataError::EmptyFile { path: path.to_path_buf() })?;
    Ok(FileHeader { columns, ..FileHeader::default() })
}

fn object_keys(path: &Path, line_number: u64, line: &str) -> DataResult<Vec<String>> {
    if line.starts_with('[') {
        return Err(DataError::Malformed {
            at: At::file(path).line(line_number),
            message: "a JSON array; only JSON Lines (one object per line) is supported".into(),
        });
    }
    let mut de = serde_json::Deserializer::from_str(line);
    let keys = (&mut de).deserialize_map(KeysVisitor).and_then(|keys| de.end().map(|()| keys));
    keys.map_err(|e| json_error(path, line_number, &e))
}

struct KeysVisitor;

impl<'de> Visitor<'de> for KeysVisitor {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut keys = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            map.next_value::<IgnoredAny>()?;
            keys.push(key);
        }
        Ok(keys)
    }
}

fn json_error(path: &Path, line_number: u64, error: &serde_json::Error) -> DataError {
    let text = error.to_string();
    let message = text.split(" at line ").next().unwrap_or(&text);
    DataError::Malformed {
        at: At::file(path).line(line_number),
        message: format!("invalid JSON at character {}: {message}", error.column()),
    }
}

/// Reads the selected fields of every line.
pub fn read(path: &Path, selection: &Selection, progress: &mut ProgressSink<'_>) -> DataResult<RawTable> {
    let mut table = RawTable::new(path, selection);
    table.rows_are_lines = true;
    let mut row_numbers = Vec::new();
    let (blanks, bytes) = for_each_line(path, |line_number, line, bytes| {
        let at = || At::file(path).line(line_number);
        if line.starts_with('[') {
            object_keys(path, line_number, line)?;
        }
        let value: Value = serde_json::from_str(line).map_err(|e| json_error(path, line_number, &e))?;
        let Value::Object(object) = value else {
            return Err(DataError::WrongType { at: at(), expected: "a JSON object".into(), found: describe(&value) });
        };
        let get = |column: &str| {
            object.get(column).ok_or_else(|| DataError::Malformed {
                at: at().column(column),
                message: format!(
                    "no such field; this object has: {}",
                    object.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
                ),
            })
        };
        let text = |column: &str| -> DataResult<String> {
            match get(column)? {
                Value::String(s) => Ok(s.clone()),
                other => Err(DataError::WrongType {
                    at: at().column(column),
                    expected: "a string".into(),
                    found: describe(other),
                }),
            }
        };
        table.texts.push(text(&selection.text)?);
        if let (Some(name), Some(pairs)) = (selection.pair.as_deref(), table.pairs.as_mut()) {
            pairs.push(text(name)?);
        }
        if let (Some(name), Some(labels)) = (selection.label.as_deref(), table.labels.as_mut()) {
            labels.push(label(get(name)?).ok_or_else(|| DataError::WrongType {
                at: at().column(name),
                expected: "a string or an integer".into(),
                found: describe(&object[name]),
            })?);
        }
        row_numbers.push(line_number);
        if row_numbers.len() % 1024 == 0 {
            progress.update(path, row_numbers.len() as u64, bytes)?;
        }
        Ok(true)
    })?;
    finish_lines(&mut table, path, blanks)?;
    table.row_numbers = Some(row_numbers);
    progress.finish_file(path, table.len() as u64, bytes);
    Ok(table)
}

fn label(value: &Value) -> Option<RawLabel> {
    match value {
        Value::Null => Some(RawLabel::Missing),
        Value::String(s) => Some(RawLabel::from_text(s)),
        Value::Bool(b) => Some(RawLabel::Str(b.to_string())),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Some(RawLabel::Int(i)),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(RawLabel::Int(f as i64)),
            _ => None,
        },
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// A short description of a JSON value for error messages.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("the string {:?}", s.chars().take(40).collect::<String>()),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}
