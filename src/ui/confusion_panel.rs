//! The confusion matrix of the latest evaluation (click a cell to list its examples with their predicted
//! probabilities), per-class scores, and a browser of misclassified examples.

use crate::core::data::SplitName;
use crate::core::train::{EvalReport, Prediction, TrainConfig};

use super::app::PageContext;

#[derive(Default)]
pub struct ConfusionPanel {
    /// (true label, predicted label) of the selected cell.
    selected: Option<(usize, usize)>,
    misclassified_only: bool,
}

impl ConfusionPanel {
    /// `run_texts`: the texts of the evaluated split as the trainer read them (empty for a run from
    /// disk, whose texts come from the Model & Data page's dataset when it is the same data).
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &PageContext<'_>,
        eval: &EvalReport,
        labels: &[String],
        config: &TrainConfig,
        run_texts: &[String],
    ) {
        ui.strong(format!(
            "Confusion matrix · {} at step {} · accuracy {:.3} · macro-F1 {:.3}",
            eval.split, eval.step, eval.accuracy, eval.macro_f1
        ));
        let name = |i: usize| labels.get(i).cloned().unwrap_or_else(|| i.to_string());
        let max = eval.confusion.iter().flatten().copied().max().unwrap_or(1).max(1);
        // Side by side when there is room (the matrix needs about 50 points a class, the table 330);
        // stacked otherwise, so that no column of the table is cut off.
        let wide = ui.available_width() >= 50.0 * (eval.confusion.len() as f32 + 2.0) + 360.0;
        let layout = if wide { egui::Layout::left_to_right(egui::Align::Min) } else { egui::Layout::top_down(egui::Align::Min) };
        ui.with_layout(layout, |ui| {
            egui::Grid::new("confusion").spacing([2.0, 2.0]).show(ui, |ui| {
                ui.weak("true ↓ / predicted →");
                for j in 0..eval.confusion.len() {
                    // Column heads no wider than their cells: long names are cut, whole on hover.
                    let full = name(j);
                    let short: String = if full.chars().count() > 6 { format!("{}…", full.chars().take(5).collect::<String>()) } else { full.clone() };
                    ui.weak(short).on_hover_text(full);
                }
                ui.end_row();
                for (i, row) in eval.confusion.iter().enumerate() {
                    ui.label(name(i));
                    for (j, &count) in row.iter().enumerate() {
                        let strength = count as f32 / max as f32;
                        let base = if i == j { egui::Color32::from_rgb(60, 160, 90) } else { egui::Color32::from_rgb(200, 80, 70) };
                        let fill = base.gamma_multiply(0.15 + 0.85 * strength);
                        let selected = self.selected == Some((i, j));
                        let button = egui::Button::new(count.to_string()).fill(fill).selected(selected).min_size(egui::vec2(44.0, 24.0));
                        if ui.add(button).on_hover_text(format!("true {} · predicted {}: click for the examples", name(i), name(j))).clicked() {
                            self.selected = if selected { None } else { Some((i, j)) };
                            self.misclassified_only = false;
                        }
                    }
                    ui.end_row();
                }
            });
            ui.add_space(16.0);
            egui::Grid::new("per_class").striped(true).spacing([10.0, 2.0]).show(ui, |ui| {
                for title in ["class", "precision", "recall", "F1", "support"] {
                    ui.strong(title);
                }
                ui.end_row();
                for c in &eval.per_class {
                    ui.label(&c.label);
                    ui.label(format!("{:.3}", c.precision));
                    ui.label(format!("{:.3}", c.recall));
                    ui.label(format!("{:.3}", c.f1));
                    ui.label(c.support.to_string());
                    ui.end_row();
                }
            });
        });
        if ui.checkbox(&mut self.misclassified_only, "Misclassified examples").changed() && self.misclassified_only {
            // The list of every misclassified row replaces a cell's list.
            self.selected = None;
        }
        let rows: Vec<&Prediction> = match (self.selected, self.misclassified_only) {
            (Some((i, j)), _) => eval.predictions.iter().filter(|p| p.label as usize == i && p.predicted as usize == j).collect(),
            (None, true) => eval.predictions.iter().filter(|p| p.label != p.predicted).collect(),
            (None, false) => return,
        };
        // Texts come from the dataset loaded on the Model & Data page when it is the one being trained on.
        let split_name = if eval.split == "test" { SplitName::Test } else { SplitName::Validation };
        let same_rows = |d: &crate::core::data::Dataset| match d.split(split_name).map(|s| &s.origin) {
            Some(crate::core::data::SplitOrigin::HeldOut { fraction, seed, .. }) => {
                (*fraction - config.validation_fraction).abs() < 1e-9 && *seed == config.seed
            }
            Some(_) => true,
            None => false,
        };
        let loaded = ctx
            .dataset
            .filter(|d| config.data.trim() == ctx.dataset_spec.trim() && same_rows(d))
            .and_then(|d| d.split(split_name))
            .map(|s| s.texts.as_slice());
        let texts = if run_texts.is_empty() { loaded } else { Some(run_texts) };
        let heading = match self.selected {
            Some((i, j)) => format!("{} examples · true {} · predicted {}", rows.len(), name(i), name(j)),
            None => format!("{} examples", rows.len()),
        };
        ui.label(heading);
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
        egui::ScrollArea::vertical().id_salt("confusion_examples").max_height(220.0).min_scrolled_height(220.0).auto_shrink([false, true]).show_rows(ui, row_height, rows.len(), |ui, range| {
            for p in &rows[range] {
                let probability = p.probabilities.get(p.predicted as usize).copied().unwrap_or(0.0);
                let text = texts.and_then(|s| s.get(p.index)).map_or_else(|| format!("row {}", p.index), |t| t.replace('\n', " "));
                ui.horizontal(|ui| {
                    ui.label(format!("{} → {} ({:.0}%)", name(p.label as usize), name(p.predicted as usize), probability * 100.0));
                    ui.add(egui::Label::new(text).truncate());
                })
                .response
                .on_hover_text(
                    p.probabilities.iter().enumerate().map(|(k, q)| format!("{}: {:.1}%", name(k), q * 100.0)).collect::<Vec<_>>().join("\n"),
                );
            }
        });
    }
}
