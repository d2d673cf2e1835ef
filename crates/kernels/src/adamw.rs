//! AdamW in place (PyTorch's `torch.optim.AdamW`), in two passes over a parameter: the moments from the
//! gradient (scaled by the clipping factor), then the parameter from the moments. No temporary tensors.

use rayon::prelude::*;

const BLOCK: usize = 32 * 1024;

/// The step's constants.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    /// 0 for parameters without weight decay.
    pub weight_decay: f32,
    /// 1 − β₁ᵗ and 1 − β₂ᵗ (bias corrections, computed in f64 by the caller).
    pub bias_correction1: f32,
    pub bias_correction2: f32,
    /// The gradient clipping factor (1 = no clipping).
    pub grad_scale: f32,
}

vectorised! {
    fn block_moments(m: &mut [f32], v: &mut [f32], g: &[f32], beta1: f32, beta2: f32, grad_scale: f32) {
        let (c1, c2) = (1.0 - beta1, 1.0 - beta2);
        for i in 0..g.len() {
            let g = g[i] * grad_scale;
            m[i] = m[i] * beta1 + g * c1;
            v[i] = v[i] * beta2 + g * g * c2;
        }
    }
}

vectorised! {
    fn block_params(p: &mut [f32], m: &[f32], v: &[f32], lr: f32, decay: f32, bc1: f32, sqrt_bc2: f32, eps: f32) {
        let step = lr / bc1;
        for i in 0..p.len() {
            let denom = v[i].sqrt() / sqrt_bc2 + eps;
            p[i] = p[i] * decay - step * m[i] / denom;
        }
    }
}

/// `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²` with `g` the gradient times `grad_scale`.
pub fn moments(m: &mut [f32], v: &mut [f32], g: &[f32], s: &Step) {
    assert!(m.len() == g.len() && v.len() == g.len(), "adamw::moments: shapes");
    m.par_chunks_mut(BLOCK)
        .zip(v.par_chunks_mut(BLOCK))
        .zip(g.par_chunks(BLOCK))
        .for_each(|((m, v), g)| block_moments(m, v, g, s.beta1, s.beta2, s.grad_scale));
}

/// `θ ← θ(1 − lr·λ) − lr · (m / bc₁) / (√(v / bc₂) + ε)`.
pub fn update(p: &mut [f32], m: &[f32], v: &[f32], s: &Step) {
    assert!(m.len() == p.len() && v.len() == p.len(), "adamw::update: shapes");
    let decay = 1.0 - s.lr * s.weight_decay;
    let sqrt_bc2 = s.bias_correction2.sqrt();
    p.par_chunks_mut(BLOCK).zip(m.par_chunks(BLOCK)).zip(v.par_chunks(BLOCK)).for_each(|((p, m), v)| {
        block_params(p, m, v, s.lr, decay, s.bias_correction1, sqrt_bc2, s.eps)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three steps against the textbook formula in f64.
    #[test]
    fn matches_the_formula() {
        let mut p = vec![0.5f32, -1.0, 2.0, 0.0];
        let (mut m, mut v) = (vec![0f32; 4], vec![0f32; 4]);
        let mut p64: Vec<f64> = p.iter().map(|&x| f64::from(x)).collect();
        let (mut m64, mut v64) = (vec![0f64; 4], vec![0f64; 4]);
        let (lr, b1, b2, eps, wd, scale) = (0.01f64, 0.9f64, 0.999f64, 1e-8f64, 0.1f64, 0.5f64);
        for t in 1..=3 {
            let g: Vec<f32> = p.iter().map(|&x| 2.0 * x + 0.1).collect();
            let g64: Vec<f64> = p64.iter().map(|&x| (2.0 * x + 0.1) * scale).collect();
            let s = Step {
                lr: lr as f32,
                beta1: b1 as f32,
                beta2: b2 as f32,
                eps: eps as f32,
                weight_decay: wd as f32,
                bias_correction1: (1.0 - b1.powi(t)) as f32,
                bias_correction2: (1.0 - b2.powi(t)) as f32,
                grad_scale: scale as f32,
            };
            moments(&mut m, &mut v, &g, &s);
            update(&mut p, &m, &v, &s);
            for i in 0..4 {
                m64[i] = b1 * m64[i] + (1.0 - b1) * g64[i];
                v64[i] = b2 * v64[i] + (1.0 - b2) * g64[i] * g64[i];
                p64[i] = p64[i] * (1.0 - lr * wd)
                    - lr * (m64[i] / (1.0 - b1.powi(t))) / ((v64[i] / (1.0 - b2.powi(t))).sqrt() + eps);
            }
        }
        for i in 0..4 {
            assert!((f64::from(p[i]) - p64[i]).abs() < 1e-6, "{i}: {} vs {}", p[i], p64[i]);
        }
    }
}
