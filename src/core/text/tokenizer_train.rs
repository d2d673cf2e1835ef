//! Training a BERT-style WordPiece tokenizer on a dataset's text, deterministically.
//!
//! The algorithm is the one the tokenizers library's WordPiece trainer runs (BPE merges over words,
//! with `##` marking the pieces that continue a word, the vocabulary kept and the merges dropped):
//! the text is normalised and split into words as BERT does (lower-casing and accent stripping
//! optional), every word starts as its characters, and the most frequent adjacent pair is merged
//! until the vocabulary is full or no pair is frequent enough. Unlike that trainer, every tie is
//! broken the same way on every run (words in sorted order, then the pair of smaller IDs), so the
//! same text and settings give the same vocabulary, byte for byte.
//!
//! The result is saved in the Hugging Face layout (vocab.txt, tokenizer.json, tokenizer_config.json,
//! special_tokens_map.json) that `AutoTokenizer.from_pretrained(dir)` loads.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Serialize;
use tokenizers::normalizers::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::{NormalizedString, Normalizer, OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer};

use super::tokenizer::TextTokenizer;
use crate::core::{CoreError, CoreResult};

/// The settings of a tokenizer training.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WordPieceSettings {
    /// The vocabulary size to reach (special tokens and single characters included).
    pub vocab_size: usize,
    /// A pair seen fewer times than this is never merged.
    pub min_frequency: u64,
    /// Lower-case the text (an uncased tokenizer, as bert-base-uncased).
    pub lowercase: bool,
    /// Strip accents; `None`: when lower-casing (BERT's default).
    pub strip_accents: Option<bool>,
    /// The special tokens, first in the vocabulary in this order.
    pub special_tokens: Vec<String>,
}

impl Default for WordPieceSettings {
    fn default() -> Self {
        Self {
            vocab_size: 30_000,
            min_frequency: 2,
            lowercase: true,
            strip_accents: None,
            special_tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].map(String::from).to_vec(),
        }
    }
}

impl WordPieceSettings {
    fn validate(&self) -> CoreResult<()> {
        let bad = |m: String| Err(CoreError::Tokenize(m));
        for needed in ["[UNK]", "[CLS]", "[SEP]"] {
            if !self.special_tokens.iter().any(|t| t == needed) {
                return bad(format!("the special tokens must include {needed} (BERT's tokenizer uses it)"));
            }
        }
        if self.vocab_size <= self.special_tokens.len() {
            return bad(format!("vocab_size {} leaves no room beside {} special tokens", self.vocab_size, self.special_tokens.len()));
        }
        if self.vocab_size > 1_000_000 {
            return bad(format!("vocab_size {} is beyond any BERT vocabulary (at most 1,000,000)", self.vocab_size));
        }
        Ok(())
    }

    fn normalizer(&self) -> BertNormalizer {
        BertNormalizer::new(true, true, self.strip_accents, self.lowercase)
    }
}

/// Progress: a stage and how far it is (0–1); returning `false` cancels the training.
pub type TrainProgress<'a> = &'a mut dyn FnMut(&str, f32) -> bool;

/// Words (after normalisation and BERT's splitting) and how often each occurs, in sorted order.
pub fn count_words<'a>(
    texts: impl ExactSizeIterator<Item = &'a str>,
    settings: &WordPieceSettings,
    progress: TrainProgress<'_>,
) -> CoreResult<BTreeMap<String, u64>> {
    let normalizer = settings.normalizer();
    let total = texts.len().max(1);
    let mut counts: HashMap<String, u64> = HashMap::new();
    for (i, text) in texts.enumerate() {
        if i % 2048 == 0 && !progress("counting words", i as f32 / total as f32) {
            return Err(CoreError::Cancelled);
        }
        for word in split_words(&normalizer, text)? {
            *counts.entry(word).or_default() += 1;
        }
    }
    Ok(counts.into_iter().collect())
}

fn split_words(normalizer: &BertNormalizer, text: &str) -> CoreResult<Vec<String>> {
    let err = |e: tokenizers::Error| CoreError::Tokenize(format!("splitting text into words: {e}"));
    let mut normalized = NormalizedString::from(text);
    normalizer.normalize(&mut normalized).map_err(err)?;
    let mut pre = PreTokenizedString::from(normalized);
    BertPreTokenizer.pre_tokenize(&mut pre).map_err(err)?;
    Ok(pre.get_splits(OffsetReferential::Normalized, OffsetType::Byte).into_iter().map(|(s, _, _)| s.to_string()).collect())
}

/// Trains the vocabulary on word counts; returns the vocab.txt lines (line number = ID).
pub fn train_vocab(words: &BTreeMap<String, u64>, settings: &WordPieceSettings, progress: TrainProgress<'_>) -> CoreResult<Vec<String>> {
    settings.validate()?;
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
    // Every character seen, in code-point order.
    let alphabet: std::collections::BTreeSet<char> = words.keys().flat_map(|w| w.chars()).collect();
    for c in alphabet {
        intern(c.to_string(), &mut vocab);
    }
    // Each word as its characters, those after the first marked ##, in the words' sorted order.
    let mut symbols: Vec<Vec<u32>> = Vec::with_capacity(words.len());
    let counts: Vec<i64> = words.values().map(|&c| c as i64).collect();
    for word in words.keys() {
        let pieces = word.chars().enumerate().map(|(i, c)| if i == 0 { c.to_string() } else { format!("##{c}") });
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
    let target = settings.vocab_size;
    while vocab.len() < target {
        let Some((count, Reverse(pair))) = queue.pop() else { break };
        if pair_counts.get(&pair).copied() != Some(count) {
            continue;
        }
        if count < 1 || (count as u64) < settings.min_frequency {
            break;
        }
        if vocab.len() % 64 == 0 && !progress("merging", vocab.len() as f32 / target as f32) {
            return Err(CoreError::Cancelled);
        }
        let left = vocab[pair.0 as usize].clone();
        let right = vocab[pair.1 as usize].clone();
        let merged = format!("{left}{}", right.strip_prefix("##").unwrap_or(&right));
        let new_id = intern(merged, &mut vocab);
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
    Ok(vocab)
}

/// A trained tokenizer: its vocabulary, the tokenizer built on it, and what it does to its own text.
#[derive(Debug)]
pub struct TrainedTokenizer {
    pub vocab: Vec<String>,
    pub tokenizer: TextTokenizer,
    pub settings: WordPieceSettings,
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
    pub word: String,
    pub count: u64,
    pub pieces: Vec<String>,
}

/// Measures how `tokenizer` splits the counted words (no special tokens).
pub fn coverage(tokenizer: &TextTokenizer, words: &BTreeMap<String, u64>, most_split: usize) -> CoreResult<CoverageReport> {
    let unk = tokenizer.unk_id();
    let (mut total, mut tokens, mut whole, mut unknown) = (0u64, 0u64, 0u64, 0u64);
    let mut split: Vec<SplitWord> = Vec::new();
    for (word, &count) in words {
        let pieces = tokenizer.word_pieces(word)?;
        total += count;
        tokens += count * pieces.len() as u64;
        unknown += count * pieces.iter().filter(|(_, id)| Some(*id) == unk).count() as u64;
        if pieces.len() == 1 {
            whole += count;
        } else {
            split.push(SplitWord { word: word.clone(), count, pieces: pieces.into_iter().map(|(t, _)| t).collect() });
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

/// Trains a WordPiece tokenizer on `texts`.
pub fn train_wordpiece<'a>(
    texts: impl ExactSizeIterator<Item = &'a str>,
    settings: &WordPieceSettings,
    progress: TrainProgress<'_>,
) -> CoreResult<TrainedTokenizer> {
    settings.validate()?;
    let words = count_words(texts, settings, progress)?;
    if words.is_empty() {
        return Err(CoreError::Tokenize("the text has no words to learn a vocabulary from".into()));
    }
    let vocab = train_vocab(&words, settings, progress)?;
    let tokenizer = TextTokenizer::from_vocab_lines(&vocab, settings.lowercase, settings.strip_accents)
        .map_err(|e| CoreError::Tokenize(format!("building the trained tokenizer: {e}")))?;
    let report = coverage(&tokenizer, &words, 20)?;
    Ok(TrainedTokenizer { vocab, tokenizer, settings: settings.clone(), report })
}

/// Writes the Hugging Face layout of a trained tokenizer into `dir` (created if missing): vocab.txt,
/// then tokenizer.json, tokenizer_config.json and special_tokens_map.json as a model's checkpoint writes
/// them. Returns the files written.
pub fn save_trained(trained: &TrainedTokenizer, dir: &Path) -> CoreResult<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| CoreError::io(dir, e))?;
    let vocab_path = dir.join("vocab.txt");
    let mut vocab_txt = trained.vocab.join("\n");
    vocab_txt.push('\n');
    crate::core::write_file_atomic(&vocab_path, vocab_txt.as_bytes()).map_err(|e| CoreError::io(&vocab_path, e))?;
    let others = crate::core::model::save::save_tokenizer(&trained.tokenizer, None, crate::core::model::Family::Bert, 512, dir)
        .map_err(|e| CoreError::Model(e.to_string()))?;
    Ok(std::iter::once(vocab_path).chain(others).collect())
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
        let settings = WordPieceSettings { vocab_size: 40, min_frequency: 1, ..WordPieceSettings::default() };
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
        let settings = WordPieceSettings { vocab_size: 120, ..WordPieceSettings::default() };
        let train = || train_wordpiece(text.iter().map(String::as_str), &settings, &mut never_cancel()).unwrap().vocab;
        let first = train();
        for _ in 0..3 {
            assert_eq!(train(), first);
        }
    }

    #[test]
    fn min_frequency_stops_the_merges_and_cancel_stops_the_training() {
        let settings = WordPieceSettings { vocab_size: 1000, min_frequency: 3, ..WordPieceSettings::default() };
        let trained = train_wordpiece(["aa aa ab"].into_iter(), &settings, &mut never_cancel()).unwrap();
        // The alphabet (a, b), the continuations (##a, ##b); "aa" (twice) is below 3: no merge at all.
        assert_eq!(trained.vocab[5..], ["a", "b", "##a", "##b"], "{:?}", trained.vocab);
        let cancelled = train_wordpiece(["aa aa ab"].into_iter(), &settings, &mut |_, _| false);
        assert!(matches!(cancelled, Err(CoreError::Cancelled)));
        let bad = WordPieceSettings { special_tokens: vec!["[PAD]".into()], ..WordPieceSettings::default() };
        assert!(train_wordpiece(["x"].into_iter(), &bad, &mut never_cancel()).unwrap_err().to_string().contains("[UNK]"));
    }
}
