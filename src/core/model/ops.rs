//! Every operation of the models that needs a backward pass goes through here, in two versions:
//!
//! - **fused** ([`super::fused`]): one candle custom op per operation with its own backward pass, over
//!   the multi-threaded, vectorised CPU kernels of `lmw_kernels` (f32 on the CPU; bf16/f16 inputs are
//!   computed in f32 and cast back);
//! - **composed**: built only from candle ops that have a backward pass (candle-nn's fused `layer_norm`
//!   and `softmax_last_dim` have none). These are the reference the fused ones are tested against, and
//!   what runs where no fused kernel exists (f64, CUDA).
//!
//! [`Kernels`] is the one switch between them. Dropout draws the same masks in both (a counter-based
//! generator keyed by the seed and the call), so the two paths agree with dropout on too. Device and
//! dtype always come from the inputs.

use std::cell::Cell;
use std::sync::OnceLock;

use candle_core::{DType, Result, Tensor, D};

use super::fused;
use super::rng::SeededRng;

/// Which implementation of the ops runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernels {
    /// The fused custom ops where they apply (f32/bf16/f16 on the CPU), the composed ones elsewhere.
    Fused,
    /// Only the composed reference ops.
    Composed,
}

thread_local! {
    static KERNELS: Cell<Option<Kernels>> = const { Cell::new(None) };
    static GRAD: Cell<bool> = const { Cell::new(true) };
}

/// Whether forward passes on this thread record the autograd graph (see [`no_grad`]).
pub fn grad_enabled() -> bool {
    GRAD.with(|g| g.get())
}

/// Runs `f` without recording the autograd graph (PyTorch's `torch.no_grad()`): parameters enter the
/// forward pass detached, so evaluation and inference keep no activations for a backward pass.
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    let before = GRAD.with(|g| g.replace(false));
    let out = f();
    GRAD.with(|g| g.set(before));
    out
}

/// The process default: fused, unless the environment says `LMW_KERNELS=composed`.
fn default_kernels() -> Kernels {
    static DEFAULT: OnceLock<Kernels> = OnceLock::new();
    *DEFAULT.get_or_init(|| match std::env::var("LMW_KERNELS").as_deref() {
        Ok("composed") => Kernels::Composed,
        _ => Kernels::Fused,
    })
}

/// The kernels the ops use on this thread.
pub fn kernels() -> Kernels {
    KERNELS.with(|k| k.get()).unwrap_or_else(default_kernels)
}

/// Runs `f` with `k` as this thread's kernels (forward passes record their ops, so a backward pass
/// later follows the same choice).
pub fn with_kernels<R>(k: Kernels, f: impl FnOnce() -> R) -> R {
    let before = KERNELS.with(|c| c.replace(Some(k)));
    let out = f();
    KERNELS.with(|c| c.set(before));
    out
}

/// Whether the fused path takes `t`: fused kernels on, on the CPU, in a float type the kernels take
/// (directly or through f32).
fn fused_for(t: &Tensor) -> bool {
    kernels() == Kernels::Fused && t.device().is_cpu() && matches!(t.dtype(), DType::F32 | DType::BF16 | DType::F16)
}

/// Runs a fused op in f32 and casts its result back to the input's dtype.
fn in_f32(t: &Tensor, f: impl FnOnce(&Tensor) -> Result<Tensor>) -> Result<Tensor> {
    if t.dtype() == DType::F32 {
        f(&t.contiguous()?)
    } else {
        f(&t.to_dtype(DType::F32)?.contiguous()?)?.to_dtype(t.dtype())
    }
}

/// The activation functions of transformers' `ACT2FN` that the supported models use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// `gelu`: the exact erf form.
    Gelu,
    /// `gelu_new` / `gelu_pytorch_tanh`: the tanh approximation.
    GeluTanh,
    Relu,
    /// `silu` / `swish`.
    Silu,
    Tanh,
}

impl Activation {
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "gelu" => Some(Self::Gelu),
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Some(Self::GeluTanh),
            "relu" => Some(Self::Relu),
            "silu" | "swish" => Some(Self::Silu),
            "tanh" => Some(Self::Tanh),
            _ => None,
        }
    }

    pub fn forward(self, x: &Tensor) -> Result<Tensor> {
        match self {
            Self::Gelu => gelu_erf(x),
            Self::GeluTanh => x.gelu(),
            Self::Relu => x.relu(),
            Self::Silu => x.silu(),
            Self::Tanh => x.tanh(),
        }
    }
}

/// `x · ½ · (1 + erf(x / √2))`, from `erf` (whose backward is exact, unlike the rounded constant in
/// candle's fused `gelu_erf` backward).
pub fn gelu_erf(x: &Tensor) -> Result<Tensor> {
    let cdf = ((x * std::f64::consts::FRAC_1_SQRT_2)?.erf()? + 1.0)? * 0.5;
    x * cdf?
}

/// `act(x + bias)` with the bias over the last dimension: one fused op for the exact GELU.
pub fn bias_activation(x: &Tensor, bias: &Tensor, act: Activation) -> Result<Tensor> {
    if act == Activation::Gelu && fused_for(x) {
        let b = bias.to_dtype(DType::F32)?.contiguous()?;
        return in_f32(x, |x| x.apply_op2(&b, fused::BiasGelu));
    }
    act.forward(&x.broadcast_add(bias)?)
}

/// Half-precision inputs are normalised in f32 and cast back, as PyTorch does internally.
fn compute_dtype(dtype: DType) -> DType {
    match dtype {
        DType::F16 | DType::BF16 => DType::F32,
        other => other,
    }
}

/// LayerNorm over the last dimension: `(x − mean) / √(var + eps) · weight + bias` (biased variance).
pub fn layer_norm(x: &Tensor, weight: &Tensor, bias: &Tensor, eps: f64) -> Result<Tensor> {
    if fused_for(x) {
        let w = weight.to_dtype(DType::F32)?.contiguous()?;
        let b = bias.to_dtype(DType::F32)?.contiguous()?;
        return in_f32(x, |x| x.apply_op3(&w, &b, fused::LayerNorm { eps: eps as f32 }));
    }
    layer_norm_composed(x, weight, bias, eps)
}

/// The composed LayerNorm (the reference).
pub fn layer_norm_composed(x: &Tensor, weight: &Tensor, bias: &Tensor, eps: f64) -> Result<Tensor> {
    let dtype = x.dtype();
    let x = x.to_dtype(compute_dtype(dtype))?;
    let mean = x.mean_keepdim(D::Minus1)?;
    let centered = x.broadcast_sub(&mean)?;
    let var = centered.sqr()?.mean_keepdim(D::Minus1)?;
    let normed = centered.broadcast_div(&(var + eps)?.sqrt()?)?.to_dtype(dtype)?;
    normed.broadcast_mul(weight)?.broadcast_add(bias)
}

/// `x · Wᵀ + b` for `x` of any rank ≥ 2.
pub fn linear(x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    let dims = x.dims().to_vec();
    let in_dim = *dims.last().unwrap_or(&0);
    let rows: usize = dims[..dims.len().saturating_sub(1)].iter().product();
    let mut out_dims = dims;
    if let Some(last) = out_dims.last_mut() {
        *last = weight.dim(0)?;
    }
    if fused_for(x) {
        let w = weight.to_dtype(DType::F32)?.contiguous()?;
        let b = match bias {
            Some(b) => b.to_dtype(DType::F32)?.contiguous()?,
            None => Tensor::zeros(weight.dim(0)?, DType::F32, x.device())?,
        };
        return in_f32(x, |x| x.reshape((rows, in_dim))?.apply_op3(&w, &b, fused::Linear))?.reshape(out_dims);
    }
    let y = x.contiguous()?.reshape((rows, in_dim))?.matmul(&weight.t()?)?;
    let y = y.reshape(out_dims)?;
    match bias {
        Some(b) => y.broadcast_add(b),
        None => Ok(y),
    }
}

/// The additive attention bias for a `(batch, seq)` mask of 1 (attend) / 0 (padding): shape
/// `(batch, 1, 1, seq)`, 0 where attended and the dtype's lowest finite value where not. Built with a
/// select rather than `(1 − mask) · min`, which is NaN in bf16 (0 · −inf).
pub fn attention_bias(mask: &Tensor, dtype: DType) -> Result<Tensor> {
    let (batch, seq) = mask.dims2()?;
    let lowest = match dtype {
        DType::F16 => -65504.0,
        // bf16's lowest finite value, −(2 − 2⁻⁷) · 2¹²⁷.
        DType::BF16 => -3.389_531_389_251_535_5e38,
        DType::F64 => f64::MIN,
        _ => f64::from(f32::MIN),
    };
    let attend = mask.ne(0u32)?;
    let zeros = Tensor::zeros((batch, seq), dtype, mask.device())?;
    let lows = Tensor::full(lowest, (batch, seq), mask.device())?.to_dtype(dtype)?;
    attend.where_cond(&zeros, &lows)?.reshape((batch, 1, 1, seq))
}

/// Softmax over the last dimension of `scores + bias` (bias broadcast), in a numerically stable form.
/// The row maximum is detached: softmax does not depend on the shift, so its gradient is zero.
pub fn masked_softmax(scores: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    let x = match bias {
        Some(b) => scores.broadcast_add(b)?,
        None => scores.clone(),
    };
    let max = x.max_keepdim(D::Minus1)?.detach();
    let e = x.broadcast_sub(&max)?.exp()?;
    e.broadcast_div(&e.sum_keepdim(D::Minus1)?)
}

/// `log_softmax` over the last dimension.
pub fn log_softmax(x: &Tensor) -> Result<Tensor> {
    let max = x.max_keepdim(D::Minus1)?.detach();
    let shifted = x.broadcast_sub(&max)?;
    let lse = shifted.exp()?.sum_keepdim(D::Minus1)?.log()?;
    shifted.broadcast_sub(&lse)
}

/// Dropout that is active only in training mode. Each call draws its mask from a counter-based
/// generator keyed by the seed and the number of the call, so the mask of a call never depends on how
/// many elements earlier calls drew, the backward pass draws it again instead of storing it, and the
/// fused and composed paths (and any device) draw the same masks.
#[derive(Clone, Debug)]
pub struct Dropout {
    seed: Option<u64>,
    calls: u64,
}

impl Dropout {
    /// Evaluation: dropout is the identity and the forward pass is deterministic.
    pub fn eval() -> Self {
        Self { seed: None, calls: 0 }
    }

    /// Training: inverted dropout with masks keyed by `seed`.
    pub fn train(seed: u64) -> Self {
        Self { seed: Some(seed), calls: 0 }
    }

    pub fn is_training(&self) -> bool {
        self.seed.is_some()
    }

    /// The key of the next call's mask, `None` when this call is the identity.
    fn next_key(&mut self, p: f64) -> Option<u64> {
        let seed = self.seed?;
        if p <= 0.0 {
            return None;
        }
        self.calls += 1;
        Some(SeededRng::new(seed ^ self.calls.wrapping_mul(0x9E37_79B9_7F4A_7C15)).next_u64())
    }

    /// The next call's dropout as the fused kernels take it (`p` = 0 when this call is the identity).
    fn next_prob_dropout(&mut self, p: f64) -> lmw_kernels::attention::ProbDropout {
        match self.next_key(p) {
            Some(key) => lmw_kernels::attention::ProbDropout { key, p: p as f32 },
            None => lmw_kernels::attention::ProbDropout { key: 0, p: 0.0 },
        }
    }

    /// The mask of a call as a tensor of multipliers (0 or 1 / (1 − p)) shaped like `x`.
    fn mask_like(x: &Tensor, key: u64, p: f64) -> Result<Tensor> {
        let values = lmw_kernels::dropout::mask(x.elem_count(), key, p as f32);
        Tensor::from_vec(values, x.shape(), x.device())?.to_dtype(x.dtype())
    }

    pub fn apply(&mut self, x: &Tensor, p: f64) -> Result<Tensor> {
        let Some(key) = self.next_key(p) else { return Ok(x.clone()) };
        if p >= 1.0 {
            return x.zeros_like();
        }
        if fused_for(x) {
            return in_f32(x, |x| x.apply_op1(fused::Dropout { key, p: p as f32 }));
        }
        x * Self::mask_like(x, key, p)?
    }

    /// `residual + dropout(x)`, one fused op where the kernels apply.
    pub fn add(&mut self, x: &Tensor, residual: &Tensor, p: f64) -> Result<Tensor> {
        match self.next_key(p) {
            Some(key) if p < 1.0 && fused_for(x) && x.dtype() == residual.dtype() => {
                let r = residual.to_dtype(DType::F32)?.contiguous()?;
                in_f32(x, |x| x.apply_op2(&r, fused::DropoutAdd { key, p: p as f32 }))
            }
            Some(_) if p >= 1.0 => Ok(residual.clone()),
            Some(key) => residual + (x * Self::mask_like(x, key, p)?)?,
            None => x + residual,
        }
    }
}

/// Scaled dot-product attention over `(batch, heads, seq, head_dim)` inputs with an additive bias
/// `(batch, 1, 1, seq)`; dropout on the attention probabilities, as BERT's eager attention.
pub fn attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    bias: Option<&Tensor>,
    dropout: &mut Dropout,
    p: f64,
) -> Result<Tensor> {
    let head_dim = q.dim(D::Minus1)?;
    let scale = 1.0 / (head_dim as f64).sqrt();
    let scores = q.contiguous()?.matmul(&k.t()?.contiguous()?)?;
    let probs = if fused_for(&scores) {
        let (batch, _, _, keys) = scores.dims4()?;
        let bias = match bias {
            Some(b) => b.to_dtype(DType::F32)?.reshape((batch, keys))?.contiguous()?,
            None => Tensor::zeros((batch, keys), DType::F32, scores.device())?,
        };
        in_f32(&scores, |s| s.apply_op2(&bias, fused::AttentionSoftmax { scale: scale as f32 }))?
    } else {
        masked_softmax(&(scores * scale)?, bias)?
    };
    let probs = dropout.apply(&probs, p)?;
    probs.matmul(&v.contiguous()?)
}

/// The `(batch, 1, 1, seq)` attention bias as the `(batch·seq)` host values the fused kernels take
/// (empty: no bias).
fn bias_values(bias: Option<&Tensor>) -> Result<Vec<f32>> {
    match bias {
        Some(b) => b.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>(),
        None => Ok(Vec::new()),
    }
}

/// Multi-head self-attention from the projections' `(batch, seq, hidden)` outputs: split into heads,
/// [`attention`], merge back. The fused path does all of it in one op without the transposed copies.
pub fn self_attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    heads: usize,
    bias: Option<&Tensor>,
    dropout: &mut Dropout,
    p: f64,
) -> Result<Tensor> {
    let (batch, seq, hidden) = q.dims3()?;
    let head_dim = hidden / heads.max(1);
    if fused_for(q) {
        let bias = bias_values(bias)?;
        let drop = dropout.next_prob_dropout(p);
        let scale = 1.0 / (head_dim as f64).sqrt();
        let op = fused::SelfAttention::new(heads, scale as f32, bias, drop);
        let k = k.to_dtype(DType::F32)?.contiguous()?;
        let v = v.to_dtype(DType::F32)?.contiguous()?;
        return in_f32(q, |q| q.apply_op3(&k, &v, op));
    }
    let split = |t: &Tensor| -> Result<Tensor> { t.reshape((batch, seq, heads, head_dim))?.transpose(1, 2)?.contiguous() };
    let ctx = attention(&split(q)?, &split(k)?, &split(v)?, bias, dropout, p)?;
    ctx.transpose(1, 2)?.contiguous()?.reshape((batch, seq, hidden))
}

/// A whole BERT encoder layer as one fused op, where it applies: f32 on the CPU with the fused
/// kernels on, exact GELU. `params` are the layer's 16 parameters in
/// `lmw_kernels::encoder_layer::PARTS` order. `None`: use the per-op path. Dropout keys are drawn in the
/// order the per-op path draws them (attention probabilities, attention output, output), so both
/// paths drop the same elements.
#[allow(clippy::too_many_arguments)]
pub fn encoder_layer(
    x: &Tensor,
    params: &[Tensor; 16],
    heads: usize,
    act: Activation,
    eps: f64,
    bias: Option<&Tensor>,
    dropout: &mut Dropout,
    p_attention: f64,
    p_hidden: f64,
) -> Option<Result<Tensor>> {
    if !(fused_for(x) && x.dtype() == DType::F32 && act == Activation::Gelu) {
        return None;
    }
    if params.iter().any(|p| p.dtype() != DType::F32 || !p.device().is_cpu()) {
        return None;
    }
    let keys = lmw_kernels::encoder_layer::Keys {
        attention: dropout.next_prob_dropout(p_attention),
        attention_output: dropout.next_prob_dropout(p_hidden),
        output: dropout.next_prob_dropout(p_hidden),
    };
    let run = || -> Result<Tensor> {
        let (batch, seq, _) = x.dims3()?;
        let intermediate = params[11].dim(0)?;
        let bias = bias_values(bias)?;
        if !bias.is_empty() && bias.len() != batch * seq {
            candle_core::bail!("attention bias of {} values for {batch}×{seq}", bias.len());
        }
        let flat: Vec<Tensor> = params.iter().map(|p| p.flatten_all()).collect::<Result<_>>()?;
        let packed = Tensor::cat(&flat, 0)?;
        let op = fused::EncoderLayer::new(heads, intermediate, eps as f32, keys, bias);
        x.contiguous()?.apply_op2(&packed, op)
    };
    Some(run())
}

/// The label that cross-entropy ignores, as PyTorch's `ignore_index` default.
pub const IGNORE_INDEX: i64 = -100;

/// Mean cross-entropy of `(n, classes)` logits against `(n,)` i64 labels; labels equal to
/// [`IGNORE_INDEX`] do not count. Returns a scalar (0 when every label is ignored).
pub fn cross_entropy(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    if fused_for(logits) {
        let (n, _) = logits.dims2()?;
        let labels = labels.to_dtype(DType::I64)?.reshape(n)?.contiguous()?;
        return in_f32(logits, |l| l.apply_op2(&labels, fused::CrossEntropy { ignore: IGNORE_INDEX }));
    }
    cross_entropy_composed(logits, labels)
}

/// The composed cross-entropy (the reference).
pub fn cross_entropy_composed(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    let (n, _classes) = logits.dims2()?;
    let labels = labels.to_dtype(DType::I64)?;
    let valid = labels.ne(IGNORE_INDEX)?;
    let safe = valid.where_cond(&labels, &labels.zeros_like()?)?.to_dtype(DType::U32)?;
    let logp = log_softmax(logits)?;
    let picked = logp.gather(&safe.reshape((n, 1))?, 1)?.reshape(n)?;
    let weights = valid.to_dtype(logits.dtype())?;
    let count = weights.sum_all()?.to_dtype(DType::F64)?.to_scalar::<f64>()?;
    if count == 0.0 {
        return Tensor::zeros((), logits.dtype(), logits.device());
    }
    ((picked * weights)?.sum_all()? * (-1.0 / count))?.to_dtype(logits.dtype())
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;

    fn t(values: &[f32], shape: &[usize]) -> Tensor {
        Tensor::from_vec(values.to_vec(), shape, &Device::Cpu).unwrap()
    }

    #[test]
    fn layer_norm_normalises_and_has_gradients() {
        let x = candle_core::Var::from_tensor(&t(&[1.0, 2.0, 3.0, 4.0], &[1, 4])).unwrap();
        let w = candle_core::Var::from_tensor(&t(&[1.0, 1.0, 1.0, 1.0], &[4])).unwrap();
        let b = candle_core::Var::from_tensor(&t(&[0.0; 4], &[4])).unwrap();
        let y = layer_norm(&x, &w, &b, 1e-12).unwrap();
        let v = y.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert!((v[0] + 1.341_640_8).abs() < 1e-5 && (v[3] - 1.341_640_8).abs() < 1e-5, "{v:?}");
        let grads = (y.sqr().unwrap().sum_all().unwrap()).backward().unwrap();
        for var in [&x, &w, &b] {
            assert!(grads.get(var).is_some());
        }
    }

    #[test]
    fn masked_softmax_ignores_padding_in_bf16_too() {
        for dtype in [DType::F32, DType::BF16] {
            let mask = Tensor::new(&[[1u32, 1, 0]], &Device::Cpu).unwrap();
            let bias = attention_bias(&mask, dtype).unwrap();
            let scores = t(&[1.0, 2.0, 30.0], &[1, 1, 1, 3]).to_dtype(dtype).unwrap();
            let p = masked_softmax(&scores, Some(&bias)).unwrap().to_dtype(DType::F32).unwrap();
            let p = p.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            assert!(p.iter().all(|x| x.is_finite()), "{dtype:?}: {p:?}");
            assert_eq!(p[2], 0.0);
            assert!((p[1] - 0.731_058_6).abs() < 1e-2, "{p:?}");
        }
    }

    #[test]
    fn cross_entropy_skips_ignored_labels() {
        let logits = t(&[0.0, 0.0, 5.0, 1.0], &[2, 2]);
        let labels = Tensor::new(&[1i64, IGNORE_INDEX], &Device::Cpu).unwrap();
        let loss = cross_entropy(&logits, &labels).unwrap().to_scalar::<f32>().unwrap();
        assert!((loss - std::f32::consts::LN_2).abs() < 1e-6, "{loss}");
    }

    #[test]
    fn gelu_matches_the_erf_definition() {
        let x = t(&[-2.0, -0.5, 0.0, 0.5, 3.0], &[5]);
        let ours = gelu_erf(&x).unwrap().to_vec1::<f32>().unwrap();
        let fused = x.gelu_erf().unwrap().to_vec1::<f32>().unwrap();
        for (a, b) in ours.iter().zip(&fused) {
            assert!((a - b).abs() < 1e-6);
        }
    }

    #[test]
    fn dropout_is_identity_in_eval_and_seeded_in_training() {
        let x = Tensor::ones((4, 64), DType::F32, &Device::Cpu).unwrap();
        let same = Dropout::eval().apply(&x, 0.5).unwrap();
        assert_eq!(same.sum_all().unwrap().to_scalar::<f32>().unwrap(), 256.0);
        let a = Dropout::train(3).apply(&x, 0.5).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let b = Dropout::train(3).apply(&x, 0.5).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(a, b);
        assert!(a.iter().all(|&v| v == 0.0 || v == 2.0) && a.contains(&0.0));
    }
}
