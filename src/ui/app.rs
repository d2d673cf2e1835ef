//! The app shell: navigation, status bar, the background worker, persistence.

use std::sync::{Arc, OnceLock};

use crate::core::backend::{Backend, Command, Event, JobId, Waker};
use crate::core::data::Dataset;
use crate::core::demo::DEMO_SPEC;
use crate::core::device::{best_device, device_label};
use crate::core::hub::HubSettings;
use crate::core::model_source::ModelInfo;

use super::cached_models::CacheListing;
use super::state::{Page, State};
use super::status_bar::status_bar_ui;

/// A change to the whole app that a page asks for; applied after drawing.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub enum AppCommand {
    LoadModel(String),
    /// Open a dataset on the Model & Data page.
    LoadDataset(String),
    OpenPage(Page),
    /// Show a tokenizer beside the loaded model's on the Tokenize page.
    CompareTokenizer(String),
    /// Play a run folder back on the Train page at `speed`× its recorded pace.
    Replay { dir: std::path::PathBuf, speed: f64 },
}

/// A background job as the UI shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct JobView {
    pub id: JobId,
    pub name: String,
    pub message: String,
    pub fraction: Option<f32>,
}

/// What pages read from the app while they draw.
pub struct PageContext<'a> {
    pub model: Option<&'a Arc<ModelInfo>>,
    /// Pages start their own background jobs (the call never blocks) and match their events by id.
    pub backend: &'a mut Backend,
    pub jobs: &'a [JobView],
    /// The model load in progress, if any.
    pub model_job: Option<JobId>,
    /// Wakes the UI from a background thread.
    pub waker: &'a Waker,
    /// The dataset loaded on the Model & Data page, and the spec it was loaded from.
    pub dataset: Option<&'a Arc<Dataset>>,
    pub dataset_spec: &'a str,
    /// The share held out for validation when that dataset has no validation split.
    pub dataset_validation_fraction: f64,
    pub load_error: Option<&'a str>,
    pub hub: &'a HubSettings,
    pub commands: &'a mut Vec<AppCommand>,
    /// The repos in the HF cache, one listing for every page.
    pub cache: &'a mut CacheListing,
    /// The step and folder of the latest checkpoint of the Train page's masked-LM run, if any.
    pub training_checkpoint: Option<(u64, std::path::PathBuf)>,
    /// The embedding snapshots of the Train page's classifier run, if it has any.
    pub training_embeddings: Option<TrainingEmbeddings>,
    /// Native file dialogs, shown off the UI thread.
    pub dialogs: &'a mut super::file_dialogs::Dialogs,
    /// The masked LM loaded on the Fill-Mask page, if any (the n-gram view compares with it).
    pub masked_lm: Option<Arc<crate::core::backend::MaskedLm>>,
    /// This build and machine can train on a GPU.
    pub device_is_gpu: bool,
}

/// A classifier run's validation rows on its fixed 2D basis, one snapshot per evaluation.
#[derive(Clone, Debug)]
pub struct TrainingEmbeddings {
    pub run: String,
    pub label_names: Vec<String>,
    pub snapshots: Vec<Arc<crate::core::train::snapshot::EmbeddingSnapshot>>,
    /// `(step, validation accuracy)` of each evaluation.
    pub accuracy: Vec<(u64, f64)>,
}

/// Quitting while a run trains: the app asks first, and can stop the run (saving `last`) before it
/// closes.
#[derive(Debug, Default)]
struct QuitGuard {
    /// The question is open.
    asking: bool,
    /// Close as soon as the run has stopped and saved.
    stop_then_quit: bool,
    /// The user chose to quit: let the next close request through.
    confirmed: bool,
}

pub struct WorkbenchApp {
    pub state: State,
    backend: Backend,
    waker: Waker,
    repaint: Arc<OnceLock<egui::Context>>,
    model: Option<Arc<ModelInfo>>,
    jobs: Vec<JobView>,
    load_error: Option<String>,
    /// The spec of the load the user asked for last; earlier results are ignored.
    wanted: Option<(JobId, String)>,
    device: String,
    device_is_gpu: bool,
    hub: HubSettings,
    fonts_installed: bool,
    cache: CacheListing,
    quit: QuitGuard,
    dialogs: super::file_dialogs::Dialogs,
    /// The look applied (presenter or not), so it is set only when it changes.
    theme_applied: Option<bool>,
}

impl WorkbenchApp {
    /// Starts the app with the given state, loading the model it names (or the built-in demo).
    pub fn new(state: State) -> Self {
        Self::with_hub(state, HubSettings::from_env())
    }

    /// As [`Self::new`], with explicit Hub settings (tests point these at a local server).
    pub fn with_hub(state: State, hub: HubSettings) -> Self {
        let repaint: Arc<OnceLock<egui::Context>> = Arc::new(OnceLock::new());
        let waker_ctx = repaint.clone();
        let waker: Waker = Arc::new(move || {
            if let Some(ctx) = waker_ctx.get() {
                ctx.request_repaint();
            }
        });
        let backend = Backend::spawn(waker.clone());
        let device = best_device();
        let mut app = Self {
            state,
            backend,
            waker,
            repaint,
            model: None,
            jobs: Vec::new(),
            load_error: None,
            wanted: None,
            device: device_label(&device),
            device_is_gpu: !device.is_cpu(),
            hub,
            fonts_installed: false,
            cache: CacheListing::default(),
            quit: QuitGuard::default(),
            dialogs: super::file_dialogs::Dialogs::default(),
            theme_applied: None,
        };
        // The last model that loaded, not what was last typed: a failed attempt before quitting must not
        // leave the next start with the built-in demo and an old error.
        let spec = match app.state.model.recent.first() {
            Some(loaded) => loaded.clone(),
            None => app.state.model.spec.trim().to_string(),
        };
        let spec = if spec.is_empty() { DEMO_SPEC.to_string() } else { spec };
        app.state.model.spec.clone_from(&spec);
        app.load(spec);
        app
    }

    pub fn from_creation_context(cc: &eframe::CreationContext<'_>) -> Self {
        let state = cc.storage.and_then(|s| eframe::get_value::<State>(s, State::STORAGE_KEY)).unwrap_or_default();
        let app = Self::new(state);
        let _ = app.repaint.set(cc.egui_ctx.clone());
        app
    }

    pub fn model(&self) -> Option<&Arc<ModelInfo>> {
        self.model.as_ref()
    }

    pub fn jobs(&self) -> &[JobView] {
        &self.jobs
    }

    pub fn load_error(&self) -> Option<&str> {
        self.load_error.as_deref()
    }

    /// Asks the worker to load a model; the current one stays usable until the new one arrives.
    pub fn load(&mut self, spec: String) {
        let hub = self.effective_hub();
        let id = self.backend.send(Command::LoadModel { spec: spec.clone(), hub });
        self.wanted = Some((id, spec));
    }

    /// The Hub settings in force (the offline switch of the Model & Data page included).
    fn effective_hub(&self) -> HubSettings {
        let mut hub = self.hub.clone();
        hub.offline |= self.state.model.offline;
        hub
    }

    /// Drains the jobs' events (never blocks).
    pub fn logic(&mut self) {
        self.state.train.logic();
        for event in self.backend.poll() {
            let id = event.job();
            match &event {
                Event::JobStarted { name, .. } => {
                    self.jobs.push(JobView { id, name: name.clone(), message: String::new(), fraction: None });
                }
                Event::JobProgress { message, fraction, .. } => {
                    if let Some(job) = self.jobs.iter_mut().find(|j| j.id == id) {
                        job.message.clone_from(message);
                        job.fraction = *fraction;
                    }
                }
                e if e.is_terminal() => self.jobs.retain(|j| j.id != id),
                _ => {}
            }
            let wanted = self.wanted.as_ref().is_some_and(|(w, _)| *w == id);
            match event {
                Event::ModelLoaded { model, .. } if wanted => {
                    if let Some((_, spec)) = self.wanted.take() {
                        self.state.model.remember(&spec);
                    }
                    self.load_error = None;
                    self.model = Some(model);
                }
                Event::JobFailed { name, error, .. } if wanted => {
                    tracing::warn!("{name}: {error}");
                    self.load_error = Some(error);
                    self.wanted = None;
                    if self.model.is_none() {
                        // Never leave the user without a tokenizer: fall back to the demo.
                        self.load(DEMO_SPEC.to_string());
                    }
                }
                other => {
                    if let Event::Downloaded { .. } = &other {
                        // A new snapshot in the cache: every page's listing is out of date.
                        self.cache.invalidate();
                    }
                    let unclaimed = self
                        .dialogs
                        .on_event(other)
                        .and_then(|e| self.cache.on_event(e))
                        .and_then(|e| self.state.model.hub.on_event(e))
                        .and_then(|e| self.state.model.data.on_event(e))
                        .and_then(|e| self.state.model.tokenizer_training.on_event(e))
                        .and_then(|e| self.state.fill_mask.on_event(e))
                        .and_then(|e| self.state.tokenize.on_event(e))
                        .and_then(|e| self.state.embeddings.on_event(e))
                        .and_then(|e| self.state.train.on_event(e))
                        .and_then(|e| self.state.runs.on_event(e));
                    if let Some(Event::JobFailed { name, error, .. }) = unclaimed {
                        tracing::warn!("{name}: {error}");
                    }
                }
            }
        }
    }

    /// Whether the quit question is open.
    pub fn is_asking_to_quit(&self) -> bool {
        self.quit.asking
    }

    /// Ctrl+Q and the window's close button: while a run trains, the close is held back and the user
    /// asked whether to stop the run (saving its `last` checkpoint) first.
    fn guard_quit(&mut self, ctx: &egui::Context) {
        let quit_key = egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::Q);
        // A replay has nothing to lose.
        let training = self.state.train.live.as_ref().is_some_and(|l| l.is_active() && l.replay.is_none());
        if ctx.input_mut(|i| i.consume_shortcut(&quit_key)) {
            if training && !self.quit.confirmed {
                self.quit.asking = true;
            } else {
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
        }
        if ctx.input(|i| i.viewport().close_requested()) && training && !self.quit.confirmed {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.quit.asking = true;
        }
        // Stopped and saved as asked — or the run ended on its own while the question was open: either
        // way nothing is lost any more, and the user asked to quit.
        if (self.quit.stop_then_quit || self.quit.asking) && !training {
            self.quit.stop_then_quit = false;
            self.quit.asking = false;
            self.quit.confirmed = true;
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        if !self.quit.asking {
            return;
        }
        let modal = egui::Modal::new(egui::Id::unique("quit_while_training")).show(ctx, |ui| {
            ui.set_max_width(420.0);
            ui.heading("A run is training");
            if self.quit.stop_then_quit {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Stopping the run and saving its last checkpoint…");
                });
                return;
            }
            ui.label("Stop it and save a checkpoint before quitting? It can be resumed later from the Train page.");
            ui.add_space(6.0);
            ui.horizontal(|ui| {
                if ui.button("Stop, save and quit").clicked() {
                    if let Some(live) = &self.state.train.live {
                        live.stop();
                    }
                    self.quit.stop_then_quit = true;
                }
                if ui.button("Keep training").clicked() {
                    self.quit.asking = false;
                }
                if ui.button("Quit without saving").on_hover_text("the run resumes from its newest checkpoint").clicked() {
                    self.quit.asking = false;
                    self.quit.confirmed = true;
                    ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                }
            });
        });
        if modal.should_close() && !self.quit.stop_then_quit {
            self.quit.asking = false;
        }
    }

    /// F5 presenter mode; Ctrl+1…6 the pages; Ctrl+Enter start / pause / resume training; Ctrl+.
    /// stop it.
    fn hotkeys(&mut self, ctx: &egui::Context) {
        use egui::{Key, KeyboardShortcut, Modifiers};
        let pressed = |shortcut: KeyboardShortcut| ctx.input_mut(|i| i.consume_shortcut(&shortcut));
        if pressed(KeyboardShortcut::new(Modifiers::NONE, Key::F5)) {
            self.state.presenter = !self.state.presenter;
        }
        let keys = [Key::Num1, Key::Num2, Key::Num3, Key::Num4, Key::Num5, Key::Num6];
        for (key, page) in keys.into_iter().zip(Page::ALL) {
            if pressed(KeyboardShortcut::new(Modifiers::COMMAND, key)) {
                self.state.page = page;
            }
        }
        if pressed(KeyboardShortcut::new(Modifiers::COMMAND, Key::Enter)) {
            let hub = self.effective_hub();
            self.state.train.start_pause_resume(&self.waker, &hub);
        }
        if pressed(KeyboardShortcut::new(Modifiers::COMMAND, Key::Period)) {
            self.state.train.stop_run();
        }
    }

    /// Draws the whole app into `ui`.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        let _ = self.repaint.set(ui.ctx().clone());
        if !self.fonts_installed {
            super::fonts::install_fallback_fonts(ui.ctx());
            self.fonts_installed = true;
        }
        self.logic();
        let ctx = ui.ctx().clone();
        self.guard_quit(&ctx);
        self.hotkeys(&ctx);
        if self.theme_applied != Some(self.state.presenter) {
            super::theme::apply(&ctx, self.state.presenter);
            self.theme_applied = Some(self.state.presenter);
        }
        let mut commands = Vec::new();

        egui::Panel::top("nav").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.label(egui::RichText::new(super::APP_NAME).strong());
                ui.separator();
                for (i, page) in Page::ALL.into_iter().enumerate() {
                    let tab = ui.selectable_label(self.state.page == page, page.title()).on_hover_text(format!("Ctrl+{}", i + 1));
                    if tab.clicked() {
                        commands.push(AppCommand::OpenPage(page));
                    }
                }
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    ui.toggle_value(&mut self.state.tour.open, "Tour").on_hover_text("a walk through the talk's story, offline, in six steps");
                    let hint = "F5: presenter mode (larger, high contrast) · Ctrl+1…6: pages · Ctrl+Enter: start / pause / resume training · Ctrl+.: stop";
                    ui.toggle_value(&mut self.state.presenter, "Presenter").on_hover_text(hint);
                });
            });
        });
        let training = self.state.train.live.as_ref().filter(|l| l.is_active()).map(|l| {
            let step = l.steps.last().map_or(0, |s| s.step);
            let name = l.run_dir.as_ref().and_then(|d| d.file_name()).map_or_else(String::new, |n| format!(" {}", n.to_string_lossy()));
            let verb = match (l.replay, &l.status) {
                (Some(_), _) => "Replaying",
                (None, super::train_page::RunStatus::Paused) => "Paused",
                (None, _) => "Training",
            };
            let speed = l.steps.last().map_or_else(String::new, |s| format!(" · {:.1} samples/s", s.samples_per_sec));
            super::status_bar::TrainingStatus {
                text: format!("{verb}{name} · step {step}/{}{speed}", l.total_steps),
                fraction: (l.total_steps > 0).then(|| step as f32 / l.total_steps as f32),
            }
        });
        if self.state.tour.open {
            let fill = ui.visuals().faint_bg_color;
            let tour = egui::Panel::top("tour").frame(egui::Frame::side_top_panel(ui.style()).fill(fill)).show(ui, |ui| self.state.tour.ui(ui));
            if let Some(request) = tour.inner {
                self.tour_step(request);
            }
        }
        egui::Panel::bottom("status").show(ui, |ui| {
            status_bar_ui(ui, &self.device, self.model.as_deref(), &self.jobs, training.as_ref());
        });
        let hub = self.effective_hub();
        self.state.model.data.logic(&mut self.backend, &hub);
        let dataset = self.state.model.data.dataset().cloned();
        // The spec of the dataset that is loaded (not a spec typed since that has not loaded).
        let dataset_spec = match self.state.model.data.loaded_spec.trim() {
            "" => self.state.model.data.spec.clone(),
            loaded => loaded.to_string(),
        };
        let training_checkpoint = self.state.train.live.as_ref().and_then(|l| l.masked_lm_checkpoint());
        self.state.fill_mask.logic(&mut self.backend, training_checkpoint.clone(), &hub);
        let masked_lm = self.state.fill_mask.masked_lm().cloned();
        let training_embeddings = self.state.train.live.as_ref().filter(|l| !l.snapshots.is_empty()).map(|l| TrainingEmbeddings {
            run: l.run_dir.as_ref().and_then(|d| d.file_name()).map_or_else(|| "the run".into(), |n| n.to_string_lossy().into_owned()),
            label_names: l.label_names.clone(),
            snapshots: l.snapshots.clone(),
            accuracy: l.evals.iter().filter(|e| e.split == "validation").map(|e| (e.step, e.accuracy)).collect(),
        });
        egui::CentralPanel::default().show(ui, |ui| {
            let mut ctx = PageContext {
                waker: &self.waker,
                dataset: dataset.as_ref(),
                dataset_spec: &dataset_spec,
                dataset_validation_fraction: self.state.model.data.options.validation_fraction,
                model: self.model.as_ref(),
                backend: &mut self.backend,
                jobs: &self.jobs,
                model_job: self.wanted.as_ref().map(|(id, _)| *id),
                load_error: self.load_error.as_deref(),
                hub: &hub,
                commands: &mut commands,
                training_checkpoint,
                masked_lm,
                training_embeddings,
                dialogs: &mut self.dialogs,
                cache: &mut self.cache,
                device_is_gpu: self.device_is_gpu,
            };
            match self.state.page {
                Page::ModelData => self.state.model.ui(ui, &mut ctx),
                Page::Tokenize => self.state.tokenize.ui(ui, &mut ctx),
                Page::FillMask => self.state.fill_mask.ui(ui, &mut ctx),
                Page::Train => self.state.train.ui(ui, &mut ctx),
                Page::Runs => self.state.runs.ui(ui, &mut ctx),
                Page::Embeddings => self.state.embeddings.ui(ui, &mut ctx, &mut self.state.tokenize.text),
            }
        });
        for command in commands {
            self.run_command(command);
        }
    }

    /// Opens the page of a tour step and sets it up (the demo's text, the demo kit's settings with the
    /// step's freeze, the demo encoder), starting the run of a training step when asked.
    fn tour_step(&mut self, request: super::tour::TourRequest) {
        match request.step {
            0 | 1 => {
                if self.state.tokenize.text.trim().is_empty() {
                    self.state.tokenize.text = super::tokenize_page::DEFAULT_TEXT.into();
                }
                self.state.tokenize.tab =
                    if request.step == 0 { super::tokenize_page::Tab::Encoding } else { super::tokenize_page::Tab::OneHot };
                if self.model.is_none() {
                    self.load(DEMO_SPEC.to_string());
                }
                self.state.page = Page::Tokenize;
            }
            2 | 3 => {
                let freeze = if request.step == 2 { "classifier" } else { "none" };
                let name = if request.step == 2 { "demo-classifier-only" } else { "demo-whole-model" };
                let config = crate::core::train::TrainConfig {
                    freeze: freeze.into(),
                    run_name: name.into(),
                    runs_dir: self.state.train.config.runs_dir.clone(),
                    ..crate::core::train::demo_kit_config()
                };
                if request.start_run {
                    let hub = self.effective_hub();
                    self.state.train.start_config(config, &self.waker, &hub);
                } else if !self.state.train.live.as_ref().is_some_and(super::live_run::LiveRun::is_active) {
                    self.state.train.config = config;
                }
                self.state.page = Page::Train;
            }
            4 => self.state.page = Page::Runs,
            _ => {
                let fill = &mut self.state.fill_mask;
                if !fill.text.contains("[MASK]") {
                    fill.text = "England win the [MASK] in extra time.".into();
                }
                self.state.page = Page::FillMask;
            }
        }
    }

    fn run_command(&mut self, command: AppCommand) {
        match command {
            AppCommand::LoadModel(spec) => self.load(spec),
            AppCommand::LoadDataset(spec) => self.state.model.data.request_load(spec),
            AppCommand::OpenPage(page) => self.state.page = page,
            AppCommand::CompareTokenizer(spec) => {
                self.state.tokenize.compare_with(spec);
                self.state.page = Page::Tokenize;
            }
            AppCommand::Replay { dir, speed } => {
                self.state.train.start_replay(&dir, speed, &self.waker);
                self.state.page = Page::Train;
            }
        }
    }
}

impl eframe::App for WorkbenchApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        let _ = self.repaint.set(ctx.clone());
        WorkbenchApp::logic(self);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, State::STORAGE_KEY, &self.state);
    }
}
