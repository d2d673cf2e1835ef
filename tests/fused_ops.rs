//! The fused training ops against the composed reference ops (forward and backward, f32 and bf16, odd
//! shapes, fully masked rows) and against finite differences; a whole model's gradients agree between
//! the two paths with dropout on, and every trainable tensor gets a non-zero gradient from the fused
//! path (candle's `_no_bwd` ops would silently stop them).

mod model_common;

use candle_core::{DType, Device, Tensor, Var, D};
use lm_workbench::core::model::ops::{self, with_kernels, Activation, Dropout, Kernels};
use lm_workbench::core::model::optim::{grad_norm, AdamW, AdamWConfig};
use lm_workbench::core::model::{ModelConfig, ModelInput, Task, TaskModel};
use model_common::f32_options;
use serde_json::json;

/// Deterministic values in [-scale, scale).
fn values(n: usize, seed: u32, scale: f32) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let x = (i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed.wrapping_mul(97)) >> 8;
            (x as f32 / 8_388_608.0 - 1.0) * scale
        })
        .collect()
}

fn var(shape: &[usize], seed: u32, scale: f32) -> Var {
    let n = shape.iter().product();
    Var::from_tensor(&Tensor::from_vec(values(n, seed, scale), shape, &Device::Cpu).unwrap()).unwrap()
}

fn flat(t: &Tensor) -> Vec<f32> {
    t.to_dtype(DType::F32).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

fn assert_close(what: &str, a: &[f32], b: &[f32], tol: f32) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let mut worst = 0f32;
    for (x, y) in a.iter().zip(b) {
        assert!(x.is_finite() && y.is_finite(), "{what}: non-finite {x} / {y}");
        worst = worst.max((x - y).abs() / (1.0 + y.abs()));
    }
    assert!(worst <= tol, "{what}: worst relative difference {worst:e} > {tol:e}");
}

/// Runs `f` on the vars with each kernel choice; compares outputs and the gradients of Σ out·r.
fn compare(what: &str, vars: &[Var], tol_fwd: f32, tol_bwd: f32, f: impl Fn(&[Tensor]) -> Tensor) {
    let run = |k: Kernels| {
        with_kernels(k, || {
            let inputs: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
            let out = f(&inputs);
            let r = Tensor::from_vec(values(out.elem_count(), 99, 1.0), out.shape(), &Device::Cpu)
                .unwrap()
                .to_dtype(out.dtype())
                .unwrap();
            let loss = (out.to_dtype(DType::F32).unwrap() * r.to_dtype(DType::F32).unwrap()).unwrap().sum_all().unwrap();
            let grads = loss.backward().unwrap();
            let g: Vec<Vec<f32>> = vars
                .iter()
                .map(|v| flat(grads.get(v).unwrap_or_else(|| panic!("{what} ({k:?}): a var got no gradient"))))
                .collect();
            (flat(&out), g)
        })
    };
    let (fo, fg) = run(Kernels::Fused);
    let (co, cg) = run(Kernels::Composed);
    assert_close(&format!("{what} forward"), &fo, &co, tol_fwd);
    for (i, (a, b)) in fg.iter().zip(&cg).enumerate() {
        // (a LayerNorm over one element has a zero input gradient on both paths)
        assert!(a.iter().any(|&x| x != 0.0) || b.iter().all(|&x| x == 0.0), "{what}: zero fused gradient for input {i}");
        assert_close(&format!("{what} gradient of input {i}"), a, b, tol_bwd);
    }
}

#[test]
fn layer_norm_matches_the_composed_op() {
    for (shape, h) in [(vec![3, 5, 37], 37), (vec![1, 384], 384), (vec![7, 1], 1)] {
        let x = var(&shape, 1, 3.0);
        let w = var(&[h], 2, 1.0);
        let b = var(&[h], 3, 1.0);
        compare(&format!("layer_norm {shape:?}"), &[x, w, b], 1e-5, 1e-4, |t| {
            ops::layer_norm(&t[0], &t[1], &t[2], 1e-12).unwrap()
        });
    }
}

#[test]
fn bias_gelu_matches_the_composed_op() {
    let x = var(&[2, 9, 33], 4, 4.0);
    let b = var(&[33], 5, 1.0);
    compare("bias gelu", &[x, b], 1e-6, 1e-5, |t| ops::bias_activation(&t[0], &t[1], Activation::Gelu).unwrap());
}

#[test]
fn cross_entropy_matches_the_composed_op_with_ignored_labels() {
    let logits = var(&[6, 11], 6, 5.0);
    let labels = Tensor::new(&[3i64, -100, 0, 10, -100, 7], &Device::Cpu).unwrap();
    compare("cross_entropy", std::slice::from_ref(&logits), 1e-6, 1e-6, |t| ops::cross_entropy(&t[0], &labels).unwrap());
    // every label ignored: a zero loss (and no NaN), as the composed op
    let none = Tensor::new(&[-100i64; 6], &Device::Cpu).unwrap();
    let loss = ops::cross_entropy(logits.as_tensor(), &none).unwrap();
    assert_eq!(loss.to_scalar::<f32>().unwrap(), 0.0);
    // a label outside the classes is an error that says so, not a panic
    let bad = Tensor::new(&[3i64, 11, 0, 1, 2, 3], &Device::Cpu).unwrap();
    let err = ops::cross_entropy(logits.as_tensor(), &bad).unwrap_err().to_string();
    assert!(err.contains("label 11 of row 1"), "{err}");
}

/// The attention block (scores, masked softmax, dropout on the probabilities, context) with padding,
/// a fully masked row of the batch, and dropout on: both paths draw the same masks.
#[test]
fn attention_with_padding_and_dropout_matches_the_composed_op() {
    let (b, h, s, d) = (3, 2, 7, 5);
    let q = var(&[b, h, s, d], 7, 1.5);
    let k = var(&[b, h, s, d], 8, 1.5);
    let v = var(&[b, h, s, d], 9, 1.0);
    let mask = Tensor::new(&[[1u32, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0, 0]], &Device::Cpu).unwrap();
    let bias = ops::attention_bias(&mask, DType::F32).unwrap();
    compare("attention", &[q, k, v], 1e-5, 1e-4, |t| {
        let mut dropout = Dropout::train(5);
        ops::attention(&t[0], &t[1], &t[2], Some(&bias), &mut dropout, 0.2).unwrap()
    });
}

/// Multi-head self-attention straight from the projections' layout (one fused op) against the
/// composed split → attention → merge, with padding, a fully masked batch element and dropout.
#[test]
fn self_attention_matches_the_composed_split_and_merge() {
    let (b, s, heads, d) = (3, 6, 3, 4);
    let q = var(&[b, s, heads * d], 30, 1.5);
    let k = var(&[b, s, heads * d], 31, 1.5);
    let v = var(&[b, s, heads * d], 32, 1.0);
    let mask = Tensor::new(&[[1u32, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0]], &Device::Cpu).unwrap();
    let bias = ops::attention_bias(&mask, DType::F32).unwrap();
    compare("self_attention", &[q, k, v], 1e-5, 1e-4, |t| {
        let mut dropout = Dropout::train(6);
        ops::self_attention(&t[0], &t[1], &t[2], heads, Some(&bias), &mut dropout, 0.25).unwrap()
    });
}

/// `x · Wᵀ + b` for a rank-3 x, with and without the bias.
#[test]
fn linear_matches_the_composed_op() {
    let x = var(&[2, 7, 13], 33, 2.0);
    let w = var(&[9, 13], 34, 1.0);
    let b = var(&[9], 35, 1.0);
    compare("linear", &[x.clone(), w.clone(), b], 1e-5, 1e-5, |t| ops::linear(&t[0], &t[1], Some(&t[2])).unwrap());
    compare("linear without bias", &[x, w], 1e-5, 1e-5, |t| ops::linear(&t[0], &t[1], None).unwrap());
}

#[test]
fn dropout_and_residual_match_the_composed_op() {
    let x = var(&[4, 3, 17], 10, 2.0);
    let r = var(&[4, 3, 17], 11, 2.0);
    compare("dropout add", &[x, r], 0.0, 0.0, |t| Dropout::train(9).add(&t[0], &t[1], 0.3).unwrap());
    let x = var(&[5, 13], 12, 2.0);
    compare("dropout", &[x], 0.0, 0.0, |t| Dropout::train(9).apply(&t[0], 0.5).unwrap());
}

/// bf16 inputs go through the f32 kernels and come back in bf16, close to the composed bf16 ops.
#[test]
fn bf16_inputs_match_the_composed_ops() {
    let x = var(&[4, 6, 24], 13, 3.0);
    let w = var(&[24], 14, 1.0);
    let b = var(&[24], 15, 1.0);
    compare("layer_norm bf16", &[x.clone(), w, b], 2e-2, 5e-2, |t| {
        let bf16 = |t: &Tensor| t.to_dtype(DType::BF16).unwrap();
        let y = ops::layer_norm(&bf16(&t[0]), &bf16(&t[1]), &bf16(&t[2]), 1e-12).unwrap();
        assert_eq!(y.dtype(), DType::BF16);
        y
    });
    let bias = var(&[24], 16, 1.0);
    compare("gelu bf16", &[x, bias], 2e-2, 5e-2, |t| {
        let y = ops::bias_activation(&t[0].to_dtype(DType::BF16).unwrap(), &t[1].to_dtype(DType::BF16).unwrap(), Activation::Gelu)
            .unwrap();
        assert_eq!(y.dtype(), DType::BF16);
        y
    });
}

/// Central differences in f32 (a smooth loss, a step of 1e-2) against the fused gradients.
#[test]
fn fused_gradients_match_finite_differences() {
    let x = var(&[2, 3, 8], 17, 2.0);
    let w = var(&[8], 18, 1.0);
    let b = var(&[8], 19, 1.0);
    let bias = var(&[8], 20, 1.0);
    let f = |x: &Tensor| -> Tensor {
        let y = ops::layer_norm(x, w.as_tensor(), b.as_tensor(), 1e-5).unwrap();
        let y = ops::bias_activation(&y, bias.as_tensor(), Activation::Gelu).unwrap();
        let scores = y.reshape((2, 1, 3, 8)).unwrap();
        let mask = Tensor::new(&[[1u32, 1, 1, 1, 1, 1, 0, 0], [1; 8]], &Device::Cpu).unwrap();
        let att_bias = ops::attention_bias(&mask, DType::F32).unwrap();
        // softmax over keys through attention with v = identity-like values
        let v = Tensor::from_vec(values(2 * 8 * 8, 21, 1.0), (2, 1, 8, 8), &Device::Cpu).unwrap();
        let q = scores.clone();
        let k = Tensor::from_vec(values(2 * 8 * 8, 22, 1.0), (2, 1, 8, 8), &Device::Cpu).unwrap();
        let ctx = ops::attention(&q, &k, &v, Some(&att_bias), &mut Dropout::eval(), 0.0).unwrap();
        let logits = ctx.reshape((6, 8)).unwrap();
        let labels = Tensor::new(&[1i64, 2, -100, 7, 0, 3], &Device::Cpu).unwrap();
        ops::cross_entropy(&logits, &labels).unwrap()
    };
    with_kernels(Kernels::Fused, || {
        let grads = f(x.as_tensor()).backward().unwrap();
        let g = flat(grads.get(&x).unwrap());
        let x0 = flat(x.as_tensor());
        for i in [0, 5, 11, 23, 30, 47] {
            let at = |delta: f32| {
                let mut v = x0.clone();
                v[i] += delta;
                let t = Tensor::from_vec(v, x.shape(), &Device::Cpu).unwrap();
                f64::from(f(&t).to_scalar::<f32>().unwrap())
            };
            let fd = (at(1e-2) - at(-1e-2)) / 2e-2;
            let err = (fd - f64::from(g[i])).abs();
            assert!(err < 2e-3 + 2e-2 * fd.abs(), "d/dx[{i}]: fused {} vs finite difference {fd}", g[i]);
        }
    });
}

fn tiny_config(task_labels: usize) -> ModelConfig {
    ModelConfig::from_value(json!({
        "model_type": "bert", "vocab_size": 50, "hidden_size": 24, "num_hidden_layers": 2, "num_attention_heads": 3,
        "intermediate_size": 40, "max_position_embeddings": 32, "type_vocab_size": 2, "initializer_range": 0.3,
        "hidden_dropout_prob": 0.2, "attention_probs_dropout_prob": 0.2, "num_labels": task_labels
    }))
    .unwrap()
}

fn batch() -> ModelInput {
    ModelInput::from_rows(
        &[vec![2, 7, 9, 11, 3, 0, 0], vec![2, 5, 6, 13, 21, 44, 3]],
        &[vec![0, 0, 0, 1, 1, 0, 0], vec![0, 0, 0, 0, 1, 1, 1]],
        &[vec![1, 1, 1, 1, 1, 0, 0], vec![1, 1, 1, 1, 1, 1, 1]],
        &Device::Cpu,
    )
    .unwrap()
}

/// Classifier and masked LM, dropout on: loss and every parameter's gradient agree between the fused
/// and composed paths, and no trainable tensor gets a zero gradient from the fused path.
#[test]
fn whole_model_gradients_match_the_composed_path_with_dropout() {
    for task in [Task::SequenceClassification, Task::MaskedLm] {
        let model = TaskModel::from_config(tiny_config(3), task, &f32_options()).unwrap();
        let labels = match task {
            Task::SequenceClassification => Tensor::new(&[2i64, 0], &Device::Cpu).unwrap(),
            _ => Tensor::new(&[[-100i64, 4, -100, 17, -100, -100, -100], [-100, -100, 8, -100, -100, 49, 3]], &Device::Cpu)
                .unwrap(),
        };
        let run = |k: Kernels| {
            with_kernels(k, || {
                let out = model.forward(&batch(), &mut Dropout::train(77)).unwrap();
                let loss = model.loss(&out.logits.unwrap(), &labels).unwrap();
                let grads = loss.backward().unwrap();
                let g: Vec<(String, Vec<f32>)> = model
                    .params()
                    .params()
                    .iter()
                    .map(|p| (p.name().to_string(), flat(grads.get(p.var()).unwrap_or_else(|| panic!("{k:?}: no gradient for {}", p.name())))))
                    .collect();
                (loss.to_scalar::<f32>().unwrap(), g)
            })
        };
        let (fl, fg) = run(Kernels::Fused);
        let (cl, cg) = run(Kernels::Composed);
        assert!((fl - cl).abs() < 1e-5 * (1.0 + cl.abs()), "{task:?}: loss {fl} vs {cl}");
        for ((name, a), (_, b)) in fg.iter().zip(&cg) {
            let key_bias = name.ends_with("self.key.bias");
            assert!(key_bias || a.iter().any(|&x| x != 0.0), "{task:?}: zero fused gradient for {name}");
            assert_close(&format!("{task:?} {name}"), a, b, 2e-4);
        }
    }
}

/// The fused AdamW (in place, clip factor inside) and the fused gradient norm follow the composed ones.
#[test]
fn fused_adamw_and_gradient_norm_match_the_composed_ones() {
    let run = |k: Kernels| {
        with_kernels(k, || {
            let a = var(&[3, 5], 23, 1.0);
            let b = var(&[5], 24, 1.0);
            let config = AdamWConfig { lr: 0.05, weight_decay: 0.1, ..AdamWConfig::default() };
            let mut opt = AdamW::new(vec![a.clone(), b.clone()], |i| i == 0, config).unwrap();
            let mut norms = Vec::new();
            for _ in 0..4 {
                let loss = (a.as_tensor().broadcast_mul(b.as_tensor()).unwrap().sqr().unwrap().sum_all().unwrap()
                    + a.as_tensor().sum_keepdim(D::Minus1).unwrap().sum_all().unwrap())
                .unwrap();
                let grads = loss.backward().unwrap();
                let norm = grad_norm(&grads, &[a.clone(), b.clone()]).unwrap();
                norms.push(norm);
                opt.step_scaled(&grads, (1.0 / norm).min(1.0)).unwrap();
            }
            let moments: Vec<f32> = opt.moments().iter().flat_map(|(m, v)| [flat(m), flat(v)].concat()).collect();
            (flat(a.as_tensor()), flat(b.as_tensor()), norms, moments)
        })
    };
    let (fa, fb, fnorm, fm) = run(Kernels::Fused);
    let (ca, cb, cnorm, cm) = run(Kernels::Composed);
    // One-pass f32 update vs candle's op-by-op one: a few ulp apart after 4 steps.
    assert_close("adamw a", &fa, &ca, 1e-5);
    assert_close("adamw b", &fb, &cb, 1e-5);
    assert_close("adamw moments", &fm, &cm, 1e-5);
    for (x, y) in fnorm.iter().zip(&cnorm) {
        assert!((x - y).abs() < 1e-5 * y, "grad norm {x} vs {y}");
    }
}

/// The masked-LM head on the labelled positions only gives the loss and gradients of the head on every
/// position (dropout on, so the encoder's masks must be the same too).
#[test]
fn masked_lm_head_on_labelled_positions_matches_the_full_head() {
    let model = TaskModel::from_config(tiny_config(3), Task::MaskedLm, &f32_options()).unwrap();
    let labels =
        Tensor::new(&[[-100i64, 4, -100, 17, -100, -100, -100], [-100, -100, 8, -100, -100, 49, 3]], &Device::Cpu).unwrap();
    let full = {
        let out = model.forward(&batch(), &mut Dropout::train(5)).unwrap();
        model.loss(&out.logits.unwrap(), &labels).unwrap()
    };
    let (logits, picked) = model.masked_lm_logits(&batch(), &labels, &mut Dropout::train(5)).unwrap();
    assert_eq!(logits.dims(), &[5, 50]);
    assert_eq!(picked.to_vec1::<i64>().unwrap(), vec![4, 17, 8, 49, 3]);
    let gathered = model.loss(&logits, &picked).unwrap();
    let (a, b) = (full.to_scalar::<f32>().unwrap(), gathered.to_scalar::<f32>().unwrap());
    assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    let (ga, gb) = (full.backward().unwrap(), gathered.backward().unwrap());
    for p in model.params().params() {
        let (x, y) = (flat(ga.get(p.var()).unwrap()), flat(gb.get(p.var()).unwrap()));
        assert_close(p.name(), &y, &x, 1e-5);
    }
}
