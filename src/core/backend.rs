//! The background worker: the UI sends [`Command`]s and receives [`Event`]s over channels; every job
//! runs on its own named thread and wakes the UI through a callback whenever it sends something. The
//! UI thread never blocks on a job. A job that duplicates a running one (the same download twice) is
//! refused with a clear error.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use crossbeam_channel::{Receiver, Sender};

use super::config::ConfigSummary;
use super::data::{load_dataset_cancellable, DataSpec, Dataset, DatasetOptions, SplitName, TokenLengthStats};
use super::demo::{demo_headlines_path, DEMO_DATA_SPEC};
use super::embeddings::{inspect, project, sentence_vectors, word_neighbours, EncoderModel, Inspection, Projection, SentenceOptions, VectorSource, WordNeighbours};
use super::hub::HubSettings;
use super::hub::download::{download, DownloadRequest, FileProgress};
use super::hub::search::{list_files, scan_cache, search, CachedRepo, RepoFile, RepoHit, RepoKind, SearchQuery};
use super::model::infer::{fill_mask, MaskPrediction};
use super::model::source::{load_spec, ModelRequest};
use super::model::{LoadOptions as ModelLoadOptions, Task, TaskChoice, TaskModel};
use super::model_source::{load_model, ModelInfo, ModelSpec};
use super::ngram::NgramModel;
use super::text::tokenizer::TextTokenizer;
use super::CoreError;

/// Identifies one background job.
pub type JobId = u64;

/// UI → core.
#[derive(Debug)]
pub enum Command {
    /// Load a model's tokenizer and config, from a spec as the user typed it.
    LoadModel { spec: String, hub: HubSettings },
    /// Search the Hub.
    Search { kind: RepoKind, query: SearchQuery, hub: HubSettings },
    /// Files (with sizes) and the config summary of a Hub repo.
    RepoDetails { kind: RepoKind, repo: String, hub: HubSettings },
    /// Download files into the HF cache; setting `cancel` stops it (what arrived is kept for resuming).
    Download { request: DownloadRequest, hub: HubSettings, cancel: Arc<AtomicBool> },
    /// List what the HF cache holds.
    ScanCache { hub: HubSettings },
    /// Load a dataset (a file, a folder, a Hub dataset id, or `builtin:headlines`).
    LoadDataset { spec: String, options: DatasetOptions, hub: HubSettings, cancel: Arc<AtomicBool> },
    /// Token lengths of every split of a dataset under a model's tokenizer.
    TokenStats { dataset: Arc<Dataset>, model: Arc<ModelInfo>, max_length: usize },
    /// Load a masked language model (weights, head and tokenizer) for the fill-mask playground.
    LoadMaskedLm { spec: String, hub: HubSettings },
    /// Predict the tokens at each [MASK] of a text.
    FillMask { lm: Arc<MaskedLm>, text: String, top_k: usize },
    /// Score pinned probe sentences with one checkpoint of a masked LM (a step of a training run): the
    /// top-k guesses at each mask of each probe.
    ScoreProbes { spec: String, step: u64, probes: Vec<String>, top_k: usize, hub: HubSettings },
    /// Load a model's encoder (any BERT-family checkpoint, heads ignored) for the Embeddings page.
    LoadEncoder { spec: String, hub: HubSettings },
    /// Token vectors, attention maps and the sentence vector of a text.
    Inspect { encoder: Arc<EncoderModel>, text: String, source: VectorSource, max_length: usize, sentence: SentenceOptions },
    /// Nearest vocabulary tokens by cosine.
    Neighbours { encoder: Arc<EncoderModel>, query: NeighbourQuery, top_k: usize },
    /// Sentence vectors of many texts projected to 2D; setting `cancel` stops between batches.
    Project { encoder: Arc<EncoderModel>, texts: Arc<Vec<String>>, options: SentenceOptions, cancel: Arc<AtomicBool> },
    /// Count the words of a dataset's text for the n-gram model.
    BuildNgram { name: String, texts: Vec<String> },
    /// Load a run's dataset and model config to plan it (see [`super::train::plan_inputs`]).
    PlanInputs { config: Box<super::train::TrainConfig> },
    /// The runs of a runs folder.
    ListRuns { dir: PathBuf },
    /// A run's complete checkpoints, one per step (see [`super::train::checkpoint::complete_checkpoints`]).
    ListCheckpoints { run: PathBuf },
    /// The step a checkpoint folder holds now (its trainer_state.json; `last` and `best` are rewritten).
    CheckpointStep { dir: PathBuf },
    /// One run's record (config, metrics, checkpoints).
    LoadRun { dir: PathBuf },
    /// A run folder as one file (see [`super::train::replay::export_run`]).
    ExportRun { dir: PathBuf, path: PathBuf },
    /// A run file unpacked into a runs folder.
    ImportRun { path: PathBuf, runs_dir: PathBuf },
    /// Train a WordPiece tokenizer on a split of a dataset and save it (Hugging Face layout) in `out`;
    /// setting `cancel` stops it.
    TrainTokenizer { dataset: Arc<Dataset>, split: SplitName, settings: super::text::tokenizer_train::TokenizerTrainSettings, out: PathBuf, cancel: Arc<AtomicBool> },
    /// Asks the user for a path with something the UI supplies (a native file dialog), on a job thread:
    /// the window keeps drawing while it is open. The core knows nothing of how it is asked.
    PickPath { title: String, pick: PathPicker },
}

/// What asks the user for a path; `None` when they cancel.
pub struct PathPicker(pub Box<dyn FnOnce() -> Option<PathBuf> + Send>);

impl std::fmt::Debug for PathPicker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PathPicker")
    }
}

/// What to find neighbours of.
#[derive(Clone, Debug)]
pub enum NeighbourQuery {
    /// A typed word (a word of several tokens by the mean of their input embeddings).
    Word(String),
    /// A vector (e.g. a token's contextual vector), named for display; `exclude` leaves ids out.
    Vector { label: String, vector: Vec<f32>, exclude: Vec<u32> },
}

/// A masked LM ready for fill-mask.
pub struct MaskedLm {
    pub name: String,
    pub model: TaskModel,
    pub tokenizer: TextTokenizer,
    /// Weights that were not in the checkpoint and were freshly initialised.
    pub newly_initialized: Vec<String>,
}

impl std::fmt::Debug for MaskedLm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaskedLm").field("name", &self.name).finish()
    }
}

impl Command {
    fn name(&self) -> String {
        match self {
            Command::LoadModel { spec, .. } => format!("Loading {}", spec.trim()),
            Command::Search { query, .. } => format!("Searching the Hub for {:?}", query.text),
            Command::RepoDetails { repo, .. } => format!("Reading {repo}"),
            Command::Download { request, .. } => format!("Downloading {}", request.repo),
            Command::ScanCache { .. } => "Scanning the HF cache".into(),
            Command::LoadDataset { spec, .. } => format!("Loading dataset {}", spec.trim()),
            Command::TokenStats { dataset, .. } => format!("Counting tokens of {}", dataset.name),
            Command::LoadMaskedLm { spec, .. } => format!("Loading masked LM {}", spec.trim()),
            Command::FillMask { lm, .. } => format!("Predicting with {}", lm.name),
            Command::LoadEncoder { spec, .. } => format!("Loading encoder {}", spec.trim()),
            Command::ScoreProbes { step, probes, .. } => format!("Scoring {} probe sentences at step {step}", probes.len()),
            Command::Inspect { encoder, .. } => format!("Reading the text with {}", encoder.name),
            Command::Neighbours { .. } => "Finding neighbours".into(),
            Command::Project { texts, .. } => format!("Embedding {} rows", texts.len()),
            Command::BuildNgram { name, .. } => format!("Counting the words of {name}"),
            Command::TrainTokenizer { dataset, .. } => format!("Training a tokenizer on {}", dataset.name),
            Command::PlanInputs { config } => format!("Planning a run of {}", config.model.trim()),
            Command::ListRuns { dir } => format!("Listing the runs in {}", dir.display()),
            Command::ListCheckpoints { run } => format!("Listing the checkpoints of {}", run.display()),
            Command::CheckpointStep { dir } => format!("Reading the step of {}", dir.display()),
            Command::LoadRun { dir } => format!("Reading run {}", dir.display()),
            Command::ExportRun { dir, .. } => format!("Exporting run {}", dir.display()),
            Command::ImportRun { path, .. } => format!("Importing {}", path.display()),
            Command::PickPath { title, .. } => format!("Waiting for \"{title}\""),
        }
    }

    /// Jobs with the same key may not run twice at once.
    fn key(&self) -> Option<String> {
        match self {
            Command::Download { request, .. } => Some(format!("download:{}", request.repo)),
            _ => None,
        }
    }
}

/// Details of a Hub repo for the details view.
#[derive(Clone, Debug, PartialEq)]
pub struct RepoDetails {
    pub kind: RepoKind,
    pub repo: String,
    pub files: Vec<RepoFile>,
    pub config: Option<ConfigSummary>,
    /// For datasets: the configs and splits that can be loaded.
    pub data: Option<Result<super::data::HubDataListing, String>>,
}

/// Core → UI.
#[derive(Debug)]
pub enum Event {
    JobStarted { id: JobId, name: String },
    JobProgress { id: JobId, message: String, fraction: Option<f32> },
    JobFailed { id: JobId, name: String, error: String },
    JobCancelled { id: JobId, name: String },
    ModelLoaded { id: JobId, model: Arc<ModelInfo> },
    SearchResults { id: JobId, kind: RepoKind, hits: Vec<RepoHit> },
    RepoDetails { id: JobId, details: Box<RepoDetails> },
    DownloadProgress { id: JobId, progress: FileProgress },
    Downloaded { id: JobId, repo: String, snapshot: PathBuf },
    CacheScanned { id: JobId, repos: Vec<CachedRepo> },
    DatasetLoaded { id: JobId, dataset: Arc<Dataset> },
    TokenStats { id: JobId, stats: Vec<(SplitName, TokenLengthStats)> },
    MaskedLmLoaded { id: JobId, lm: Arc<MaskedLm> },
    FillMaskResult { id: JobId, text: String, masks: Vec<Vec<MaskPrediction>> },
    EncoderLoaded { id: JobId, encoder: Arc<EncoderModel> },
    Inspected { id: JobId, inspection: Box<Inspection> },
    NeighboursFound { id: JobId, result: WordNeighbours },
    Projected { id: JobId, projection: Arc<Projection> },
    NgramBuilt { id: JobId, name: String, model: Arc<NgramModel> },
    PlanInputs { id: JobId, inputs: Arc<super::train::PlanInputs> },
    RunsListed { id: JobId, dir: PathBuf, runs: Vec<super::train::RunSummary> },
    /// `(step, folder)` of each complete checkpoint of `run`, oldest first.
    CheckpointsListed { id: JobId, run: PathBuf, checkpoints: Vec<(u64, PathBuf)> },
    CheckpointStep { id: JobId, dir: PathBuf, step: u64 },
    RunLoaded { id: JobId, dir: PathBuf, record: Box<super::train::RunRecord> },
    RunExported { id: JobId, path: PathBuf },
    RunImported { id: JobId, dir: PathBuf },
    FileChosen { id: JobId, path: Option<PathBuf> },
    TokenizerTrained { id: JobId, info: Box<TrainedTokenizerInfo> },
    /// Each probe's guesses (one list per mask), or why it could not be scored.
    ProbesScored { id: JobId, step: u64, scores: Vec<Result<Vec<Vec<MaskPrediction>>, String>> },
}

/// A tokenizer trained and saved by a [`Command::TrainTokenizer`] job.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainedTokenizerInfo {
    pub dir: PathBuf,
    pub vocab_size: usize,
    pub report: super::text::tokenizer_train::CoverageReport,
}

impl Event {
    /// The job an event belongs to.
    pub fn job(&self) -> JobId {
        match self {
            Event::JobStarted { id, .. }
            | Event::JobProgress { id, .. }
            | Event::JobFailed { id, .. }
            | Event::JobCancelled { id, .. }
            | Event::ModelLoaded { id, .. }
            | Event::SearchResults { id, .. }
            | Event::RepoDetails { id, .. }
            | Event::DownloadProgress { id, .. }
            | Event::Downloaded { id, .. }
            | Event::CacheScanned { id, .. }
            | Event::DatasetLoaded { id, .. }
            | Event::TokenStats { id, .. }
            | Event::MaskedLmLoaded { id, .. }
            | Event::FillMaskResult { id, .. }
            | Event::EncoderLoaded { id, .. }
            | Event::Inspected { id, .. }
            | Event::NeighboursFound { id, .. }
            | Event::Projected { id, .. }
            | Event::NgramBuilt { id, .. }
            | Event::PlanInputs { id, .. }
            | Event::RunsListed { id, .. }
            | Event::CheckpointsListed { id, .. }
            | Event::CheckpointStep { id, .. }
            | Event::RunLoaded { id, .. }
            | Event::RunExported { id, .. }
            | Event::RunImported { id, .. }
            | Event::FileChosen { id, .. }
            | Event::TokenizerTrained { id, .. }
            | Event::ProbesScored { id, .. } => *id,
        }
    }

    /// Whether this event ends its job.
    pub fn is_terminal(&self) -> bool {
        !matches!(self, Event::JobStarted { .. } | Event::JobProgress { .. } | Event::DownloadProgress { .. })
    }
}

/// Called whenever a job sends an event, so the UI repaints.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

#[derive(Clone)]
struct Outbox {
    tx: Sender<Event>,
    waker: Waker,
}

impl Outbox {
    fn send(&self, event: Event) {
        if self.tx.send(event).is_ok() {
            (self.waker)();
        }
    }
}

/// The UI's end of the background jobs.
pub struct Backend {
    outbox: Outbox,
    events: Receiver<Event>,
    running: Arc<Mutex<HashSet<String>>>,
    next_id: JobId,
}

impl Backend {
    pub fn spawn(waker: Waker) -> Self {
        let (tx, events) = crossbeam_channel::unbounded::<Event>();
        Self { outbox: Outbox { tx, waker }, events, running: Arc::default(), next_id: 1 }
    }

    /// Starts a job on its own named thread; returns the id its events carry.
    pub fn send(&mut self, command: Command) -> JobId {
        let id = self.next_id;
        self.next_id += 1;
        let name = command.name();
        if let Some(key) = command.key() {
            let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
            if !running.insert(key) {
                self.outbox.send(Event::JobFailed { id, name: name.clone(), error: format!("{name}: already running") });
                return id;
            }
        }
        let out = self.outbox.clone();
        let running = self.running.clone();
        let spawned = std::thread::Builder::new().name(format!("lmw-job-{id}")).spawn(move || {
            let key = command.key();
            out.send(Event::JobStarted { id, name: name.clone() });
            let event = run_job(id, command, &out).unwrap_or_else(|e| match e {
                CoreError::Cancelled => Event::JobCancelled { id, name },
                e => Event::JobFailed { id, name, error: e.to_string() },
            });
            if let Some(key) = key {
                running.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
            }
            out.send(event);
        });
        if let Err(e) = spawned {
            self.outbox.send(Event::JobFailed { id, name: "starting a job".into(), error: e.to_string() });
        }
        id
    }

    /// Takes the events waiting now, without blocking.
    pub fn poll(&self) -> Vec<Event> {
        self.events.try_iter().collect()
    }

    /// Waits for the next event up to `timeout` (for tests and the CLI, never the UI thread).
    pub fn wait(&self, timeout: std::time::Duration) -> Option<Event> {
        self.events.recv_timeout(timeout).ok()
    }
}

/// A job's error from a model, training or projection error (its message as the user sees it).
fn job_err(e: impl std::fmt::Display) -> CoreError {
    CoreError::Model(e.to_string())
}

/// Loads a model spec with its weights (never random ones) for `task`, reporting progress; returns its
/// display name, the model and its tokenizer.
fn load_with_weights(
    id: JobId,
    out: &Outbox,
    spec: &str,
    hub: &HubSettings,
    task: Task,
) -> Result<(String, super::model::source::SpecModel, TextTokenizer), CoreError> {
    let parsed = ModelSpec::parse(spec)?;
    let request =
        ModelRequest { task: TaskChoice::Task(task), num_labels: None, require_weights: true, options: ModelLoadOptions::default() };
    let loaded = load_spec(&parsed, hub, &request, &mut |m| {
        out.send(Event::JobProgress { id, message: m.to_string(), fraction: None });
    })
    .map_err(job_err)?;
    let tokenizer = loaded.tokenizer().map_err(job_err)?;
    Ok((parsed.label(), loaded, tokenizer))
}

fn run_job(id: JobId, command: Command, out: &Outbox) -> Result<Event, CoreError> {
    match command {
        Command::LoadModel { spec, hub } => {
            let spec = ModelSpec::parse(&spec)?;
            let model = load_model(&spec, &hub, &mut |message, fraction| {
                out.send(Event::JobProgress { id, message: message.to_string(), fraction });
            })?;
            Ok(Event::ModelLoaded { id, model: Arc::new(model) })
        }
        Command::Search { kind, query, hub } => Ok(Event::SearchResults { id, kind, hits: search(&hub, kind, &query)? }),
        Command::RepoDetails { kind, repo, hub } => {
            let files = list_files(&hub, kind, &repo, None)?;
            let config = if kind == RepoKind::Model && files.iter().any(|f| f.path == "config.json") {
                let dir = hub.fetch_model_files(&repo, None, &["config.json"], &[], &mut |_, _, _| {})?.dir;
                Some(ConfigSummary::from_file(&dir.join("config.json"))?)
            } else {
                None
            };
            let data = (kind == RepoKind::Dataset).then(|| super::data::list_hub_dataset(&hub, &repo).map_err(|e| e.to_string()));
            Ok(Event::RepoDetails { id, details: Box::new(RepoDetails { kind, repo, files, config, data }) })
        }
        Command::Download { request, hub, cancel } => {
            let total_files = request.files.len().max(1) as f32;
            let mut done_files = 0usize;
            let snapshot = download(&hub, &request, &cancel, &mut |progress| {
                if progress.done {
                    done_files += 1;
                }
                let within = progress.fraction();
                let fraction = ((done_files as f32 + if progress.done { 0.0 } else { within }) / total_files).min(1.0);
                out.send(Event::JobProgress { id, message: progress.file.clone(), fraction: Some(fraction) });
                out.send(Event::DownloadProgress { id, progress });
            })?;
            Ok(Event::Downloaded { id, repo: request.repo, snapshot })
        }
        Command::ScanCache { hub } => Ok(Event::CacheScanned { id, repos: scan_cache(&hub.cache_dir) }),
        Command::LoadDataset { spec, options, hub, cancel } => {
            let parsed = if spec.trim() == DEMO_DATA_SPEC { DataSpec::File(demo_headlines_path()?) } else { DataSpec::parse(&spec)? };
            let mut on_rows =
                |p: super::data::LoadProgress| out.send(Event::JobProgress { id, message: format!("{} rows", p.rows_read), fraction: Some(p.fraction()) });
            let dataset = match parsed {
                DataSpec::Hub { .. } => {
                    let mut on_download = |p: FileProgress| {
                        out.send(Event::JobProgress { id, message: format!("downloading {}", p.file), fraction: Some(p.fraction()) });
                    };
                    super::data::load_hub_dataset(&hub, &spec, &options, &mut on_download, &mut on_rows, Some(&cancel))?
                }
                local => load_dataset_cancellable(&local, &options, &mut on_rows, Some(&cancel))?,
            };
            Ok(Event::DatasetLoaded { id, dataset: Arc::new(dataset) })
        }
        Command::TokenStats { dataset, model, max_length } => {
            let mut stats = Vec::new();
            for split in &dataset.splits {
                let s = super::data::token_length_stats(&model.tokenizer, split, max_length)?;
                stats.push((split.name, s));
            }
            Ok(Event::TokenStats { id, stats })
        }
        Command::LoadMaskedLm { spec, hub } => {
            let (name, loaded, tokenizer) = load_with_weights(id, out, &spec, &hub, Task::MaskedLm)?;
            let lm = MaskedLm { name, newly_initialized: loaded.report.newly_initialized.clone(), model: loaded.model, tokenizer };
            Ok(Event::MaskedLmLoaded { id, lm: Arc::new(lm) })
        }
        Command::ScoreProbes { spec, step, probes, top_k, hub } => {
            // A run's `last` folder is rewritten at each save: the step is the one its weights are from.
            let step = super::train::checkpoint::read_state(std::path::Path::new(&spec)).map_or(step, |s| s.step);
            let (_, loaded, tokenizer) = load_with_weights(id, out, &spec, &hub, Task::MaskedLm)?;
            let scores = probes
                .iter()
                .map(|probe| fill_mask(&loaded.model, &tokenizer, probe, top_k).map_err(|e| e.to_string()))
                .collect();
            Ok(Event::ProbesScored { id, step, scores })
        }
        Command::FillMask { lm, text, top_k } => {
            let masks = fill_mask(&lm.model, &lm.tokenizer, &text, top_k).map_err(job_err)?;
            Ok(Event::FillMaskResult { id, text, masks })
        }
        Command::LoadEncoder { spec, hub } => {
            let (name, loaded, tokenizer) = load_with_weights(id, out, &spec, &hub, Task::Base)?;
            out.send(Event::JobProgress { id, message: "indexing the vocabulary".into(), fraction: None });
            let newly = loaded.report.newly_initialized.clone();
            let encoder = EncoderModel::new(name, loaded.model, tokenizer, newly).map_err(job_err)?;
            Ok(Event::EncoderLoaded { id, encoder: Arc::new(encoder) })
        }
        Command::Inspect { encoder, text, source, max_length, sentence } => {
            let inspection =
                inspect(&encoder, &text, source, max_length, &sentence).map_err(job_err)?;
            Ok(Event::Inspected { id, inspection: Box::new(inspection) })
        }
        Command::Neighbours { encoder, query, top_k } => {
            let result = match query {
                NeighbourQuery::Word(word) => word_neighbours(&encoder.index, &encoder.tokenizer, &word, top_k).map_err(job_err)?,
                NeighbourQuery::Vector { label, vector, exclude } => WordNeighbours {
                    neighbours: encoder.index.nearest(&vector, top_k, &exclude).map_err(job_err)?,
                    word: label,
                    tokens: exclude.iter().map(|&i| encoder.index.token(i).unwrap_or("?").to_string()).collect(),
                    ids: exclude,
                },
            };
            Ok(Event::NeighboursFound { id, result })
        }
        Command::Project { encoder, texts, options, cancel } => {
            let mut progress = |done: usize, total: usize| {
                out.send(Event::JobProgress { id, message: format!("{done} of {total} rows"), fraction: Some(done as f32 / total.max(1) as f32) });
            };
            let vectors = sentence_vectors(&encoder.model, &encoder.tokenizer, &texts, &options, &mut progress, Some(&cancel))
                .map_err(|e| if cancel.load(std::sync::atomic::Ordering::Relaxed) { CoreError::Cancelled } else { job_err(e) })?;
            let projection = project(&vectors).map_err(job_err)?;
            Ok(Event::Projected { id, projection: Arc::new(projection) })
        }
        Command::ListRuns { dir } => Ok(Event::RunsListed { id, runs: super::train::list_runs(&dir), dir }),
        Command::ListCheckpoints { run } => {
            let checkpoints = super::train::checkpoint::complete_checkpoints(&run).map_err(job_err)?;
            Ok(Event::CheckpointsListed { id, run, checkpoints })
        }
        Command::CheckpointStep { dir } => {
            let step = super::train::checkpoint::read_state(&dir).map_err(job_err)?.step;
            Ok(Event::CheckpointStep { id, dir, step })
        }
        Command::LoadRun { dir } => {
            let record = super::train::load_run(&dir).map_err(job_err)?;
            Ok(Event::RunLoaded { id, dir, record: Box::new(record) })
        }
        Command::ExportRun { dir, path } => {
            super::train::replay::export_run(&dir, &path).map_err(job_err)?;
            Ok(Event::RunExported { id, path })
        }
        Command::ImportRun { path, runs_dir } => {
            let dir = super::train::replay::import_run(&path, &runs_dir).map_err(job_err)?;
            Ok(Event::RunImported { id, dir })
        }
        Command::PickPath { pick, .. } => Ok(Event::FileChosen { id, path: (pick.0)() }),
        Command::PlanInputs { config } => {
            let inputs = super::train::plan_inputs(&config).map_err(job_err)?;
            Ok(Event::PlanInputs { id, inputs: Arc::new(inputs) })
        }
        Command::TrainTokenizer { dataset, split, settings, out: dir, cancel } => {
            let texts = &dataset.split(split).ok_or_else(|| CoreError::Tokenize(format!("{} has no {} split", dataset.name, split.as_str())))?.texts;
            let mut progress = |stage: &str, fraction: f32| {
                out.send(Event::JobProgress { id, message: stage.to_string(), fraction: Some(fraction) });
                !cancel.load(std::sync::atomic::Ordering::Relaxed)
            };
            let trained = super::text::tokenizer_train::train_tokenizer(texts.iter().map(String::as_str), &settings, &mut progress)?;
            super::text::tokenizer_train::save_trained(&trained, &dir)?;
            let info = TrainedTokenizerInfo { dir, vocab_size: trained.vocab.len(), report: trained.report };
            Ok(Event::TokenizerTrained { id, info: Box::new(info) })
        }
        Command::BuildNgram { name, texts } => {
            let model = NgramModel::new(texts.iter().map(String::as_str));
            Ok(Event::NgramBuilt { id, name, model: Arc::new(model) })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    fn terminal(backend: &Backend, id: JobId) -> Event {
        std::iter::from_fn(|| backend.wait(Duration::from_secs(30))).find(|e| e.job() == id && e.is_terminal()).expect("a terminal event")
    }

    #[test]
    fn load_reports_start_then_result_and_wakes_the_ui() {
        let wakes = Arc::new(AtomicUsize::new(0));
        let counter = wakes.clone();
        let mut backend = Backend::spawn(Arc::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        }));
        let id = backend.send(Command::LoadModel { spec: "builtin:demo".into(), hub: HubSettings::from_env() });
        match terminal(&backend, id) {
            Event::ModelLoaded { model, .. } => assert_eq!(model.name, "built-in demo"),
            other => panic!("{other:?}"),
        }
        assert!(wakes.load(Ordering::SeqCst) >= 2);

        let id = backend.send(Command::LoadModel { spec: "/no/such/folder".into(), hub: HubSettings::from_env() });
        match terminal(&backend, id) {
            Event::JobFailed { error, .. } => assert_eq!(error, "model folder not found: /no/such/folder"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_duplicate_download_is_refused() {
        let mut backend = Backend::spawn(Arc::new(|| {}));
        let hub = HubSettings { endpoint: Some("http://127.0.0.1:9".into()), cache_dir: std::env::temp_dir(), offline: false };
        let request = DownloadRequest { kind: RepoKind::Model, repo: "a/b".into(), revision: None, files: vec!["x".into()] };
        backend.running.lock().unwrap().insert("download:a/b".into());
        let id = backend.send(Command::Download { request, hub, cancel: Arc::default() });
        match terminal(&backend, id) {
            Event::JobFailed { error, .. } => assert_eq!(error, "Downloading a/b: already running"),
            other => panic!("{other:?}"),
        }
    }
}
