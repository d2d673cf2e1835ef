//! A seeded, stratified train/validation split, for datasets that bring no validation split.
//!
//! For each class (in label id order) the row indices of that class are shuffled with one seeded
//! generator (SplitMix64, Fisher–Yates) shared across classes, and the first `round(fraction × n_class)`
//! go to validation. Every class is therefore within half a row of the fraction. Both parts keep the
//! original row order. Unlabeled rows are split the same way, as one group.

/// SplitMix64: small, fast, and the same on every platform and version (unlike a library RNG).
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform value in `0..n` (`n > 0`), by rejection so there is no modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let x = self.next_u64();
            if x < zone {
                return x % n;
            }
        }
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

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
    let mut rng = SplitMix64::new(seed);
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
        // Reference values of SplitMix64 for seed 1234567 (from the algorithm's published test vector).
        let mut rng = SplitMix64::new(1234567);
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
