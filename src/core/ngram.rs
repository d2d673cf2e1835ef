//! The count-based language model of the talk's history part: P(w | context) = count(context w) /
//! count(context), from a dataset's text.
//!
//! A word is a maximal run of Unicode alphanumeric characters and apostrophes (' and ’), lower-cased.
//! Rows are kept apart: no n-gram crosses from one row into the next. count(context) counts the context
//! as an n-gram anywhere, also where it ends a row (so the probabilities of the words seen after a
//! context can sum to less than 1, exactly as the formula says). Counts are found by scanning the
//! corpus (a few milliseconds for a million words), so any context of any order costs no memory.

use std::collections::HashMap;

use serde::Serialize;

/// The largest n the model answers for.
pub const MAX_N: usize = 4;

/// The words of a text.
pub fn ngram_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() || c == '\'' || c == '’' {
            current.extend(c.to_lowercase());
        } else if !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// One candidate next word.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NextWord {
    pub word: String,
    /// count(context w).
    pub count: u64,
    /// P(w | context), with add-k smoothing where asked.
    pub p: f64,
}

/// The answer for one context.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NextWords {
    pub n: usize,
    /// The last n − 1 words of the typed context (fewer when it is shorter).
    pub context: Vec<String>,
    pub context_count: u64,
    pub add_k: f64,
    /// The most frequent next words, most frequent first (ties alphabetical).
    pub next: Vec<NextWord>,
    /// How many different words follow the context.
    pub distinct_next: usize,
}

/// Word counts of a corpus, row by row.
pub struct NgramModel {
    words: Vec<String>,
    index: HashMap<String, u32>,
    rows: Vec<Vec<u32>>,
    total: u64,
}

impl std::fmt::Debug for NgramModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NgramModel").field("rows", &self.rows.len()).field("words", &self.total).finish()
    }
}

impl NgramModel {
    pub fn new<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut model = Self { words: Vec::new(), index: HashMap::new(), rows: Vec::new(), total: 0 };
        for text in texts {
            let row: Vec<u32> = ngram_words(text).into_iter().map(|w| model.intern(w)).collect();
            model.total += row.len() as u64;
            if !row.is_empty() {
                model.rows.push(row);
            }
        }
        model
    }

    fn intern(&mut self, word: String) -> u32 {
        if let Some(&id) = self.index.get(&word) {
            return id;
        }
        let id = self.words.len() as u32;
        self.index.insert(word.clone(), id);
        self.words.push(word);
        id
    }

    /// Number of different words.
    pub fn vocabulary(&self) -> usize {
        self.words.len()
    }

    /// Number of words in the corpus.
    pub fn total_words(&self) -> u64 {
        self.total
    }

    /// Rows that hold at least one word.
    pub fn rows(&self) -> usize {
        self.rows.len()
    }

    /// How often a sequence of words occurs (the empty sequence: the number of words).
    pub fn count(&self, words: &[String]) -> u64 {
        match self.ids(words) {
            Some(ids) => self.scan(&ids, |_| {}),
            None => 0,
        }
    }

    fn ids(&self, words: &[String]) -> Option<Vec<u32>> {
        words.iter().map(|w| self.index.get(&w.to_lowercase()).copied()).collect()
    }

    /// Counts the occurrences of `context` and calls `next` with the word after each one that has one.
    fn scan(&self, context: &[u32], mut next: impl FnMut(u32)) -> u64 {
        let m = context.len();
        let mut count = 0;
        for row in &self.rows {
            if row.len() < m {
                continue;
            }
            // The empty context stands before each word (a unigram model's count(context) is the number
            // of words); a longer one at each place it fits.
            let places = if m == 0 { row.len() } else { row.len() - m + 1 };
            for i in 0..places {
                if row[i..i + m] == *context {
                    count += 1;
                    if let Some(&w) = row.get(i + m) {
                        next(w);
                    }
                }
            }
        }
        count
    }

    /// The words of `context` an `n`-gram model conditions on: its last n − 1 words.
    pub fn context_for(n: usize, context: &str) -> Vec<String> {
        let words = ngram_words(context);
        let keep = n.saturating_sub(1).min(words.len());
        words[words.len() - keep..].to_vec()
    }

    /// The next-word table of an `n`-gram model (1 ≤ n ≤ [`MAX_N`]) after `context` (any text; its last
    /// n − 1 words are used): the `top_k` words seen most often after it. With `add_k` > 0,
    /// P(w | c) = (count(c w) + k) / (count(c) + k·V), V the vocabulary size.
    pub fn next_words(&self, n: usize, context: &str, top_k: usize, add_k: f64) -> Result<NextWords, String> {
        if !(1..=MAX_N).contains(&n) {
            return Err(format!("n must be 1 to {MAX_N}, got {n}"));
        }
        if !(add_k >= 0.0 && add_k.is_finite()) {
            return Err(format!("add-k must be a number ≥ 0, got {add_k}"));
        }
        let context = Self::context_for(n, context);
        let mut counts: HashMap<u32, u64> = HashMap::new();
        let context_count = match self.ids(&context) {
            Some(ids) => self.scan(&ids, |w| *counts.entry(w).or_default() += 1),
            None => 0,
        };
        let denominator = context_count as f64 + add_k * self.words.len() as f64;
        let p = |count: u64| if denominator > 0.0 { (count as f64 + add_k) / denominator } else { 0.0 };
        let mut next: Vec<(u32, u64)> = counts.into_iter().collect();
        let distinct_next = next.len();
        next.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| self.words[a.0 as usize].cmp(&self.words[b.0 as usize])));
        next.truncate(top_k);
        Ok(NextWords {
            n,
            context,
            context_count,
            add_k,
            next: next
                .into_iter()
                .map(|(w, count)| NextWord { word: self.words[w as usize].clone(), count, p: p(count) })
                .collect(),
            distinct_next,
        })
    }

    /// Continues `context` word by word, each drawn from P(w | last n − 1 words) (add-k smoothed where
    /// asked), until `max_words` words or a context never seen followed by anything. Seeded: the same
    /// arguments give the same sentence.
    pub fn sample(&self, n: usize, context: &str, max_words: usize, add_k: f64, seed: u64) -> Vec<String> {
        let mut words = ngram_words(context);
        let mut state = seed ^ 0x2545_F491_4F6C_DD1D;
        let mut uniform = || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut generated = Vec::new();
        while generated.len() < max_words && !self.words.is_empty() {
            let keep = n.saturating_sub(1).min(words.len());
            let Some(ids) = self.ids(&words[words.len() - keep..]) else { break };
            let mut counts: Vec<(u32, u64)> = Vec::new();
            let mut map: HashMap<u32, usize> = HashMap::new();
            self.scan(&ids, |w| {
                let slot = *map.entry(w).or_insert_with(|| {
                    counts.push((w, 0));
                    counts.len() - 1
                });
                counts[slot].1 += 1;
            });
            counts.sort_by_key(|&(w, _)| w);
            let seen: u64 = counts.iter().map(|c| c.1).sum();
            let smoothing = add_k * self.words.len() as f64;
            if seen == 0 && smoothing == 0.0 {
                break;
            }
            let mut u = uniform() * (seen as f64 + smoothing);
            let mut pick = None;
            for &(w, c) in &counts {
                if u < c as f64 {
                    pick = Some(w);
                    break;
                }
                u -= c as f64;
            }
            // The smoothing mass: every word equally.
            let w = pick.unwrap_or_else(|| ((u / smoothing.max(f64::MIN_POSITIVE)) * self.words.len() as f64) as u32)
                .min(self.words.len() as u32 - 1);
            let word = self.words[w as usize].clone();
            words.push(word.clone());
            generated.push(word);
        }
        generated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_runs_of_letters_digits_and_apostrophes() {
        assert_eq!(ngram_words("I don’t like it, I LOVE it! 3rd-rate"), ["i", "don’t", "like", "it", "i", "love", "it", "3rd", "rate"]);
        assert_eq!(ngram_words("Ça va? l'été"), ["ça", "va", "l'été"]);
        assert!(ngram_words(" ,.;").is_empty());
    }

    #[test]
    fn the_talks_formula_on_a_tiny_corpus() {
        let m = NgramModel::new(["I like tea. I like coffee", "I drink tea", "like"]);
        let t = m.next_words(2, "so I", 10, 0.0).unwrap();
        assert_eq!(t.context, ["i"]);
        assert_eq!(t.context_count, 3);
        assert_eq!(t.next[0], NextWord { word: "like".into(), count: 2, p: 2.0 / 3.0 });
        assert_eq!(t.next[1], NextWord { word: "drink".into(), count: 1, p: 1.0 / 3.0 });
        // "coffee" ends row 1 and "like" starts row 3: no bigram crosses rows.
        assert_eq!(m.count(&["coffee".into(), "i".into()]), 0);
        assert_eq!(m.count(&["tea".into()]), 2);
        // "like" is counted also where it ends a row: count(like) = 3, continuations 2.
        let t = m.next_words(2, "like", 10, 0.0).unwrap();
        assert_eq!((t.context_count, t.next.iter().map(|w| w.count).sum::<u64>()), (3, 2));
        // Unigram: count(context) is the number of words.
        let u = m.next_words(1, "whatever", 1, 0.0).unwrap();
        assert_eq!((u.context_count, u.next[0].word.as_str(), u.next[0].count), (10, "i", 3));
        // add-k: (c + k) / (count + k·V), V = 5 different words.
        assert_eq!(m.vocabulary(), 5);
        let s = m.next_words(2, "i", 1, 1.0).unwrap();
        assert!((s.next[0].p - 3.0 / 8.0).abs() < 1e-12);
        assert!(m.next_words(5, "i", 1, 0.0).is_err());
        assert_eq!(m.next_words(3, "never seen", 5, 0.0).unwrap().context_count, 0);
    }

    #[test]
    fn sampling_follows_seen_continuations_and_is_seeded() {
        let m = NgramModel::new(["the cat sat on the mat", "the dog sat on the rug"]);
        let a = m.sample(2, "the", 8, 0.0, 1);
        assert_eq!(a, m.sample(2, "the", 8, 0.0, 1));
        let mut prev = "the".to_string();
        for w in &a {
            assert!(m.count(&[prev.clone(), w.clone()]) > 0, "{prev} {w} never seen");
            prev = w.clone();
        }
        // Stops where the context was never followed by a word.
        assert!(m.sample(3, "the mat", 5, 0.0, 1).is_empty());
    }
}
