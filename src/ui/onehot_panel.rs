//! One-hot views: the vocabulary-sized rows of the current tokens (shown around the hot column) and
//! the one-hot table of a list of category labels.

use serde::{Deserialize, Serialize};

use crate::core::text::onehot::{label_table, parse_labels, window};
use crate::core::text::tokenizer::EncodedText;

use super::status_bar::thousands;

#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct OneHotPanel {
    pub labels: String,
}

impl Default for OneHotPanel {
    fn default() -> Self {
        Self { labels: "Sport, Politic, Science, Health".into() }
    }
}

/// Columns either side of the hot one.
const RADIUS: u32 = 3;
/// Token rows shown (the rest is summarised).
const MAX_ROWS: usize = 64;

impl OneHotPanel {
    pub fn ui(&mut self, ui: &mut egui::Ui, encoded: &EncodedText, vocab_size: usize) {
        egui::ScrollArea::vertical().id_salt("onehot").auto_shrink([false, true]).show(ui, |ui| {
            ui.label(format!(
                "Each token is a row of {} numbers: a single 1 at its ID, 0 everywhere else. Shown: {} columns around the 1.",
                thousands(vocab_size),
                2 * RADIUS + 1
            ));
            egui::Grid::new("token_onehot").striped(true).spacing([6.0, 2.0]).show(ui, |ui| {
                ui.strong("token");
                ui.strong("id");
                ui.strong("columns");
                ui.end_row();
                for (token, &id) in encoded.tokens.iter().zip(&encoded.input_ids).take(MAX_ROWS) {
                    ui.monospace(token);
                    ui.monospace(id.to_string());
                    let w = window(id, vocab_size as u32, RADIUS);
                    ui.horizontal(|ui| {
                        ui.spacing_mut().item_spacing.x = 4.0;
                        if w.first > 0 {
                            ui.weak("…");
                        }
                        for col in w.first..w.first + w.width {
                            let text = egui::RichText::new(if col == w.hot { "1" } else { "0" }).monospace();
                            let text = if col == w.hot { text.strong().color(ui.visuals().selection.stroke.color) } else { text.weak() };
                            ui.label(text).on_hover_text(format!("column {col}"));
                        }
                        if w.first + w.width < vocab_size as u32 {
                            ui.weak("…");
                        }
                        ui.weak(format!("(cols {}–{})", w.first, w.first + w.width - 1));
                    });
                    ui.end_row();
                }
            });
            if encoded.len() > MAX_ROWS {
                ui.weak(format!("… and {} more rows", encoded.len() - MAX_ROWS));
            }
            ui.add_space(10.0);
            ui.strong("Labels as one-hot vectors");
            ui.horizontal(|ui| {
                let label = ui.label("Categories:");
                ui.add(egui::TextEdit::singleline(&mut self.labels).desired_width(360.0)).labelled_by(label.id);
            });
            let labels = parse_labels(&self.labels);
            let table = label_table(&labels);
            egui::Grid::new("label_onehot").striped(true).spacing([10.0, 2.0]).show(ui, |ui| {
                ui.strong("label");
                for name in &labels {
                    ui.strong(name);
                }
                ui.end_row();
                for (name, row) in labels.iter().zip(&table) {
                    ui.label(name);
                    for &v in row {
                        ui.monospace(v.to_string());
                    }
                    ui.end_row();
                }
            });
        });
    }
}
