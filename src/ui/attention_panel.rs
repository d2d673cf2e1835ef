//! Attention: for the typed text, every layer's and head's weights (after the softmax) as a grid of
//! thumbnails, the chosen head as a token × token heatmap or as lines from each token to the tokens
//! it attends to.

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Stroke, Vec2};
use serde::{Deserialize, Serialize};

use crate::core::embeddings::AttentionMaps;

use super::heatmap::{matrix_ui, sequential};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AttentionPanel {
    pub layer: usize,
    pub head: usize,
    pub hide_special: bool,
    pub lines: bool,
}

impl AttentionPanel {
    pub fn ui(&mut self, ui: &mut egui::Ui, maps: &AttentionMaps) {
        let (layers, heads) = (maps.layers(), maps.heads());
        if layers == 0 || heads == 0 {
            ui.weak("no attention maps");
            return;
        }
        self.layer = self.layer.min(layers - 1);
        self.head = self.head.min(heads - 1);
        ui.horizontal_wrapped(|ui| {
            ui.label("Layer:");
            for l in 0..layers {
                ui.selectable_value(&mut self.layer, l, format!("{}", l + 1));
            }
            ui.separator();
            ui.checkbox(&mut self.hide_special, "hide [CLS]/[SEP]");
            ui.selectable_value(&mut self.lines, false, "heatmap");
            ui.selectable_value(&mut self.lines, true, "lines");
        });
        let shown: Vec<usize> = (0..maps.tokens.len()).filter(|&i| !(self.hide_special && maps.special[i])).collect();
        ui.weak(format!(
            "Each row is a token asking \"which tokens matter for me?\"; its weights over the columns sum to 1{}.",
            if self.hide_special { " (the hidden tokens' share is left out)" } else { "" }
        ));
        // All heads of the layer, to pick from.
        ui.horizontal_wrapped(|ui| {
            for h in 0..heads {
                let Some(map) = maps.map(self.layer, h) else { continue };
                ui.vertical(|ui| {
                    let n = shown.len().max(1);
                    let cell = (64.0 / n as f32).max(0.5);
                    let (response, _) =
                        matrix_ui(ui, shown.len(), shown.len(), cell, |r, c| map[shown[r]][shown[c]], &format!("layer {} head {}", self.layer + 1, h + 1));
                    if h == self.head {
                        ui.painter().rect_stroke(response.rect.expand(2.0), 2.0, Stroke::new(2.0, ui.visuals().selection.stroke.color), egui::StrokeKind::Outside);
                    }
                    if response.clicked() {
                        self.head = h;
                    }
                    ui.small(format!("head {}", h + 1));
                });
            }
        });
        ui.add_space(6.0);
        let Some(map) = maps.map(self.layer, self.head) else { return };
        ui.horizontal(|ui| {
            ui.strong(format!("Layer {} · head {}", self.layer + 1, self.head + 1));
            ui.weak("· weight 0");
            let (rect, _) = ui.allocate_exact_size(egui::vec2(120.0, 12.0), Sense::hover());
            let dark = ui.visuals().dark_mode;
            for i in 0..60 {
                let x = rect.left() + i as f32 * 2.0;
                ui.painter().rect_filled(Rect::from_min_size(Pos2::new(x, rect.top()), egui::vec2(2.0, 12.0)), 0.0, sequential(i as f32 / 59.0, dark));
            }
            ui.weak("1");
        });
        if self.lines {
            lines_ui(ui, maps, map, &shown);
        } else {
            heatmap_ui(ui, maps, map, &shown);
        }
    }
}

/// Token labels on the left (queries) and on top (keys, written upwards), the weights between them.
fn heatmap_ui(ui: &mut egui::Ui, maps: &AttentionMaps, map: &[Vec<f32>], shown: &[usize]) {
    let n = shown.len();
    if n == 0 {
        return;
    }
    let font = FontId::monospace(12.0);
    let text_color = ui.visuals().text_color();
    let label_width = shown
        .iter()
        .map(|&i| ui.painter().layout_no_wrap(maps.tokens[i].clone(), font.clone(), text_color).size().x)
        .fold(0f32, f32::max)
        + 8.0;
    let cell = ((ui.available_width() - label_width - 20.0) / n as f32).clamp(5.0, 30.0);
    let show_labels = cell >= 9.0;
    let margin = if show_labels { label_width } else { 0.0 };
    let (rect, _) = ui.allocate_exact_size(Vec2::new(margin, margin), Sense::hover());
    let origin = rect.right_bottom();
    if show_labels {
        for (c, &k) in shown.iter().enumerate() {
            let galley = ui.painter().layout_no_wrap(maps.tokens[k].clone(), font.clone(), text_color);
            let x = origin.x + c as f32 * cell + (cell - galley.size().y) / 2.0;
            let shape = egui::epaint::TextShape::new(Pos2::new(x, origin.y - 4.0), galley, text_color).with_angle(-std::f32::consts::FRAC_PI_2);
            ui.painter().add(shape);
        }
    }
    ui.horizontal_top(|ui| {
        let (labels, _) = ui.allocate_exact_size(Vec2::new(margin, n as f32 * cell), Sense::hover());
        if show_labels {
            for (r, &q) in shown.iter().enumerate() {
                let y = labels.top() + (r as f32 + 0.5) * cell;
                ui.painter().text(Pos2::new(labels.right() - 4.0, y), Align2::RIGHT_CENTER, &maps.tokens[q], font.clone(), text_color);
            }
        }
        ui.spacing_mut().item_spacing.x = 0.0;
        let (response, hovered) = matrix_ui(ui, n, n, cell, |r, c| map[shown[r]][shown[c]], "attention heatmap");
        if let Some((r, c)) = hovered {
            let (q, k) = (shown[r], shown[c]);
            response.on_hover_text(format!("{} → {}: {:.3}", maps.tokens[q], maps.tokens[k], map[q][k]));
        }
    });
    if !show_labels {
        ui.weak("too many tokens for labels: hover a cell to see its tokens");
    }
}

/// Queries on the left, keys on the right, a line for each weight above 1 %, as strong as the weight.
fn lines_ui(ui: &mut egui::Ui, maps: &AttentionMaps, map: &[Vec<f32>], shown: &[usize]) {
    let n = shown.len();
    let row = 18.0;
    let font = FontId::monospace(12.0);
    let width = ui.available_width().clamp(300.0, 560.0);
    let (rect, response) = ui.allocate_exact_size(Vec2::new(width, n as f32 * row + 4.0), Sense::hover());
    let painter = ui.painter_at(rect);
    let text_color = ui.visuals().text_color();
    let (left, right) = (rect.left() + width * 0.3, rect.right() - width * 0.3);
    let y = |i: usize| rect.top() + (i as f32 + 0.5) * row;
    let focus = response.hover_pos().filter(|p| p.x < left).map(|p| ((p.y - rect.top()) / row) as usize).filter(|&r| r < n);
    let line_color = if ui.visuals().dark_mode { Color32::from_rgb(255, 190, 70) } else { Color32::from_rgb(20, 60, 160) };
    for (r, &q) in shown.iter().enumerate() {
        if focus.is_some_and(|f| f != r) {
            continue;
        }
        for (c, &k) in shown.iter().enumerate() {
            let w = map[q][k];
            if w > 0.01 {
                painter.line_segment([Pos2::new(left + 4.0, y(r)), Pos2::new(right - 4.0, y(c))], Stroke::new(1.0 + 3.0 * w, line_color.gamma_multiply(w.sqrt())));
            }
        }
    }
    for (i, &t) in shown.iter().enumerate() {
        let strength = focus.map(|f| map[shown[f]][t]);
        let bg = strength.map_or(Color32::TRANSPARENT, |w| sequential(w, ui.visuals().dark_mode));
        painter.rect_filled(Rect::from_min_max(Pos2::new(right, y(i) - row / 2.0), Pos2::new(rect.right(), y(i) + row / 2.0)), 2.0, bg);
        painter.text(Pos2::new(left - 6.0, y(i)), Align2::RIGHT_CENTER, &maps.tokens[t], font.clone(), text_color);
        painter.text(Pos2::new(right + 6.0, y(i)), Align2::LEFT_CENTER, &maps.tokens[t], font.clone(), text_color);
    }
    ui.weak("hover a token on the left to see only its lines");
}
