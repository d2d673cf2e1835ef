//! Inverted dropout from a counter-based generator: whether element `i` is kept is a hash of
//! `(key, i)`, so a mask is never stored, the backward pass draws the same mask again, and every device
//! (and any thread count) draws the same masks for the same key. The key mixes the run's seed, the step,
//! the micro-batch and the call site (see `lm_workbench::core::model::ops::Dropout`).

use rayon::prelude::*;

/// Elements per task.
const BLOCK: usize = 32 * 1024;

/// A 32-bit integer hash with good avalanche (two multiply–xorshift rounds).
#[inline(always)]
fn mix32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^= x >> 16;
    x
}

/// 32 random bits for element `i` under `key`.
#[inline(always)]
pub fn bits(key: u64, i: u32) -> u32 {
    mix32(mix32(i ^ key as u32) ^ (key >> 32) as u32)
}

/// The threshold below which an element is dropped: `p · 2³²`.
pub fn threshold(p: f32) -> u32 {
    (f64::from(p.clamp(0.0, 1.0)) * 4_294_967_296.0).min(f64::from(u32::MAX)) as u32
}

/// Whether element `i` is kept with drop probability `p` (its threshold).
#[inline(always)]
pub fn keep(key: u64, i: u32, threshold: u32) -> bool {
    bits(key, i) >= threshold
}

vectorised! {
    fn block_apply(x: &[f32], first: u32, key: u64, threshold: u32, scale: f32, residual: &[f32], y: &mut [f32]) {
        if residual.is_empty() {
            for i in 0..x.len() {
                let k = bits(key, first + i as u32) >= threshold;
                y[i] = if k { x[i] * scale } else { 0.0 };
            }
        } else {
            for i in 0..x.len() {
                let k = bits(key, first + i as u32) >= threshold;
                y[i] = residual[i] + if k { x[i] * scale } else { 0.0 };
            }
        }
    }
}

/// `y = residual + x ⊙ mask / (1 − p)` (`residual` empty: no residual). The backward of dropout is the
/// same call on the output gradient (without the residual).
pub fn apply(x: &[f32], key: u64, p: f32, residual: &[f32], y: &mut [f32]) {
    assert!(y.len() == x.len() && (residual.is_empty() || residual.len() == x.len()), "dropout::apply: shapes");
    assert!(x.len() <= u32::MAX as usize, "dropout::apply: more than 2³² elements");
    let t = threshold(p);
    let scale = 1.0 / (1.0 - p);
    x.par_chunks(BLOCK).zip(y.par_chunks_mut(BLOCK)).enumerate().for_each(|(b, (x, y))| {
        let first = b * BLOCK;
        let r = if residual.is_empty() { &[][..] } else { &residual[first..first + x.len()] };
        block_apply(x, first as u32, key, t, scale, r, y)
    });
}

/// As [`apply`] (no residual) on a block whose first element has index `first` in the whole
/// tensor, on the calling thread.
pub fn apply_block(x: &[f32], first: u32, key: u64, p: f32, y: &mut [f32]) {
    assert!(y.len() == x.len(), "dropout::apply_block: shapes");
    block_apply(x, first, key, threshold(p), 1.0 / (1.0 - p), &[], y)
}

/// The mask as multipliers (0 or 1 / (1 − p)), for the composed reference path.
pub fn mask(len: usize, key: u64, p: f32) -> Vec<f32> {
    let ones = vec![1f32; len];
    let mut out = vec![0f32; len];
    apply(&ones, key, p, &[], &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_about_p_and_the_same_mask_for_the_same_key() {
        let n = 200_003;
        for p in [0.1f32, 0.5] {
            let m = mask(n, 42, p);
            let dropped = m.iter().filter(|&&v| v == 0.0).count() as f64 / n as f64;
            assert!((dropped - f64::from(p)).abs() < 0.005, "p {p}: dropped {dropped}");
            assert!(m.iter().all(|&v| v == 0.0 || (v - 1.0 / (1.0 - p)).abs() < 1e-6));
            assert_eq!(m, mask(n, 42, p));
            let other = mask(n, 43, p);
            let same = m.iter().zip(&other).filter(|(a, b)| a == b).count() as f64 / n as f64;
            let expected = f64::from(p * p + (1.0 - p) * (1.0 - p));
            assert!((same - expected).abs() < 0.01, "another key gives an independent mask ({same} vs {expected})");
        }
        // neighbouring elements are independent: P(both dropped) ≈ p²
        let m = mask(n, 7, 0.5);
        let both = m.windows(2).filter(|w| w[0] == 0.0 && w[1] == 0.0).count() as f64 / (n - 1) as f64;
        assert!((both - 0.25).abs() < 0.01, "{both}");
    }

    #[test]
    fn residual_is_added_and_p_zero_keeps_everything() {
        let x = vec![2f32; 100];
        let r: Vec<f32> = (0..100).map(|i| i as f32).collect();
        let mut y = vec![0f32; 100];
        apply(&x, 1, 0.0, &r, &mut y);
        assert!(y.iter().enumerate().all(|(i, &v)| v == i as f32 + 2.0));
    }
}
