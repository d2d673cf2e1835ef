//! Parquet: a copy of bbc-news written with the Arrow writer loads identically; Hugging Face ClassLabel
//! metadata gives the label names; broken files give clear errors.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, DictionaryArray, Int64Array, LargeStringArray, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use lm_workbench::core::data::{Dataset, FileFormat, LabelKind, SourceKind, SplitName, HF_METADATA_KEY};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use crate::{as_is, load, load_error, shared_data, write};

/// Writes `(text, label)` columns to a Parquet file in row groups of 500 rows.
fn write_parquet(path: &Path, texts: &[String], label: ArrayRef, hf_metadata: Option<String>) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("text", DataType::Utf8, false),
        Field::new("label", label.data_type().clone(), false),
    ]));
    let text: ArrayRef = Arc::new(StringArray::from_iter_values(texts));
    let batch = RecordBatch::try_new(schema.clone(), vec![text, label]).unwrap();
    let props =
        WriterProperties::builder().set_max_row_group_row_count(Some(500)).set_compression(Compression::SNAPPY).build();
    let mut writer = ArrowWriter::try_new(File::create(path).unwrap(), schema, Some(props)).unwrap();
    writer.write(&batch).unwrap();
    if let Some(json) = hf_metadata {
        writer.append_key_value_metadata(KeyValue::new(HF_METADATA_KEY.to_string(), json));
    }
    writer.close().unwrap();
}

fn label_strings(d: &Dataset, split: SplitName) -> Vec<&str> {
    d.preview(split, 0, usize::MAX).iter().map(|r| r.label.unwrap()).collect()
}

fn bbc() -> Dataset {
    load(&shared_data("bbc-news"), &as_is()).unwrap()
}

/// Writes bbc-news as train/test Parquet files into `dir`, with labels as strings or as ClassLabel ids.
fn write_bbc(dir: &Path, csv: &Dataset, class_label_names: Option<&[&str]>) {
    for split in [SplitName::Train, SplitName::Test] {
        let texts = &csv.split(split).unwrap().texts;
        let names = label_strings(csv, split);
        let (label, metadata): (ArrayRef, _) = match class_label_names {
            None => (Arc::new(StringArray::from(names)), None),
            Some(order) => {
                let ids = names.iter().map(|n| order.iter().position(|o| o == n).unwrap() as i64);
                let features = serde_json::json!({"info": {"features": {
                    "text": {"dtype": "string", "_type": "Value"},
                    "label": {"names": order, "_type": "ClassLabel"}
                }}});
                (Arc::new(Int64Array::from_iter_values(ids)), Some(features.to_string()))
            }
        };
        write_parquet(&dir.join(format!("{split}.parquet")), texts, label, metadata);
    }
}

#[test]
fn a_parquet_copy_of_bbc_news_loads_identically() {
    let csv = bbc();
    let dir = tempfile::tempdir().unwrap();
    write_bbc(dir.path(), &csv, None);
    let mut progress = Vec::new();
    let spec = lm_workbench::core::data::DataSpec::Folder(dir.path().to_path_buf());
    let pq = lm_workbench::core::data::load_dataset(&spec, &as_is(), &mut |p| progress.push(p)).unwrap();
    assert_eq!(pq.source_kind, SourceKind::Files(FileFormat::Parquet));
    assert_eq!(pq.label_kind, Some(LabelKind::Strings));
    assert_eq!(pq.label_names, csv.label_names);
    for split in [SplitName::Train, SplitName::Test] {
        let (a, b) = (csv.split(split).unwrap(), pq.split(split).unwrap());
        assert_eq!(a.texts, b.texts, "{split} texts");
        assert_eq!(a.labels, b.labels, "{split} labels");
    }
    let last = progress.last().unwrap();
    assert_eq!((last.rows_read, last.bytes_read), (2225, last.total_bytes));
    assert!(progress.len() >= 4, "{} progress reports", progress.len());
    assert!(progress.windows(2).all(|w| w[0].bytes_read <= w[1].bytes_read));
}

#[test]
fn class_label_metadata_gives_the_label_names_in_its_order() {
    let csv = bbc();
    let dir = tempfile::tempdir().unwrap();
    let order = ["tech", "sport", "politics", "entertainment", "business"];
    write_bbc(dir.path(), &csv, Some(&order));
    let pq = load(dir.path(), &as_is()).unwrap();
    assert_eq!(pq.label_kind, Some(LabelKind::ClassLabel));
    assert_eq!(pq.label_names, order);
    for split in [SplitName::Train, SplitName::Test] {
        assert_eq!(label_strings(&pq, split), label_strings(&csv, split), "{split}");
        assert_eq!(pq.split(split).unwrap().texts, csv.split(split).unwrap().texts);
    }
    assert_eq!(pq.label_counts(SplitName::Train), [362, 459, 375, 348, 460]);
}

#[test]
fn truncated_and_corrupt_parquet_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let texts: Vec<String> = (0..2000).map(|i| format!("row {i} {}", "lorem ipsum ".repeat(i % 7))).collect();
    let labels: ArrayRef = Arc::new(StringArray::from_iter_values((0..2000).map(|i| ["a", "b"][i % 2])));
    let good = dir.path().join("good.parquet");
    write_parquet(&good, &texts, labels, None);
    let bytes = std::fs::read(&good).unwrap();
    assert_eq!(load(&good, &as_is()).unwrap().split(SplitName::Train).unwrap().len(), 2000);

    let truncated = write(dir.path(), "truncated.parquet", &bytes[..bytes.len() / 2]);
    assert_eq!(
        load_error(&truncated, &as_is()),
        format!(
            "{}: not a valid Parquet file: Parquet error: Invalid Parquet file. Corrupt footer",
            truncated.display()
        )
    );

    // Garbage over the first column chunk's pages, footer intact.
    let mut corrupt = bytes.clone();
    for b in &mut corrupt[4..1500] {
        *b = 0xAB;
    }
    let corrupt = write(dir.path(), "corrupt.parquet", corrupt);
    let message = load_error(&corrupt, &as_is());
    assert!(
        message.starts_with(&format!(
            "{}: not a valid Parquet file: cannot decode row group 1 (rows 1 to 500): ",
            corrupt.display()
        )),
        "{message}"
    );

    let not_parquet = write(dir.path(), "text.parquet", "text,label\nhello,a\n");
    assert_eq!(
        load_error(&not_parquet, &as_is()),
        format!(
            "{}: not a valid Parquet file: Parquet error: Invalid Parquet file. Corrupt footer",
            not_parquet.display()
        )
    );
}

#[test]
fn parquet_columns_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("train.parquet");
    let ids: ArrayRef = Arc::new(Int64Array::from(vec![1, 2]));
    write_parquet(&path, &["a".to_string(), "b".to_string()], ids, None);
    let options = lm_workbench::core::data::DatasetOptions {
        columns: lm_workbench::core::data::ColumnOptions {
            label: lm_workbench::core::data::ColumnPick::Named("category".into()),
            ..Default::default()
        },
        ..as_is()
    };
    assert_eq!(
        load_error(&path, &options),
        format!("{}: no column \"category\"; available columns: text, label", path.display())
    );
    let options = lm_workbench::core::data::DatasetOptions {
        columns: lm_workbench::core::data::ColumnOptions { text: Some("label".into()), ..Default::default() },
        ..as_is()
    };
    assert_eq!(
        load_error(&path, &options),
        format!("{}, row 1, column \"label\": expected a string column, found Int64 values", path.display())
    );
}

#[test]
fn only_the_selected_columns_are_decoded() {
    // A third column whose pages are overwritten with garbage: loading never touches it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("train.parquet");
    let n = 3000;
    let schema = Arc::new(Schema::new(vec![
        Field::new("notes", DataType::Utf8, false),
        Field::new("text", DataType::LargeUtf8, false),
        Field::new("label", DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)), true),
    ]));
    let notes: ArrayRef =
        Arc::new(StringArray::from_iter_values((0..n).map(|i| format!("note {i} {}", "x".repeat(i % 50)))));
    let text: ArrayRef = Arc::new(LargeStringArray::from_iter_values((0..n).map(|i| format!("text {i}"))));
    let label: ArrayRef = Arc::new(
        (0..n).map(|i| if i == 5 { None } else { Some(["neg", "pos"][i % 2]) }).collect::<DictionaryArray<Int32Type>>(),
    );
    let batch = RecordBatch::try_new(schema.clone(), vec![notes, text, label]).unwrap();
    let props = WriterProperties::builder().set_max_row_group_row_count(Some(1000)).build();
    let mut writer = ArrowWriter::try_new(File::create(&path).unwrap(), schema, Some(props)).unwrap();
    writer.write(&batch).unwrap();
    let metadata = writer.close().unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    for group in metadata.row_groups() {
        let (start, len) = group.column(0).byte_range();
        for b in &mut bytes[start as usize..(start + len) as usize] {
            *b = 0xEE;
        }
    }
    std::fs::write(&path, &bytes).unwrap();

    let d = load(&path, &as_is()).unwrap();
    assert_eq!(d.columns, ["notes", "text", "label"]);
    assert_eq!(d.label_names, ["neg", "pos"]);
    let train = d.split(SplitName::Train).unwrap();
    assert_eq!(train.len(), n - 1);
    assert_eq!(
        (train.texts[0].as_str(), train.texts[5].as_str(), train.texts[n - 2].as_str()),
        ("text 0", "text 6", "text 2999")
    );
    assert_eq!(d.label_counts(SplitName::Train), [1500, 1499]);
    assert_eq!(
        d.warnings,
        [format!("{}: skipped 1 row(s) with an empty \"label\" cell (the first at row 6)", path.display())]
    );
    // Reading the damaged column does fail, and names the row group.
    let options = lm_workbench::core::data::DatasetOptions {
        columns: lm_workbench::core::data::ColumnOptions { text: Some("notes".into()), ..Default::default() },
        ..as_is()
    };
    let message = load_error(&path, &options);
    assert!(
        message.starts_with(&format!(
            "{}: not a valid Parquet file: cannot decode row group 1 (rows 1 to 1000): ",
            path.display()
        )),
        "{message}"
    );
}
