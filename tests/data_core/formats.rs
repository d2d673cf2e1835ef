//! Small datasets made in a temp dir: class folders, JSON Lines, TSV, sentence pairs, progress.

use lm_workbench::core::data::{
    ColumnOptions, ColumnPick, DataSpec, FileFormat, LabelKind, DatasetOptions, SourceKind, SplitName,
};

use crate::{as_is, counts, load, rows, write};

#[test]
fn class_folders_make_labels_from_folder_names() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pos/a.txt", "Great film.\n");
    write(dir.path(), "pos/b.txt", "  Loved it  ");
    write(dir.path(), "pos/c.txt", "\n\n");
    write(dir.path(), "neg/x.txt", "Dull.\nToo long.");
    write(dir.path(), "neg/notes.md", "not a text file");
    std::fs::create_dir_all(dir.path().join("unused")).unwrap();
    let d = load(dir.path(), &as_is()).unwrap();
    assert_eq!(d.source_kind, SourceKind::ClassFolders);
    assert_eq!(d.label_names, ["neg", "pos"]);
    assert_eq!(counts(&d, SplitName::Train), [("neg".to_string(), 1), ("pos".to_string(), 2)]);
    let train = d.split(SplitName::Train).unwrap();
    assert_eq!(train.texts, ["Dull.\nToo long.", "Great film.", "Loved it"]);
    assert_eq!(
        d.warnings,
        [
            format!("{}: class folder \"unused\" has no .txt files; skipped", dir.path().display()),
            format!("{}: skipped 1 empty .txt file(s)", dir.path().display()),
        ]
    );
}

#[test]
fn split_folders_of_class_folders() {
    let dir = tempfile::tempdir().unwrap();
    for (split, n) in [("train", 4), ("test", 2)] {
        for class in ["ham", "spam"] {
            for i in 0..n {
                write(dir.path(), &format!("{split}/{class}/{i}.txt"), format!("{class} {i}"));
            }
        }
    }
    let d = load(dir.path(), &as_is()).unwrap();
    assert_eq!(
        d.splits.iter().map(|s| (s.name, s.len())).collect::<Vec<_>>(),
        [(SplitName::Train, 8), (SplitName::Test, 4)]
    );
    assert_eq!(d.label_names, ["ham", "spam"]);
}

#[test]
fn json_lines_with_integer_labels_in_numeric_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "reviews.jsonl",
        "{\"id\": 1, \"review\": \"good\", \"stars\": 10}\n\n{\"id\": 2, \"review\": \"bad\", \"stars\": 2}\n{\"id\": 3, \"review\": \"ok\", \"stars\": 0}\n   \n{\"id\": 4, \"review\": \"meh\", \"stars\": null}\n\n",
    );
    let options = DatasetOptions {
        columns: ColumnOptions { label: ColumnPick::Named("stars".into()), ..Default::default() },
        ..as_is()
    };
    let d = load(&path, &options).unwrap();
    assert_eq!(d.source_kind, SourceKind::Files(FileFormat::Jsonl));
    assert_eq!(d.columns, ["id", "review", "stars"]);
    assert_eq!(d.mapping.text, "review");
    assert_eq!(d.label_kind, Some(LabelKind::Integers));
    assert_eq!(d.label_names, ["0", "2", "10"]);
    let train = d.split(SplitName::Train).unwrap();
    assert_eq!(train.texts, ["good", "bad", "ok"]);
    assert_eq!(train.labels.as_deref(), Some(&[2, 1, 0][..]));
    assert_eq!(
        d.warnings,
        [
            format!("{}: skipped 2 blank line(s)", path.display()),
            format!("{}: skipped 1 row(s) with an empty \"stars\" cell (the first at line 6)", path.display()),
        ]
    );
}

#[test]
fn tsv_with_quoted_tabs_and_newlines() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "data.tsv", "sentence\tlabel\n\"one\ttwo\nthree\"\tx\nplain \"\"quoted\"\" no\ty\n");
    let d = load(&path, &as_is()).unwrap();
    assert_eq!(d.source_kind, SourceKind::Files(FileFormat::Tsv));
    assert_eq!(d.split(SplitName::Train).unwrap().texts, ["one\ttwo\nthree", "plain \"\"quoted\"\" no"]);
    assert_eq!(d.label_names, ["x", "y"]);
}

#[test]
fn csv_sentence_pairs_and_a_dev_split() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "train.csv",
        "idx,sentence1,sentence2,label\n0,\"A man, a plan\",A canal,1\n1,Panama,\"He said \"\"hi\"\"\",0\n",
    );
    write(dir.path(), "dev.csv", "idx,sentence1,sentence2,label\n0,x,y,1\n");
    let d = load(dir.path(), &DatasetOptions::default()).unwrap();
    assert_eq!((d.mapping.text.as_str(), d.mapping.pair.as_deref()), ("sentence1", Some("sentence2")));
    let train = d.split(SplitName::Train).unwrap();
    assert_eq!(train.texts, ["A man, a plan", "Panama"]);
    assert_eq!(train.pairs.as_ref().unwrap(), &["A canal", "He said \"hi\""]);
    assert_eq!(rows(&d, SplitName::Validation), 1);
    let preview = d.preview(SplitName::Validation, 0, 10);
    assert_eq!((preview[0].text, preview[0].pair, preview[0].label), ("x", Some("y"), Some("1")));
}

#[test]
fn a_test_file_without_labels_is_an_unlabeled_split() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "train.csv", "text,label\na,x\nb,y\n");
    let test = write(dir.path(), "test.csv", "text\nc\n");
    let d = load(dir.path(), &as_is()).unwrap();
    assert!(d.split(SplitName::Test).unwrap().labels.is_none());
    assert_eq!(d.warnings, [format!("{}: no \"label\" column; the test split is unlabeled", test.display())]);
}

#[test]
fn progress_reaches_the_total() {
    let dir = tempfile::tempdir().unwrap();
    let body: String = (0..20_000).map(|i| format!("\"text number {i}\nsecond line\",{}\n", i % 3)).collect();
    let path = write(dir.path(), "big.csv", format!("text,label\n{body}"));
    let total = std::fs::metadata(&path).unwrap().len();
    let mut seen = Vec::new();
    let spec = DataSpec::File(path.clone());
    let d = lm_workbench::core::data::load_dataset(&spec, &as_is(), &mut |p| seen.push(p)).unwrap();
    assert_eq!(rows(&d, SplitName::Train), 20_000);
    assert!(seen.len() >= 3, "{} progress reports", seen.len());
    let last = seen.last().unwrap();
    assert_eq!((last.rows_read, last.bytes_read, last.total_bytes), (20_000, total, total));
    assert!(seen.windows(2).all(|w| w[0].bytes_read <= w[1].bytes_read && w[0].rows_read <= w[1].rows_read));
    assert_eq!(last.file, path);
}

#[test]
fn loading_can_be_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let body: String = (0..50_000).map(|i| format!("line number {i}\n")).collect();
    let path = write(dir.path(), "corpus.txt", body);
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let mut reports = 0;
    let result = lm_workbench::core::data::load_dataset_cancellable(
        &DataSpec::File(path),
        &as_is(),
        &mut |_| {
            reports += 1;
            cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        },
        Some(&cancel),
    );
    assert_eq!(result.unwrap_err().to_string(), "loading was cancelled");
    assert_eq!(reports, 1);
}
