//! LayerNorm over the last dimension, `y = (x − μ) / √(σ² + ε) · w + b` with the biased variance, as
//! PyTorch computes it. The backward recomputes μ and 1/σ from `x` (one pass over a row that is in
//! cache anyway) instead of saving them.

use rayon::prelude::*;

use crate::rows_per_task;
use crate::simd::{dot, sum};

/// μ and 1/√(σ² + ε) of one row (two passes: the variance of the centred values).
#[inline(always)]
fn stats(x: &[f32], eps: f32) -> (f32, f32) {
    let n = x.len() as f32;
    let mean = sum(x) / n;
    let mut acc = [0f32; 8];
    let chunks = x.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..8 {
            let d = c[i] - mean;
            acc[i] += d * d;
        }
    }
    let mut ss = acc.iter().sum::<f32>();
    for &v in rest {
        ss += (v - mean) * (v - mean);
    }
    (mean, 1.0 / (ss / n + eps).sqrt())
}

vectorised! {
    fn forward_rows(x: &[f32], w: &[f32], b: &[f32], eps: f32, y: &mut [f32]) {
        let h = w.len();
        for (x, y) in x.chunks_exact(h).zip(y.chunks_exact_mut(h)) {
            let (mean, rstd) = stats(x, eps);
            for i in 0..h {
                y[i] = (x[i] - mean) * rstd * w[i] + b[i];
            }
        }
    }
}

/// `y` (rows × h) from `x` (rows × h), weight and bias (h).
pub fn forward(x: &[f32], w: &[f32], b: &[f32], eps: f32, y: &mut [f32]) {
    let h = w.len();
    assert!(h > 0 && b.len() == h && x.len().is_multiple_of(h) && y.len() == x.len(), "layer_norm::forward: shapes");
    let block = rows_per_task(h) * h;
    x.par_chunks(block).zip(y.par_chunks_mut(block)).for_each(|(x, y)| forward_rows(x, w, b, eps, y));
}

vectorised! {
    /// dx of a block of rows, and that block's partial dw, db (added to `dw`, `db`).
    fn backward_rows(x: &[f32], w: &[f32], dy: &[f32], eps: f32, dx: &mut [f32], dw: &mut [f32], db: &mut [f32]) {
        let h = w.len();
        let n = h as f32;
        let mut g = vec![0f32; h];
        let mut xhat = vec![0f32; h];
        for ((x, dy), dx) in x.chunks_exact(h).zip(dy.chunks_exact(h)).zip(dx.chunks_exact_mut(h)) {
            let (mean, rstd) = stats(x, eps);
            for i in 0..h {
                xhat[i] = (x[i] - mean) * rstd;
                g[i] = dy[i] * w[i];
                dw[i] += dy[i] * xhat[i];
                db[i] += dy[i];
            }
            let mean_g = sum(&g) / n;
            let mean_gx = dot(&g, &xhat) / n;
            for i in 0..h {
                dx[i] = rstd * (g[i] - mean_g - xhat[i] * mean_gx);
            }
        }
    }
}

/// The gradients of [`forward`]: `dx` (rows × h), `dw` and `db` (h, overwritten).
pub fn backward(x: &[f32], w: &[f32], dy: &[f32], eps: f32, dx: &mut [f32], dw: &mut [f32], db: &mut [f32]) {
    let h = w.len();
    assert!(
        h > 0 && x.len().is_multiple_of(h) && dy.len() == x.len() && dx.len() == x.len() && dw.len() == h && db.len() == h,
        "layer_norm::backward: shapes"
    );
    let block = rows_per_task(h) * h;
    let partials: Vec<(Vec<f32>, Vec<f32>)> = x
        .par_chunks(block)
        .zip(dy.par_chunks(block))
        .zip(dx.par_chunks_mut(block))
        .map(|((x, dy), dx)| {
            let (mut pw, mut pb) = (vec![0f32; h], vec![0f32; h]);
            backward_rows(x, w, dy, eps, dx, &mut pw, &mut pb);
            (pw, pb)
        })
        .collect();
    crate::sum_partials(partials.iter().map(|(w, _)| w), dw);
    crate::sum_partials(partials.iter().map(|(_, b)| b), db);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(x: &[f64], w: &[f64], b: &[f64], eps: f64) -> Vec<f64> {
        let h = w.len();
        x.chunks(h)
            .flat_map(|r| {
                let mean = r.iter().sum::<f64>() / h as f64;
                let var = r.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / h as f64;
                (0..h).map(move |i| (r[i] - mean) / (var + eps).sqrt() * w[i] + b[i]).collect::<Vec<_>>()
            })
            .collect()
    }

    fn data(n: usize, seed: u32) -> Vec<f32> {
        (0..n).map(|i| ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) >> 8) as f32 / 8_388_608.0 - 1.0).collect()
    }

    /// Forward against an f64 reference; backward against central differences of Σ y·r in f64.
    #[test]
    fn forward_and_backward_match_f64_and_finite_differences() {
        for (rows, h) in [(3, 5), (7, 37), (2, 384)] {
            let x = data(rows * h, 1);
            let w = data(h, 2);
            let b = data(h, 3);
            let r = data(rows * h, 4);
            let eps = 1e-5;
            let mut y = vec![0f32; x.len()];
            forward(&x, &w, &b, eps, &mut y);
            let to64 = |v: &[f32]| v.iter().map(|&a| f64::from(a)).collect::<Vec<_>>();
            let want = reference(&to64(&x), &to64(&w), &to64(&b), f64::from(eps));
            for (a, b) in y.iter().zip(&want) {
                assert!((f64::from(*a) - b).abs() < 1e-5, "forward {a} vs {b}");
            }
            let (mut dx, mut dw, mut db) = (vec![0f32; x.len()], vec![0f32; h], vec![0f32; h]);
            backward(&x, &w, &r, eps, &mut dx, &mut dw, &mut db);
            let loss = |x: &[f64], w: &[f64], b: &[f64]| {
                reference(x, w, b, f64::from(eps)).iter().zip(&r).map(|(y, r)| y * f64::from(*r)).sum::<f64>()
            };
            let (x64, w64, b64) = (to64(&x), to64(&w), to64(&b));
            let d = 1e-6;
            for i in [0, x.len() / 2, x.len() - 1] {
                let (mut p, mut m) = (x64.clone(), x64.clone());
                p[i] += d;
                m[i] -= d;
                let fd = (loss(&p, &w64, &b64) - loss(&m, &w64, &b64)) / (2.0 * d);
                assert!((fd - f64::from(dx[i])).abs() < 2e-4 * (1.0 + fd.abs()), "dx[{i}] {} vs {fd}", dx[i]);
            }
            for i in [0, h - 1] {
                let (mut p, mut m) = (w64.clone(), w64.clone());
                p[i] += d;
                m[i] -= d;
                let fd = (loss(&x64, &p, &b64) - loss(&x64, &m, &b64)) / (2.0 * d);
                assert!((fd - f64::from(dw[i])).abs() < 2e-4 * (1.0 + fd.abs()), "dw[{i}] {} vs {fd}", dw[i]);
                let (mut p, mut m) = (b64.clone(), b64.clone());
                p[i] += d;
                m[i] -= d;
                let fd = (loss(&x64, &w64, &p) - loss(&x64, &w64, &m)) / (2.0 * d);
                assert!((fd - f64::from(db[i])).abs() < 2e-4 * (1.0 + fd.abs()), "db[{i}] {} vs {fd}", db[i]);
            }
        }
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let (rows, h) = (300, 128);
        let x = data(rows * h, 5);
        let w = data(h, 6);
        let dy = data(rows * h, 7);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let (mut dx, mut dw, mut db) = (vec![0f32; x.len()], vec![0f32; h], vec![0f32; h]);
                backward(&x, &w, &dy, 1e-12, &mut dx, &mut dw, &mut db);
                (dx, dw, db)
            })
        };
        assert_eq!(run(1), run(3));
    }
}
