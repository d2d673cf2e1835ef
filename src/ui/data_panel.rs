//! Data: open a dataset (file, folder, Hub id or the built-in demo headlines), map its columns, choose
//! the held-out split, and see it before training: a virtualised preview table, the label distribution
//! and the token-length histogram under the current tokenizer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use egui_plot::{Bar, BarChart, Plot};
use serde::{Deserialize, Serialize};

use crate::core::backend::{Backend, Command, Event, JobId};
use super::file_dialogs::FileDialog;
use crate::core::data::{ColumnPick, Dataset, DatasetOptions, SplitName, TokenLengthStats};
use crate::core::demo::DEMO_DATA_SPEC;
use crate::core::hub::HubSettings;
use crate::core::model_source::ModelInfo;

use super::app::PageContext;
use super::status_bar::thousands;

#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct DataPanel {
    pub spec: String,
    /// The spec of the last dataset that loaded (opened again at start, whatever was typed since).
    pub loaded_spec: String,
    pub options: DatasetOptions,
    pub max_length: usize,
    #[serde(skip, default = "train")]
    pub split: SplitName,
    #[serde(skip)]
    state: Transient,
}

impl Default for DataPanel {
    fn default() -> Self {
        // 15 % held out, as the Train page's demo kit does: one dataset, one validation split.
        let options = DatasetOptions { validation_fraction: crate::core::train::demo_kit_config().validation_fraction, ..DatasetOptions::default() };
        Self { spec: DEMO_DATA_SPEC.into(), loaded_spec: String::new(), options, max_length: 128, split: SplitName::Train, state: Transient::default() }
    }
}

#[derive(Default)]
struct Transient {
    started: bool,
    /// A load asked for from elsewhere (the Hub panel), started at the next frame.
    requested: bool,
    dataset: Option<Arc<Dataset>>,
    load_job: Option<(JobId, Arc<AtomicBool>)>,
    /// The spec the running load is for.
    loading_spec: String,
    error: Option<String>,
    stats_job: Option<JobId>,
    /// Stats, with what they were computed for (dataset, model, max_length).
    stats: Option<StatsFor>,
}

/// Token-length stats per split, keyed by what they were computed for: (dataset, model, max_length).
type StatsFor = (usize, usize, usize, Vec<(SplitName, TokenLengthStats)>);

fn train() -> SplitName {
    SplitName::Train
}

fn key<T>(arc: &Arc<T>) -> usize {
    Arc::as_ptr(arc) as *const () as usize
}

impl DataPanel {
    /// Opens `spec` at the next frame.
    pub fn request_load(&mut self, spec: String) {
        self.spec = spec;
        self.state.requested = true;
    }

    pub fn dataset(&self) -> Option<&Arc<Dataset>> {
        self.state.dataset.as_ref()
    }

    /// Takes the events of this panel's jobs; returns the others.
    pub fn on_event(&mut self, event: Event) -> Option<Event> {
        let s = &mut self.state;
        let id = event.job();
        let loading = s.load_job.as_ref().is_some_and(|(job, _)| *job == id);
        match event {
            Event::DatasetLoaded { dataset, .. } if loading => {
                s.dataset = Some(dataset);
                self.loaded_spec = std::mem::take(&mut s.loading_spec);
                s.load_job = None;
                s.error = None;
                s.stats = None;
            }
            Event::JobFailed { error, .. } if loading => {
                // The previous dataset stays loaded and usable.
                s.error = Some(error);
                s.load_job = None;
            }
            Event::JobCancelled { .. } if loading => s.load_job = None,
            Event::TokenStats { stats, .. } if s.stats_job == Some(id) => {
                if let Some(entry) = &mut s.stats {
                    entry.3 = stats;
                }
                s.stats_job = None;
            }
            Event::JobFailed { error, .. } if s.stats_job == Some(id) => {
                s.error = Some(error);
                s.stats_job = None;
            }
            other => return Some(other),
        }
        None
    }

    fn load(&mut self, ctx: &mut PageContext<'_>) {
        self.start_load(ctx.backend, ctx.hub);
    }

    fn start_load(&mut self, backend: &mut Backend, hub: &HubSettings) {
        if let Some((_, cancel)) = &self.state.load_job {
            cancel.store(true, Ordering::Relaxed);
        }
        let cancel = Arc::new(AtomicBool::new(false));
        let command = Command::LoadDataset { spec: self.spec.clone(), options: self.options.clone(), hub: hub.clone(), cancel: cancel.clone() };
        self.state.error = None;
        self.state.loading_spec.clone_from(&self.spec);
        self.state.load_job = Some((backend.send(command), cancel));
    }

    /// Starts the first load (the remembered or built-in dataset) and any load asked for from another
    /// page, whichever page is showing: every page can use the dataset.
    pub fn logic(&mut self, backend: &mut Backend, hub: &HubSettings) {
        if !self.state.started && !self.loaded_spec.trim().is_empty() {
            // At start: the last dataset that loaded, not a spec typed (and failed) after it.
            self.spec.clone_from(&self.loaded_spec);
        }
        if !self.state.started || self.state.requested {
            self.state.started = true;
            self.state.requested = false;
            self.start_load(backend, hub);
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>) {
        self.logic(ctx.backend, ctx.hub);
        self.open_row_ui(ui, ctx);
        if let Some(error) = &self.state.error {
            ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {error}"));
        }
        let Some(dataset) = self.state.dataset.clone() else {
            if self.state.load_job.is_none() {
                ui.weak("No dataset loaded.");
            }
            return;
        };
        summary_ui(ui, &dataset);
        for warning in &dataset.warnings {
            ui.colored_label(ui.visuals().warn_fg_color, format!("⚠ {warning}"));
        }
        self.mapping_ui(ui, ctx, &dataset);
        ui.horizontal(|ui| {
            ui.label("Split:");
            for split in &dataset.splits {
                ui.selectable_value(&mut self.split, split.name, format!("{} ({})", split.name.as_str(), thousands(split.len())));
            }
        });
        if dataset.split(self.split).is_none() {
            self.split = SplitName::Train;
        }
        ui.columns(2, |cols| {
            preview_ui(&mut cols[0], &dataset, self.split);
            label_chart_ui(&mut cols[1], &dataset, self.split);
            self.token_lengths_ui(&mut cols[1], ctx, &dataset);
        });
    }

    fn open_row_ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>) {
        ui.horizontal(|ui| {
            let label = ui.label("Dataset:");
            let edit = ui
                .add(egui::TextEdit::singleline(&mut self.spec).hint_text("file, folder or owner/name").desired_width(380.0))
                .labelled_by(label.id);
            let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui.button("Load data").clicked() || enter {
                self.load(ctx);
            }
            if ui.add_enabled(!ctx.dialogs.is_open("data-file"), egui::Button::new("Open file…")).clicked() {
                let extensions = ["csv", "tsv", "jsonl", "parquet", "txt"].map(String::from).to_vec();
                let dialog = FileDialog::PickFile { title: "Choose a data file".into(), filter: Some(("data".into(), extensions)) };
                ctx.dialogs.open(ctx.backend, "data-file", dialog);
            }
            if ui.add_enabled(!ctx.dialogs.is_open("data-folder"), egui::Button::new("Open folder…")).clicked() {
                ctx.dialogs.open(ctx.backend, "data-folder", FileDialog::PickFolder { title: "Choose a dataset folder".into() });
            }
            if let Some(picked) = ctx.dialogs.take("data-file").or_else(|| ctx.dialogs.take("data-folder")) {
                self.spec = picked.display().to_string();
                self.load(ctx);
            }
            if ui.button("Demo headlines").clicked() {
                self.spec = DEMO_DATA_SPEC.into();
                self.options = DataPanel::default().options;
                self.load(ctx);
            }
            if let Some((_, cancel)) = &self.state.load_job {
                ui.spinner();
                if ui.button("Cancel").clicked() {
                    cancel.store(true, Ordering::Relaxed);
                }
            }
        });
    }

    fn mapping_ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>, dataset: &Dataset) {
        let mut reload = false;
        ui.horizontal_wrapped(|ui| {
            ui.label("Columns:");
            let current_text = self.options.columns.text.clone().unwrap_or_else(|| dataset.mapping.text.clone());
            egui::ComboBox::from_label("text column").selected_text(&current_text).show_ui(ui, |ui| {
                for column in &dataset.columns {
                    if ui.selectable_label(*column == current_text, column).clicked() {
                        self.options.columns.text = Some(column.clone());
                        reload = true;
                    }
                }
            });
            for (name, pick, mapped) in [
                ("pair column", &mut self.options.columns.pair, dataset.mapping.pair.clone()),
                ("label column", &mut self.options.columns.label, dataset.mapping.label.clone()),
            ] {
                let shown = match (&*pick, &mapped) {
                    (ColumnPick::Off, _) | (_, None) => "none".to_string(),
                    (_, Some(m)) => m.clone(),
                };
                egui::ComboBox::from_label(name).selected_text(shown).show_ui(ui, |ui| {
                    if ui.selectable_label(*pick == ColumnPick::Off, "none").clicked() {
                        *pick = ColumnPick::Off;
                        reload = true;
                    }
                    if ui.selectable_label(*pick == ColumnPick::Auto, "detect").clicked() {
                        *pick = ColumnPick::Auto;
                        reload = true;
                    }
                    for column in &dataset.columns {
                        if ui.selectable_label(mapped.as_deref() == Some(column), column).clicked() {
                            *pick = ColumnPick::Named(column.clone());
                            reload = true;
                        }
                    }
                });
            }
            let own_validation = dataset.split(SplitName::Validation).is_some_and(|s| matches!(s.origin, crate::core::data::SplitOrigin::Files));
            if !own_validation {
                ui.separator();
                let mut percent = (self.options.validation_fraction * 100.0).round() as u32;
                let slider = ui.add(egui::Slider::new(&mut percent, 0..=50).suffix(" %").text("held out for validation"));
                self.options.validation_fraction = f64::from(percent) / 100.0;
                reload |= slider.drag_stopped() || (slider.changed() && !slider.dragged());
                ui.add(egui::DragValue::new(&mut self.options.seed).prefix("seed "));
            }
        });
        if reload {
            self.load(ctx);
        }
    }

    fn token_lengths_ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>, dataset: &Arc<Dataset>) {
        let Some(model) = ctx.model else { return };
        ui.horizontal(|ui| {
            ui.strong("Token lengths");
            ui.add(egui::DragValue::new(&mut self.max_length).range(8..=4096).prefix("max_length "));
        });
        let wanted = (key(dataset), key(model), self.max_length);
        let fresh = self.state.stats.as_ref().is_some_and(|(d, m, l, _)| (*d, *m, *l) == wanted);
        if !fresh && self.state.stats_job.is_none() {
            let command = Command::TokenStats { dataset: dataset.clone(), model: Arc::clone(model), max_length: self.max_length };
            self.state.stats_job = Some(ctx.backend.send(command));
            self.state.stats = Some((wanted.0, wanted.1, wanted.2, Vec::new()));
        }
        let stats = self.state.stats.as_ref().and_then(|(_, _, _, all)| all.iter().find(|(n, _)| *n == self.split)).map(|(_, s)| s);
        match stats {
            Some(s) => histogram_ui(ui, s, &model_name(model)),
            None => {
                ui.spinner();
            }
        }
    }
}

fn model_name(model: &ModelInfo) -> String {
    model.name.clone()
}

fn summary_ui(ui: &mut egui::Ui, dataset: &Dataset) {
    let splits: Vec<String> = dataset.splits.iter().map(|s| format!("{} {}", s.name.as_str(), thousands(s.len()))).collect();
    let labels = if dataset.label_names.is_empty() { "no labels".to_string() } else { format!("{} labels", dataset.num_labels()) };
    ui.label(format!("{} · {} · {}", dataset.name, splits.join(" / "), labels));
}

/// A virtualised table: only the visible rows are laid out, so 100k+ rows scroll smoothly.
fn preview_ui(ui: &mut egui::Ui, dataset: &Dataset, split: SplitName) {
    let Some(rows) = dataset.split(split).map(|s| s.len()) else { return };
    let row_height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
    let label_width = 110.0;
    ui.horizontal(|ui| {
        ui.add_sized([50.0, row_height], egui::Label::new(egui::RichText::new("#").strong()));
        ui.add_sized([label_width, row_height], egui::Label::new(egui::RichText::new(dataset.mapping.label.as_deref().unwrap_or("—")).strong()));
        ui.strong(&dataset.mapping.text);
    });
    // Inside the page's own scroll area an inner one is only 64 points tall unless told otherwise
    // (meetup finding 11: "the preview table shows about 3 rows").
    egui::ScrollArea::vertical()
        .id_salt("data_preview")
        .max_height(300.0)
        .min_scrolled_height(300.0)
        .auto_shrink([false, false])
        .show_rows(ui, row_height, rows, |ui, range| {
        for row in dataset.preview(split, range.start, range.len()) {
            ui.horizontal(|ui| {
                ui.add_sized([50.0, row_height], egui::Label::new(egui::RichText::new(row.index.to_string()).weak()));
                ui.add_sized([label_width, row_height], egui::Label::new(row.label.unwrap_or("—")).truncate());
                let mut text = row.text.replace('\n', " ⏎ ");
                if let Some(pair) = row.pair {
                    text = format!("{text}  ‖  {pair}");
                }
                // One tooltip: ours (up to 600 characters), not also the label's own for elided text.
                ui.add(egui::Label::new(text).truncate().show_tooltip_when_elided(false))
                    .on_hover_text(row.text.chars().take(600).collect::<String>());
            });
        }
    });
}

fn label_chart_ui(ui: &mut egui::Ui, dataset: &Dataset, split: SplitName) {
    if dataset.label_names.is_empty() {
        return;
    }
    ui.strong(format!("Labels in {}", split.as_str()));
    let counts = dataset.label_counts(split);
    let bars: Vec<Bar> = counts.iter().enumerate().map(|(i, &c)| Bar::new(i as f64, c as f64).name(&dataset.label_names[i]).width(0.7)).collect();
    bar_chart_ui(ui, "label_chart", bars, dataset.label_names.clone());
}

/// A fixed bar chart with one named bar per integer x.
fn bar_chart_ui(ui: &mut egui::Ui, id: &str, bars: Vec<Bar>, names: Vec<String>) {
    Plot::new(id)
        .height(150.0)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .x_axis_formatter(move |mark, _| {
            let i = mark.value.round();
            if (mark.value - i).abs() < 1e-6 && i >= 0.0 { names.get(i as usize).cloned().unwrap_or_default() } else { String::new() }
        })
        .show(ui, |plot| plot.bar_chart(BarChart::new("rows", bars)));
}

fn histogram_ui(ui: &mut egui::Ui, stats: &TokenLengthStats, model: &str) {
    ui.label(format!(
        "{model}: mean {:.1}, median {:.0}, p95 {}, max {} · {:.1}% of rows longer than {} tokens ({} rows truncated)",
        stats.mean,
        stats.median,
        stats.p95,
        stats.max,
        stats.over_max_share * 100.0,
        stats.max_length,
        thousands(stats.over_max_length)
    ));
    let bars: Vec<Bar> = stats
        .histogram
        .iter()
        .enumerate()
        .map(|(i, bin)| {
            let name = match bin.end {
                Some(end) => format!("{}–{}", bin.start, end),
                None => format!("{}+", bin.start),
            };
            Bar::new(i as f64, bin.count as f64).name(name).width(0.8)
        })
        .collect();
    let names: Vec<String> = stats.histogram.iter().map(|b| format!("≥{}", b.start)).collect();
    bar_chart_ui(ui, "token_histogram", bars, names);
}
