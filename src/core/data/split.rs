//! A seeded, stratified train/validation split, for datasets that bring no validation split.
//!
//! For each class (in label id order) the row indices of that class are shuffled with one seeded
//! generator (SplitMix64, Fisher–Yates) shared across classes, and the first `round(fraction × n_class)`
//! go to validation. Every class is therefore within half a row of the fraction. Both parts keep the
//! original row order. Unlabeled rows are split the same way, as one group.

use crate::core::model::rng::SeededRng;

/// Splits `n` rows into (train, validation) row indices, each in ascending order.
/// `labels` are the rows' label ids (`None`: unlabeled, one group).
pub fn stratified_split(n: usize, labels: Option<&[u32]>, fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    match labels {
        Some(labels) => {
            for (row, &label) in labels.iter().enumerate().take(n) {
                let label = label as usize;
                if groups.len() <= label {
                    groups.resize_with(label + 1, Vec::new);
                }
                groups[label].push(row);
            }
        }
        None => groups.push((0..n).collect()),
    }
    let mut rng = SeededRng::new(seed);
    let mut in_validation = vec![false; n];
    for group in &mut groups {
        rng.shuffle(group);
        let take = (fraction * group.len() as f64).round() as usize;
        for &row in group.iter().take(take) {
            in_validation[row] = true;
        }
    }
    (0..n).partition(|&row| !in_validation[row])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_fixed() {
        // Reference values of SplitMix64 (SeededRng) for seed 1234567 (from the algorithm's published test vector).
        let mut rng = SeededRng::new(1234567);
        assert_eq!(rng.next_u64(), 6457827717110365317);
        assert_eq!(rng.next_u64(), 3203168211198807973);
    }

    #[test]
    fn split_is_stratified_and_deterministic() {
        let labels: Vec<u32> = (0..1000u32)
            .map(|i| {
                if i % 10 < 7 {
                    0
                } else if i % 10 < 9 {
                    1
                } else {
                    2
                }
            })
            .collect();
        let (train, valid) = stratified_split(labels.len(), Some(&labels), 0.15, 7);
        assert_eq!(train.len() + valid.len(), 1000);
        for class in 0..3u32 {
            let total = labels.iter().filter(|&&l| l == class).count() as f64;
            let in_valid = valid.iter().filter(|&&r| labels[r] == class).count() as f64;
            assert!((in_valid - 0.15 * total).abs() <= 1.0, "class {class}: {in_valid} of {total}");
        }
        assert_eq!(stratified_split(labels.len(), Some(&labels), 0.15, 7), (train.clone(), valid.clone()));
        assert_ne!(stratified_split(labels.len(), Some(&labels), 0.15, 8).1, valid);
        assert!(valid.windows(2).all(|w| w[0] < w[1]));
        let (all, none) = stratified_split(10, None, 0.0, 1);
        assert_eq!((all.len(), none.len()), (10, 0));
    }
}
