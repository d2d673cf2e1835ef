//! The Train and Runs pages through egui_kittest: a short run of the offline demo kit (a tiny BERT on the
//! demo headlines) started from the Train page, its live charts and confusion matrix, a drill-down into
//! a cell, and the run in the Runs list.

mod common;

use common::{build_hf_cache, minilm, step_until, train_to_the_end};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use lm_workbench::core::hub::HubSettings;
use lm_workbench::core::train::{FINE_TUNE, FROM_SCRATCH};
use lm_workbench::ui::{Page, State, WorkbenchApp};

#[test]
fn demo_kit_run_from_the_train_page() {
    let runs = tempfile::tempdir().unwrap();
    let mut state = State { page: Page::Train, ..State::default() };
    state.train.config.runs_dir = runs.path().into();
    state.runs.runs_dir = runs.path().into();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 1100.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    // Before launch: exact counts, memory estimate, steps per epoch.
    step_until(&mut h, "the run plan", |h| h.query_by_label_contains("parameters train (100.00%)").is_some());
    // The demo kit: 2,100 headlines, 15% held out (stratified) → 1,782 rows, batches of 16, 10 epochs.
    h.get_by_label_contains("1,782 training rows · 112 steps per epoch · 1,120 steps in all · effective batch 16");
    h.get_by_label_contains("training memory ≈");

    // Classifier only: the freeze map greys the encoder and the counts drop.
    h.get_by_label("classifier only").click();
    step_until(&mut h, "the classifier-only plan", |h| h.query_by_label_contains("parameters train (100.00%)").is_none() && h.query_by_label_contains("parameters train (").is_some());
    h.get_by_label("whole model").click();
    step_until(&mut h, "the whole-model plan", |h| h.query_by_label_contains("parameters train (100.00%)").is_some());

    train_to_the_end(&mut h);
    let live = h.state().state.train.live.as_ref().unwrap();
    assert_eq!(live.steps.last().map(|m| m.step), Some(1120));
    let validation: Vec<_> = live.evals.iter().filter(|e| e.split == "validation").collect();
    assert_eq!(validation.len(), 10, "one evaluation per epoch");
    assert!(live.test.is_none(), "the demo headlines have no test split");
    let last = validation.last().copied().unwrap().clone();
    // The pre-trained demo encoder fine-tuned whole (see train_core for classifier-only).
    assert!(last.accuracy >= 0.8, "validation accuracy {}", last.accuracy);
    h.get_by_label("Loss");
    // Meetup finding 5: the legends sit in a row above each chart, never over the data.
    let loss_heading = h.get_by_label("Loss").rect();
    for entry in ["━ run loss", "◆ run validation loss", "● run accuracy", "■ run macro-F1 (dashed)"] {
        let rect = h.get_by_label(entry).rect();
        assert!(rect.min.y > loss_heading.max.y - 1.0, "{entry} is below the Loss heading");
    }
    h.get_by_label_contains("Confusion matrix");
    h.get_by_label_contains("step 1120 / 1120");

    // Drill into the diagonal cell of the first class: its examples with probabilities.
    let count = last.confusion[0][0];
    h.get_all_by_label(&count.to_string()).next().unwrap().click();
    h.run_ok();
    h.get_by_label_contains(&format!("{count} examples · true"));

    // The run is in the Runs list; ticking it shows its curves and final scores.
    h.get_by_label("Runs").click();
    step_until(&mut h, "the runs list", |h| h.query_by_label_contains("builtin:demo").is_some());
    h.get_by_label_contains("builtin:demo").click();
    step_until(&mut h, "the run's record", |h| h.query_by_label("Final scores").is_some());
    h.get_by_label("Training loss");
}

/// A pretrained model from the HF cache (all-MiniLM-L6-v2, laid out as a download leaves it), picked
/// from the Train page's "cached" menu: the fine-tune recipe replaces the from-scratch one, and the run
/// resolves the repo id with the app's Hub settings — a cache folder that is not the environment's, so
/// nothing but those settings can find the model. The meetup case: the network is down but offline
/// mode is not on (the endpoint is a port nobody answers), so every file falls back to the cache.
#[test]
fn a_cached_hub_model_fine_tunes_from_the_train_page() {
    const REPO: &str = "sentence-transformers/all-MiniLM-L6-v2";
    let home = tempfile::tempdir().unwrap();
    let cache = home.path().join("hub");
    let files = ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"];
    build_hf_cache(&cache, REPO, &minilm(), &files);
    let hub = HubSettings { endpoint: Some("http://127.0.0.1:9".into()), cache_dir: cache, offline: false };

    let runs = tempfile::tempdir().unwrap();
    let mut state = State { page: Page::Train, ..State::default() };
    state.train.config.runs_dir = runs.path().into();
    state.train.config.run_name = "minilm-headlines".into();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 1100.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::with_hub(state, hub));
    step_until(&mut h, "the run plan", |h| h.query_by_label_contains("parameters train (100.00%)").is_some());
    assert_eq!(h.state().state.train.config.learning_rate, FROM_SCRATCH.learning_rate);

    h.get_by_label("cached ▾").click();
    step_until(&mut h, "the cached models", |h| h.query_by_label(REPO).is_some());
    h.get_by_label(REPO).click();
    h.run_ok();
    let config = &h.state().state.train.config;
    assert_eq!(config.model, REPO);
    assert_eq!((config.learning_rate, config.epochs), (FINE_TUNE.learning_rate, FINE_TUNE.epochs));
    // MiniLM with a 6-label head: 22,713,216 encoder + pooler parameters, 384 × 6 + 6 in the head.
    step_until(&mut h, "MiniLM's plan", |h| h.query_by_label_contains("22,715,526").is_some());

    // Two steps are enough to show the run starts from the cached weights.
    h.state_mut().state.train.config.max_steps = Some(2);
    h.run_ok();
    train_to_the_end(&mut h);
    let live = h.state().state.train.live.as_ref().unwrap();
    assert_eq!(live.steps.last().map(|m| m.step), Some(2));
    assert_eq!(live.total_params, 22_715_526);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(runs.path().join("minilm-headlines/config.json")).unwrap()).unwrap();
    assert_eq!(saved["model"], REPO, "the run records the repo id, not a cache path");
    assert!(saved.get("hub").is_none(), "Hub settings are not saved with the run");
}

/// The "group by length" box of the hyperparameters reaches the run: its config.json records it and
/// the run trains to the end.
#[test]
fn group_by_length_from_the_train_page_reaches_the_run() {
    let runs = tempfile::tempdir().unwrap();
    let mut state = State { page: Page::Train, ..State::default() };
    state.train.config.runs_dir = runs.path().into();
    state.train.config.max_steps = Some(3);
    state.train.config.run_name = "grouped".into();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 1100.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    step_until(&mut h, "the run plan", |h| h.query_by_label_contains("parameters train (").is_some());
    assert!(!h.state().state.train.config.group_by_length);
    h.get_by_label("group by length").scroll_to_me();
    h.run_ok();
    h.get_by_label("group by length").click();
    h.run_ok();
    assert!(h.state().state.train.config.group_by_length);
    train_to_the_end(&mut h);
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(runs.path().join("grouped/config.json")).unwrap()).unwrap();
    assert_eq!(config["group_by_length"], true);
}

/// The device picker: "CPU" reaches the run's config; in a build without CUDA the GPU choice is shown
/// but cannot be picked.
#[test]
fn device_picker_sets_the_run_device() {
    let mut state = State { page: Page::Train, ..State::default() };
    state.train.config.runs_dir = tempfile::tempdir().unwrap().path().into();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 1100.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    h.run_ok();
    assert_eq!(h.state().state.train.config.device, "auto");
    h.get_by_label("CPU").click();
    h.run_ok();
    assert_eq!(h.state().state.train.config.device, "cpu");
    if cfg!(not(feature = "cuda")) {
        h.get_by_label("GPU (CUDA 0)").click();
        h.run_ok();
        assert_eq!(h.state().state.train.config.device, "cpu", "a CPU-only build cannot pick the GPU");
    }
}

/// Meetup finding 2: the mid-run learning-rate field started at the previous run's rate (after the demo
/// kit's 2e-3, a MiniLM run at 1e-4 showed 2e-3, and "Set" raised its rate 20×).
#[test]
fn the_mid_run_learning_rate_field_starts_at_the_runs_own_rate() {
    let runs = tempfile::tempdir().unwrap();
    let mut state = State { page: Page::Train, ..State::default() };
    state.train.config.runs_dir = runs.path().into();
    state.train.config.max_steps = Some(100_000);
    state.train.config.run_name = "first".into();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 1100.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    step_until(&mut h, "the run plan", |h| h.query_by_label_contains("parameters train (").is_some());
    assert_eq!(h.state().state.train.config.learning_rate, 2e-3);
    h.get_by_label("▶ Start training").scroll_to_me();
    h.step();
    h.get_by_label("▶ Start training").click();
    h.step();
    assert_eq!(h.state().state.train.mid_run_learning_rate(), Some(2e-3));
    // Meetup finding 8: the status bar said "idle" through a whole run.
    step_until(&mut h, "the run in the status bar", |h| h.query_by_label_contains("Training first · step ").is_some());
    assert!(h.query_by_label("idle").is_none(), "the status bar says idle while a run trains");
    h.get_by_label("⏹ Stop").click();
    step_until(&mut h, "the first run to stop", |h| h.state().state.train.live.as_ref().is_some_and(|l| !l.is_active()));

    h.state_mut().state.train.config.learning_rate = 1e-4;
    h.state_mut().state.train.config.run_name = "second".into();
    h.run_ok();
    h.get_by_label("▶ Start training").click();
    h.step();
    assert_eq!(h.state().state.train.mid_run_learning_rate(), Some(1e-4));
    h.step();
    h.get_by_label("⏹ Stop").click();
    step_until(&mut h, "the second run to stop", |h| h.state().state.train.live.as_ref().is_some_and(|l| !l.is_active()));
}

fn root_commands(h: &Harness<'_, WorkbenchApp>) -> Vec<egui::ViewportCommand> {
    h.output().viewport_output.get(&egui::ViewportId::ROOT).map(|v| v.commands.clone()).unwrap_or_default()
}

/// Meetup finding 1: closing the window (or Ctrl+Q) during a run quit at once, with no `last`
/// checkpoint and no end record. Now the close is held back and the app asks; "Stop, save and quit"
/// stops the run (a `last` checkpoint, a "stopped" end record) and then closes.
#[test]
fn quitting_during_a_run_asks_then_stops_and_saves() {
    let runs = tempfile::tempdir().unwrap();
    let mut state = State { page: Page::Train, ..State::default() };
    state.train.config.runs_dir = runs.path().into();
    state.train.config.max_steps = Some(100_000);
    state.train.config.run_name = "quit".into();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 1100.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    step_until(&mut h, "the run plan", |h| h.query_by_label_contains("parameters train (").is_some());
    h.get_by_label("▶ Start training").scroll_to_me();
    h.step();
    h.get_by_label("▶ Start training").click();
    step_until(&mut h, "a few steps", |h| h.state().state.train.live.as_ref().is_some_and(|l| l.steps.len() >= 3));

    // The window's close button.
    h.input_mut().viewports.entry(egui::ViewportId::ROOT).or_default().events.push(egui::ViewportEvent::Close);
    h.step();
    assert!(root_commands(&h).contains(&egui::ViewportCommand::CancelClose), "{:?}", root_commands(&h));
    assert!(h.state().is_asking_to_quit());
    h.step();
    h.get_by_label("A run is training");
    h.get_by_label("Keep training").click();
    h.step();
    h.step();
    assert!(!h.state().is_asking_to_quit());
    assert!(h.state().state.train.live.as_ref().unwrap().is_active(), "still training");

    // Ctrl+Q asks the same question.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Q);
    h.step();
    assert!(h.state().is_asking_to_quit());
    h.step();
    h.get_by_label("Stop, save and quit").click();
    let mut closed = false;
    let start = std::time::Instant::now();
    while !closed {
        assert!(start.elapsed() < std::time::Duration::from_secs(60), "the app never closed");
        h.step();
        closed = root_commands(&h).contains(&egui::ViewportCommand::Close);
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let live = h.state().state.train.live.as_ref().unwrap();
    assert!(matches!(live.status, lm_workbench::ui::RunStatus::Stopped(_)), "{:?}", live.status);
    let run = runs.path().join("quit");
    assert!(run.join("checkpoints/last/trainer_state.json").is_file(), "a last checkpoint");
    let record = lm_workbench::core::train::load_run(&run).unwrap();
    assert_eq!(record.status, "stopped");
}

/// Found in a real window: a run that ends on its own while the quit question is open left the question
/// up (asking about a run that had finished). The app now quits, as asked, since nothing can be lost.
#[test]
fn the_quit_question_goes_when_the_run_ends_on_its_own() {
    let runs = tempfile::tempdir().unwrap();
    let mut state = State { page: Page::Train, ..State::default() };
    state.train.config.runs_dir = runs.path().into();
    state.train.config.max_steps = Some(30);
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 1100.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    step_until(&mut h, "the run plan", |h| h.query_by_label_contains("parameters train (").is_some());
    h.get_by_label("▶ Start training").click();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Q);
    h.step();
    assert!(h.state().is_asking_to_quit());
    let start = std::time::Instant::now();
    while !root_commands(&h).contains(&egui::ViewportCommand::Close) {
        assert!(start.elapsed() < std::time::Duration::from_secs(60), "the app never closed");
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(!h.state().is_asking_to_quit());
    assert_eq!(h.state().state.train.live.as_ref().unwrap().status, lm_workbench::ui::RunStatus::Finished);
}

/// Meetup finding 6: the mouse wheel over a chart panned the chart (the curves slid out of view)
/// instead of scrolling the page.
#[test]
fn the_wheel_over_a_chart_scrolls_the_page() {
    let runs = tempfile::tempdir().unwrap();
    let mut state = State { page: Page::Train, ..State::default() };
    state.train.config.runs_dir = runs.path().into();
    state.train.config.max_steps = Some(20);
    state.train.config.eval_every = lm_workbench::core::train::EvalEvery::Steps(10);
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    step_until(&mut h, "the run plan", |h| h.query_by_label_contains("parameters train (").is_some());
    train_to_the_end(&mut h);
    let before = h.get_by_label("Loss").rect();
    let over_the_chart = egui::pos2(before.center().x + 200.0, before.bottom() + 80.0);
    h.input_mut().events.push(egui::Event::PointerMoved(over_the_chart));
    h.step();
    for _ in 0..3 {
        h.input_mut().events.push(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, -120.0),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Wheel,
            modifiers: egui::Modifiers::NONE,
        });
        h.step();
    }
    h.run_ok();
    let after = h.get_by_label("Loss").rect();
    assert!(after.top() < before.top() - 5.0, "the page did not scroll: {before:?} → {after:?}");
    // … and the chart kept its automatic bounds: nothing slid out of view.
    let memory = egui_plot::PlotMemory::load(&h.ctx, lm_workbench::ui::chart_id("live_loss")).expect("the loss chart");
    assert_eq!(memory.auto_bounds, egui::Vec2b::TRUE, "the wheel moved the chart");
}

/// Meetup finding 9: before launch, the ETA of a MiniLM run came from the tiny model's last run
/// ("ETA ≈ 17 s at 91.6 samples/s (last run)"; about 6 minutes in truth); the Model & Data page held out
/// 10 % and the Train page 15 %; and the Train page had no way to take the dataset loaded there.
#[test]
fn the_eta_comes_only_from_a_run_of_the_same_model_and_the_loaded_dataset_is_one_click() {
    let runs = tempfile::tempdir().unwrap();
    let mut state = State { page: Page::Train, ..State::default() };
    state.train.config.runs_dir = runs.path().into();
    state.train.config.max_steps = Some(10);
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 1100.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    step_until(&mut h, "the run plan", |h| h.query_by_label_contains("parameters train (").is_some());
    train_to_the_end(&mut h);
    h.get_by_label_contains("(last run)");
    // Another model: its speed is unknown until its first steps.
    h.state_mut().state.train.config.model = minilm().display().to_string();
    step_until(&mut h, "MiniLM's plan", |h| h.query_by_label_contains("parameters train (").is_some() && h.state().jobs().is_empty());
    assert!(h.query_by_label_contains("(last run)").is_none(), "a tiny model's speed used for MiniLM");
    h.get_by_label("ETA: measured after the first steps");

    // The dataset of Model & Data, with its split setting; both pages hold out the same share.
    let data = &h.state().state.model.data;
    assert_eq!(data.options.validation_fraction, h.state().state.train.config.validation_fraction);
    h.state_mut().state.model.data.options.validation_fraction = 0.2;
    h.state_mut().state.train.config.data = "somewhere/else.csv".into();
    h.run_ok();
    h.get_by_label("loaded data").scroll_to_me();
    h.get_by_label("loaded data").click();
    h.run_ok();
    let c = &h.state().state.train.config;
    assert_eq!((c.data.as_str(), c.validation_fraction), ("builtin:headlines", 0.2));
}

/// Meetup finding 4: the confusion matrix's cells and the misclassified list showed "news → business
/// (22%) row 22" but never the text (the texts came from the Model & Data page only when its split
/// settings matched the run's), and ticking "Misclassified examples" under a selected cell changed nothing.
#[test]
fn confusion_examples_show_their_texts() {
    let runs = tempfile::tempdir().unwrap();
    let mut state = State { page: Page::Train, ..State::default() };
    state.train.config.runs_dir = runs.path().into();
    state.train.config.max_steps = Some(20);
    state.train.config.eval_every = lm_workbench::core::train::EvalEvery::Steps(20);
    // Model & Data holds out another share: its validation rows are not the run's.
    state.model.data.options.validation_fraction = 0.3;
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 1400.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    step_until(&mut h, "the run plan", |h| h.query_by_label_contains("parameters train (").is_some());
    train_to_the_end(&mut h);
    let live = h.state().state.train.live.as_ref().unwrap();
    let eval = live.evals.iter().rfind(|e| e.split == "validation").unwrap().clone();
    let texts = live.texts.validation.clone();
    assert_eq!(texts.len(), 318);
    // A diagonal cell with examples: each listed row shows its text.
    let (class, count) = eval.confusion.iter().enumerate().map(|(i, r)| (i, r[i])).max_by_key(|(_, c)| *c).unwrap();
    assert!(count > 0);
    let cell = eval.confusion[class][class].to_string();
    h.query_all_by_label(&cell).next().unwrap().scroll_to_me();
    h.run_ok();
    h.query_all_by_label(&cell).next().unwrap().click();
    h.run_ok();
    h.get_by_label_contains(&format!("{count} examples · true"));
    let shown = eval.predictions.iter().find(|p| p.label as usize == class && p.predicted as usize == class).unwrap();
    let text = texts[shown.index].replace('\n', " ");
    assert!(h.query_by_label(&text).is_some(), "the text of row {} is shown: {text}", shown.index);
    // The misclassified list replaces the cell's.
    let wrong = eval.predictions.iter().filter(|p| p.label != p.predicted).count();
    h.get_by_label("Misclassified examples").click();
    h.run_ok();
    h.get_by_label(&format!("{wrong} examples"));
}

/// "Never block": the run plan spawned a thread on every frame while a value was dragged, each one
/// reloading the dataset (over the network for a Hub id). Now one background job loads the dataset
/// and model config per model and data; the plan follows every other edit at once.
#[test]
fn dragging_a_setting_does_not_reload_the_plan() {
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 1100.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(State { page: Page::Train, ..State::default() }));
    step_until(&mut h, "the run plan", |h| h.query_by_label_contains("parameters train (").is_some());
    assert_eq!(h.state().state.train.plan_loads(), 1);
    for i in 1..=30 {
        h.state_mut().state.train.config.learning_rate = 1e-3 + i as f64 * 1e-5;
        h.state_mut().state.train.config.batch_size = 8 + i;
        h.step();
    }
    h.run_ok();
    assert_eq!(h.state().state.train.plan_loads(), 1, "one load, however many edits");
    // The plan follows the edits: batch 38 over 1,782 rows is 47 steps per epoch.
    h.get_by_label_contains("1,782 training rows · 47 steps per epoch");
    // Another dataset is another load.
    h.state_mut().state.train.config.validation_fraction = 0.3;
    step_until(&mut h, "the new plan", |h| h.query_by_label_contains("1,470 training rows").is_some());
    assert_eq!(h.state().state.train.plan_loads(), 2);
}

/// Record and replay: a finished run, replayed from the Runs page at 10×, fills the Train page's
/// dashboard as if live (marked as a replay) and ends as the recording does.
#[test]
fn a_run_replays_on_the_train_page() {
    let runs = tempfile::tempdir().unwrap();
    let config = lm_workbench::core::train::TrainConfig {
        runs_dir: runs.path().into(),
        run_name: "recorded".into(),
        max_steps: Some(40),
        eval_every: lm_workbench::core::train::EvalEvery::Steps(10),
        ..lm_workbench::core::train::demo_kit_config()
    };
    let (_tx, rx) = crossbeam_channel::unbounded();
    lm_workbench::core::train::run_training(config, None, &mut |_| {}, &rx);
    let record = lm_workbench::core::train::load_run(&runs.path().join("recorded")).unwrap();
    let mut state = State { page: Page::Runs, ..State::default() };
    state.runs.runs_dir = runs.path().into();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 1100.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    step_until(&mut h, "the runs list", |h| h.query_by_label("▶ Replay").is_some());
    h.get_by_label("10×").click();
    h.run_ok();
    h.get_by_label("▶ Replay").click();
    h.step();
    assert_eq!(h.state().state.page, Page::Train);
    step_until(&mut h, "the replay to end", |h| h.state().state.train.live.as_ref().is_some_and(|l| !l.is_active()));
    h.get_by_label_contains("REPLAY of recorded at 10×");
    let live = h.state().state.train.live.as_ref().unwrap();
    assert_eq!(live.replay, Some(10.0));
    assert_eq!(live.status, lm_workbench::ui::RunStatus::Finished);
    assert_eq!(live.steps.last().map(|s| s.step), Some(40));
    assert_eq!(live.evals.len(), record.evals.iter().filter(|e| e.split == "validation").count());
    assert_eq!(live.snapshots.len(), record.snapshots.len());
    h.get_by_label_contains("Confusion matrix");
}

/// Meetup finding 3: at 1280×800, "Start training" was below the fold of the settings panel and the
/// "cached ▾" button wrapped under the Data field; at 1024×700 the per-class table lost its recall,
/// F1 and support columns.
#[test]
fn the_train_page_fits_a_laptop_screen() {
    let runs = tempfile::tempdir().unwrap();
    let mut state = State { page: Page::Train, ..State::default() };
    state.train.config.runs_dir = runs.path().into();
    state.train.config.max_steps = Some(20);
    state.train.config.eval_every = lm_workbench::core::train::EvalEvery::Steps(20);
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    step_until(&mut h, "the run plan", |h| h.query_by_label_contains("parameters train (").is_some());
    let window = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1280.0, 800.0));
    let start = h.get_by_label("▶ Start training").rect();
    assert!(window.contains_rect(start), "Start training is below the fold: {start:?}");
    // No control overlaps another in the Run settings (the cached menu wrapped under the Data field).
    let controls: Vec<egui::Rect> = ["cached ▾", "tiny", "demo encoder", "demo", "Model:", "Data:", "classify", "masked LM"]
        .iter()
        .map(|l| h.get_by_label(l).rect())
        .collect();
    for (i, a) in controls.iter().enumerate() {
        for b in &controls[i + 1..] {
            assert!(!a.shrink(1.0).intersects(b.shrink(1.0)), "overlapping controls: {a:?} and {b:?}");
        }
    }

    h.get_by_label("▶ Start training").click();
    step_until(&mut h, "the run to finish", |h| h.state().state.train.live.as_ref().is_some_and(|l| !l.is_active()));
    h.set_size(egui::vec2(1024.0, 700.0));
    h.run_ok();
    let narrow = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1024.0, 700.0));
    for column in ["precision", "recall", "F1", "support"] {
        let node = h.get_by_label(column);
        node.scroll_to_me();
        h.run_ok();
        let rect = h.get_by_label(column).rect();
        assert!(rect.right() <= narrow.right() && rect.left() >= 0.0, "{column} is cut off at 1024 wide: {rect:?}");
    }
}

/// Masked LM on the Train page: "in chunks" sets the run's chunk size (128 tokens by default).
#[test]
fn masked_lm_text_in_chunks_from_the_train_page() {
    let mut state = State { page: Page::Train, ..State::default() };
    state.train.config.task = lm_workbench::core::train::TrainTask::MaskedLm;
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 1400.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    step_until(&mut h, "the run plan", |h| h.query_by_label_contains("parameters train (").is_some());
    assert_eq!(h.state().state.train.config.chunk_size, None);
    h.get_by_label("in chunks").scroll_to_me();
    h.run_ok();
    let max_length_disabled = |h: &Harness<'_, WorkbenchApp>| {
        use egui_kittest::kittest::NodeT;
        h.query_all_by_role(egui::accesskit::Role::SpinButton)
            .find(|n| n.accesskit_node().label().as_deref() == Some("max length"))
            .expect("the max length field")
            .accesskit_node()
            .is_disabled()
    };
    assert!(!max_length_disabled(&h), "rows are truncated at the max length");
    h.get_by_label("in chunks").click();
    h.run_ok();
    assert_eq!(h.state().state.train.config.chunk_size, Some(128));
    assert!(max_length_disabled(&h), "blocks of the chunk size: the max length plays no part");
}

/// The "preset ▾" menu builds a BERT of any shape from scratch: an impossible one (hidden size not
/// divisible by the heads) says why and cannot be used; a possible one becomes the run's model and the
/// plan counts its parameters.
#[test]
fn a_bert_of_your_own_shape_from_the_preset_menu() {
    let mut state = State { page: Page::Train, ..State::default() };
    state.tour.open = false;
    state.train.config.task = lm_workbench::core::train::TrainTask::MaskedLm;
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 1100.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    step_until(&mut h, "the run plan", |h| h.query_by_label_contains("parameters train (").is_some());
    h.get_by_label("preset ▾").click();
    h.run_ok();
    h.get_by_label("Use preset:4x256");
    h.get_by_label("hidden size").set_value_accesskit(250.0);
    h.run_ok();
    h.get_by_label_contains("hidden size 250 is not divisible by 4 attention heads");
    assert!(h.query_by_label_contains("Use preset:").is_none(), "an impossible shape cannot be used");
    h.get_by_label("hidden size").set_value_accesskit(256.0);
    h.get_by_label("attention heads").set_value_accesskit(8.0);
    h.run_ok();
    h.get_by_label("Use preset:4x256x8").click();
    h.run_ok();
    assert_eq!(h.state().state.train.config.model, "preset:4x256x8");
    // 4 layers of 256 with 8 heads and the demo vocabulary (961 tokens), as transformers counts them.
    step_until(&mut h, "the new plan", |h| h.query_by_label_contains("of 3,604,417 parameters train").is_some());
    // Positions and dropout too: 128 positions take (512 − 128) × 256 position weights off the count.
    h.get_by_label("preset ▾").click();
    h.run_ok();
    h.get_by_label("max positions").set_value_accesskit(128.0);
    h.get_by_label("dropout in its config").set_value_accesskit(0.0);
    h.run_ok();
    h.get_by_label("Use preset:4x256x8,positions=128,dropout=0").click();
    h.run_ok();
    assert_eq!(h.state().state.train.config.model, "preset:4x256x8,positions=128,dropout=0");
    step_until(&mut h, "the plan of the shorter model", |h| h.query_by_label_contains("of 3,506,113 parameters train").is_some());
    // The CPU pre-training recipe in one click (then the offer goes away).
    h.get_by_label("Use the CPU pre-training recipe").click();
    h.run_ok();
    let c = &h.state().state.train.config;
    assert_eq!((c.learning_rate, c.dropout, c.unigram_output_bias), (4e-3, Some(0.0), true));
    assert!(h.query_by_label("Use the CPU pre-training recipe").is_none());
}
