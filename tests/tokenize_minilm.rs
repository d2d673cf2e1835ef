//! The bert-base-uncased vocabulary (all-MiniLM-L6-v2's tokenizer) encodes exactly as transformers does,
//! through the core and through the CLI, from a folder and from an offline HF cache.

mod common;

use std::process::Command;

use common::{build_hf_cache, minilm, WELCOME, WELCOME_IDS};
use lm_workbench::core::hub::HubSettings;
use lm_workbench::core::model::source::resolve;
use lm_workbench::core::model_source::{load_model, ModelSpec};
use lm_workbench::core::text::tokenizer::{EncodeRequest, Padding, TextTokenizer};

fn load_minilm() -> TextTokenizer {
    let model = load_model(&ModelSpec::Local(minilm()), &HubSettings::from_env(), &mut |_, _| {}).unwrap();
    assert_eq!(model.config.as_ref().and_then(|c| c.num_hidden_layers), Some(6));
    model.tokenizer
}

#[test]
fn welcome_sentence_gives_transformers_ids() {
    let tok = load_minilm();
    assert_eq!(tok.vocab_size(), 30522);
    let enc = tok.encode(&EncodeRequest::text(WELCOME)).unwrap();
    assert_eq!(enc.input_ids, WELCOME_IDS);
    assert_eq!(enc.token_type_ids, vec![0; 19]);
    // tokenizer.json pads to 128, but transformers does not pad unless asked.
    assert_eq!(enc.attention_mask, vec![1; 19]);
    assert_eq!(&enc.tokens[4..8], ["[UNK]", "token", "##izer", "##s"]);
    // Offsets in characters, as the Python tokenizer reports them: the emoji is one character.
    assert_eq!(enc.offsets[0], (0, 0));
    assert_eq!(enc.offsets[1], (0, 7));
    assert_eq!(enc.offsets[4], (15, 16));
    assert_eq!(enc.offsets[5], (17, 22));
    assert_eq!(tok.unk_count(&enc), 1);
}

#[test]
fn vocab_txt_alone_builds_the_same_tokenizer() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(minilm().join("vocab.txt"), dir.path().join("vocab.txt")).unwrap();
    std::fs::copy(minilm().join("tokenizer_config.json"), dir.path().join("tokenizer_config.json")).unwrap();
    let model = load_model(&ModelSpec::Local(dir.path().into()), &HubSettings::from_env(), &mut |_, _| {}).unwrap();
    let enc = model.tokenizer.encode(&EncodeRequest::text(WELCOME)).unwrap();
    assert_eq!(enc.input_ids, WELCOME_IDS);
    assert_eq!(model.tokenizer.vocab_size(), 30522);
}

#[test]
fn pair_truncation_and_padding_follow_transformers() {
    let tok = load_minilm();
    let pair = EncodeRequest { text: "Hello world".into(), pair: Some("How are you?".into()), ..Default::default() };
    let enc = tok.encode(&pair).unwrap();
    // [CLS] hello world [SEP] how are you ? [SEP]
    assert_eq!(enc.input_ids, [101, 7592, 2088, 102, 2129, 2024, 2017, 1029, 102]);
    assert_eq!(enc.token_type_ids, [0, 0, 0, 0, 1, 1, 1, 1, 1]);
    assert_eq!(enc.sequence_ids[5], Some(1));

    let truncated = tok.encode(&EncodeRequest { max_length: Some(8), ..EncodeRequest::text(WELCOME) }).unwrap();
    assert_eq!(truncated.input_ids, [101, 6160, 2000, 1996, 100, 19204, 17629, 102]);

    let padded =
        tok.encode(&EncodeRequest { max_length: Some(24), padding: Padding::MaxLength, ..EncodeRequest::text(WELCOME) }).unwrap();
    assert_eq!(padded.len(), 24);
    assert_eq!(&padded.input_ids[19..], [0; 5]);
    assert_eq!(&padded.attention_mask[17..], [1, 1, 0, 0, 0, 0, 0]);
    assert_eq!(padded.special_tokens_mask[23], 1);
}

#[test]
fn vocabulary_search_by_text_and_id() {
    let tok = load_minilm();
    let hits = tok.search_vocab("6160", 5);
    assert_eq!(hits[0], (6160, "welcome"));
    let hits = tok.search_vocab("##izer", 50);
    assert!(hits.iter().any(|&(id, t)| id == 17629 && t == "##izer"), "{hits:?}");
    assert_eq!(tok.unk(), Some(("[UNK]", 100)));
}

fn cli() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lm-workbench"));
    cmd.env_remove("HF_HUB_CACHE").env_remove("HUGGINGFACE_HUB_CACHE").env_remove("HF_HUB_OFFLINE");
    cmd
}

fn json_ids(stdout: &[u8]) -> serde_json::Value {
    let text = String::from_utf8(stdout.to_vec()).unwrap();
    assert_eq!(text.lines().count(), 1, "one JSON object on one line: {text}");
    serde_json::from_str(&text).unwrap()
}

#[test]
fn cli_tokenize_json_from_folder() {
    let out = cli().args(["tokenize", "--model"]).arg(minilm()).args(["--text", WELCOME, "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json_ids(&out.stdout);
    let ids: Vec<u32> = serde_json::from_value(v["input_ids"].clone()).unwrap();
    assert_eq!(ids, WELCOME_IDS);
    assert_eq!(v["token_type_ids"], serde_json::json!(vec![0; 19]));
    assert_eq!(v["attention_mask"], serde_json::json!(vec![1; 19]));
    assert_eq!(v["tokens"][4], "[UNK]");
    assert_eq!(v["offsets"][1], serde_json::json!([0, 7]));
}

#[test]
fn cli_tokenize_pair_with_max_length_padding() {
    let out = cli()
        .args(["tokenize", "--model"])
        .arg(minilm())
        .args(["--text", "Hello world", "--pair", "How are you?", "--max-length", "12", "--padding", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json_ids(&out.stdout);
    assert_eq!(v["input_ids"], serde_json::json!([101, 7592, 2088, 102, 2129, 2024, 2017, 1029, 102, 0, 0, 0]));
    assert_eq!(v["token_type_ids"], serde_json::json!([0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0]));
    assert_eq!(v["attention_mask"], serde_json::json!([1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]));
}

const CACHED_FILES: [&str; 5] = ["config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"];

#[test]
fn hub_repo_id_resolves_from_offline_cache() {
    let home = tempfile::tempdir().unwrap();
    let cache = home.path().join("hub");
    let snapshot = build_hf_cache(&cache, "sentence-transformers/all-MiniLM-L6-v2", &minilm(), &CACHED_FILES);

    // In process, with explicit settings.
    let hub = HubSettings { endpoint: Some("http://127.0.0.1:9".into()), cache_dir: cache.clone(), offline: true };
    let spec = ModelSpec::parse("sentence-transformers/all-MiniLM-L6-v2").unwrap();
    let model = load_model(&spec, &hub, &mut |_, _| {}).unwrap();
    assert_eq!(model.files.as_ref().unwrap().dir, snapshot);
    assert_eq!(model.tokenizer.encode(&EncodeRequest::text(WELCOME)).unwrap().input_ids, WELCOME_IDS);

    // Through the CLI, with the environment Python's huggingface_hub reads.
    let out = cli()
        .env("HF_HOME", home.path())
        .env_remove("HF_HUB_CACHE")
        .env("HF_HUB_OFFLINE", "1")
        .env("HF_ENDPOINT", "http://127.0.0.1:9")
        .args(["tokenize", "--model", "sentence-transformers/all-MiniLM-L6-v2", "--text", WELCOME, "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json_ids(&out.stdout);
    let ids: Vec<u32> = serde_json::from_value(v["input_ids"].clone()).unwrap();
    assert_eq!(ids, WELCOME_IDS);
}

/// No network and HF_HUB_OFFLINE not set (a meetup's Wi-Fi is down): a cached repo still loads, as
/// Python's huggingface_hub falls back to the cache when the Hub cannot be reached.
#[test]
fn hub_repo_id_loads_from_cache_when_the_hub_is_unreachable() {
    let home = tempfile::tempdir().unwrap();
    let cache = home.path().join("hub");
    let snapshot = build_hf_cache(&cache, "sentence-transformers/all-MiniLM-L6-v2", &minilm(), &CACHED_FILES);
    let hub = HubSettings { endpoint: Some("http://127.0.0.1:9".into()), cache_dir: cache.clone(), offline: false };
    let spec = ModelSpec::parse("sentence-transformers/all-MiniLM-L6-v2").unwrap();
    let model = load_model(&spec, &hub, &mut |_, _| {}).unwrap();
    assert_eq!(model.files.as_ref().unwrap().dir, snapshot);
    assert_eq!(model.tokenizer.encode(&EncodeRequest::text(WELCOME)).unwrap().input_ids, WELCOME_IDS);

    // A repo that is not cached still says why it failed: the Hub could not be reached.
    let spec = ModelSpec::parse("someone/not-cached").unwrap();
    let error = load_model(&spec, &hub, &mut |_, _| {}).map(|_| ()).unwrap_err().to_string();
    assert!(error.contains("someone/not-cached") && error.contains("could not be reached"), "{error}");
}

/// The same for a model with its weights (what the trainer and Fill-Mask resolve): the optional files
/// that were never downloaded (model.safetensors.index.json) count as absent, the cached weights are used.
/// Without cached weights it is an error — never a "pretrained" model with random weights.
#[test]
fn model_weights_resolve_from_cache_when_the_hub_is_unreachable() {
    let home = tempfile::tempdir().unwrap();
    let cache = home.path().join("hub");
    let mut files = CACHED_FILES.to_vec();
    files.push("model.safetensors");
    let snapshot = build_hf_cache(&cache, "sentence-transformers/all-MiniLM-L6-v2", &minilm(), &files);
    build_hf_cache(&cache, "acme/config-only", &minilm(), &CACHED_FILES);
    let hub = HubSettings { endpoint: Some("http://127.0.0.1:9".into()), cache_dir: cache.clone(), offline: false };

    let spec = ModelSpec::parse("sentence-transformers/all-MiniLM-L6-v2").unwrap();
    let resolved = resolve(&spec, &hub, &mut |_| {}).unwrap();
    assert_eq!(resolved.dir, snapshot);
    assert_eq!(resolved.weights.unwrap().paths(), vec![snapshot.join("model.safetensors")]);

    let spec = ModelSpec::parse("acme/config-only").unwrap();
    let error = resolve(&spec, &hub, &mut |_| {}).map(|_| ()).unwrap_err().to_string();
    assert!(error.contains("acme/config-only") && error.contains("weights are not in the cache"), "{error}");
}

/// Runs the CLI expecting bad-input failure: exit code 2 and exactly one line on stderr.
fn cli_error(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = cli();
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "exit code for {args:?}");
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr:?}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn cli_errors_name_the_problem_and_path() {
    let err = cli_error(&["tokenize", "--model", "/no/such/model/dir", "--text", "hi", "--json"], &[]);
    assert_eq!(err.trim(), "error: model folder not found: /no/such/model/dir");

    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("config.json"), "{}").unwrap();
    let path = empty.path().to_str().unwrap();
    let err = cli_error(&["tokenize", "--model", path, "--text", "hi"], &[]);
    assert_eq!(err.trim(), format!("error: no tokenizer in {path}: expected tokenizer.json or vocab.txt"));

    let corrupt = tempfile::tempdir().unwrap();
    std::fs::write(corrupt.path().join("tokenizer.json"), "{\"model\": [1, 2").unwrap();
    let err = cli_error(&["tokenize", "--model", corrupt.path().to_str().unwrap(), "--text", "hi"], &[]);
    assert!(err.starts_with(&format!("error: cannot parse {}", corrupt.path().join("tokenizer.json").display())), "{err}");

    let corrupt_config = tempfile::tempdir().unwrap();
    std::fs::copy(minilm().join("tokenizer.json"), corrupt_config.path().join("tokenizer.json")).unwrap();
    std::fs::write(corrupt_config.path().join("config.json"), "not json").unwrap();
    let err = cli_error(&["tokenize", "--model", corrupt_config.path().to_str().unwrap(), "--text", "hi"], &[]);
    assert!(err.contains("cannot parse") && err.contains("config.json"), "{err}");

    let home = tempfile::tempdir().unwrap();
    let err = cli_error(
        &["tokenize", "--model", "nobody/no-such-model", "--text", "hi"],
        &[("HF_HOME", home.path().to_str().unwrap()), ("HF_HUB_OFFLINE", "1")],
    );
    assert!(err.starts_with("error: nobody/no-such-model is not in the Hugging Face cache at "), "{err}");
    assert!(err.contains(home.path().to_str().unwrap()), "{err}");
}
