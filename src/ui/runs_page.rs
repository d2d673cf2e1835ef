//! Runs: every training run is a folder (its config, its metrics as JSON Lines, its checkpoints). List
//! them, overlay the curves of two or more (e.g. classifier-only vs full fine-tune) with a table of the
//! settings that differ, and open one to see its final scores.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::core::train::{best_checkpoint_step, default_runs_dir, diff_configs, list_runs, load_run, RunRecord, RunSummary};

use super::app::PageContext;
use super::train_plots::{loss_plot_ui, metrics_plot_ui, settings_ui, ChartSettings, Series};

const COLORS: [egui::Color32; 6] = [
    egui::Color32::from_rgb(90, 150, 250),
    egui::Color32::from_rgb(250, 150, 60),
    egui::Color32::from_rgb(90, 200, 120),
    egui::Color32::from_rgb(230, 90, 110),
    egui::Color32::from_rgb(170, 120, 230),
    egui::Color32::from_rgb(80, 200, 210),
];

type Slot<T> = Arc<Mutex<Option<T>>>;

#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct RunsPage {
    pub runs_dir: PathBuf,
    pub charts: ChartSettings,
    #[serde(skip)]
    listing: Option<Slot<Vec<RunSummary>>>,
    #[serde(skip)]
    selected: BTreeMap<PathBuf, Slot<Result<RunRecord, String>>>,
}

impl Default for RunsPage {
    fn default() -> Self {
        Self { runs_dir: default_runs_dir(), charts: ChartSettings::default(), listing: None, selected: BTreeMap::new() }
    }
}

/// Runs `work` on a named thread; its result lands in the returned slot, then the UI is woken.
fn in_background<T: Send + 'static>(ctx: &PageContext<'_>, name: &str, work: impl FnOnce() -> T + Send + 'static) -> Slot<T> {
    let slot: Slot<T> = Arc::default();
    let (out, waker) = (slot.clone(), Arc::clone(ctx.waker));
    let _ = std::thread::Builder::new().name(name.into()).spawn(move || {
        *out.lock().unwrap_or_else(|e| e.into_inner()) = Some(work());
        waker();
    });
    slot
}

fn take<T: Clone>(slot: &Slot<T>) -> Option<T> {
    slot.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

impl RunsPage {
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>) {
        ui.horizontal(|ui| {
            ui.heading("Runs");
            ui.weak(self.runs_dir.display().to_string());
            if ui.button("⟳ Refresh").clicked() {
                self.listing = None;
            }
        });
        let dir = self.runs_dir.clone();
        let listing = self.listing.get_or_insert_with(|| in_background(ctx, "lmw-list-runs", move || list_runs(&dir)));
        let Some(runs) = take(listing) else {
            ui.spinner();
            return;
        };
        if runs.is_empty() {
            ui.label("No runs yet: start one on the Train page.");
            return;
        }
        egui::ScrollArea::vertical().id_salt("runs_list").max_height(180.0).show(ui, |ui| {
            for run in &runs {
                let mut on = self.selected.contains_key(&run.dir);
                let best = run.best.map_or(String::new(), |b| format!(" · best {b:.3}"));
                let label = format!("{} · {} · {} steps · {}{best}", run.name, run.config.model, run.last_step, run.status);
                if ui.checkbox(&mut on, label).changed() {
                    if on {
                        let dir = run.dir.clone();
                        let slot = in_background(ctx, "lmw-load-run", move || load_run(&dir).map_err(|e| e.to_string()));
                        self.selected.insert(run.dir.clone(), slot);
                    } else {
                        self.selected.remove(&run.dir);
                    }
                }
            }
        });
        let records: Vec<(PathBuf, Result<RunRecord, String>)> =
            self.selected.iter().filter_map(|(dir, slot)| take(slot).map(|r| (dir.clone(), r))).collect();
        if records.is_empty() {
            ui.weak("Tick one or more runs to see and compare their curves.");
            return;
        }
        for (dir, record) in &records {
            if let Err(error) = record {
                ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {}: {error}", dir.display()));
            }
        }
        let loaded: Vec<(&PathBuf, &RunRecord)> = records.iter().filter_map(|(d, r)| r.as_ref().ok().map(|r| (d, r))).collect();
        settings_ui(ui, &mut self.charts);
        let series: Vec<Series<'_>> = loaded
            .iter()
            .enumerate()
            .map(|(i, (dir, r))| Series {
                name: dir.file_name().map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into_owned()),
                color: COLORS[i % COLORS.len()],
                steps: &r.steps,
                evals: &r.evals,
                best_step: best_checkpoint_step(&r.checkpoints),
            })
            .collect();
        // Half the page for the charts, leaving room for the settings and scores tables below.
        let height = (ui.available_height() * 0.5).clamp(240.0, 480.0);
        ui.columns(2, |cols| {
            cols[0].strong("Training loss");
            loss_plot_ui(&mut cols[0], "runs_loss", &self.charts, &series, height);
            cols[1].strong("Validation accuracy / macro-F1");
            metrics_plot_ui(&mut cols[1], "runs_metrics", &self.charts, &series, height);
        });
        if loaded.len() >= 2 {
            ui.strong("Settings that differ");
            let configs: Vec<_> = loaded.iter().map(|(_, r)| &r.config).collect();
            egui::Grid::new("runs_diff").striped(true).spacing([12.0, 3.0]).show(ui, |ui| {
                ui.strong("setting");
                for s in &series {
                    ui.colored_label(s.color, &s.name);
                }
                ui.end_row();
                for diff in diff_configs(&configs) {
                    ui.label(diff.key);
                    for v in diff.values {
                        ui.monospace(v);
                    }
                    ui.end_row();
                }
            });
        }
        ui.strong("Final scores");
        egui::Grid::new("runs_scores").striped(true).spacing([12.0, 3.0]).show(ui, |ui| {
            for title in ["run", "steps", "validation acc", "validation F1", "test acc", "test F1"] {
                ui.strong(title);
            }
            ui.end_row();
            for (s, (_, r)) in series.iter().zip(&loaded) {
                let last_val = r.evals.iter().rev().find(|e| e.split == "validation");
                let test = r.evals.iter().rev().find(|e| e.split == "test");
                let f = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.3}"));
                ui.colored_label(s.color, &s.name);
                ui.label(r.steps.last().map_or(0, |m| m.step).to_string());
                ui.label(f(last_val.map(|e| e.accuracy)));
                ui.label(f(last_val.map(|e| e.macro_f1)));
                ui.label(f(test.map(|e| e.accuracy)));
                ui.label(f(test.map(|e| e.macro_f1)));
                ui.end_row();
            }
        });
    }
}
