//! Vectors: text → ID → one-hot row → vector, one line per token. The vector is the token's row of the
//! word-embedding matrix or, switchable, its contextual vector after any layer; a click on a token
//! lists the vocabulary tokens nearest to that vector.

use std::sync::Arc;

use egui::{Color32, Pos2, Rect, Sense, Stroke, Vec2};
use serde::{Deserialize, Serialize};

use crate::core::backend::{Event, NeighbourQuery};
use crate::core::embeddings::{EncoderModel, Inspection, VectorSource};

use super::app::PageContext;
use super::chips::{visible_whitespace, Chip, ChipKind};
use super::heatmap::{robust_scale, strip_ui};
use super::neighbours_panel::{neighbour_table_ui, NeighbourSearch};

#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct VectorsPanel {
    pub source: VectorSource,
    #[serde(skip)]
    selected: Option<usize>,
    /// Neighbours of the clicked token's vector, for (token position, source, text).
    #[serde(skip)]
    search: NeighbourSearch<(usize, VectorSource, String)>,
}

impl Default for VectorsPanel {
    fn default() -> Self {
        Self { source: VectorSource::Input, selected: None, search: NeighbourSearch::default() }
    }
}

impl VectorsPanel {
    pub fn on_event(&mut self, event: Event) -> Option<Event> {
        self.search.on_event(event)
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>, encoder: &Arc<EncoderModel>, inspection: &Inspection) {
        let layers = encoder.model.config().num_hidden_layers;
        ui.horizontal(|ui| {
            egui::ComboBox::from_label("vectors").selected_text(self.source.label()).show_ui(ui, |ui| {
                ui.selectable_value(&mut self.source, VectorSource::Input, VectorSource::Input.label());
                for layer in 0..=layers {
                    ui.selectable_value(&mut self.source, VectorSource::Layer(layer), VectorSource::Layer(layer).label());
                }
            });
            ui.weak(match self.source {
                VectorSource::Input => "the row of the word-embedding matrix the ID looks up: the same for a token wherever it stands",
                _ => "contextual: the same token gets a different vector in a different sentence",
            });
        });
        let v = &inspection.vectors;
        if v.source != self.source {
            ui.spinner();
            return;
        }
        let dim = v.vectors.first().map_or(0, Vec::len);
        let vocab = encoder.model.config().vocab_size;
        let scale = robust_scale(v.vectors.iter().flatten());
        ui.label(format!(
            "{} tokens · one-hot rows of {vocab} · vectors of {dim} numbers (blue < 0 < red; full colour from ±{scale:.2}, the 98th percentile of |value|) · click a token for its neighbours",
            v.tokens.len()
        ));
        let strip_width = (ui.available_width() - 500.0).clamp(160.0, 2.0 * dim as f32);
        egui::Grid::new("token_vectors").num_columns(5).spacing([10.0, 4.0]).striped(true).show(ui, |ui| {
            ui.strong("token");
            ui.strong("ID");
            ui.strong("one-hot");
            ui.strong(format!("vector ({})", self.source.label()));
            ui.strong("first values");
            ui.end_row();
            for (i, ((token, id), values)) in v.tokens.iter().zip(&v.ids).zip(&v.vectors).enumerate() {
                let kind = if v.special[i] { ChipKind::Special } else { ChipKind::Normal(i) };
                let shown = visible_whitespace(token);
                let chip = Chip { text: &shown, sub: None, kind, highlighted: self.selected == Some(i) }.show(ui);
                ui.monospace(id.to_string());
                one_hot_ui(ui, *id, vocab);
                let (strip, hovered) = strip_ui(ui, values, scale, Vec2::new(strip_width, 16.0), &format!("vector of {token}"));
                let strip = match hovered {
                    Some(d) => strip.on_hover_text(format!("{token} · dimension {d} = {:.4}", values[d])),
                    None => strip,
                };
                let head: Vec<String> = values.iter().take(4).map(|x| format!("{x:.2}")).collect();
                ui.monospace(format!("[{}, …]", head.join(", ")));
                ui.end_row();
                if chip.interact(Sense::click()).clicked() || strip.clicked() {
                    self.selected = Some(i);
                }
            }
        });
        let Some(selected) = self.selected.filter(|&s| s < v.tokens.len()) else { return };
        let wanted = (selected, self.source, inspection.text.clone());
        let query = || NeighbourQuery::Vector {
            label: format!("{} ({})", v.tokens[selected], self.source.label()),
            vector: v.vectors[selected].clone(),
            exclude: vec![v.ids[selected]],
        };
        self.search.ask(ctx, encoder, wanted, query, 10);
        ui.add_space(8.0);
        match self.search.result() {
            Some(Ok(found)) => {
                ui.strong(format!("Nearest vocabulary tokens to the vector of {}", found.word));
                if self.source != VectorSource::Input {
                    ui.weak("cosine between this contextual vector and each token's input embedding");
                }
                neighbour_table_ui(ui, "vector_neighbours", found);
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

/// A one-hot row squeezed to 120 points: all zeros but one tick at the ID's position.
fn one_hot_ui(ui: &mut egui::Ui, id: u32, vocab: usize) {
    let (rect, response) = ui.allocate_exact_size(Vec2::new(120.0, 16.0), Sense::hover());
    let painter = ui.painter_at(rect);
    let visuals = ui.visuals();
    painter.rect_filled(rect, 2.0, visuals.extreme_bg_color);
    painter.rect_stroke(rect, 2.0, Stroke::new(1.0, visuals.weak_text_color().gamma_multiply(0.4)), egui::StrokeKind::Inside);
    let x = rect.left() + rect.width() * (id as f32 + 0.5) / vocab.max(1) as f32;
    let tick = Color32::from_rgb(220, 60, 40);
    painter.rect_filled(Rect::from_min_max(Pos2::new(x - 1.5, rect.top()), Pos2::new(x + 1.5, rect.bottom())), 0.0, tick);
    response.on_hover_text(format!("{vocab} numbers: a 1 at position {id}, 0 everywhere else"));
}
