//! The fused training ops: candle custom ops (`CustomOp1/2/3` with a forward and a backward) over the
//! CPU kernels of `lmw_kernels`. [`super::ops`] decides when they run (see [`super::ops::Kernels`]);
//! the composed versions there are the reference these are tested against.
//!
//! Every op here takes contiguous f32 tensors on the CPU (the callers in `ops` check that and fall back
//! to the composed path otherwise) and computes its backward pass in one kernel, so autograd records
//! one node per op instead of the 5–12 nodes (each with a saved activation) of the composed versions.

use candle_core::{bail, CpuStorage, CustomOp1, CustomOp2, CustomOp3, DType, Device, Layout, Result, Shape, Storage, Tensor};
use lmw_kernels as k;

/// Whether a tensor can go through the fused CPU kernels.
pub fn fusable(t: &Tensor) -> bool {
    t.device().is_cpu() && t.dtype() == DType::F32
}

fn slice_f32<'a>(s: &'a CpuStorage, l: &Layout, op: &str) -> Result<&'a [f32]> {
    let Some((a, b)) = l.contiguous_offsets() else { bail!("{op}: the input is not contiguous") };
    match s {
        CpuStorage::F32(v) => Ok(&v[a..b]),
        _ => bail!("{op}: expected f32 values"),
    }
}

fn slice_i64<'a>(s: &'a CpuStorage, l: &Layout, op: &str) -> Result<&'a [i64]> {
    let Some((a, b)) = l.contiguous_offsets() else { bail!("{op}: the labels are not contiguous") };
    match s {
        CpuStorage::I64(v) => Ok(&v[a..b]),
        _ => bail!("{op}: expected i64 labels"),
    }
}

/// Runs `f` on the f32 values of a CPU tensor (made contiguous first).
fn with_f32<R>(t: &Tensor, op: &str, f: impl FnOnce(&[f32]) -> R) -> Result<R> {
    let t = t.contiguous()?;
    let (storage, layout) = t.storage_and_layout();
    match &*storage {
        Storage::Cpu(s) => Ok(f(slice_f32(s, layout, op)?)),
        _ => bail!("{op}: the fused kernels run on the CPU"),
    }
}

fn with_i64<R>(t: &Tensor, op: &str, f: impl FnOnce(&[i64]) -> R) -> Result<R> {
    let t = t.contiguous()?;
    let (storage, layout) = t.storage_and_layout();
    match &*storage {
        Storage::Cpu(s) => Ok(f(slice_i64(s, layout, op)?)),
        _ => bail!("{op}: the fused kernels run on the CPU"),
    }
}

/// An output buffer for a kernel (zero-filled: handing uninitialised memory to safe code is undefined
/// behaviour even when every element is written before it is read).
fn out_buf(n: usize) -> Vec<f32> {
    vec![0f32; n]
}

fn tensor(values: Vec<f32>, shape: &Shape) -> Result<Tensor> {
    Tensor::from_vec(values, shape.clone(), &Device::Cpu)
}

/// The gradient of an input, computed by `f`, when the input tracks one (`None` for frozen weights and
/// inputs below a frozen part, which then cost nothing).
fn grad_for(t: &Tensor, f: impl FnOnce() -> Result<Vec<f32>>) -> Result<Option<Tensor>> {
    if !t.track_op() {
        return Ok(None);
    }
    Ok(Some(tensor(f()?, t.shape())?))
}

fn last_dim(shape: &Shape) -> usize {
    shape.dims().last().copied().unwrap_or(1)
}

// --- LayerNorm ------------------------------------------------------------------------------------

/// `layer_norm(x, weight, bias)` over the last dimension.
pub struct LayerNorm {
    pub eps: f32,
}

impl CustomOp3 for LayerNorm {
    fn name(&self) -> &'static str {
        "lmw-layer-norm"
    }

    fn cpu_fwd(
        &self,
        x: &CpuStorage,
        xl: &Layout,
        w: &CpuStorage,
        wl: &Layout,
        b: &CpuStorage,
        bl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (x, w, b) = (slice_f32(x, xl, "layer_norm")?, slice_f32(w, wl, "layer_norm")?, slice_f32(b, bl, "layer_norm")?);
        if w.len() != last_dim(xl.shape()) || b.len() != w.len() {
            bail!("layer_norm: weight {} and bias {} for rows of {}", w.len(), b.len(), last_dim(xl.shape()));
        }
        let mut y = out_buf(x.len());
        k::layer_norm::forward(x, w, b, self.eps, &mut y);
        Ok((CpuStorage::F32(y), xl.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, w: &Tensor, _b: &Tensor, _y: &Tensor, dy: &Tensor) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let h = w.elem_count();
        let (dx, dw, db) = with_f32(x, "layer_norm bwd", |x| {
            with_f32(w, "layer_norm bwd", |w| {
                with_f32(dy, "layer_norm bwd", |dy| {
                    let (mut dx, mut dw, mut db) = (out_buf(x.len()), out_buf(h), out_buf(h));
                    k::layer_norm::backward(x, w, dy, self.eps, &mut dx, &mut dw, &mut db);
                    (dx, dw, db)
                })
            })
        })???;
        Ok((Some(tensor(dx, x.shape())?), Some(tensor(dw, w.shape())?), Some(tensor(db, w.shape())?)))
    }
}

// --- softmax with the attention bias ---------------------------------------------------------------

/// `softmax(scale · scores + bias)` over the last dimension of `(batch, heads, queries, keys)` scores,
/// with a `(batch, keys)` additive bias.
pub struct AttentionSoftmax {
    pub scale: f32,
}

impl CustomOp2 for AttentionSoftmax {
    fn name(&self) -> &'static str {
        "lmw-attention-softmax"
    }

    fn cpu_fwd(&self, x: &CpuStorage, xl: &Layout, b: &CpuStorage, bl: &Layout) -> Result<(CpuStorage, Shape)> {
        let (x, bias) = (slice_f32(x, xl, "softmax")?, slice_f32(b, bl, "softmax")?);
        let dims = xl.shape().dims();
        let (batch, keys) = bl.shape().dims2()?;
        if dims.len() != 4 || dims[0] != batch || dims[3] != keys {
            bail!("softmax: scores {dims:?} with a bias of {:?}", bl.shape().dims());
        }
        let mut y = out_buf(x.len());
        k::softmax::forward(x, keys, bias, dims[1] * dims[2], self.scale, &mut y);
        Ok((CpuStorage::F32(y), xl.shape().clone()))
    }

    fn bwd(&self, _x: &Tensor, _b: &Tensor, y: &Tensor, dy: &Tensor) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let n = last_dim(y.shape());
        let dx = with_f32(y, "softmax bwd", |y| {
            with_f32(dy, "softmax bwd", |dy| {
                let mut dx = out_buf(y.len());
                k::softmax::backward(y, dy, n, self.scale, &mut dx);
                dx
            })
        })??;
        Ok((Some(tensor(dx, y.shape())?), None))
    }
}

// --- GELU with the bias ----------------------------------------------------------------------------

/// `gelu_erf(x + bias)` with the bias over the last dimension.
pub struct BiasGelu;

impl CustomOp2 for BiasGelu {
    fn name(&self) -> &'static str {
        "lmw-bias-gelu"
    }

    fn cpu_fwd(&self, x: &CpuStorage, xl: &Layout, b: &CpuStorage, bl: &Layout) -> Result<(CpuStorage, Shape)> {
        let (x, b) = (slice_f32(x, xl, "gelu")?, slice_f32(b, bl, "gelu")?);
        if b.len() != last_dim(xl.shape()) {
            bail!("gelu: a bias of {} for rows of {}", b.len(), last_dim(xl.shape()));
        }
        let mut y = out_buf(x.len());
        k::gelu::forward(x, b, &mut y);
        Ok((CpuStorage::F32(y), xl.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, b: &Tensor, _y: &Tensor, dy: &Tensor) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (dx, db) = with_f32(x, "gelu bwd", |x| {
            with_f32(b, "gelu bwd", |b| {
                with_f32(dy, "gelu bwd", |dy| {
                    let (mut dx, mut db) = (out_buf(x.len()), out_buf(b.len()));
                    k::gelu::backward(x, b, dy, &mut dx, &mut db);
                    (dx, db)
                })
            })
        })???;
        Ok((Some(tensor(dx, x.shape())?), Some(tensor(db, b.shape())?)))
    }
}

// --- dropout ---------------------------------------------------------------------------------------

/// Inverted dropout with the counter-based mask of `key`.
pub struct Dropout {
    pub key: u64,
    pub p: f32,
}

impl CustomOp1 for Dropout {
    fn name(&self) -> &'static str {
        "lmw-dropout"
    }

    fn cpu_fwd(&self, x: &CpuStorage, xl: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = slice_f32(x, xl, "dropout")?;
        let mut y = out_buf(x.len());
        k::dropout::apply(x, self.key, self.p, &[], &mut y);
        Ok((CpuStorage::F32(y), xl.shape().clone()))
    }

    fn bwd(&self, _x: &Tensor, _y: &Tensor, dy: &Tensor) -> Result<Option<Tensor>> {
        // The same mask, drawn again from the key.
        Ok(Some(dy.contiguous()?.apply_op1_no_bwd(&Dropout { key: self.key, p: self.p })?))
    }
}

/// `residual + dropout(x)`: the sublayer output joining the residual stream.
pub struct DropoutAdd {
    pub key: u64,
    pub p: f32,
}

impl CustomOp2 for DropoutAdd {
    fn name(&self) -> &'static str {
        "lmw-dropout-add"
    }

    fn cpu_fwd(&self, x: &CpuStorage, xl: &Layout, r: &CpuStorage, rl: &Layout) -> Result<(CpuStorage, Shape)> {
        let (x, r) = (slice_f32(x, xl, "dropout_add")?, slice_f32(r, rl, "dropout_add")?);
        if x.len() != r.len() {
            bail!("dropout_add: {} values and a residual of {}", x.len(), r.len());
        }
        let mut y = out_buf(x.len());
        k::dropout::apply(x, self.key, self.p, r, &mut y);
        Ok((CpuStorage::F32(y), xl.shape().clone()))
    }

    fn bwd(&self, _x: &Tensor, _r: &Tensor, _y: &Tensor, dy: &Tensor) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let dx = dy.contiguous()?.apply_op1_no_bwd(&Dropout { key: self.key, p: self.p })?;
        Ok((Some(dx), Some(dy.clone())))
    }
}

// --- cross-entropy ---------------------------------------------------------------------------------

/// Mean cross-entropy of `(n, classes)` logits against `(n,)` i64 labels, skipping `ignore`.
pub struct CrossEntropy {
    pub ignore: i64,
}

impl CustomOp2 for CrossEntropy {
    fn name(&self) -> &'static str {
        "lmw-cross-entropy"
    }

    fn cpu_fwd(&self, x: &CpuStorage, xl: &Layout, l: &CpuStorage, ll: &Layout) -> Result<(CpuStorage, Shape)> {
        let (x, labels) = (slice_f32(x, xl, "cross_entropy")?, slice_i64(l, ll, "cross_entropy")?);
        let (n, classes) = xl.shape().dims2()?;
        if labels.len() != n {
            bail!("cross_entropy: {n} rows of logits and {} labels", labels.len());
        }
        if let Err((row, label)) = k::cross_entropy::check_labels(labels, classes, self.ignore) {
            bail!("cross_entropy: label {label} of row {row} is not a class (0..{classes}) nor {}", self.ignore);
        }
        let (loss, _) = k::cross_entropy::forward(x, classes, labels, self.ignore);
        Ok((CpuStorage::F32(vec![loss]), Shape::from(())))
    }

    fn bwd(&self, x: &Tensor, labels: &Tensor, _y: &Tensor, dy: &Tensor) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let g = dy.to_dtype(DType::F32)?.to_scalar::<f32>()?;
        let classes = last_dim(x.shape());
        let dx = with_f32(x, "cross_entropy bwd", |x| {
            with_i64(labels, "cross_entropy bwd", |labels| {
                let mut dx = out_buf(x.len());
                k::cross_entropy::backward(x, classes, labels, self.ignore, g, &mut dx);
                dx
            })
        })??;
        Ok((Some(tensor(dx, x.shape())?), None))
    }
}

// --- AdamW in place --------------------------------------------------------------------------------

/// Pass 1: the `(2, n)` moments `[m; v]` from the gradient.
pub struct AdamMoments(pub k::adamw::Step);

impl candle_core::InplaceOp2 for AdamMoments {
    fn name(&self) -> &'static str {
        "lmw-adamw-moments"
    }

    fn cpu_fwd(&self, s: &mut CpuStorage, sl: &Layout, g: &CpuStorage, gl: &Layout) -> Result<()> {
        let g = slice_f32(g, gl, "adamw")?;
        let state = slice_f32_mut(s, sl, "adamw state")?;
        let (m, v) = halves(state, g.len())?;
        k::adamw::moments(m, v, g, &self.0);
        Ok(())
    }
}

/// Pass 2: the parameter from the moments.
pub struct AdamUpdate(pub k::adamw::Step);

impl candle_core::InplaceOp2 for AdamUpdate {
    fn name(&self) -> &'static str {
        "lmw-adamw-update"
    }

    fn cpu_fwd(&self, p: &mut CpuStorage, pl: &Layout, s: &CpuStorage, sl: &Layout) -> Result<()> {
        let state = slice_f32(s, sl, "adamw state")?;
        let p = slice_f32_mut(p, pl, "adamw parameter")?;
        if state.len() != 2 * p.len() {
            bail!("adamw: a state of {} for a parameter of {}", state.len(), p.len());
        }
        let (m, v) = state.split_at(p.len());
        k::adamw::update(p, m, v, &self.0);
        Ok(())
    }
}

/// The contiguous f32 values of a storage an in-place op writes.
fn slice_f32_mut<'a>(s: &'a mut CpuStorage, l: &Layout, what: &str) -> Result<&'a mut [f32]> {
    let Some((a, b)) = l.contiguous_offsets() else { bail!("{what}: not contiguous") };
    let CpuStorage::F32(v) = s else { bail!("{what}: not f32") };
    Ok(&mut v[a..b])
}

/// `[m; v]` of an AdamW state for a parameter of `n` values.
fn halves(state: &mut [f32], n: usize) -> Result<(&mut [f32], &mut [f32])> {
    if state.len() != 2 * n {
        bail!("adamw: a state of {} for a gradient of {n}", state.len());
    }
    Ok(state.split_at_mut(n))
}

/// Σ x² of a CPU f32 tensor, in f64.
pub fn sum_sq(t: &Tensor) -> Result<f64> {
    with_f32(t, "sum_sq", k::reduce::sum_sq)
}

// --- linear ----------------------------------------------------------------------------------------

/// `x · Wᵀ + b` for `(rows, in)` x, `(out, in)` W and `(out,)` b; the gradients of inputs that do not
/// track one (frozen weights, a frozen encoder below) are not computed.
pub struct Linear;

impl CustomOp3 for Linear {
    fn name(&self) -> &'static str {
        "lmw-linear"
    }

    fn cpu_fwd(
        &self,
        x: &CpuStorage,
        xl: &Layout,
        w: &CpuStorage,
        wl: &Layout,
        b: &CpuStorage,
        bl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (x, w, b) = (slice_f32(x, xl, "linear")?, slice_f32(w, wl, "linear")?, slice_f32(b, bl, "linear")?);
        let (m, k) = xl.shape().dims2()?;
        let (n, k2) = wl.shape().dims2()?;
        if k != k2 || b.len() != n {
            bail!("linear: x {:?}, weight {:?}, bias {}", xl.shape().dims(), wl.shape().dims(), b.len());
        }
        let mut y = out_buf(m * n);
        k::linear::forward(x, w, b, m, k, n, &mut y);
        Ok((CpuStorage::F32(y), Shape::from((m, n))))
    }

    fn bwd(&self, x: &Tensor, w: &Tensor, b: &Tensor, _y: &Tensor, dy: &Tensor) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (m, kd) = x.dims2()?;
        let n = w.dim(0)?;
        let dx = grad_for(x, || {
            with_f32(dy, "linear bwd", |dy| {
                with_f32(w, "linear bwd", |w| {
                    let mut dx = out_buf(m * kd);
                    k::linear::backward_input(dy, w, m, kd, n, &mut dx);
                    dx
                })
            })?
        })?;
        let dw = grad_for(w, || {
            with_f32(dy, "linear bwd", |dy| {
                with_f32(x, "linear bwd", |x| {
                    let mut dw = out_buf(n * kd);
                    k::linear::backward_weight(dy, x, m, kd, n, &mut dw);
                    dw
                })
            })?
        })?;
        let db = grad_for(b, || {
            with_f32(dy, "linear bwd", |dy| {
                let mut db = out_buf(n);
                k::reduce::col_sum(dy, &mut db);
                db
            })
        })?;
        Ok((dx, dw, db))
    }
}

// --- self-attention --------------------------------------------------------------------------------

/// Scaled dot-product self-attention over `(batch, seq, heads · head_dim)` q, k, v (the projections'
/// layout), with a `(batch, seq)` additive bias and dropout on the probabilities; the output is the
/// context in the same layout. The probabilities are kept for the backward pass.
pub struct SelfAttention {
    pub heads: usize,
    pub scale: f32,
    /// `(batch, seq)` or empty.
    pub bias: Vec<f32>,
    pub dropout: k::attention::ProbDropout,
    probs: std::sync::Mutex<Option<Vec<f32>>>,
}

impl SelfAttention {
    pub fn new(heads: usize, scale: f32, bias: Vec<f32>, dropout: k::attention::ProbDropout) -> Self {
        Self { heads, scale, bias, dropout, probs: std::sync::Mutex::new(None) }
    }

    fn dims(&self, shape: &Shape) -> Result<k::attention::Dims> {
        let (batch, seq, hidden) = shape.dims3()?;
        if self.heads == 0 || hidden % self.heads != 0 {
            bail!("attention: hidden size {hidden} is not a multiple of {} heads", self.heads);
        }
        if !self.bias.is_empty() && self.bias.len() != batch * seq {
            bail!("attention: a bias of {} for {batch}×{seq}", self.bias.len());
        }
        Ok(k::attention::Dims { batch, seq, heads: self.heads, head_dim: hidden / self.heads })
    }
}

impl CustomOp3 for SelfAttention {
    fn name(&self) -> &'static str {
        "lmw-self-attention"
    }

    fn cpu_fwd(
        &self,
        q: &CpuStorage,
        ql: &Layout,
        k_: &CpuStorage,
        kl: &Layout,
        v: &CpuStorage,
        vl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let d = self.dims(ql.shape())?;
        if kl.shape() != ql.shape() || vl.shape() != ql.shape() {
            bail!("attention: q {:?}, k {:?}, v {:?}", ql.shape().dims(), kl.shape().dims(), vl.shape().dims());
        }
        let (q, kk, v) = (slice_f32(q, ql, "attention")?, slice_f32(k_, kl, "attention")?, slice_f32(v, vl, "attention")?);
        let mut ctx = out_buf(q.len());
        let mut probs = out_buf(d.batch * d.heads * d.seq * d.seq);
        k::attention::forward(q, kk, v, &self.bias, d, self.scale, self.dropout, &mut ctx, &mut probs);
        *self.probs.lock().map_err(|_| candle_core::Error::Msg("attention: poisoned lock".into()))? = Some(probs);
        Ok((CpuStorage::F32(ctx), ql.shape().clone()))
    }

    fn bwd(&self, q: &Tensor, kt: &Tensor, v: &Tensor, _y: &Tensor, dy: &Tensor) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let d = self.dims(q.shape())?;
        let probs = self.probs.lock().map_err(|_| candle_core::Error::Msg("attention: poisoned lock".into()))?;
        let Some(probs) = probs.as_ref() else { bail!("attention: backward before forward") };
        let n = q.elem_count();
        let (dq, dk, dv) = with_f32(q, "attention bwd", |q| {
            with_f32(kt, "attention bwd", |kk| {
                with_f32(v, "attention bwd", |v| {
                    with_f32(dy, "attention bwd", |dy| {
                        let (mut dq, mut dk, mut dv) = (out_buf(n), out_buf(n), out_buf(n));
                        k::attention::backward(q, kk, v, probs, dy, d, self.scale, self.dropout, &mut dq, &mut dk, &mut dv);
                        (dq, dk, dv)
                    })
                })
            })
        })????;
        Ok((Some(tensor(dq, q.shape())?), Some(tensor(dk, q.shape())?), Some(tensor(dv, q.shape())?)))
    }
}

// --- a whole encoder layer -------------------------------------------------------------------------

/// One post-LayerNorm encoder layer (BERT's, exact GELU) as one op over `(batch, seq, hidden)` x and
/// the layer's parameters packed in one tensor (`lmw_kernels::encoder_layer::PARTS` order): one autograd
/// node per layer. The packed gradient flows back through the concatenation to each parameter.
pub struct EncoderLayer {
    dims: std::sync::Mutex<Option<k::encoder_layer::Dims>>,
    pub heads: usize,
    pub intermediate: usize,
    pub eps: f32,
    pub keys: k::encoder_layer::Keys,
    /// `(batch, seq)` or empty.
    pub bias: Vec<f32>,
    saved: std::sync::Mutex<Option<k::encoder_layer::Saved>>,
}

impl EncoderLayer {
    pub fn new(heads: usize, intermediate: usize, eps: f32, keys: k::encoder_layer::Keys, bias: Vec<f32>) -> Self {
        Self { dims: std::sync::Mutex::new(None), heads, intermediate, eps, keys, bias, saved: std::sync::Mutex::new(None) }
    }

    fn dims_of(&self, shape: &Shape) -> Result<k::encoder_layer::Dims> {
        let (batch, seq, hidden) = shape.dims3()?;
        if self.heads == 0 || hidden % self.heads != 0 {
            bail!("encoder layer: hidden size {hidden} is not a multiple of {} heads", self.heads);
        }
        if !self.bias.is_empty() && self.bias.len() != batch * seq {
            bail!("encoder layer: a bias of {} for {batch}×{seq}", self.bias.len());
        }
        Ok(k::encoder_layer::Dims { batch, seq, hidden, heads: self.heads, intermediate: self.intermediate, eps: self.eps })
    }
}

fn poisoned() -> candle_core::Error {
    candle_core::Error::Msg("encoder layer: poisoned lock".into())
}

impl CustomOp2 for EncoderLayer {
    fn name(&self) -> &'static str {
        "lmw-encoder-layer"
    }

    fn cpu_fwd(&self, x: &CpuStorage, xl: &Layout, w: &CpuStorage, wl: &Layout) -> Result<(CpuStorage, Shape)> {
        let d = self.dims_of(xl.shape())?;
        let (x, w) = (slice_f32(x, xl, "encoder layer")?, slice_f32(w, wl, "encoder layer")?);
        if w.len() != d.packed_len() {
            bail!("encoder layer: {} packed parameters, the shapes need {}", w.len(), d.packed_len());
        }
        let (y, saved) = k::encoder_layer::forward(x, w, &self.bias, &d, &self.keys);
        *self.saved.lock().map_err(|_| poisoned())? = Some(saved);
        *self.dims.lock().map_err(|_| poisoned())? = Some(d);
        Ok((CpuStorage::F32(y), xl.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, w: &Tensor, _y: &Tensor, dy: &Tensor) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (want_dx, want_dw) = (x.track_op(), w.track_op());
        if !want_dx && !want_dw {
            return Ok((None, None));
        }
        let d = self.dims.lock().map_err(|_| poisoned())?.ok_or_else(|| candle_core::Error::Msg("encoder layer: backward before forward".into()))?;
        let saved = self.saved.lock().map_err(|_| poisoned())?;
        let Some(saved) = saved.as_ref() else { bail!("encoder layer: backward before forward") };
        let (dx, dw) = with_f32(dy, "encoder layer bwd", |dy| {
            with_f32(x, "encoder layer bwd", |xv| {
                with_f32(w, "encoder layer bwd", |wv| {
                    k::encoder_layer::backward(dy, xv, wv, saved, &d, &self.keys, want_dx, want_dw)
                })
            })
        })???;
        let dx = dx.map(|v| tensor(v, x.shape())).transpose()?;
        let dw = dw.map(|v| tensor(v, w.shape())).transpose()?;
        Ok((dx, dw))
    }
}
