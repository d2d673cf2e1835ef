//! The exact (erf) GELU of `x + bias`, `z · Φ(z)` with `Φ(z) = ½ (1 + erf(z / √2))`, as BERT's
//! `hidden_act: "gelu"`. Fusing the bias of the preceding linear layer saves a pass over the widest
//! activation of the model (the intermediate size) forward and backward.

use rayon::prelude::*;

use crate::rows_per_task;
use crate::simd::{erf, exp};

const FRAC_1_SQRT_2: f32 = std::f32::consts::FRAC_1_SQRT_2;
/// 1 / √(2π)
const FRAC_1_SQRT_2PI: f32 = 0.398_942_3;

vectorised! {
    fn rows_forward(x: &[f32], bias: &[f32], y: &mut [f32]) {
        let n = bias.len();
        for (x, y) in x.chunks_exact(n).zip(y.chunks_exact_mut(n)) {
            for i in 0..n {
                let z = x[i] + bias[i];
                y[i] = z * 0.5 * (1.0 + erf(z * FRAC_1_SQRT_2));
            }
        }
    }
}

vectorised! {
    fn rows_backward(x: &[f32], bias: &[f32], dy: &[f32], dx: &mut [f32], db: &mut [f32]) {
        let n = bias.len();
        for ((x, dy), dx) in x.chunks_exact(n).zip(dy.chunks_exact(n)).zip(dx.chunks_exact_mut(n)) {
            for i in 0..n {
                let z = x[i] + bias[i];
                let cdf = 0.5 * (1.0 + erf(z * FRAC_1_SQRT_2));
                let pdf = FRAC_1_SQRT_2PI * exp(-0.5 * z * z);
                let g = dy[i] * (cdf + z * pdf);
                dx[i] = g;
                db[i] += g;
            }
        }
    }
}

/// `y = gelu(x + bias)` for `x` of rows × n and `bias` of n (zeros for no bias).
pub fn forward(x: &[f32], bias: &[f32], y: &mut [f32]) {
    let n = bias.len();
    assert!(n > 0 && x.len().is_multiple_of(n) && y.len() == x.len(), "gelu::forward: shapes");
    let block = rows_per_task(n) * n;
    x.par_chunks(block).zip(y.par_chunks_mut(block)).for_each(|(x, y)| rows_forward(x, bias, y));
}

/// The gradients of [`forward`]: `dx` (rows × n) and `db` (n, the column sums of `dx`, overwritten).
pub fn backward(x: &[f32], bias: &[f32], dy: &[f32], dx: &mut [f32], db: &mut [f32]) {
    let n = bias.len();
    assert!(
        n > 0 && x.len().is_multiple_of(n) && dy.len() == x.len() && dx.len() == x.len() && db.len() == n,
        "gelu::backward: shapes"
    );
    let block = rows_per_task(n) * n;
    let partials: Vec<Vec<f32>> = x
        .par_chunks(block)
        .zip(dy.par_chunks(block))
        .zip(dx.par_chunks_mut(block))
        .map(|((x, dy), dx)| {
            let mut p = vec![0f32; n];
            rows_backward(x, bias, dy, dx, &mut p);
            p
        })
        .collect();
    crate::sum_partials(&partials, db);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gelu64(z: f64) -> f64 {
        // Φ by the series of erf, as in simd's test
        let x = z / std::f64::consts::SQRT_2;
        let (mut term, mut sum, mut n) = (x, x, 0f64);
        while term.abs() > 1e-17 {
            n += 1.0;
            term *= -x * x / n;
            sum += term / (2.0 * n + 1.0);
        }
        z * 0.5 * (1.0 + sum * 2.0 / std::f64::consts::PI.sqrt())
    }

    #[test]
    fn forward_and_backward_match_f64_and_finite_differences() {
        let n = 11;
        let x: Vec<f32> = (0..3 * n).map(|i| (i as f32 - 16.0) / 6.0).collect();
        let bias: Vec<f32> = (0..n).map(|i| (i as f32 - 5.0) / 10.0).collect();
        let mut y = vec![0f32; x.len()];
        forward(&x, &bias, &mut y);
        for (i, v) in y.iter().enumerate() {
            let want = gelu64(f64::from(x[i]) + f64::from(bias[i % n]));
            assert!((f64::from(*v) - want).abs() < 1e-6, "gelu at {i}: {v} vs {want}");
        }
        let dy: Vec<f32> = (0..x.len()).map(|i| ((i * 7 % 5) as f32 - 2.0) / 2.0).collect();
        let (mut dx, mut db) = (vec![0f32; x.len()], vec![0f32; n]);
        backward(&x, &bias, &dy, &mut dx, &mut db);
        for i in 0..x.len() {
            let z = f64::from(x[i]) + f64::from(bias[i % n]);
            let fd = (gelu64(z + 1e-6) - gelu64(z - 1e-6)) / 2e-6 * f64::from(dy[i]);
            assert!((fd - f64::from(dx[i])).abs() < 1e-5, "dx[{i}] {} vs {fd}", dx[i]);
        }
        for j in 0..n {
            let want: f32 = (0..3).map(|r| dx[r * n + j]).sum();
            assert!((db[j] - want).abs() < 1e-6);
        }
    }
}
