//! Neighbours: the vocabulary tokens whose input embeddings point the most the same way as a typed
//! word's (cosine similarity).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::core::backend::{Command, Event, JobId, NeighbourQuery};
use crate::core::embeddings::{EncoderModel, WordNeighbours};

use super::heatmap::value_bar_ui;
use super::app::PageContext;

/// A neighbour search kept up to date with what it is asked for (`K` names the question): one job at a
/// time, a new one when the question changed, the latest answer kept.
pub struct NeighbourSearch<K> {
    job: Option<JobId>,
    asked: Option<K>,
    result: Option<Result<WordNeighbours, String>>,
}

impl<K> Default for NeighbourSearch<K> {
    fn default() -> Self {
        Self { job: None, asked: None, result: None }
    }
}

impl<K: PartialEq> NeighbourSearch<K> {
    /// Takes this search's events; returns the others.
    pub fn on_event(&mut self, event: Event) -> Option<Event> {
        let id = event.job();
        match event {
            Event::NeighboursFound { result, .. } if self.job == Some(id) => self.result = Some(Ok(result)),
            Event::JobFailed { error, .. } if self.job == Some(id) => self.result = Some(Err(error)),
            other => return Some(other),
        }
        self.job = None;
        None
    }

    /// Starts a search for `key` unless one runs or `key` was the last one asked.
    pub fn ask(&mut self, ctx: &mut PageContext<'_>, encoder: &Arc<EncoderModel>, key: K, query: impl FnOnce() -> NeighbourQuery, top_k: usize) {
        if self.job.is_none() && self.asked.as_ref() != Some(&key) {
            self.job = Some(ctx.backend.send(Command::Neighbours { encoder: Arc::clone(encoder), query: query(), top_k }));
            self.asked = Some(key);
        }
    }

    pub fn is_running(&self) -> bool {
        self.job.is_some()
    }

    pub fn result(&self) -> Option<&Result<WordNeighbours, String>> {
        self.result.as_ref()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct NeighboursPanel {
    pub word: String,
    pub top_k: usize,
    /// (encoder, word, k) of the search.
    #[serde(skip)]
    search: NeighbourSearch<(usize, String, usize)>,
}

impl Default for NeighboursPanel {
    fn default() -> Self {
        Self { word: "king".into(), top_k: 10, search: NeighbourSearch::default() }
    }
}

impl NeighboursPanel {
    pub fn on_event(&mut self, event: Event) -> Option<Event> {
        self.search.on_event(event)
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>, encoder: &Arc<EncoderModel>) {
        ui.horizontal(|ui| {
            let label = ui.label("Word:");
            ui.add(egui::TextEdit::singleline(&mut self.word).desired_width(200.0)).labelled_by(label.id);
            ui.add(egui::DragValue::new(&mut self.top_k).range(1..=100).prefix("top "));
            if self.search.is_running() {
                ui.spinner();
            }
        });
        ui.weak("cosine similarity of the input (word) embeddings; a word of several tokens is searched by the mean of their vectors");
        let wanted = (Arc::as_ptr(encoder) as *const () as usize, self.word.trim().to_string(), self.top_k);
        if !wanted.1.is_empty() {
            let word = wanted.1.clone();
            self.search.ask(ctx, encoder, wanted, || NeighbourQuery::Word(word), self.top_k);
        }
        match self.search.result() {
            Some(Ok(found)) => {
                ui.label(format!("{} = {}", found.word, found.tokens.join(" ")));
                neighbour_table_ui(ui, "word_neighbours", found);
            }
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {e}"));
            }
            None => {}
        }
    }
}

/// Token, ID and cosine (with a bar) of each neighbour.
pub fn neighbour_table_ui(ui: &mut egui::Ui, id: &str, found: &WordNeighbours) {
    egui::Grid::new(id).num_columns(3).spacing([12.0, 3.0]).striped(true).show(ui, |ui| {
        ui.strong("token");
        ui.strong("ID");
        ui.strong("cosine");
        ui.end_row();
        for n in &found.neighbours {
            ui.monospace(&n.token);
            ui.monospace(n.id.to_string());
            value_bar_ui(ui, n.cosine, &format!("{:.3}", n.cosine), 200.0);
            ui.end_row();
        }
    });
}
