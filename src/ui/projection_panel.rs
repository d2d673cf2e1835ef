//! Projection: the sentence vectors of the dataset loaded on Model & Data, projected to 2D by PCA,
//! one colour per label, with the typed text as a star among them. Hover shows a row's text; a click
//! opens it on the Tokenize page.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use egui::Color32;
use egui_plot::{MarkerShape, Plot, PlotPoints, Points};
use serde::{Deserialize, Serialize};

use crate::core::backend::{Command, Event, JobId};
use crate::core::data::{Dataset, SplitName};
use crate::core::demo::DEMO_DATA_SPEC;
use crate::core::embeddings::{EncoderModel, Inspection, Projection, SentenceOptions};
use crate::core::model::infer::Pooling;

use super::app::{AppCommand, PageContext};

/// Distinct label colours (Okabe–Ito, then a few more).
pub const LABEL_COLOURS: [Color32; 10] = [
    Color32::from_rgb(0, 114, 178),
    Color32::from_rgb(230, 159, 0),
    Color32::from_rgb(0, 158, 115),
    Color32::from_rgb(204, 121, 167),
    Color32::from_rgb(213, 94, 0),
    Color32::from_rgb(86, 180, 233),
    Color32::from_rgb(150, 150, 40),
    Color32::from_rgb(120, 80, 200),
    Color32::from_rgb(120, 120, 120),
    Color32::from_rgb(200, 60, 60),
];

/// Which points the panel shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PointsSource {
    /// The loaded dataset's rows, embedded by the page's model.
    #[default]
    Dataset,
    /// The Train page's classifier run: its validation rows at each evaluation, on a fixed basis.
    TrainingRun,
}

#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct ProjectionPanel {
    pub source: PointsSource,
    /// Training run: always show the latest snapshot.
    pub follow_latest: bool,
    #[serde(skip)]
    pub snapshot: usize,
    pub split: SplitName,
    /// The first N rows of the split.
    pub limit: usize,
    pub mean_pooling: bool,
    pub max_length: usize,
    pub normalize: bool,
    #[serde(skip)]
    state: Transient,
}

impl Default for ProjectionPanel {
    fn default() -> Self {
        Self { source: PointsSource::Dataset, follow_latest: true, snapshot: 0, split: SplitName::Train, limit: 2000, mean_pooling: true, max_length: 128, normalize: false, state: Transient::default() }
    }
}

/// The rows a projection is (being) made of.
struct Rows {
    texts: Arc<Vec<String>>,
    labels: Option<Vec<u32>>,
    label_names: Vec<String>,
    what: String,
    options: SentenceOptions,
}

#[derive(Default)]
struct Transient {
    job: Option<JobId>,
    cancel: Arc<AtomicBool>,
    /// The rows being projected (shown with their points when the job ends).
    pending: Option<Rows>,
    data: Option<(Arc<Projection>, Rows)>,
    error: Option<String>,
}

impl ProjectionPanel {
    pub fn sentence_options(&self) -> SentenceOptions {
        SentenceOptions {
            pooling: if self.mean_pooling { Pooling::Mean } else { Pooling::Cls },
            max_length: self.max_length,
            batch_size: 32,
            normalize: self.normalize,
        }
    }

    /// Points of another model do not belong on the new model's axes.
    pub fn model_changed(&mut self) {
        self.state.cancel.store(true, Ordering::Relaxed);
        self.state = Transient::default();
    }

    pub fn is_running(&self) -> bool {
        self.state.job.is_some()
    }

    /// The number of points shown.
    pub fn points(&self) -> usize {
        self.state.data.as_ref().map_or(0, |(p, _)| p.points.len())
    }

    pub fn on_event(&mut self, event: Event) -> Option<Event> {
        let s = &mut self.state;
        let id = event.job();
        match event {
            Event::Projected { projection, .. } if s.job == Some(id) => {
                if let Some(rows) = s.pending.take() {
                    s.data = Some((projection, rows));
                }
                s.job = None;
                s.error = None;
            }
            Event::JobFailed { error, .. } if s.job == Some(id) => {
                s.error = Some(error);
                s.job = None;
            }
            Event::JobCancelled { .. } if s.job == Some(id) => {
                s.job = None;
                s.pending = None;
            }
            other => return Some(other),
        }
        None
    }

    fn start(&mut self, ctx: &mut PageContext<'_>, encoder: &Arc<EncoderModel>, dataset: &Dataset) {
        let Some(split) = dataset.split(self.split) else { return };
        let rows = self.limit.min(split.len());
        let texts = Arc::new(split.texts[..rows].to_vec());
        let options = self.sentence_options();
        self.state.cancel = Arc::new(AtomicBool::new(false));
        self.state.pending = Some(Rows {
            texts: Arc::clone(&texts),
            labels: split.labels.as_ref().map(|l| l[..rows].to_vec()),
            label_names: dataset.label_names.clone(),
            what: format!("{} · {} · {rows} rows", dataset.name, self.split.as_str()),
            options,
        });
        self.state.job = Some(ctx.backend.send(Command::Project {
            encoder: Arc::clone(encoder),
            texts,
            options,
            cancel: Arc::clone(&self.state.cancel),
        }));
    }

    /// Draws the panel; returns the text of a row the user clicked.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &mut PageContext<'_>,
        encoder: Option<&Arc<EncoderModel>>,
        inspection: Option<&Inspection>,
    ) -> Option<String> {
        ui.horizontal(|ui| {
            ui.label("Points:");
            ui.selectable_value(&mut self.source, PointsSource::Dataset, "the loaded dataset");
            let run = ctx.training_embeddings.as_ref().map_or_else(
                || "the training run (none yet)".to_string(),
                |t| format!("the training run · {} snapshots", t.snapshots.len()),
            );
            ui.selectable_value(&mut self.source, PointsSource::TrainingRun, run);
        });
        if self.source == PointsSource::TrainingRun {
            self.training_ui(ui, ctx);
            return None;
        }
        let Some(encoder) = encoder else {
            ui.weak("Load a model above to embed the dataset's sentences.");
            return None;
        };
        let Some(dataset) = ctx.dataset.cloned() else {
            ui.label("Load a dataset on Model & Data to see its sentences as points.");
            if ui.button("Load the demo headlines").clicked() {
                ctx.commands.push(AppCommand::LoadDataset(DEMO_DATA_SPEC.into()));
            }
            return None;
        };
        ui.horizontal_wrapped(|ui| {
            ui.label(format!("Sentences of {}:", dataset.name));
            egui::ComboBox::from_label("split").selected_text(self.split.as_str()).show_ui(ui, |ui| {
                for split in &dataset.splits {
                    ui.selectable_value(&mut self.split, split.name, format!("{} ({} rows)", split.name.as_str(), split.len()));
                }
            });
            ui.add(egui::DragValue::new(&mut self.limit).range(2..=100_000).prefix("first ").suffix(" rows"));
            ui.selectable_value(&mut self.mean_pooling, true, "mean pooling");
            ui.selectable_value(&mut self.mean_pooling, false, "[CLS]");
            ui.checkbox(&mut self.normalize, "unit length");
            ui.add(egui::DragValue::new(&mut self.max_length).range(2..=512).prefix("max ").suffix(" tokens"));
            if self.state.job.is_some() {
                if ui.button("Cancel").clicked() {
                    self.state.cancel.store(true, Ordering::Relaxed);
                }
            } else if ui.button("Project").clicked() {
                self.start(ctx, encoder, &dataset);
            }
        });
        if dataset.split(self.split).is_none() {
            ui.weak(format!("{} has no {} split: pick another.", dataset.name, self.split.as_str()));
        }
        if let Some(job) = self.state.job.and_then(|id| ctx.jobs.iter().find(|j| j.id == id)) {
            ui.add(egui::ProgressBar::new(job.fraction.unwrap_or(0.0)).show_percentage().text(format!("embedding: {}", job.message)));
        }
        if let Some(error) = &self.state.error {
            ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {error}"));
        }
        let (projection, rows) = self.state.data.as_ref()?;
        let mine = inspection.filter(|_| rows.options == self.sentence_options()).map(|i| projection.place(&i.sentence));
        scatter_ui(ui, projection, rows, mine)
    }
}

impl ProjectionPanel {
    /// The classifier run of the Train page: its validation rows at one evaluation, on the basis fixed at
    /// the first one; the axes stay put while the points move.
    fn training_ui(&mut self, ui: &mut egui::Ui, ctx: &PageContext<'_>) {
        let Some(t) = ctx.training_embeddings.as_ref() else {
            ui.weak(
                "Start a classifier run on the Train page: at each evaluation its validation rows' [CLS] vectors are \
                 projected here on one fixed basis, so you watch the classes separate as the encoder learns (and \
                 stay as they were when only the classifier trains).",
            );
            return;
        };
        let last = t.snapshots.len() - 1;
        ui.horizontal(|ui| {
            ui.checkbox(&mut self.follow_latest, "follow the latest evaluation");
            if self.follow_latest {
                self.snapshot = last;
            }
            let steps = t.snapshots.iter().map(|s| s.step).collect::<Vec<_>>();
            let slider = egui::Slider::new(&mut self.snapshot, 0..=last)
                .custom_formatter(move |i, _| format!("step {}", steps.get(i as usize).copied().unwrap_or(0)))
                .text("evaluation");
            if ui.add_enabled(!self.follow_latest, slider).changed() {
                self.follow_latest = false;
            }
        });
        self.snapshot = self.snapshot.min(last);
        let s = &t.snapshots[self.snapshot];
        let accuracy = t.accuracy.iter().find(|(step, _)| *step == s.step).map(|(_, a)| format!(" · validation accuracy {a:.3}"));
        let ratio = &s.explained_variance_ratio;
        // Fixed frame: the bounds of every snapshot, so only the points move.
        let (mut lo, mut hi) = ([f32::MAX; 2], [f32::MIN; 2]);
        for p in t.snapshots.iter().flat_map(|s| s.points.iter()) {
            for a in 0..2 {
                lo[a] = lo[a].min(p[a]);
                hi[a] = hi[a].max(p[a]);
            }
        }
        ui.horizontal_wrapped(|ui| {
            ui.label(format!("{} · step {}{} — {} validation rows, [CLS] of the last layer:", t.run, s.step, accuracy.unwrap_or_default(), s.points.len()));
            for (i, name) in t.label_names.iter().enumerate() {
                ui.colored_label(LABEL_COLOURS[i % LABEL_COLOURS.len()], format!("● {name}"));
            }
        });
        let height = (ui.available_height() - 10.0).clamp(260.0, 620.0);
        let names = t.label_names.clone();
        Plot::new("training_scatter")
            .height(height)
            .allow_scroll(false)
            .include_x(f64::from(lo[0]))
            .include_x(f64::from(hi[0]))
            .include_y(f64::from(lo[1]))
            .include_y(f64::from(hi[1]))
            .x_axis_label(format!("PC1 of the first evaluation ({:.1} %)", 100.0 * ratio.first().unwrap_or(&0.0)))
            .y_axis_label(format!("PC2 ({:.1} %)", 100.0 * ratio.get(1).unwrap_or(&0.0)))
            .show(ui, |plot| {
                for (l, name) in names.iter().enumerate() {
                    let points: Vec<[f64; 2]> = s
                        .points
                        .iter()
                        .zip(&s.labels)
                        .filter(|(_, &label)| label as usize == l)
                        .map(|(p, _)| [f64::from(p[0]), f64::from(p[1])])
                        .collect();
                    plot.points(Points::new(name.clone(), PlotPoints::from(points)).color(LABEL_COLOURS[l % LABEL_COLOURS.len()]).radius(3.0));
                }
            });
    }
}

fn scatter_ui(ui: &mut egui::Ui, projection: &Projection, data: &Rows, mine: Option<[f32; 2]>) -> Option<String> {
    let ratio = &projection.pca.explained_variance_ratio;
    let pct = |i: usize| 100.0 * ratio.get(i).copied().unwrap_or(0.0);
    // One series per label (the legend row below names them; nothing is drawn over the points).
    let groups: Vec<(String, Vec<usize>)> = match &data.labels {
        Some(labels) => (0..data.label_names.len().max(1))
            .map(|l| {
                let rows: Vec<usize> = (0..labels.len()).filter(|&r| labels[r] as usize == l).collect();
                (data.label_names.get(l).cloned().unwrap_or_else(|| format!("label {l}")), rows)
            })
            .filter(|(_, rows)| !rows.is_empty())
            .collect(),
        None => vec![("rows".to_string(), (0..projection.points.len()).collect())],
    };
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("{} — PCA of the sentence vectors:", data.what));
        for (i, (name, rows)) in groups.iter().enumerate() {
            ui.colored_label(LABEL_COLOURS[i % LABEL_COLOURS.len()], format!("● {name} ({})", rows.len()));
        }
        if mine.is_some() {
            ui.strong("★ your text");
        }
    });
    let texts = Arc::clone(&data.texts);
    let lookup: Vec<(String, Vec<usize>)> = groups.clone();
    let hover = move |name: &str, index: usize| -> Option<String> {
        let (_, rows) = lookup.iter().find(|(n, _)| n == name)?;
        let row = *rows.get(index)?;
        let text: String = texts.get(row)?.chars().take(140).collect();
        Some(format!("row {row} · {name}\n{text}"))
    };
    let height = (ui.available_height() - 10.0).clamp(260.0, 620.0);
    let star_colour = ui.visuals().strong_text_color();
    let response = Plot::new("projection_scatter")
        .height(height)
        .allow_scroll(false)
        .x_axis_label(format!("PC1 ({:.1} % of the variance)", pct(0)))
        .y_axis_label(format!("PC2 ({:.1} %)", pct(1)))
        .label_formatter(move |position| match position {
            egui_plot::HoverPosition::NearDataPoint { plot_name, index, .. } => hover(plot_name, *index),
            egui_plot::HoverPosition::Elsewhere { .. } => None,
        })
        .show(ui, |plot| {
            for (i, (name, rows)) in groups.iter().enumerate() {
                let points: Vec<[f64; 2]> =
                    rows.iter().map(|&r| projection.points[r]).map(|p| [f64::from(p[0]), f64::from(p[1])]).collect();
                plot.points(Points::new(name.clone(), PlotPoints::from(points)).color(LABEL_COLOURS[i % LABEL_COLOURS.len()]).radius(2.5));
            }
            if let Some(p) = mine {
                let star = PlotPoints::from(vec![[f64::from(p[0]), f64::from(p[1])]]);
                plot.points(Points::new("your text", star).shape(MarkerShape::Asterisk).radius(9.0).color(star_colour));
            }
            // The row nearest to a click (within 10 points on screen).
            if !plot.response().clicked() {
                return None;
            }
            let pointer = plot.response().interact_pointer_pos()?;
            let nearest = projection
                .points
                .iter()
                .enumerate()
                .map(|(row, p)| (row, plot.screen_from_plot(egui_plot::PlotPoint::new(p[0], p[1])).distance(pointer)))
                .min_by(|a, b| a.1.total_cmp(&b.1))?;
            (nearest.1 <= 10.0).then_some(nearest.0)
        });
    response.inner.and_then(|row| data.texts.get(row).cloned())
}
