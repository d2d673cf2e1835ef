//! Painted heatmaps: a colour strip for a vector, a matrix for an attention map. Cells are plain
//! rectangles (a few thousand stay cheap); hovering reports the cell under the pointer.

use egui::{Color32, Pos2, Rect, Response, Role, Sense, Ui, Vec2, WidgetInfo};

/// Diverging colours for signed values: blue below zero, red above, the background at zero;
/// `scale` is the magnitude drawn at full strength.
pub fn diverging(value: f32, scale: f32, dark: bool) -> Color32 {
    let t = (value / scale.max(1e-12)).clamp(-1.0, 1.0);
    let (base, hot, cold) = if dark {
        ((40.0, 40.0, 46.0), (255.0, 110.0, 80.0), (90.0, 160.0, 255.0))
    } else {
        ((250.0, 250.0, 250.0), (200.0, 40.0, 30.0), (30.0, 90.0, 200.0))
    };
    let target = if t >= 0.0 { hot } else { cold };
    let a = t.abs().powf(0.8);
    let mix = |b: f32, c: f32| (b + (c - b) * a).round() as u8;
    Color32::from_rgb(mix(base.0, target.0), mix(base.1, target.1), mix(base.2, target.2))
}

/// Sequential colours for weights in [0, 1]: the background at 0, deep blue (or amber on dark) at 1.
pub fn sequential(value: f32, dark: bool) -> Color32 {
    let t = value.clamp(0.0, 1.0).sqrt();
    let (base, top) = if dark { ((30.0, 30.0, 36.0), (255.0, 190.0, 70.0)) } else { ((255.0, 255.0, 255.0), (20.0, 60.0, 160.0)) };
    let mix = |b: f32, c: f32| (b + (c - b) * t).round() as u8;
    Color32::from_rgb(mix(base.0, top.0), mix(base.1, top.1), mix(base.2, top.2))
}

/// A robust colour scale: the 98th percentile of the absolute values (a few outlier dimensions would
/// otherwise wash every other value out to the background colour).
pub fn robust_scale<'a>(values: impl IntoIterator<Item = &'a f32>) -> f32 {
    let mut abs: Vec<f32> = values.into_iter().filter(|v| v.is_finite()).map(|v| v.abs()).collect();
    if abs.is_empty() {
        return 1e-6;
    }
    let k = ((abs.len() - 1) as f32 * 0.98) as usize;
    let (_, kth, _) = abs.select_nth_unstable_by(k, f32::total_cmp);
    kth.max(1e-6)
}

/// A vector as one row of coloured cells, `size` in points. Returns the response and the index under
/// the pointer.
pub fn strip_ui(ui: &mut Ui, values: &[f32], scale: f32, size: Vec2, label: &str) -> (Response, Option<usize>) {
    let (rect, response) = ui.allocate_exact_size(size, Sense::click());
    let text = label.to_string();
    response.widget_info(|| WidgetInfo::labeled(Role::Image, true, &text));
    if values.is_empty() {
        return (response, None);
    }
    let dark = ui.visuals().dark_mode;
    if ui.is_rect_visible(rect) {
        let w = rect.width() / values.len() as f32;
        let painter = ui.painter_at(rect);
        for (i, v) in values.iter().enumerate() {
            let x = rect.left() + i as f32 * w;
            painter.rect_filled(Rect::from_min_max(Pos2::new(x, rect.top()), Pos2::new(x + w.max(0.6), rect.bottom())), 0.0, diverging(*v, scale, dark));
        }
    }
    let hovered = response.hover_pos().map(|p| (((p.x - rect.left()) / rect.width()) * values.len() as f32) as usize).filter(|&i| i < values.len());
    (response, hovered)
}

/// A `rows × cols` matrix of cells (`value(r, c)` in [0, 1], sequential colours), each `cell` points
/// square. Returns the response and the cell under the pointer.
pub fn matrix_ui(
    ui: &mut Ui,
    rows: usize,
    cols: usize,
    cell: f32,
    value: impl Fn(usize, usize) -> f32,
    label: &str,
) -> (Response, Option<(usize, usize)>) {
    let size = Vec2::new(cols as f32 * cell, rows as f32 * cell);
    let (rect, response) = ui.allocate_exact_size(size, Sense::click());
    let text = label.to_string();
    response.widget_info(|| WidgetInfo::labeled(Role::Image, true, &text));
    let dark = ui.visuals().dark_mode;
    if ui.is_rect_visible(rect) && rows > 0 && cols > 0 {
        let painter = ui.painter_at(rect);
        for r in 0..rows {
            for c in 0..cols {
                let min = Pos2::new(rect.left() + c as f32 * cell, rect.top() + r as f32 * cell);
                painter.rect_filled(Rect::from_min_size(min, Vec2::splat(cell + 0.3)), 0.0, sequential(value(r, c), dark));
            }
        }
    }
    let hovered = response.hover_pos().and_then(|p| {
        let (r, c) = (((p.y - rect.top()) / cell) as usize, ((p.x - rect.left()) / cell) as usize);
        (r < rows && c < cols).then_some((r, c))
    });
    (response, hovered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_run_from_the_background_to_full_strength() {
        assert_eq!(diverging(0.0, 1.0, false), Color32::from_rgb(250, 250, 250));
        assert_eq!(diverging(5.0, 1.0, false), Color32::from_rgb(200, 40, 30));
        assert_eq!(diverging(-1.0, 1.0, false), Color32::from_rgb(30, 90, 200));
        assert_eq!(sequential(0.0, false), Color32::WHITE);
        assert_eq!(sequential(1.0, false), Color32::from_rgb(20, 60, 160));
        // A 1 % weight is visibly different from 0 and from 10 %.
        assert_ne!(sequential(0.01, false), sequential(0.0, false));
        assert_ne!(sequential(0.01, false), sequential(0.1, false));
        let mut values: Vec<f32> = (0..100).map(|i| i as f32 / 100.0).collect();
        values.push(-50.0);
        // 101 values: the 98th percentile sits at index 98 of the sorted magnitudes, far below the outlier.
        assert!((robust_scale(&values) - 0.98).abs() < 1e-6, "{}", robust_scale(&values));
    }
}

/// The filled width of a bar for `fraction` of `width`: exactly proportional (a rounded progress bar
/// draws every value under ~10 % as the same dot), with a visible sliver for anything above zero.
pub fn bar_fill(fraction: f32, width: f32) -> f32 {
    let f = if fraction.is_finite() { fraction.clamp(0.0, 1.0) } else { 0.0 };
    if f > 0.0 { (f * width).max(1.5) } else { 0.0 }
}

/// A horizontal bar whose filled part is exactly `fraction` of its width, with `text` beside it (the
/// accessible label).
pub fn value_bar_ui(ui: &mut Ui, fraction: f32, text: &str, width: f32) -> Response {
    let font = egui::FontId::proportional(13.0);
    let text_color = ui.visuals().text_color();
    let galley = ui.painter().layout_no_wrap(text.to_string(), font, text_color);
    let height = galley.size().y.max(14.0);
    let (rect, response) = ui.allocate_exact_size(Vec2::new(width + 8.0 + galley.size().x, height), Sense::hover());
    let label = text.to_string();
    response.widget_info(|| WidgetInfo::labeled(Role::Label, true, &label));
    if ui.is_rect_visible(rect) {
        let track = Rect::from_min_size(rect.min + Vec2::new(0.0, 2.0), Vec2::new(width, height - 4.0));
        let painter = ui.painter();
        painter.rect_filled(track, 2.0, ui.visuals().extreme_bg_color);
        let fill = Rect::from_min_size(track.min, Vec2::new(bar_fill(fraction, width), track.height()));
        painter.rect_filled(fill, 2.0, ui.visuals().selection.bg_fill);
        painter.galley(Pos2::new(track.right() + 8.0, rect.top() + (height - galley.size().y) / 2.0), galley, text_color);
    }
    response
}

#[cfg(test)]
mod bar_tests {
    use super::bar_fill;

    #[test]
    fn bars_are_proportional_down_to_small_values() {
        // 8.7 % and 1.8 % must not look the same (they did with egui's rounded progress bar).
        assert!((bar_fill(0.087, 200.0) - 17.4).abs() < 1e-4);
        assert!((bar_fill(0.018, 200.0) - 3.6).abs() < 1e-4);
        assert_eq!(bar_fill(0.001, 200.0), 1.5);
        assert_eq!(bar_fill(0.0, 200.0), 0.0);
        assert_eq!(bar_fill(3.0, 200.0), 200.0);
        assert_eq!(bar_fill(f32::NAN, 200.0), 0.0);
    }
}
