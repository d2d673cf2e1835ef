//! The Embeddings page's core against independent computations: transformers' attention maps,
//! sentence-transformers' vectors and numpy's PCA (tests/reference/make_embeddings_reference.py),
//! brute-force cosine neighbours, n-gram counts made here, and the CLI commands over them.

mod common;
mod model_common;

use candle_core::{DType, Device};
use lm_workbench::core::embeddings::{
    attention_maps, project, sentence_vectors, token_vectors, word_neighbours, SentenceOptions, VectorSource,
    VocabIndex,
};
use lm_workbench::core::model::infer::Pooling;
use lm_workbench::core::model::{ModelInput, Task, TaskChoice, TaskModel};
use lm_workbench::core::ngram::{ngram_words, NgramModel};
use lm_workbench::core::text::tokenizer::TextTokenizer;
use model_common::{f32_options, f64s, reference_dir, u32_rows};
use serde_json::Value;

use common::{json_of, run_cli};

fn minilm() -> (TaskModel, TextTokenizer) {
    let dir = common::fixture("all-minilm-l6-v2");
    let (model, _) = TaskModel::from_dir(&dir, TaskChoice::Task(Task::Base), &f32_options()).expect("MiniLM");
    let tokenizer = TextTokenizer::from_tokenizer_json(&dir.join("tokenizer.json")).expect("tokenizer");
    (model, tokenizer)
}

fn embeddings_reference() -> Value {
    let path = reference_dir().join("embeddings_reference.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array().expect("array").iter().map(|x| x.as_f64().expect("number") as f32).collect()
}

#[test]
fn attention_maps_equal_transformers_output_attentions() {
    let (model, tokenizer) = minilm();
    let reference = embeddings_reference();
    for case in reference["attention"].as_array().expect("cases") {
        let ids = u32_rows(&case["input_ids"]);
        let mask = u32_rows(&case["attention_mask"]);
        let types: Vec<Vec<u32>> = ids.iter().map(|r| vec![0; r.len()]).collect();
        let input = ModelInput::from_rows(&ids, &types, &mask, &Device::Cpu).expect("input");
        let (_, layers) = model.encode_with_attentions(&input).expect("forward");
        let expected = case["attentions"].as_array().expect("layers");
        assert_eq!(layers.len(), expected.len());
        let mut max_diff = 0f32;
        for (layer, (probs, want)) in layers.iter().zip(expected).enumerate() {
            let (batch, heads, queries, keys) = probs.dims4().expect("dims");
            for b in 0..batch {
                for h in 0..heads {
                    for q in 0..queries {
                        let row: Vec<f32> = probs.get(b).unwrap().get(h).unwrap().get(q).unwrap().to_vec1().unwrap();
                        let want_row = floats(&want[b][h][q]);
                        assert_eq!(row.len(), keys);
                        let sum: f32 = row.iter().sum();
                        assert!((sum - 1.0).abs() < 1e-5, "layer {layer} batch {b} head {h} query {q}: sum {sum}");
                        for (k, (g, w)) in row.iter().zip(&want_row).enumerate() {
                            if mask[b][k] == 0 {
                                assert_eq!(*g, 0.0, "a padding key gets no attention");
                            }
                            max_diff = max_diff.max((g - w).abs());
                        }
                    }
                }
            }
        }
        println!("attention: max abs diff {max_diff:.3e}");
        assert!(max_diff < 1e-4, "max abs diff {max_diff}");
    }
    // The page's entry point on one text: the same maps, with tokens and special flags.
    let case = &reference["attention"][0];
    let text = case["texts"][0].as_str().expect("text");
    let maps = attention_maps(&model, &tokenizer, text, None).expect("maps");
    assert_eq!(maps.ids, u32_rows(&case["input_ids"])[0]);
    assert_eq!((maps.layers(), maps.heads()), (6, 12));
    assert_eq!(maps.tokens.first().map(String::as_str), Some("[CLS]"));
    assert!(maps.special[0] && maps.special[maps.tokens.len() - 1] && !maps.special[1]);
    let want = floats(&case["attentions"][5][0][11][3]);
    let got = &maps.map(5, 11).expect("head")[3];
    assert!(got.iter().zip(&want).all(|(g, w)| (g - w).abs() < 1e-4));
}

#[test]
fn mean_pooled_vectors_match_sentence_transformers() {
    let (model, tokenizer) = minilm();
    let reference = embeddings_reference();
    let texts: Vec<String> =
        reference["sentence"]["texts"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect();
    for (normalize, key) in [(false, "mean"), (true, "sentence_transformers")] {
        // Batch size 3: a padded batch and a lone row, in length order, back in file order.
        let options = SentenceOptions { pooling: Pooling::Mean, max_length: 128, batch_size: 3, normalize };
        let mut calls = Vec::new();
        let vectors = sentence_vectors(&model, &tokenizer, &texts, &options, &mut |d, t| calls.push((d, t)), None)
            .expect("vectors");
        assert_eq!(calls, [(3, 4), (4, 4)]);
        let mut max_diff = 0f32;
        for (got, want) in vectors.iter().zip(reference["sentence"][key].as_array().unwrap()) {
            let want = floats(want);
            assert_eq!(got.len(), 384);
            max_diff = got.iter().zip(&want).fold(max_diff, |m, (g, w)| m.max((g - w).abs()));
        }
        println!("{key}: max abs diff {max_diff:.3e}");
        assert!(max_diff < 1e-4, "{key}: {max_diff}");
    }
    let cancel = std::sync::atomic::AtomicBool::new(true);
    let options = SentenceOptions::default();
    let err = sentence_vectors(&model, &tokenizer, &texts, &options, &mut |_, _| {}, Some(&cancel)).unwrap_err();
    assert!(err.to_string().contains("cancelled after 0 of 4 rows"), "{err}");
}

#[test]
fn pca_projection_matches_numpy_svd() {
    let (model, tokenizer) = minilm();
    let reference = embeddings_reference();
    let pca_ref = &reference["pca"];
    let texts: Vec<String> = pca_ref["texts"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect();
    let options = SentenceOptions { pooling: Pooling::Mean, max_length: 128, batch_size: 16, normalize: false };
    let vectors = sentence_vectors(&model, &tokenizer, &texts, &options, &mut |_, _| {}, None).expect("vectors");
    let projection = project(&vectors).expect("pca");
    let ratio = f64s(&pca_ref["explained_variance_ratio"]);
    let variance = f64s(&pca_ref["explained_variance"]);
    for a in 0..2 {
        assert!((projection.pca.explained_variance_ratio[a] - ratio[a]).abs() < 1e-4, "{:?} vs {ratio:?}", projection.pca.explained_variance_ratio);
        assert!((projection.pca.explained_variance[a] - variance[a]).abs() < 1e-4 * variance[a]);
    }
    // Unit, orthogonal axes.
    let c = &projection.pca.components;
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    assert!((dot(&c[0], &c[0]) - 1.0).abs() < 1e-9 && (dot(&c[1], &c[1]) - 1.0).abs() < 1e-9 && dot(&c[0], &c[1]).abs() < 1e-9);
    // Coordinates equal up to each axis's sign.
    let want: Vec<Vec<f64>> = pca_ref["points"].as_array().unwrap().iter().map(f64s).collect();
    for axis in 0..2 {
        let sign = if projection.points[0][axis] as f64 * want[0][axis] < 0.0 { -1.0 } else { 1.0 };
        for (got, want) in projection.points.iter().zip(&want) {
            assert!((sign * got[axis] as f64 - want[axis]).abs() < 1e-3, "axis {axis}: {} vs {}", got[axis], want[axis]);
        }
    }
    // A new vector lands where its coordinates say; an existing one where it was.
    assert_eq!(projection.place(&vectors[7]), projection.points[7]);
}

#[test]
fn neighbours_equal_a_brute_force_search() {
    let (model, tokenizer) = minilm();
    let index = VocabIndex::new(&model, &tokenizer).expect("index");
    assert_eq!((index.len(), index.dim()), (30522, 384));
    let found = word_neighbours(&index, &tokenizer, "king", 10).expect("neighbours");
    assert_eq!(found.tokens, ["king"]);
    // Brute force with candle: normalise every row, one matrix-vector product, full sort.
    let table = model.word_embeddings().to_dtype(DType::F32).unwrap();
    let norms = table.sqr().unwrap().sum_keepdim(1).unwrap().sqrt().unwrap();
    let unit = table.broadcast_div(&norms).unwrap();
    let id = tokenizer.token_to_id("king").expect("king") as usize;
    let query = unit.get(id).unwrap().unsqueeze(1).unwrap();
    let cos: Vec<f32> = unit.matmul(&query).unwrap().squeeze(1).unwrap().to_vec1().unwrap();
    let mut order: Vec<usize> = (0..cos.len()).filter(|&i| i != id).collect();
    order.sort_by(|&a, &b| cos[b].total_cmp(&cos[a]));
    let got: Vec<u32> = found.neighbours.iter().map(|n| n.id).collect();
    let want: Vec<u32> = order[..10].iter().map(|&i| i as u32).collect();
    assert_eq!(got, want);
    for n in &found.neighbours {
        assert!((n.cosine - cos[n.id as usize]).abs() < 1e-5);
        assert_eq!(Some(n.token.as_str()), tokenizer.id_to_token(n.id));
    }
    assert!(found.neighbours.iter().any(|n| n.token == "queen"), "{:?}", found.neighbours);
    // A word of several tokens: searched by their mean, all of them excluded.
    let multi = word_neighbours(&index, &tokenizer, "tokenization", 5).expect("neighbours");
    assert!(multi.tokens.len() > 1, "{:?}", multi.tokens);
    assert!(multi.neighbours.iter().all(|n| !multi.ids.contains(&n.id)));
    assert!(word_neighbours(&index, &tokenizer, "  ", 5).is_err());
}

#[test]
fn token_vectors_are_embedding_rows_and_hidden_states() {
    let (model, tokenizer) = minilm();
    let input = token_vectors(&model, &tokenizer, "what a day", VectorSource::Input, None).expect("input rows");
    assert_eq!(input.tokens, ["[CLS]", "what", "a", "day", "[SEP]"]);
    let index = VocabIndex::new(&model, &tokenizer).expect("index");
    for (id, v) in input.ids.iter().zip(&input.vectors) {
        assert_eq!(index.row(*id).expect("row"), v.as_slice());
    }
    let last = token_vectors(&model, &tokenizer, "what a day", VectorSource::Layer(6), None).expect("layer 6");
    let vectors = sentence_vectors(
        &model,
        &tokenizer,
        &["what a day".to_string()],
        &SentenceOptions { pooling: Pooling::Cls, ..SentenceOptions::default() },
        &mut |_, _| {},
        None,
    )
    .expect("cls");
    assert!(last.vectors[0].iter().zip(&vectors[0]).all(|(a, b)| (a - b).abs() < 1e-5), "layer 6 [CLS] is the CLS vector");
    let err = token_vectors(&model, &tokenizer, "x", VectorSource::Layer(7), None).unwrap_err();
    assert!(err.to_string().contains("the model has 6 layers"), "{err}");
}

/// Counts made here the plain way (every window of every row as a joined string) on real data.
#[test]
fn ngram_counts_and_probabilities_on_real_data() {
    let path = common::shared_data("bbc-news/test.csv");
    let mut reader = csv::Reader::from_path(&path).expect("bbc test.csv");
    let texts: Vec<String> = reader.records().map(|r| r.expect("row")[0].to_string()).take(200).collect();
    let model = NgramModel::new(texts.iter().map(String::as_str));
    let mut grams: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    let mut total = 0u64;
    for text in &texts {
        let words = ngram_words(text);
        total += words.len() as u64;
        for n in 1..=4 {
            for w in words.windows(n) {
                *grams.entry(w.join(" ")).or_default() += 1;
            }
        }
    }
    assert_eq!(model.total_words(), total);
    for (n, context) in [(2, "the"), (3, "said the"), (4, "one of the"), (1, ""), (3, "of the")] {
        let table = model.next_words(n, context, 10, 0.0).expect("table");
        let count_context = if n == 1 { total } else { grams[&table.context.join(" ")] };
        assert_eq!(table.context_count, count_context, "{n} {context}");
        assert!(!table.next.is_empty(), "{n} {context}");
        for w in &table.next {
            let key = if n == 1 { w.word.clone() } else { format!("{} {}", table.context.join(" "), w.word) };
            assert_eq!(w.count, grams[&key], "count({key})");
            assert!((w.p - w.count as f64 / count_context as f64).abs() < 1e-12);
        }
        assert!(table.next.windows(2).all(|p| p[0].count >= p[1].count));
    }
    let smoothed = model.next_words(2, "the", 3, 0.5).expect("add-k");
    let c = grams[&format!("the {}", smoothed.next[0].word)] as f64;
    let expected = (c + 0.5) / (grams["the"] as f64 + 0.5 * model.vocabulary() as f64);
    assert!((smoothed.next[0].p - expected).abs() < 1e-12);
}

#[test]
fn cli_attention_neighbours_projection_and_ngram() {
    let minilm = common::minilm().to_string_lossy().into_owned();
    let v = json_of(&run_cli(&["attention", "--model", &minilm, "--text", "Hello world", "--json"]));
    let tokens = v["tokens"].as_array().expect("tokens");
    assert_eq!(tokens.len(), 4);
    let att = v["attentions"].as_array().expect("attentions");
    assert_eq!(att.len(), 6);
    assert_eq!(att[0].as_array().unwrap().len(), 12);
    let row = floats(&att[2][4][1]);
    assert_eq!(row.len(), 4);
    assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);

    let v = json_of(&run_cli(&["neighbours", "--model", &minilm, "--word", "king", "--top-k", "3", "--json"]));
    let n = v["neighbours"].as_array().expect("neighbours");
    assert_eq!(n.len(), 3);
    assert!(n.iter().all(|x| x["token"] != "king" && x["cosine"].as_f64().unwrap() > 0.3), "{n:?}");

    let v = json_of(&run_cli(&[
        "embed", "--model", &minilm, "--data", "builtin:headlines", "--limit", "50", "--project", "pca", "--json",
    ]));
    assert_eq!(v["points"].as_array().unwrap().len(), 50);
    let labels = v["labels"].as_array().unwrap();
    assert_eq!((labels.len(), labels[0].as_str(), labels[1].as_str()), (50, Some("entertainment"), Some("sport")));
    let ratio = f64s(&v["explained_variance_ratio"]);
    assert!(ratio[0] >= ratio[1] && ratio[1] > 0.0 && ratio[0] < 1.0);

    let v = json_of(&run_cli(&["ngram", "--data", "builtin:headlines", "--n", "2", "--context", "New", "--top-k", "3", "--json"]));
    assert_eq!(v["context"], serde_json::json!(["new"]));
    assert_eq!(v["context_count"], 108);
    assert_eq!(v["next"][0], serde_json::json!({"word": "law", "count": 27, "p": 0.25}));
    let out = run_cli(&["ngram", "--data", "builtin:headlines", "--n", "7"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--n must be 1 to 4"));
}
