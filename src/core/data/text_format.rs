//! Plain text (one example per line, for masked-language-model training) and class folders (one
//! sub-folder of `.txt` files per class; the sub-folder name is the label, each file one example).

use std::path::{Path, PathBuf};

use super::error::{At, DataError, DataResult};
use super::jsonl_format::{finish_lines, for_each_line};
use super::progress::ProgressSink;
use super::raw::{FileHeader, RawLabel, RawTable, Selection};

/// The one column of a plain-text file or a class folder's text.
pub const TEXT_COLUMN: &str = "text";
/// The label column of a class-folder dataset.
pub const LABEL_COLUMN: &str = "label";

pub fn text_header() -> FileHeader {
    FileHeader { columns: vec![TEXT_COLUMN.into()], ..FileHeader::default() }
}

pub fn class_folders_header() -> FileHeader {
    FileHeader { columns: vec![TEXT_COLUMN.into(), LABEL_COLUMN.into()], ..FileHeader::default() }
}

/// One example per line, trimmed. Blank lines are skipped, with a warning giving their count.
pub fn read_lines(path: &Path, progress: &mut ProgressSink<'_>) -> DataResult<RawTable> {
    let selection = Selection { text: TEXT_COLUMN.into(), pair: None, label: None };
    let mut table = RawTable::new(path, &selection);
    table.rows_are_lines = true;
    let mut row_numbers = Vec::new();
    let mut renumbered = false;
    let (blanks, bytes) = for_each_line(path, |line_number, line, bytes| {
        table.texts.push(line.to_string());
        row_numbers.push(line_number);
        renumbered |= line_number != row_numbers.len() as u64;
        if row_numbers.len() % 4096 == 0 {
            progress.update(path, row_numbers.len() as u64, bytes)?;
        }
        Ok(true)
    })?;
    finish_lines(&mut table, path, blanks)?;
    if renumbered {
        table.row_numbers = Some(row_numbers);
    }
    progress.finish_file(path, table.len() as u64, bytes);
    Ok(table)
}

/// The class sub-folders of `dir` (sorted by name) and their `.txt` files (sorted by name).
pub fn list_class_folders(dir: &Path) -> DataResult<Vec<(String, Vec<PathBuf>)>> {
    let mut classes = Vec::new();
    for sub in sorted_entries(dir)? {
        if !sub.is_dir() {
            continue;
        }
        let name = file_name(&sub);
        if name.starts_with('.') {
            continue;
        }
        let files: Vec<PathBuf> = sorted_entries(&sub)?
            .into_iter()
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("txt")))
            .collect();
        classes.push((name, files));
    }
    Ok(classes)
}

pub fn sorted_entries(dir: &Path) -> DataResult<Vec<PathBuf>> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| DataError::io(dir, e))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(|e| DataError::io(dir, e))?;
    entries.sort();
    Ok(entries)
}

pub fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Every `.txt` file of every class sub-folder is one example (its whole text, trimmed). Empty files
/// and class folders without `.txt` files are skipped, with a warning.
pub fn read_class_folders(dir: &Path, progress: &mut ProgressSink<'_>) -> DataResult<RawTable> {
    let selection = Selection { text: TEXT_COLUMN.into(), pair: None, label: Some(LABEL_COLUMN.into()) };
    let mut table = RawTable::new(dir, &selection);
    let (mut bytes, mut empty_files) = (0u64, 0u64);
    for (class, files) in list_class_folders(dir)? {
        if files.is_empty() {
            table.warnings.push(format!("{}: class folder {class:?} has no .txt files; skipped", dir.display()));
            continue;
        }
        for file in files {
            let content = std::fs::read(&file).map_err(|e| DataError::io(&file, e))?;
            bytes += content.len() as u64;
            let text = std::str::from_utf8(&content).map_err(|e| {
                let valid = &content[..e.valid_up_to()];
                let line = valid.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
                let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                let byte = content.get(e.valid_up_to()).copied().unwrap_or(0);
                DataError::NotUtf8 { at: At::file(&file).line(line), byte, offset: e.valid_up_to() - line_start }
            })?;
            let text = text.trim_start_matches('\u{feff}').trim();
            if text.is_empty() {
                empty_files += 1;
                continue;
            }
            table.texts.push(text.to_string());
            if let Some(labels) = table.labels.as_mut() {
                labels.push(RawLabel::Str(class.clone()));
            }
            progress.update(&file, table.texts.len() as u64, bytes)?;
        }
    }
    if empty_files > 0 {
        table.warnings.push(format!("{}: skipped {empty_files} empty .txt file(s)", dir.display()));
    }
    if table.is_empty() {
        return Err(DataError::EmptyFile { path: dir.to_path_buf() });
    }
    progress.finish_file(dir, table.len() as u64, bytes);
    Ok(table)
}
