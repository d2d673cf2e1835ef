//! Masked-language-model pre-training, as transformers' `DataCollatorForLanguageModeling`: each
//! non-special token is picked with probability `mlm_probability`; a picked token becomes the mask
//! token 80% of the time, a random vocabulary token 10%, and stays 10%; the labels are the original
//! ids at picked positions and −100 elsewhere. The draws come from a generator seeded per batch, so
//! a resumed run masks the same tokens.
//!
//! An evaluation reports the mean cross-entropy over the masked tokens as `loss` (perplexity =
//! `exp(loss)`), the masked-token accuracy as `accuracy`, and no per-class scores. Validation is masked
//! with a fixed seed, so every evaluation of a run scores the same positions; the best checkpoint
//! and early stopping use the loss.

use candle_core::{DType, Tensor};

use super::error::{TrainError, TrainResult};
use super::metrics::argmax;
use super::setup::EncodedSplit;
use super::trainer::make_batch;
use super::{EvalReport, TrainConfig, TrainTask};
use crate::core::text::tokenizer::{TextTokenizer, TokenizerKind};
use crate::core::model::ops::IGNORE_INDEX;
use crate::core::model::rng::SeededRng;
use crate::core::model::{Dropout, ModelInput, TaskModel};

/// Masking settings.
#[derive(Clone, Debug)]
pub struct Masking {
    pub probability: f64,
    pub mask_id: u32,
    pub vocab_size: usize,
    /// Whole-word masking: for each vocabulary id, whether the token continues the word before it
    /// (WordPiece's `##` pieces). A word is picked with the probability and all its tokens are masked
    /// together, as transformers' `DataCollatorForWholeWordMask`; `None`: every token on its own.
    pub continues_word: Option<std::sync::Arc<Vec<bool>>>,
}

impl Masking {
    /// Which ids continue a word, from a WordPiece vocabulary (position = id).
    pub fn word_pieces(vocab: &[String]) -> std::sync::Arc<Vec<bool>> {
        std::sync::Arc::new(vocab.iter().map(|t| t.starts_with("##")).collect())
    }
}

/// Masks rows of token ids in place; returns the labels (same shape, −100 where not picked).
pub fn mask_tokens(
    ids: &mut [Vec<u32>],
    special: &[Vec<bool>],
    masking: &Masking,
    rng: &mut SeededRng,
) -> Vec<Vec<i64>> {
    let mut labels = Vec::with_capacity(ids.len());
    for (row, spec) in ids.iter_mut().zip(special) {
        let mut row_labels = vec![IGNORE_INDEX; row.len()];
        // Whole words: one draw per word (a token that does not continue the one before starts a word).
        let mut word_picked = false;
        for (i, id) in row.iter_mut().enumerate() {
            if spec.get(i).copied().unwrap_or(true) {
                word_picked = false;
                continue;
            }
            let pick = match &masking.continues_word {
                Some(continues) => {
                    let continues = i > 0
                        && !spec.get(i - 1).copied().unwrap_or(true)
                        && continues.get(*id as usize).copied().unwrap_or(false);
                    if !continues {
                        word_picked = rng.uniform() < masking.probability;
                    }
                    word_picked
                }
                None => rng.uniform() < masking.probability,
            };
            if !pick {
                continue;
            }
            row_labels[i] = i64::from(*id);
            let r = rng.uniform();
            if r < 0.8 {
                *id = masking.mask_id;
            } else if r < 0.9 {
                *id = (rng.next_u64() % masking.vocab_size as u64) as u32;
            }
        }
        labels.push(row_labels);
    }
    labels
}

/// A masked batch: the input (padding positions are never picked) and the `(batch, seq)` labels.
pub fn masked_batch(
    model: &TaskModel,
    split: &EncodedSplit,
    rows: &[usize],
    pad_id: u32,
    masking: &Masking,
    rng: &mut SeededRng,
) -> TrainResult<(ModelInput, Tensor, usize)> {
    let (input, tokens) = make_batch(model, split, rows, pad_id)?;
    let mut ids = input.input_ids.to_vec2::<u32>()?;
    let width = ids.first().map_or(0, Vec::len);
    let special: Vec<Vec<bool>> = rows
        .iter()
        .map(|&r| {
            let mut s = split.special.get(r).cloned().unwrap_or_default();
            s.resize(width, true);
            s
        })
        .collect();
    let labels = mask_tokens(&mut ids, &special, masking, rng);
    let flat_ids: Vec<u32> = ids.into_iter().flatten().collect();
    let flat_labels: Vec<i64> = labels.into_iter().flatten().collect();
    let input = ModelInput { input_ids: Tensor::from_vec(flat_ids, (rows.len(), width), model.device())?, ..input };
    let labels = Tensor::from_vec(flat_labels, (rows.len(), width), model.device())?;
    Ok((input, labels, tokens))
}

/// Mixed into a run's seed for its masks (training batches and evaluation), apart from its shuffles.
pub const MLM_SALT: u64 = 0x4D4C_4D5F_4D41_534B;

/// The seed of a run's evaluation masks: every evaluation of a run of `seed` masks the same positions
/// (and `lm-workbench eval` of its checkpoint too, so it reproduces the run's numbers).
pub fn evaluation_seed(seed: u64) -> u64 {
    super::batch::mix_seed(seed ^ MLM_SALT, u64::MAX, 0)
}

/// Masked-LM evaluation (see the module docs); `seed` fixes the masked positions.
pub fn evaluate_mlm(
    model: &TaskModel,
    split: &EncodedSplit,
    pad_id: u32,
    masking: &Masking,
    batch_size: usize,
    seed: u64,
    (step, epoch, name): (u64, f64, &str),
) -> TrainResult<EvalReport> {
    let mut rng = SeededRng::new(seed);
    let (mut loss_sum, mut masked, mut correct) = (0.0, 0usize, 0usize);
    let rows: Vec<usize> = (0..split.len()).collect();
    for chunk in rows.chunks(batch_size.max(1)) {
        let (input, labels, _) = masked_batch(model, split, chunk, pad_id, masking, &mut rng)?;
        let (logits, picked) =
            crate::core::model::ops::no_grad(|| model.masked_lm_logits(&input, &labels, &mut Dropout::eval()))?;
        let picked = picked.to_vec1::<i64>()?;
        let n = picked.iter().filter(|&&l| l != IGNORE_INDEX).count();
        if n == 0 {
            continue;
        }
        let loss = model.loss(&logits, &Tensor::new(picked.as_slice(), model.device())?)?;
        loss_sum += loss.to_dtype(DType::F64)?.to_scalar::<f64>()? * n as f64;
        masked += n;
        let logits = logits.to_dtype(DType::F32)?.to_vec2::<f32>()?;
        correct += logits.iter().zip(&picked).filter(|(row, &l)| l != IGNORE_INDEX && i64::from(argmax(row)) == l).count();
    }
    let ratio = |a: f64| if masked == 0 { 0.0 } else { a / masked as f64 };
    Ok(EvalReport {
        step,
        epoch,
        split: name.to_string(),
        loss: ratio(loss_sum),
        accuracy: ratio(correct as f64),
        macro_f1: 0.0,
        per_class: Vec::new(),
        confusion: Vec::new(),
        predictions: Vec::new(),
    })
}

/// The unigram model of a training split: each token's add-one log-probability (its count + 1 over the
/// token total + the vocabulary, specials left out) — what the unigram baseline predicts and where the
/// unigram output bias starts.
pub struct UnigramModel {
    per_token: Vec<f64>,
    /// A token outside the vocabulary (seen 0 times).
    unseen: f64,
}

impl UnigramModel {
    /// `None` when the split has no tokens.
    pub fn of(train: &EncodedSplit, vocab_size: usize) -> Option<Self> {
        let mut counts = vec![0u64; vocab_size];
        let mut total = 0u64;
        for (ids, special) in train.ids.iter().zip(&train.special) {
            for (&id, &sp) in ids.iter().zip(special) {
                if !sp && (id as usize) < vocab_size {
                    counts[id as usize] += 1;
                    total += 1;
                }
            }
        }
        let denominator = (total + vocab_size as u64) as f64;
        let per_token = counts.iter().map(|&c| ((c + 1) as f64 / denominator).ln()).collect();
        (total > 0).then(|| Self { per_token, unseen: (1.0 / denominator).ln() })
    }

    fn log_prob(&self, id: u32) -> f64 {
        self.per_token.get(id as usize).copied().unwrap_or(self.unseen)
    }
}

/// The unigram baseline of a masked LM, in the units of the evaluation loss (mean nats per masked token;
/// perplexity = `exp`): every validation token predicted by its frequency in the training split. Masked
/// positions are drawn uniformly among the non-special tokens, so the mean over all of them is what a
/// masked evaluation expects. `None` without validation tokens.
pub fn unigram_baseline(unigram: &UnigramModel, validation: &EncodedSplit) -> Option<f64> {
    let (mut nats, mut n) = (0.0, 0u64);
    for (ids, special) in validation.ids.iter().zip(&validation.special) {
        for (&id, &sp) in ids.iter().zip(special) {
            if !sp {
                nats -= unigram.log_prob(id);
                n += 1;
            }
        }
    }
    (n > 0).then(|| nats / n as f64)
}

/// The masking of a run: `None` for classification; for a masked LM, the tokenizer's mask token and,
/// with whole-word masking, which tokens continue a word (WordPiece's `##` pieces; other kinds are
/// refused, naming their kind).
pub fn masking_for(config: &TrainConfig, tokenizer: &TextTokenizer, vocab_size: usize) -> TrainResult<Option<Masking>> {
    if config.task != TrainTask::MaskedLm {
        return Ok(None);
    }
    let (_, mask_id) =
        tokenizer.mask_token().ok_or_else(|| TrainError::Config("masked-LM training needs a tokenizer with a mask token".into()))?;
    let continues_word = if config.whole_word_masking {
        if tokenizer.kind() != TokenizerKind::WordPiece {
            return Err(TrainError::Config(format!(
                "whole-word masking needs a WordPiece tokenizer (its ## pieces mark the words); this one is {}",
                tokenizer.kind().label()
            )));
        }
        Some(Masking::word_pieces(tokenizer.vocab()))
    } else {
        None
    };
    Ok(Some(Masking { probability: config.mlm_probability, mask_id, vocab_size, continues_word }))
}

/// Starts a masked LM built from scratch at the unigram baseline's guesses: its output bias becomes
/// [`unigram_output_bias`].
pub fn set_unigram_output_bias(model: &TaskModel, unigram: &UnigramModel) -> TrainResult<()> {
    let cfg = model.config();
    let name = crate::core::model::keys::head_keys(cfg.family, crate::core::model::Task::MaskedLm)
        .map(|k| k.bias)
        .ok_or_else(|| TrainError::Config("this model has no masked-LM output bias".into()))?;
    let param = model.params().get(name)?;
    let bias = unigram_output_bias(unigram);
    let current = param.var().as_tensor();
    let values = Tensor::from_vec(bias, cfg.vocab_size, current.device())?.to_dtype(current.dtype())?;
    param.var().set(&values)?;
    Ok(())
}

/// The output bias that makes an untrained masked LM guess the unigram baseline: each token's
/// log-probability under the unigram model, centred on zero (a softmax ignores a shift). With near-zero
/// logits from the rest of a freshly initialised model, its first guesses are then the training
/// frequencies, not a uniform 1 / vocabulary.
pub fn unigram_output_bias(unigram: &UnigramModel) -> Vec<f32> {
    let logs = &unigram.per_token;
    let mean = logs.iter().sum::<f64>() / logs.len().max(1) as f64;
    logs.iter().map(|l| (l - mean) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_follows_80_10_10_and_skips_special_tokens() {
        let mut ids: Vec<Vec<u32>> = (0..200).map(|_| (0..100).map(|i| 10 + i as u32).collect()).collect();
        let special: Vec<Vec<bool>> = (0..200).map(|_| (0..100).map(|i| i == 0 || i == 99).collect()).collect();
        let original = ids.clone();
        let masking = Masking { probability: 0.15, mask_id: 4, vocab_size: 1000, continues_word: None };
        let labels = mask_tokens(&mut ids, &special, &masking, &mut SeededRng::new(1));
        let (mut picked, mut masked, mut kept) = (0, 0, 0);
        for ((row, orig), lab) in ids.iter().zip(&original).zip(&labels) {
            assert_eq!(lab[0], IGNORE_INDEX);
            assert_eq!(lab[99], IGNORE_INDEX);
            for i in 0..100 {
                if lab[i] != IGNORE_INDEX {
                    picked += 1;
                    assert_eq!(lab[i], i64::from(orig[i]));
                    masked += usize::from(row[i] == 4);
                    kept += usize::from(row[i] == orig[i]);
                } else {
                    assert_eq!(row[i], orig[i]);
                }
            }
        }
        let share = picked as f64 / (200.0 * 98.0);
        assert!((share - 0.15).abs() < 0.01, "{share}");
        assert!((masked as f64 / picked as f64 - 0.8).abs() < 0.03);
        assert!((kept as f64 / picked as f64 - 0.1).abs() < 0.03);
        let mut again = original.clone();
        assert_eq!(mask_tokens(&mut again, &special, &masking, &mut SeededRng::new(1)), labels);
    }

    /// Whole-word masking on a large batch: every word is masked entirely or not at all, about 15 % of
    /// the tokens (± 0.5 %), 80/10/10, never a special token.
    #[test]
    fn whole_word_masking_masks_every_piece_of_a_picked_word() {
        // Vocabulary: ids 10..110 start words, 110..210 are ## pieces. Rows of 512 tokens: words of 1–4
        // tokens from a fixed pattern, [CLS]/[SEP] at the ends.
        let mut continues = vec![false; 210];
        continues[110..210].fill(true);
        let masking = Masking { probability: 0.15, mask_id: 4, vocab_size: 210, continues_word: Some(std::sync::Arc::new(continues)) };
        let mut rng = SeededRng::new(3);
        let mut ids: Vec<Vec<u32>> = Vec::new();
        let mut words: Vec<Vec<Vec<usize>>> = Vec::new();
        for _ in 0..400 {
            let (mut row, mut row_words) = (vec![2u32], Vec::new());
            while row.len() < 511 {
                let len = (1 + rng.below(4) as usize).min(511 - row.len());
                let start = row.len();
                row.push(10 + rng.below(100) as u32);
                row.extend((1..len).map(|_| 110 + rng.below(100) as u32));
                row_words.push((start..start + len).collect());
            }
            row.push(3);
            ids.push(row);
            words.push(row_words);
        }
        let special: Vec<Vec<bool>> = ids.iter().map(|r| (0..r.len()).map(|i| i == 0 || i + 1 == r.len()).collect()).collect();
        let original = ids.clone();
        let labels = mask_tokens(&mut ids, &special, &masking, &mut SeededRng::new(9));
        let (mut tokens, mut picked, mut masked, mut kept) = (0usize, 0usize, 0usize, 0usize);
        for r in 0..ids.len() {
            assert_eq!((labels[r][0], labels[r][511]), (IGNORE_INDEX, IGNORE_INDEX));
            for word in &words[r] {
                let n = word.iter().filter(|&&i| labels[r][i] != IGNORE_INDEX).count();
                assert!(n == 0 || n == word.len(), "a word of {} tokens with {n} masked", word.len());
                tokens += word.len();
                picked += n;
                for &i in word.iter().filter(|&&i| labels[r][i] != IGNORE_INDEX) {
                    masked += usize::from(ids[r][i] == 4);
                    kept += usize::from(ids[r][i] == original[r][i]);
                }
            }
        }
        let share = picked as f64 / tokens as f64;
        assert!((share - 0.15).abs() < 0.005, "{share}");
        assert!((masked as f64 / picked as f64 - 0.8).abs() < 0.02);
        assert!((kept as f64 / picked as f64 - 0.1).abs() < 0.02);
    }

    #[test]
    fn unigram_baseline_is_the_cross_entropy_of_training_frequencies() {
        let split = |rows: Vec<Vec<u32>>| EncodedSplit {
            special: rows.iter().map(|r| r.iter().enumerate().map(|(i, _)| i == 0 || i + 1 == r.len()).collect()).collect(),
            types: rows.iter().map(|r| vec![0; r.len()]).collect(),
            ids: rows,
            labels: Vec::new(),
        };
        // Vocabulary of 4; training text 2 2 2 3 (specials 0/1 around it): p(2) = 4/8, p(3) = 2/8 (add-one).
        let train = split(vec![vec![0, 2, 2, 2, 3, 1]]);
        let validation = split(vec![vec![0, 2, 3, 1]]);
        let expected = -((4.0f64 / 8.0).ln() + (2.0f64 / 8.0).ln()) / 2.0;
        let unigram = UnigramModel::of(&train, 4).unwrap();
        assert!((unigram_baseline(&unigram, &validation).unwrap() - expected).abs() < 1e-12);
        assert!(unigram_baseline(&unigram, &split(vec![vec![0, 1]])).is_none());
        // No training tokens: no unigram model (and so no baseline).
        assert!(UnigramModel::of(&split(vec![vec![0, 1]]), 4).is_none());
        // The output bias is those log-probabilities, centred: p(2) / p(3) = 2.
        let bias = unigram_output_bias(&unigram);
        assert!((bias[2] - bias[3] - 2f32.ln()).abs() < 1e-6 && bias.iter().sum::<f32>().abs() < 1e-5);
    }
}
