//! How the app looks: text sizes readable from the back of a room (egui's 12.5-point body text is not),
//! and presenter mode — everything 25 % larger, high contrast (white on black, thicker strokes) — for a
//! projector at 1280×720.

use egui::{Color32, FontFamily, FontId, Stroke, TextStyle};

/// Body and button text, in points (egui's default is 12.5).
pub const BODY_SIZE: f32 = 14.0;
/// Small text (captions, token IDs), in points (egui's default is 9).
pub const SMALL_SIZE: f32 = 11.0;
/// Presenter mode scales everything by this.
pub const PRESENTER_ZOOM: f32 = 1.25;

fn text_styles(style: &mut egui::Style) {
    style.text_styles = [
        (TextStyle::Small, FontId::new(SMALL_SIZE, FontFamily::Proportional)),
        (TextStyle::Body, FontId::new(BODY_SIZE, FontFamily::Proportional)),
        (TextStyle::Button, FontId::new(BODY_SIZE, FontFamily::Proportional)),
        (TextStyle::Monospace, FontId::new(BODY_SIZE - 1.0, FontFamily::Monospace)),
        (TextStyle::Heading, FontId::new(21.0, FontFamily::Proportional)),
    ]
    .into();
}

/// Applies the normal or the presenter look.
pub fn apply(ctx: &egui::Context, presenter: bool) {
    ctx.all_styles_mut(text_styles);
    if presenter {
        ctx.set_theme(egui::Theme::Dark);
        let mut v = egui::Visuals::dark();
        v.panel_fill = Color32::BLACK;
        v.window_fill = Color32::from_gray(12);
        v.extreme_bg_color = Color32::from_gray(20);
        v.override_text_color = Some(Color32::WHITE);
        v.weak_text_color = Some(Color32::from_gray(200));
        for w in [&mut v.widgets.noninteractive, &mut v.widgets.inactive, &mut v.widgets.hovered, &mut v.widgets.active] {
            w.fg_stroke = Stroke::new(w.fg_stroke.width + 1.0, Color32::WHITE);
            w.bg_stroke.width += 1.0;
        }
        v.widgets.inactive.bg_fill = Color32::from_gray(45);
        v.selection.bg_fill = Color32::from_rgb(0, 110, 220);
        v.selection.stroke = Stroke::new(2.0, Color32::WHITE);
        ctx.set_visuals_of(egui::Theme::Dark, v);
        ctx.set_zoom_factor(PRESENTER_ZOOM);
    } else {
        ctx.set_visuals_of(egui::Theme::Dark, egui::Visuals::dark());
        ctx.set_zoom_factor(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Meetup finding 10: body text was 12.5 points and token IDs under chips about 8.
    #[test]
    fn text_is_readable_and_presenter_mode_is_larger_and_high_contrast() {
        let ctx = egui::Context::default();
        // The zoom factor takes effect at the next frame.
        let frame = |ctx: &egui::Context| {
            let mut output = ctx.run_ui(egui::RawInput::default(), |_| {});
            output.textures_delta.clear();
        };
        apply(&ctx, false);
        frame(&ctx);
        let style = ctx.style_of(egui::Theme::Dark);
        let body = style.text_styles[&TextStyle::Body].size;
        assert!(body >= 14.0 && style.text_styles[&TextStyle::Small].size >= 11.0);
        assert_eq!(ctx.zoom_factor(), 1.0);
        apply(&ctx, true);
        frame(&ctx);
        assert_eq!(ctx.zoom_factor(), PRESENTER_ZOOM);
        let v = ctx.style_of(egui::Theme::Dark).visuals.clone();
        assert_eq!((v.panel_fill, v.override_text_color), (Color32::BLACK, Some(Color32::WHITE)));
        apply(&ctx, false);
        frame(&ctx);
        assert_eq!(ctx.zoom_factor(), 1.0);
        assert_ne!(ctx.style_of(egui::Theme::Dark).visuals.panel_fill, Color32::BLACK);
    }
}
