//! Tokenizer training on real text (gutenberg-novels/valid.txt), WordPiece, byte-level BPE and unigram:
//! deterministic across runs and processes (each vocabulary equals the one recorded by
//! tests/reference/make_tokenizer_reference.py), the vocabulary the tokenizers library's trainer learns,
//! and a saved folder that transformers' AutoTokenizer loads and encodes exactly as we do.

mod common;

use lm_workbench::core::text::tokenizer::EncodeRequest;
use lm_workbench::core::text::tokenizer_train::{save_trained, train_tokenizer, SubwordModel, TokenizerTrainSettings};
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

/// Trains `kind` on gutenberg valid.txt as the reference script did and checks it against the reference.
fn check_kind(kind: SubwordModel, reference: &Value) {
    let name = kind.name();
    let reference = &reference["kinds"][name];
    let data = common::shared_data("gutenberg-novels/valid.txt");
    let config = TrainConfig { data: data.display().to_string(), validation_fraction: 0.0, ..TrainConfig::default() };
    let dataset = load_data(&config).unwrap();
    let texts = &dataset.splits[0].texts;
    let settings = TokenizerTrainSettings {
        model: kind,
        vocab_size: reference["vocab_size"].as_u64().unwrap() as usize,
        min_frequency: 2,
        ..TokenizerTrainSettings::default()
    };
    let mut stages = Vec::new();
    let trained = train_tokenizer(texts.iter().map(String::as_str), &settings, &mut |stage, fraction| {
        assert!((0.0..=1.0).contains(&fraction), "{stage} {fraction}");
        if stages.last().map(String::as_str) != Some(stage) {
            stages.push(stage.to_string());
        }
        true
    })
    .unwrap();
    let learning = if kind == SubwordModel::Unigram { "pruning pieces (EM)" } else { "merging" };
    assert_eq!(stages, ["counting words", learning], "{name}");
    // Deterministic: exactly the vocabulary another process learnt when the reference was made.
    assert_eq!(trained.vocab, strings(&reference["vocab"]), "{name}");
    // The tokenizers library's trainer learns the same tokens (WordPiece: ties in hash order; BPE: the
    // very same list; unigram: the same trainer, its float sums in another order).
    let hf = strings(&reference["hf_trainer_vocab"]);
    match kind {
        SubwordModel::Bpe => assert_eq!(trained.vocab, hf, "bpe: the HF trainer's vocabulary and merges order"),
        _ => {
            let ours: std::collections::HashSet<&String> = trained.vocab.iter().collect();
            let shared = hf.iter().filter(|t| ours.contains(t)).count();
            let needed = if kind == SubwordModel::Unigram { 95 } else { 99 };
            assert!(shared * 100 >= hf.len() * needed, "{name}: {shared} of {} tokens shared with the HF trainer", hf.len());
        }
    }
    // Coverage of its own text: nothing unknown (every character is in the alphabet), most words whole.
    let report = &trained.report;
    // (WordPiece has 4,000 tokens, the others 2,000; unigram's words keep their punctuation.)
    let (whole, per_word) = match kind {
        SubwordModel::WordPiece => (0.8, 1.3),
        SubwordModel::Bpe => (0.7, 1.45),
        SubwordModel::Unigram => (0.6, 1.7),
    };
    assert!(report.whole_word_share > whole && report.tokens_per_word < per_word, "{name}: {report:?}");
    assert_eq!(report.unk_rate, 0.0, "{name}");
    let continues = |p: &String| match kind {
        SubwordModel::WordPiece => p.starts_with("##"),
        SubwordModel::Bpe => !p.starts_with('Ġ'),
        SubwordModel::Unigram => !p.starts_with('▁'),
    };
    assert!(report.most_split.iter().all(|w| w.pieces.len() > 1 && w.pieces[1..].iter().all(continues)), "{name}: {:?}", report.most_split);
    assert!(report.most_split.iter().all(|w| !w.word.contains(['Ġ', '▁', ' '])), "{name}: words shown as text");

    // Saved in the Hugging Face layout, loaded back as any model folder is: encodes as AutoTokenizer does.
    let dir = tempfile::tempdir().unwrap();
    let files = save_trained(&trained, dir.path()).unwrap();
    assert_eq!(files.len(), if kind == SubwordModel::WordPiece { 4 } else { 3 }, "{name}: {files:?}");
    if kind == SubwordModel::WordPiece {
        let vocab_txt = std::fs::read_to_string(dir.path().join("vocab.txt")).unwrap();
        assert_eq!(vocab_txt.lines().collect::<Vec<_>>(), trained.vocab);
    }
    let loaded = load_tokenizer(&ModelFiles::in_dir(dir.path())).unwrap();
    for sentence in reference["sentences"].as_array().unwrap() {
        let text = sentence["text"].as_str().unwrap();
        let encoded = loaded.encode(&EncodeRequest::text(text)).unwrap();
        let ids: Vec<u64> = sentence["input_ids"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
        assert_eq!(encoded.input_ids.iter().map(|&i| u64::from(i)).collect::<Vec<_>>(), ids, "{name}: {text}");
        assert_eq!(encoded.tokens, strings(&sentence["tokens"]), "{name}: {text}");
    }
}

#[test]
fn trained_wordpiece_is_deterministic_matches_the_hf_trainer_and_loads_in_transformers() {
    check_kind(SubwordModel::WordPiece, &reference());
}

#[test]
fn trained_byte_level_bpe_is_the_hf_trainers_and_loads_in_transformers() {
    check_kind(SubwordModel::Bpe, &reference());
}

#[test]
fn trained_unigram_is_deterministic_and_loads_in_transformers() {
    check_kind(SubwordModel::Unigram, &reference());
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

    // The other kinds: a byte-level BPE folder transformers reads through tokenizer.json.
    let bpe_dir = out.path().join("bpe");
    let bpe = common::run_cli(&[
        "train-tokenizer", "--data", "builtin:headlines", "--model-type", "bpe", "--vocab-size", "600", "--out", bpe_dir.to_str().unwrap(), "--json",
    ]);
    assert!(bpe.status.success(), "{}", String::from_utf8_lossy(&bpe.stderr));
    let v = common::json_of(&bpe);
    assert_eq!((v["vocab_size"].as_u64(), v["settings"]["model"].as_str()), (Some(600), Some("bpe")), "{v}");
    let config: Value = serde_json::from_str(&std::fs::read_to_string(bpe_dir.join("tokenizer_config.json")).unwrap()).unwrap();
    assert_eq!(config["tokenizer_class"].as_str(), Some("PreTrainedTokenizerFast"));
    assert!(!bpe_dir.join("vocab.txt").exists());
    let unknown = common::run_cli(&["train-tokenizer", "--data", "builtin:headlines", "--model-type", "sentencepiece", "--out", dir.to_str().unwrap()]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("wordpiece, bpe or unigram"), "{}", String::from_utf8_lossy(&unknown.stderr));
    let no_room = common::run_cli(&["train-tokenizer", "--data", "builtin:headlines", "--model-type", "bpe", "--vocab-size", "200", "--out", dir.to_str().unwrap()]);
    assert_eq!(no_room.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_room.stderr).contains("256 bytes"), "{}", String::from_utf8_lossy(&no_room.stderr));
    let tiny = common::run_cli(&["train-tokenizer", "--data", "builtin:headlines", "--vocab-size", "3", "--out", dir.to_str().unwrap()]);
    assert_eq!(tiny.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&tiny.stderr).contains("vocab_size 3"), "{}", String::from_utf8_lossy(&tiny.stderr));
}
