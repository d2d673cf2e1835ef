//! Every kind of bad input gives a clear error naming the file, the row and the column (or a warning
//! where skipping is what users expect). Full messages are asserted.

use lm_workbench::core::data::{load_hub_dataset, ColumnOptions, DataSpec, DatasetOptions, SplitName};
use lm_workbench::core::hub::HubSettings;

use crate::{as_is, load, load_error, write};

fn text_column(name: &str) -> DatasetOptions {
    DatasetOptions { columns: ColumnOptions { text: Some(name.into()), ..Default::default() }, ..as_is() }
}

#[test]
fn a_csv_record_with_the_wrong_field_count() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "train.csv", "text,label\nfine,a\n\"two\nlines\",b\nextra,c,d\nlast,a\n");
    assert_eq!(
        load_error(&path, &as_is()),
        format!("{}, row 3 (line 5): expected 2 fields as in the header, found 3", path.display())
    );
    let short = write(dir.path(), "short.csv", "text,label\nfine,a\nno label field\n");
    assert_eq!(
        load_error(&short, &as_is()),
        format!("{}, row 2 (line 3): expected 2 fields as in the header, found 1", short.display())
    );
}

#[test]
fn a_missing_column_lists_the_available_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "train.csv", "body,label\nx,a\n");
    assert_eq!(
        load_error(&path, &text_column("text")),
        format!("{}: no column \"text\"; available columns: body, label", path.display())
    );
    let jsonl = write(dir.path(), "train.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\"}\n");
    assert_eq!(
        load_error(&jsonl, &as_is()),
        format!("{}, line 2, column \"label\": no such field; this object has: text", jsonl.display())
    );
    let many = write(dir.path(), "many.csv", "a,b,label\nx,y,z\n");
    assert_eq!(
        load_error(&many, &as_is()),
        format!(
            "{}: cannot tell which column holds the text; available columns: a, b, label; name it with the text column option",
            many.display()
        )
    );
}

#[test]
fn bytes_that_are_not_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(dir.path(), "train.csv", b"text,label\nok,a\n\"caf\xe9\nbar\",b\n");
    assert_eq!(
        load_error(&csv, &as_is()),
        format!("{}, row 2 (line 3), column \"text\": not valid UTF-8 (byte 0xE9 at offset 3)", csv.display())
    );
    let label = write(dir.path(), "label.csv", b"text,label\nok,a\nfine,\xa3\n");
    assert_eq!(
        load_error(&label, &as_is()),
        format!("{}, row 2 (line 3), column \"label\": not valid UTF-8 (byte 0xA3 at offset 0)", label.display())
    );
    let txt = write(dir.path(), "corpus.txt", b"first line\nsecond \xff line\n");
    assert_eq!(
        load_error(&txt, &as_is()),
        format!("{}, line 2: not valid UTF-8 (byte 0xFF at offset 7)", txt.display())
    );
}

#[test]
fn empty_files() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["empty.csv", "empty.jsonl", "empty.txt", "empty.parquet"] {
        let path = write(dir.path(), name, "");
        assert_eq!(load_error(&path, &as_is()), format!("{}: the file is empty", path.display()));
    }
    let header_only = write(dir.path(), "header.csv", "text,label\n");
    assert_eq!(
        load_error(&header_only, &as_is()),
        format!("{}: the file has a header but no rows", header_only.display())
    );
    let blank = write(dir.path(), "blank.txt", "\n  \n\n");
    assert_eq!(load_error(&blank, &as_is()), format!("{}: the file is empty", blank.display()));
}

#[test]
fn empty_label_cells_are_skipped_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "train.csv", "text,label\na,x\nb,\nc,y\nd,  \ne,x\n");
    let d = load(&path, &as_is()).unwrap();
    assert_eq!(d.split(SplitName::Train).unwrap().texts, ["a", "c", "e"]);
    assert_eq!(d.label_counts(SplitName::Train), [2, 1]);
    assert_eq!(
        d.warnings,
        [format!("{}: skipped 2 row(s) with an empty \"label\" cell (the first at row 2, line 3)", path.display())]
    );

    let none = write(dir.path(), "none.csv", "text,label\na,\nb,\n");
    assert_eq!(
        load_error(&none, &as_is()),
        format!("{}, column \"label\": every label cell is empty; name another label column, or none", none.display())
    );
}

#[test]
fn a_label_only_in_the_test_split() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "train.csv", "text,label\na,sport\nb,tech\n");
    let test = write(dir.path(), "test.csv", "text,label\nc,tech\n\"multi\nline\",sport\ne,weather\n");
    assert_eq!(
        load_error(dir.path(), &as_is()),
        format!(
            "{}, row 3 (line 5), column \"label\": label \"weather\" appears in the test split but not in train (train labels: sport, tech)",
            test.display()
        )
    );
}

#[test]
fn malformed_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "train.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \"label\": }\n");
    assert_eq!(
        load_error(&path, &as_is()),
        format!("{}, line 2: invalid JSON at character 24: expected value", path.display())
    );
    let not_object = write(dir.path(), "list.jsonl", "{\"text\": \"a\"}\n[1, 2]\n");
    assert_eq!(
        load_error(&not_object, &as_is()),
        format!("{}, line 2: a JSON array; only JSON Lines (one object per line) is supported", not_object.display())
    );
    let wrong = write(dir.path(), "wrong.jsonl", "{\"text\": \"a\", \"label\": 1.5}\n");
    assert_eq!(
        load_error(&wrong, &as_is()),
        format!("{}, line 1, column \"label\": expected a string or an integer, found 1.5", wrong.display())
    );
    let number_text = write(dir.path(), "number.jsonl", "{\"text\": \"a\"}\n{\"text\": 7}\n");
    assert_eq!(
        load_error(&number_text, &as_is()),
        format!("{}, line 2, column \"text\": expected a string, found 7", number_text.display())
    );
}

#[test]
fn folders_without_usable_files() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "README.md", "hello");
    write(dir.path(), "notes.csv", "text\na\n");
    assert_eq!(
        load_error(dir.path(), &as_is()),
        format!(
            "{}: no train/validation/test files and no class sub-folders found; it holds: README.md, notes.csv",
            dir.path().display()
        )
    );
    write(dir.path(), "test.csv", "text\na\n");
    assert_eq!(
        load_error(dir.path(), &as_is()),
        format!("{}: no train split; found only: test.csv", dir.path().display())
    );
    write(dir.path(), "train.csv", "text\na\n");
    write(dir.path(), "train.jsonl", "{\"text\": \"a\"}\n");
    assert_eq!(
        load_error(dir.path(), &as_is()),
        format!("{}: more than one kind of file for the train split: train.csv, train.jsonl", dir.path().display())
    );
    let odd = write(dir.path(), "data.xlsx", "x");
    assert_eq!(
        load_error(&odd, &as_is()),
        format!("{}: unknown file type; expected .csv, .tsv, .jsonl, .json, .parquet or .txt", odd.display())
    );
    let missing = dir.path().join("nope.csv");
    assert_eq!(load_error(&missing, &as_is()), format!("{}: no such file or folder", missing.display()));
}

#[test]
fn hub_datasets_and_bad_options() {
    assert_eq!(DataSpec::parse("stanfordnlp/imdb").unwrap(), DataSpec::Hub { repo: "stanfordnlp/imdb".into() });
    let dir = tempfile::tempdir().unwrap();
    // Offline (so that no test reaches the real Hub), a Hub id that is not cached (more in tests/hub_data.rs).
    let hub = HubSettings { endpoint: None, cache_dir: dir.path().join("hub"), offline: true };
    let err = load_hub_dataset(&hub, "stanfordnlp/imdb", &DatasetOptions::default(), &mut |_| {}, &mut |_| {}, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "stanfordnlp/imdb is not in the Hugging Face cache at {} and offline mode is on (HF_HUB_OFFLINE)",
            dir.path().join("hub").display()
        )
    );
    let path = write(dir.path(), "train.csv", "text\na\n");
    let options = DatasetOptions { validation_fraction: 1.0, ..DatasetOptions::default() };
    assert_eq!(
        load_error(&path, &options),
        "invalid option: the validation fraction must be at least 0 and below 1, not 1"
    );
}

#[test]
fn a_class_folder_file_that_is_not_utf8() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "business/001.txt", "Fine text");
    let bad = write(dir.path(), "sport/199.txt", b"Headline\n\nIt cost \xa3300.\n");
    assert_eq!(
        load_error(dir.path(), &as_is()),
        format!("{}, line 3: not valid UTF-8 (byte 0xA3 at offset 8)", bad.display())
    );
}
