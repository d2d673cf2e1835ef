//! A whole post-LayerNorm transformer encoder layer (BERT's) as one forward and one backward, so the
//! autograd graph holds one node per layer instead of one per operation:
//!
//! ```text
//! q, k, v = x·Wqkvᵀ + bqkv            (the three projections as one product)
//! ctx     = attention(q, k, v; padding bias, dropout on the probabilities)
//! h1      = LN₁(x + dropout(ctx·Woᵀ + bo))
//! u       = gelu(h1·Wiᵀ + bi)
//! y       = LN₂(h1 + dropout(u·Wo₂ᵀ + bo₂))
//! ```
//!
//! The parameters come packed in one buffer in [`PARTS`] order (PyTorch's layouts), and their gradients
//! go back the same way. The forward keeps q, k, v, the probabilities, ctx, the two pre-norm sums, h1,
//! the pre-activation and u for the backward; dropout masks are drawn again from their keys.

use crate::attention::{self, ProbDropout};
use crate::{dropout, gelu, layer_norm, linear, reduce};

/// The parameters of a layer, in packing order: the query, key and value weights first and then their
/// biases, so that the packed buffer starts with the `(3H, H)` weight and `(3H)` bias of one fused
/// projection.
pub const PARTS: [&str; 16] = [
    "query.weight", "key.weight", "value.weight", "query.bias", "key.bias", "value.bias",
    "attention.output.weight", "attention.output.bias", "attention.norm.weight", "attention.norm.bias",
    "intermediate.weight", "intermediate.bias", "output.weight", "output.bias", "output.norm.weight", "output.norm.bias",
];

/// The sizes of the packed parts for hidden size `h` and intermediate size `i`.
pub fn part_sizes(h: usize, i: usize) -> [usize; 16] {
    [h * h, h * h, h * h, h, h, h, h * h, h, h, h, i * h, i, h * i, h, h, h]
}

#[derive(Clone, Copy, Debug)]
pub struct Dims {
    pub batch: usize,
    pub seq: usize,
    pub hidden: usize,
    pub heads: usize,
    pub intermediate: usize,
    pub eps: f32,
}

impl Dims {
    fn tokens(&self) -> usize {
        self.batch * self.seq
    }

    fn attention(&self) -> attention::Dims {
        attention::Dims { batch: self.batch, seq: self.seq, heads: self.heads, head_dim: self.hidden / self.heads }
    }

    pub fn packed_len(&self) -> usize {
        part_sizes(self.hidden, self.intermediate).iter().sum()
    }
}

/// The dropout of one call of the layer: on the attention probabilities and on each sublayer output
/// (`p` = 0: none).
#[derive(Clone, Copy, Debug)]
pub struct Keys {
    pub attention: ProbDropout,
    pub attention_output: ProbDropout,
    pub output: ProbDropout,
}

/// What the forward keeps for the backward.
pub struct Saved {
    qkv: Vec<f32>,
    probs: Vec<f32>,
    ctx: Vec<f32>,
    r1: Vec<f32>,
    h1: Vec<f32>,
    f: Vec<f32>,
    u: Vec<f32>,
    r2: Vec<f32>,
}

/// The parts after the query/key/value weights and biases, from `rest` (which starts there), as
/// `split` gives them for the values (the first six entries are empty).
fn split_rest<'a>(rest: &'a mut [f32], d: &Dims) -> [&'a mut [f32]; 16] {
    let sizes = part_sizes(d.hidden, d.intermediate);
    let mut parts: Vec<&'a mut [f32]> = Vec::with_capacity(16);
    let mut rest = rest;
    for (i, n) in sizes.into_iter().enumerate() {
        if i < 6 {
            parts.push(&mut []);
            continue;
        }
        let (a, b) = rest.split_at_mut(n);
        parts.push(a);
        rest = b;
    }
    parts.try_into().unwrap_or_else(|_| unreachable!("16 parts"))
}

/// A buffer for a kernel's output.
pub fn buffer(n: usize) -> Vec<f32> {
    vec![0f32; n]
}

fn split<'a>(w: &'a [f32], d: &Dims) -> [&'a [f32]; 16] {
    let sizes = part_sizes(d.hidden, d.intermediate);
    let mut out: [&[f32]; 16] = [&[]; 16];
    let mut rest = w;
    for (o, n) in out.iter_mut().zip(sizes) {
        let (a, b) = rest.split_at(n);
        *o = a;
        rest = b;
    }
    out
}

/// Three adjacent parts of `whole` as one slice.
fn joined<'a>(whole: &'a [f32], a: &[f32], b: &[f32], c: &[f32]) -> &'a [f32] {
    let start = a.as_ptr() as usize - whole.as_ptr() as usize;
    let start = start / std::mem::size_of::<f32>();
    debug_assert!(a.as_ptr_range().end == b.as_ptr() && b.as_ptr_range().end == c.as_ptr());
    &whole[start..start + a.len() + b.len() + c.len()]
}

/// Dropout of `x` joining `residual`: `residual + x ⊙ mask / (1 − p)`.
fn dropout_add(x: &[f32], residual: &[f32], drop: ProbDropout, out: &mut [f32]) {
    dropout::apply(x, drop.key, drop.p, residual, out)
}

/// The layer's output `y` (tokens × hidden) and what the backward needs. `bias` is empty or
/// (batch, seq).
pub fn forward(x: &[f32], w: &[f32], bias: &[f32], d: &Dims, keys: &Keys) -> (Vec<f32>, Saved) {
    let (t, h, i) = (d.tokens(), d.hidden, d.intermediate);
    assert!(x.len() == t * h && w.len() == d.packed_len() && d.heads > 0 && h % d.heads == 0, "encoder_layer::forward: shapes");
    let [wq, wk, wv, bq, bk, bv, wo, bo, g1, b1, wi, bi, wo2, bo2, g2, b2] = split(w, d);
    // The packing makes [Wq; Wk; Wv] one (3H, H) matrix and [bq; bk; bv] one (3H) bias.
    let (wqkv, bqkv) = (joined(w, wq, wk, wv), joined(w, bq, bk, bv));
    let lin = |x: &[f32], w: &[f32], b: &[f32], k: usize, n: usize| {
        let mut y = buffer(t * n);
        linear::forward(x, w, b, t, k, n, &mut y);
        y
    };
    let qkv = lin(x, wqkv, bqkv, h, 3 * h);
    let ad = d.attention();
    let (mut ctx, mut probs) = (buffer(t * h), buffer(d.batch * d.heads * d.seq * d.seq));
    let scale = 1.0 / (ad.head_dim as f32).sqrt();
    attention::forward_packed(&qkv, bias, ad, scale, keys.attention, &mut ctx, &mut probs);
    let a = lin(&ctx, wo, bo, h, h);
    let mut r1 = buffer(t * h);
    dropout_add(&a, x, keys.attention_output, &mut r1);
    drop(a);
    let mut h1 = buffer(t * h);
    layer_norm::forward(&r1, g1, b1, d.eps, &mut h1);
    let f = lin(&h1, wi, &[], h, i);
    let mut u = buffer(t * i);
    gelu::forward(&f, bi, &mut u);
    let o = lin(&u, wo2, bo2, i, h);
    let mut r2 = buffer(t * h);
    dropout_add(&o, &h1, keys.output, &mut r2);
    drop(o);
    let mut y = buffer(t * h);
    layer_norm::forward(&r2, g2, b2, d.eps, &mut y);
    (y, Saved { qkv, probs, ctx, r1, h1, f, u, r2 })
}

/// The gradients of [`forward`] from `dy`: `dx` when `want_dx`, the packed parameter gradients when
/// `want_dw`.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    dy: &[f32],
    x: &[f32],
    w: &[f32],
    s: &Saved,
    d: &Dims,
    keys: &Keys,
    want_dx: bool,
    want_dw: bool,
) -> (Option<Vec<f32>>, Option<Vec<f32>>) {
    let (t, h, i) = (d.tokens(), d.hidden, d.intermediate);
    assert!(dy.len() == t * h && x.len() == t * h && w.len() == d.packed_len(), "encoder_layer::backward: shapes");
    let [wq, wk, wv, bq, bk, bv, wo, _bo, g1, _b1, wi, bi, wo2, _bo2, g2, _b2] = split(w, d);
    let wqkv = joined(w, wq, wk, wv);
    let (wqkv_len, bqkv_len) = (3 * h * h, bq.len() + bk.len() + bv.len());
    // The packed parameter gradients (LayerNorm's and GELU's kernels write theirs even when nobody
    // wants them; the weight products are skipped then).
    let mut dw = buffer(d.packed_len());
    let (dwqkv, rest) = dw.split_at_mut(wqkv_len);
    let (dbqkv, rest) = rest.split_at_mut(bqkv_len);
    let [_, _, _, _, _, _, dwo, dbo, dg1, db1, dwi, dbi, dwo2, dbo2, dg2, db2] = split_rest(rest, d);
    let lin_w = |dy: &[f32], x: &[f32], k: usize, n: usize, dw: &mut [f32], db: &mut [f32]| {
        if want_dw {
            linear::backward_weight(dy, x, t, k, n, dw);
            reduce::col_sum(dy, db);
        }
    };
    // LN₂
    let mut dr2 = buffer(t * h);
    layer_norm::backward(&s.r2, g2, dy, d.eps, &mut dr2, dg2, db2);
    // output linear (through its dropout)
    let mut dout = buffer(t * h);
    dropout::apply(&dr2, keys.output.key, keys.output.p, &[], &mut dout);
    let mut du = buffer(t * i);
    linear::backward_input(&dout, wo2, t, i, h, &mut du);
    lin_w(&dout, &s.u, i, h, dwo2, dbo2);
    drop(dout);
    // GELU and the intermediate linear
    let mut df = buffer(t * i);
    gelu::backward(&s.f, bi, &du, &mut df, dbi);
    drop(du);
    let mut dh1 = dr2; // the residual path, then the intermediate linear's input gradient on top
    linear::backward_input_into(&df, wi, t, h, i, true, &mut dh1);
    if want_dw {
        linear::backward_weight(&df, &s.h1, t, h, i, dwi);
    }
    drop(df);
    // LN₁
    let mut dr1 = buffer(t * h);
    layer_norm::backward(&s.r1, g1, &dh1, d.eps, &mut dr1, dg1, db1);
    drop(dh1);
    // attention output linear (through its dropout)
    let mut da = buffer(t * h);
    dropout::apply(&dr1, keys.attention_output.key, keys.attention_output.p, &[], &mut da);
    let mut dctx = buffer(t * h);
    linear::backward_input(&da, wo, t, h, h, &mut dctx);
    lin_w(&da, &s.ctx, h, h, dwo, dbo);
    drop(da);
    // attention
    let mut dqkv = buffer(t * 3 * h);
    let ad = d.attention();
    let scale = 1.0 / (ad.head_dim as f32).sqrt();
    attention::backward_packed(&s.qkv, &s.probs, &dctx, ad, scale, keys.attention, &mut dqkv);
    drop(dctx);
    // the fused projection
    lin_w(&dqkv, x, h, 3 * h, dwqkv, dbqkv);
    let dx = if want_dx {
        let mut dx = dr1;
        linear::backward_input_into(&dqkv, wqkv, t, h, 3 * h, true, &mut dx);
        Some(dx)
    } else {
        None
    };
    (dx, if want_dw { Some(dw) } else { None })
}
