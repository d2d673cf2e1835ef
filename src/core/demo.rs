//! The built-in demo: a BERT-style (uncased) WordPiece tokenizer whose vocabulary was trained on a
//! small text written for this project (`assets/demo_corpus.txt`), so every page works on first start
//! with no network and nothing in the cache; a small encoder pre-trained on demo text
//! ([`demo_encoder_dir`]); and labelled demo headlines ([`DEMO_HEADLINES`]) for the demo kit.
//!
//! The tokenizers trainer breaks ties between equally frequent merges in hash order, so two trainings
//! can differ in a few rare tokens. The vocabulary is therefore trained once by
//! `cargo run --example train_demo_vocab` and shipped as `assets/demo_vocab.txt`: the demo is the same
//! on every start and every machine.

use std::path::{Path, PathBuf};

use tokenizers::models::wordpiece::{WordPiece, WordPieceTrainer};
use tokenizers::models::TrainerWrapper;
use tokenizers::normalizers::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::{AddedToken, Tokenizer};

use super::text::tokenizer::TextTokenizer;
use super::{CoreError, CoreResult};

/// The spec string that names the built-in demo (its tokenizer and the demo encoder).
pub const DEMO_SPEC: &str = "builtin:demo";

/// The demo corpus (written for this project).
pub const DEMO_CORPUS: &str = include_str!("../../assets/demo_corpus.txt");

/// The demo vocabulary, trained on [`DEMO_CORPUS`] by [`train_demo_vocab`].
pub const DEMO_VOCAB: &str = include_str!("../../assets/demo_vocab.txt");

/// The spec string that names the built-in demo dataset.
pub const DEMO_DATA_SPEC: &str = "builtin:headlines";

/// A labelled dataset written for this project: 2,100 short headlines in six categories (360 written
/// one by one, the rest composed from phrases written for each category by
/// `scripts/make_demo_headlines.py`).
pub const DEMO_HEADLINES: &str = include_str!("../../assets/demo_headlines.csv");

/// The folder (in the temp folder) where the built-in files are written for the loaders to read.
fn demo_dir() -> PathBuf {
    std::env::temp_dir().join("lm-workbench-demo")
}

/// Writes `bytes` to `path` unless it already holds exactly them (whole, never half a file).
fn write_if_changed(path: &Path, bytes: &[u8]) -> CoreResult<()> {
    if std::fs::read(path).ok().as_deref() == Some(bytes) {
        return Ok(());
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| CoreError::io(dir, e))?;
    super::write_file_atomic(path, bytes).map_err(|e| CoreError::io(path, e))
}

/// Writes the demo headlines to a file (in the temp folder) the dataset loader can read; returns its path.
pub fn demo_headlines_path() -> CoreResult<PathBuf> {
    let path = demo_dir().join("demo_headlines.csv");
    write_if_changed(&path, DEMO_HEADLINES.as_bytes())?;
    Ok(path)
}

/// The demo encoder: a small BERT masked LM (2 layers, hidden 64, the demo vocabulary) pre-trained by
/// this project's own masked-LM training on `assets/demo_pretrain.txt` (6,000 unlabelled headlines
/// written for the project, none of them in the labelled demo set). `scripts/make-demo-encoder.sh`
/// reproduces it. A Hugging Face BertForMaskedLM folder: transformers loads it as it is.
pub const DEMO_ENCODER_FILES: [(&str, &[u8]); 5] = [
    ("config.json", include_bytes!("../../assets/demo-encoder/config.json")),
    ("model.safetensors", include_bytes!("../../assets/demo-encoder/model.safetensors")),
    ("tokenizer.json", include_bytes!("../../assets/demo-encoder/tokenizer.json")),
    ("tokenizer_config.json", include_bytes!("../../assets/demo-encoder/tokenizer_config.json")),
    ("special_tokens_map.json", include_bytes!("../../assets/demo-encoder/special_tokens_map.json")),
];

/// Writes the demo encoder's files to a folder (in the temp folder) the model loaders read; returns it.
/// The folder is named by a fingerprint of the files, so a newer build never reads an older copy.
pub fn demo_encoder_dir() -> CoreResult<PathBuf> {
    let fingerprint = DEMO_ENCODER_FILES.iter().flat_map(|(_, bytes)| bytes.iter()).fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    });
    let dir = demo_dir().join(format!("encoder-{fingerprint:016x}"));
    for (name, bytes) in DEMO_ENCODER_FILES {
        write_if_changed(&dir.join(name), bytes)?;
    }
    Ok(dir)
}

/// Vocabulary size the demo is trained to.
pub const DEMO_VOCAB_SIZE: usize = 1000;

const SPECIAL_TOKENS: [&str; 5] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/// The demo tokenizer: BERT conventions ([CLS] … [SEP], uncased) over the shipped vocabulary.
pub fn demo_tokenizer() -> CoreResult<TextTokenizer> {
    TextTokenizer::from_vocab_text(DEMO_VOCAB, true).map_err(|e| CoreError::Tokenize(format!("demo vocabulary: {e}")))
}

/// Trains a WordPiece vocabulary on the demo corpus with the tokenizers trainer; returns the lines of
/// a vocab.txt (line number = ID, special tokens first).
pub fn train_demo_vocab() -> CoreResult<Vec<String>> {
    let err = |e: tokenizers::Error| CoreError::Tokenize(format!("training the demo tokenizer: {e}"));
    let mut tokenizer = Tokenizer::new(WordPiece::builder().unk_token("[UNK]".into()).build().map_err(err)?);
    tokenizer.with_normalizer(Some(BertNormalizer::new(true, true, None, true))).map_err(err)?;
    tokenizer.with_pre_tokenizer(Some(BertPreTokenizer));
    let mut trainer: TrainerWrapper = WordPieceTrainer::builder()
        .vocab_size(DEMO_VOCAB_SIZE)
        .min_frequency(1)
        .show_progress(false)
        .special_tokens(SPECIAL_TOKENS.iter().map(|t| AddedToken::from(*t, true)).collect())
        .build()
        .into();
    tokenizer.train(&mut trainer, DEMO_CORPUS.lines()).map_err(err)?;
    let mut vocab: Vec<(String, u32)> = tokenizer.get_vocab(true).into_iter().collect();
    vocab.sort_by_key(|(_, id)| *id);
    Ok(vocab.into_iter().map(|(token, _)| token).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::text::segment::words;
    use crate::core::text::tokenizer::EncodeRequest;

    #[test]
    fn demo_tokenizer_encodes_like_bert() {
        let tok = demo_tokenizer().unwrap();
        assert_eq!(tok.vocab_size(), DEMO_VOCAB.lines().count());
        assert_eq!(tok.id_to_token(0), Some("[PAD]"));
        let enc = tok.encode(&EncodeRequest::text("The tokenizer splits words.")).unwrap();
        assert_eq!(enc.tokens.first().map(String::as_str), Some("[CLS]"));
        assert_eq!(enc.tokens.last().map(String::as_str), Some("[SEP]"));
        assert!(enc.tokens.contains(&"tokenizer".to_string()), "{:?}", enc.tokens);
        assert_eq!(tok.unk_count(&enc), 0);
        // A word the corpus never had is split into pieces; an emoji it never had is unknown.
        let enc = tok.encode(&EncodeRequest::text("unbelievable")).unwrap();
        assert!(enc.tokens.iter().any(|t| t.starts_with("##")), "{:?}", enc.tokens);
        let enc = tok.encode(&EncodeRequest::text("🦀")).unwrap();
        assert_eq!(tok.unk_count(&enc), 1);
    }

    #[test]
    fn shipped_vocabulary_covers_its_corpus() {
        let tok = demo_tokenizer().unwrap();
        for line in DEMO_CORPUS.lines() {
            let enc = tok.encode(&EncodeRequest::text(line)).unwrap();
            assert_eq!(tok.unk_count(&enc), 0, "{line}");
        }
        // Frequent words of the corpus are whole tokens.
        for word in ["the", "token", "model", "training", "vocabulary", "attention"] {
            assert!(tok.token_to_id(word).is_some(), "{word}");
        }
    }

    #[test]
    fn retraining_gives_a_vocabulary_like_the_shipped_one() {
        let trained = train_demo_vocab().unwrap();
        let shipped_len = DEMO_VOCAB.lines().count();
        assert!(trained.len().abs_diff(shipped_len) * 20 < shipped_len, "{} vs {shipped_len}", trained.len());
        assert_eq!(&trained[..5], SPECIAL_TOKENS);
        // Every whole word of the corpus that the shipped vocabulary has, a retraining has too,
        // except for a few rare ties.
        let shipped: std::collections::HashSet<&str> = DEMO_VOCAB.lines().collect();
        let trained: std::collections::HashSet<&str> = trained.iter().map(String::as_str).collect();
        let corpus_words: std::collections::HashSet<String> =
            words(&DEMO_CORPUS.to_lowercase()).into_iter().map(|s| s.text).collect();
        let differing = corpus_words.iter().filter(|w| shipped.contains(w.as_str()) != trained.contains(w.as_str())).count();
        assert!(differing * 20 < corpus_words.len(), "{differing} of {} words differ", corpus_words.len());
    }
}
