//! Pages whose features are still being built: they say what is coming, so the navigation is complete.

use super::state::Page;

pub fn placeholder_ui(ui: &mut egui::Ui, page: Page) {
    let (summary, items): (&str, &[&str]) = match page {
        Page::Embeddings => (
            "See where the model puts each token.",
            &["embedding vectors of the current tokens", "nearest neighbours in the vocabulary", "2D projections (PCA)", "attention maps per layer and head", "a count-based n-gram model"],
        ),
        Page::ModelData | Page::Tokenize | Page::FillMask | Page::Train | Page::Runs => ("", &[]),
    };
    ui.heading(page.title());
    ui.label(summary);
    ui.add_space(8.0);
    ui.label(egui::RichText::new("Coming next on this page:").strong());
    for item in items {
        ui.label(format!("•  {item}"));
    }
    ui.add_space(8.0);
    ui.label(egui::RichText::new("Model & Data, Tokenize, Train, Fill-Mask and Runs work today.").weak());
}
