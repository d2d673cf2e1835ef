//! A loaded tokenizer and the encoding it produces, with the defaults transformers applies:
//! no padding and no truncation unless asked, even when tokenizer.json carries such settings.

use std::path::Path;

use serde::{Deserialize, Serialize};
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::bert::BertProcessing;
use tokenizers::processors::sequence::Sequence;
use tokenizers::{
    decoders::wordpiece::WordPiece as WordPieceDecoder, EncodeInput, ModelWrapper, PaddingDirection, PaddingParams, PostProcessorWrapper, PreTokenizerWrapper,
    PaddingStrategy, Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy,
};

use crate::core::{CoreError, CoreResult};

/// The subword algorithm of a tokenizer's model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum TokenizerKind {
    WordPiece,
    Bpe,
    Unigram,
    WordLevel,
}

impl TokenizerKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::WordPiece => "WordPiece",
            Self::Bpe => "BPE",
            Self::Unigram => "Unigram",
            Self::WordLevel => "WordLevel",
        }
    }
}

/// How to pad, as transformers' `padding=` argument.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Padding {
    /// `padding=False` (the default): no padding.
    #[default]
    None,
    /// `padding=True` / `"longest"`: pad to the longest sequence of the batch.
    Longest,
    /// `padding="max_length"`: pad to `max_length`.
    MaxLength,
}

/// One call of the tokenizer, as `tokenizer(text, pair, max_length=…, truncation=…, padding=…)`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EncodeRequest {
    pub text: String,
    pub pair: Option<String>,
    /// With `Some`, sequences are truncated to this many tokens (longest-first for pairs).
    pub max_length: Option<usize>,
    pub padding: Padding,
}

impl EncodeRequest {
    pub fn text(text: impl Into<String>) -> Self {
        Self { text: text.into(), ..Self::default() }
    }
}

/// The encoding of one text (or pair), as transformers' fast tokenizer returns it.
/// Offsets are in characters (Unicode scalar values) of the sequence each token came from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EncodedText {
    pub input_ids: Vec<u32>,
    pub token_type_ids: Vec<u32>,
    pub attention_mask: Vec<u32>,
    pub tokens: Vec<String>,
    pub offsets: Vec<(usize, usize)>,
    /// 1 for special tokens ([CLS], [SEP], padding), 0 for text.
    pub special_tokens_mask: Vec<u32>,
    /// Which input each token came from: 0 = text, 1 = pair, `None` = special token.
    pub sequence_ids: Vec<Option<usize>>,
}

impl EncodedText {
    pub fn len(&self) -> usize {
        self.input_ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.input_ids.is_empty()
    }

    pub fn is_special(&self, index: usize) -> bool {
        self.special_tokens_mask.get(index).copied() == Some(1)
    }
}

/// One row encoded for training: input ids, token type ids, special-tokens mask (1 = special).
pub type EncodedIds = (Vec<u32>, Vec<u32>, Vec<u32>);

/// A tokenizer with the facts the UI shows about it.
pub struct TextTokenizer {
    inner: Tokenizer,
    kind: TokenizerKind,
    /// Token text by ID (added tokens included); gaps are empty strings.
    vocab: Vec<String>,
    unk: Option<(String, u32)>,
}

impl std::fmt::Debug for TextTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextTokenizer").field("kind", &self.kind).field("vocab_size", &self.vocab.len()).finish()
    }
}

impl TextTokenizer {
    /// Loads a `tokenizer.json`.
    pub fn from_tokenizer_json(path: &Path) -> CoreResult<Self> {
        let bytes = std::fs::read(path).map_err(|e| CoreError::io(path, e))?;
        let tokenizer = Tokenizer::from_bytes(&bytes).map_err(|e| CoreError::parse(path, e))?;
        Ok(Self::new(tokenizer))
    }

    /// Builds the BERT WordPiece tokenizer transformers' `BertTokenizerFast` builds from a `vocab.txt`.
    pub fn from_vocab_txt(path: &Path, lowercase: bool) -> CoreResult<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| CoreError::io(path, e))?;
        Self::from_vocab_text(&text, lowercase).map_err(|message| CoreError::parse(path, message))
    }

    /// As [`Self::from_vocab_txt`], from the text of a vocab.txt (one token per line, line number = ID).
    pub fn from_vocab_text(text: &str, lowercase: bool) -> Result<Self, String> {
        let lines: Vec<String> = text.lines().map(|line| line.trim_end_matches('\r').to_string()).collect();
        Self::from_vocab_lines(&lines, lowercase, None)
    }

    /// BERT's WordPiece tokenizer over a vocabulary (position = ID); `strip_accents` `None`: when
    /// lower-casing, as transformers' BertTokenizer. BERT's special tokens that the vocabulary has are
    /// never split.
    pub fn from_vocab_lines(lines: &[String], lowercase: bool, strip_accents: Option<bool>) -> Result<Self, String> {
        let specials: Vec<&str> =
            ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].into_iter().filter(|t| lines.iter().any(|l| l == t)).collect();
        Self::bert_wordpiece(lines, lowercase, strip_accents, &specials)
    }

    /// BERT's WordPiece tokenizer over a vocabulary (position = ID) with these special tokens.
    pub fn bert_wordpiece(lines: &[String], lowercase: bool, strip_accents: Option<bool>, specials: &[&str]) -> Result<Self, String> {
        let vocab: ahash::AHashMap<String, u32> = lines.iter().enumerate().map(|(i, line)| (line.clone(), i as u32)).collect();
        let model = WordPiece::builder().vocab(vocab).unk_token("[UNK]".to_string()).build().map_err(|e| e.to_string())?;
        let mut tokenizer = Tokenizer::new(model);
        tokenizer.with_decoder(Some(WordPieceDecoder::default()));
        Self::with_bert_text_pipeline(tokenizer, BertNormalizer::new(true, true, strip_accents, lowercase), BertPreTokenizer, None, specials)
    }

    /// BERT's text pipeline around a subword model (its decoder set): the normaliser, the model's
    /// pre-tokenizer, `[CLS] … [SEP]` framing (after `before_framing`, e.g. byte-level offset trimming)
    /// and `specials` as added special tokens (never split, never normalised). The vocabulary must hold
    /// [UNK], [CLS] and [SEP].
    pub fn with_bert_text_pipeline(
        mut tokenizer: Tokenizer,
        normalizer: BertNormalizer,
        pre_tokenizer: impl Into<PreTokenizerWrapper>,
        before_framing: Option<PostProcessorWrapper>,
        specials: &[&str],
    ) -> Result<Self, String> {
        let id_of = |token: &str| tokenizer.token_to_id(token).ok_or_else(|| format!("the vocabulary has no {token} token"));
        let (cls, sep) = (id_of("[CLS]")?, id_of("[SEP]")?);
        id_of("[UNK]")?;
        let framing: PostProcessorWrapper = BertProcessing::new(("[SEP]".into(), sep), ("[CLS]".into(), cls)).into();
        let processor = match before_framing {
            Some(first) => Sequence::new(vec![first, framing]).into(),
            None => framing,
        };
        tokenizer
            .with_normalizer(Some(normalizer))
            .map_err(|e| e.to_string())?
            .with_pre_tokenizer(Some(pre_tokenizer.into()))
            .with_post_processor(Some(processor));
        let special: Vec<_> = specials.iter().map(|t| tokenizers::AddedToken::from(t.to_string(), true)).collect();
        tokenizer.add_special_tokens(special).map_err(|e| e.to_string())?;
        Ok(Self::new(tokenizer))
    }

    /// Wraps a tokenizer, switching off the padding and truncation stored in it (transformers' defaults).
    pub fn new(mut inner: Tokenizer) -> Self {
        inner.with_padding(None);
        let _ = inner.with_truncation(None);
        let kind = match inner.get_model() {
            ModelWrapper::WordPiece(_) => TokenizerKind::WordPiece,
            ModelWrapper::BPE(_) => TokenizerKind::Bpe,
            ModelWrapper::Unigram(_) => TokenizerKind::Unigram,
            ModelWrapper::WordLevel(_) => TokenizerKind::WordLevel,
        };
        let unk_text = match inner.get_model() {
            ModelWrapper::WordPiece(m) => Some(m.unk_token.clone()),
            ModelWrapper::BPE(m) => m.unk_token.clone(),
            // Unigram keeps its unk_id private; its unknown token is conventionally <unk>.
            ModelWrapper::Unigram(_) => ["<unk>", "[UNK]", "<UNK>"].into_iter().find(|t| inner.token_to_id(t).is_some()).map(str::to_string),
            ModelWrapper::WordLevel(m) => Some(m.unk_token.clone()),
        };
        let unk = unk_text.and_then(|t| inner.token_to_id(&t).map(|id| (t, id)));
        let map = inner.get_vocab(true);
        let size = map.values().map(|&id| id as usize + 1).max().unwrap_or(0);
        let mut vocab = vec![String::new(); size];
        for (token, id) in map {
            vocab[id as usize] = token;
        }
        Self { inner, kind, vocab, unk }
    }

    pub fn kind(&self) -> TokenizerKind {
        self.kind
    }

    /// Vocabulary size including added tokens, as `len(tokenizer)` in transformers.
    pub fn vocab_size(&self) -> usize {
        self.vocab.len()
    }

    /// Token text by ID.
    pub fn vocab(&self) -> &[String] {
        &self.vocab
    }

    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    pub fn id_to_token(&self, id: u32) -> Option<&str> {
        self.vocab.get(id as usize).map(String::as_str).filter(|t| !t.is_empty())
    }

    /// The unknown token and its ID, where the model has one.
    pub fn unk(&self) -> Option<(&str, u32)> {
        self.unk.as_ref().map(|(t, id)| (t.as_str(), *id))
    }

    /// The ID of the unknown token, where the model has one.
    pub fn unk_id(&self) -> Option<u32> {
        self.unk.as_ref().map(|(_, id)| *id)
    }

    /// The tokens (and IDs) the model alone makes of one pre-tokenized word (`Ġthe` for byte-level BPE,
    /// `▁the` for unigram, `the` for WordPiece): no normalising, no splitting, no special tokens.
    pub fn model_pieces(&self, word: &str) -> CoreResult<Vec<(String, u32)>> {
        use tokenizers::Model;
        let tokens = self.inner.get_model().tokenize(word).map_err(|e| CoreError::Tokenize(e.to_string()))?;
        Ok(tokens.into_iter().map(|t| (t.value, t.id)).collect())
    }

    /// Tokens joined back into text by the tokenizer's decoder (`Ġ` and `▁` become spaces, `##` joins);
    /// without a decoder, the tokens joined by spaces.
    pub fn decode_pieces(&self, tokens: &[String]) -> String {
        use tokenizers::Decoder;
        match self.inner.get_decoder() {
            Some(decoder) => decoder.decode(tokens.to_vec()).unwrap_or_else(|_| tokens.join(" ")),
            None => tokens.join(" "),
        }
    }

    /// The padding token, if any: `[PAD]`, `<pad>` or `<|padding|>`.
    pub fn pad_token(&self) -> Option<(&'static str, u32)> {
        ["[PAD]", "<pad>", "<|padding|>"].into_iter().find_map(|t| self.token_to_id(t).map(|id| (t, id)))
    }

    /// The mask token, if any: `[MASK]` or `<mask>`.
    pub fn mask_token(&self) -> Option<(&'static str, u32)> {
        ["[MASK]", "<mask>"].into_iter().find_map(|t| self.token_to_id(t).map(|id| (t, id)))
    }

    pub fn inner(&self) -> &Tokenizer {
        &self.inner
    }

    /// A copy of the tokenizer that truncates to `max_length` (longest first, from the right), as
    /// transformers' `truncation=True`; `None`: as the tokenizer file says.
    fn truncating(&self, max_length: Option<usize>) -> CoreResult<Tokenizer> {
        let mut tokenizer = self.inner.clone();
        if let Some(max_length) = max_length {
            tokenizer
                .with_truncation(Some(TruncationParams {
                    max_length,
                    strategy: TruncationStrategy::LongestFirst,
                    stride: 0,
                    direction: TruncationDirection::Right,
                }))
                .map_err(|e| CoreError::Tokenize(e.to_string()))?;
        }
        Ok(tokenizer)
    }

    /// Encodes a text (or pair) with special tokens, as `tokenizer(text, pair, ...)` in transformers.
    pub fn encode(&self, request: &EncodeRequest) -> CoreResult<EncodedText> {
        let mut tokenizer = self.truncating(request.max_length)?;
        let padding_strategy = match (request.padding, request.max_length) {
            (Padding::None, _) | (Padding::Longest, _) => None,
            (Padding::MaxLength, Some(n)) => Some(PaddingStrategy::Fixed(n)),
            (Padding::MaxLength, None) => {
                return Err(CoreError::Tokenize("padding to max_length needs a max_length".into()));
            }
        };
        if let Some(strategy) = padding_strategy {
            let (pad_token, pad_id) = self.pad_token().ok_or_else(|| CoreError::Tokenize("the tokenizer has no padding token".into()))?;
            tokenizer.with_padding(Some(PaddingParams {
                strategy,
                direction: PaddingDirection::Right,
                pad_to_multiple_of: None,
                pad_id,
                pad_type_id: 0,
                pad_token: pad_token.to_string(),
            }));
        }
        let input: EncodeInput = match &request.pair {
            Some(pair) => (request.text.as_str(), pair.as_str()).into(),
            None => request.text.as_str().into(),
        };
        let encoding = tokenizer.encode_char_offsets(input, true).map_err(|e| CoreError::Tokenize(e.to_string()))?;
        // A unigram model names an unknown token by the text it covers; transformers (and the ID) say [UNK].
        let tokens = match &self.unk {
            Some((unk, unk_id)) => encoding
                .get_ids()
                .iter()
                .zip(encoding.get_tokens())
                .map(|(id, token)| if id == unk_id { unk.clone() } else { token.clone() })
                .collect(),
            None => encoding.get_tokens().to_vec(),
        };
        Ok(EncodedText {
            input_ids: encoding.get_ids().to_vec(),
            token_type_ids: encoding.get_type_ids().to_vec(),
            attention_mask: encoding.get_attention_mask().to_vec(),
            tokens,
            offsets: encoding.get_offsets().to_vec(),
            special_tokens_mask: encoding.get_special_tokens_mask().to_vec(),
            sequence_ids: encoding.get_sequence_ids(),
        })
    }

    /// Encodes many texts (or pairs) with special tokens, truncated to `max_length`, configuring the
    /// tokenizer once for the whole batch (not once per row as [`Self::encode`]): the ids, token types
    /// and special-token masks of each row, in order.
    pub fn encode_ids_batch(
        &self,
        texts: &[String],
        pairs: Option<&[String]>,
        max_length: usize,
    ) -> CoreResult<Vec<EncodedIds>> {
        let mut tokenizer = self.truncating(Some(max_length))?;
        tokenizer.with_padding(None);
        let inputs: Vec<EncodeInput> = match pairs {
            Some(pairs) => texts.iter().zip(pairs).map(|(a, b)| (a.as_str(), b.as_str()).into()).collect(),
            None => texts.iter().map(|t| t.as_str().into()).collect(),
        };
        let encodings = tokenizer.encode_batch_char_offsets(inputs, true).map_err(|e| CoreError::Tokenize(e.to_string()))?;
        Ok(encodings
            .into_iter()
            .map(|e| (e.get_ids().to_vec(), e.get_type_ids().to_vec(), e.get_special_tokens_mask().to_vec()))
            .collect())
    }

    /// The token IDs of many texts without special tokens and without truncation (for chunking a corpus).
    pub fn encode_plain_batch(&self, texts: &[String]) -> CoreResult<Vec<Vec<u32>>> {
        let mut tokenizer = self.inner.clone();
        tokenizer.with_truncation(None).map_err(|e| CoreError::Tokenize(e.to_string()))?;
        tokenizer.with_padding(None);
        let inputs: Vec<EncodeInput> = texts.iter().map(|t| t.as_str().into()).collect();
        let encodings = tokenizer.encode_batch(inputs, false).map_err(|e| CoreError::Tokenize(e.to_string()))?;
        Ok(encodings.into_iter().map(|e| e.get_ids().to_vec()).collect())
    }

    /// The special tokens the tokenizer puts before and after one text (`[CLS]` and `[SEP]` for BERT,
    /// `<s>` and `</s>` for RoBERTa).
    pub fn special_frame(&self) -> CoreResult<(Vec<u32>, Vec<u32>)> {
        let encoding = self.inner.encode("a", true).map_err(|e| CoreError::Tokenize(e.to_string()))?;
        let ids = encoding.get_ids();
        let sequence = encoding.get_sequence_ids();
        let first = sequence.iter().position(Option::is_some).unwrap_or(ids.len());
        let last = sequence.iter().rposition(Option::is_some).map_or(ids.len(), |i| i + 1);
        Ok((ids[..first].to_vec(), ids[last..].to_vec()))
    }

    /// Number of `[UNK]` tokens in an encoding.
    pub fn unk_count(&self, encoded: &EncodedText) -> usize {
        self.unk.as_ref().map_or(0, |(_, id)| encoded.input_ids.iter().filter(|&&x| x == *id).count())
    }

    /// Vocabulary entries matching a query: an exact ID, or tokens containing the text (case-insensitive).
    /// Returns at most `limit` `(id, token)` pairs in ID order.
    pub fn search_vocab(&self, query: &str, limit: usize) -> Vec<(u32, &str)> {
        let query = query.trim();
        if query.is_empty() {
            return self.vocab.iter().enumerate().take(limit).map(|(i, t)| (i as u32, t.as_str())).collect();
        }
        let mut hits = Vec::new();
        if let Ok(id) = query.parse::<u32>() {
            if let Some(token) = self.id_to_token(id) {
                hits.push((id, token));
            }
        }
        let needle = query.to_lowercase();
        for (i, token) in self.vocab.iter().enumerate() {
            if hits.len() >= limit {
                break;
            }
            if token.to_lowercase().contains(&needle) && hits.first().is_none_or(|&(id, _)| id != i as u32) {
                hits.push((i as u32, token.as_str()));
            }
        }
        hits
    }
}

