//! AdamW with PyTorch's semantics (`torch.optim.AdamW`): decoupled weight decay applied to the
//! parameter before the update, bias-corrected moments, and `eps` added after the square root:
//!
//! ```text
//! θ ← θ · (1 − lr · λ)
//! m ← β₁ m + (1 − β₁) g          v ← β₂ v + (1 − β₂) g²
//! θ ← θ − lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
//! ```
//!
//! candle_nn::AdamW computes the same, but keeps the moments in the parameters' dtype and decays every
//! parameter. Here the moments are f32 whatever the parameter dtype, and weight decay can be turned
//! off per parameter (transformers' Trainer exempts biases and LayerNorm weights).

use candle_core::backprop::GradStore;
use candle_core::{DType, Tensor, Var};

use super::error::{CandleContext, ModelResult};
use super::fused;
use super::ops::{self, Kernels};
use super::params::ParamStore;

#[derive(Clone, Debug, PartialEq)]
pub struct AdamWConfig {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    /// PyTorch's defaults.
    fn default() -> Self {
        Self { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.01 }
    }
}

struct Slot {
    var: Var,
    /// The f32 moments `[m; v]`, shape `(2, n)`: one tensor, so the fused update writes both in one pass.
    state: Tensor,
    decay: bool,
}

impl Slot {
    fn m(&self) -> candle_core::Result<Tensor> {
        self.state.get(0)?.reshape(self.var.shape())
    }

    fn v(&self) -> candle_core::Result<Tensor> {
        self.state.get(1)?.reshape(self.var.shape())
    }
}

fn pack(m: &Tensor, v: &Tensor) -> candle_core::Result<Tensor> {
    Tensor::stack(&[m.flatten_all()?, v.flatten_all()?], 0)?.contiguous()
}

pub struct AdamW {
    slots: Vec<Slot>,
    step: u64,
    pub config: AdamWConfig,
}

impl AdamW {
    /// Optimises `vars`; `decay(i)` says whether the i-th one gets weight decay.
    pub fn new(vars: Vec<Var>, decay: impl Fn(usize) -> bool, config: AdamWConfig) -> ModelResult<Self> {
        let slots = vars
            .into_iter()
            .enumerate()
            .map(|(i, var)| {
                let state = Tensor::zeros((2, var.elem_count()), DType::F32, var.device()).ctx("optimizer state")?;
                Ok(Slot { var, state, decay: decay(i) })
            })
            .collect::<ModelResult<Vec<_>>>()?;
        Ok(Self { slots, step: 0, config })
    }

    /// The trainable parameters of a model; `decay_all: false` exempts biases and LayerNorm
    /// weights from weight decay, as transformers' Trainer does.
    pub fn for_params(store: &ParamStore, decay_all: bool, config: AdamWConfig) -> ModelResult<Self> {
        let trainable: Vec<_> = store.params().iter().filter(|p| p.is_trainable()).collect();
        let decays: Vec<bool> = trainable
            .iter()
            .map(|p| {
                decay_all
                    || !(p.name().ends_with(".bias")
                        || p.name().contains("LayerNorm")
                        || p.name().contains("layer_norm"))
            })
            .collect();
        Self::new(trainable.iter().map(|p| p.var().clone()).collect(), |i| decays[i], config)
    }

    pub fn steps_taken(&self) -> u64 {
        self.step
    }

    /// Number of optimised variables (each has one pair of moments).
    pub fn num_slots(&self) -> usize {
        self.slots.len()
    }

    /// The f32 moments `(m, v)` of every optimised variable, in the order given to [`Self::new`]
    /// (for checkpoints).
    pub fn moments(&self) -> Vec<(Tensor, Tensor)> {
        self.slots
            .iter()
            .map(|s| {
                let (m, v) = (s.m().and_then(|t| t.copy()), s.v().and_then(|t| t.copy()));
                (m.expect("optimizer state has its parameter's size"), v.expect("optimizer state has its parameter's size"))
            })
            .collect()
    }

    /// Restores the step count and the moments saved by [`Self::moments`] (resuming a run).
    pub fn restore(&mut self, steps: u64, moments: Vec<(Tensor, Tensor)>) -> ModelResult<()> {
        if moments.len() != self.slots.len() {
            return Err(super::error::ModelError::Input(format!(
                "optimizer state has {} entries, the optimizer {}",
                moments.len(),
                self.slots.len()
            )));
        }
        for (slot, (m, v)) in self.slots.iter_mut().zip(moments) {
            if m.dims() != slot.var.dims() || v.dims() != slot.var.dims() {
                return Err(super::error::ModelError::Input(format!(
                    "optimizer state shape {:?} does not match the parameter {:?}",
                    m.dims(),
                    slot.var.dims()
                )));
            }
            let device = slot.var.device().clone();
            let m = m.to_dtype(DType::F32).and_then(|t| t.to_device(&device)).ctx("optimizer state")?;
            let v = v.to_dtype(DType::F32).and_then(|t| t.to_device(&device)).ctx("optimizer state")?;
            slot.state = pack(&m, &v).ctx("optimizer state")?;
        }
        self.step = steps;
        Ok(())
    }

    /// One update from the gradients; parameters without a gradient are left alone.
    pub fn step(&mut self, grads: &GradStore) -> ModelResult<()> {
        self.step_scaled(grads, 1.0)
    }

    /// One update from the gradients multiplied by `grad_scale` (the clipping factor, applied inside
    /// the update rather than by scaling a copy of every gradient first).
    pub fn step_scaled(&mut self, grads: &GradStore, grad_scale: f64) -> ModelResult<()> {
        self.step += 1;
        let c = self.config.clone();
        let t = self.step as i32;
        let (bc1, bc2) = (1.0 - c.beta1.powi(t), 1.0 - c.beta2.powi(t));
        let fused = ops::kernels() == Kernels::Fused;
        for slot in &mut self.slots {
            let Some(g) = grads.get(&slot.var) else { continue };
            if fused && fused::fusable(slot.var.as_tensor()) && fused::fusable(g) {
                let step = lmw_kernels::adamw::Step {
                    lr: c.lr as f32,
                    beta1: c.beta1 as f32,
                    beta2: c.beta2 as f32,
                    eps: c.eps as f32,
                    weight_decay: if slot.decay { c.weight_decay as f32 } else { 0.0 },
                    bias_correction1: bc1 as f32,
                    bias_correction2: bc2 as f32,
                    grad_scale: grad_scale as f32,
                };
                let update = || -> candle_core::Result<()> {
                    slot.state.inplace_op2(&g.contiguous()?, &fused::AdamMoments(step))?;
                    slot.var.as_tensor().inplace_op2(&slot.state, &fused::AdamUpdate(step))
                };
                update().ctx("AdamW step")?;
                continue;
            }
            let update = || -> candle_core::Result<Tensor> {
                let mut g = g.to_dtype(DType::F32)?;
                if grad_scale != 1.0 {
                    g = (g * grad_scale)?;
                }
                let m = ((slot.m()? * c.beta1)? + (&g * (1.0 - c.beta1))?)?;
                let v = ((slot.v()? * c.beta2)? + (g.sqr()? * (1.0 - c.beta2))?)?;
                let mut theta = slot.var.as_tensor().to_dtype(DType::F32)?;
                if slot.decay && c.weight_decay != 0.0 {
                    theta = (theta * (1.0 - c.lr * c.weight_decay))?;
                }
                let denom = ((&v / bc2)?.sqrt()? + c.eps)?;
                let theta = (theta - ((&m / bc1)?.div(&denom)? * c.lr)?)?;
                slot.var.set(&theta.to_dtype(slot.var.dtype())?)?;
                pack(&m, &v)
            };
            slot.state = update().ctx("AdamW step")?;
        }
        Ok(())
    }
}

/// The global L2 norm of the gradients of `vars` (as `clip_grad_norm_` reports it): one pass over each
/// gradient and one sum on the host (no per-tensor casts or device round trips on the CPU).
pub fn grad_norm(grads: &GradStore, vars: &[Var]) -> ModelResult<f64> {
    let mut total = 0f64;
    for var in vars {
        if let Some(g) = grads.get(var) {
            total += if fused::fusable(g) && ops::kernels() == Kernels::Fused {
                fused::sum_sq(g).ctx("gradient norm")?
            } else {
                g.to_dtype(DType::F64).and_then(|g| g.sqr()?.sum_all()?.to_scalar::<f64>()).ctx("gradient norm")?
            };
        }
    }
    Ok(total.sqrt())
}

#[cfg(test)]
mod tests {
    use candle_core::Device;
    use candle_nn::Optimizer;

    use super::*;

    /// Our AdamW and candle_nn's compute the same updates (both follow PyTorch).
    #[test]
    fn matches_candle_nn_adamw() {
        let init = Tensor::new(&[[0.5f32, -1.0, 2.0], [0.1, 0.0, -0.3]], &Device::Cpu).unwrap();
        let a = Var::from_tensor(&init).unwrap();
        let b = Var::from_tensor(&init).unwrap();
        let config = AdamWConfig { lr: 0.05, weight_decay: 0.1, ..AdamWConfig::default() };
        let mut ours = AdamW::new(vec![a.clone()], |_| true, config.clone()).unwrap();
        let params = candle_nn::ParamsAdamW {
            lr: config.lr,
            beta1: config.beta1,
            beta2: config.beta2,
            eps: config.eps,
            weight_decay: config.weight_decay,
        };
        let mut theirs = candle_nn::AdamW::new(vec![b.clone()], params).unwrap();
        for _ in 0..5 {
            ours.step(&(a.as_tensor().sqr().unwrap().sum_all().unwrap()).backward().unwrap()).unwrap();
            theirs.step(&(b.as_tensor().sqr().unwrap().sum_all().unwrap()).backward().unwrap()).unwrap();
        }
        let x = a.as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let y = b.as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        // The fused update rounds in another order (one pass, f32 constants): a few ulp after 5 steps.
        for (p, q) in x.iter().zip(&y) {
            assert!((p - q).abs() < 1e-5, "{x:?} vs {y:?}");
        }
        assert!((x[0] - 0.5).abs() > 0.1, "the parameters moved");
    }
}
