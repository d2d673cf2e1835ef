//! Embeddings: what a model does with the text typed on the Tokenize page — each token's ID, one-hot
//! row and vector; its nearest vocabulary neighbours; the dataset's sentences as points in 2D; the
//! attention maps of every layer and head; and, for the history of language models, the count-based
//! n-gram model of the loaded dataset.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::core::backend::{Command, Event, JobId};
use crate::core::embeddings::{EncoderModel, Inspection, VectorSource};

use super::app::PageContext;
use super::attention_panel::AttentionPanel;
use super::cached_models::cached_models_menu;
use super::neighbours_panel::NeighboursPanel;
use super::ngram_panel::NgramPanel;
use super::projection_panel::ProjectionPanel;
use super::vectors_panel::VectorsPanel;

/// The page's views.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum View {
    #[default]
    Vectors,
    Neighbours,
    Projection,
    Attention,
    Ngram,
}

impl View {
    const ALL: [View; 5] = [View::Vectors, View::Neighbours, View::Projection, View::Attention, View::Ngram];

    fn title(self) -> &'static str {
        match self {
            View::Vectors => "Vectors",
            View::Neighbours => "Neighbours",
            View::Projection => "Projection",
            View::Attention => "Attention",
            View::Ngram => "N-gram model",
        }
    }

    /// Whether the view needs a model with weights.
    fn needs_model(self) -> bool {
        !matches!(self, View::Ngram | View::Projection)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct EmbeddingsPage {
    /// The model spec of the encoder.
    pub model: String,
    pub view: View,
    /// Tokens beyond this are cut off.
    pub max_length: usize,
    pub vectors: VectorsPanel,
    pub neighbours: NeighboursPanel,
    pub projection: ProjectionPanel,
    pub attention: AttentionPanel,
    pub ngram: NgramPanel,
    #[serde(skip)]
    state: Transient,
}

impl Default for EmbeddingsPage {
    fn default() -> Self {
        Self {
            model: crate::core::demo::DEMO_SPEC.into(),
            view: View::default(),
            max_length: 128,
            vectors: VectorsPanel::default(),
            neighbours: NeighboursPanel::default(),
            projection: ProjectionPanel::default(),
            attention: AttentionPanel::default(),
            ngram: NgramPanel::default(),
            state: Transient::default(),
        }
    }
}

#[derive(Default)]
struct Transient {
    /// The model named in the field was loaded (or tried) this session: a start opens it once.
    opened: bool,
    encoder: Option<Arc<EncoderModel>>,
    load_job: Option<JobId>,
    inspect_job: Option<JobId>,
    /// What the inspection shown (or being computed) is for.
    inspected_for: Option<InspectKey>,
    inspection: Option<Arc<Inspection>>,
    error: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
struct InspectKey {
    model: usize,
    text: String,
    source: VectorSource,
    max_length: usize,
    sentence: (bool, bool, usize),
}

impl EmbeddingsPage {
    pub fn encoder(&self) -> Option<&Arc<EncoderModel>> {
        self.state.encoder.as_ref()
    }

    pub fn inspection(&self) -> Option<&Arc<Inspection>> {
        self.state.inspection.as_ref()
    }

    /// Takes the events of this page's jobs; returns the others.
    pub fn on_event(&mut self, event: Event) -> Option<Event> {
        let s = &mut self.state;
        let id = event.job();
        match event {
            Event::EncoderLoaded { encoder, .. } if s.load_job == Some(id) => {
                s.encoder = Some(encoder);
                s.load_job = None;
                s.error = None;
                s.inspection = None;
                s.inspected_for = None;
                self.projection.model_changed();
                None
            }
            Event::Inspected { inspection, .. } if s.inspect_job == Some(id) => {
                s.inspection = Some(Arc::new(*inspection));
                s.inspect_job = None;
                s.error = None;
                None
            }
            Event::JobFailed { error, .. } if s.load_job == Some(id) || s.inspect_job == Some(id) => {
                s.error = Some(error);
                s.load_job = None;
                s.inspect_job = None;
                None
            }
            other => {
                let other = self.vectors.on_event(other)?;
                let other = self.neighbours.on_event(other)?;
                let other = self.projection.on_event(other)?;
                self.ngram.on_event(other)
            }
        }
    }

    fn load(&mut self, ctx: &mut PageContext<'_>, spec: String) {
        self.model = spec;
        self.state.load_job = Some(ctx.backend.send(Command::LoadEncoder { spec: self.model.clone(), hub: ctx.hub.clone() }));
    }

    /// Draws the page; `text` is the text of the Tokenize page (one text for both pages).
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>, text: &mut String) {
        ui.heading("Embeddings");
        ui.label(
            "A token becomes an ID, the ID a one-hot row, the row a vector; attention lets the model decide which \
             other tokens matter. Before that, language models counted words.",
        );
        self.model_row_ui(ui, ctx);
        ui.horizontal(|ui| {
            let label = ui.label("Text:");
            ui.add(egui::TextEdit::singleline(text).desired_width(560.0)).labelled_by(label.id);
            ui.add(egui::DragValue::new(&mut self.max_length).range(2..=512).prefix("max ").suffix(" tokens"));
        });
        if let Some(error) = &self.state.error {
            ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {error}"));
        }
        ui.horizontal(|ui| {
            for view in View::ALL {
                ui.selectable_value(&mut self.view, view, view.title());
            }
        });
        ui.separator();
        self.request_inspection(ctx, text);
        let encoder = self.state.encoder.clone();
        let inspection = self.state.inspection.clone();
        if self.view.needs_model() && encoder.is_none() {
            ui.weak(
                "Load a model with weights to see its vectors and attention: a folder (config.json and \
                 model.safetensors of any BERT-family model), a Hub id, a model from the \"cached\" menu, or the \
                 model loaded on Model & Data. The N-gram model and a training run's projection need no model.",
            );
            return;
        }
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| match self.view {
            View::Vectors => {
                if let (Some(encoder), Some(inspection)) = (&encoder, &inspection) {
                    self.vectors.ui(ui, ctx, encoder, inspection);
                } else {
                    ui.spinner();
                }
            }
            View::Neighbours => {
                if let Some(encoder) = &encoder {
                    self.neighbours.ui(ui, ctx, encoder);
                }
            }
            View::Projection => {
                if let Some(clicked) = self.projection.ui(ui, ctx, encoder.as_ref(), inspection.as_deref()) {
                    *text = clicked;
                    ctx.commands.push(super::app::AppCommand::OpenPage(super::state::Page::Tokenize));
                }
            }
            View::Attention => {
                if let Some(inspection) = &inspection {
                    self.attention.ui(ui, &inspection.attention);
                } else {
                    ui.spinner();
                }
            }
            View::Ngram => self.ngram.ui(ui, ctx),
        });
    }

    fn model_row_ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>) {
        // The first time the page shows, it opens the model it names (the demo encoder on a first start).
        if !std::mem::replace(&mut self.state.opened, true) && self.state.encoder.is_none() && !self.model.trim().is_empty() {
            self.load(ctx, self.model.clone());
        }
        ui.horizontal(|ui| {
            let label = ui.label("Model:");
            ui.add(egui::TextEdit::singleline(&mut self.model).hint_text("folder or owner/name").desired_width(340.0))
                .labelled_by(label.id);
            if ui.button("Load model").clicked() {
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
            if self.state.load_job.is_some() || self.state.inspect_job.is_some() {
                ui.spinner();
            }
        });
        if let Some(encoder) = &self.state.encoder {
            let c = encoder.model.config();
            ui.label(format!(
                "{} · {} layers · {} heads · hidden {} · vocabulary {}",
                encoder.name, c.num_hidden_layers, c.num_attention_heads, c.hidden_size, c.vocab_size
            ));
            if !encoder.newly_initialized.is_empty() {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!("⚠ not in the checkpoint, random: {}", encoder.newly_initialized.join(", ")),
                );
            }
        }
    }

    /// Inspects the current text whenever it (or a setting it depends on) changed: one job at a time,
    /// always for the latest text.
    fn request_inspection(&mut self, ctx: &mut PageContext<'_>, text: &str) {
        let Some(encoder) = &self.state.encoder else { return };
        if self.state.inspect_job.is_some() || text.trim().is_empty() {
            return;
        }
        let sentence = self.projection.sentence_options();
        let key = InspectKey {
            model: Arc::as_ptr(encoder) as *const () as usize,
            text: text.to_string(),
            source: self.vectors.source,
            max_length: self.max_length,
            sentence: (sentence.pooling == crate::core::model::infer::Pooling::Mean, sentence.normalize, sentence.max_length),
        };
        if self.state.inspected_for.as_ref() == Some(&key) {
            return;
        }
        self.state.inspect_job = Some(ctx.backend.send(Command::Inspect {
            encoder: Arc::clone(encoder),
            text: text.to_string(),
            source: self.vectors.source,
            max_length: self.max_length,
            sentence,
        }));
        self.state.inspected_for = Some(key);
    }
}
