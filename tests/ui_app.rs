//! The real app driven through egui_kittest: typing, token chips, page switching, model loading and errors.

mod common;


use std::time::{Duration, Instant};

use common::{minilm, WELCOME, WELCOME_IDS};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use lm_workbench::ui::{Page, State, WorkbenchApp};

fn harness(state: State) -> Harness<'static, WorkbenchApp> {
    Harness::builder()
        .with_size(egui::vec2(1280.0, 820.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state))
}

/// Steps the UI until `done` holds (background jobs finish on their own thread).
fn step_until(harness: &mut Harness<'_, WorkbenchApp>, what: &str, done: impl Fn(&WorkbenchApp) -> bool) {
    let start = Instant::now();
    while !done(harness.state()) {
        assert!(start.elapsed() < Duration::from_secs(60), "timed out waiting for {what}");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.run_ok();
}

fn loaded_name(app: &WorkbenchApp) -> Option<String> {
    app.model().map(|m| m.name.clone())
}

#[test]
fn starts_with_the_builtin_demo_and_tokenizes() {
    let mut h = harness(State::default());
    step_until(&mut h, "the demo tokenizer", |app| loaded_name(app).as_deref() == Some("built-in demo"));
    assert!(h.query_by_label_contains("Model: built-in demo").is_some());
    // The default text is tokenized: [CLS] chip and the transformers-style lines are there.
    h.get_all_by_label("[CLS]").next().expect("a [CLS] chip");
    h.get_by_label_contains("input_ids: [2,");
}

#[test]
fn typing_updates_token_chips_and_ids() {
    let mut state = State::default();
    state.model.spec = minilm().display().to_string();
    state.tokenize.text = String::new();
    let mut h = harness(state);
    step_until(&mut h, "all-MiniLM-L6-v2", |app| loaded_name(app).as_deref() == Some("all-minilm-l6-v2"));

    h.get_by_label("Text:").click();
    h.run_ok();
    h.get_by_label("Text:").type_text(WELCOME);
    h.run_ok();
    assert_eq!(h.state().state.tokenize.text, WELCOME);

    let ids: Vec<String> = WELCOME_IDS.iter().map(u32::to_string).collect();
    h.get_by_label(&format!("input_ids: [{}]", ids.join(", ")));
    h.get_by_label(&format!("attention_mask: [{}]", vec!["1"; 19].join(", ")));
    for token in ["welcome", "token", "##izer", "##s", "[UNK]", "hugging", "[SEP]"] {
        h.get_all_by_label(token).next().unwrap_or_else(|| panic!("a chip for {token}"));
    }
    // Words view and characters view next to it.
    h.get_all_by_label("Tokenizers").next().expect("a word chip");
    h.get_all_by_label("🤗").next().expect("the emoji as a character and a word");
    h.get_by_label_contains("1 [UNK]");

    // The one-hot tab shows rows for the tokens and the label table from the talk.
    h.get_by_label("One-hot").click();
    h.run_ok();
    h.get_by_label_contains("Each token is a row of 30,522 numbers");
    // "Politic" heads a column and labels a row of the label one-hot table.
    assert_eq!(h.get_all_by_label("Politic").count(), 2);
    // The vocabulary browser finds a token by ID.
    h.get_by_label("Vocabulary").click();
    h.run_ok();
    h.get_by_label("Search:").click();
    h.run_ok();
    h.get_by_label("Search:").type_text("17629");
    h.run_ok();
    h.get_by_label_contains("17629  ##izer");
}

#[test]
fn switching_pages() {
    let mut h = harness(State::default());
    step_until(&mut h, "the demo tokenizer", |app| app.model().is_some());
    for page in [Page::ModelData, Page::Embeddings, Page::Train, Page::FillMask, Page::Runs, Page::Tokenize] {
        h.get_by_label(page.title()).click();
        h.run_ok();
        assert_eq!(h.state().state.page, page);
    }
    h.get_by_label("Model & Data").click();
    h.run_ok();
    h.get_by_label("Model:");
    h.get_by_label("Hugging Face Hub");
    h.get_by_label("Train").click();
    h.run_ok();
    h.get_by_label("Hyperparameters");
    h.get_by_label("Embeddings").click();
    h.run_ok();
    // No placeholder: with no model loaded on it yet, the page says what to load (and the n-gram view
    // works without one).
    assert!(h.query_by_label_contains("Coming next").is_none());
    h.get_by_label("Load model");
    h.get_by_label("N-gram model").click();
    step_until(&mut h, "the n-gram table", |app| app.state.embeddings.ngram.model().is_some());
    h.run_ok();
    h.get_by_label_contains("Counted from");
}

#[test]
fn loading_a_folder_and_a_bad_folder() {
    let mut h = harness(State { page: Page::ModelData, ..State::default() });
    step_until(&mut h, "the demo tokenizer", |app| app.model().is_some());

    // A bad folder: an error in the UI, the demo stays loaded and usable.
    h.state_mut().state.model.spec = String::new();
    h.get_by_label("Model:").click();
    h.run_ok();
    h.get_by_label("Model:").type_text("/no/such/folder");
    h.run_ok();
    h.get_by_label("Load").click();
    step_until(&mut h, "the load error", |app| app.load_error().is_some() && app.jobs().is_empty());
    h.get_by_label("⚠ model folder not found: /no/such/folder");
    assert_eq!(loaded_name(h.state()).as_deref(), Some("built-in demo"));

    // The real model folder.
    h.state_mut().state.model.spec = String::new();
    h.get_by_label("Model:").click();
    h.run_ok();
    h.get_by_label("Model:").type_text(&minilm().display().to_string());
    h.run_ok();
    h.get_by_label("Load").click();
    step_until(&mut h, "all-MiniLM-L6-v2", |app| loaded_name(app).as_deref() == Some("all-minilm-l6-v2"));
    assert!(h.state().load_error().is_none());
    h.get_by_label("Tokenizer: WordPiece · vocab 30,522");
    h.get_by_label_contains("BertModel (bert · 6 layers · hidden 384 · 12 heads)");
    assert_eq!(h.state().state.model.recent.first(), Some(&minilm().display().to_string()));
}

/// Meetup finding 7: a restart opened the last *typed* model and dataset specs; a failed attempt just
/// before quitting left the next start with the built-in demo and an old error. The state is saved and
/// restored through serde as eframe's storage does.
#[test]
fn a_restart_reopens_the_last_model_and_dataset_that_loaded() {
    let mut h = harness(State::default());
    let folder = minilm().display().to_string();
    h.state_mut().load(folder.clone());
    step_until(&mut h, "MiniLM", |app| loaded_name(app).as_deref() == Some("all-minilm-l6-v2"));
    step_until(&mut h, "the demo dataset", |app| app.state.model.data.dataset().is_some());
    // Then failed attempts: a folder that does not exist, a dataset that does not exist.
    h.state_mut().state.model.spec = "/no/such/model".into();
    h.state_mut().load("/no/such/model".into());
    step_until(&mut h, "the model error", |app| app.load_error().is_some());
    h.state_mut().state.model.data.request_load("/no/such/data.csv".into());
    step_until(&mut h, "the data error", |app| app.jobs().is_empty() && app.state.model.data.spec == "/no/such/data.csv");
    h.run_ok();

    let saved = serde_json::to_string(&h.state().state).unwrap();
    let restored: State = serde_json::from_str(&saved).unwrap();
    let mut h = harness(restored);
    step_until(&mut h, "the model after restart", |app| app.model().is_some() && app.jobs().is_empty());
    assert_eq!(loaded_name(h.state()).as_deref(), Some("all-minilm-l6-v2"));
    assert_eq!(h.state().load_error(), None);
    assert_eq!(h.state().state.model.spec, folder);
    step_until(&mut h, "the dataset after restart", |app| app.state.model.data.dataset().is_some());
    assert_eq!(h.state().state.model.data.spec, "builtin:headlines");
}

/// Presenter mode and the hotkeys: F5 toggles the larger, high-contrast look (persisted with the
/// state); Ctrl+1…6 open the pages; Ctrl+Enter starts, pauses and resumes training from any page;
/// Ctrl+. stops it.
#[test]
fn presenter_mode_and_hotkeys() {
    let runs = tempfile::tempdir().unwrap();
    let mut state = State::default();
    state.train.config.runs_dir = runs.path().into();
    state.train.config.max_steps = Some(100_000);
    let mut h = harness(state);
    step_until(&mut h, "the demo tokenizer", |app| app.model().is_some());
    h.key_press(egui::Key::F5);
    h.run_ok();
    assert!(h.state().state.presenter);
    assert_eq!(h.ctx.zoom_factor(), 1.25);
    let saved: State = serde_json::from_str(&serde_json::to_string(&h.state().state).unwrap()).unwrap();
    assert!(saved.presenter, "presenter mode is remembered");
    for (key, page) in [(egui::Key::Num3, Page::Embeddings), (egui::Key::Num6, Page::Runs), (egui::Key::Num1, Page::ModelData)] {
        h.key_press_modifiers(egui::Modifiers::COMMAND, key);
        h.run_ok();
        assert_eq!(h.state().state.page, page);
    }
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Enter);
    h.step();
    let status = |h: &Harness<'_, WorkbenchApp>| h.state().state.train.live.as_ref().map(|l| l.status.clone());
    assert_eq!(status(&h), Some(lm_workbench::ui::RunStatus::Running), "started from the Model & Data page");
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Enter);
    step_until(&mut h, "the pause", |app| app.state.train.live.as_ref().is_some_and(|l| l.status == lm_workbench::ui::RunStatus::Paused));
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Enter);
    step_until(&mut h, "the resume", |app| app.state.train.live.as_ref().is_some_and(|l| l.status == lm_workbench::ui::RunStatus::Running));
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Period);
    step_until(&mut h, "the stop", |app| app.state.train.live.as_ref().is_some_and(|l| !l.is_active()));
    h.key_press(egui::Key::F5);
    h.run_ok();
    assert!(!h.state().state.presenter);
    assert_eq!(h.ctx.zoom_factor(), 1.0);
}
