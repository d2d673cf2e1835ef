//! CSV and TSV (RFC 4180: quoted fields may hold delimiters, newlines and doubled quotes; no length limit).
//! The first record is the header. Only the selected columns are decoded (as UTF-8).

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use super::error::{At, DataError, DataResult};
use super::progress::ProgressSink;
use super::raw::{FileHeader, RawLabel, RawTable, Selection};

const BUFFER_BYTES: usize = 1 << 20;

fn open(path: &Path, delimiter: u8) -> DataResult<csv::Reader<BufReader<File>>> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let len = file.metadata().map_err(|e| DataError::io(path, e))?.len();
    if len == 0 {
        return Err(DataError::EmptyFile { path: path.to_path_buf() });
    }
    Ok(csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(false)
        .from_reader(BufReader::with_capacity(BUFFER_BYTES, file)))
}

/// The header row's column names.
pub fn read_header(path: &Path, delimiter: u8) -> DataResult<FileHeader> {
    let mut reader = open(path, delimiter)?;
    let columns = header_names(path, &mut reader)?;
    Ok(FileHeader { columns, ..FileHeader::default() })
}

fn header_names(path: &Path, reader: &mut csv::Reader<BufReader<File>>) -> DataResult<Vec<String>> {
    let header = reader.byte_headers().map_err(|e| csv_error(path, e))?.clone();
    let mut names = Vec::with_capacity(header.len());
    for (i, field) in header.iter().enumerate() {
        let at = || At::file(path).line(1);
        let name = std::str::from_utf8(field).map_err(|e| DataError::not_utf8(at(), field, e))?;
        let name = if i == 0 { name.trim_start_matches('\u{feff}') } else { name };
        names.push(name.trim().to_string());
    }
    Ok(names)
}

/// Reads the selected columns of every record.
pub fn read(
    path: &Path,
    delimiter: u8,
    selection: &Selection,
    progress: &mut ProgressSink<'_>,
) -> DataResult<RawTable> {
    let mut reader = open(path, delimiter)?;
    let columns = header_names(path, &mut reader)?;
    let index_of = |name: &str| {
        columns.iter().position(|c| c == name).ok_or_else(|| DataError::MissingColumn {
            path: path.to_path_buf(),
            column: name.to_string(),
            available: columns.clone(),
        })
    };
    let text_index = index_of(&selection.text)?;
    let pair_index = selection.pair.as_deref().map(index_of).transpose()?;
    let label_index = selection.label.as_deref().map(index_of).transpose()?;

    let mut table = RawTable::new(path, selection);
    let mut lines = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(path, e)),
        }
        let row = table.len() as u64 + 1;
        let line = record.position().map_or(0, csv::Position::line);
        let at = |column: &str| At::file(path).row(row).line(line).column(column);
        table.texts.push(field(&record, text_index, || at(&selection.text))?.to_string());
        lines.push(line);
        if let (Some(i), Some(pairs), Some(name)) = (pair_index, table.pairs.as_mut(), selection.pair.as_deref()) {
            pairs.push(field(&record, i, || at(name))?.to_string());
        }
        if let (Some(i), Some(labels), Some(name)) = (label_index, table.labels.as_mut(), selection.label.as_deref()) {
            labels.push(RawLabel::from_text(field(&record, i, || at(name))?));
        }
        if row.is_multiple_of(1024) {
            progress.update(path, row, reader.position().byte())?;
        }
    }
    if table.is_empty() {
        return Err(DataError::NoRows { path: path.to_path_buf() });
    }
    table.lines = Some(lines);
    progress.finish_file(path, table.len() as u64, reader.position().byte());
    Ok(table)
}

/// A field as UTF-8 text.
fn field(record: &csv::ByteRecord, index: usize, at: impl FnOnce() -> At) -> DataResult<&str> {
    let bytes = record.get(index).unwrap_or_default();
    std::str::from_utf8(bytes).map_err(|e| DataError::not_utf8(at(), bytes, e))
}

fn csv_error(path: &Path, error: csv::Error) -> DataError {
    let at_pos = |pos: &csv::Position| At::file(path).row(pos.record()).line(pos.line());
    match error.into_kind() {
        csv::ErrorKind::Io(e) => DataError::io(path, e),
        csv::ErrorKind::UnequalLengths { pos: Some(pos), expected_len, len } => {
            DataError::FieldCount { at: at_pos(&pos), expected: expected_len, found: len }
        }
        csv::ErrorKind::Utf8 { pos: Some(pos), err } => {
            DataError::Malformed { at: at_pos(&pos), message: format!("not valid UTF-8 in field {}", err.field() + 1) }
        }
        other => DataError::Malformed { at: At::file(path), message: format!("{:?}", other) },
    }
}
