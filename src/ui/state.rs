//! What the app remembers across restarts (eframe storage). Transient fields are `#[serde(skip)]`.

use serde::{Deserialize, Serialize};

use super::embeddings_page::EmbeddingsPage;
use super::fill_mask_page::FillMaskPage;
use super::model_page::ModelPage;
use super::runs_page::RunsPage;
use super::train_page::TrainPage;
use super::tokenize_page::TokenizePage;

/// The app's pages, in navigation order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Page {
    ModelData,
    #[default]
    Tokenize,
    Embeddings,
    Train,
    FillMask,
    Runs,
}

impl Page {
    pub const ALL: [Page; 6] = [Page::ModelData, Page::Tokenize, Page::Embeddings, Page::Train, Page::FillMask, Page::Runs];

    pub fn title(self) -> &'static str {
        match self {
            Page::ModelData => "Model & Data",
            Page::Tokenize => "Tokenize",
            Page::Embeddings => "Embeddings",
            Page::Train => "Train",
            Page::FillMask => "Fill-Mask",
            Page::Runs => "Runs",
        }
    }
}

/// Everything that persists.
#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    pub page: Page,
    /// Presenter mode: larger, high-contrast, for a projector (F5).
    pub presenter: bool,
    /// The first-start walkthrough.
    pub tour: super::tour::Tour,
    pub model: ModelPage,
    pub tokenize: TokenizePage,
    pub embeddings: EmbeddingsPage,
    pub fill_mask: FillMaskPage,
    pub train: TrainPage,
    pub runs: RunsPage,
}

impl State {
    pub const STORAGE_KEY: &'static str = "lm-workbench-state";
}
