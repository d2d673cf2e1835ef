//! Parquet through the `parquet` crate's Arrow reader. Only the selected columns are decoded, a batch at
//! a time, row group after row group, so memory holds the kept strings and one batch, not the file.
//! Hugging Face writes its `features` (with ClassLabel names) as JSON under the key-value metadata key
//! `huggingface`.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type, UInt64Type, UInt8Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;

use super::error::{At, DataError, DataResult};
use super::progress::ProgressSink;
use super::raw::{FileHeader, RawLabel, RawTable, Selection};

/// The key-value metadata key under which `datasets` stores its features.
pub const HF_METADATA_KEY: &str = "huggingface";
const BATCH_ROWS: usize = 4096;

fn builder(path: &Path) -> DataResult<ParquetRecordBatchReaderBuilder<File>> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    if file.metadata().map_err(|e| DataError::io(path, e))?.len() == 0 {
        return Err(DataError::EmptyFile { path: path.to_path_buf() });
    }
    ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| DataError::Parquet { path: path.to_path_buf(), message: e.to_string() })
}

/// Column names (top-level fields) and ClassLabel names from the `huggingface` metadata.
pub fn read_header(path: &Path) -> DataResult<FileHeader> {
    let builder = builder(path)?;
    let columns = builder.schema().fields().iter().map(|f| f.name().clone()).collect();
    let class_labels = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|k| k.key == HF_METADATA_KEY))
        .and_then(|kv| kv.value.as_deref())
        .map(class_labels_from_hf_json)
        .unwrap_or_default();
    Ok(FileHeader { columns, class_labels })
}

/// `{"info": {"features": {"label": {"names": [...], "_type": "ClassLabel"}, ...}}}` → names by column.
/// Metadata that does not parse is ignored (it is optional).
pub fn class_labels_from_hf_json(json: &str) -> HashMap<String, Vec<String>> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(json) else {
        return HashMap::new();
    };
    let features = value.pointer("/info/features").or_else(|| value.get("features"));
    let Some(features) = features.and_then(|f| f.as_object()) else {
        return HashMap::new();
    };
    features
        .iter()
        .filter(|(_, f)| f.get("_type").and_then(|t| t.as_str()) == Some("ClassLabel"))
        .filter_map(|(name, f)| {
            let names = f.get("names")?.as_array()?;
            let names: Option<Vec<String>> = names.iter().map(|n| n.as_str().map(str::to_string)).collect();
            Some((name.clone(), names?))
        })
        .collect()
}

/// Reads the selected columns.
pub fn read(path: &Path, selection: &Selection, progress: &mut ProgressSink<'_>) -> DataResult<RawTable> {
    let file_bytes = std::fs::metadata(path).map_err(|e| DataError::io(path, e))?.len();
    let builder = builder(path)?;
    let fields: Vec<String> = builder.schema().fields().iter().map(|f| f.name().clone()).collect();
    let mut wanted = vec![selection.text.as_str()];
    wanted.extend(selection.pair.as_deref());
    wanted.extend(selection.label.as_deref());
    let mut roots = Vec::new();
    for name in &wanted {
        let index = fields.iter().position(|f| f == name).ok_or_else(|| DataError::MissingColumn {
            path: path.to_path_buf(),
            column: name.to_string(),
            available: fields.clone(),
        })?;
        roots.push(index);
    }
    let metadata = builder.metadata().clone();
    let total_rows = metadata.file_metadata().num_rows().max(0) as u64;
    let row_group_ends: Vec<u64> = metadata
        .row_groups()
        .iter()
        .scan(0u64, |end, rg| {
            *end += rg.num_rows().max(0) as u64;
            Some(*end)
        })
        .collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| DataError::Parquet { path: path.to_path_buf(), message: e.to_string() })?;

    let mut table = RawTable::new(path, selection);
    for batch in reader {
        let first_row = table.len() as u64 + 1;
        let batch = batch.map_err(|e| {
            let group = row_group_ends.iter().position(|&end| end >= first_row).unwrap_or(0);
            let start = if group == 0 { 1 } else { row_group_ends[group - 1] + 1 };
            let end = row_group_ends.get(group).copied().unwrap_or(total_rows);
            DataError::Parquet {
                path: path.to_path_buf(),
                message: format!("cannot decode row group {} (rows {start} to {end}): {e}", group + 1),
            }
        })?;
        append_batch(path, &batch, selection, first_row, &mut table)?;
        let estimated_bytes = file_bytes * table.len() as u64 / total_rows.max(1);
        progress.update(path, table.len() as u64, estimated_bytes)?;
    }
    if table.is_empty() {
        return Err(DataError::NoRows { path: path.to_path_buf() });
    }
    progress.finish_file(path, table.len() as u64, file_bytes);
    Ok(table)
}

fn append_batch(
    path: &Path,
    batch: &RecordBatch,
    selection: &Selection,
    first_row: u64,
    table: &mut RawTable,
) -> DataResult<()> {
    let column = |name: &str| {
        batch.column_by_name(name).ok_or_else(|| DataError::Parquet {
            path: path.to_path_buf(),
            message: format!("the reader did not return column {name:?}"),
        })
    };
    let texts = |name: &str| -> DataResult<Vec<String>> {
        let array = column(name)?;
        let cells = string_cells(array.as_ref()).ok_or_else(|| DataError::WrongType {
            at: At::file(path).row(first_row).column(name),
            expected: "a string column".into(),
            found: format!("{} values", array.data_type()),
        })?;
        cells
            .into_iter()
            .enumerate()
            .map(|(i, cell)| {
                cell.map(str::to_string).ok_or_else(|| DataError::WrongType {
                    at: At::file(path).row(first_row + i as u64).column(name),
                    expected: "a text".into(),
                    found: "null".into(),
                })
            })
            .collect()
    };
    let text_cells = texts(&selection.text)?;
    let pair_cells = selection.pair.as_deref().map(texts).transpose()?;
    let label_cells =
        selection.label.as_deref().map(|name| labels(path, column(name)?.as_ref(), name, first_row)).transpose()?;
    table.texts.extend(text_cells);
    if let (Some(pairs), Some(cells)) = (table.pairs.as_mut(), pair_cells) {
        pairs.extend(cells);
    }
    if let (Some(labels), Some(cells)) = (table.labels.as_mut(), label_cells) {
        labels.extend(cells);
    }
    Ok(())
}

fn labels(path: &Path, array: &dyn Array, name: &str, first_row: u64) -> DataResult<Vec<RawLabel>> {
    if let Some(ints) = int_cells(array) {
        return Ok(ints.into_iter().map(|v| v.map_or(RawLabel::Missing, RawLabel::Int)).collect());
    }
    if let Some(strings) = string_cells(array) {
        return Ok(strings.into_iter().map(|v| v.map_or(RawLabel::Missing, RawLabel::from_text)).collect());
    }
    if let Some(bools) = array.as_boolean_opt() {
        return Ok(bools.iter().map(|v| v.map_or(RawLabel::Missing, |b| RawLabel::Str(b.to_string()))).collect());
    }
    Err(DataError::WrongType {
        at: At::file(path).row(first_row).column(name),
        expected: "string, integer or boolean labels".into(),
        found: format!("{} values", array.data_type()),
    })
}

/// The cells of a string column (plain, large, view, or dictionary-encoded); `None` for other types.
fn string_cells(array: &dyn Array) -> Option<Vec<Option<&str>>> {
    match array.data_type() {
        DataType::Utf8 => Some(array.as_string::<i32>().iter().collect()),
        DataType::LargeUtf8 => Some(array.as_string::<i64>().iter().collect()),
        DataType::Utf8View => Some(array.as_string_view().iter().collect()),
        DataType::Dictionary(_, _) => {
            let dictionary = array.as_any_dictionary_opt()?;
            let values = string_cells(dictionary.values().as_ref())?;
            if values.is_empty() {
                return Some(vec![None; array.len()]);
            }
            let keys = dictionary.normalized_keys();
            Some((0..array.len()).map(|i| if array.is_null(i) { None } else { values[keys[i]] }).collect())
        }
        _ => None,
    }
}

/// The cells of an integer column as i64; `None` for other types.
fn int_cells(array: &dyn Array) -> Option<Vec<Option<i64>>> {
    Some(match array.data_type() {
        DataType::Int8 => array.as_primitive::<Int8Type>().iter().map(|v| v.map(i64::from)).collect(),
        DataType::Int16 => array.as_primitive::<Int16Type>().iter().map(|v| v.map(i64::from)).collect(),
        DataType::Int32 => array.as_primitive::<Int32Type>().iter().map(|v| v.map(i64::from)).collect(),
        DataType::Int64 => array.as_primitive::<Int64Type>().iter().collect(),
        DataType::UInt8 => array.as_primitive::<UInt8Type>().iter().map(|v| v.map(i64::from)).collect(),
        DataType::UInt16 => array.as_primitive::<UInt16Type>().iter().map(|v| v.map(i64::from)).collect(),
        DataType::UInt32 => array.as_primitive::<UInt32Type>().iter().map(|v| v.map(i64::from)).collect(),
        DataType::UInt64 => {
            array.as_primitive::<UInt64Type>().iter().map(|v| v.map(|x| x.min(i64::MAX as u64) as i64)).collect()
        }
        _ => return None,
    })
}
