//! Fill-Mask: type a sentence with [MASK] and see what a masked language model predicts there, live.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::core::backend::{Command, Event, JobId, MaskedLm};
use crate::core::model::infer::MaskPrediction;

use super::heatmap::value_bar_ui;
use super::app::PageContext;
use super::cached_models::cached_models_menu;
use super::probe_timeline::ProbeTimeline;

#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct FillMaskPage {
    pub model: String,
    pub text: String,
    pub top_k: usize,
    /// "Watch it learn": pinned probes re-scored at each checkpoint of a masked-LM run.
    pub watch: ProbeTimeline,
    #[serde(skip)]
    state: Transient,
}

impl Default for FillMaskPage {
    fn default() -> Self {
        Self {
            model: crate::core::demo::DEMO_SPEC.into(),
            text: "England win the [MASK] in extra time.".into(),
            top_k: 5,
            watch: ProbeTimeline::default(),
            state: Transient::default(),
        }
    }
}

#[derive(Default)]
struct Transient {
    /// The model named in the field was loaded (or tried) this session: a start opens it once.
    opened: bool,
    lm: Option<Arc<MaskedLm>>,
    load_job: Option<JobId>,
    predict_job: Option<JobId>,
    /// The text and k the shown predictions are for.
    predicted: Option<(String, usize)>,
    masks: Vec<Vec<MaskPrediction>>,
    error: Option<String>,
}

impl FillMaskPage {
    pub fn masked_lm(&self) -> Option<&Arc<MaskedLm>> {
        self.state.lm.as_ref()
    }

    /// Takes the events of this page's jobs; returns the others.
    pub fn on_event(&mut self, event: Event) -> Option<Event> {
        let event = self.watch.on_event(event)?;
        let s = &mut self.state;
        let id = event.job();
        match event {
            Event::MaskedLmLoaded { lm, .. } if s.load_job == Some(id) => {
                s.lm = Some(lm);
                s.load_job = None;
                s.predicted = None;
                s.error = None;
            }
            Event::FillMaskResult { text, masks, .. } if s.predict_job == Some(id) => {
                s.masks = masks;
                s.predict_job = None;
                s.error = None;
                let _ = text;
            }
            Event::JobFailed { error, .. } if s.load_job == Some(id) || s.predict_job == Some(id) => {
                s.error = Some(error);
                s.masks.clear();
                s.load_job = None;
                s.predict_job = None;
            }
            other => return Some(other),
        }
        None
    }

    fn load(&mut self, ctx: &mut PageContext<'_>, spec: String) {
        self.model = spec;
        self.state.load_job = Some(ctx.backend.send(Command::LoadMaskedLm { spec: self.model.clone(), hub: ctx.hub.clone() }));
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>) {
        ui.heading("Fill-Mask");
        // The first time the page shows, it opens the model it names (the demo encoder on a first start).
        if !std::mem::replace(&mut self.state.opened, true) && self.state.lm.is_none() && !self.model.trim().is_empty() {
            self.load(ctx, self.model.clone());
        }
        ui.label("A masked language model guesses the hidden word at each [MASK] — the task BERT was pre-trained on.");
        ui.horizontal(|ui| {
            let label = ui.label("Masked LM:");
            ui.add(egui::TextEdit::singleline(&mut self.model).hint_text("folder or owner/name of a …ForMaskedLM").desired_width(380.0))
                .labelled_by(label.id);
            if ui.button("Load LM").clicked() {
                self.load(ctx, self.model.clone());
            }
            if let Some(model) = ctx.model.filter(|m| m.files.is_some()) {
                if ui.button("Use the loaded model").on_hover_text(model.spec.label()).clicked() {
                    self.load(ctx, model.spec.to_spec_string());
                }
            }
            if let Some(repo) = cached_models_menu(ui, ctx) {
                self.load(ctx, repo);
            }
            if let Some((step, dir)) = ctx.training_checkpoint.clone() {
                let button = ui.button(format!("Training run · step {step}"));
                if button.on_hover_text(format!("the latest checkpoint of the masked LM training on the Train page:\n{}", dir.display())).clicked() {
                    self.load(ctx, dir.display().to_string());
                }
            }
            if self.state.load_job.is_some() {
                ui.spinner();
            }
        });
        if let Some(lm) = &self.state.lm {
            ui.label(format!("{} · {} layers · hidden {}", lm.name, lm.model.config().num_hidden_layers, lm.model.config().hidden_size));
            if !lm.newly_initialized.is_empty() {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!("⚠ {} weights were not in the checkpoint and are random: {}", lm.newly_initialized.len(), lm.newly_initialized.join(", ")),
                );
            }
        }
        ui.horizontal(|ui| {
            let label = ui.label("Text:");
            ui.add(egui::TextEdit::singleline(&mut self.text).desired_width(520.0)).labelled_by(label.id);
            ui.add(egui::DragValue::new(&mut self.top_k).range(1..=50).prefix("top "));
        });
        // Mask a word by clicking it, with the model's own mask token ([MASK], or <mask> for RoBERTa).
        let mask = self.state.lm.as_ref().and_then(|lm| lm.tokenizer.mask_token()).map_or("[MASK]", |(t, _)| t);
        ui.horizontal_wrapped(|ui| {
            ui.weak("Click a word to mask it:");
            let words = crate::core::text::segment::words(&self.text);
            let chars: Vec<char> = self.text.chars().collect();
            for (i, word) in words.iter().enumerate() {
                // The MASK of a typed [MASK] or <mask> is not a word to mask.
                let in_mask_token = word.text.eq_ignore_ascii_case("mask")
                    && word.start > 0
                    && matches!(chars.get(word.start - 1), Some('[' | '<'));
                if in_mask_token || !word.text.chars().any(char::is_alphanumeric) {
                    continue;
                }
                if ui.small_button(&word.text).on_hover_text(format!("replace it by {mask}")).clicked() {
                    self.text = crate::core::text::segment::replace_segment(&self.text, &words[i], mask);
                }
            }
        });
        if let Some(error) = &self.state.error {
            ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {error}"));
        }
        // Predict as the user types: one request at a time, for the latest text.
        if let Some(lm) = &self.state.lm {
            let wanted = (self.text.clone(), self.top_k);
            if self.state.predict_job.is_none() && self.state.predicted.as_ref() != Some(&wanted) {
                self.state.predict_job =
                    Some(ctx.backend.send(Command::FillMask { lm: Arc::clone(lm), text: wanted.0.clone(), top_k: wanted.1 }));
                self.state.predicted = Some(wanted);
            }
        } else {
            ui.weak(
                "Load a masked LM to start: a folder (config.json and model.safetensors of a BertForMaskedLM) or Hub \
                 id, a model from the \"cached\" menu, or the checkpoint of a masked-LM run on the Train page.",
            );
        }
        self.watch.ui(ui, &self.text);
        ui.columns(self.state.masks.len().clamp(1, 4), |cols| {
            for (i, predictions) in self.state.masks.iter().enumerate() {
                let ui = &mut cols[i % cols.len()];
                ui.strong(format!("[MASK] {}", i + 1));
                egui::Grid::new(("mask_predictions", i)).num_columns(2).spacing([8.0, 3.0]).show(ui, |ui| {
                    for p in predictions {
                        ui.monospace(&p.token);
                        value_bar_ui(ui, p.score, &format!("{:.1}%", p.score * 100.0), 160.0);
                        ui.end_row();
                    }
                });
            }
        });
    }

    /// Every frame, whatever the page: the probe timeline follows the Train page's masked-LM run.
    pub fn logic(&mut self, backend: &mut crate::core::backend::Backend, checkpoint: Option<(u64, std::path::PathBuf)>, hub: &crate::core::hub::HubSettings) {
        self.watch.logic(backend, checkpoint, hub);
    }
}
