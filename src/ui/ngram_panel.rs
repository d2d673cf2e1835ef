//! The n-gram model of the talk's history part, built from the dataset loaded on Model & Data:
//! P(w | context) = count(context w) / count(context), the next-word table for a typed context, a
//! sampled sentence, and beside it what a masked LM guesses for "context [MASK]".

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::core::backend::{Command, Event, JobId};
use crate::core::demo::DEMO_DATA_SPEC;
use crate::core::model::infer::MaskPrediction;
use crate::core::ngram::{NextWords, NgramModel, MAX_N};

use super::heatmap::value_bar_ui;
use super::app::{AppCommand, PageContext};
use super::state::Page;

#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct NgramPanel {
    pub n: usize,
    pub context: String,
    pub top_k: usize,
    pub smoothing: bool,
    pub add_k: f64,
    #[serde(skip)]
    state: Transient,
}

impl Default for NgramPanel {
    fn default() -> Self {
        Self { n: 2, context: "the new".into(), top_k: 10, smoothing: false, add_k: 1.0, state: Transient::default() }
    }
}

#[derive(Clone, Debug, Default)]
struct Transient {
    /// The dataset (by address) the model was built from, and the model.
    model: Option<(usize, String, Arc<NgramModel>)>,
    build_job: Option<(JobId, usize)>,
    /// The dataset whose counting failed, and why (not retried until another dataset is loaded).
    build_failed: Option<(usize, String)>,
    table: Option<(TableKey, Result<NextWords, String>)>,
    sample: Option<String>,
    seed: u64,
    mlm_job: Option<JobId>,
    mlm_for: Option<(usize, String, usize)>,
    mlm: Option<Result<Vec<MaskPrediction>, String>>,
}

#[derive(Clone, Debug, PartialEq)]
struct TableKey {
    model: usize,
    n: usize,
    context: String,
    top_k: usize,
    add_k: f64,
}

impl NgramPanel {
    /// The masked LM's guesses for "context [MASK]", once they arrived.
    pub fn masked_lm_guesses(&self) -> Option<&[MaskPrediction]> {
        match &self.state.mlm {
            Some(Ok(p)) if self.state.mlm_job.is_none() => Some(p),
            _ => None,
        }
    }

    /// The model in use, once built.
    pub fn model(&self) -> Option<&Arc<NgramModel>> {
        self.state.model.as_ref().map(|(_, _, m)| m)
    }

    pub fn on_event(&mut self, event: Event) -> Option<Event> {
        let s = &mut self.state;
        let id = event.job();
        match event {
            Event::NgramBuilt { name, model, .. } if s.build_job.is_some_and(|(job, _)| job == id) => {
                let key = s.build_job.take().map_or(0, |(_, key)| key);
                s.model = Some((key, name, model));
                s.table = None;
                s.sample = None;
            }
            Event::FillMaskResult { masks, .. } if s.mlm_job == Some(id) => {
                s.mlm = Some(Ok(masks.into_iter().next().unwrap_or_default()));
                s.mlm_job = None;
            }
            Event::JobFailed { error, .. } if s.mlm_job == Some(id) => {
                s.mlm = Some(Err(error));
                s.mlm_job = None;
            }
            Event::JobFailed { error, .. } if s.build_job.is_some_and(|(job, _)| job == id) => {
                let key = s.build_job.take().map_or(0, |(_, key)| key);
                s.build_failed = Some((key, error));
            }
            other => return Some(other),
        }
        None
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>) {
        let Some(dataset) = ctx.dataset.cloned() else {
            ui.label("The n-gram model counts the words of the dataset loaded on Model & Data.");
            if ui.button("Load the demo headlines").clicked() {
                ctx.commands.push(AppCommand::LoadDataset(DEMO_DATA_SPEC.into()));
            }
            return;
        };
        // (Re)count when another dataset is loaded.
        let key = Arc::as_ptr(&dataset) as *const () as usize;
        let built_for = self.state.model.as_ref().map(|(k, _, _)| *k);
        let building = self.state.build_job.map(|(_, k)| k);
        if let Some((_, error)) = self.state.build_failed.as_ref().filter(|(k, _)| *k == key) {
            ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {error}"));
            return;
        }
        if built_for != Some(key) && building != Some(key) {
            let texts: Vec<String> = dataset.splits.iter().flat_map(|s| s.texts.iter().cloned()).collect();
            let id = ctx.backend.send(Command::BuildNgram { name: dataset.name.clone(), texts });
            self.state.build_job = Some((id, key));
        }
        let Some((_, name, model)) = self.state.model.clone() else {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!("counting the words of {}", dataset.name));
            });
            return;
        };
        ui.label(format!(
            "Counted from {name}: {} words, {} different, in {} rows (no n-gram crosses from one row into the next).",
            model.total_words(),
            model.vocabulary(),
            model.rows()
        ));
        ui.horizontal_wrapped(|ui| {
            for n in 1..=MAX_N {
                ui.selectable_value(&mut self.n, n, order_name(n));
            }
            let label = ui.label("Context:");
            ui.add(egui::TextEdit::singleline(&mut self.context).desired_width(260.0)).labelled_by(label.id);
            ui.add(egui::DragValue::new(&mut self.top_k).range(1..=100).prefix("top "));
            ui.checkbox(&mut self.smoothing, "add-k smoothing");
            if self.smoothing {
                ui.add(egui::DragValue::new(&mut self.add_k).range(0.0..=10.0).speed(0.01).prefix("k = "));
            }
        });
        let add_k = if self.smoothing { self.add_k } else { 0.0 };
        let table_key =
            TableKey { model: Arc::as_ptr(&model) as *const () as usize, n: self.n, context: self.context.clone(), top_k: self.top_k, add_k };
        if self.state.table.as_ref().map(|(k, _)| k) != Some(&table_key) {
            // A scan of the counted words: milliseconds even for a few million words.
            let table = model.next_words(self.n, &self.context, self.top_k, add_k);
            self.state.table = Some((table_key, table));
        }
        let mlm = ctx.masked_lm.clone();
        ui.columns(2, |cols| {
            if let Some((_, table)) = &self.state.table {
                table_ui(&mut cols[0], table, self.n);
            }
            self.sample_ui(&mut cols[0], &model);
            self.masked_lm_ui(&mut cols[1], ctx, mlm);
        });
    }

    fn sample_ui(&mut self, ui: &mut egui::Ui, model: &NgramModel) {
        ui.add_space(6.0);
        let clicked = ui.horizontal(|ui| ui.button("Sample a sentence").on_hover_text("continue the context word by word, each drawn from P(w | last n − 1 words)").clicked()).inner;
        if clicked {
            self.state.seed += 1;
            let add_k = if self.smoothing { self.add_k } else { 0.0 };
            let words = model.sample(self.n, &self.context, 20, add_k, self.state.seed);
            self.state.sample = Some(if words.is_empty() {
                "(the context was never followed by a word)".into()
            } else {
                format!("{} {}", self.context.trim(), words.join(" "))
            });
        }
        if let Some(sample) = &self.state.sample {
            ui.label(egui::RichText::new(sample).italics());
        }
    }

    fn masked_lm_ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>, lm: Option<Arc<crate::core::backend::MaskedLm>>) {
        let Some(lm) = lm else {
            ui.strong("A masked LM reads the whole sentence");
            ui.weak("Load a masked LM on the Fill-Mask page to see its guesses for \"context [MASK]\" beside the counts.");
            if ui.button("Open Fill-Mask").clicked() {
                ctx.commands.push(AppCommand::OpenPage(Page::FillMask));
            }
            return;
        };
        let mask = lm.tokenizer.mask_token().map_or("[MASK]", |(t, _)| t);
        let text = format!("{} {mask}", self.context.trim());
        ui.strong(format!("{} guesses \"{text}\"", lm.name));
        let wanted = (Arc::as_ptr(&lm) as *const () as usize, text.clone(), self.top_k);
        if self.state.mlm_job.is_none() && self.state.mlm_for.as_ref() != Some(&wanted) {
            self.state.mlm_job = Some(ctx.backend.send(Command::FillMask { lm: Arc::clone(&lm), text, top_k: self.top_k }));
            self.state.mlm_for = Some(wanted);
        }
        match &self.state.mlm {
            Some(Ok(predictions)) => {
                egui::Grid::new("ngram_mlm").num_columns(2).spacing([10.0, 3.0]).striped(true).show(ui, |ui| {
                    ui.strong("token");
                    ui.strong("P");
                    ui.end_row();
                    for p in predictions {
                        ui.monospace(&p.token);
                        value_bar_ui(ui, p.score, &format!("{:.1}%", 100.0 * p.score), 140.0);
                        ui.end_row();
                    }
                });
            }
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {e}"));
            }
            None => {
                ui.spinner();
            }
        }
    }
}

/// "unigram", "bigram", …
fn order_name(n: usize) -> String {
    match n {
        1 => "unigram".into(),
        2 => "bigram".into(),
        3 => "trigram".into(),
        n => format!("{n}-gram"),
    }
}

fn table_ui(ui: &mut egui::Ui, table: &Result<NextWords, String>, n: usize) {
    let t = match table {
        Ok(t) => t,
        Err(e) => {
            ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {e}"));
            return;
        }
    };
    let context = if t.context.is_empty() { "∅".to_string() } else { t.context.join(" ") };
    if t.context.len() + 1 < n {
        ui.weak(format!("the context has fewer than {} words: using a {}-gram", n - 1, t.context.len() + 1));
    }
    ui.strong(format!("P(w | {context}) = count({context} w) / count({context}),  count({context}) = {}", t.context_count));
    if t.add_k > 0.0 {
        ui.weak(format!("add-k: (count + {}) / (count({context}) + {} × vocabulary)", t.add_k, t.add_k));
    }
    if t.next.is_empty() {
        ui.weak(if t.context_count == 0 { "this context never occurs in the data" } else { "nothing ever follows this context" });
        return;
    }
    egui::Grid::new("ngram_table").num_columns(4).spacing([12.0, 3.0]).striped(true).show(ui, |ui| {
        ui.strong("next word");
        ui.strong(format!("count({context} w)"));
        ui.strong(format!("count({context})"));
        ui.strong("P(w | context)");
        ui.end_row();
        for w in &t.next {
            ui.monospace(&w.word);
            ui.monospace(w.count.to_string());
            ui.monospace(t.context_count.to_string());
            value_bar_ui(ui, w.p as f32, &format!("{:.3}", w.p), 140.0);
            ui.end_row();
        }
    });
    ui.weak(format!("{} different words follow it", t.distinct_next));
}
