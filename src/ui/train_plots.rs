//! The live training charts: loss per step (raw, faint, plus a debiased EMA), validation loss and
//! metrics as markers on the same x-axis, learning rate and gradient norm; x by step, epoch or time;
//! log scale; whole run or a recent window; a marker at the best checkpoint.

use egui::Color32;
use egui_plot::{Line, MarkerShape, Plot, PlotPoints, Points, VLine};
use serde::{Deserialize, Serialize};

use crate::core::train::{EvalReport, StepMetrics, TrainTask};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum XAxis {
    #[default]
    Step,
    Epoch,
    Time,
}

/// How the charts look (persisted).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChartSettings {
    pub x_axis: XAxis,
    /// EMA smoothing factor in [0, 0.99].
    pub smoothing: f32,
    pub log_scale: bool,
    /// Show only the last N steps (None: the whole run).
    pub recent: Option<usize>,
}

impl Default for ChartSettings {
    fn default() -> Self {
        Self { x_axis: XAxis::Step, smoothing: 0.8, log_scale: false, recent: None }
    }
}

/// Debiased exponential moving average, as TensorBoard smooths: `ema_t / (1 - a^t)`.
pub fn debiased_ema(values: &[f64], smoothing: f64) -> Vec<f64> {
    let mut ema = 0.0;
    let mut weight = 0.0;
    values
        .iter()
        .map(|&v| {
            ema = smoothing * ema + (1.0 - smoothing) * v;
            weight = smoothing * weight + (1.0 - smoothing);
            if weight > 0.0 { ema / weight } else { v }
        })
        .collect()
}

/// A series to overlay: one run's steps and evaluations.
pub struct Series<'a> {
    pub name: String,
    pub color: Color32,
    pub steps: &'a [StepMetrics],
    pub evals: &'a [EvalReport],
    /// Step of the best checkpoint, if any.
    pub best_step: Option<u64>,
    /// Masked LM: the unigram baseline in loss units, drawn as a dashed line.
    pub baseline: Option<f64>,
    /// What the run trains: a classifier's chart has accuracy and macro-F1, a masked LM's the
    /// masked-token accuracy (it has no classes, so no F1).
    pub task: TrainTask,
}

fn x_of(settings: &ChartSettings, step: &StepMetrics) -> f64 {
    match settings.x_axis {
        XAxis::Step => step.step as f64,
        XAxis::Epoch => step.epoch,
        XAxis::Time => step.elapsed_secs,
    }
}

/// x of an evaluation: by step/epoch directly; by time, the time of the nearest step.
fn eval_x(settings: &ChartSettings, steps: &[StepMetrics], eval: &EvalReport) -> f64 {
    match settings.x_axis {
        XAxis::Step => eval.step as f64,
        XAxis::Epoch => eval.epoch,
        XAxis::Time => steps.iter().rfind(|s| s.step <= eval.step).map_or(0.0, |s| s.elapsed_secs),
    }
}

/// The colours of a chart's series, in order (runs compared, tokens followed).
pub const SERIES_COLORS: [egui::Color32; 6] = [
    egui::Color32::from_rgb(90, 150, 250),
    egui::Color32::from_rgb(250, 150, 60),
    egui::Color32::from_rgb(90, 200, 120),
    egui::Color32::from_rgb(230, 90, 110),
    egui::Color32::from_rgb(170, 120, 230),
    egui::Color32::from_rgb(80, 200, 210),
];

/// A chart inside a scrolling page: the mouse wheel scrolls the page (it does not pan the chart away),
/// dragging does not pan either; Ctrl + wheel zooms and a double-click resets. The legend is a row
/// above the chart ([`legend_row_ui`]), never drawn over the data.
pub fn page_plot(id: &str) -> Plot<'_> {
    Plot::new(id).id(chart_id(id)).allow_scroll(false).allow_drag(false)
}

/// The egui id of a dashboard chart (its memory holds whether the user moved or zoomed it).
pub fn chart_id(name: &str) -> egui::Id {
    egui::Id::unique(("lmw_chart", name))
}

/// A chart's legend as a row of coloured entries above it (meetup finding 5: a legend inside the chart
/// hid a run's only validation point and half the loss curve at 1024 wide).
pub fn legend_row_ui(ui: &mut egui::Ui, entries: &[(String, egui::Color32)]) {
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 12.0;
        for (name, color) in entries {
            ui.label(egui::RichText::new(name).color(*color));
        }
    });
}

fn y(settings: &ChartSettings, v: f64) -> f64 {
    if settings.log_scale { v.max(1e-12).log10() } else { v }
}

fn window<'a>(settings: &ChartSettings, steps: &'a [StepMetrics]) -> &'a [StepMetrics] {
    match settings.recent {
        Some(n) if steps.len() > n => &steps[steps.len() - n..],
        _ => steps,
    }
}

pub fn settings_ui(ui: &mut egui::Ui, settings: &mut ChartSettings) {
    ui.horizontal_wrapped(|ui| {
        ui.label("x:");
        ui.selectable_value(&mut settings.x_axis, XAxis::Step, "step");
        ui.selectable_value(&mut settings.x_axis, XAxis::Epoch, "epoch");
        ui.selectable_value(&mut settings.x_axis, XAxis::Time, "time");
        ui.separator();
        ui.add(egui::Slider::new(&mut settings.smoothing, 0.0..=0.99).text("smoothing"));
        ui.checkbox(&mut settings.log_scale, "log scale");
        let mut recent = settings.recent.is_some();
        if ui.checkbox(&mut recent, "recent only").changed() {
            settings.recent = recent.then_some(200);
        }
        if let Some(n) = &mut settings.recent {
            ui.add(egui::DragValue::new(n).range(10..=100_000).suffix(" steps"));
        }
    });
}

/// The loss chart's legend: each run's loss and validation loss, and each masked LM's unigram baseline
/// (named by its run when there are several).
fn loss_legend(series: &[Series<'_>]) -> Vec<(String, egui::Color32)> {
    series
        .iter()
        .flat_map(|s| [(format!("━ {} loss", s.name), s.color), (format!("◆ {} validation loss", s.name), s.color)])
        .chain(series.iter().filter_map(|s| {
            // Several runs: each baseline names its run (runs on other data have other baselines).
            let whose = if series.len() > 1 { format!("{} ", s.name) } else { String::new() };
            s.baseline.map(|b| (format!("┄ {whose}unigram baseline (perplexity {:.0})", b.exp()), s.color.gamma_multiply(0.7)))
        }))
        .collect()
}

/// Training loss (raw and smoothed) with validation loss markers, for one or more runs.
pub fn loss_plot_ui(ui: &mut egui::Ui, id: &str, settings: &ChartSettings, series: &[Series<'_>], height: f32) {
    let entries = loss_legend(series);
    legend_row_ui(ui, &entries);
    page_plot(id).height(height).show(ui, |plot| {
        for s in series {
            let steps = window(settings, s.steps);
            let raw: Vec<[f64; 2]> = steps.iter().map(|m| [x_of(settings, m), y(settings, m.loss)]).collect();
            let smooth = debiased_ema(&steps.iter().map(|m| m.loss).collect::<Vec<_>>(), f64::from(settings.smoothing));
            let smooth: Vec<[f64; 2]> = steps.iter().zip(smooth).map(|(m, v)| [x_of(settings, m), y(settings, v)]).collect();
            // Unnamed: the faint raw curve and the best-checkpoint line stay out of the legend.
            plot.line(Line::new("", PlotPoints::from(raw)).color(s.color.gamma_multiply(0.3)));
            plot.line(Line::new(format!("{} loss", s.name), PlotPoints::from(smooth)).color(s.color).width(2.0));
            let first = steps.first().map_or(0, |m| m.step);
            let evals: Vec<[f64; 2]> = s
                .evals
                .iter()
                .filter(|e| e.split == "validation" && e.step >= first)
                .map(|e| [eval_x(settings, s.steps, e), y(settings, e.loss)])
                .collect();
            plot.points(Points::new(format!("{} validation loss", s.name), PlotPoints::from(evals)).color(s.color).shape(MarkerShape::Diamond).radius(5.0));
            if let Some(b) = s.baseline {
                plot.hline(egui_plot::HLine::new("", y(settings, b)).color(s.color.gamma_multiply(0.7)).style(egui_plot::LineStyle::dashed_loose()));
            }
            if let Some(best) = s.best_step {
                let x = match settings.x_axis {
                    XAxis::Step => Some(best as f64),
                    _ => s.steps.iter().find(|m| m.step == best).map(|m| x_of(settings, m)),
                };
                if let Some(x) = x {
                    plot.vline(VLine::new("", x).color(s.color.gamma_multiply(0.6)));
                }
            }
        }
    });
}

/// The heading of [`metrics_plot_ui`]'s chart for these runs.
pub fn metrics_title(series: &[Series<'_>]) -> &'static str {
    let mlm = series.iter().filter(|s| s.task == TrainTask::MaskedLm).count();
    match mlm {
        0 => "Validation accuracy / macro-F1",
        n if n == series.len() => "Validation masked-token accuracy",
        _ => "Validation accuracy / macro-F1 (masked LMs: masked-token accuracy)",
    }
}

/// Validation accuracy markers (joined by lines), and a classifier's macro-F1 (dashed).
pub fn metrics_plot_ui(ui: &mut egui::Ui, id: &str, settings: &ChartSettings, series: &[Series<'_>], height: f32) {
    let entries: Vec<(String, egui::Color32)> = series
        .iter()
        .flat_map(|s| match s.task {
            TrainTask::Classify => vec![(format!("● {} accuracy", s.name), s.color), (format!("■ {} macro-F1 (dashed)", s.name), s.color.gamma_multiply(0.6))],
            TrainTask::MaskedLm => vec![(format!("● {} masked-token accuracy", s.name), s.color)],
        })
        .collect();
    legend_row_ui(ui, &entries);
    page_plot(id).height(height).include_x(0.0).include_y(0.0).include_y(1.0).show(ui, |plot| {
        for s in series {
            let val: Vec<&EvalReport> = s.evals.iter().filter(|e| e.split == "validation").collect();
            let acc: Vec<[f64; 2]> = val.iter().map(|e| [eval_x(settings, s.steps, e), e.accuracy]).collect();
            plot.line(Line::new(format!("{} accuracy", s.name), PlotPoints::from(acc.clone())).color(s.color));
            plot.points(Points::new(format!("{} accuracy", s.name), PlotPoints::from(acc)).color(s.color).radius(4.0));
            if s.task == TrainTask::Classify {
                let f1: Vec<[f64; 2]> = val.iter().map(|e| [eval_x(settings, s.steps, e), e.macro_f1]).collect();
                plot.line(Line::new(format!("{} macro-F1", s.name), PlotPoints::from(f1.clone())).color(s.color.gamma_multiply(0.6)).style(egui_plot::LineStyle::dashed_loose()));
                plot.points(Points::new(format!("{} macro-F1", s.name), PlotPoints::from(f1)).color(s.color.gamma_multiply(0.6)).shape(MarkerShape::Square).radius(4.0));
            }
        }
    });
}

/// One per-step quantity (learning rate, gradient norm) over x.
pub fn step_value_plot_ui(ui: &mut egui::Ui, id: &str, settings: &ChartSettings, steps: &[StepMetrics], name: &str, value: fn(&StepMetrics) -> f64, height: f32) {
    let steps = window(settings, steps);
    let points: Vec<[f64; 2]> = steps.iter().map(|m| [x_of(settings, m), value(m)]).collect();
    page_plot(id).height(height).show(ui, |plot| plot.line(Line::new(name, PlotPoints::from(points))));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_runs_unigram_baseline_is_named_when_runs_are_compared() {
        let series = |name: &str, baseline: Option<f64>| Series {
            name: name.into(),
            color: SERIES_COLORS[0],
            steps: &[],
            evals: &[],
            best_step: None,
            baseline,
            task: if baseline.is_some() { TrainTask::MaskedLm } else { TrainTask::Classify },
        };
        let names = |s: &[Series<'_>]| loss_legend(s).into_iter().map(|(n, _)| n).collect::<Vec<_>>();
        assert_eq!(names(&[series("run", Some(900f64.ln()))]), ["━ run loss", "◆ run validation loss", "┄ unigram baseline (perplexity 900)"]);
        let compared = names(&[series("a", Some(900f64.ln())), series("b", Some(263f64.ln())), series("c", None)]);
        assert_eq!(compared[6..], ["┄ a unigram baseline (perplexity 900)", "┄ b unigram baseline (perplexity 263)"]);
    }

    #[test]
    fn ema_is_debiased() {
        // A constant series stays constant from the first point (no pull towards 0).
        assert_eq!(debiased_ema(&[2.0, 2.0, 2.0], 0.9), vec![2.0, 2.0, 2.0]);
        let e = debiased_ema(&[1.0, 0.0], 0.5);
        assert!((e[1] - 1.0 / 3.0).abs() < 1e-12, "{e:?}");
        assert_eq!(debiased_ema(&[3.0, 1.0], 0.0), vec![3.0, 1.0]);
    }
}
