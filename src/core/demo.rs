//! The built-in demo: a BERT-style WordPiece tokenizer trained at start-up on a small text shipped in
//! `assets/`, so every page works on first start with no network and nothing in the cache.

use tokenizers::models::wordpiece::{WordPiece, WordPieceTrainer};
use tokenizers::models::TrainerWrapper;
use tokenizers::normalizers::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::bert::BertProcessing;
use tokenizers::{decoders::wordpiece::WordPiece as WordPieceDecoder, AddedToken, Tokenizer};

use super::tokenizer::TextTokenizer;
use super::{CoreError, CoreResult};

/// The spec string that names the built-in demo.
pub const DEMO_SPEC: &str = "builtin:demo";

/// The demo corpus (written for this project).
pub const DEMO_CORPUS: &str = include_str!("../../assets/demo_corpus.txt");

const SPECIAL_TOKENS: [&str; 5] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/// Trains the demo WordPiece tokenizer (uncased, BERT conventions) on [`DEMO_CORPUS`].
/// Deterministic: the same corpus always gives the same vocabulary.
pub fn demo_tokenizer() -> CoreResult<TextTokenizer> {
    let err = |e: tokenizers::Error| CoreError::Tokenize(format!("training the demo tokenizer: {e}"));
    let mut tokenizer = Tokenizer::new(WordPiece::builder().unk_token("[UNK]".into()).build().map_err(err)?);
    tokenizer
        .with_normalizer(Some(BertNormalizer::new(true, true, None, true)))
        .with_pre_tokenizer(Some(BertPreTokenizer))
        .with_decoder(Some(WordPieceDecoder::default()));
    let mut trainer: TrainerWrapper = WordPieceTrainer::builder()
        .vocab_size(1000)
        .min_frequency(1)
        .show_progress(false)
        .special_tokens(SPECIAL_TOKENS.iter().map(|t| AddedToken::from(*t, true)).collect())
        .build()
        .into();
    tokenizer.train(&mut trainer, DEMO_CORPUS.lines()).map_err(err)?;
    let id = |t: &str| tokenizer.token_to_id(t).ok_or_else(|| CoreError::Tokenize(format!("demo vocabulary lacks {t}")));
    let (cls, sep) = (id("[CLS]")?, id("[SEP]")?);
    tokenizer.with_post_processor(Some(BertProcessing::new(("[SEP]".into(), sep), ("[CLS]".into(), cls))));
    Ok(TextTokenizer::new(tokenizer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::tokenizer::EncodeRequest;

    #[test]
    fn demo_tokenizer_encodes_like_bert() {
        let tok = demo_tokenizer().unwrap();
        assert!(tok.vocab_size() > 300, "vocab {}", tok.vocab_size());
        assert_eq!(tok.id_to_token(0), Some("[PAD]"));
        let enc = tok.encode(&EncodeRequest::text("The tokenizer splits words.")).unwrap();
        assert_eq!(enc.tokens.first().map(String::as_str), Some("[CLS]"));
        assert_eq!(enc.tokens.last().map(String::as_str), Some("[SEP]"));
        assert!(enc.tokens.contains(&"tokenizer".to_string()) || enc.tokens.iter().any(|t| t.starts_with("##")));
        assert_eq!(tok.unk_count(&enc), 0);
        // An emoji never seen in the corpus is unknown.
        let enc = tok.encode(&EncodeRequest::text("🦀")).unwrap();
        assert_eq!(tok.unk_count(&enc), 1);
    }

    #[test]
    fn demo_tokenizer_is_deterministic() {
        let a = demo_tokenizer().unwrap();
        let b = demo_tokenizer().unwrap();
        assert_eq!(a.vocab(), b.vocab());
    }
}
