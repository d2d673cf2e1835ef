//! Scaled dot-product self-attention that reads Q, K and V in the `(batch, seq, heads · head_dim)`
//! layout the projections write (no transposed copies), with the padding bias, softmax and dropout on
//! the probabilities, and writes the context in the same layout. Forward and backward run one task per
//! (batch element, head) with a single-threaded gemm each, in parallel over the tasks; the
//! probabilities are the one saved activation.

use rayon::prelude::*;

use crate::{dropout, mm, softmax};

/// The shape of one call.
#[derive(Clone, Copy, Debug)]
pub struct Dims {
    pub batch: usize,
    pub seq: usize,
    pub heads: usize,
    pub head_dim: usize,
}

impl Dims {
    fn hidden(&self) -> usize {
        self.heads * self.head_dim
    }
}

/// Dropout on the probabilities: key and probability (`p` = 0: none).
#[derive(Clone, Copy, Debug)]
pub struct ProbDropout {
    pub key: u64,
    pub p: f32,
}

/// A raw pointer that tasks writing disjoint parts of one buffer share.
#[derive(Clone, Copy)]
struct Shared(*mut f32);
// SAFETY: every task writes only the (batch, head) slice it owns.
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

/// Where Q, K and V are: three row-major buffers of `(batch·seq)` rows, or one packed buffer (rows of
/// `[q | k | v]`), each addressed by its start and a row stride `ld` in elements.
#[derive(Clone, Copy)]
struct Qkv {
    q: *const f32,
    k: *const f32,
    v: *const f32,
    ld: usize,
}
// SAFETY: read-only pointers into buffers that outlive the parallel loop.
unsafe impl Send for Qkv {}
unsafe impl Sync for Qkv {}

/// The gradients' counterpart of [`Qkv`].
#[derive(Clone, Copy)]
struct DQkv {
    q: Shared,
    k: Shared,
    v: Shared,
    ld: usize,
}

/// The forward pass: `ctx` (B, S, H) and the probabilities `probs` (B, heads, S, S) before dropout.
/// `bias` is empty or (B, S).
#[allow(clippy::too_many_arguments)]
pub fn forward(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    bias: &[f32],
    d: Dims,
    scale: f32,
    drop: ProbDropout,
    ctx: &mut [f32],
    probs: &mut [f32],
) {
    let n = d.batch * d.seq * d.hidden();
    assert!(q.len() == n && k.len() == n && v.len() == n, "attention::forward: shapes");
    let qkv = Qkv { q: q.as_ptr(), k: k.as_ptr(), v: v.as_ptr(), ld: d.hidden() };
    forward_impl(qkv, bias, d, scale, drop, ctx, probs)
}

/// [`forward`] from one packed `(B·S, 3H)` buffer of `[q | k | v]` rows (one projection's output).
#[allow(clippy::too_many_arguments)]
pub fn forward_packed(qkv: &[f32], bias: &[f32], d: Dims, scale: f32, drop: ProbDropout, ctx: &mut [f32], probs: &mut [f32]) {
    let h = d.hidden();
    assert!(qkv.len() == d.batch * d.seq * 3 * h, "attention::forward_packed: shapes");
    let p = qkv.as_ptr();
    // SAFETY: offsets h and 2h stay inside the buffer.
    let qkv = unsafe { Qkv { q: p, k: p.add(h), v: p.add(2 * h), ld: 3 * h } };
    forward_impl(qkv, bias, d, scale, drop, ctx, probs)
}

fn forward_impl(qkv: Qkv, bias: &[f32], d: Dims, scale: f32, drop: ProbDropout, ctx: &mut [f32], probs: &mut [f32]) {
    let (s, h) = (d.seq, d.hidden());
    assert!(ctx.len() == d.batch * s * h, "attention::forward: shapes");
    assert!(probs.len() == d.batch * d.heads * s * s && (bias.is_empty() || bias.len() == d.batch * s), "attention::forward: shapes");
    let out = Shared(ctx.as_mut_ptr());
    probs.par_chunks_mut(s * s).enumerate().for_each(|(task, p)| {
        let (b, head) = (task / d.heads, task % d.heads);
        let off_in = b * s * qkv.ld + head * d.head_dim;
        let off_out = b * s * h + head * d.head_dim;
        // The whole struct, not its raw-pointer fields (which are not Send), moves into the closure.
        #[allow(clippy::redundant_locals)]
        let qkv = qkv;
        let mut scores = vec![0f32; s * s];
        // SAFETY: offsets and strides stay inside q, k (B·S rows of ld) and scores (S·S).
        unsafe { mm(s, s, d.head_dim, scores.as_mut_ptr(), s, false, qkv.q.add(off_in), qkv.ld, 1, qkv.k.add(off_in), 1, qkv.ld, false) };
        let bias_row = if bias.is_empty() { &[][..] } else { &bias[b * s..(b + 1) * s] };
        softmax::rows_with_bias(&scores, s, bias_row, scale, p);
        let weights = if drop.p > 0.0 {
            dropout::apply_block(p, (task * s * s) as u32, drop.key, drop.p, &mut scores);
            &scores
        } else {
            &*p
        };
        #[allow(clippy::redundant_locals)]
        let out = out;
        // SAFETY: this task owns columns head·D..(head+1)·D of batch element b's rows of ctx.
        unsafe { mm(s, d.head_dim, s, out.0.add(off_out), h, false, weights.as_ptr(), s, 1, qkv.v.add(off_in), qkv.ld, 1, false) };
    });
}

/// The backward pass: `dq`, `dk`, `dv` (B, S, H) from `dctx` and the saved probabilities.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    probs: &[f32],
    dctx: &[f32],
    d: Dims,
    scale: f32,
    drop: ProbDropout,
    dq: &mut [f32],
    dk: &mut [f32],
    dv: &mut [f32],
) {
    let n = d.batch * d.seq * d.hidden();
    assert!(q.len() == n && k.len() == n && v.len() == n, "attention::backward: shapes");
    assert!(dq.len() == n && dk.len() == n && dv.len() == n, "attention::backward: shapes");
    let qkv = Qkv { q: q.as_ptr(), k: k.as_ptr(), v: v.as_ptr(), ld: d.hidden() };
    let dqkv = DQkv { q: Shared(dq.as_mut_ptr()), k: Shared(dk.as_mut_ptr()), v: Shared(dv.as_mut_ptr()), ld: d.hidden() };
    backward_impl(qkv, probs, dctx, d, scale, drop, dqkv)
}

/// [`backward`] for [`forward_packed`]: the gradient of the packed buffer, `(B·S, 3H)`.
#[allow(clippy::too_many_arguments)]
pub fn backward_packed(qkv: &[f32], probs: &[f32], dctx: &[f32], d: Dims, scale: f32, drop: ProbDropout, dqkv: &mut [f32]) {
    let h = d.hidden();
    assert!(qkv.len() == d.batch * d.seq * 3 * h && dqkv.len() == qkv.len(), "attention::backward_packed: shapes");
    let (p, dp) = (qkv.as_ptr(), dqkv.as_mut_ptr());
    // SAFETY: offsets h and 2h stay inside the buffers.
    let (qkv, dqkv) = unsafe {
        (
            Qkv { q: p, k: p.add(h), v: p.add(2 * h), ld: 3 * h },
            DQkv { q: Shared(dp), k: Shared(dp.add(h)), v: Shared(dp.add(2 * h)), ld: 3 * h },
        )
    };
    backward_impl(qkv, probs, dctx, d, scale, drop, dqkv)
}

fn backward_impl(qkv: Qkv, probs: &[f32], dctx: &[f32], d: Dims, scale: f32, drop: ProbDropout, dqkv: DQkv) {
    let (s, h) = (d.seq, d.hidden());
    assert!(dctx.len() == d.batch * s * h && probs.len() == d.batch * d.heads * s * s, "attention::backward: shapes");
    probs.par_chunks(s * s).enumerate().for_each(|(task, p)| {
        let (b, head) = (task / d.heads, task % d.heads);
        let off_in = b * s * qkv.ld + head * d.head_dim;
        let off_ctx = b * s * h + head * d.head_dim;
        let first = (task * s * s) as u32;
        let mut dropped = vec![0f32; s * s];
        let weights = if drop.p > 0.0 {
            dropout::apply_block(p, first, drop.key, drop.p, &mut dropped);
            &dropped
        } else {
            p
        };
        // As in `forward_impl`: capture the structs whole.
        #[allow(clippy::redundant_locals)]
        let (qkv, dqkv) = (qkv, dqkv);
        let ld = qkv.ld;
        let mut dp = vec![0f32; s * s];
        // SAFETY: strides as in `forward`; each task owns its (b, head) columns of dq, dk, dv.
        unsafe {
            // dV = Pᵀ · dctx
            mm(s, d.head_dim, s, dqkv.v.0.add(off_in), dqkv.ld, false, weights.as_ptr(), 1, s, dctx.as_ptr().add(off_ctx), h, 1, false);
            // dP = dctx · Vᵀ
            mm(s, s, d.head_dim, dp.as_mut_ptr(), s, false, dctx.as_ptr().add(off_ctx), h, 1, qkv.v.add(off_in), 1, ld, false);
        }
        if drop.p > 0.0 {
            let raw = dp.clone();
            dropout::apply_block(&raw, first, drop.key, drop.p, &mut dp);
        }
        let mut ds = dropped;
        softmax::rows_backward(p, &dp, s, scale, &mut ds);
        // SAFETY: as above.
        unsafe {
            // dQ = dS · K
            mm(s, d.head_dim, s, dqkv.q.0.add(off_in), dqkv.ld, false, ds.as_ptr(), s, 1, qkv.k.add(off_in), ld, 1, false);
            // dK = dSᵀ · Q
            mm(s, d.head_dim, s, dqkv.k.0.add(off_in), dqkv.ld, false, ds.as_ptr(), 1, s, qkv.q.add(off_in), ld, 1, false);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, seed: usize) -> Vec<f32> {
        (0..n).map(|i| (((i * 7919 + seed * 104_729) % 2003) as f32 / 1001.5 - 1.0) * 1.5).collect()
    }

    /// Attention by the definition in f64 for one (b, head).
    fn reference(q: &[f64], k: &[f64], v: &[f64], bias: &[f64], d: Dims, scale: f64, mask: &[f64]) -> Vec<f64> {
        let (s, h, hd) = (d.seq, d.hidden(), d.head_dim);
        let mut ctx = vec![0f64; d.batch * s * h];
        for b in 0..d.batch {
            for head in 0..d.heads {
                let off = b * s * h + head * hd;
                for i in 0..s {
                    let z: Vec<f64> = (0..s)
                        .map(|j| {
                            let dot: f64 = (0..hd).map(|x| q[off + i * h + x] * k[off + j * h + x]).sum();
                            dot * scale + if bias.is_empty() { 0.0 } else { bias[b * s + j] }
                        })
                        .collect();
                    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let e: Vec<f64> = z.iter().map(|x| (x - m).exp()).collect();
                    let sum: f64 = e.iter().sum();
                    for x in 0..hd {
                        ctx[off + i * h + x] = (0..s)
                            .map(|j| e[j] / sum * mask[((b * d.heads + head) * s + i) * s + j] * v[off + j * h + x])
                            .sum();
                    }
                }
            }
        }
        ctx
    }

    #[test]
    fn forward_and_backward_match_the_definition_and_finite_differences() {
        let d = Dims { batch: 2, seq: 5, heads: 3, head_dim: 4 };
        let n = d.batch * d.seq * d.hidden();
        let (q, k, v) = (data(n, 1), data(n, 2), data(n, 3));
        let mut bias = vec![0f32; d.batch * d.seq];
        bias[d.seq - 1] = f32::MIN; // last key of batch 0 is padding
        let scale = 0.5;
        let drop = ProbDropout { key: 17, p: 0.3 };
        let pn = d.batch * d.heads * d.seq * d.seq;
        let mask: Vec<f64> = dropout::mask(pn, drop.key, drop.p).iter().map(|&x| f64::from(x)).collect();
        let (mut ctx, mut probs) = (vec![0f32; n], vec![0f32; pn]);
        forward(&q, &k, &v, &bias, d, scale, drop, &mut ctx, &mut probs);
        let to64 = |x: &[f32]| x.iter().map(|&a| f64::from(a)).collect::<Vec<_>>();
        let (q64, k64, v64) = (to64(&q), to64(&k), to64(&v));
        let b64: Vec<f64> = bias.iter().map(|&b| if b < -1e30 { -1e30 } else { f64::from(b) }).collect();
        let want = reference(&q64, &k64, &v64, &b64, d, f64::from(scale), &mask);
        for (a, e) in ctx.iter().zip(&want) {
            assert!((f64::from(*a) - e).abs() < 1e-5, "{a} vs {e}");
        }
        let r = data(n, 4);
        let (mut dq, mut dk, mut dv) = (vec![0f32; n], vec![0f32; n], vec![0f32; n]);
        backward(&q, &k, &v, &probs, &r, d, scale, drop, &mut dq, &mut dk, &mut dv);
        let loss = |q: &[f64], k: &[f64], v: &[f64]| {
            reference(q, k, v, &b64, d, f64::from(scale), &mask).iter().zip(&r).map(|(a, b)| a * f64::from(*b)).sum::<f64>()
        };
        // the packed layout gives the same values
        let packed: Vec<f32> = (0..d.batch * d.seq)
            .flat_map(|r| {
                let h = d.hidden();
                [&q[r * h..(r + 1) * h], &k[r * h..(r + 1) * h], &v[r * h..(r + 1) * h]].concat()
            })
            .collect();
        let (mut ctx2, mut probs2) = (vec![0f32; n], vec![0f32; pn]);
        forward_packed(&packed, &bias, d, scale, drop, &mut ctx2, &mut probs2);
        let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-6 * (1.0 + y.abs()));
        assert!(close(&ctx2, &ctx));
        let mut dpacked = vec![0f32; 3 * n];
        backward_packed(&packed, &probs2, &r, d, scale, drop, &mut dpacked);
        let h = d.hidden();
        for row in 0..d.batch * d.seq {
            assert!(close(&dpacked[row * 3 * h..row * 3 * h + h], &dq[row * h..(row + 1) * h]));
            assert!(close(&dpacked[row * 3 * h + h..row * 3 * h + 2 * h], &dk[row * h..(row + 1) * h]));
            assert!(close(&dpacked[row * 3 * h + 2 * h..(row + 1) * 3 * h], &dv[row * h..(row + 1) * h]));
        }
        for i in [0, 7, n / 2, n - 1] {
            for (which, grad) in [(0, &dq), (1, &dk), (2, &dv)] {
                let (mut p, mut m) = ([q64.clone(), k64.clone(), v64.clone()], [q64.clone(), k64.clone(), v64.clone()]);
                p[which][i] += 1e-6;
                m[which][i] -= 1e-6;
                let fd = (loss(&p[0], &p[1], &p[2]) - loss(&m[0], &m[1], &m[2])) / 2e-6;
                assert!((fd - f64::from(grad[i])).abs() < 1e-4 * (1.0 + fd.abs()), "input {which} [{i}]: {} vs {fd}", grad[i]);
            }
        }
    }
}
