//! Hugging Face Hub: search models (or datasets), see a repo's files and config, download it into the
//! HF cache with per-file progress and cancel, and list what is already on this machine.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::core::backend::{Command, Event, JobId, RepoDetails};
use crate::core::hub::download::{DownloadRequest, FileProgress};
use crate::core::hub::search::{RepoHit, RepoKind, SearchQuery, SortBy};

use super::app::{AppCommand, PageContext};
use super::status_bar::thousands;

/// Tasks offered as search filters (pipeline tags).
const TASKS: [&str; 5] = ["fill-mask", "text-classification", "feature-extraction", "sentence-similarity", "token-classification"];

/// Files a model needs to load here (weights and tokenizer); others (ONNX, TF, …) are not downloaded.
fn wanted(kind: RepoKind, path: &str) -> bool {
    match kind {
        RepoKind::Model => {
            matches!(path, "config.json" | "tokenizer.json" | "tokenizer_config.json" | "vocab.txt" | "special_tokens_map.json" | "merges.txt" | "vocab.json")
                || (path.ends_with(".safetensors") || path == "model.safetensors.index.json") && !path.contains('/')
        }
        RepoKind::Dataset => [".parquet", ".csv", ".tsv", ".jsonl", ".json", ".txt"].iter().any(|x| path.ends_with(x)),
    }
}

#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct HubPanel {
    pub query: String,
    pub kind: RepoKind,
    pub task: Option<String>,
    pub sort: SortBy,
    #[serde(skip)]
    state: Transient,
}

impl Default for HubPanel {
    fn default() -> Self {
        Self { query: "bert".into(), kind: RepoKind::Model, task: Some("fill-mask".into()), sort: SortBy::Downloads, state: Transient::default() }
    }
}

#[derive(Default)]
struct Transient {
    search_job: Option<JobId>,
    hits: Vec<RepoHit>,
    error: Option<String>,
    selected: Option<String>,
    details_job: Option<JobId>,
    details: Option<RepoDetails>,
    download: Option<Download>,
}

struct Download {
    job: JobId,
    repo: String,
    cancel: Arc<AtomicBool>,
    files: BTreeMap<String, FileProgress>,
    outcome: Option<Result<String, String>>,
}

impl HubPanel {
    /// Takes the events of this panel's jobs; returns the ones that are not.
    pub fn on_event(&mut self, event: Event) -> Option<Event> {
        let s = &mut self.state;
        let id = event.job();
        match event {
            Event::SearchResults { hits, .. } if s.search_job == Some(id) => {
                s.hits = hits;
                s.search_job = None;
            }
            Event::RepoDetails { details, .. } if s.details_job == Some(id) => {
                s.details = Some(*details);
                s.details_job = None;
            }
            Event::DownloadProgress { progress, .. } if s.download.as_ref().is_some_and(|d| d.job == id) => {
                if let Some(d) = &mut s.download {
                    d.files.insert(progress.file.clone(), progress);
                }
            }
            Event::Downloaded { snapshot, .. } if s.download.as_ref().is_some_and(|d| d.job == id) => {
                if let Some(d) = &mut s.download {
                    d.outcome = Some(Ok(snapshot.display().to_string()));
                }
            }
            Event::JobCancelled { .. } if s.download.as_ref().is_some_and(|d| d.job == id) => {
                if let Some(d) = &mut s.download {
                    d.outcome = Some(Err("cancelled — download again to resume".into()));
                }
            }
            Event::JobFailed { error, .. } if [s.search_job, s.details_job].contains(&Some(id)) => {
                s.error = Some(error);
                for job in [&mut s.search_job, &mut s.details_job] {
                    if *job == Some(id) {
                        *job = None;
                    }
                }
            }
            Event::JobFailed { error, .. } if s.download.as_ref().is_some_and(|d| d.job == id) => {
                if let Some(d) = &mut s.download {
                    d.outcome = Some(Err(error));
                }
            }
            other => return Some(other),
        }
        None
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>) {
        self.search_row_ui(ui, ctx);
        if let Some(error) = &self.state.error {
            ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {error}"));
        }
        ui.columns(2, |cols| {
            self.results_ui(&mut cols[0], ctx);
            self.details_ui(&mut cols[1], ctx);
        });
        ui.add_space(8.0);
        self.cache_ui(ui, ctx);
    }

    fn search_row_ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>) {
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.kind, RepoKind::Model, "Models");
            ui.selectable_value(&mut self.kind, RepoKind::Dataset, "Datasets");
            let label = ui.label("Search the Hub:");
            let edit = ui.add(egui::TextEdit::singleline(&mut self.query).desired_width(220.0)).labelled_by(label.id);
            if self.kind == RepoKind::Model {
                egui::ComboBox::from_label("task").selected_text(self.task.as_deref().unwrap_or("any task")).show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.task, None, "any task");
                    for task in TASKS {
                        ui.selectable_value(&mut self.task, Some(task.to_string()), task);
                    }
                });
            }
            egui::ComboBox::from_label("sort").selected_text(self.sort.api_name()).show_ui(ui, |ui| {
                for sort in [SortBy::Downloads, SortBy::Likes, SortBy::LastModified] {
                    ui.selectable_value(&mut self.sort, sort, sort.api_name());
                }
            });
            let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui.button("Search").clicked() || enter {
                let query = SearchQuery {
                    text: self.query.clone(),
                    task: if self.kind == RepoKind::Model { self.task.clone() } else { None },
                    sort: self.sort,
                    limit: 50,
                };
                self.state.error = None;
                self.state.search_job = Some(ctx.backend.send(Command::Search { kind: self.kind, query, hub: ctx.hub.clone() }));
            }
            if self.state.search_job.is_some() {
                ui.spinner();
            }
        });
    }

    fn results_ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>) {
        if self.state.hits.is_empty() {
            // Under an error the error says it all.
            if self.state.error.is_none() && self.state.search_job.is_none() {
                ui.weak("No results yet: search above.");
            }
            return;
        }
        let mut clicked = None;
        egui::ScrollArea::vertical().id_salt("hub_hits").max_height(260.0).auto_shrink([false, true]).show(ui, |ui| {
            egui::Grid::new("hits").striped(true).num_columns(5).spacing([10.0, 3.0]).show(ui, |ui| {
                for title in ["repo", "downloads", "likes", "task", "modified"] {
                    ui.strong(title);
                }
                ui.end_row();
                for hit in &self.state.hits {
                    let selected = self.state.selected.as_deref() == Some(hit.id.as_str());
                    if ui.selectable_label(selected, &hit.id).clicked() {
                        clicked = Some(hit.id.clone());
                    }
                    ui.label(hit.downloads.map_or("—".into(), |n| thousands(n as usize)));
                    ui.label(hit.likes.map_or("—".into(), |n| thousands(n as usize)));
                    ui.label(hit.task.as_deref().unwrap_or("—"));
                    ui.label(hit.last_modified.as_deref().map_or("—", |d| d.get(..10).unwrap_or(d)));
                    ui.end_row();
                }
            });
        });
        if let Some(repo) = clicked {
            self.state.selected = Some(repo.clone());
            self.state.details = None;
            self.state.details_job = Some(ctx.backend.send(Command::RepoDetails { kind: self.kind, repo, hub: ctx.hub.clone() }));
        }
    }

    fn details_ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>) {
        let Some(repo) = self.state.selected.clone() else { return };
        ui.strong(&repo);
        if self.state.details_job.is_some() {
            ui.spinner();
        }
        if let Some(details) = self.state.details.clone().filter(|d| d.repo == repo) {
            if let Some(cfg) = &details.config {
                ui.label(cfg.one_line());
                let mut facts = Vec::new();
                if let Some(v) = cfg.vocab_size {
                    facts.push(format!("vocab {}", thousands(v as usize)));
                }
                if let Some(p) = cfg.estimated_parameters() {
                    facts.push(format!("{} parameters (encoder)", thousands(p as usize)));
                }
                if !cfg.architectures.is_empty() {
                    facts.push(cfg.architectures.join(", "));
                }
                ui.label(facts.join(" · "));
            }
            if let Some(data) = &details.data {
                dataset_configs_ui(ui, ctx, &repo, data);
                return;
            }
            let files: Vec<_> = details.files.iter().filter(|f| wanted(details.kind, &f.path)).collect();
            let total: u64 = files.iter().map(|f| f.size).sum();
            egui::ScrollArea::vertical().id_salt("repo_files").max_height(140.0).show(ui, |ui| {
                for f in &details.files {
                    let text = format!("{}  ({})", f.path, human_bytes(f.size));
                    if wanted(details.kind, &f.path) { ui.label(text) } else { ui.weak(text) };
                }
            });
            let downloading = self.state.download.as_ref().is_some_and(|d| d.repo == repo && d.outcome.is_none());
            ui.horizontal(|ui| {
                let button = egui::Button::new(format!("Download {} files ({})", files.len(), human_bytes(total)));
                if ui.add_enabled(!downloading && !files.is_empty(), button).clicked() {
                    let request = DownloadRequest {
                        kind: details.kind,
                        repo: repo.clone(),
                        revision: None,
                        files: files.iter().map(|f| f.path.clone()).collect(),
                    };
                    let cancel = Arc::new(AtomicBool::new(false));
                    let job = ctx.backend.send(Command::Download { request, hub: ctx.hub.clone(), cancel: cancel.clone() });
                    self.state.download = Some(Download { job, repo: repo.clone(), cancel, files: BTreeMap::new(), outcome: None });
                }
                if downloading && ui.button("Cancel").clicked() {
                    if let Some(d) = &self.state.download {
                        d.cancel.store(true, Ordering::Relaxed);
                    }
                }
            });
        }
        self.download_ui(ui, ctx, &repo);
    }

    fn download_ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>, repo: &str) {
        let Some(d) = self.state.download.as_ref().filter(|d| d.repo == repo) else { return };
        for p in d.files.values() {
            let fraction = p.fraction();
            let rate = if p.done { "done".to_string() } else { format!("{}/s", human_bytes(p.rate as u64)) };
            let resumed = if p.resumed_from > 0 && p.resumed_from < p.total { format!(", resumed at {}", human_bytes(p.resumed_from)) } else { String::new() };
            ui.add(egui::ProgressBar::new(fraction).text(format!("{}: {} / {} · {rate}{resumed}", p.file, human_bytes(p.bytes), human_bytes(p.total))));
        }
        match &d.outcome {
            Some(Ok(snapshot)) => {
                ui.label("✔ in the HF cache");
                ui.add(egui::Label::new(egui::RichText::new(snapshot).weak().small()).truncate()).on_hover_text(snapshot);
                if d.repo.contains('/') && ui.button(format!("Load {}", d.repo)).clicked() {
                    ctx.commands.push(AppCommand::LoadModel(d.repo.clone()));
                }
            }
            Some(Err(error)) => {
                ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {error}"));
            }
            None => {}
        }
    }

    fn cache_ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>) {
        ui.horizontal(|ui| {
            ui.strong("On this machine");
            ui.weak(ctx.hub.cache_dir.display().to_string());
            if ui.small_button("⟳").on_hover_text("scan the cache again").clicked() {
                ctx.cache.invalidate();
            }
        });
        match ctx.cache.repos(ctx.backend, ctx.hub) {
            None => {
                ui.spinner();
            }
            Some([]) => {
                ui.weak("Nothing cached yet.");
            }
            Some(repos) => {
                egui::Grid::new("cached").striped(true).num_columns(4).spacing([10.0, 3.0]).show(ui, |ui| {
                    for repo in repos {
                        ui.label(&repo.id);
                        ui.label(match repo.kind {
                            RepoKind::Model => "model",
                            RepoKind::Dataset => "dataset",
                        });
                        ui.label(human_bytes(repo.size));
                        let revisions: Vec<String> = repo.refs.iter().map(|(name, c)| format!("{name} {}", c.get(..7).unwrap_or(c))).collect();
                        ui.horizontal(|ui| {
                            ui.weak(revisions.join(", "));
                            if repo.kind == RepoKind::Model && ui.small_button("Load").clicked() {
                                ctx.commands.push(AppCommand::LoadModel(repo.id.clone()));
                            }
                        });
                        ui.end_row();
                    }
                });
            }
        }
    }
}

/// A Hub dataset's configs and splits; each config loads (downloading what is missing) on a click.
fn dataset_configs_ui(ui: &mut egui::Ui, ctx: &mut PageContext<'_>, repo: &str, data: &Result<crate::core::data::HubDataListing, String>) {
    let listing = match data {
        Ok(listing) => listing,
        Err(error) => {
            ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {error}"));
            return;
        }
    };
    ui.weak(format!("data from revision {}", listing.revision));
    for config in &listing.configs {
        ui.horizontal_wrapped(|ui| {
            ui.strong(&config.name);
            for split in &config.splits {
                let partial = if split.partial { " (partial)" } else { "" };
                ui.label(format!("{}{partial}: {} files, {}", split.name, split.files.len(), human_bytes(split.bytes())));
            }
            if ui.button(format!("Load {}", config.name)).clicked() {
                ctx.commands.push(AppCommand::LoadDataset(format!("{repo}:{}", config.name)));
            }
        });
    }
}

/// 1536 → "1.5 KB".
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 { format!("{n} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_wanted_files() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(90_868_376), "90.9 MB");
        assert!(wanted(RepoKind::Model, "model.safetensors"));
        assert!(!wanted(RepoKind::Model, "onnx/model.onnx"));
        assert!(!wanted(RepoKind::Model, "pytorch_model.bin"));
        assert!(wanted(RepoKind::Dataset, "data/train-00000-of-00001.parquet"));
    }
}
