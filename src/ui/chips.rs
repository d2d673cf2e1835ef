//! Token chips: small coloured boxes with a piece of text (and optionally its ID under it), painted
//! directly so thousands of them stay cheap, with an accessible label for tests and screen readers.

use egui::{Color32, FontId, Response, Role, Sense, Stroke, StrokeKind, Ui, Vec2, WidgetInfo};

/// A chip's text, in points.
pub const CHIP_TEXT_SIZE: f32 = 14.0;
/// The ID under a chip, in points.
pub const CHIP_ID_SIZE: f32 = 11.5;

/// How a chip looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChipKind {
    /// Coloured by its index in the sequence.
    Normal(usize),
    /// [CLS], [SEP], padding.
    Special,
    /// The unknown token.
    Unknown,
}

/// A chip to draw: `text` is what the user sees (and what accessibility reports).
pub struct Chip<'a> {
    pub text: &'a str,
    pub sub: Option<String>,
    pub kind: ChipKind,
    pub highlighted: bool,
}

const PALETTE: [(u8, u8, u8); 8] = [
    (102, 153, 255),
    (255, 170, 90),
    (110, 200, 140),
    (240, 110, 130),
    (170, 130, 230),
    (90, 200, 210),
    (230, 200, 80),
    (200, 140, 110),
];

fn fill(kind: ChipKind, dark: bool) -> Color32 {
    let alpha = if dark { 90 } else { 70 };
    match kind {
        ChipKind::Normal(i) => {
            let (r, g, b) = PALETTE[i % PALETTE.len()];
            Color32::from_rgba_unmultiplied(r, g, b, alpha)
        }
        ChipKind::Special => Color32::from_rgba_unmultiplied(128, 128, 128, alpha),
        ChipKind::Unknown => Color32::from_rgba_unmultiplied(230, 60, 60, 140),
    }
}

/// Shows whitespace so that it can be seen in a chip.
pub fn visible_whitespace(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            ' ' => '␣',
            '\n' => '⏎',
            '\t' => '⇥',
            c => c,
        })
        .collect()
}

impl Chip<'_> {
    pub fn show(self, ui: &mut Ui) -> Response {
        let visuals = ui.visuals();
        let text_color = visuals.strong_text_color();
        let weak = visuals.weak_text_color();
        let dark = visuals.dark_mode;
        let painter = ui.painter();
        let galley = painter.layout_no_wrap(self.text.to_string(), FontId::monospace(CHIP_TEXT_SIZE), text_color);
        // The ID under a chip: readable (meetup finding 10: it was 9.5 points and dim).
        let id_color = visuals.text_color();
        let sub = self.sub.as_ref().map(|s| painter.layout_no_wrap(s.clone(), FontId::monospace(CHIP_ID_SIZE), id_color));
        let pad = Vec2::new(4.0, 2.0);
        let width = galley.size().x.max(sub.as_ref().map_or(0.0, |g| g.size().x));
        let height = galley.size().y + sub.as_ref().map_or(0.0, |g| g.size().y);
        let (rect, response) = ui.allocate_exact_size(Vec2::new(width, height) + 2.0 * pad, Sense::hover());
        let label = self.text.to_string();
        response.widget_info(|| WidgetInfo::labeled(Role::Label, true, &label));
        if ui.is_rect_visible(rect) {
            let stroke = if self.highlighted {
                Stroke::new(2.0, ui.visuals().selection.stroke.color)
            } else if self.kind == ChipKind::Special {
                Stroke::new(1.0, weak)
            } else {
                Stroke::NONE
            };
            let painter = ui.painter();
            painter.rect(rect, 3.0, fill(self.kind, dark), stroke, StrokeKind::Inside);
            let x = |w: f32| rect.center().x - w / 2.0;
            painter.galley(egui::pos2(x(galley.size().x), rect.top() + pad.y), galley.clone(), text_color);
            if let Some(sub) = sub {
                painter.galley(egui::pos2(x(sub.size().x), rect.top() + pad.y + galley.size().y), sub, id_color);
            }
        }
        response
    }
}
