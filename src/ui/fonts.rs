//! Fallback fonts for text the bundled egui fonts cannot draw (emoji such as 🤗, symbols, many scripts).
//! Installed fonts are looked up at known paths on Linux, macOS and Windows; whatever is found is added
//! after egui's own fonts. Without any of them, such characters show as boxes, never a crash.


use egui::epaint::text::{FontInsert, FontPriority, InsertFontFamily};
use egui::{FontData, FontFamily};

/// Candidate fallback fonts, in order of preference.
const FALLBACK_FONTS: &[(&str, &str)] = &[
    ("symbola", "/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf"),
    ("dejavu-sans", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    ("noto-sans-symbols2", "/usr/share/fonts/truetype/noto/NotoSansSymbols2-Regular.ttf"),
    ("apple-symbols", "/System/Library/Fonts/Apple Symbols.ttf"),
    ("segoe-ui-emoji", "C:\\Windows\\Fonts\\seguiemj.ttf"),
    ("segoe-ui-symbol", "C:\\Windows\\Fonts\\seguisym.ttf"),
];

/// Adds the fallback fonts found on this machine; returns their names.
pub fn install_fallback_fonts(ctx: &egui::Context) -> Vec<&'static str> {
    let mut installed = Vec::new();
    for (name, path) in FALLBACK_FONTS {
        let Ok(bytes) = std::fs::read(path) else { continue };
        let families = [FontFamily::Proportional, FontFamily::Monospace]
            .into_iter()
            .map(|family| InsertFontFamily { family, priority: FontPriority::Lowest })
            .collect();
        ctx.add_font(FontInsert::new(name, FontData::from_owned(bytes), families));
        installed.push(*name);
    }
    installed
}
