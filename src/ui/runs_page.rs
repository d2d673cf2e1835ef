//! Runs: every training run is a folder (its config, its metrics as JSON Lines, its checkpoints). List
//! them, overlay the curves of two or more (e.g. classifier-only vs full fine-tune) with a table of the
//! settings that differ, and open one to see its final scores.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::core::backend::{Command, Event, JobId};
use crate::core::train::replay::SPEEDS;
use crate::core::train::{best_checkpoint_step, default_runs_dir, diff_configs, RunRecord, RunSummary, TrainTask};

use super::app::{AppCommand, PageContext};
use super::file_dialogs::FileDialog;
use super::train_plots::{loss_plot_ui, metrics_plot_ui, metrics_title, settings_ui, ChartSettings, Series, SERIES_COLORS as COLORS};


#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct RunsPage {
    pub runs_dir: PathBuf,
    pub charts: ChartSettings,
    /// Replay speed (× the recorded pace).
    pub replay_speed: f64,
    #[serde(skip)]
    state: Transient,
}

impl Default for RunsPage {
    fn default() -> Self {
        Self { runs_dir: default_runs_dir(), charts: ChartSettings::default(), replay_speed: 10.0, state: Transient::default() }
    }
}

/// A job's result, or the job still running.
enum Pending<T> {
    Running(JobId),
    Done(T),
}

#[derive(Default)]
struct Transient {
    listing: Option<Pending<Vec<RunSummary>>>,
    selected: BTreeMap<PathBuf, Pending<Result<RunRecord, String>>>,
    /// The run whose export dialog is open.
    exporting: Option<PathBuf>,
    transfer: Option<JobId>,
    /// The outcome of the last export or import.
    message: Option<Result<String, String>>,
}

impl RunsPage {
    /// Takes the events of this page's jobs; returns the others.
    pub fn on_event(&mut self, event: Event) -> Option<Event> {
        let s = &mut self.state;
        let id = event.job();
        let is = |p: &Option<Pending<Vec<RunSummary>>>| matches!(p, Some(Pending::Running(job)) if *job == id);
        match event {
            Event::RunsListed { runs, .. } if is(&s.listing) => s.listing = Some(Pending::Done(runs)),
            Event::RunLoaded { dir, record, .. } if matches!(s.selected.get(&dir), Some(Pending::Running(job)) if *job == id) => {
                s.selected.insert(dir, Pending::Done(Ok(*record)));
            }
            Event::JobFailed { error, .. } if s.selected.values().any(|p| matches!(p, Pending::Running(job) if *job == id)) => {
                if let Some(slot) = s.selected.values_mut().find(|p| matches!(p, Pending::Running(job) if *job == id)) {
                    *slot = Pending::Done(Err(error));
                }
            }
            Event::RunExported { path, .. } if s.transfer == Some(id) => {
                s.transfer = None;
                s.message = Some(Ok(format!("exported to {}", path.display())));
            }
            Event::RunImported { dir, .. } if s.transfer == Some(id) => {
                s.transfer = None;
                s.message = Some(Ok(format!("imported as {}", dir.display())));
                s.listing = None;
            }
            Event::JobFailed { error, .. } if s.transfer == Some(id) || is(&s.listing) => {
                if is(&s.listing) {
                    s.listing = Some(Pending::Done(Vec::new()));
                }
                s.transfer = None;
                s.message = Some(Err(error));
            }
            other => return Some(other),
        }
        None
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>) {
        let chosen = match (ctx.dialogs.take("import-run"), ctx.dialogs.take("export-run")) {
            (Some(path), _) => Some(Command::ImportRun { path, runs_dir: self.runs_dir.clone() }),
            (None, Some(path)) => self.state.exporting.take().map(|dir| Command::ExportRun { dir, path }),
            (None, None) => None,
        };
        if let Some(command) = chosen {
            self.state.message = None;
            self.state.transfer = Some(ctx.backend.send(command));
        }
        ui.horizontal(|ui| {
            ui.heading("Runs");
            ui.weak(self.runs_dir.display().to_string());
            if ui.button("⟳ Refresh").clicked() {
                self.state.listing = None;
            }
            if ui.button("Import a run file…").on_hover_text("a run exported by another copy of the app (config and metrics, no weights)").clicked() {
                let dialog = FileDialog::PickFile { title: "Import a run".into(), filter: Some(("run file".into(), vec!["json".into()])) };
                ctx.dialogs.open(ctx.backend, "import-run", dialog);
            }
            ui.separator();
            ui.label("replay at");
            for speed in SPEEDS {
                ui.selectable_value(&mut self.replay_speed, speed, format!("{speed}×"));
            }
        });
        match &self.state.message {
            Some(Ok(m)) => {
                ui.label(format!("✔ {m}"));
            }
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {e}"));
            }
            None => {}
        }
        if self.state.listing.is_none() {
            self.state.listing = Some(Pending::Running(ctx.backend.send(Command::ListRuns { dir: self.runs_dir.clone() })));
        }
        let Some(Pending::Done(runs)) = &self.state.listing else {
            ui.spinner();
            return;
        };
        if runs.is_empty() {
            ui.label("No runs yet: start one on the Train page (or import a run file).");
            return;
        }
        let runs = runs.clone();
        egui::ScrollArea::vertical().id_salt("runs_list").max_height(180.0).show(ui, |ui| {
            for run in &runs {
                ui.horizontal(|ui| {
                    let mut on = self.state.selected.contains_key(&run.dir);
                    let metric = crate::core::train::trainer::best_metric_of(&run.config);
                    let best = run.best.map_or(String::new(), |b| format!(" · best {}", metric.describe(run.config.task, b)));
                    let label = format!("{} · {} · {} steps · {}{best}", run.name, run.config.model, run.last_step, run.status);
                    if ui.checkbox(&mut on, label).changed() {
                        if on {
                            let job = ctx.backend.send(Command::LoadRun { dir: run.dir.clone() });
                            self.state.selected.insert(run.dir.clone(), Pending::Running(job));
                        } else {
                            self.state.selected.remove(&run.dir);
                        }
                    }
                    if run.last_step > 0 {
                        let replay = ui.small_button("▶ Replay").on_hover_text(format!(
                            "play this run back on the Train page at {}× its pace, as if it were training now",
                            self.replay_speed
                        ));
                        if replay.clicked() {
                            ctx.commands.push(AppCommand::Replay { dir: run.dir.clone(), speed: self.replay_speed });
                        }
                        if ui.small_button("Export…").on_hover_text("one small file (settings and metrics, no weights) another copy of the app imports").clicked() {
                            let dialog = FileDialog::SaveFile { title: "Export the run".into(), file_name: format!("{}.lmwrun.json", run.name) };
                            if !ctx.dialogs.is_open("export-run") {
                                self.state.exporting = Some(run.dir.clone());
                                ctx.dialogs.open(ctx.backend, "export-run", dialog);
                            }
                        }
                    }
                });
            }
        });
        let records: Vec<(PathBuf, Result<RunRecord, String>)> = self
            .state
            .selected
            .iter()
            .filter_map(|(dir, p)| match p {
                Pending::Done(r) => Some((dir.clone(), r.clone())),
                Pending::Running(_) => None,
            })
            .collect();
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
                baseline: r.unigram_loss,
                task: r.config.task,
            })
            .collect();
        // Half the page for the charts, leaving room for the settings and scores tables below.
        let height = (ui.available_height() * 0.5).clamp(240.0, 480.0);
        ui.columns(2, |cols| {
            cols[0].strong("Training loss");
            loss_plot_ui(&mut cols[0], "runs_loss", &self.charts, &series, height);
            cols[1].strong(metrics_title(&series));
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
        // A masked LM is scored by perplexity and masked-token accuracy; it has no classes, so no F1.
        let any_mlm = series.iter().any(|s| s.task == TrainTask::MaskedLm);
        egui::Grid::new("runs_scores").striped(true).spacing([12.0, 3.0]).show(ui, |ui| {
            let mut titles = vec!["run", "steps", "validation acc", "validation F1"];
            if any_mlm {
                titles.extend(["validation perplexity", "unigram baseline"]);
            }
            titles.extend(["test acc", "test F1"]);
            for title in titles {
                ui.strong(title);
            }
            ui.end_row();
            for (s, (_, r)) in series.iter().zip(&loaded) {
                let last_val = r.evals.iter().rev().find(|e| e.split == "validation");
                let test = r.evals.iter().rev().find(|e| e.split == "test");
                let f = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.3}"));
                let classifier = s.task == TrainTask::Classify;
                ui.colored_label(s.color, &s.name);
                ui.label(r.steps.last().map_or(0, |m| m.step).to_string());
                ui.label(f(last_val.map(|e| e.accuracy)));
                ui.label(f(last_val.filter(|_| classifier).map(|e| e.macro_f1)));
                if any_mlm {
                    let ppl = |v: Option<f64>| v.filter(|_| !classifier).map_or("—".to_string(), |v| format!("{:.1}", v.exp()));
                    ui.label(ppl(last_val.map(|e| e.loss)));
                    ui.label(ppl(r.unigram_loss));
                }
                ui.label(f(test.map(|e| e.accuracy)));
                ui.label(f(test.filter(|_| classifier).map(|e| e.macro_f1)));
                ui.end_row();
            }
        });
    }
}
