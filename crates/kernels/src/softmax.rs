//! Softmax over the last dimension of `scale · x + bias`, the attention form: `x` is
//! `(batch, heads, queries, keys)` flattened to rows of `keys`, and `bias` holds one row of `keys` per
//! batch element (0 where attended, a very negative value at padding), shared by every row of that
//! element. A row whose keys are all masked comes out uniform, as the composed softmax gives it.

use rayon::prelude::*;

use crate::rows_per_task;
use crate::simd::{dot, exp, max, sum};

/// `y = softmax(scale · x + bias[row / rows_per_group])` row by row; `bias` is empty (no bias) or
/// `(rows / rows_per_group) × n`.
pub fn forward(x: &[f32], n: usize, bias: &[f32], rows_per_group: usize, scale: f32, y: &mut [f32]) {
    assert!(n > 0 && x.len().is_multiple_of(n) && y.len() == x.len(), "softmax::forward: shapes");
    let rows = x.len() / n;
    assert!(
        bias.is_empty() || (rows_per_group > 0 && rows.is_multiple_of(rows_per_group) && bias.len() == rows / rows_per_group * n),
        "softmax::forward: bias shape"
    );
    let per = rows_per_task(n);
    x.par_chunks(per * n).zip(y.par_chunks_mut(per * n)).enumerate().for_each(|(task, (x, y))| {
        rows_forward(x, n, bias, task * per, rows_per_group, scale, y)
    });
}

vectorised! {
    fn rows_forward(x: &[f32], n: usize, bias: &[f32], first_row: usize, rows_per_group: usize, scale: f32, y: &mut [f32]) {
        for (r, (x, y)) in x.chunks_exact(n).zip(y.chunks_exact_mut(n)).enumerate() {
            let b = if bias.is_empty() {
                &[][..]
            } else {
                let g = (first_row + r) / rows_per_group;
                &bias[g * n..(g + 1) * n]
            };
            row(x, b, scale, y);
        }
    }
}

/// Softmax of `scale · x + bias` of one row (`bias` empty: none).
#[inline(always)]
fn row(x: &[f32], bias: &[f32], scale: f32, y: &mut [f32]) {
    let n = y.len();
    if bias.is_empty() {
        for i in 0..n {
            y[i] = x[i] * scale;
        }
    } else {
        for i in 0..n {
            y[i] = x[i] * scale + bias[i];
        }
    }
    let m = max(y);
    for v in y.iter_mut() {
        *v = exp(*v - m);
    }
    let inv = 1.0 / sum(y);
    for v in y.iter_mut() {
        *v *= inv;
    }
}

vectorised! {
    /// Softmax of `scale · x + bias` for rows that share one bias row (empty: none).
    pub(crate) fn rows_with_bias(x: &[f32], n: usize, bias: &[f32], scale: f32, y: &mut [f32]) {
        for (x, y) in x.chunks_exact(n).zip(y.chunks_exact_mut(n)) {
            row(x, bias, scale, y);
        }
    }
}

vectorised! {
    pub(crate) fn rows_backward(y: &[f32], dy: &[f32], n: usize, scale: f32, dx: &mut [f32]) {
        for ((y, dy), dx) in y.chunks_exact(n).zip(dy.chunks_exact(n)).zip(dx.chunks_exact_mut(n)) {
            let s = dot(dy, y);
            for i in 0..n {
                dx[i] = scale * y[i] * (dy[i] - s);
            }
        }
    }
}

/// The gradient with respect to `x` of [`forward`]: `dx = scale · y ⊙ (dy − Σ dy ⊙ y)`, from the
/// forward's output `y`.
pub fn backward(y: &[f32], dy: &[f32], n: usize, scale: f32, dx: &mut [f32]) {
    assert!(n > 0 && y.len().is_multiple_of(n) && dy.len() == y.len() && dx.len() == y.len(), "softmax::backward: shapes");
    let block = rows_per_task(n) * n;
    y.par_chunks(block)
        .zip(dy.par_chunks(block))
        .zip(dx.par_chunks_mut(block))
        .for_each(|((y, dy), dx)| rows_backward(y, dy, n, scale, dx));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(x: &[f64], n: usize, bias: &[f64], rpg: usize, scale: f64) -> Vec<f64> {
        x.chunks(n)
            .enumerate()
            .flat_map(|(r, row)| {
                let z: Vec<f64> = (0..n).map(|i| row[i] * scale + if bias.is_empty() { 0.0 } else { bias[r / rpg * n + i] }).collect();
                let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
                let s: f64 = e.iter().sum();
                e.into_iter().map(move |v| v / s)
            })
            .collect()
    }

    #[test]
    fn forward_and_backward_match_f64_and_finite_differences_with_masked_rows() {
        let (groups, rpg, n) = (3, 4, 13);
        let rows = groups * rpg;
        let x: Vec<f32> = (0..rows * n).map(|i| ((i * 37 % 101) as f32 - 50.0) / 9.0).collect();
        // group 0: last 3 keys masked; group 1: none; group 2: every key masked.
        let mut bias = vec![0f32; groups * n];
        bias[n - 3..n].fill(f32::MIN);
        bias[2 * n..3 * n].fill(f32::MIN);
        let scale = 0.35;
        let mut y = vec![0f32; x.len()];
        forward(&x, n, &bias, rpg, scale, &mut y);
        assert!(y.iter().all(|v| v.is_finite()));
        for r in 0..rpg {
            assert!(y[r * n + n - 3..(r + 1) * n].iter().all(|&v| v == 0.0), "masked keys get 0");
        }
        // fully masked rows: uniform, as the composed op (every score is equally very negative)
        let x64: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        let want = reference(&x64, n, &[], 1, f64::from(scale));
        for r in 2 * rpg..3 * rpg {
            for i in 0..n {
                let v = y[r * n + i];
                assert!((v - 1.0 / n as f32).abs() < 1e-6 || (f64::from(v) - want[r * n + i]).abs() < 1e-6);
            }
        }
        // unmasked group against f64
        for r in rpg..2 * rpg {
            for i in 0..n {
                assert!((f64::from(y[r * n + i]) - want[r * n + i]).abs() < 1e-6);
            }
        }
        // backward against finite differences of Σ y·w on the group without a mask
        let w: Vec<f64> = (0..rows * n).map(|i| ((i * 13 % 7) as f64 - 3.0) / 3.0).collect();
        let dy: Vec<f32> = w.iter().map(|&v| v as f32).collect();
        let mut dx = vec![0f32; x.len()];
        backward(&y, &dy, n, scale, &mut dx);
        let loss = |x: &[f64]| reference(x, n, &[], 1, f64::from(scale)).iter().zip(&w).map(|(a, b)| a * b).sum::<f64>();
        for i in [rpg * n, rpg * n + 5, 2 * rpg * n - 1] {
            let (mut p, mut m) = (x64.clone(), x64.clone());
            p[i] += 1e-6;
            m[i] -= 1e-6;
            let fd = (loss(&p) - loss(&m)) / 2e-6;
            assert!((fd - f64::from(dx[i])).abs() < 1e-5, "dx[{i}] {} vs {fd}", dx[i]);
        }
    }
}
