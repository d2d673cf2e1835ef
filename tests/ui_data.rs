//! The Data section of the Model & Data page through egui_kittest: the built-in demo headlines, a local
//! dataset folder typed in, column mapping, the preview, the label chart and token lengths, and an error
//! that keeps the previous dataset usable.

mod common;

use common::step_until;


use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use lm_workbench::core::data::SplitName;
use lm_workbench::ui::{Page, State, WorkbenchApp};


fn dataset_name(h: &Harness<'_, WorkbenchApp>) -> Option<String> {
    h.state().state.model.data.dataset().map(|d| d.name.clone())
}

#[test]
fn demo_headlines_then_a_local_folder_with_column_mapping() {
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 1400.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(State { page: Page::ModelData, ..State::default() }));
    step_until(&mut h, "the demo dataset and its token lengths", |h| {
        h.state().model().is_some() && dataset_name(h).is_some() && h.query_by_label_contains("% of rows longer than 128 tokens").is_some()
    });
    let demo = h.state().state.model.data.dataset().unwrap().clone();
    assert_eq!(demo.label_names, ["business", "entertainment", "health", "news", "politics", "sport"]);
    assert_eq!(demo.split(SplitName::Train).unwrap().len() + demo.split(SplitName::Validation).unwrap().len(), 2100);
    // 15 % of each label held out, as the Train page's demo kit does.
    h.get_by_label_contains("train 1,782 / validation 318 · 6 labels");
    h.get_by_label("Labels in train");
    h.get_by_label("label column");

    // A folder with train/test files and an extra column.
    let dir = tempfile::tempdir().unwrap();
    let rows = [("A late goal wins the cup", "sport"), ("Shares fall after the report", "business"), ("New vaccine trial starts", "health")];
    let mut train = String::from("text,topic,note\n");
    for i in 0..30 {
        let (t, l) = rows[i % 3];
        train.push_str(&format!("\"{t}, day {i}\",{l},n{i}\n"));
    }
    std::fs::write(dir.path().join("train.csv"), &train).unwrap();
    std::fs::write(dir.path().join("test.csv"), "text,topic,note\nThe striker scores twice,sport,x\n").unwrap();
    h.state_mut().state.model.data.spec = String::new();
    h.get_by_label("Dataset:").click();
    h.run_ok();
    h.get_by_label("Dataset:").type_text(&dir.path().display().to_string());
    h.run_ok();
    let folder = dir.path().file_name().unwrap().to_string_lossy().into_owned();
    h.get_by_label("Load data").click();
    step_until(&mut h, "the folder", |h| dataset_name(h).is_some_and(|n| n.contains(&folder)) && h.state().jobs().is_empty());
    let loaded = h.state().state.model.data.dataset().unwrap().clone();
    assert_eq!(loaded.mapping.label.as_deref(), Some("topic"), "topic is detected as the label column");

    // Map the columns by hand: no label, then the note column as text, then the label back.
    h.get_by_label("label column").click();
    h.run_ok();
    h.get_by_label("none").click();
    step_until(&mut h, "the reload without labels", |h| h.state().state.model.data.dataset().is_some_and(|d| d.label_names.is_empty()) && h.state().jobs().is_empty());
    h.get_by_label("text column").click();
    h.run_ok();
    h.get_all_by_label("note").last().unwrap().click();
    step_until(&mut h, "the reload with note as text", |h| h.state().state.model.data.dataset().is_some_and(|d| d.mapping.text == "note") && h.state().jobs().is_empty());
    let first = h.state().state.model.data.dataset().unwrap().split(SplitName::Train).unwrap().texts[0].clone();
    assert!(first.starts_with('n'), "{first}");
    h.get_by_label(&first);
    h.state_mut().state.model.data.options.columns.text = Some("text".into());
    h.get_by_label("label column").click();
    h.run_ok();
    h.get_all_by_label("topic").last().unwrap().click();
    step_until(&mut h, "the reload", |h| h.state().state.model.data.dataset().is_some_and(|d| !d.label_names.is_empty()) && h.state().jobs().is_empty());
    let mapped = h.state().state.model.data.dataset().unwrap().clone();
    assert_eq!(mapped.label_names, ["business", "health", "sport"]);
    assert_eq!(mapped.label_counts(SplitName::Test), [0, 0, 1]);
    // The preview shows rows; quoted commas are kept in the text.
    let first = mapped.split(SplitName::Train).unwrap().texts[0].clone();
    assert!(first.contains(", day "), "{first}");
    h.get_by_label(&first);
    h.get_by_label("Labels in train");

    // A bad path: an error, and the previous dataset stays.
    h.state_mut().state.model.data.spec = String::new();
    h.get_by_label("Dataset:").click();
    h.run_ok();
    h.get_by_label("Dataset:").type_text("/no/such/data.csv");
    h.run_ok();
    h.get_by_label("Load data").click();
    step_until(&mut h, "the error", |h| h.query_by_label_contains("⚠").is_some() && h.state().jobs().is_empty());
    h.get_by_label_contains("/no/such/data.csv");
    assert_eq!(h.state().state.model.data.dataset().unwrap().label_names, ["business", "health", "sport"]);
}

/// Meetup finding 11: the preview table showed about 3 rows (an inner scroll area inside the page's is
/// 64 points tall by default), with empty space below.
#[test]
fn the_preview_table_shows_a_screenful_of_rows() {
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(State { page: Page::ModelData, ..State::default() }));
    step_until(&mut h, "the demo dataset", |h| dataset_name(h).is_some());
    h.run_ok();
    let demo = h.state().state.model.data.dataset().unwrap().clone();
    let texts = &demo.split(SplitName::Train).unwrap().texts;
    let shown = texts.iter().take(12).filter(|t| h.query_by_label(t).is_some()).count();
    assert!(shown >= 8, "only {shown} preview rows shown");
}

/// Model & Data → "Train a tokenizer": learnt from the loaded dataset's train split on a background
/// job, saved in the Hugging Face layout, its coverage shown, and one click opens it on the Tokenize page.
/// The Model & Data page with the demo dataset loaded and "Train a tokenizer" open, set to write a
/// tokenizer of `vocab_size` tokens to `out/name`.
fn tokenizer_panel(out: &std::path::Path, name: &str, vocab_size: usize) -> (std::path::PathBuf, Harness<'static, WorkbenchApp>) {
    let dir = out.join(name);
    let mut state = State { page: Page::ModelData, ..State::default() };
    state.tour.open = false;
    state.model.tokenizer_training.vocab_size = vocab_size;
    state.model.tokenizer_training.out = dir.display().to_string();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 1400.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    step_until(&mut h, "the demo dataset", |h| dataset_name(h).is_some() && h.state().jobs().is_empty());
    h.get_by_label("Train a tokenizer on this dataset").click();
    h.run_ok();
    (dir, h)
}

#[test]
fn a_tokenizer_trained_on_the_loaded_dataset_opens_on_the_tokenize_page() {
    let out = tempfile::tempdir().unwrap();
    let (dir, mut h) = tokenizer_panel(out.path(), "headlines-wp", 1500);
    h.get_by_label("Train tokenizer").scroll_to_me();
    h.run_ok();
    h.get_by_label("Train tokenizer").click();
    step_until(&mut h, "the trained tokenizer", |h| h.query_by_label_contains("✔ 1,500 tokens, saved to").is_some());
    h.get_by_label_contains("tokens per word");
    h.get_by_label("The most frequent words it splits");
    for f in ["vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"] {
        assert!(dir.join(f).is_file(), "{f}");
    }
    // Side by side first: the loaded model (the demo) on top, the new tokenizer under it, same text.
    h.get_by_label("Compare it with the loaded model's").scroll_to_me();
    h.run_ok();
    h.get_by_label("Compare it with the loaded model's").click();
    step_until(&mut h, "the comparison", |h| h.query_by_label_contains("headlines-wp: ").is_some());
    assert_eq!(h.state().state.page, Page::Tokenize);
    assert_eq!(h.state().model().unwrap().name, "built-in demo");
    let text = h.state().state.tokenize.text.clone();
    let other = lm_workbench::core::model_source::load_tokenizer(&lm_workbench::core::model_source::ModelFiles::in_dir(&dir)).unwrap();
    let n = other.encode(&lm_workbench::core::text::tokenizer::EncodeRequest::text(text)).unwrap().len();
    h.get_by_label_contains(&format!("headlines-wp: {n} tokens"));
    h.state_mut().state.page = Page::ModelData;
    h.run_ok();
    h.get_by_label("Open it on the Tokenize page").scroll_to_me();
    h.run_ok();
    h.get_by_label("Open it on the Tokenize page").click();
    step_until(&mut h, "the new tokenizer", |h| h.state().model().is_some_and(|m| m.name == "headlines-wp"));
    assert_eq!(h.state().state.page, Page::Tokenize);
    assert_eq!(h.state().model().unwrap().tokenizer.vocab_size(), 1500);
}

/// The algorithm menu: a byte-level BPE trained from the same panel, saved as transformers reads it
/// (tokenizer.json, no vocab.txt), and its coverage shows the words as text, not as bytes.
#[test]
fn the_algorithm_menu_trains_a_byte_level_bpe() {
    let out = tempfile::tempdir().unwrap();
    let (dir, mut h) = tokenizer_panel(out.path(), "headlines-bpe", 800);
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Algorithm").click();
    h.run_ok();
    h.get_by_label("byte-level BPE (GPT-2, RoBERTa)").click();
    h.run_ok();
    h.get_by_label_contains("Ġ");
    h.get_by_label("Train tokenizer").scroll_to_me();
    h.run_ok();
    h.get_by_label("Train tokenizer").click();
    step_until(&mut h, "the trained tokenizer", |h| h.query_by_label_contains("✔ 800 tokens, saved to").is_some());
    assert!(dir.join("tokenizer.json").is_file() && !dir.join("vocab.txt").exists());
    let loaded = lm_workbench::core::model_source::load_tokenizer(&lm_workbench::core::model_source::ModelFiles::in_dir(&dir)).unwrap();
    assert_eq!(loaded.kind(), lm_workbench::core::text::tokenizer::TokenizerKind::Bpe);
    let info = match h.state().state.model.tokenizer_training.last_result() {
        Some(Ok(info)) => info.clone(),
        other => panic!("{other:?}"),
    };
    let split = &info.report.most_split[0];
    assert!(split.pieces[0].starts_with('Ġ') && !split.word.contains('Ġ'), "{split:?}");
    assert!(h.query_all_by_label(&split.word).count() >= 1, "{} shown", split.word);
}
