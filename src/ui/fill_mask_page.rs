//! Fill-Mask: type a sentence with [MASK] and see what a masked language model predicts there, live —
//! alone, or beside a second model on the same sentence (two checkpoints of a run, ours and a Hub model).

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
    /// Show a second masked LM beside the first, on the same sentence.
    pub side_by_side: bool,
    /// The second model's spec.
    pub other_model: String,
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
            side_by_side: false,
            other_model: String::new(),
            watch: ProbeTimeline::default(),
            state: Transient::default(),
        }
    }
}

#[derive(Default)]
struct Transient {
    /// The models named in the fields were loaded (or tried) this session: a start opens them once.
    opened: bool,
    other_opened: bool,
    main: LmSlot,
    other: LmSlot,
}

/// One masked LM on the page: loading it, and its guesses for the page's sentence.
#[derive(Default)]
struct LmSlot {
    lm: Option<Arc<MaskedLm>>,
    load_job: Option<JobId>,
    predict_job: Option<JobId>,
    /// The text and k the shown predictions are for.
    predicted: Option<(String, usize)>,
    masks: Vec<Vec<MaskPrediction>>,
    error: Option<String>,
}

/// The sentence with every mask written as `mask` (`[MASK]` for BERT, `<mask>` for RoBERTa), so one
/// sentence serves models whose mask tokens differ.
pub fn with_mask_token(text: &str, mask: &str) -> String {
    text.replace("[MASK]", mask).replace("<mask>", mask)
}

/// A model's name short enough for a column heading: a checkpoint folder as "run · checkpoint", another
/// folder by its own name; Hub ids and built-ins as they are.
fn short_name(name: &str) -> String {
    let path = std::path::Path::new(name);
    if !path.is_absolute() && !name.starts_with('.') {
        return name.to_string();
    }
    let part = |p: Option<&std::path::Path>| p.and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned());
    match (part(Some(path)), part(path.parent()), part(path.parent().and_then(std::path::Path::parent))) {
        (Some(checkpoint), Some(dir), Some(run)) if dir == "checkpoints" => format!("{run} · {checkpoint}"),
        (Some(folder), _, _) => folder,
        _ => name.to_string(),
    }
}

impl LmSlot {
    fn load(&mut self, ctx: &mut PageContext<'_>, spec: &str) {
        self.load_job = Some(ctx.backend.send(Command::LoadMaskedLm { spec: spec.to_string(), hub: ctx.hub.clone() }));
    }

    fn on_event(&mut self, event: Event) -> Option<Event> {
        let id = event.job();
        match event {
            Event::MaskedLmLoaded { lm, .. } if self.load_job == Some(id) => {
                self.lm = Some(lm);
                self.load_job = None;
                self.predicted = None;
                self.error = None;
            }
            Event::FillMaskResult { masks, .. } if self.predict_job == Some(id) => {
                self.masks = masks;
                self.predict_job = None;
                self.error = None;
            }
            Event::JobFailed { error, .. } if self.load_job == Some(id) || self.predict_job == Some(id) => {
                self.error = Some(error);
                self.masks.clear();
                self.load_job = None;
                self.predict_job = None;
            }
            other => return Some(other),
        }
        None
    }

    /// Predict as the user types: one request at a time, for the latest text (with this model's mask token).
    fn predict(&mut self, ctx: &mut PageContext<'_>, text: &str, top_k: usize) {
        let Some(lm) = &self.lm else { return };
        let mask = lm.tokenizer.mask_token().map_or("[MASK]", |(t, _)| t);
        let wanted = (with_mask_token(text, mask), top_k);
        if self.predict_job.is_none() && self.predicted.as_ref() != Some(&wanted) {
            self.predict_job = Some(ctx.backend.send(Command::FillMask { lm: Arc::clone(lm), text: wanted.0.clone(), top_k }));
            self.predicted = Some(wanted);
        }
    }

    fn summary_ui(&self, ui: &mut egui::Ui) {
        if let Some(lm) = &self.lm {
            ui.label(format!("{} · {} layers · hidden {}", lm.name, lm.model.config().num_hidden_layers, lm.model.config().hidden_size));
            if !lm.newly_initialized.is_empty() {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!("⚠ {} weights were not in the checkpoint and are random: {}", lm.newly_initialized.len(), lm.newly_initialized.join(", ")),
                );
            }
        }
    }

    /// A failed load or prediction (shown under the sentence, so the rows above never move while typing).
    fn error_ui(&self, ui: &mut egui::Ui, name: Option<&str>) {
        if let Some(error) = &self.error {
            let who = name.map(|n| format!("{n}: ")).unwrap_or_default();
            ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {who}{error}"));
        }
    }

    /// The guesses at each mask: one column per mask (at most `columns` side by side).
    fn predictions_ui(&self, ui: &mut egui::Ui, salt: &str, columns: usize) {
        ui.columns(self.masks.len().clamp(1, columns), |cols| {
            for (i, predictions) in self.masks.iter().enumerate() {
                let ui = &mut cols[i % cols.len()];
                ui.strong(format!("[MASK] {}", i + 1));
                egui::Grid::new((salt, "mask_predictions", i)).num_columns(2).spacing([8.0, 3.0]).show(ui, |ui| {
                    for p in predictions {
                        ui.monospace(&p.token);
                        value_bar_ui(ui, p.score, &format!("{:.1}%", p.score * 100.0), 160.0);
                        ui.end_row();
                    }
                });
            }
        });
    }
}

/// The row that names a masked LM: its field, Load, and the shortcuts (the loaded model, a cached one,
/// the Train page's latest checkpoint). Returns the spec to load, if one was asked for.
fn model_row_ui(ui: &mut egui::Ui, ctx: &mut PageContext<'_>, label: &str, field: &mut String, loading: bool) -> Option<String> {
    let mut load = None;
    ui.horizontal(|ui| {
        let label = ui.label(label);
        ui.add(egui::TextEdit::singleline(field).hint_text("folder or owner/name of a …ForMaskedLM").desired_width(380.0))
            .labelled_by(label.id);
        if ui.button("Load LM").clicked() {
            load = Some(field.clone());
        }
        if let Some(model) = ctx.model.filter(|m| m.files.is_some()) {
            if ui.button("Use the loaded model").on_hover_text(model.spec.label()).clicked() {
                load = Some(model.spec.to_spec_string());
            }
        }
        if let Some(repo) = cached_models_menu(ui, ctx) {
            load = Some(repo);
        }
        if let Some((step, dir)) = ctx.training_checkpoint.clone() {
            let button = ui.button(format!("Training run · step {step}"));
            if button.on_hover_text(format!("the latest checkpoint of the masked LM training on the Train page:\n{}", dir.display())).clicked() {
                load = Some(dir.display().to_string());
            }
        }
        if loading {
            ui.spinner();
        }
    });
    if let Some(spec) = &load {
        *field = spec.clone();
    }
    load
}

impl FillMaskPage {
    pub fn masked_lm(&self) -> Option<&Arc<MaskedLm>> {
        self.state.main.lm.as_ref()
    }

    /// The second model, when one is loaded beside the first.
    pub fn other_masked_lm(&self) -> Option<&Arc<MaskedLm>> {
        self.state.other.lm.as_ref()
    }

    /// Takes the events of this page's jobs; returns the others.
    pub fn on_event(&mut self, event: Event) -> Option<Event> {
        let event = self.watch.on_event(event)?;
        let event = self.state.main.on_event(event)?;
        self.state.other.on_event(event)
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>) {
        ui.heading("Fill-Mask");
        let s = &mut self.state;
        // The first time the page shows, it opens the models it names (the demo encoder on a first start).
        if !std::mem::replace(&mut s.opened, true) && s.main.lm.is_none() && !self.model.trim().is_empty() {
            s.main.load(ctx, &self.model);
        }
        if self.side_by_side && !std::mem::replace(&mut s.other_opened, true) && s.other.lm.is_none() && !self.other_model.trim().is_empty() {
            s.other.load(ctx, &self.other_model);
        }
        ui.label("A masked language model guesses the hidden word at each [MASK] — the task BERT was pre-trained on.");
        if let Some(spec) = model_row_ui(ui, ctx, "Masked LM:", &mut self.model, s.main.load_job.is_some()) {
            s.main.load(ctx, &spec);
        }
        s.main.summary_ui(ui);
        ui.horizontal(|ui| {
            ui.checkbox(&mut self.side_by_side, "Side by side with another model")
                .on_hover_text("the same sentence through a second masked LM: two checkpoints of a run, ours and a Hub model, …");
        });
        if self.side_by_side {
            if let Some(spec) = model_row_ui(ui, ctx, "Beside it:", &mut self.other_model, s.other.load_job.is_some()) {
                s.other.load(ctx, &spec);
                s.other_opened = true;
            }
            s.other.summary_ui(ui);
        }
        ui.horizontal(|ui| {
            let label = ui.label("Text:");
            ui.add(egui::TextEdit::singleline(&mut self.text).desired_width(520.0)).labelled_by(label.id);
            ui.add(egui::DragValue::new(&mut self.top_k).range(1..=50).prefix("top "));
        });
        // Mask a word by clicking it, with the model's own mask token ([MASK], or <mask> for RoBERTa).
        let mask = s.main.lm.as_ref().and_then(|lm| lm.tokenizer.mask_token()).map_or("[MASK]", |(t, _)| t);
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
        s.main.error_ui(ui, None);
        if self.side_by_side {
            s.other.error_ui(ui, Some("beside it"));
        }
        if s.main.lm.is_some() {
            s.main.predict(ctx, &self.text, self.top_k);
        } else {
            ui.weak(
                "Load a masked LM to start: a folder (config.json and model.safetensors of a BertForMaskedLM) or Hub \
                 id, a model from the \"cached\" menu, or the checkpoint of a masked-LM run on the Train page.",
            );
        }
        if self.side_by_side && s.other.lm.is_some() {
            s.other.predict(ctx, &self.text, self.top_k);
            ui.columns(2, |cols| {
                for (col, slot, salt) in [(0, &s.main, "main"), (1, &s.other, "other")] {
                    let ui = &mut cols[col];
                    if let Some(lm) = &slot.lm {
                        ui.heading(short_name(&lm.name)).on_hover_text(&lm.name);
                    }
                    slot.predictions_ui(ui, salt, 2);
                }
            });
        } else {
            s.main.predictions_ui(ui, "main", 4);
        }
        ui.add_space(8.0);
        if let Some(dir) = self.watch.ui(ui, &self.text, ctx.backend) {
            self.side_by_side = true;
            self.other_model = dir.display().to_string();
            self.state.other.load(ctx, &self.other_model);
            self.state.other_opened = true;
        }
    }

    /// Every frame, whatever the page: the probe timeline follows the Train page's masked-LM run.
    pub fn logic(&mut self, backend: &mut crate::core::backend::Backend, checkpoint: Option<(u64, std::path::PathBuf)>, hub: &crate::core::hub::HubSettings) {
        self.watch.logic(backend, checkpoint, hub);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_sentence_serves_models_with_different_mask_tokens() {
        let text = "The [MASK] sat on the <mask>.";
        assert_eq!(super::with_mask_token(text, "<mask>"), "The <mask> sat on the <mask>.");
        assert_eq!(super::with_mask_token(text, "[MASK]"), "The [MASK] sat on the [MASK].");
    }

    #[test]
    fn column_headings_name_a_checkpoint_by_its_run() {
        assert_eq!(super::short_name("/tmp/runs/tiny-mlm/checkpoints/step-60"), "tiny-mlm · step-60");
        assert_eq!(super::short_name("/models/bert-mini"), "bert-mini");
        assert_eq!(super::short_name("google-bert/bert-base-uncased"), "google-bert/bert-base-uncased");
        assert_eq!(super::short_name("built-in demo"), "built-in demo");
    }
}
