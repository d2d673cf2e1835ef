//! Fill-Mask → "Watch it learn": pinned probe sentences, re-scored at every checkpoint of the masked-LM
//! run on the Train page (or of a finished run's folder), one row per checkpoint; a scrubber (and Play)
//! steps through the checkpoints and shows each probe's guesses at the chosen one.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::core::backend::{Backend, Command, Event, JobId};
use crate::core::hub::HubSettings;
use crate::core::model::infer::MaskPrediction;

use super::heatmap::value_bar_ui;

/// How long Play shows each checkpoint.
const FRAME_SECONDS: f64 = 0.8;
/// Guesses shown per mask at each checkpoint.
const TOP_K: usize = 3;
/// Guesses scored per mask at each checkpoint: a token followed on the chart is known wherever it is
/// among these.
const SCORED_K: usize = 10;

#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProbeTimeline {
    /// Probe sentences pinned to watch a masked-LM run learn: each new checkpoint re-scores them.
    pub probes: Vec<String>,
    #[serde(skip)]
    state: Transient,
}

#[derive(Default)]
struct Transient {
    /// The run the timeline follows, and its rows (one per checkpoint, oldest first).
    run: Option<PathBuf>,
    rows: Vec<ProbeRow>,
    /// The scoring job and the checkpoint folder it scores.
    job: Option<(JobId, PathBuf)>,
    /// The job listing a finished run's checkpoints.
    list_job: Option<JobId>,
    /// The shown checkpoint to open beside the model once its folder is read to hold that step (`last`
    /// and `best` are rewritten at each save): the job reading its step, then the folder confirmed, for
    /// `ui` to hand to the page.
    open_job: Option<(JobId, PathBuf, u64)>,
    open_ready: Option<PathBuf>,
    /// Why the shown checkpoint could not be opened beside the model.
    open_message: Option<String>,
    /// Checkpoint folders waiting to be scored, oldest first.
    queue: Vec<PathBuf>,
    /// The Train page's latest masked-LM checkpoint as last seen: (step, folder).
    followed: Option<(u64, PathBuf)>,
    /// A finished run to score, as typed.
    run_field: String,
    run_message: Option<Result<String, String>>,
    /// The checkpoint shown (an index into `rows`); `None`: the latest, following new ones.
    cursor: Option<usize>,
    /// While playing: when the shown checkpoint was last advanced (egui's clock).
    playing_since: Option<f64>,
}

/// One probe's guesses at one checkpoint: the top guesses at each of its masks, or why it failed.
type ProbeScore = Result<Vec<Vec<MaskPrediction>>, String>;
/// A probe's row in the history: its index among the timeline's rows, the step and the guesses.
type HistoryRow<'a> = (usize, u64, &'a ProbeScore);

/// The probes' guesses at one checkpoint.
#[derive(Clone, Debug)]
struct ProbeRow {
    step: u64,
    /// The checkpoint folder scored.
    dir: PathBuf,
    /// What the row's probes were (a probe pinned later has no earlier rows).
    probes: Vec<String>,
    scores: Vec<ProbeScore>,
}

impl ProbeRow {
    fn score_of(&self, probe: &str) -> Option<&ProbeScore> {
        self.probes.iter().position(|q| q == probe).map(|i| &self.scores[i])
    }
}

/// The run a checkpoint folder belongs to (`<run>/checkpoints/<name>`).
fn run_of(dir: &Path) -> Option<PathBuf> {
    dir.parent().and_then(Path::parent).map(Path::to_path_buf)
}

impl ProbeTimeline {
    /// Takes the events of the timeline's jobs (scoring, listing a run, reading a checkpoint's step);
    /// returns the others.
    pub fn on_event(&mut self, event: Event) -> Option<Event> {
        let s = &mut self.state;
        if s.list_job == Some(event.job()) && event.is_terminal() {
            s.list_job = None;
            match event {
                Event::CheckpointsListed { run, checkpoints, .. } => {
                    s.run_message = Some(Ok(format!("{} checkpoints to score", checkpoints.len())));
                    s.run = Some(run);
                    s.rows.clear();
                    s.cursor = None;
                    s.queue = checkpoints.into_iter().map(|(_, dir)| dir).collect();
                }
                Event::JobFailed { error, .. } => s.run_message = Some(Err(error)),
                _ => {}
            }
            return None;
        }
        if s.open_job.as_ref().map(|(id, _, _)| *id) == Some(event.job()) && event.is_terminal() {
            let (_, dir, step) = s.open_job.take()?;
            match event {
                Event::CheckpointStep { step: now, .. } if now == step => s.open_ready = Some(dir),
                Event::CheckpointStep { step: now, .. } => {
                    s.open_message = Some(format!("{} now holds step {now}, not {step}", dir.display()));
                }
                Event::JobFailed { error, .. } => s.open_message = Some(error),
                _ => {}
            }
            return None;
        }
        if s.job.as_ref().map(|(id, _)| *id) != Some(event.job()) {
            return Some(event);
        }
        let Some((_, dir)) = s.job.take() else { return Some(event) };
        let row = match event {
            Event::ProbesScored { step, scores, .. } => ProbeRow { step, dir, probes: self.probes.clone(), scores },
            Event::JobFailed { error, .. } => ProbeRow { step: 0, dir, probes: self.probes.clone(), scores: vec![Err(error); self.probes.len()] },
            other => {
                s.job = Some((other.job(), dir));
                return Some(other);
            }
        };
        match s.rows.iter_mut().find(|r| r.step == row.step) {
            Some(existing) => *existing = row,
            None => {
                s.rows.push(row);
                s.rows.sort_by_key(|r| r.step);
            }
        }
        None
    }

    /// Every frame, whatever the page: follows the Train page's masked-LM run — a new run starts a new
    /// timeline; each new checkpoint is scored once (one job at a time; one saved meanwhile is next).
    pub fn logic(&mut self, backend: &mut Backend, checkpoint: Option<(u64, PathBuf)>, hub: &HubSettings) {
        let s = &mut self.state;
        if checkpoint != s.followed {
            if let Some((_, dir)) = &checkpoint {
                let run = run_of(dir);
                if run != s.run {
                    s.run = run;
                    s.rows.clear();
                    s.queue.clear();
                    s.cursor = None;
                }
                if !s.queue.contains(dir) {
                    s.queue.push(dir.clone());
                }
            }
            s.followed = checkpoint;
        }
        if s.job.is_none() && !self.probes.is_empty() && !s.queue.is_empty() {
            let dir = s.queue.remove(0);
            // The job reports the step the folder's weights are from (trainer_state.json).
            let command = Command::ScoreProbes { spec: dir.display().to_string(), step: 0, probes: self.probes.clone(), top_k: SCORED_K, hub: hub.clone() };
            s.job = Some((backend.send(command), dir));
        }
    }

    /// Scores the probes with every complete checkpoint of a finished (or stopped) run, oldest first:
    /// a job lists them (the message then says how many, or why none).
    fn score_run(&mut self, run: &Path, backend: &mut Backend) {
        self.state.list_job = Some(backend.send(Command::ListCheckpoints { run: run.to_path_buf() }));
        self.state.run_message = Some(Ok(format!("listing the checkpoints of {}", run.display())));
    }

    /// Whether one of the timeline's jobs is running (scoring, listing a run, reading a checkpoint's step).
    fn busy(&self) -> bool {
        self.state.job.is_some() || self.state.list_job.is_some() || self.state.open_job.is_some()
    }

    /// The checkpoint shown: the one chosen, else the latest.
    fn shown(&self) -> Option<usize> {
        let n = self.state.rows.len();
        (n > 0).then(|| self.state.cursor.map_or(n - 1, |c| c.min(n - 1)))
    }

    /// `text`: the page's sentence, offered for pinning. Returns a checkpoint folder to open beside the
    /// page's model, when asked (and its folder read to hold the step shown).
    pub fn ui(&mut self, ui: &mut egui::Ui, text: &str, backend: &mut Backend) -> Option<PathBuf> {
        egui::CollapsingHeader::new("Watch it learn").id_salt("probes").default_open(!self.probes.is_empty()).show(ui, |ui| {
            ui.label(
                "Pin sentences with [MASK]; while a masked LM pre-trains on the Train page, every checkpoint guesses \
                 them again, one row per checkpoint. Step through the checkpoints, or play them.",
            );
            ui.horizontal(|ui| {
                let has_mask = text.contains("[MASK]") || text.contains("<mask>");
                let pinned = self.probes.iter().any(|p| p == text);
                if ui.add_enabled(has_mask && !pinned, egui::Button::new("Pin this sentence")).clicked() {
                    self.probes.push(text.to_string());
                }
                if self.busy() {
                    ui.spinner();
                }
            });
            self.finished_run_ui(ui, backend);
            self.scrubber_ui(ui, backend);
            let shown = self.shown();
            let mut remove = None;
            for (p, probe) in self.probes.iter().enumerate() {
                ui.horizontal(|ui| {
                    if ui.small_button("✖").on_hover_text("unpin").clicked() {
                        remove = Some(p);
                    }
                    ui.strong(probe);
                });
                let rows: Vec<HistoryRow<'_>> =
                    self.state.rows.iter().enumerate().filter_map(|(i, row)| row.score_of(probe).map(|s| (i, row.step, s))).collect();
                if rows.is_empty() {
                    ui.weak("No checkpoint yet: start a masked-LM run on the Train page.");
                    continue;
                }
                ui.horizontal_top(|ui| {
                    let picked = probe_history_ui(ui, p, &rows, shown);
                    if picked.is_some() {
                        self.state.cursor = picked;
                        self.state.playing_since = None;
                    }
                    if let Some((_, step, score)) = rows.iter().find(|(i, _, _)| Some(*i) == shown) {
                        ui.add_space(24.0);
                        ui.vertical(|ui| guesses_at_ui(ui, p, *step, score));
                    }
                });
                probability_chart_ui(ui, p, &rows, shown);
            }
            if let Some(p) = remove {
                self.probes.remove(p);
            }
        });
        self.state.open_ready.take()
    }

    fn finished_run_ui(&mut self, ui: &mut egui::Ui, backend: &mut Backend) {
        ui.horizontal(|ui| {
            let label = ui.label("A finished run:");
            ui.add(egui::TextEdit::singleline(&mut self.state.run_field).hint_text("its folder (runs/…)").desired_width(300.0))
                .labelled_by(label.id);
            let ready = !self.probes.is_empty() && !self.state.run_field.trim().is_empty();
            if ui.add_enabled(ready, egui::Button::new("Score its checkpoints")).clicked() {
                let run = PathBuf::from(self.state.run_field.trim());
                self.score_run(&run, backend);
            }
        });
        match &self.state.run_message {
            Some(Ok(m)) => {
                ui.weak(m);
            }
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {e}"));
            }
            None => {}
        }
    }

    /// Earlier / Play / later and a slider over the checkpoints; Play shows each for a moment in turn;
    /// "Open step N beside the model" asks for the shown checkpoint (see `open_job`).
    fn scrubber_ui(&mut self, ui: &mut egui::Ui, backend: &mut Backend) {
        let n = self.state.rows.len();
        let Some(mut shown) = self.shown() else { return };
        let now = ui.input(|i| i.time);
        if let Some(since) = self.state.playing_since {
            if now - since >= FRAME_SECONDS {
                if shown + 1 < n {
                    shown += 1;
                    self.state.cursor = Some(shown);
                    self.state.playing_since = Some(now);
                } else {
                    self.state.playing_since = None;
                }
            }
            if self.state.playing_since.is_some() {
                ui.ctx().request_repaint_after(std::time::Duration::from_secs_f64(FRAME_SECONDS / 4.0));
            }
        }
        ui.horizontal(|ui| {
            if ui.add_enabled(shown > 0, egui::Button::new("◀ earlier")).clicked() {
                self.state.cursor = Some(shown - 1);
                self.state.playing_since = None;
            }
            let playing = self.state.playing_since.is_some();
            if playing {
                if ui.button("⏸ Pause").clicked() {
                    self.state.playing_since = None;
                }
            } else if ui.add_enabled(n > 1, egui::Button::new("▶ Play")).on_hover_text("every checkpoint in turn, from the first").clicked() {
                // From the start when at the end, else from where it is.
                if shown + 1 >= n {
                    self.state.cursor = Some(0);
                }
                self.state.playing_since = Some(now);
            }
            if ui.add_enabled(shown + 1 < n, egui::Button::new("later ▶")).clicked() {
                self.state.cursor = Some(shown + 1);
                self.state.playing_since = None;
            }
            let mut index = shown;
            let slider = egui::Slider::new(&mut index, 0..=n.saturating_sub(1)).show_value(false);
            if ui.add_enabled(n > 1, slider).on_hover_text("drag through the checkpoints").changed() {
                self.state.cursor = Some(index);
                self.state.playing_since = None;
            }
            let step = self.state.rows[self.shown().unwrap_or(0)].step;
            ui.label(format!("checkpoint {} of {n} · step {step}", self.shown().unwrap_or(0) + 1));
            if self.state.cursor.is_some() && ui.small_button("latest").on_hover_text("follow new checkpoints").clicked() {
                self.state.cursor = None;
                self.state.playing_since = None;
            }
            let row = &self.state.rows[self.shown().unwrap_or(0)];
            let hint = "the same sentence through this checkpoint, beside the model above (Side by side)";
            if ui.small_button(format!("Open step {} beside the model", row.step)).on_hover_text(hint).clicked() {
                // A folder such as `last` is rewritten at each save: open it only while it holds this step.
                let (dir, step) = (row.dir.clone(), row.step);
                self.state.open_job = Some((backend.send(Command::CheckpointStep { dir: dir.clone() }), dir, step));
                self.state.open_message = None;
            }
        });
        if let Some(message) = &self.state.open_message {
            ui.colored_label(ui.visuals().warn_fg_color, format!("⚠ {message}"));
        }
    }
}

/// One probe's rows (a step and its first mask's guesses); the shown one marked, a click picks one.
fn probe_history_ui(
    ui: &mut egui::Ui,
    p: usize,
    rows: &[HistoryRow<'_>],
    shown: Option<usize>,
) -> Option<usize> {
    let mut picked = None;
    egui::Grid::new(("probe_timeline", p)).striped(true).num_columns(2).spacing([12.0, 2.0]).show(ui, |ui| {
        for &(i, step, score) in rows {
            if ui.selectable_label(Some(i) == shown, format!("step {step}")).clicked() {
                picked = Some(i);
            }
            match score {
                Ok(masks) => {
                    let guesses: Vec<String> = masks
                        .first()
                        .map(|m| m.iter().take(TOP_K).map(|g| format!("{} {:.1}%", g.token, 100.0 * g.score)).collect())
                        .unwrap_or_default();
                    ui.monospace(guesses.join(" · "));
                }
                Err(e) => {
                    ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {e}"));
                }
            }
            ui.end_row();
        }
    });
    picked
}

/// Every mask's guesses at one checkpoint, as bars.
fn guesses_at_ui(ui: &mut egui::Ui, p: usize, step: u64, score: &ProbeScore) {
    let Ok(masks) = score else { return };
    for (m, guesses) in masks.iter().enumerate() {
        ui.weak(format!("[MASK] {} at step {step}", m + 1));
        egui::Grid::new(("probe_guesses", p, m)).num_columns(2).spacing([8.0, 2.0]).show(ui, |ui| {
            for g in guesses.iter().take(TOP_K) {
                ui.monospace(&g.token);
                value_bar_ui(ui, g.score, &format!("{:.1}%", g.score * 100.0), 140.0);
                ui.end_row();
            }
        });
    }
}

/// How the probabilities of the shown checkpoint's top guesses (first mask) moved over the checkpoints:
/// one line per token, a point where it was among the scored guesses; a line marks the shown step.
/// The guesses at a probe's first mask, when it was scored.
fn first_mask(score: &ProbeScore) -> Option<&Vec<MaskPrediction>> {
    score.as_ref().ok().and_then(|m| m.first())
}

fn probability_chart_ui(ui: &mut egui::Ui, p: usize, rows: &[HistoryRow<'_>], shown: Option<usize>) {
    if rows.len() < 2 {
        return;
    }
    let Some((_, shown_step, shown_score)) = rows.iter().find(|(i, _, _)| Some(*i) == shown) else { return };
    let Some(top) = first_mask(shown_score) else { return };
    let tokens: Vec<String> = top.iter().take(TOP_K).map(|g| g.token.clone()).collect();
    let colors = super::train_plots::SERIES_COLORS;
    let mut entries: Vec<(String, egui::Color32)> = tokens.iter().enumerate().map(|(t, token)| (token.clone(), colors[t % colors.len()])).collect();
    entries.push((format!("probability (%) at each checkpoint; no point: outside its top {SCORED_K}"), ui.visuals().weak_text_color()));
    super::train_plots::legend_row_ui(ui, &entries);
    let series: Vec<Vec<[f64; 2]>> = tokens
        .iter()
        .map(|token| {
            rows.iter()
                .filter_map(|(_, step, score)| {
                    let guesses = first_mask(score)?;
                    guesses.iter().find(|g| &g.token == token).map(|g| [*step as f64, 100.0 * f64::from(g.score)])
                })
                .collect()
        })
        .collect();
    let weak = ui.visuals().weak_text_color();
    super::train_plots::page_plot(&format!("probe_probabilities_{p}")).height(120.0).include_y(0.0).show(ui, |plot| {
        for (t, points) in series.into_iter().enumerate() {
            let color = colors[t % colors.len()];
            plot.line(egui_plot::Line::new(tokens[t].as_str(), egui_plot::PlotPoints::from(points.clone())).color(color).width(2.0));
            plot.points(egui_plot::Points::new("", egui_plot::PlotPoints::from(points)).color(color).radius(3.0));
        }
        plot.vline(egui_plot::VLine::new("", *shown_step as f64).color(weak));
    });
}
