//! Token-length statistics of a split under a tokenizer: lengths count the special tokens the model
//! sees (`[CLS] … [SEP]`, pairs included), without truncation.
//!
//! - `median`: the middle value, or the mean of the two middle values for an even count.
//! - `p95`: nearest rank, the smallest length with at least 95 % of rows at or below it.
//! - `over_max_length`: rows longer than `max_length` (they would be truncated).
//! - The histogram has fixed bins ([`DEFAULT_BIN_EDGES`] unless given), the last one open-ended.

use serde::Serialize;

use super::dataset::Split;
use super::error::{DataError, DataResult};
use crate::core::text::tokenizer::TextTokenizer;

/// Bin starts: `[0, 16)`, `[16, 32)`, … `[1024, 2048)`, then `2048` and more.
pub const DEFAULT_BIN_EDGES: [usize; 11] = [0, 16, 32, 64, 128, 192, 256, 384, 512, 1024, 2048];

/// Rows encoded per batch (the tokenizer spreads a batch over the CPU cores).
const BATCH_ROWS: usize = 256;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HistogramBin {
    /// Smallest length in the bin.
    pub start: usize,
    /// One past the largest length; `None` for the last, open-ended bin.
    pub end: Option<usize>,
    pub count: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TokenLengthStats {
    pub count: usize,
    pub mean: f64,
    pub median: f64,
    pub p95: usize,
    pub max: usize,
    pub max_length: usize,
    pub over_max_length: usize,
    /// `over_max_length / count` (0 when there are no rows).
    pub over_max_share: f64,
    pub histogram: Vec<HistogramBin>,
}

/// The token count of every row of a split (text, or text and pair), special tokens included.
pub fn token_lengths(tokenizer: &TextTokenizer, split: &Split) -> DataResult<Vec<usize>> {
    let mut lengths = Vec::with_capacity(split.len());
    for start in (0..split.len()).step_by(BATCH_ROWS) {
        let end = (start + BATCH_ROWS).min(split.len());
        let encodings = match &split.pairs {
            Some(pairs) => {
                let inputs: Vec<(&str, &str)> =
                    (start..end).map(|i| (split.texts[i].as_str(), pairs[i].as_str())).collect();
                tokenizer.inner().encode_batch_fast(inputs, true)
            }
            None => {
                let inputs: Vec<&str> = split.texts[start..end].iter().map(String::as_str).collect();
                tokenizer.inner().encode_batch_fast(inputs, true)
            }
        }
        .map_err(|e| DataError::Tokenize(e.to_string()))?;
        lengths.extend(encodings.iter().map(|e| e.len()));
    }
    Ok(lengths)
}

/// Statistics of a split under a tokenizer.
pub fn token_length_stats(tokenizer: &TextTokenizer, split: &Split, max_length: usize) -> DataResult<TokenLengthStats> {
    Ok(stats_from_lengths(&token_lengths(tokenizer, split)?, max_length, &DEFAULT_BIN_EDGES))
}

/// Statistics of given lengths. `bin_edges` are ascending bin starts; lengths below the first are
/// counted in the first bin.
pub fn stats_from_lengths(lengths: &[usize], max_length: usize, bin_edges: &[usize]) -> TokenLengthStats {
    let mut sorted = lengths.to_vec();
    sorted.sort_unstable();
    let count = sorted.len();
    let mean = if count == 0 { 0.0 } else { sorted.iter().map(|&l| l as f64).sum::<f64>() / count as f64 };
    let median = match count {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2] as f64,
        n => (sorted[n / 2 - 1] + sorted[n / 2]) as f64 / 2.0,
    };
    let p95 = if count == 0 { 0 } else { sorted[(count * 95).div_ceil(100).max(1) - 1] };
    let over_max_length = count - sorted.partition_point(|&l| l <= max_length);
    let mut histogram: Vec<HistogramBin> = bin_edges
        .iter()
        .enumerate()
        .map(|(i, &start)| HistogramBin { start, end: bin_edges.get(i + 1).copied(), count: 0 })
        .collect();
    for &length in &sorted {
        let bin = bin_edges.partition_point(|&edge| edge <= length).saturating_sub(1);
        if let Some(b) = histogram.get_mut(bin) {
            b.count += 1;
        }
    }
    TokenLengthStats {
        count,
        mean,
        median,
        p95,
        max: sorted.last().copied().unwrap_or(0),
        max_length,
        over_max_length,
        over_max_share: if count == 0 { 0.0 } else { over_max_length as f64 / count as f64 },
        histogram,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_of_known_lengths() {
        let lengths: Vec<usize> = (1..=100).collect();
        let s = stats_from_lengths(&lengths, 90, &[0, 10, 50]);
        assert_eq!((s.count, s.mean, s.median, s.p95, s.max), (100, 50.5, 50.5, 95, 100));
        assert_eq!((s.over_max_length, s.over_max_share), (10, 0.1));
        let counts: Vec<(usize, Option<usize>, usize)> =
            s.histogram.iter().map(|b| (b.start, b.end, b.count)).collect();
        assert_eq!(counts, vec![(0, Some(10), 9), (10, Some(50), 40), (50, None, 51)]);

        let s = stats_from_lengths(&[7, 3, 5], 4, &DEFAULT_BIN_EDGES);
        assert_eq!((s.median, s.p95, s.max, s.over_max_length), (5.0, 7, 7, 2));
        let empty = stats_from_lengths(&[], 512, &DEFAULT_BIN_EDGES);
        assert_eq!((empty.count, empty.mean, empty.p95, empty.over_max_share), (0, 0.0, 0, 0.0));
    }
}
