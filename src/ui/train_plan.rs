//! Before launch: the freeze map (a clickable diagram of embeddings, each encoder layer, pooler and head,
//! greyed when frozen) with exact trainable/total counts and a training-memory estimate; the
//! learning-rate schedule curve, steps per epoch, effective batch and an ETA.

use std::path::Path;
use std::sync::Arc;

use egui_plot::{Line, Plot, PlotPoints};

use crate::core::backend::{Command, Event, JobId};
use crate::core::train::{plan_from, PlanInputs, PlanKey, RunPlan, TrainConfig};

use super::app::PageContext;
use super::hub_panel::human_bytes;
use super::status_bar::thousands;

/// What the panel shows: the plan of a config, computed off the UI thread.
pub type PlanView = Result<RunPlan, String>;

/// The dataset and model config of a plan are loaded by one background job per model and data (never
/// per frame while a value is dragged); the plan itself follows every edit at once.
#[derive(Default)]
pub struct TrainPlanPanel {
    /// The inputs for a key, once loaded (or why they could not be).
    inputs: Option<(PlanKey, Result<Arc<PlanInputs>, String>)>,
    /// The job loading inputs, and for which key.
    job: Option<(JobId, PlanKey)>,
    /// Jobs started so far.
    loads: usize,
    /// The plan of the last config drawn.
    computed: Option<(TrainConfig, PlanView)>,
}

const PRESETS: [(&str, &str); 4] = [
    ("classifier", "classifier only"),
    ("top:2", "top layers + head"),
    ("embeddings", "all but embeddings"),
    ("none", "whole model"),
];

impl TrainPlanPanel {
    /// How many times the slow inputs were loaded (one per model and data, however much else changes).
    pub fn loads(&self) -> usize {
        self.loads
    }

    /// Takes the events of this panel's job; returns the others.
    pub fn on_event(&mut self, event: Event) -> Option<Event> {
        let id = event.job();
        let Some((job, key)) = self.job.take_if(|(job, _)| *job == id) else { return Some(event) };
        let _ = job;
        match event {
            Event::PlanInputs { inputs, .. } => self.inputs = Some((key, Ok(inputs))),
            Event::JobFailed { error, .. } => self.inputs = Some((key, Err(error))),
            Event::JobCancelled { .. } => {}
            other => {
                // A progress event: the job still runs.
                self.job = Some((id, key));
                return Some(other);
            }
        }
        self.computed = None;
        None
    }

    /// The plan for `config`: the inputs come from one background job per model and data (one at a
    /// time, the latest key wins); the rest is computed here, at once.
    fn plan(&mut self, config: &TrainConfig, ctx: &mut PageContext<'_>) -> Option<PlanView> {
        let key = PlanKey::of(config);
        let have = self.inputs.as_ref().is_some_and(|(k, _)| *k == key);
        if !have && self.job.is_none() {
            let id = ctx.backend.send(Command::PlanInputs { config: Box::new(config.clone()) });
            self.job = Some((id, key.clone()));
            self.loads += 1;
        }
        let (k, inputs) = self.inputs.as_ref()?;
        if *k != key {
            return None;
        }
        if self.computed.as_ref().is_none_or(|(c, _)| c != config) {
            let plan = match inputs {
                Ok(inputs) => plan_from(inputs, config).map_err(|e| e.to_string()),
                Err(e) => Err(e.clone()),
            };
            self.computed = Some((config.clone(), plan));
        }
        self.computed.as_ref().map(|(_, plan)| plan.clone())
    }

    pub fn freeze_ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>, config: &mut TrainConfig) {
        ui.strong("What trains");
        ui.horizontal_wrapped(|ui| {
            for (spec, label) in PRESETS {
                let active = config.freeze == spec || (spec.starts_with("top:") && config.freeze.starts_with("top:"));
                if ui.selectable_label(active, label).clicked() {
                    config.freeze = spec.to_string();
                    config.frozen_modules.clear();
                }
            }
            if let Some(k) = config.freeze.strip_prefix("top:").and_then(|k| k.parse::<usize>().ok()) {
                let mut k = k;
                if ui.add(egui::DragValue::new(&mut k).range(0..=48).prefix("K = ")).changed() {
                    config.freeze = format!("top:{k}");
                }
            }
        });
        match self.plan(config, ctx) {
            None => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("counting parameters…");
                });
            }
            Some(Err(error)) => {
                ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {error}"));
            }
            Some(Ok(plan)) => {
                freeze_map_ui(ui, &plan, config);
                ui.label(format!(
                    "{} of {} parameters train ({:.2}%)",
                    thousands(plan.trainable_params),
                    thousands(plan.total_params),
                    100.0 * plan.trainable_params as f64 / plan.total_params.max(1) as f64
                ));
                let m = &plan.memory;
                ui.label(format!(
                    "training memory ≈ {}: weights {} · gradients {} · AdamW state {} · activations {} (batch {} × {} tokens)",
                    human_bytes(m.total_bytes),
                    human_bytes(m.weights_bytes),
                    human_bytes(m.gradients_bytes),
                    human_bytes(m.optimizer_bytes),
                    human_bytes(m.activations_bytes),
                    config.batch_size,
                    plan.seq_len
                ));
            }
        }
    }

    pub fn preview_ui(&mut self, ui: &mut egui::Ui, config: &TrainConfig, samples_per_sec: Option<f64>) {
        let Some((_, Ok(plan))) = &self.computed else { return };
        let plan = plan.clone();
        ui.strong("Before launch");
        let examples = match plan.text_rows {
            Some(rows) => format!("{} blocks of {} tokens (from {} rows of text)", thousands(plan.train_rows), plan.seq_len, thousands(rows)),
            None => format!("{} training rows", thousands(plan.train_rows)),
        };
        ui.label(format!(
            "{examples} · {} steps per epoch · {} steps in all · effective batch {}",
            thousands(plan.steps_per_epoch as usize),
            thousands(plan.total_steps as usize),
            plan.effective_batch
        ));
        let eta = samples_per_sec
            .filter(|s| *s > 0.0)
            .map(|s| format!("ETA ≈ {:.0} s at {s:.1} samples/s (last run)", plan.total_steps as f64 * plan.effective_batch as f64 / s));
        ui.weak(eta.unwrap_or_else(|| "ETA: measured after the first steps".into()));
        let points: Vec<[f64; 2]> = plan.lr_curve.iter().map(|&(step, lr)| [step as f64, lr]).collect();
        Plot::new("lr_schedule_preview").height(110.0).allow_zoom(false).allow_drag(false).allow_scroll(false).show(ui, |plot| {
            plot.line(Line::new(format!("learning rate ({:?})", config.schedule), PlotPoints::from(points)));
        });
    }
}

/// One box per module; click toggles it frozen by hand (on top of the preset).
fn freeze_map_ui(ui: &mut egui::Ui, plan: &RunPlan, config: &mut TrainConfig) {
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing = egui::vec2(3.0, 3.0);
        for module in &plan.modules {
            let trains = module.trainable > 0;
            let fill = if trains { ui.visuals().selection.bg_fill } else { ui.visuals().widgets.inactive.bg_fill.gamma_multiply(0.5) };
            let text = egui::RichText::new(&module.name).color(if trains { ui.visuals().strong_text_color() } else { ui.visuals().weak_text_color() });
            let response = ui
                .add(egui::Button::new(text).fill(fill))
                .on_hover_text(format!("{}: {} of {} parameters train · click to toggle", module.name, thousands(module.trainable), thousands(module.total)));
            if response.clicked() {
                if let Some(i) = config.frozen_modules.iter().position(|m| *m == module.name) {
                    config.frozen_modules.remove(i);
                } else {
                    config.frozen_modules.push(module.name.clone());
                }
            }
        }
    });
}

/// Writes a run's settings as TOML (`.toml`) or JSON (anything else), for `lm-workbench train --config`.
pub fn export_config(config: &TrainConfig, path: &Path) -> Result<(), String> {
    let text = if path.extension().is_some_and(|e| e == "toml") {
        toml::to_string_pretty(config).map_err(|e| e.to_string())?
    } else {
        serde_json::to_string_pretty(config).map_err(|e| e.to_string())?
    };
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
