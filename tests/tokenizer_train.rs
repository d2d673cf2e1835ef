//! Tokenizer training on real text (gutenberg-novels/valid.txt): deterministic across runs and
//! processes (the vocabulary equals the one recorded by tests/reference/make_tokenizer_reference.py),
//! the same vocabulary the tokenizers library's trainer learns, and a saved folder that transformers'
//! AutoTokenizer loads and encodes exactly as we do.

mod common;

use lm_workbench::core::text::tokenizer::EncodeRequest;
use lm_workbench::core::text::tokenizer_train::{save_trained, train_wordpiece, WordPieceSettings};
use lm_workbench::core::train::setup::load_data;
use lm_workbench::core::train::TrainConfig;
use lm_workbench::core::model_source::{load_tokenizer, ModelFiles};
use serde_json::Value;

fn reference() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/tokenizer_reference.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("tokenizer_reference.json")).expect("json")
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().expect("array").iter().map(|s| s.as_str().expect("string").to_string()).collect()
}

#[test]
fn trained_tokenizer_is_deterministic_matches_the_hf_trainer_and_loads_in_transformers() {
    let reference = reference();
    let data = common::shared_data("gutenberg-novels/valid.txt");
    let config = TrainConfig { data: data.display().to_string(), validation_fraction: 0.0, ..TrainConfig::default() };
    let dataset = load_data(&config).unwrap();
    let texts = &dataset.splits[0].texts;
    let settings = WordPieceSettings {
        vocab_size: reference["vocab_size"].as_u64().unwrap() as usize,
        min_frequency: reference["min_frequency"].as_u64().unwrap(),
        ..WordPieceSettings::default()
    };
    let mut stages = Vec::new();
    let trained = train_wordpiece(texts.iter().map(String::as_str), &settings, &mut |stage, fraction| {
        assert!((0.0..=1.0).contains(&fraction), "{stage} {fraction}");
        if stages.last().map(String::as_str) != Some(stage) {
            stages.push(stage.to_string());
        }
        true
    })
    .unwrap();
    assert_eq!(stages, ["counting words", "merging"]);
    // Deterministic: exactly the vocabulary another process learnt when the reference was made.
    assert_eq!(trained.vocab, strings(&reference["vocab"]));
    // The tokenizers library's trainer learns the same set of tokens (it orders ties by hash).
    let ours: std::collections::HashSet<&String> = trained.vocab.iter().collect();
    let hf = strings(&reference["hf_trainer_vocab"]);
    let shared = hf.iter().filter(|t| ours.contains(t)).count();
    assert!(shared * 100 >= hf.len() * 99, "{shared} of {} tokens shared with the HF trainer", hf.len());
    // Coverage of its own text.
    let report = &trained.report;
    assert!(report.whole_word_share > 0.8 && report.tokens_per_word < 1.3, "{report:?}");
    assert_eq!(report.unk_rate, 0.0);
    assert!(report.most_split.iter().all(|w| w.pieces.len() > 1 && w.pieces[1..].iter().all(|p| p.starts_with("##"))));

    // Saved in the Hugging Face layout, loaded back as any model folder is: encodes as AutoTokenizer does.
    let dir = tempfile::tempdir().unwrap();
    let files = save_trained(&trained, dir.path()).unwrap();
    assert_eq!(files.len(), 4);
    let vocab_txt = std::fs::read_to_string(dir.path().join("vocab.txt")).unwrap();
    assert_eq!(vocab_txt.lines().collect::<Vec<_>>(), trained.vocab);
    let loaded = load_tokenizer(&ModelFiles::in_dir(dir.path())).unwrap();
    for sentence in reference["sentences"].as_array().unwrap() {
        let text = sentence["text"].as_str().unwrap();
        let encoded = loaded.encode(&EncodeRequest::text(text)).unwrap();
        let ids: Vec<u64> = sentence["input_ids"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
        assert_eq!(encoded.input_ids.iter().map(|&i| u64::from(i)).collect::<Vec<_>>(), ids, "{text}");
        assert_eq!(encoded.tokens, strings(&sentence["tokens"]), "{text}");
    }
}

/// The CLI writes the same folder, and refuses what it cannot do with a clear message.
#[test]
fn train_tokenizer_cli() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("tok");
    let result = common::run_cli(&[
        "train-tokenizer", "--data", "builtin:headlines", "--vocab-size", "1500", "--out", dir.to_str().unwrap(), "--json",
    ]);
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    let v = common::json_of(&result);
    assert_eq!(v["vocab_size"], 1500);
    assert_eq!(v["files"].as_array().unwrap().len(), 4);
    assert!(v["coverage"]["whole_word_share"].as_f64().unwrap() > 0.5, "{v}");
    let config: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("tokenizer_config.json")).unwrap()).unwrap();
    assert_eq!((config["do_lower_case"].as_bool(), config["tokenizer_class"].as_str()), (Some(true), Some("BertTokenizer")));

    let bpe = common::run_cli(&["train-tokenizer", "--data", "builtin:headlines", "--model-type", "bpe", "--out", dir.to_str().unwrap()]);
    assert_eq!(bpe.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bpe.stderr).contains("only wordpiece"), "{}", String::from_utf8_lossy(&bpe.stderr));
    let tiny = common::run_cli(&["train-tokenizer", "--data", "builtin:headlines", "--vocab-size", "3", "--out", dir.to_str().unwrap()]);
    assert_eq!(tiny.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&tiny.stderr).contains("vocab_size 3"), "{}", String::from_utf8_lossy(&tiny.stderr));
}
