//! Train: choose what trains (freeze map with exact counts and a memory estimate), set the
//! hyperparameters, see the schedule and the run's size before launch, then start, pause, stop, save,
//! change the learning rate, and watch the live dashboard.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::core::demo::DEMO_SPEC;
use crate::core::train::{recipe_for, switch_model, TrainConfig, TrainTask, TrainerCommand, BUILTIN_TINY};

pub use super::live_run::{LiveRun, RunStatus};

use super::app::PageContext;
use super::cached_models::cached_models_menu;
use super::confusion_panel::ConfusionPanel;
use super::status_bar::thousands;
use super::train_plan::TrainPlanPanel;
use super::train_plots::{loss_plot_ui, metrics_plot_ui, metrics_title, settings_ui, step_value_plot_ui, ChartSettings, Series};

#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct TrainPage {
    pub config: TrainConfig,
    pub charts: ChartSettings,
    pub resume_dir: String,
    #[serde(skip)]
    pub live: Option<LiveRun>,
    #[serde(skip)]
    error: Option<String>,
    #[serde(skip)]
    new_lr: Option<f64>,
    #[serde(skip)]
    plan: TrainPlanPanel,
    #[serde(skip)]
    confusion: ConfusionPanel,
    /// The shape in the "preset ▾" menu's editor of a BERT built from scratch.
    #[serde(skip)]
    shape: crate::core::train::scratch::BertShape,
}

impl Default for TrainPage {
    /// The offline demo kit: the demo encoder fine-tuned on the demo headlines.
    fn default() -> Self {
        Self {
            config: crate::core::train::demo_kit_config(),
            charts: ChartSettings::default(),
            resume_dir: String::new(),
            live: None,
            error: None,
            new_lr: None,
            plan: TrainPlanPanel::default(),
            confusion: ConfusionPanel::default(),
            shape: crate::core::train::scratch::BertShape::preset(4, 256),
        }
    }
}

fn secs(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    if s >= 3600 { format!("{}h{:02}m", s / 3600, s / 60 % 60) } else { format!("{}m{:02}s", s / 60, s % 60) }
}

impl TrainPage {
    /// Takes the events of this page's background jobs (the run plan's inputs); returns the others.
    pub fn on_event(&mut self, event: crate::core::backend::Event) -> Option<crate::core::backend::Event> {
        self.plan.on_event(event)
    }

    /// How many times the run plan loaded its dataset and model config.
    pub fn plan_loads(&self) -> usize {
        self.plan.loads()
    }

    /// The value of the mid-run learning-rate field (while a run is active).
    pub fn mid_run_learning_rate(&self) -> Option<f64> {
        self.live.as_ref().filter(|l| l.is_active()).and(self.new_lr)
    }

    /// Drains the running trainer's events; called every frame, whichever page is shown.
    pub fn logic(&mut self) {
        if let Some(live) = &mut self.live {
            live.poll();
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>) {
        self.logic();
        // Runs resolve Hub ids with the app's settings (endpoint, cache, the offline switch).
        if self.config.hub.as_ref() != Some(ctx.hub) {
            self.config.hub = Some(ctx.hub.clone());
        }
        egui::Panel::left("train_settings").resizable(true).default_size(380.0).show(ui, |ui| {
            // Start / pause / stop stay in view above the settings, whatever the window height.
            self.controls_ui(ui, ctx);
            ui.separator();
            egui::ScrollArea::vertical().id_salt("train_settings_scroll").show(ui, |ui| {
                self.settings_ui(ui, ctx);
            });
        });
        egui::CentralPanel::default().show(ui, |ui| {
            egui::ScrollArea::vertical().id_salt("train_dashboard").show(ui, |ui| self.dashboard_ui(ui, ctx));
        });
    }

    fn settings_ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>) {
        let running = self.live.as_ref().is_some_and(LiveRun::is_active);
        ui.heading("Run");
        ui.add_enabled_ui(!running, |ui| {
            let c = &mut self.config;
            egui::Grid::new("what").num_columns(2).spacing([8.0, 4.0]).show(ui, |ui| {
                // The field on its own line, its shortcuts under it: nothing wraps into the next row.
                let label = ui.label("Model:");
                ui.vertical(|ui| {
                    ui.add(egui::TextEdit::singleline(&mut c.model).desired_width(250.0)).labelled_by(label.id);
                    ui.horizontal(|ui| {
                        if ui.small_button("demo encoder").on_hover_text("the demo encoder: 2 layers of 64, pre-trained on 6,000 unlabelled demo headlines").clicked() {
                            switch_model(c, DEMO_SPEC);
                        }
                        if ui.small_button("tiny").on_hover_text("the same small BERT with random weights, trained from scratch").clicked() {
                            switch_model(c, BUILTIN_TINY);
                        }
                        if let Some(model) = ctx.model.filter(|m| m.files.is_some()) {
                            if ui.small_button("loaded model").on_hover_text(model.spec.label()).clicked() {
                                switch_model(c, &model.spec.to_spec_string());
                            }
                        }
                        if let Some(repo) = cached_models_menu(ui, ctx) {
                            switch_model(c, &repo);
                        }
                        let shape = &mut self.shape;
                        ui.menu_button("preset ▾", |ui| {
                            ui.label("A BERT built from scratch (layers × hidden), its vocabulary from the tokenizer below:");
                            for (layers, hidden) in crate::core::train::scratch::PRESETS {
                                if ui.button(format!("{layers} × {hidden}")).clicked() {
                                    switch_model(c, &format!("preset:{layers}x{hidden}"));
                                }
                            }
                            ui.separator();
                            if let Some(spec) = super::scratch_model::shape_editor_ui(ui, shape) {
                                switch_model(c, &spec);
                                ui.close();
                            }
                        });
                    });
                });
                ui.end_row();
                let label = ui.label("Tokenizer:");
                ui.add(
                    egui::TextEdit::singleline(&mut c.tokenizer)
                        .hint_text("the model's own; a folder for a model built from scratch")
                        .desired_width(250.0),
                )
                .labelled_by(label.id)
                .on_hover_text("a tokenizer folder (Model & Data → Train a tokenizer) for preset:LxH, builtin:tiny or a bare config.json");
                ui.end_row();
                let label = ui.label("Data:");
                ui.vertical(|ui| {
                    ui.add(egui::TextEdit::singleline(&mut c.data).desired_width(250.0)).labelled_by(label.id);
                    ui.horizontal(|ui| {
                        if ui.small_button("demo").on_hover_text("2,100 headlines in six categories, written for this project").clicked() {
                            c.data = "builtin:headlines".into();
                        }
                        if let Some(dataset) = ctx.dataset {
                            let hover = format!("{} (as loaded on Model & Data, with its validation split setting)", dataset.name);
                            if ui.small_button("loaded data").on_hover_text(hover).clicked() {
                                c.data = ctx.dataset_spec.trim().to_string();
                                c.validation_fraction = ctx.dataset_validation_fraction;
                            }
                        }
                    });
                });
                ui.end_row();
                ui.label("Task:");
                ui.horizontal(|ui| {
                    ui.selectable_value(&mut c.task, TrainTask::Classify, "classify");
                    ui.selectable_value(&mut c.task, TrainTask::MaskedLm, "masked LM");
                });
                ui.end_row();
                ui.label("Device:");
                ui.horizontal(|ui| device_picker(ui, &mut c.device));
                ui.end_row();
            });
            if let Some(advice) = super::scratch_model::pretraining_advice(&self.config, ctx.device_is_gpu) {
                ui.label(egui::RichText::new(advice).small()).on_hover_text("measured in BENCHMARKS.md (bench-pretrain.sh)");
            }
            super::scratch_model::cpu_recipe_ui(ui, &mut self.config);
            let recipe = recipe_for(&self.config.model);
            let (lr, epochs) = (self.config.learning_rate, self.config.epochs);
            let cpu_recipe = super::scratch_model::pretraining_advice(&self.config, false).is_some()
                && crate::core::train::scratch::CPU_PRETRAINING.is_applied(&self.config);
            if (lr, epochs) != (recipe.learning_rate, recipe.epochs) && !cpu_recipe {
                ui.horizontal_wrapped(|ui| {
                    ui.weak(format!(
                        "Suggested for {}: learning rate {:e}, {} epochs.",
                        recipe.label, recipe.learning_rate, recipe.epochs
                    ));
                    if ui.small_button("Use these").clicked() {
                        (self.config.learning_rate, self.config.epochs) = (recipe.learning_rate, recipe.epochs);
                    }
                });
            }
            ui.separator();
            self.plan.freeze_ui(ui, ctx, &mut self.config);
            ui.separator();
            super::hyperparameters::hyperparameters_ui(ui, &mut self.config);
        });
        ui.separator();
        let throughput = self.live.as_ref().and_then(|l| l.samples_per_sec_for(&self.config));
        self.plan.preview_ui(ui, &self.config, throughput);
        ui.separator();
        self.resume_ui(ui, ctx);
    }

    fn controls_ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>) {
        let running = self.live.as_ref().is_some_and(LiveRun::is_active);
        ui.horizontal_wrapped(|ui| {
            if ui.add_enabled(!running, egui::Button::new("▶ Start training")).clicked() {
                self.start(ctx, None);
            }
            if let Some(live) = &self.live {
                let (label, command) = match live.status {
                    RunStatus::Running => ("⏸ Pause", Some(TrainerCommand::Pause)),
                    RunStatus::Paused => ("▶ Resume", Some(TrainerCommand::Resume)),
                    _ => ("", None),
                };
                if let Some(command) = command {
                    if ui.button(label).clicked() {
                        live.send(command);
                    }
                }
                if running {
                    if ui.button("⏹ Stop").clicked() {
                        live.send(TrainerCommand::Stop);
                    }
                    if ui.button("💾 Save checkpoint").clicked() {
                        live.send(TrainerCommand::SaveNow);
                    }
                }
            }
        });
        if let Some(live) = self.live.as_ref().filter(|l| l.is_active()) {
            ui.horizontal(|ui| {
                let lr = self.new_lr.get_or_insert(self.config.learning_rate);
                ui.add(egui::DragValue::new(lr).speed(1e-6).range(0.0..=1.0).prefix("learning rate "));
                if ui.button("Set").clicked() {
                    live.send(TrainerCommand::SetLearningRate(*lr));
                }
            });
        }
        if let Some(error) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {error}"));
        }
    }

    /// Resuming a stopped run, exporting the settings.
    fn resume_ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>) {
        let running = self.live.as_ref().is_some_and(LiveRun::is_active);
        ui.horizontal(|ui| {
            let label = ui.label("Resume run:");
            ui.add(egui::TextEdit::singleline(&mut self.resume_dir).hint_text("run folder").desired_width(170.0)).labelled_by(label.id);
            if ui.add_enabled(!running && !self.resume_dir.trim().is_empty(), egui::Button::new("Resume")).clicked() {
                let dir = PathBuf::from(self.resume_dir.trim());
                self.start(ctx, Some(dir));
            }
        });
        if ui.add_enabled(!ctx.dialogs.is_open("export-config"), egui::Button::new("Export run config…")).clicked() {
            let dialog = super::file_dialogs::FileDialog::SaveFile { title: "Export the run's settings".into(), file_name: "run.toml".into() };
            ctx.dialogs.open(ctx.backend, "export-config", dialog);
        }
        if let Some(path) = ctx.dialogs.take("export-config") {
            // A few hundred bytes of settings: written at once.
            self.error = super::train_plan::export_config(&self.config, &path).err();
        }
    }

    /// Plays a run folder back as if it were training now (a stopped or finished live run is replaced;
    /// an active one is not touched).
    pub fn start_replay(&mut self, dir: &std::path::Path, speed: f64, waker: &crate::core::backend::Waker) {
        if self.live.as_ref().is_some_and(LiveRun::is_active) {
            self.error = Some("a run is training: stop it before replaying another".into());
            return;
        }
        match crate::core::train::replay::spawn_replay(dir, speed, Arc::clone(waker)) {
            Ok((config, handle)) => {
                self.error = None;
                self.confusion = ConfusionPanel::default();
                let mut live = LiveRun::new(handle, config);
                live.replay = Some(speed);
                self.live = Some(live);
            }
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    fn start(&mut self, ctx: &mut PageContext<'_>, resume: Option<PathBuf>) {
        self.start_with(ctx.waker, ctx.hub, resume);
    }

    /// The hotkey for start / pause / resume: pauses a running run, resumes a paused one, else starts
    /// a run of the current settings.
    pub fn start_pause_resume(&mut self, waker: &crate::core::backend::Waker, hub: &crate::core::hub::HubSettings) {
        match self.live.as_ref().filter(|l| l.is_active()).map(|l| l.status.clone()) {
            Some(RunStatus::Running) => self.live.as_ref().map_or((), |l| l.send(TrainerCommand::Pause)),
            Some(RunStatus::Paused) => self.live.as_ref().map_or((), |l| l.send(TrainerCommand::Resume)),
            _ => self.start_with(waker, hub, None),
        }
    }

    /// Starts a run of `config` unless one is active (the tour's training steps); whether it started.
    pub fn start_config(&mut self, config: TrainConfig, waker: &crate::core::backend::Waker, hub: &crate::core::hub::HubSettings) -> bool {
        if self.live.as_ref().is_some_and(LiveRun::is_active) {
            return false;
        }
        self.config = config;
        self.start_with(waker, hub, None);
        self.live.is_some()
    }

    /// The hotkey for stop.
    pub fn stop_run(&mut self) {
        if let Some(live) = self.live.as_ref().filter(|l| l.is_active()) {
            live.stop();
        }
    }

    fn start_with(&mut self, waker: &crate::core::backend::Waker, hub: &crate::core::hub::HubSettings, resume: Option<PathBuf>) {
        self.config.hub = Some(hub.clone());
        match crate::core::train::spawn_trainer(self.config.clone(), resume, Arc::clone(waker)) {
            Ok(handle) => {
                self.error = None;
                self.confusion = ConfusionPanel::default();
                // The mid-run field starts at this run's rate, never at an earlier run's.
                self.new_lr = Some(self.config.learning_rate);
                self.live = Some(LiveRun::new(handle, self.config.clone()));
            }
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    fn dashboard_ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>) {
        let Some(live) = &self.live else {
            ui.heading("Dashboard");
            ui.label("Start a run: its loss, learning rate, gradient norm and validation metrics appear here live.");
            if self.config.model.trim() == DEMO_SPEC {
                ui.weak(
                    "First time? The defaults fine-tune the small demo encoder (pre-trained on unlabelled headlines) \
                     on 2,100 demo headlines, offline, in about 20 seconds. Run it twice, once with \"classifier \
                     only\" frozen and once as the whole model, and compare the two on Runs.",
                );
            }
            return;
        };
        progress_ui(ui, live);
        if live.task == TrainTask::MaskedLm {
            if let Some(text) = super::scratch_model::perplexity_line(live.last_validation().map(|e| e.loss), live.unigram_loss) {
                ui.label(text);
            }
        }
        settings_ui(ui, &mut self.charts);
        let series = [Series {
            name: "run".into(),
            color: ui.visuals().selection.stroke.color,
            steps: &live.steps,
            evals: &live.evals,
            best_step: live.best_step(),
            baseline: live.unigram_loss,
            task: live.task,
        }];
        ui.strong("Loss");
        loss_plot_ui(ui, "live_loss", &self.charts, &series, 220.0);
        ui.columns(3, |cols| {
            cols[0].strong(metrics_title(&series));
            metrics_plot_ui(&mut cols[0], "live_metrics", &self.charts, &series, 140.0);
            cols[1].strong("Learning rate");
            step_value_plot_ui(&mut cols[1], "live_lr", &self.charts, &live.steps, "learning rate", |m| m.learning_rate, 140.0);
            cols[2].strong("Gradient norm");
            step_value_plot_ui(&mut cols[2], "live_grad_norm", &self.charts, &live.steps, "gradient norm", |m| m.grad_norm, 140.0);
        });
        // A masked LM has no classes: no confusion matrix (its scores are in the lines above).
        let classifier_eval = live.test.as_ref().or_else(|| live.evals.iter().rev().find(|e| e.split == "validation")).filter(|_| live.task == TrainTask::Classify);
        if let Some(eval) = classifier_eval {
            ui.separator();
            self.confusion.ui(ui, ctx, eval, &live.label_names, &live.config, live.texts.of(&eval.split));
        }
        if !live.checkpoints.is_empty() || !live.log.is_empty() {
            egui::CollapsingHeader::new("Checkpoints and log").show(ui, |ui| {
                for (_, kind, dir) in &live.checkpoints {
                    ui.monospace(format!("{kind}: {}", dir.display()));
                }
                for line in &live.log {
                    ui.monospace(line);
                }
            });
        }
    }
}

fn progress_ui(ui: &mut egui::Ui, live: &LiveRun) {
    if let Some(speed) = live.replay {
        let name = live.run_dir.as_ref().and_then(|d| d.file_name()).map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        ui.label(
            egui::RichText::new(format!("⏵ REPLAY of {name} at {speed}× — a recorded run, not training now"))
                .strong()
                .color(ui.visuals().warn_fg_color),
        );
    }
    let step = live.steps.last().map_or(0, |m| m.step);
    let fraction = if live.total_steps > 0 { step as f32 / live.total_steps as f32 } else { 0.0 };
    let status = match &live.status {
        RunStatus::Running => "running".to_string(),
        RunStatus::Paused => "paused".to_string(),
        RunStatus::Finished => "finished".to_string(),
        RunStatus::Stopped(reason) => format!("stopped: {reason}"),
        RunStatus::Failed(error) => format!("failed: {error}"),
    };
    let epoch = live.steps.last().map_or(0.0, |m| m.epoch);
    let eta = live.eta_secs().filter(|_| live.is_active()).map_or(String::new(), |s| format!(" · ETA {}", secs(s)));
    ui.add(egui::ProgressBar::new(fraction).text(format!("step {step} / {} · epoch {epoch:.2}{eta} · {status}", live.total_steps)));
    if let Some(m) = live.steps.last() {
        ui.label(format!(
            "loss {:.4} · lr {:.2e} · grad norm {:.3} · {:.1} samples/s · {} tokens/s · {} of {} parameters train",
            m.loss,
            m.learning_rate,
            m.grad_norm,
            m.samples_per_sec,
            thousands(m.tokens_per_sec as usize),
            thousands(live.trainable_params),
            thousands(live.total_params)
        ));
    }
    if let RunStatus::Failed(error) = &live.status {
        ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {error}"));
    }
    if let Some(test) = &live.test {
        ui.strong(format!("Test: {}", test.scores(live.task)));
    }
}

/// The compute device of a run: auto, the CPU, or a GPU (offered only by builds with the `cuda`
/// feature; a GPU that turns out unusable fails the run with the reason).
fn device_picker(ui: &mut egui::Ui, device: &mut String) {
    ui.selectable_value(device, "auto".to_string(), "auto").on_hover_text("a GPU where there is one, else the CPU");
    ui.selectable_value(device, "cpu".to_string(), "CPU");
    let cuda = cfg!(feature = "cuda");
    ui.add_enabled_ui(cuda, |ui| {
        ui.selectable_value(device, "cuda:0".to_string(), "GPU (CUDA 0)")
            .on_disabled_hover_text("this build has no CUDA support (build it with --features cuda)");
    });
}
