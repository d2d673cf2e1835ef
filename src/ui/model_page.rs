//! Model & Data: load a model from a local folder, a config.json, a Hub repo id, or the built-in demo.

use serde::{Deserialize, Serialize};

use crate::core::demo::DEMO_SPEC;
use crate::core::hub::token_status;

use super::file_dialogs::FileDialog;
use super::app::{AppCommand, PageContext};
use super::data_panel::DataPanel;
use super::hub_panel::HubPanel;
use super::status_bar::thousands;

#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct ModelPage {
    /// The spec in the text field (and the last one loaded, at start).
    pub spec: String,
    /// Use only the HF cache (in addition to HF_HUB_OFFLINE).
    pub offline: bool,
    /// Specs loaded before, newest first.
    pub recent: Vec<String>,
    pub hub: HubPanel,
    pub data: DataPanel,
    pub tokenizer_training: super::tokenizer_train_panel::TokenizerTrainPanel,
    /// Where the Hub token comes from (masked), read once, not every frame (it may mean a file read).
    #[serde(skip)]
    token: Option<String>,
}

impl Default for ModelPage {
    fn default() -> Self {
        Self { spec: DEMO_SPEC.into(), offline: false, recent: Vec::new(), hub: HubPanel::default(), data: DataPanel::default(), tokenizer_training: Default::default(), token: None }
    }
}

const MAX_RECENT: usize = 8;

impl ModelPage {
    /// Records a spec that loaded, as the current one and at the top of the recent list.
    pub fn remember(&mut self, spec: &str) {
        let spec = spec.trim().to_string();
        self.recent.retain(|s| *s != spec);
        self.recent.insert(0, spec.clone());
        self.recent.truncate(MAX_RECENT);
        self.spec = spec;
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>) {
        egui::ScrollArea::vertical().id_salt("model_page").show(ui, |ui| {
            ui.heading("Model");
            ui.label("A folder with config.json and tokenizer.json (or vocab.txt), a config.json, or a Hugging Face Hub repo id such as sentence-transformers/all-MiniLM-L6-v2.");
            ui.add_space(4.0);
            self.load_row_ui(ui, ctx);
            if let Some(error) = ctx.load_error {
                ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {error}"));
            }
            // Only the model load shows here (every job is in the status bar): other jobs coming and going
            // must not move the page under the user's pointer.
            if let Some(job) = ctx.jobs.iter().find(|j| Some(j.id) == ctx.model_job) {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(format!("{} {}", job.name, job.message));
                });
            }
            ui.add_space(8.0);
            self.hub_ui(ui, ctx);
            ui.add_space(8.0);
            loaded_ui(ui, ctx);
            if !self.recent.is_empty() {
                ui.add_space(8.0);
                ui.label(egui::RichText::new("Recent").strong());
                for spec in &self.recent {
                    if ui.link(spec).clicked() {
                        ctx.commands.push(AppCommand::LoadModel(spec.clone()));
                    }
                }
            }
            ui.add_space(12.0);
            ui.heading("Data");
            ui.label("A CSV/TSV, JSON Lines, Parquet or text file; a folder with train/validation/test files or one sub-folder of .txt files per class; a Hub dataset id.");
            self.data.ui(ui, ctx);
            ui.add_space(8.0);
            self.tokenizer_training.ui(ui, ctx);
        });
    }

    fn load_row_ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>) {
        ui.horizontal(|ui| {
            let label = ui.label("Model:");
            let edit = ui.add(
                egui::TextEdit::singleline(&mut self.spec)
                    .hint_text("folder, config.json or owner/name")
                    .desired_width(420.0),
            ).labelled_by(label.id);
            let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui.button("Load").clicked() || enter {
                ctx.commands.push(AppCommand::LoadModel(self.spec.clone()));
            }
            if ui.add_enabled(!ctx.dialogs.is_open("model-folder"), egui::Button::new("Browse folder…")).clicked() {
                let dialog = FileDialog::PickFolder { title: "Choose a model folder".into() };
                ctx.dialogs.open(ctx.backend, "model-folder", dialog);
            }
            if let Some(folder) = ctx.dialogs.take("model-folder") {
                self.spec = folder.display().to_string();
                ctx.commands.push(AppCommand::LoadModel(self.spec.clone()));
            }
            if ui.button("Built-in demo").clicked() {
                self.spec = DEMO_SPEC.into();
                ctx.commands.push(AppCommand::LoadModel(self.spec.clone()));
            }
        });
    }

    fn hub_ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>) {
        egui::CollapsingHeader::new("Hugging Face Hub").default_open(true).show(ui, |ui| {
            egui::Grid::new("hub_grid").num_columns(2).spacing([12.0, 4.0]).show(ui, |ui| {
                ui.label("Endpoint");
                ui.label(ctx.hub.endpoint_label());
                ui.end_row();
                ui.label("Cache");
                ui.label(ctx.hub.cache_dir.display().to_string());
                ui.end_row();
                ui.label("Token");
                ui.horizontal(|ui| {
                    ui.label(self.token.get_or_insert_with(token_status).as_str());
                    if ui.small_button("⟳").on_hover_text("read the token again (HF_TOKEN or the token file)").clicked() {
                        self.token = None;
                    }
                });
                ui.end_row();
                ui.label("Offline");
                if ctx.hub.offline {
                    ui.label("on (HF_HUB_OFFLINE is set): only cached models load");
                } else {
                    ui.checkbox(&mut self.offline, "use only the local cache");
                }
                ui.end_row();
            });
            ui.add_space(6.0);
            self.hub.ui(ui, ctx);
        });
    }
}

fn loaded_ui(ui: &mut egui::Ui, ctx: &PageContext<'_>) {
    let Some(model) = ctx.model else {
        ui.label("No model loaded yet.");
        return;
    };
    ui.label(egui::RichText::new(format!("Loaded: {}", model.name)).strong());
    let tok = &model.tokenizer;
    egui::Grid::new("loaded_grid").num_columns(2).spacing([12.0, 4.0]).striped(true).show(ui, |ui| {
        ui.label("Source");
        ui.label(model.spec.label());
        ui.end_row();
        if let Some(files) = &model.files {
            ui.label("Folder");
            ui.label(files.dir.display().to_string());
            ui.end_row();
            ui.label("Tokenizer file");
            let from = match (&files.tokenizer_json, &files.vocab_txt) {
                (Some(_), _) => "tokenizer.json",
                (None, Some(_)) => "vocab.txt (BERT WordPiece built from it)",
                (None, None) => "—",
            };
            ui.label(from);
            ui.end_row();
        } else {
            ui.label("Tokenizer file");
            ui.label("trained at start on assets/demo_corpus.txt (no network needed)");
            ui.end_row();
        }
        ui.label("Tokenizer");
        ui.label(format!("{} · vocab {}", tok.kind().label(), thousands(tok.vocab_size())));
        ui.end_row();
        let special: Vec<String> = [tok.unk().map(|(t, id)| format!("{t}={id}")), tok.pad_token().map(|(t, id)| format!("{t}={id}")), tok.mask_token().map(|(t, id)| format!("{t}={id}"))]
            .into_iter()
            .flatten()
            .collect();
        ui.label("Special tokens");
        ui.label(if special.is_empty() { "—".to_string() } else { special.join("  ") });
        ui.end_row();
        if let Some(cfg) = &model.config {
            ui.label("Architecture");
            ui.label(if cfg.architectures.is_empty() { cfg.one_line() } else { format!("{} ({})", cfg.architectures.join(", "), cfg.one_line()) });
            ui.end_row();
            let facts = [
                ("Intermediate size", cfg.intermediate_size),
                ("Vocab size (config)", cfg.vocab_size),
                ("Max positions", cfg.max_position_embeddings),
            ];
            for (name, value) in facts {
                if let Some(v) = value {
                    ui.label(name);
                    ui.label(thousands(v as usize));
                    ui.end_row();
                }
            }
        }
    });
}
