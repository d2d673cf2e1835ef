//! Reductions the training step needs: the sum of squares of a gradient (for the global norm) and the
//! column sums of a matrix (bias gradients). Blocks are fixed by the shape, so results are the same on
//! any number of threads.

use rayon::prelude::*;

use crate::simd::dot;

const BLOCK: usize = 32 * 1024;

vectorised! {
    fn block_sum_sq(x: &[f32]) -> f32 {
        dot(x, x)
    }
}

/// Σ xᵢ², accumulated in f64 across blocks.
pub fn sum_sq(x: &[f32]) -> f64 {
    let parts: Vec<f64> = x.par_chunks(BLOCK).map(|c| f64::from(block_sum_sq(c))).collect();
    parts.iter().sum()
}

vectorised! {
    fn block_col_sum(x: &[f32], out: &mut [f32]) {
        let n = out.len();
        for row in x.chunks_exact(n) {
            for i in 0..n {
                out[i] += row[i];
            }
        }
    }
}

/// The column sums of `x` (rows × n) into `out` (n, overwritten).
pub fn col_sum(x: &[f32], out: &mut [f32]) {
    let n = out.len();
    assert!(n > 0 && x.len().is_multiple_of(n), "reduce::col_sum: shapes");
    let rows_per = (BLOCK / n).max(1);
    let parts: Vec<Vec<f32>> = x
        .par_chunks(rows_per * n)
        .map(|c| {
            let mut p = vec![0f32; n];
            block_col_sum(c, &mut p);
            p
        })
        .collect();
    crate::sum_partials(&parts, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums() {
        let x: Vec<f32> = (0..100_000).map(|i| ((i % 7) as f32 - 3.0) / 2.0).collect();
        let want: f64 = x.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
        assert!((sum_sq(&x) - want).abs() < 1e-6 * want);
        let mut out = vec![0f32; 10];
        col_sum(&x, &mut out);
        for (j, o) in out.iter().enumerate() {
            let want: f32 = (0..10_000).map(|r| x[r * 10 + j]).sum();
            assert!((o - want).abs() < 1e-2, "{o} vs {want}");
        }
    }
}
