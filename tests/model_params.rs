//! Parameter accounting against transformers' figures for bert-base-uncased, from a bare config.

mod model_common;

use std::time::Instant;

use lm_workbench::core::model::{FreezeSpec, ModelConfig, Task, TaskModel};
use model_common::*;
use serde_json::json;

fn bert_base_config(num_labels: usize) -> serde_json::Value {
    json!({
        "model_type": "bert", "architectures": ["BertForMaskedLM"], "hidden_size": 768, "num_hidden_layers": 12,
        "num_attention_heads": 12, "intermediate_size": 3072, "vocab_size": 30522, "max_position_embeddings": 512,
        "type_vocab_size": 2, "num_labels": num_labels
    })
}

#[test]
fn bert_base_with_six_labels_has_transformers_counts() {
    let cfg = ModelConfig::from_value(bert_base_config(6)).expect("config");
    let started = Instant::now();
    let model = TaskModel::from_config(cfg, Task::SequenceClassification, &f32_options()).expect("random init");
    println!("random init of bert-base: {:.1}s", started.elapsed().as_secs_f64());
    let counts = model.counts();
    assert_eq!(counts.total, 109_486_854);
    assert_eq!(counts.trainable, 109_486_854);
    let names: Vec<&str> = counts.modules.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names.len(), 1 + 12 + 1 + 1);
    assert_eq!(
        (names[0], names[1], names[12], names[13], names[14]),
        ("embeddings", "encoder.layer.0", "encoder.layer.11", "pooler", "head")
    );
    assert_eq!(counts.modules[0].total, 23_837_184);
    assert!(counts.modules[1..13].iter().all(|m| m.total == 7_087_872));
    assert_eq!((counts.modules[13].total, counts.modules[14].total), (590_592, 4_614));

    model.freeze(FreezeSpec::Classifier);
    let counts = model.counts();
    assert_eq!((counts.total, counts.trainable), (109_486_854, 4_614));
    assert_eq!(model.params().trainable_vars().len(), 2);

    model.freeze(FreezeSpec::Top(2));
    assert_eq!(model.counts().trainable, 2 * 7_087_872 + 590_592 + 4_614);

    model.freeze(FreezeSpec::None);
    model.params().set_module_trainable(lm_workbench::core::model::ModuleId::Embeddings, false);
    assert_eq!(model.counts().trainable, 109_486_854 - 23_837_184);
}

#[test]
fn masked_lm_head_ties_the_decoder_to_the_word_embeddings() {
    // bert-base-uncased as BertForMaskedLM: 109,514,298 in transformers (no pooler, decoder tied).
    let mut cfg = bert_base_config(2);
    cfg["num_hidden_layers"] = json!(1);
    let cfg = ModelConfig::from_value(cfg).expect("config");
    let model = TaskModel::from_config(cfg, Task::MaskedLm, &f32_options()).expect("init");
    let counts = model.counts();
    let head = counts.modules.iter().find(|m| m.name == "head").expect("head");
    assert_eq!(head.total, 768 * 768 + 768 + 2 * 768 + 30522);
    assert!(counts.modules.iter().all(|m| m.name != "pooler"));
    assert_eq!(counts.total, 23_837_184 + 7_087_872 + head.total);
    assert_eq!(109_514_298, 23_837_184 + 12 * 7_087_872 + head.total);
}

/// The pre-training presets built from a config: parameter counts equal transformers'
/// `BertForMaskedLM(config).num_parameters()` / `BertForSequenceClassification` (5 labels) for the same
/// config with an 8,000-token vocabulary (computed with transformers 5.24).
#[test]
fn presets_have_transformers_counts() {
    use lm_workbench::core::train::scratch::BertShape;
    let labels: Vec<String> = (0..5).map(|i| format!("l{i}")).collect();
    for (layers, hidden, mlm, classifier) in
        [(2, 128, 1_511_360, 1_503_749), (4, 256, 5_413_440, 5_406_213), (6, 384, 14_073_536, 14_066_693)]
    {
        let shape = BertShape::preset(layers, hidden);
        let model = TaskModel::from_config(shape.config(8000, &[], 0).unwrap(), Task::MaskedLm, &f32_options()).unwrap();
        assert_eq!(model.counts().total, mlm, "{layers}x{hidden} masked LM");
        let model =
            TaskModel::from_config(shape.config(8000, &labels, 0).unwrap(), Task::SequenceClassification, &f32_options()).unwrap();
        assert_eq!(model.counts().total, classifier, "{layers}x{hidden} classifier");
    }
}
