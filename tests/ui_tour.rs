//! The first-start walkthrough, clicked through as a new user would, offline: tokenize → IDs and one-hot
//! → train the classifier only → train the whole model → compare runs → fill masks. Every step opens its
//! page with something on it, and the story's finding shows: the whole model beats the classifier alone.

mod common;

use common::step_until;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use lm_workbench::ui::{Page, RunStatus, State, WorkbenchApp};

fn run_to_the_end(h: &mut Harness<'_, WorkbenchApp>) -> f64 {
    h.get_by_label("Start this run").click();
    step_until(h, "the run to start", |h| h.state().state.train.live.is_some());
    step_until(h, "the run to finish", |h| h.state().state.train.live.as_ref().is_some_and(|l| !l.is_active()));
    let live = h.state().state.train.live.as_ref().unwrap();
    assert_eq!(live.status, RunStatus::Finished, "{:?}", live.status);
    live.evals.iter().rev().find(|e| e.split == "validation").expect("an evaluation").accuracy
}

#[test]
fn the_tour_walks_through_the_story_on_first_start() {
    let runs = tempfile::tempdir().unwrap();
    // A first start: nothing saved (the default state), but runs go to a temp folder.
    let mut state = State::default();
    state.train.config.runs_dir = runs.path().into();
    state.runs.runs_dir = runs.path().into();
    assert!(state.tour.open, "the tour opens on first start");
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 720.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    h.run_ok();

    // 1. Tokens.
    h.get_by_label_contains("Tour 1/6 · Text becomes tokens");
    h.get_by_label("Show me").click();
    step_until(&mut h, "the demo's tokens", |h| h.query_all_by_label("[CLS]").next().is_some());
    assert_eq!(h.state().state.page, Page::Tokenize);

    // 2. IDs and one-hot rows.
    h.get_by_label("Next ›").click();
    h.run_ok();
    h.get_by_label_contains("Tour 2/6 · Tokens become IDs and one-hot rows");
    assert_eq!(h.state().state.page, Page::Tokenize);
    step_until(&mut h, "the one-hot rows", |h| h.query_by_label_contains("a single 1 at its ID").is_some());

    // 3. Classifier only, with the demo kit's settings.
    h.get_by_label("Next ›").click();
    h.run_ok();
    h.get_by_label_contains("Tour 3/6 · Train the classifier only");
    assert_eq!(h.state().state.page, Page::Train);
    assert_eq!(h.state().state.train.config.freeze, "classifier");
    assert_eq!(h.state().state.train.config.model, "builtin:demo");
    let classifier_only = run_to_the_end(&mut h);

    // 4. The whole model.
    h.get_by_label("Next ›").click();
    h.run_ok();
    h.get_by_label_contains("Tour 4/6 · Train the whole model");
    assert_eq!(h.state().state.train.config.freeze, "none");
    let whole = run_to_the_end(&mut h);
    assert!(whole >= 0.8 && classifier_only + 0.3 < whole, "whole {whole} vs classifier only {classifier_only}");

    // 5. Both runs on the Runs page.
    h.get_by_label("Next ›").click();
    h.run_ok();
    assert_eq!(h.state().state.page, Page::Runs);
    step_until(&mut h, "both runs listed", |h| {
        h.query_by_label_contains("demo-classifier-only ·").is_some() && h.query_by_label_contains("demo-whole-model ·").is_some()
    });

    // 6. Fill-Mask with the demo encoder, which the page opens by itself.
    h.get_by_label("Next ›").click();
    h.run_ok();
    assert_eq!(h.state().state.page, Page::FillMask);
    h.get_by_label_contains("Tour 6/6 · Fill in the blanks");
    step_until(&mut h, "the demo encoder's guesses", |h| {
        h.query_by_label_contains("built-in demo · 2 layers").is_some() && h.query_by_label("[MASK] 1").is_some() && h.state().jobs().is_empty()
    });
    // The last step has no next: the button is greyed and does nothing.
    h.get_by_label("Next ›").click();
    h.run_ok();
    assert_eq!(h.state().state.tour.step, 5);

    // Closed, it stays closed (the state is what a restart reads) and the Tour button brings it back.
    h.get_by_label("Close tour").click();
    h.run_ok();
    assert!(!h.state().state.tour.open);
    assert!(h.query_by_label_contains("Tour 6/6").is_none());
    h.get_by_label("Tour").click();
    h.run_ok();
    h.get_by_label_contains("Tour 6/6");
}
