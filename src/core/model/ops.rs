//! Every operation of the models that needs a backward pass goes through here.
//!
//! These are the reference versions, built only from candle ops that have a backward pass (candle-nn's
//! fused `layer_norm` and `softmax_last_dim` have none). Fused kernels may replace them later; these
//! stay as the reference the fused ones are tested against. Device and dtype always come from the
//! inputs.

use candle_core::{DType, Result, Tensor, D};

use super::rng::SeededRng;

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

/// Half-precision inputs are normalised in f32 and cast back, as PyTorch does internally.
fn compute_dtype(dtype: DType) -> DType {
    match dtype {
        DType::F16 | DType::BF16 => DType::F32,
        other => other,
    }
}

/// LayerNorm over the last dimension: `(x − mean) / √(var + eps) · weight + bias` (biased variance).
pub fn layer_norm(x: &Tensor, weight: &Tensor, bias: &Tensor, eps: f64) -> Result<Tensor> {
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
    let y = x.contiguous()?.reshape((rows, in_dim))?.matmul(&weight.t()?)?;
    let mut out_dims = dims;
    if let Some(last) = out_dims.last_mut() {
        *last = weight.dim(0)?;
    }
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

/// Dropout that is active only in training mode, drawing masks from a seeded generator.
#[derive(Clone, Debug)]
pub struct Dropout {
    rng: Option<SeededRng>,
}

impl Dropout {
    /// Evaluation: dropout is the identity and the forward pass is deterministic.
    pub fn eval() -> Self {
        Self { rng: None }
    }

    /// Training: inverted dropout with masks from a generator seeded with `seed`.
    pub fn train(seed: u64) -> Self {
        Self { rng: Some(SeededRng::new(seed)) }
    }

    pub fn is_training(&self) -> bool {
        self.rng.is_some()
    }

    pub fn apply(&mut self, x: &Tensor, p: f64) -> Result<Tensor> {
        match &mut self.rng {
            Some(rng) if p > 0.0 => {
                if p >= 1.0 {
                    return x.zeros_like();
                }
                let mask = rng.dropout_mask(x.shape(), p, x.dtype(), x.device())?;
                x * mask
            }
            _ => Ok(x.clone()),
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
    let scores = (q.contiguous()?.matmul(&k.t()?.contiguous()?)? * scale)?;
    let probs = masked_softmax(&scores, bias)?;
    let probs = dropout.apply(&probs, p)?;
    probs.matmul(&v.contiguous()?)
}

/// The label that cross-entropy ignores, as PyTorch's `ignore_index` default.
pub const IGNORE_INDEX: i64 = -100;

/// Mean cross-entropy of `(n, classes)` logits against `(n,)` i64 labels; labels equal to
/// [`IGNORE_INDEX`] do not count. Returns a scalar (0 when every label is ignored).
pub fn cross_entropy(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
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
