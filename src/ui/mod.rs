//! The egui front end: a thin layer over [`crate::core`], one file per panel.

mod app;
mod attention_panel;
mod cached_models;
mod chips;
mod confusion_panel;
mod data_panel;
mod embeddings_page;
mod file_dialogs;
mod fill_mask_page;
mod probe_timeline;
mod fonts;
mod heatmap;
mod live_run;
mod hub_panel;
mod hyperparameters;
mod model_page;
mod neighbours_panel;
mod ngram_panel;
mod onehot_panel;
mod projection_panel;
mod runs_page;
mod scratch_model;
mod state;
mod status_bar;
mod theme;
mod tokenize_page;
mod tokenizer_train_panel;
mod tour;
mod train_page;
mod train_plan;
mod train_plots;
mod vectors_panel;
mod vocab_panel;

pub use app::{AppCommand, JobView, WorkbenchApp};
pub use embeddings_page::View as EmbeddingsView;
pub use train_plots::chart_id;
pub use state::{Page, State};
pub use live_run::RunStatus;

/// The window title and the name eframe stores settings under.
pub const APP_NAME: &str = "LM Workbench";

/// Opens the desktop window.
pub fn run_native() -> eframe::Result {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title(APP_NAME)
            .with_inner_size([1280.0, 820.0])
            .with_min_inner_size([720.0, 480.0]),
        ..Default::default()
    };
    eframe::run_native(APP_NAME, options, Box::new(|cc| Ok(Box::new(WorkbenchApp::from_creation_context(cc)))))
}
