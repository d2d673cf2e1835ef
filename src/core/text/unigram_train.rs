//! Unigram tokenizer training (as SentencePiece: ALBERT, T5, XLNet) for [`super::tokenizer_train`]: the
//! tokenizers library's trainer, made deterministic.

use std::collections::{BTreeMap, BTreeSet};

use tokenizers::decoders::metaspace::Metaspace as MetaspaceDecoder;
use tokenizers::models::unigram::{Unigram, UnigramTrainer};
use tokenizers::pre_tokenizers::metaspace::PrependScheme;
use tokenizers::{AddedToken, Tokenizer};

use super::tokenizer_train::{TokenizerTrainSettings, TrainProgress};
use crate::core::{CoreError, CoreResult};

/// A unigram tokenizer learnt from word counts (words as the Metaspace pre-tokenizer gives them) by the
/// tokenizers library's trainer, made deterministic: the words go in sorted order, it runs on one
/// thread (its sums of probabilities are then added in one order on every machine), and the result is
/// put in a canonical order (see [`canonical_unigram`]).
pub(super) fn train_unigram(words: &BTreeMap<String, u64>, settings: &TokenizerTrainSettings, progress: TrainProgress<'_>) -> CoreResult<Tokenizer> {
    let err = |e: String| CoreError::Tokenize(format!("training the unigram model: {e}"));
    let trainer = UnigramTrainer::builder()
        .show_progress(false)
        .vocab_size(settings.vocab_size as u32)
        .special_tokens(settings.special_tokens.iter().map(|t| AddedToken::from(t.clone(), true)).collect())
        .unk_token(Some("[UNK]".to_string()))
        .build()
        .map_err(|e| err(e.to_string()))?;
    let sentences: Vec<(String, u32)> = words.iter().map(|(w, &c)| (w.clone(), c.min(u64::from(u32::MAX)) as u32)).collect();
    if !progress("pruning pieces (EM)", 0.0) {
        return Err(CoreError::Cancelled);
    }
    // The trainer takes no progress callback: it runs on its own thread while this one waits, asking
    // whether to go on; a cancelled training returns at once and the trainer's thread ends by itself.
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("unigram-trainer".into())
        .spawn(move || {
            let result = rayon::ThreadPoolBuilder::new().num_threads(1).build().map_err(|e| e.to_string()).and_then(|pool| {
                pool.install(|| {
                    let mut model = Unigram::default();
                    trainer.do_train(sentences, &mut model).map(|_| model).map_err(|e| e.to_string())
                })
            });
            let _ = done_tx.send(result);
        })
        .map_err(|e| err(e.to_string()))?;
    let started = std::time::Instant::now();
    let model = loop {
        match done_rx.recv_timeout(std::time::Duration::from_millis(100)) {
            Ok(result) => break result.map_err(err)?,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                // No fraction is known: a curve that approaches 1 without reaching it.
                let seconds = started.elapsed().as_secs_f32();
                if !progress("pruning pieces (EM)", seconds / (seconds + 30.0)) {
                    return Err(CoreError::Cancelled);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return Err(err("the trainer's thread stopped".into())),
        }
    };
    progress("pruning pieces (EM)", 1.0);
    let required: BTreeSet<String> = words.keys().flat_map(|w| w.chars()).map(String::from).collect();
    let pieces = canonical_unigram(model.iter().cloned().collect(), settings.special_tokens.len(), &required);
    let unk = settings.special_id("[UNK]") as usize;
    let model = Unigram::from(pieces, Some(unk), false).map_err(|e| err(e.to_string()))?;
    let mut tokenizer = Tokenizer::new(model);
    tokenizer.with_decoder(Some(MetaspaceDecoder::new('▁', PrependScheme::Always, true)));
    Ok(tokenizer)
}

/// The unigram trainer's result in an order that does not depend on hashing: the special tokens first
/// as they were, then the pieces by score (highest first), ties by text. The trainer gives each
/// character that EM dropped but the text needs a score just above the lowest (the lowest, then 1e-4
/// more for each next one) in hash order; those scores are dealt out again in character order.
fn canonical_unigram(mut pieces: Vec<(String, f64)>, specials: usize, required_chars: &BTreeSet<String>) -> Vec<(String, f64)> {
    let mut rest = pieces.split_off(specials.min(pieces.len()));
    if let Some(lowest) = rest.iter().map(|(_, s)| *s).filter(|s| s.is_finite()).reduce(f64::min) {
        // The trainer's penalised scores, in the order it handed them out.
        let mut penalty = 0.0;
        let mut dealt: Vec<(usize, f64)> = Vec::new();
        loop {
            let score = lowest + penalty;
            let found: Vec<usize> =
                (0..rest.len()).filter(|&i| rest[i].1 == score && required_chars.contains(&rest[i].0)).collect();
            if found.is_empty() {
                break;
            }
            dealt.extend(found.into_iter().map(|i| (i, score)));
            penalty += 0.0001;
        }
        let mut indices: Vec<usize> = dealt.iter().map(|&(i, _)| i).collect();
        indices.sort_by(|&a, &b| rest[a].0.cmp(&rest[b].0));
        let mut scores: Vec<f64> = dealt.iter().map(|&(_, s)| s).collect();
        scores.sort_by(|a, b| a.total_cmp(b));
        for (i, score) in indices.into_iter().zip(scores) {
            rest[i].1 = score;
        }
    }
    rest.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    pieces.extend(rest);
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unigram_results_are_put_in_one_order_whatever_the_hash_order() {
        let specials = vec![("[UNK]".to_string(), 0.0), ("[CLS]".to_string(), 0.0)];
        // Two characters EM dropped got the lowest score and 1e-4 more, in hash order: either way round,
        // the canonical result is the same; equal scores are ordered by text.
        let lowest = -9.0;
        let one = |first: &str, second: &str| {
            let mut v = specials.clone();
            v.extend([("▁the".to_string(), -2.0), ("b".to_string(), -5.0), ("a".to_string(), -5.0)]);
            v.extend([(first.to_string(), lowest), (second.to_string(), lowest + 0.0001), ("▁zz".to_string(), -8.0)]);
            v
        };
        let required: BTreeSet<String> = ["a", "b", "x", "y", "z"].map(String::from).into();
        let a = canonical_unigram(one("y", "x"), 2, &required);
        let b = canonical_unigram(one("x", "y"), 2, &required);
        assert_eq!(a, b);
        let tokens: Vec<&str> = a.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(tokens, ["[UNK]", "[CLS]", "▁the", "a", "b", "▁zz", "y", "x"]);
        assert_eq!(a[7], ("x".to_string(), lowest));
    }
}
