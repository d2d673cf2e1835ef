//! Training a tokenizer on a dataset's text, deterministically: BERT's WordPiece, byte-level BPE (as
//! GPT-2 and RoBERTa) or a unigram language model (as SentencePiece, ALBERT and T5).
//!
//! Every kind normalises the text as BERT does (lower-casing and accent stripping optional) and keeps
//! BERT's special tokens and `[CLS] … [SEP]` framing, so any of them serves a BERT built from a config.
//! They differ in how text is cut into words and words into pieces:
//! - **WordPiece**: words split at whitespace and punctuation; each starts as its characters, those
//!   after the first marked `##`, and the most frequent adjacent pair is merged until the vocabulary is
//!   full or no pair is frequent enough (the tokenizers library's WordPiece trainer's algorithm; the
//!   merges are dropped, the vocabulary kept).
//! - **BPE**: GPT-2's byte-level split (a word carries the space before it as `Ġ`; all 256 bytes are in
//!   the alphabet, so no text is ever unknown); the same merging, the merges kept.
//! - **Unigram**: words carry the space before them as `▁`; the tokenizers library's unigram trainer
//!   starts from the frequent substrings and prunes them by EM on a unigram language model.
//!
//! Unlike the tokenizers library's trainers, every tie is broken the same way on every run (words in
//! sorted order, then the pair of smaller IDs; the unigram trainer runs on one thread and its result is
//! put in a canonical order), so the same text and settings give the same vocabulary, byte for byte.
//!
//! The result is saved in the Hugging Face layout (tokenizer.json, tokenizer_config.json,
//! special_tokens_map.json, and vocab.txt for WordPiece) that `AutoTokenizer.from_pretrained(dir)` loads.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::BPE;
use tokenizers::normalizers::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::metaspace::{Metaspace, PrependScheme};
use tokenizers::{
    NormalizedString, Normalizer, OffsetReferential, OffsetType, PreTokenizedString,
    PreTokenizer, PreTokenizerWrapper, Tokenizer,
};

use super::tokenizer::TextTokenizer;
use crate::core::{CoreError, CoreResult};

/// The subword algorithm a tokenizer is trained with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubwordModel {
    /// BERT's: `##` marks the pieces that continue a word.
    #[default]
    WordPiece,
    /// Byte-level BPE (GPT-2, RoBERTa): `Ġ` marks a piece that starts after a space; nothing is unknown.
    Bpe,
    /// A unigram language model (SentencePiece: ALBERT, T5, XLNet): `▁` marks a piece after a space.
    Unigram,
}

impl SubwordModel {
    pub const ALL: [Self; 3] = [Self::WordPiece, Self::Bpe, Self::Unigram];

    /// The name `--model-type` takes.
    pub fn name(self) -> &'static str {
        match self {
            Self::WordPiece => "wordpiece",
            Self::Bpe => "bpe",
            Self::Unigram => "unigram",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::WordPiece => "WordPiece (BERT)",
            Self::Bpe => "byte-level BPE (GPT-2, RoBERTa)",
            Self::Unigram => "Unigram (SentencePiece, ALBERT, T5)",
        }
    }

    /// How the algorithm learns, in a sentence for the UI.
    pub fn explain(self) -> &'static str {
        match self {
            Self::WordPiece => "Words split at spaces and punctuation start as their characters (pieces after the first marked ##); \
                 the most frequent neighbouring pieces are merged until the vocabulary is full.",
            Self::Bpe => "Text becomes bytes (a word keeps the space before it as Ġ, so no text is ever unknown); \
                 the most frequent neighbouring pieces are merged until the vocabulary is full.",
            Self::Unigram => "Words keep the space before them as ▁; starting from the most frequent substrings, EM on a \
                 unigram language model prunes the pieces that explain the text least until the vocabulary fits.",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name().eq_ignore_ascii_case(text.trim()))
    }

    /// Whether a minimum pair frequency applies (the merge-based algorithms).
    pub fn uses_min_frequency(self) -> bool {
        self != Self::Unigram
    }

    fn pre_tokenizer(self) -> PreTokenizerWrapper {
        match self {
            Self::WordPiece => BertPreTokenizer.into(),
            Self::Bpe => ByteLevel::new(true, true, true).into(),
            Self::Unigram => Metaspace::new('▁', PrependScheme::Always, true).into(),
        }
    }
}

/// The settings of a tokenizer training.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TokenizerTrainSettings {
    pub model: SubwordModel,
    /// The vocabulary size to reach (special tokens and single characters included).
    pub vocab_size: usize,
    /// A pair seen fewer times than this is never merged (WordPiece and BPE).
    pub min_frequency: u64,
    /// Lower-case the text (an uncased tokenizer, as bert-base-uncased).
    pub lowercase: bool,
    /// Strip accents; `None`: when lower-casing (BERT's default).
    pub strip_accents: Option<bool>,
    /// The special tokens, first in the vocabulary in this order.
    pub special_tokens: Vec<String>,
}

impl Default for TokenizerTrainSettings {
    fn default() -> Self {
        Self {
            model: SubwordModel::WordPiece,
            vocab_size: 30_000,
            min_frequency: 2,
            lowercase: true,
            strip_accents: None,
            special_tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].map(String::from).to_vec(),
        }
    }
}

impl TokenizerTrainSettings {
    fn validate(&self) -> CoreResult<()> {
        let bad = |m: String| Err(CoreError::Tokenize(m));
        for needed in ["[UNK]", "[CLS]", "[SEP]"] {
            if !self.special_tokens.iter().any(|t| t == needed) {
                return bad(format!("the special tokens must include {needed} (BERT's tokenizer uses it)"));
            }
        }
        let mut seen = HashSet::new();
        if let Some(dup) = self.special_tokens.iter().find(|t| !seen.insert(t.as_str())) {
            return bad(format!("the special token {dup} is listed twice"));
        }
        // Byte-level BPE starts from all 256 bytes.
        let floor = self.special_tokens.len() + if self.model == SubwordModel::Bpe { 256 } else { 0 };
        if self.vocab_size <= floor {
            let beside = if self.model == SubwordModel::Bpe { " and the 256 bytes" } else { "" };
            return bad(format!(
                "vocab_size {} leaves no room beside {} special tokens{beside}",
                self.vocab_size,
                self.special_tokens.len()
            ));
        }
        if self.vocab_size > 1_000_000 {
            return bad(format!("vocab_size {} is beyond any BERT vocabulary (at most 1,000,000)", self.vocab_size));
        }
        Ok(())
    }

    fn normalizer(&self) -> BertNormalizer {
        BertNormalizer::new(true, true, self.strip_accents, self.lowercase)
    }

    pub(super) fn special_id(&self, token: &str) -> u32 {
        self.special_tokens.iter().position(|t| t == token).expect("validated") as u32
    }
}

/// Progress: a stage and how far it is (0–1); returning `false` cancels the training.
pub type TrainProgress<'a> = &'a mut dyn FnMut(&str, f32) -> bool;

/// Words (after normalisation and the model's pre-tokenizer: `Ġthe` for byte-level BPE, `▁the` for
/// unigram) and how often each occurs, in sorted order.
pub fn count_words<'a>(
    texts: impl ExactSizeIterator<Item = &'a str>,
    settings: &TokenizerTrainSettings,
    progress: TrainProgress<'_>,
) -> CoreResult<BTreeMap<String, u64>> {
    let normalizer = settings.normalizer();
    let pre_tokenizer = settings.model.pre_tokenizer();
    let total = texts.len().max(1);
    let mut counts: HashMap<String, u64> = HashMap::new();
    for (i, text) in texts.enumerate() {
        if i % 2048 == 0 && !progress("counting words", i as f32 / total as f32) {
            return Err(CoreError::Cancelled);
        }
        for word in split_words(&normalizer, &pre_tokenizer, text)? {
            *counts.entry(word).or_default() += 1;
        }
    }
    Ok(counts.into_iter().collect())
}

fn split_words(normalizer: &BertNormalizer, pre_tokenizer: &PreTokenizerWrapper, text: &str) -> CoreResult<Vec<String>> {
    let err = |e: tokenizers::Error| CoreError::Tokenize(format!("splitting text into words: {e}"));
    let mut normalized = NormalizedString::from(text);
    normalizer.normalize(&mut normalized).map_err(err)?;
    let mut pre = PreTokenizedString::from(normalized);
    pre_tokenizer.pre_tokenize(&mut pre).map_err(err)?;
    Ok(pre.get_splits(OffsetReferential::Normalized, OffsetType::Byte).into_iter().map(|(s, _, _)| s.to_string()).collect())
}

/// Trains a WordPiece vocabulary on word counts; returns the vocab.txt lines (line number = ID).
pub fn train_vocab(words: &BTreeMap<String, u64>, settings: &TokenizerTrainSettings, progress: TrainProgress<'_>) -> CoreResult<Vec<String>> {
    settings.validate()?;
    Ok(learn_merges(words, settings, Some("##"), &BTreeSet::new(), progress)?.0)
}

/// BPE merges, in the order they were learnt: (left piece, right piece).
type Merges = Vec<(String, String)>;

/// The merge-based training shared by WordPiece and BPE: the vocabulary (special tokens, the alphabet
/// in code-point order, then each merge's token) and the merges in the order they were learnt.
/// `continuation` marks the pieces after a word's first (`##` for WordPiece); `alphabet` is added to
/// the characters seen (the 256 bytes for byte-level BPE).
fn learn_merges(
    words: &BTreeMap<String, u64>,
    settings: &TokenizerTrainSettings,
    continuation: Option<&str>,
    alphabet: &BTreeSet<char>,
    progress: TrainProgress<'_>,
) -> CoreResult<(Vec<String>, Merges)> {
    let mut vocab: Vec<String> = Vec::with_capacity(settings.vocab_size);
    let mut ids: HashMap<String, u32> = HashMap::with_capacity(settings.vocab_size);
    let mut intern = |token: String, vocab: &mut Vec<String>| -> u32 {
        *ids.entry(token).or_insert_with_key(|t| {
            vocab.push(t.clone());
            (vocab.len() - 1) as u32
        })
    };
    for token in &settings.special_tokens {
        intern(token.clone(), &mut vocab);
    }
    // Every character seen (and the given alphabet), in code-point order.
    let alphabet: BTreeSet<char> = words.keys().flat_map(|w| w.chars()).chain(alphabet.iter().copied()).collect();
    for c in alphabet {
        intern(c.to_string(), &mut vocab);
    }
    // Each word as its characters, those after the first marked as continuing, in the words' sorted order.
    let mut symbols: Vec<Vec<u32>> = Vec::with_capacity(words.len());
    let counts: Vec<i64> = words.values().map(|&c| c as i64).collect();
    for word in words.keys() {
        let pieces = word.chars().enumerate().map(|(i, c)| match continuation {
            Some(mark) if i > 0 => format!("{mark}{c}"),
            _ => c.to_string(),
        });
        symbols.push(pieces.map(|p| intern(p, &mut vocab)).collect());
    }
    let mut pair_counts: HashMap<(u32, u32), i64> = HashMap::new();
    let mut where_found: HashMap<(u32, u32), HashSet<usize>> = HashMap::new();
    for (w, word) in symbols.iter().enumerate() {
        for pair in word.windows(2) {
            *pair_counts.entry((pair[0], pair[1])).or_default() += counts[w];
            where_found.entry((pair[0], pair[1])).or_default().insert(w);
        }
    }
    // The most frequent pair first; among equals, the pair of smaller IDs. Entries whose count is out of
    // date are skipped when they come up (a fresh one was pushed when the count changed).
    let mut queue: BinaryHeap<(i64, Reverse<(u32, u32)>)> = pair_counts.iter().map(|(&p, &c)| (c, Reverse(p))).collect();
    let mut merges = Vec::new();
    let target = settings.vocab_size;
    while vocab.len() < target {
        let Some((count, Reverse(pair))) = queue.pop() else { break };
        if pair_counts.get(&pair).copied() != Some(count) {
            continue;
        }
        if count < 1 || (count as u64) < settings.min_frequency {
            break;
        }
        if vocab.len().is_multiple_of(64) && !progress("merging", vocab.len() as f32 / target as f32) {
            return Err(CoreError::Cancelled);
        }
        let left = vocab[pair.0 as usize].clone();
        let right = vocab[pair.1 as usize].clone();
        let tail = continuation.and_then(|mark| right.strip_prefix(mark)).unwrap_or(&right);
        let new_id = intern(format!("{left}{tail}"), &mut vocab);
        merges.push((left, right));
        let mut changed: HashSet<(u32, u32)> = HashSet::new();
        let mut positions: Vec<usize> = where_found.remove(&pair).map(|s| s.into_iter().collect()).unwrap_or_default();
        positions.sort_unstable();
        for w in positions {
            let old = &symbols[w];
            if !old.windows(2).any(|p| (p[0], p[1]) == pair) {
                continue;
            }
            let mut new = Vec::with_capacity(old.len());
            let mut i = 0;
            while i < old.len() {
                if i + 1 < old.len() && (old[i], old[i + 1]) == pair {
                    new.push(new_id);
                    i += 2;
                } else {
                    new.push(old[i]);
                    i += 1;
                }
            }
            for p in old.windows(2) {
                *pair_counts.entry((p[0], p[1])).or_default() -= counts[w];
                changed.insert((p[0], p[1]));
            }
            for p in new.windows(2) {
                *pair_counts.entry((p[0], p[1])).or_default() += counts[w];
                where_found.entry((p[0], p[1])).or_default().insert(w);
                changed.insert((p[0], p[1]));
            }
            symbols[w] = new;
        }
        for p in changed {
            let c = pair_counts[&p];
            if c > 0 {
                queue.push((c, Reverse(p)));
            }
        }
    }
    progress("merging", 1.0);
    Ok((vocab, merges))
}

/// A byte-level BPE tokenizer learnt from word counts (words as the byte-level pre-tokenizer gives them).
fn train_bpe(words: &BTreeMap<String, u64>, settings: &TokenizerTrainSettings, progress: TrainProgress<'_>) -> CoreResult<Tokenizer> {
    let bytes: BTreeSet<char> = ByteLevel::alphabet().into_iter().collect();
    let (vocab, merges) = learn_merges(words, settings, None, &bytes, progress)?;
    let vocab: ahash::AHashMap<String, u32> = vocab.into_iter().enumerate().map(|(i, t)| (t, i as u32)).collect();
    let model = BPE::builder()
        .vocab_and_merges(vocab, merges)
        .build()
        .map_err(|e| CoreError::Tokenize(format!("building the BPE model: {e}")))?;
    let mut tokenizer = Tokenizer::new(model);
    tokenizer.with_decoder(Some(ByteLevelDecoder::default()));
    Ok(tokenizer)
}

/// Gives a learnt model BERT's text pipeline ([`TextTokenizer::with_bert_text_pipeline`]) with the
/// normaliser the words were counted with, the model's pre-tokenizer and every special token of the
/// settings.
fn with_bert_pipeline(tokenizer: Tokenizer, settings: &TokenizerTrainSettings) -> CoreResult<TextTokenizer> {
    // Byte-level offsets would include the space each word carries: trimmed before the framing, as RoBERTa's.
    let before_framing = (settings.model == SubwordModel::Bpe)
        .then(|| tokenizers::processors::byte_level::ByteLevel::default().trim_offsets(true).into());
    let specials: Vec<&str> = settings.special_tokens.iter().map(String::as_str).collect();
    TextTokenizer::with_bert_text_pipeline(tokenizer, settings.normalizer(), settings.model.pre_tokenizer(), before_framing, &specials)
        .map_err(|e| CoreError::Tokenize(format!("building the trained tokenizer: {e}")))
}

/// A trained tokenizer: its vocabulary, the tokenizer built on it, and what it does to its own text.
#[derive(Debug)]
pub struct TrainedTokenizer {
    /// Token text by ID.
    pub vocab: Vec<String>,
    pub tokenizer: TextTokenizer,
    pub settings: TokenizerTrainSettings,
    pub report: CoverageReport,
}

/// How a vocabulary covers a text.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CoverageReport {
    pub words: u64,
    pub distinct_words: usize,
    /// Tokens per word (1.0: every word is one token).
    pub tokens_per_word: f64,
    /// Words that are one token, as a share of all words.
    pub whole_word_share: f64,
    /// Share of the tokens that are the unknown token.
    pub unk_rate: f64,
    /// The most frequent words that are split, with their pieces and counts.
    pub most_split: Vec<SplitWord>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SplitWord {
    /// The word as text (without the `Ġ` / `▁` the pre-tokenizer gave it).
    pub word: String,
    pub count: u64,
    pub pieces: Vec<String>,
}

/// Measures how `tokenizer`'s model splits the counted words (as its pre-tokenizer gave them).
pub fn coverage(tokenizer: &TextTokenizer, words: &BTreeMap<String, u64>, most_split: usize) -> CoreResult<CoverageReport> {
    let unk = tokenizer.unk_id();
    let (mut total, mut tokens, mut whole, mut unknown) = (0u64, 0u64, 0u64, 0u64);
    let mut split: Vec<SplitWord> = Vec::new();
    for (word, &count) in words {
        let pieces = tokenizer.model_pieces(word)?;
        total += count;
        tokens += count * pieces.len() as u64;
        unknown += count * pieces.iter().filter(|(_, id)| Some(*id) == unk).count() as u64;
        if pieces.len() == 1 {
            whole += count;
        } else {
            let text = tokenizer.decode_pieces(std::slice::from_ref(word)).trim().to_string();
            split.push(SplitWord { word: text, count, pieces: pieces.into_iter().map(|(t, _)| t).collect() });
        }
    }
    split.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.word.cmp(&b.word)));
    split.truncate(most_split);
    let share = |n: u64, d: u64| if d == 0 { 0.0 } else { n as f64 / d as f64 };
    Ok(CoverageReport {
        words: total,
        distinct_words: words.len(),
        tokens_per_word: share(tokens, total),
        whole_word_share: share(whole, total),
        unk_rate: share(unknown, tokens),
        most_split: split,
    })
}

/// Trains a tokenizer of `settings.model`'s kind on `texts`.
pub fn train_tokenizer<'a>(
    texts: impl ExactSizeIterator<Item = &'a str>,
    settings: &TokenizerTrainSettings,
    progress: TrainProgress<'_>,
) -> CoreResult<TrainedTokenizer> {
    settings.validate()?;
    let words = count_words(texts, settings, progress)?;
    if words.is_empty() {
        return Err(CoreError::Tokenize("the text has no words to learn a vocabulary from".into()));
    }
    let tokenizer = match settings.model {
        SubwordModel::WordPiece => {
            let vocab = train_vocab(&words, settings, progress)?;
            let specials: Vec<&str> = settings.special_tokens.iter().map(String::as_str).collect();
            TextTokenizer::bert_wordpiece(&vocab, settings.lowercase, settings.strip_accents, &specials)
                .map_err(|e| CoreError::Tokenize(format!("building the trained tokenizer: {e}")))?
        }
        SubwordModel::Bpe => with_bert_pipeline(train_bpe(&words, settings, progress)?, settings)?,
        SubwordModel::Unigram => with_bert_pipeline(super::unigram_train::train_unigram(&words, settings, progress)?, settings)?,
    };
    let report = coverage(&tokenizer, &words, 20)?;
    Ok(TrainedTokenizer { vocab: tokenizer.vocab().to_vec(), tokenizer, settings: settings.clone(), report })
}

/// Writes the Hugging Face layout of a trained tokenizer into `dir` (created if missing): vocab.txt for
/// WordPiece, then tokenizer.json, tokenizer_config.json and special_tokens_map.json as a model's
/// checkpoint writes them. Returns the files written.
pub fn save_trained(trained: &TrainedTokenizer, dir: &Path) -> CoreResult<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| CoreError::io(dir, e))?;
    let mut written = Vec::new();
    if trained.settings.model == SubwordModel::WordPiece {
        let vocab_path = dir.join("vocab.txt");
        let mut vocab_txt = trained.vocab.join("\n");
        vocab_txt.push('\n');
        crate::core::write_file_atomic(&vocab_path, vocab_txt.as_bytes()).map_err(|e| CoreError::io(&vocab_path, e))?;
        written.push(vocab_path);
    }
    let others = crate::core::model::save::save_tokenizer(&trained.tokenizer, None, crate::core::model::Family::Bert, 512, dir)
        .map_err(|e| CoreError::Model(e.to_string()))?;
    written.extend(others);
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never_cancel() -> impl FnMut(&str, f32) -> bool {
        |_, _| true
    }

    #[test]
    fn merges_the_most_frequent_pairs_first_and_marks_continuations() {
        let text = ["low lower lowest", "low low newer newest", "wider widest"];
        let settings = TokenizerTrainSettings { vocab_size: 40, min_frequency: 1, ..TokenizerTrainSettings::default() };
        let words = count_words(text.iter().copied(), &settings, &mut never_cancel()).unwrap();
        assert_eq!(words["low"], 3);
        let vocab = train_vocab(&words, &settings, &mut never_cancel()).unwrap();
        assert_eq!(&vocab[..5], ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]);
        // "l"+"##o" occurs in low ×3, lower, lowest: the first merge; "low" follows.
        assert!(vocab.contains(&"lo".to_string()) && vocab.contains(&"low".to_string()), "{vocab:?}");
        assert!(vocab.iter().any(|t| t.starts_with("##e")), "{vocab:?}");
        assert!(vocab.len() <= 40);
    }

    #[test]
    fn the_same_text_and_settings_give_the_same_vocabulary() {
        let text: Vec<String> = (0..300).map(|i| format!("sentence {i} about tokenizers, vocabularies and merges number {}", i * 7)).collect();
        let settings = TokenizerTrainSettings { vocab_size: 120, ..TokenizerTrainSettings::default() };
        let train = || train_tokenizer(text.iter().map(String::as_str), &settings, &mut never_cancel()).unwrap().vocab;
        let first = train();
        for _ in 0..3 {
            assert_eq!(train(), first);
        }
    }

    #[test]
    fn min_frequency_stops_the_merges_and_cancel_stops_the_training() {
        let settings = TokenizerTrainSettings { vocab_size: 1000, min_frequency: 3, ..TokenizerTrainSettings::default() };
        let trained = train_tokenizer(["aa aa ab"].into_iter(), &settings, &mut never_cancel()).unwrap();
        // The alphabet (a, b), the continuations (##a, ##b); "aa" (twice) is below 3: no merge at all.
        assert_eq!(trained.vocab[5..], ["a", "b", "##a", "##b"], "{:?}", trained.vocab);
        let cancelled = train_tokenizer(["aa aa ab"].into_iter(), &settings, &mut |_, _| false);
        assert!(matches!(cancelled, Err(CoreError::Cancelled)));
        let bad = TokenizerTrainSettings { special_tokens: vec!["[PAD]".into()], ..TokenizerTrainSettings::default() };
        assert!(train_tokenizer(["x"].into_iter(), &bad, &mut never_cancel()).unwrap_err().to_string().contains("[UNK]"));
    }

    #[test]
    fn byte_level_bpe_keeps_its_merges_and_never_meets_an_unknown_character() {
        let settings = TokenizerTrainSettings { model: SubwordModel::Bpe, vocab_size: 300, min_frequency: 1, ..TokenizerTrainSettings::default() };
        let text = ["the cat sat on the mat", "the hat"];
        let trained = train_tokenizer(text.iter().copied(), &settings, &mut never_cancel()).unwrap();
        assert_eq!(trained.tokenizer.kind(), super::super::tokenizer::TokenizerKind::Bpe);
        assert!(trained.vocab.contains(&"Ġthe".to_string()), "{:?}", &trained.vocab[261..]);
        let encoded = trained.tokenizer.encode(&super::super::tokenizer::EncodeRequest::text("The 🦀 sat")).unwrap();
        assert_eq!(encoded.tokens.first().map(String::as_str), Some("[CLS]"));
        assert!(!encoded.input_ids.contains(&1), "no [UNK]: {:?}", encoded.tokens);
        // Offsets without the space each word carries (trimmed as RoBERTa's are): "sat" is characters 6..9.
        let sat = encoded.tokens.iter().position(|t| t == "Ġsat").unwrap();
        assert_eq!(encoded.offsets[sat], (6, 9));
    }

    #[test]
    fn own_special_tokens_stay_whole_and_accents_can_stay_when_lower_casing() {
        let mut special_tokens = TokenizerTrainSettings::default().special_tokens;
        special_tokens.push("[NEWS]".into());
        for model in SubwordModel::ALL {
            let settings = TokenizerTrainSettings {
                model,
                vocab_size: 320,
                min_frequency: 1,
                strip_accents: Some(false),
                special_tokens: special_tokens.clone(),
                ..TokenizerTrainSettings::default()
            };
            let text = ["Café au lait at the café", "the news café"];
            let trained = train_tokenizer(text.iter().copied(), &settings, &mut never_cancel()).unwrap();
            assert_eq!(trained.vocab[5], "[NEWS]", "{model:?}");
            let encoded = trained.tokenizer.encode(&super::super::tokenizer::EncodeRequest::text("[NEWS] CAFÉ")).unwrap();
            assert_eq!(encoded.input_ids[1], 5, "{model:?}: {:?}", encoded.tokens);
            let word = trained.tokenizer.decode_pieces(&encoded.tokens[2..encoded.len() - 1]);
            assert_eq!(word.trim(), "café", "{model:?}: lower-cased, accents kept: {:?}", encoded.tokens);
        }
    }
}
