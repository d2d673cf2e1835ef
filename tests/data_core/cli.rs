//! `lm-workbench data inspect` on bbc-news, with and without a tokenizer.

use std::path::Path;
use std::process::Command;

use lm_workbench::core::data::{token_length_stats, SplitName};
use lm_workbench::core::text::tokenizer::TextTokenizer;
use serde_json::Value;

use crate::{as_is, load, shared_data};

fn inspect(args: &[&str]) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lm-workbench")).arg("data").arg("inspect").args(args).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let json = if stdout.trim().is_empty() { Value::Null } else { serde_json::from_str(&stdout).unwrap() };
    (out.status.code().unwrap_or(-1), json, stderr)
}

fn fixture(name: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name);
    assert!(dir.is_dir(), "{} is missing: run scripts/fetch-fixtures.sh", dir.display());
    dir.display().to_string()
}

#[test]
fn inspect_bbc_news_as_json() {
    let data = shared_data("bbc-news").display().to_string();
    let (code, json, stderr) = inspect(&["--data", &data, "--validation-fraction", "0", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["data"], data.as_str());
    assert_eq!(json["source"], serde_json::json!({"files": "csv"}));
    assert_eq!(json["columns"], serde_json::json!(["text", "label"]));
    assert_eq!(json["mapping"], serde_json::json!({"text": "text", "pair": null, "label": "label"}));
    assert_eq!(json["label_kind"], "strings");
    assert_eq!(json["labels"], serde_json::json!(["business", "entertainment", "politics", "sport", "tech"]));
    assert_eq!(json["tokenizer"], Value::Null);
    assert_eq!(json["warnings"], serde_json::json!([]));
    let splits = json["splits"].as_array().unwrap();
    assert_eq!(splits.len(), 2);
    assert_eq!(
        (&splits[0]["name"], &splits[0]["rows"], &splits[0]["origin"]),
        (&Value::from("train"), &Value::from(2004), &Value::from("files"))
    );
    // Key order is label order.
    let train_counts: Vec<(String, u64)> =
        splits[0]["label_counts"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap())).collect();
    let raw = serde_json::to_string(&splits[0]["label_counts"]).unwrap();
    assert_eq!(raw, r#"{"business":460,"entertainment":348,"politics":375,"sport":459,"tech":362}"#);
    assert_eq!(train_counts.len(), 5);
    assert_eq!((&splits[1]["name"], &splits[1]["rows"]), (&Value::from("test"), &Value::from(221)));
    assert_eq!(
        splits[1]["label_counts"],
        serde_json::json!({"business": 50, "entertainment": 38, "politics": 42, "sport": 52, "tech": 39})
    );
    assert_eq!(splits[1]["token_lengths"], Value::Null);

    // The default holds out 10 % of train as validation.
    let (code, json, _) = inspect(&["--data", &data, "--json"]);
    assert_eq!(code, 0);
    let names: Vec<&str> = json["splits"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["train", "validation", "test"]);
    assert_eq!(json["splits"][0]["rows"].as_u64().unwrap() + json["splits"][1]["rows"].as_u64().unwrap(), 2004);
    assert_eq!(
        json["splits"][1]["origin"],
        serde_json::json!({"held_out": {"from": "train", "fraction": 0.1, "seed": 42}})
    );
}

#[test]
fn inspect_bbc_news_with_a_tokenizer() {
    let data = shared_data("bbc-news").display().to_string();
    let model = fixture("all-minilm-l6-v2");
    let (code, json, stderr) = inspect(&[
        "--data",
        &data,
        "--tokenizer",
        &model,
        "--max-length",
        "256",
        "--validation-fraction",
        "0",
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["tokenizer"], "all-minilm-l6-v2");
    let tokenizer = TextTokenizer::from_tokenizer_json(&Path::new(&model).join("tokenizer.json")).unwrap();
    let dataset = load(&shared_data("bbc-news"), &as_is()).unwrap();
    for (i, split) in [SplitName::Train, SplitName::Test].into_iter().enumerate() {
        let stats = &json["splits"][i]["token_lengths"];
        let rows = json["splits"][i]["rows"].as_u64().unwrap();
        assert_eq!(stats["count"].as_u64(), Some(rows));
        assert_eq!(stats["max_length"], 256);
        let (median, p95, max) =
            (stats["median"].as_f64().unwrap(), stats["p95"].as_u64().unwrap(), stats["max"].as_u64().unwrap());
        assert!(median >= 200.0 && (median as u64) <= p95 && p95 <= max, "{stats}");
        let share = stats["over_max_share"].as_f64().unwrap();
        assert!(share > 0.5 && share < 1.0, "{stats}");
        let binned: u64 = stats["histogram"].as_array().unwrap().iter().map(|b| b["count"].as_u64().unwrap()).sum();
        assert_eq!(binned, rows);
        // The same numbers as the library computes directly.
        let direct = token_length_stats(&tokenizer, dataset.split(split).unwrap(), 256).unwrap();
        assert_eq!(stats, &serde_json::to_value(&direct).unwrap());
    }
}

#[test]
fn inspect_errors_are_one_line_with_exit_code_2() {
    let (code, json, stderr) = inspect(&["--data", "/no/such/data.csv", "--json"]);
    assert_eq!((code, json, stderr.as_str()), (2, Value::Null, "error: /no/such/data.csv: no such file or folder\n"));
    // A Hub id, offline so that no test reaches the real Hub (more in tests/hub_data.rs).
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lm-workbench"))
        .args(["data", "inspect", "--data", "someone/some-dataset", "--json"])
        .env("HF_HUB_OFFLINE", "1")
        .env("HF_HOME", home.path())
        .env_remove("HF_HUB_CACHE")
        .output()
        .unwrap();
    assert_eq!(
        (out.status.code(), String::from_utf8(out.stderr).unwrap()),
        (
            Some(2),
            format!(
                "error: someone/some-dataset is not in the Hugging Face cache at {} and offline mode is on (HF_HUB_OFFLINE)\n",
                home.path().join("hub").display()
            )
        )
    );
    let data = shared_data("bbc-news").display().to_string();
    let (code, _, stderr) = inspect(&["--data", &data, "--label-column", "topic", "--json"]);
    assert_eq!(
        (code, stderr),
        (2, format!("error: {data}/train.csv: no column \"topic\"; available columns: text, label\n"))
    );
}

#[test]
fn inspect_prints_a_readable_summary_without_json() {
    let data = shared_data("sst2").display().to_string();
    let out =
        Command::new(env!("CARGO_BIN_EXE_lm-workbench")).args(["data", "inspect", "--data", &data]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let expected_lines = [
        format!("dataset  {data}"),
        "columns  text, label".to_string(),
        "using    text=text label=label".to_string(),
        "train (6920 rows)".to_string(),
        "validation (872 rows)".to_string(),
        "test (1821 rows)".to_string(),
    ];
    for line in expected_lines {
        assert!(text.lines().any(|l| l == line), "no line {line:?} in:\n{text}");
    }
    assert!(text.lines().any(|l| l.split_whitespace().eq(["negative", "912"])), "{text}");
}
