//! Linear layers on the gemm crate (the matmul candle itself uses), with the bias fused into the
//! product: `y = x · Wᵀ + b` writes the bias rows first and lets gemm accumulate onto them, and the
//! backward computes `dx = dy · W`, `dW = dyᵀ · x` (straight into W's layout, no transposed copy) and
//! `db` = the column sums of `dy`.

use rayon::prelude::*;

use crate::mm;

/// `y (m×n) = x (m×k) · wᵀ + b`, `w` is `n × k` (PyTorch's layout), `b` has `n` values or is empty.
pub fn forward(x: &[f32], w: &[f32], b: &[f32], m: usize, k: usize, n: usize, y: &mut [f32]) {
    assert!(x.len() == m * k && w.len() == n * k && y.len() == m * n && (b.is_empty() || b.len() == n), "linear::forward: shapes");
    if m == 0 || n == 0 {
        return;
    }
    let read_dst = !b.is_empty();
    if read_dst {
        y.par_chunks_mut(n * (16 * 1024 / n).max(1)).for_each(|rows| rows.chunks_exact_mut(n).for_each(|r| r.copy_from_slice(b)));
    }
    if k == 0 {
        if !read_dst {
            y.fill(0.0);
        }
        return;
    }
    // SAFETY: the slices hold m×k, n×k and m×n values, as the strides below address.
    // rhs = wᵀ: element (kk, j) is w[j·k + kk].
    unsafe { mm(m, n, k, y.as_mut_ptr(), n, read_dst, x.as_ptr(), k, 1, w.as_ptr(), 1, k, true) };
}

/// `dx (m×k) = dy (m×n) · w (n×k)`.
pub fn backward_input(dy: &[f32], w: &[f32], m: usize, k: usize, n: usize, dx: &mut [f32]) {
    backward_input_into(dy, w, m, k, n, false, dx)
}

/// `dx (m×k) [+]= dy (m×n) · w (n×k)`: with `accumulate`, added to what `dx` holds (a gradient that
/// several consumers of one input contribute to, summed by gemm itself).
pub fn backward_input_into(dy: &[f32], w: &[f32], m: usize, k: usize, n: usize, accumulate: bool, dx: &mut [f32]) {
    assert!(dy.len() == m * n && w.len() == n * k && dx.len() == m * k, "linear::backward_input: shapes");
    if n == 0 {
        if !accumulate {
            dx.fill(0.0);
        }
        return;
    }
    if m == 0 || k == 0 {
        return;
    }
    // SAFETY: as in `forward`.
    unsafe { mm(m, k, n, dx.as_mut_ptr(), k, accumulate, dy.as_ptr(), n, 1, w.as_ptr(), k, 1, true) };
}

/// `dw (n×k) = dyᵀ (n×m) · x (m×k)`.
pub fn backward_weight(dy: &[f32], x: &[f32], m: usize, k: usize, n: usize, dw: &mut [f32]) {
    assert!(dy.len() == m * n && x.len() == m * k && dw.len() == n * k, "linear::backward_weight: shapes");
    if m == 0 {
        dw.fill(0.0);
        return;
    }
    if n == 0 || k == 0 {
        return;
    }
    // SAFETY: as in `forward`. lhs = dyᵀ: element (j, i) is dy[i·n + j].
    unsafe { mm(n, k, m, dw.as_mut_ptr(), k, false, dy.as_ptr(), 1, n, x.as_ptr(), k, 1, true) };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(x: &[f32], w: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
        let mut y = vec![0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                let mut s = if b.is_empty() { 0.0 } else { b[j] };
                for kk in 0..k {
                    s += x[i * k + kk] * w[j * k + kk];
                }
                y[i * n + j] = s;
            }
        }
        y
    }

    #[test]
    fn forward_and_backward_match_the_definitions() {
        let (m, k, n) = (37, 19, 23);
        let x: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 13) as f32 - 6.0) / 5.0).collect();
        let w: Vec<f32> = (0..n * k).map(|i| ((i * 5 % 11) as f32 - 5.0) / 4.0).collect();
        let b: Vec<f32> = (0..n).map(|i| i as f32 / 10.0).collect();
        let mut y = vec![0f32; m * n];
        forward(&x, &w, &b, m, k, n, &mut y);
        for (a, e) in y.iter().zip(naive(&x, &w, &b, m, k, n)) {
            assert!((a - e).abs() < 1e-4);
        }
        forward(&x, &w, &[], m, k, n, &mut y);
        for (a, e) in y.iter().zip(naive(&x, &w, &[], m, k, n)) {
            assert!((a - e).abs() < 1e-4);
        }
        let dy: Vec<f32> = (0..m * n).map(|i| ((i * 3 % 7) as f32 - 3.0) / 3.0).collect();
        let mut dx = vec![0f32; m * k];
        backward_input(&dy, &w, m, k, n, &mut dx);
        for i in 0..m {
            for kk in 0..k {
                let e: f32 = (0..n).map(|j| dy[i * n + j] * w[j * k + kk]).sum();
                assert!((dx[i * k + kk] - e).abs() < 1e-4);
            }
        }
        let mut dw = vec![0f32; n * k];
        backward_weight(&dy, &x, m, k, n, &mut dw);
        for j in 0..n {
            for kk in 0..k {
                let e: f32 = (0..m).map(|i| dy[i * n + j] * x[i * k + kk]).sum();
                assert!((dw[j * k + kk] - e).abs() < 1e-3);
            }
        }
    }
}
