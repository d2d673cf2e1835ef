//! Hub datasets against a local server speaking the Hub API (as HF_ENDPOINT points the app at it): a
//! repo with its own CSV files, a repo with only the Parquet conversion on `refs/convert/parquet`
//! (ClassLabel metadata), offline use of the cache, `data inspect` on a Hub id, and the errors.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use common::hub_server::{HubServer, Repo};
use lm_workbench::core::data::{
    list_hub_dataset, load_hub_config, load_hub_dataset, Dataset, FileFormat, HubDataSource, LabelKind, DatasetOptions,
    SourceKind, SplitName, HF_METADATA_KEY,
};
use lm_workbench::core::hub::HubSettings;
use lm_workbench::core::hub::download::FileProgress;
use parquet::arrow::ArrowWriter;
use parquet::file::metadata::KeyValue;
use serde_json::{json, Value};

const TRAIN_ROWS: usize = 40;
const TEST_ROWS: usize = 12;
/// The ClassLabel order the card and the Parquet metadata give (not alphabetical, to tell them apart).
const NAMES: [&str; 5] = ["tech", "sport", "politics", "entertainment", "business"];


/// The first `n` rows `(text, label)` of a bbc-news CSV.
fn bbc_rows(file: &str, n: usize) -> Vec<(String, String)> {
    let mut reader = csv::Reader::from_path(common::shared_data("bbc-news").join(file)).unwrap();
    reader.records().take(n).map(|r| r.unwrap()).map(|r| (r[0].to_string(), r[1].to_string())).collect()
}

fn csv_bytes(rows: &[(String, String)]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["text", "label"]).unwrap();
    for (text, label) in rows {
        writer.write_record([text, label]).unwrap();
    }
    writer.into_inner().unwrap()
}

/// A Parquet file as `datasets` writes it: int64 labels, ClassLabel names in the `huggingface` metadata.
fn parquet_bytes(rows: &[(String, String)]) -> Vec<u8> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("text", DataType::Utf8, true),
        Field::new("label", DataType::Int64, true),
    ]));
    let text: ArrayRef = Arc::new(StringArray::from_iter_values(rows.iter().map(|(t, _)| t)));
    let ids = rows.iter().map(|(_, l)| NAMES.iter().position(|n| n == l).unwrap() as i64);
    let label: ArrayRef = Arc::new(Int64Array::from_iter_values(ids));
    let batch = RecordBatch::try_new(schema.clone(), vec![text, label]).unwrap();
    let mut writer = ArrowWriter::try_new(Vec::new(), schema, None).unwrap();
    writer.write(&batch).unwrap();
    let features = json!({"info": {"features": {
        "text": {"dtype": "string", "_type": "Value"},
        "label": {"names": NAMES, "_type": "ClassLabel"}
    }}});
    writer.append_key_value_metadata(KeyValue::new(HF_METADATA_KEY.to_string(), features.to_string()));
    writer.into_inner().unwrap()
}

fn file(path: &str, bytes: impl Into<Vec<u8>>) -> (String, Vec<u8>) {
    (path.to_string(), bytes.into())
}

/// The card metadata as the Hub serves it (`cardData`), with the ClassLabel of the label column.
fn card() -> Value {
    let names: serde_json::Map<String, Value> =
        NAMES.iter().enumerate().map(|(i, n)| (i.to_string(), json!(n))).collect();
    json!({
        "configs": [{"config_name": "default", "data_files": [
            {"split": "train", "path": "data/train.csv"}, {"split": "test", "path": "data/test.csv"}
        ]}],
        "dataset_info": {
            "features": [{"name": "text", "dtype": "string"}, {"name": "label", "dtype": {"class_label": {"names": names}}}],
            "splits": [{"name": "train", "num_examples": TRAIN_ROWS}, {"name": "test", "num_examples": TEST_ROWS}]
        }
    })
}

/// The dataset card whose metadata [`card`] is: `datasets`' YAML layout.
fn readme() -> String {
    let names: String = NAMES.iter().enumerate().map(|(i, n)| format!("          '{i}': {n}\n")).collect();
    format!(
        "---\nconfigs:\n- config_name: default\n  data_files:\n  - split: train\n    path: data/train.csv\n  \
         - split: test\n    path: data/test.csv\ndataset_info:\n  features:\n  - name: text\n    dtype: string\n  \
         - name: label\n    dtype:\n      class_label:\n        names:\n{names}  splits:\n  - name: train\n    \
         num_examples: {TRAIN_ROWS}\n  - name: test\n    num_examples: {TEST_ROWS}\n---\n# BBC News\n"
    )
}

/// Three dataset repos: own CSV files (with a card), only the Parquet conversion, and nothing loadable.
fn hub() -> HubServer {
    let (train, test) = (bbc_rows("train.csv", TRAIN_ROWS), bbc_rows("test.csv", TEST_ROWS));
    let mut csv_repo = Repo::dataset(
        "demo/bbc-news-csv",
        vec![
            file(".gitattributes", "*.parquet filter=lfs\n"),
            file("README.md", readme()),
            file("data/train.csv", csv_bytes(&train)),
            file("data/test.csv", csv_bytes(&test)),
        ],
    );
    csv_repo.card_data = Some(card());
    let unlabeled: Vec<(String, String)> = train.iter().take(5).cloned().collect();
    let parquet_repo = Repo::dataset(
        "demo/bbc-news-parquet",
        vec![file("README.md", "# BBC News\n"), file("bbc_news.py", "import datasets\n")],
    )
    .with_revision(
        "refs/convert/parquet",
        vec![
            file(".gitattributes", "*.parquet filter=lfs\n"),
            file("default/train/0000.parquet", parquet_bytes(&train)),
            file("default/test/0000.parquet", parquet_bytes(&test)),
            file("default/unsupervised/0000.parquet", parquet_bytes(&unlabeled)),
        ],
    );
    let empty = Repo::dataset("demo/no-data", vec![file("README.md", "# Nothing yet\n"), file("loader.py", "pass\n")]);
    let multi = Repo::dataset(
        "demo/multi",
        vec![
            file("sport/train.csv", "text,label\nA goal!,pos\nA miss.,neg\n"),
            file("sport/dev.csv", "text,label\nA save!,pos\n"),
            file("tech/train-00000-of-00001.jsonl", "{\"text\": \"New chip\", \"label\": 1}\n"),
        ],
    );
    HubServer::start(vec![csv_repo, parquet_repo, empty, multi])
}

fn settings(server: &HubServer, cache: &Path) -> HubSettings {
    HubSettings { endpoint: Some(server.url.clone()), cache_dir: cache.to_path_buf(), offline: false }
}

fn offline(cache: &Path) -> HubSettings {
    HubSettings { endpoint: Some("http://127.0.0.1:9".into()), cache_dir: cache.to_path_buf(), offline: true }
}

fn as_is() -> DatasetOptions {
    DatasetOptions { validation_fraction: 0.0, ..DatasetOptions::default() }
}

fn load(hub: &HubSettings, spec: &str, downloads: &mut Vec<FileProgress>) -> Result<Dataset, String> {
    load_hub_dataset(hub, spec, &as_is(), &mut |p| downloads.push(p), &mut |_| {}, None).map_err(|e| e.to_string())
}

fn counts(d: &Dataset, split: SplitName) -> Vec<(String, usize)> {
    d.label_names.iter().cloned().zip(d.label_counts(split)).collect()
}

fn expected_counts(rows: &[(String, String)]) -> Vec<(String, usize)> {
    NAMES.iter().map(|n| (n.to_string(), rows.iter().filter(|(_, l)| l == n).count())).collect()
}

#[test]
fn a_repo_with_its_own_csv_files_lists_downloads_and_loads() {
    let server = hub();
    let cache = tempfile::tempdir().unwrap();
    let hub = settings(&server, cache.path());
    let listing = list_hub_dataset(&hub, "demo/bbc-news-csv").unwrap();
    assert_eq!((listing.source, listing.revision.as_str()), (HubDataSource::RepoFiles, "main"));
    assert_eq!(listing.configs.len(), 1);
    let config = &listing.configs[0];
    assert_eq!(config.name, "default");
    let splits: Vec<(&str, Vec<&str>)> =
        config.splits.iter().map(|s| (s.name.as_str(), s.files.iter().map(|f| f.path.as_str()).collect())).collect();
    assert_eq!(splits, [("train", vec!["data/train.csv"]), ("test", vec!["data/test.csv"])]);
    let (train, test) = (bbc_rows("train.csv", TRAIN_ROWS), bbc_rows("test.csv", TEST_ROWS));
    assert_eq!(config.splits[0].bytes(), csv_bytes(&train).len() as u64);
    assert_eq!(config.class_labels["label"], NAMES);
    // Big enough that the Hub serves it from the CDN (a redirect), as it does LFS files.
    assert!(config.splits[0].bytes() > 64 * 1024, "{}", config.splits[0].bytes());

    let mut downloads = Vec::new();
    let d = load(&hub, "demo/bbc-news-csv", &mut downloads).unwrap();
    assert_eq!(d.name, "demo/bbc-news-csv");
    assert_eq!(d.source_kind, SourceKind::Files(FileFormat::Csv));
    assert_eq!(
        d.splits.iter().map(|s| (s.name, s.len())).collect::<Vec<_>>(),
        [(SplitName::Train, TRAIN_ROWS), (SplitName::Test, TEST_ROWS)]
    );
    // String labels under the card's ClassLabel: the card's order.
    assert_eq!(d.label_names, NAMES);
    assert_eq!(counts(&d, SplitName::Train), expected_counts(&train));
    assert_eq!(counts(&d, SplitName::Test), expected_counts(&test));
    assert_eq!(d.split(SplitName::Train).unwrap().texts[0], train[0].0);
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    for name in ["data/train.csv", "data/test.csv"] {
        let last = downloads.iter().rfind(|p| p.file == name).unwrap();
        assert!(last.done && last.bytes == last.total && last.total > 0, "{last:?}");
    }
    // Into the HF cache layout, shared with Python.
    let repo_dir = cache.path().join("datasets--demo--bbc-news-csv");
    let commit = std::fs::read_to_string(repo_dir.join("refs/main")).unwrap();
    let snapshot = repo_dir.join("snapshots").join(&commit);
    assert_eq!(std::fs::read(snapshot.join("data/train.csv")).unwrap(), csv_bytes(&train));
    assert!(d.source_paths.iter().all(|p| p.starts_with(&snapshot)), "{:?}", d.source_paths);

    // A second load finds the files in the cache: nothing is downloaded again.
    let gets_before = server.log().iter().filter(|l| l.method == "GET" && l.path.contains("resolve")).count();
    load(&hub, "demo/bbc-news-csv", &mut Vec::new()).unwrap();
    let gets_after = server.log().iter().filter(|l| l.method == "GET" && l.path.contains("resolve")).count();
    assert_eq!(gets_before, gets_after);

    // The card came along: offline, the label names keep the card's order.
    assert_eq!(std::fs::read_to_string(snapshot.join("README.md")).unwrap(), readme());

    // Offline with the server gone: the same dataset from the cache.
    drop(server);
    let d = load(&offline(cache.path()), "demo/bbc-news-csv", &mut Vec::new()).unwrap();
    assert_eq!(d.splits.iter().map(|s| s.len()).collect::<Vec<_>>(), [TRAIN_ROWS, TEST_ROWS]);
    assert_eq!(d.label_names, NAMES);
    assert_eq!(counts(&d, SplitName::Train), expected_counts(&train));

    // The server gone and offline mode NOT on (the network is simply down): the cache stands in too.
    let unreachable = HubSettings { endpoint: Some("http://127.0.0.1:9".into()), cache_dir: cache.path().into(), offline: false };
    let d = load(&unreachable, "demo/bbc-news-csv", &mut Vec::new()).unwrap();
    assert_eq!(d.splits.iter().map(|s| s.len()).collect::<Vec<_>>(), [TRAIN_ROWS, TEST_ROWS]);
    assert_eq!(d.label_names, NAMES);
    // A dataset that was never downloaded: the error says why.
    let error = load(&unreachable, "demo/never-downloaded", &mut Vec::new()).unwrap_err();
    assert!(error.contains("demo/never-downloaded") && error.contains("could not be reached"), "{error}");
}

#[test]
fn the_parquet_conversion_is_used_when_the_repo_has_no_data_files() {
    let server = hub();
    let cache = tempfile::tempdir().unwrap();
    let hub = settings(&server, cache.path());
    let listing = list_hub_dataset(&hub, "demo/bbc-news-parquet").unwrap();
    assert_eq!((listing.source, listing.revision.as_str()), (HubDataSource::ConvertedParquet, "refs/convert/parquet"));
    let names: Vec<(&str, Option<SplitName>)> =
        listing.configs[0].splits.iter().map(|s| (s.name.as_str(), s.split)).collect();
    assert_eq!(names, [("train", Some(SplitName::Train)), ("test", Some(SplitName::Test)), ("unsupervised", None)]);

    let mut downloads = Vec::new();
    let d = load(&hub, "demo/bbc-news-parquet", &mut downloads).unwrap();
    let (train, test) = (bbc_rows("train.csv", TRAIN_ROWS), bbc_rows("test.csv", TEST_ROWS));
    assert_eq!(d.source_kind, SourceKind::Files(FileFormat::Parquet));
    assert_eq!(d.label_kind, Some(LabelKind::ClassLabel));
    assert_eq!(d.label_names, NAMES);
    assert_eq!(counts(&d, SplitName::Train), expected_counts(&train));
    assert_eq!(counts(&d, SplitName::Test), expected_counts(&test));
    assert_eq!(
        d.warnings,
        ["demo/bbc-news-parquet: the \"unsupervised\" split is not train, validation or test; it is left out"]
    );
    // Only the loaded splits are downloaded.
    let mut fetched: Vec<&str> = downloads.iter().filter(|p| p.done).map(|p| p.file.as_str()).collect();
    fetched.sort();
    assert_eq!(fetched, ["default/test/0000.parquet", "default/train/0000.parquet"]);
    // The revision travels as one encoded path segment, as the Hub wants it.
    let heads: Vec<String> = server.log().into_iter().filter(|l| l.method == "HEAD").map(|l| l.path).collect();
    assert!(
        heads.contains(
            &"/datasets/demo/bbc-news-parquet/resolve/refs%2Fconvert%2Fparquet/default/train/0000.parquet".to_string()
        ),
        "{heads:?}"
    );
    // Sent unencoded, `refs` alone would be the revision: the Hub (and the local one) answer 404.
    assert_eq!(
        raw_head(&server, "/datasets/demo/bbc-news-parquet/resolve/refs/convert/parquet/default/train/0000.parquet"),
        ("HTTP/1.1 404 Not Found".to_string(), Some("RevisionNotFound".to_string()))
    );
    // …and the cache keeps the ref as huggingface_hub does.
    let repo_dir = cache.path().join("datasets--demo--bbc-news-parquet");
    let commit = std::fs::read_to_string(repo_dir.join("refs/refs/convert/parquet")).unwrap();
    assert!(repo_dir.join("snapshots").join(commit).join("default/train/0000.parquet").is_file());

    // Offline: listed and loaded from the cache, ClassLabel names included.
    drop(server);
    let cached = list_hub_dataset(&offline(cache.path()), "demo/bbc-news-parquet").unwrap();
    assert_eq!(cached.source, HubDataSource::ConvertedParquet);
    assert!(cached.cached_snapshot.is_some());
    let d = load_hub_config(&offline(cache.path()), &cached, None, &as_is(), &mut |_| {}, &mut |_| {}, None).unwrap();
    assert_eq!(d.label_names, NAMES);
    assert_eq!(
        load(&offline(cache.path()), "demo/bbc-news-parquet:other", &mut Vec::new()).unwrap_err(),
        format!(
            "demo/bbc-news-parquet:other is not in the Hugging Face cache at {} and offline mode is on (HF_HUB_OFFLINE)",
            cache.path().display()
        )
    );
    assert_eq!(counts(&d, SplitName::Train), expected_counts(&train));
}

#[test]
fn configs_are_picked_by_name_or_else_the_first() {
    let server = hub();
    let cache = tempfile::tempdir().unwrap();
    let hub = settings(&server, cache.path());
    let d = load(&hub, "demo/multi", &mut Vec::new()).unwrap();
    assert_eq!(d.name, "demo/multi:sport");
    assert_eq!(
        d.splits.iter().map(|s| (s.name, s.len())).collect::<Vec<_>>(),
        [(SplitName::Train, 2), (SplitName::Validation, 1)]
    );
    assert_eq!(
        d.warnings,
        ["demo/multi has the configs sport, tech; loaded \"sport\" (name another as demo/multi:CONFIG)"]
    );
    let d = load(&hub, "demo/multi:tech", &mut Vec::new()).unwrap();
    assert_eq!((d.name.as_str(), d.source_kind), ("demo/multi:tech", SourceKind::Files(FileFormat::Jsonl)));
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    // Both configs share the snapshot of the commit.
    let snapshot = std::fs::read_dir(cache.path().join("datasets--demo--multi/snapshots"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(snapshot.join("tech/train-00000-of-00001.jsonl").is_file());
    assert!(snapshot.join("sport/dev.csv").is_file());
}

/// The status line and X-Error-Code of a HEAD request for a raw (already encoded) path.
fn raw_head(server: &HubServer, path: &str) -> (String, Option<String>) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(server.url.trim_start_matches("http://")).unwrap();
    write!(stream, "HEAD {path} HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let mut lines = response.lines();
    let status = lines.next().unwrap_or_default().to_string();
    let code = lines.find_map(|l| l.strip_prefix("X-Error-Code: ")).map(str::to_string);
    (status, code)
}

#[test]
fn errors_name_the_repo() {
    let server = hub();
    let cache = tempfile::tempdir().unwrap();
    let hub = settings(&server, cache.path());
    assert_eq!(
        load(&hub, "nobody/nothing", &mut Vec::new()).unwrap_err(),
        "Hugging Face Hub, nobody/nothing: no such dataset on the Hub (or it is private: set HF_TOKEN)"
    );
    assert_eq!(
        load(&hub, "demo/no-data", &mut Vec::new()).unwrap_err(),
        "demo/no-data: no data files (.parquet, .csv, .tsv, .jsonl, .json, .txt) and no auto-converted Parquet \
         (refs/convert/parquet); the repo holds: README.md, loader.py"
    );
    assert_eq!(
        load(&hub, "demo/bbc-news-parquet:plain_text", &mut Vec::new()).unwrap_err(),
        "demo/bbc-news-parquet: no config \"plain_text\"; available configs: default"
    );
    assert_eq!(
        load(&offline(cache.path()), "demo/bbc-news-csv", &mut Vec::new()).unwrap_err(),
        format!(
            "demo/bbc-news-csv is not in the Hugging Face cache at {} and offline mode is on (HF_HUB_OFFLINE)",
            cache.path().display()
        )
    );
    let bad = DatasetOptions { validation_fraction: 1.5, ..DatasetOptions::default() };
    let err = load_hub_dataset(&hub, "demo/bbc-news-csv", &bad, &mut |_| {}, &mut |_| {}, None).unwrap_err();
    assert_eq!(err.to_string(), "invalid option: the validation fraction must be at least 0 and below 1, not 1.5");
    // Nothing was downloaded for any of these.
    assert!(!cache.path().join("datasets--demo--bbc-news-csv").exists());
}

fn inspect(envs: &[(&str, &str)], args: &[&str]) -> (i32, Value, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lm-workbench"));
    command.args(["data", "inspect"]).args(args);
    for name in ["HF_ENDPOINT", "HF_HOME", "HF_HUB_CACHE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_TOKEN"] {
        command.env_remove(name);
    }
    command.envs(envs.iter().copied());
    let out = command.output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let json = if stdout.trim().is_empty() { Value::Null } else { serde_json::from_str(&stdout).unwrap() };
    (out.status.code().unwrap_or(-1), json, String::from_utf8(out.stderr).unwrap())
}

#[test]
fn inspect_a_hub_dataset_then_offline() {
    let server = hub();
    let home = tempfile::tempdir().unwrap();
    let home_dir = home.path().display().to_string();
    let online = [("HF_ENDPOINT", server.url.as_str()), ("HF_HOME", home_dir.as_str())];
    let args = ["--data", "demo/bbc-news-parquet", "--validation-fraction", "0", "--json"];
    let (code, json, stderr) = inspect(&online, &args);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["data"], "demo/bbc-news-parquet");
    assert_eq!(json["source"], json!({"files": "parquet"}));
    assert_eq!(json["label_kind"], "class_label");
    assert_eq!(json["labels"], json!(NAMES));
    let rows: Vec<(&str, u64)> = json["splits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["rows"].as_u64().unwrap()))
        .collect();
    assert_eq!(rows, [("train", TRAIN_ROWS as u64), ("test", TEST_ROWS as u64)]);
    let files = json["files"].as_array().unwrap();
    assert!(
        files[0].as_str().unwrap().starts_with(&format!("{home_dir}/hub/datasets--demo--bbc-news-parquet/snapshots/")),
        "{files:?}"
    );

    // The listing, as text and JSON.
    let out = Command::new(env!("CARGO_BIN_EXE_lm-workbench"))
        .args(["data", "hub", "demo/bbc-news-parquet"])
        .envs(online)
        .env_remove("HF_HUB_OFFLINE")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(
            "dataset  demo/bbc-news-parquet (the Hub's Parquet conversion, revision refs/convert/parquet)\n\nconfig default ("
        ),
        "{text}"
    );
    assert!(text.contains("  unsupervised      1 file "), "{text}");
    assert!(text.ends_with(" (not loaded: not train, validation or test)\n"), "{text}");

    // Offline, from the cache the first run filled; and a clear error for what is not cached.
    drop(server);
    let offline = [("HF_HUB_OFFLINE", "1"), ("HF_HOME", home_dir.as_str())];
    let (code, again, stderr) = inspect(&offline, &args);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(again["splits"], json["splits"]);
    let out = Command::new(env!("CARGO_BIN_EXE_lm-workbench"))
        .args(["data", "hub", "demo/bbc-news-parquet", "--json"])
        .envs(offline)
        .env_remove("HF_ENDPOINT")
        .output()
        .unwrap();
    let listing: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (listing["source"].as_str(), listing["revision"].as_str()),
        (Some("converted_parquet"), Some("refs/convert/parquet"))
    );
    let splits: Vec<&str> =
        listing["configs"][0]["splits"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    // Offline, only what was downloaded is there.
    assert_eq!(splits, ["train", "test"]);
    let (code, _, stderr) = inspect(&offline, &["--data", "demo/bbc-news-csv", "--json"]);
    assert_eq!(
        (code, stderr),
        (
            2,
            format!(
                "error: demo/bbc-news-csv is not in the Hugging Face cache at {home_dir}/hub and offline mode is on (HF_HUB_OFFLINE)\n"
            )
        )
    );
}
