//! Fill-Mask: type a sentence with [MASK] and see what a masked language model predicts there, live.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::core::backend::{Command, Event, JobId, MaskedLm};
use crate::core::model::infer::MaskPrediction;

use super::heatmap::value_bar_ui;
use super::app::PageContext;
use super::cached_models::cached_models_menu;

#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct FillMaskPage {
    pub model: String,
    pub text: String,
    pub top_k: usize,
    /// Probe sentences pinned to watch a masked-LM run learn: each new checkpoint re-scores them.
    pub probes: Vec<String>,
    #[serde(skip)]
    state: Transient,
}

impl Default for FillMaskPage {
    fn default() -> Self {
        Self {
            model: crate::core::demo::DEMO_SPEC.into(),
            text: "England win the [MASK] in extra time.".into(),
            top_k: 5,
            probes: Vec::new(),
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
    /// The run the timeline follows, and its rows (one per checkpoint, oldest first).
    timeline_run: Option<std::path::PathBuf>,
    timeline: Vec<ProbeRow>,
    probe_job: Option<(JobId, u64)>,
    /// Checkpoint folders waiting to be scored, oldest first.
    queue: Vec<std::path::PathBuf>,
    /// The Train page's latest masked-LM checkpoint as last seen: (step, folder).
    followed: Option<(u64, std::path::PathBuf)>,
    /// A finished run to score, as typed.
    run_field: String,
    run_message: Option<Result<String, String>>,
}

/// The run a checkpoint folder belongs to (`<run>/checkpoints/<name>`).
fn run_of(dir: &std::path::Path) -> Option<std::path::PathBuf> {
    dir.parent().and_then(std::path::Path::parent).map(std::path::Path::to_path_buf)
}

/// The probes' guesses at one checkpoint.
#[derive(Clone, Debug)]
struct ProbeRow {
    step: u64,
    /// What the row's probes were (a probe pinned later has no earlier rows).
    probes: Vec<String>,
    scores: Vec<Result<Vec<Vec<MaskPrediction>>, String>>,
}

impl FillMaskPage {
    pub fn masked_lm(&self) -> Option<&Arc<MaskedLm>> {
        self.state.lm.as_ref()
    }

    /// Takes the events of this page's jobs; returns the others.
    pub fn on_event(&mut self, event: Event) -> Option<Event> {
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
            Event::ProbesScored { step, scores, .. } if s.probe_job.as_ref().is_some_and(|(j, _)| *j == id) => {
                s.probe_job = None;
                let row = ProbeRow { step, probes: self.probes.clone(), scores };
                match s.timeline.iter_mut().find(|r| r.step == step) {
                    Some(existing) => *existing = row,
                    None => {
                        s.timeline.push(row);
                        s.timeline.sort_by_key(|r| r.step);
                    }
                }
            }
            Event::JobFailed { error, .. } if s.probe_job.as_ref().is_some_and(|(j, _)| *j == id) => {
                let step = s.probe_job.take().map_or(0, |(_, step)| step);
                s.timeline.push(ProbeRow { step, probes: self.probes.clone(), scores: vec![Err(error); self.probes.len()] });
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
        self.probes_ui(ui);
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

    /// "Watch it learn": pinned probe sentences, re-scored at every checkpoint of the masked-LM run on the
    /// Train page, one row per checkpoint.
    /// Every frame, whatever the page: follows the Train page's masked-LM run — a new run starts a new
    /// timeline; each new checkpoint is scored once (one job at a time; one saved meanwhile is next).
    pub fn logic(&mut self, backend: &mut crate::core::backend::Backend, checkpoint: Option<(u64, std::path::PathBuf)>, hub: &crate::core::hub::HubSettings) {
        let s = &mut self.state;
        if checkpoint != s.followed {
            if let Some((_, dir)) = &checkpoint {
                let run = run_of(dir);
                if run != s.timeline_run {
                    s.timeline_run = run;
                    s.timeline.clear();
                    s.queue.clear();
                }
                if !s.queue.contains(dir) {
                    s.queue.push(dir.clone());
                }
            }
            s.followed = checkpoint;
        }
        if s.probe_job.is_none() && !self.probes.is_empty() && !s.queue.is_empty() {
            let dir = s.queue.remove(0);
            // The job reports the step the folder's weights are from (trainer_state.json).
            let command = Command::ScoreProbes { spec: dir.display().to_string(), step: 0, probes: self.probes.clone(), top_k: 3, hub: hub.clone() };
            s.probe_job = Some((backend.send(command), 0));
        }
    }

    /// Scores the probes with every complete checkpoint of a finished (or stopped) run, oldest first.
    pub fn score_run(&mut self, run: &std::path::Path) -> Result<usize, String> {
        let dir = run.join("checkpoints");
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut checkpoints: Vec<(u64, std::path::PathBuf)> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.join("model.safetensors").is_file())
            .filter_map(|p| Some((crate::core::train::checkpoint::read_state(&p).ok()?.step, p)))
            .collect();
        checkpoints.sort();
        checkpoints.dedup_by_key(|(step, _)| *step);
        if checkpoints.is_empty() {
            return Err(format!("{}: no complete checkpoint", dir.display()));
        }
        let s = &mut self.state;
        s.timeline_run = Some(run.to_path_buf());
        s.timeline.clear();
        s.queue = checkpoints.iter().map(|(_, p)| p.clone()).collect();
        Ok(checkpoints.len())
    }

    fn probes_ui(&mut self, ui: &mut egui::Ui) {
        egui::CollapsingHeader::new("Watch it learn").id_salt("probes").default_open(!self.probes.is_empty()).show(ui, |ui| {
            ui.label(
                "Pin sentences with [MASK]; while a masked LM pre-trains on the Train page, every checkpoint guesses \
                 them again, one row per checkpoint.",
            );
            ui.horizontal(|ui| {
                let has_mask = self.text.contains("[MASK]") || self.text.contains("<mask>");
                let pinned = self.probes.contains(&self.text);
                if ui.add_enabled(has_mask && !pinned, egui::Button::new("Pin this sentence")).clicked() {
                    self.probes.push(self.text.clone());
                }
                if self.state.probe_job.is_some() {
                    ui.spinner();
                }
            });
            ui.horizontal(|ui| {
                let label = ui.label("A finished run:");
                ui.add(egui::TextEdit::singleline(&mut self.state.run_field).hint_text("its folder (runs/…)").desired_width(300.0))
                    .labelled_by(label.id);
                let ready = !self.probes.is_empty() && !self.state.run_field.trim().is_empty();
                if ui.add_enabled(ready, egui::Button::new("Score its checkpoints")).clicked() {
                    let run = std::path::PathBuf::from(self.state.run_field.trim());
                    self.state.run_message = Some(self.score_run(&run).map(|n| format!("{n} checkpoints to score")));
                }
            });
            match &self.state.run_message {
                Some(Ok(m)) => {
                    ui.weak(m);
                }
                Some(Err(e)) => {
                    ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {e}"));
                }
                None => {}
            }
            let mut remove = None;
            for (p, probe) in self.probes.iter().enumerate() {
                ui.horizontal(|ui| {
                    if ui.small_button("✖").on_hover_text("unpin").clicked() {
                        remove = Some(p);
                    }
                    ui.strong(probe);
                });
                let rows: Vec<(u64, &Result<Vec<Vec<MaskPrediction>>, String>)> = self
                    .state
                    .timeline
                    .iter()
                    .filter_map(|row| row.probes.iter().position(|q| q == probe).map(|i| (row.step, &row.scores[i])))
                    .collect();
                if rows.is_empty() {
                    ui.weak("No checkpoint yet: start a masked-LM run on the Train page.");
                    continue;
                }
                egui::Grid::new(("probe_timeline", p)).striped(true).num_columns(2).spacing([12.0, 2.0]).show(ui, |ui| {
                    for (step, score) in rows {
                        ui.label(format!("step {step}"));
                        match score {
                            Ok(masks) => {
                                let guesses: Vec<String> = masks
                                    .first()
                                    .map(|m| m.iter().map(|g| format!("{} {:.1}%", g.token, 100.0 * g.score)).collect())
                                    .unwrap_or_default();
                                ui.monospace(guesses.join(" · "));
                            }
                            Err(e) => {
                                ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {e}"));
                            }
                        }
                        ui.end_row();
                    }
                });
            }
            if let Some(p) = remove {
                self.probes.remove(p);
            }
        });
    }
}
