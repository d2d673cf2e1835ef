//! The training loop: a plain blocking function ([`run_training`]) that the background thread, the CLI
//! and the tests call. Each optimizer step: the step's batches (dynamic padding to the longest row),
//! forward with seeded dropout, loss (checked finite), backward, gradients accumulated (weighted by
//! rows), global-norm clipping, AdamW at the scheduled rate; then the step event, evaluation when due
//! (best checkpoint, early stopping), periodic checkpoints, and the commands that arrived.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use candle_core::{Tensor, Var};
use crossbeam_channel::Receiver;

pub use super::batch::{epoch_order, evaluate_split, length_grouped, make_batch, mix_seed};
use super::checkpoint::{self, CheckpointParts, TrainerState};
use super::error::{TrainError, TrainResult};
use super::trainable::FreezePlan;
use super::mlm::{self, Masking};
use super::run::{self, MetricsLine, MetricsLog};
use super::schedule::{LrSchedule, StepPlan};
use super::setup::{self, EncodedSplit, RunModel, RunData};
use super::{BestMetric, EvalEvery, EvalReport, StepMetrics, TrainConfig, TrainTask, TrainerCommand, TrainerEvent};
use super::step::{apply_gradients, micro_batch_grads};
use crate::core::model::optim::{AdamW, AdamWConfig};
use crate::core::model::rng::SeededRng;

/// The value of a metric in a report.
pub fn metric_value(metric: BestMetric, report: &EvalReport) -> f64 {
    match metric {
        BestMetric::MacroF1 => report.macro_f1,
        BestMetric::Accuracy => report.accuracy,
        BestMetric::Loss => report.loss,
    }
}

/// The metric that picks the best checkpoint: the config's, except the loss for masked LM.
pub fn best_metric_of(config: &TrainConfig) -> BestMetric {
    match config.task {
        TrainTask::MaskedLm => BestMetric::Loss,
        TrainTask::Classify => config.best_metric,
    }
}

/// The texts of a split the run evaluates (empty when it does not).
fn split_texts(dataset: &crate::core::data::Dataset, name: crate::core::data::SplitName, evaluated: bool) -> Vec<String> {
    match dataset.split(name) {
        Some(split) if evaluated => split.texts.clone(),
        _ => Vec::new(),
    }
}

fn improves(metric: BestMetric, value: f64, best: Option<f64>) -> bool {
    match (metric, best) {
        (_, None) => true,
        (BestMetric::Loss, Some(b)) => value < b,
        (_, Some(b)) => value > b,
    }
}

/// How a run ended (sent as the terminal event).
enum Outcome {
    Finished { step: u64, test: Option<EvalReport> },
    Stopped { step: u64, reason: String },
}

/// Runs a training to its end on the calling thread; every event goes to `on_event` (unthrottled),
/// commands are read from `commands` between steps. Returns the terminal event (also sent).
pub fn run_training(
    config: TrainConfig,
    resume_from: Option<PathBuf>,
    on_event: &mut dyn FnMut(TrainerEvent),
    commands: &Receiver<TrainerCommand>,
) -> TrainerEvent {
    let mut log: Option<MetricsLog> = None;
    let result = Trainer::start(config, resume_from.as_deref(), on_event, &mut log)
        .and_then(|mut t| t.run(on_event, commands, log.as_mut()));
    let (event, line) = match result {
        Ok(Outcome::Finished { step, test }) => (
            TrainerEvent::Finished { step, test },
            MetricsLine::End { status: "finished".into(), step, message: String::new() },
        ),
        Ok(Outcome::Stopped { step, reason }) => (
            TrainerEvent::Stopped { step, reason: reason.clone() },
            MetricsLine::End { status: "stopped".into(), step, message: reason },
        ),
        Err(e) => {
            let step = match &e {
                TrainError::NonFinite { step, .. } => *step,
                _ => 0,
            };
            (
                TrainerEvent::Failed { error: e.to_string() },
                MetricsLine::End { status: "failed".into(), step, message: e.to_string() },
            )
        }
    };
    if let Some(log) = log.as_mut() {
        let _ = log.append(&line);
    }
    on_event(event.clone());
    event
}

struct Trainer {
    config: TrainConfig,
    run_dir: PathBuf,
    loaded: RunModel,
    data: RunData,
    plan: StepPlan,
    optimizer: AdamW,
    optimized: Vec<String>,
    vars: Vec<Var>,
    state: TrainerState,
    pad_id: u32,
    /// Masked LM: how tokens are masked (`None`: classification).
    masking: Option<Masking>,
    /// When the elapsed time was last counted.
    tick: Instant,
    /// The fixed 2D basis of the embedding snapshots (fitted at the first evaluation).
    basis: Option<crate::core::embeddings::Pca>,
}

impl Trainer {
    fn start(
        config: TrainConfig,
        resume_from: Option<&Path>,
        on_event: &mut dyn FnMut(TrainerEvent),
        log: &mut Option<MetricsLog>,
    ) -> TrainResult<Self> {
        let mut config = config;
        setup::validate_config(&config)?;
        let (run_dir, checkpoint) = match resume_from {
            Some(path) => {
                let ckpt = checkpoint::find_checkpoint(path)?;
                let run_dir = checkpoint::run_dir_of(&ckpt)?;
                if let (Some(parent), Some(name)) = (run_dir.parent(), run_dir.file_name()) {
                    config.runs_dir = parent.to_path_buf();
                    config.run_name = name.to_string_lossy().into_owned();
                }
                (run_dir, Some(ckpt))
            }
            None => (run::create_run_dir(&config)?, None),
        };
        run::write_config(&run_dir, &config)?;
        let resumed = checkpoint.as_deref().map(checkpoint::read_state).transpose()?;
        *log = Some(MetricsLog::open(&run_dir, resumed.as_ref().map(|s| s.step))?);
        let dataset = setup::load_data(&config)?;
        let loaded = match &checkpoint {
            Some(dir) => setup::load_checkpoint_model(&config, dir)?,
            None => setup::load_model(&config, &dataset.label_names)?,
        };
        let data = setup::encode_dataset(&config, &dataset, &loaded.tokenizer, loaded.model.config())?;
        if config.task == TrainTask::Classify && loaded.model.config().num_labels() != data.label_names.len() {
            return Err(TrainError::Config(format!(
                "the checkpoint has {} labels, the data {}",
                loaded.model.config().num_labels(),
                data.label_names.len()
            )));
        }
        let plan = StepPlan::new(data.train.len(), &config);
        let freeze = FreezePlan::from_config(&config)?;
        let layers = loaded.model.config().num_hidden_layers;
        freeze.apply(loaded.model.params(), layers);
        let trainable: Vec<_> = loaded.model.params().params().iter().filter(|p| p.is_trainable()).cloned().collect();
        if trainable.is_empty() {
            return Err(TrainError::Config("every parameter is frozen: nothing would train".into()));
        }
        let optimized: Vec<String> = trainable.iter().map(|p| p.name().to_string()).collect();
        let vars: Vec<Var> = trainable.iter().map(|p| p.var().clone()).collect();
        let adam = AdamWConfig {
            lr: config.learning_rate,
            beta1: config.adam_beta1,
            beta2: config.adam_beta2,
            eps: config.adam_eps,
            weight_decay: config.weight_decay,
        };
        let mut optimizer = AdamW::for_params(loaded.model.params(), false, adam)?;
        let schedule = LrSchedule::for_config(&config, plan.total_steps);
        let state = match (resumed, &checkpoint) {
            (Some(mut state), Some(dir)) => {
                checkpoint::load_optimizer(dir, &mut optimizer, &optimized, state.step)?;
                // The schedule follows the (possibly extended) settings; the base rate is the
                // checkpoint's, which keeps a rate set during the run.
                state.schedule = LrSchedule { base_lr: state.schedule.base_lr, ..schedule };
                state
            }
            _ => TrainerState {
                step: 0,
                epoch: 0,
                step_in_epoch: 0,
                batch_in_epoch: 0,
                best_metric: None,
                best_step: None,
                patience_counter: 0,
                schedule,
                shuffle_seed: config.seed,
                dropout_seed: config.seed.wrapping_add(1),
                elapsed_secs: 0.0,
                evaluated_at_step: None,
            },
        };
        let pad_id = loaded.tokenizer.pad_token().map_or(loaded.model.config().pad_token_id, |(_, id)| id);
        let masking = mlm::masking_for(&config, &loaded.tokenizer, loaded.model.config().vocab_size)?;
        let unigram = masking.as_ref().and_then(|_| mlm::UnigramModel::of(&data.train, loaded.model.config().vocab_size));
        let from_scratch_mlm = config.task == TrainTask::MaskedLm && setup::builds_from_scratch(&config.model);
        if let Some(unigram) = unigram.as_ref().filter(|_| config.unigram_output_bias && from_scratch_mlm && checkpoint.is_none()) {
            mlm::set_unigram_output_bias(&loaded.model, unigram)?;
            on_event(TrainerEvent::Log("first guesses: the unigram baseline's (output bias = log training frequencies)".into()));
        }
        let counts = loaded.model.counts();
        let unigram_loss = unigram.as_ref().zip(data.validation.as_ref()).and_then(|(u, v)| mlm::unigram_baseline(u, v));
        if let (Some(unigram_loss), Some(log)) = (unigram_loss, log.as_mut()) {
            log.append(&MetricsLine::Baseline { step: state.step, unigram_loss })?;
        }
        on_event(TrainerEvent::Started {
            run_dir: run_dir.clone(),
            total_steps: plan.total_steps,
            steps_per_epoch: plan.steps_per_epoch,
            total_params: counts.total,
            trainable_params: counts.trainable,
            label_names: data.label_names.clone(),
            start_step: state.step,
            texts: super::RunTexts {
                validation: Arc::new(split_texts(&dataset, crate::core::data::SplitName::Validation, data.validation.is_some())),
                test: Arc::new(split_texts(&dataset, crate::core::data::SplitName::Test, data.test.is_some())),
            },
            unigram_loss,
        });
        on_event(TrainerEvent::Log(format!(
            "training on {} ({} kernels)",
            crate::core::device::device_label(loaded.model.device()),
            match crate::core::model::ops::kernels() {
                crate::core::model::ops::Kernels::Fused => "fused",
                crate::core::model::ops::Kernels::Composed => "composed",
            }
        )));
        if data.validation.is_none() {
            on_event(TrainerEvent::Log("no validation split: evaluation and early stopping are off".into()));
        }
        // A resumed run keeps its axes; a new run fits its own.
        let basis = if resume_from.is_some() { super::snapshot::load_basis(&run_dir) } else { None };
        Ok(Self {
            config,
            run_dir,
            loaded,
            data,
            plan,
            optimizer,
            optimized,
            vars,
            state,
            pad_id,
            masking,
            tick: Instant::now(),
            basis,
        })
    }

    /// The row order of the current epoch (grouped by length when the config asks for it).
    fn epoch_order(&self) -> Vec<usize> {
        let (seed, epoch) = (self.state.shuffle_seed, self.state.epoch);
        let order = epoch_order(self.data.train.len(), seed, epoch);
        if self.config.group_by_length {
            let lengths: Vec<usize> = self.data.train.ids.iter().map(Vec::len).collect();
            length_grouped(&order, &lengths, self.config.batch_size, seed, epoch)
        } else {
            order
        }
    }

    fn epoch_f(&self) -> f64 {
        self.state.epoch as f64 + self.state.step_in_epoch as f64 / self.plan.steps_per_epoch as f64
    }

    fn save(
        &mut self,
        name: &str,
        on_event: &mut dyn FnMut(TrainerEvent),
        log: Option<&mut MetricsLog>,
    ) -> TrainResult<()> {
        let parts = CheckpointParts {
            model: &self.loaded.model,
            tokenizer: &self.loaded.tokenizer,
            tokenizer_dir: self.loaded.tokenizer_dir.as_deref(),
            optimizer: &self.optimizer,
            optimized: &self.optimized,
            state: &self.state,
        };
        let path = checkpoint::save_checkpoint(&self.run_dir, name, &parts)?;
        let kind = if name.starts_with("step-") { "step" } else { name };
        if let Some(log) = log {
            log.append(&MetricsLine::Checkpoint { step: self.state.step, kind: kind.into(), path: path.clone() })?;
        }
        on_event(TrainerEvent::CheckpointSaved { step: self.state.step, path, kind: kind.into() });
        Ok(())
    }

    /// One optimizer step; returns its metrics.
    fn step(&mut self, order: &[usize]) -> TrainResult<StepMetrics> {
        let t0 = Instant::now();
        let batch_size = self.config.batch_size.max(1);
        let batches = self.plan.batches_of_step(self.state.step_in_epoch, self.config.gradient_accumulation);
        let n = self.data.train.len();
        let row_ranges: Vec<std::ops::Range<usize>> =
            batches.clone().map(|b| (b as usize * batch_size).min(n)..((b as usize + 1) * batch_size).min(n)).collect();
        let total_rows: usize = row_ranges.iter().map(|r| r.len()).sum::<usize>().max(1);
        let mut accumulated: Vec<Option<Tensor>> = vec![None; self.vars.len()];
        let mut last_grads = None;
        let (mut loss_sum, mut tokens) = (0.0, 0usize);
        let model = &self.loaded.model;
        for (b, range) in batches.zip(row_ranges) {
            let rows: Vec<usize> = order[range].to_vec();
            let (input, labels, batch_tokens) = match &self.masking {
                Some(masking) => {
                    let mut rng = SeededRng::new(mix_seed(self.state.shuffle_seed ^ mlm::MLM_SALT, self.state.step, b));
                    mlm::masked_batch(model, &self.data.train, &rows, self.pad_id, masking, &mut rng)?
                }
                None => {
                    let (input, tokens) = make_batch(model, &self.data.train, &rows, self.pad_id)?;
                    let labels: Vec<i64> = rows.iter().map(|&r| i64::from(self.data.train.labels[r])).collect();
                    (input, Tensor::new(labels.as_slice(), model.device())?, tokens)
                }
            };
            tokens += batch_tokens;
            let weight = rows.len() as f64 / total_rows as f64;
            let seed = mix_seed(self.state.dropout_seed, self.state.step, b);
            let (value, grads) = micro_batch_grads(model, &input, &labels, seed, weight, self.state.step + 1)?;
            loss_sum += value * weight;
            for (acc, var) in accumulated.iter_mut().zip(&self.vars) {
                if let Some(g) = grads.get(var) {
                    *acc = Some(match acc.take() {
                        Some(a) => (a + g)?,
                        None => g.clone(),
                    });
                }
            }
            last_grads = Some(grads);
        }
        let mut grads = last_grads.ok_or_else(|| TrainError::Config("an empty step".into()))?;
        for (acc, var) in accumulated.into_iter().zip(&self.vars) {
            grads.remove(var);
            if let Some(g) = acc {
                grads.insert(var, g);
            }
        }
        let lr = self.state.schedule.lr_at(self.state.step);
        let norm =
            apply_gradients(&mut self.optimizer, &grads, &self.vars, lr, self.config.max_grad_norm, self.state.step + 1)?;
        self.state.step += 1;
        self.state.step_in_epoch += 1;
        self.state.batch_in_epoch = (self.state.step_in_epoch * u64::from(self.config.gradient_accumulation.max(1)))
            .min(self.plan.batches_per_epoch);
        let secs = t0.elapsed().as_secs_f64().max(1e-9);
        self.state.elapsed_secs += self.tick.elapsed().as_secs_f64();
        self.tick = Instant::now();
        let elapsed_secs = self.state.elapsed_secs;
        Ok(StepMetrics {
            step: self.state.step,
            epoch: self.epoch_f(),
            loss: loss_sum,
            learning_rate: lr,
            grad_norm: norm,
            samples_per_sec: total_rows as f64 / secs,
            tokens_per_sec: tokens as f64 / secs,
            elapsed_secs,
        })
    }

    /// Evaluates the model on a split (classification or masked-LM metrics).
    fn evaluate_on(&self, split: &EncodedSplit, name: &str) -> TrainResult<EvalReport> {
        let at = (self.state.step, self.epoch_f(), name);
        let batch = self.config.batch_size * 2;
        match &self.masking {
            Some(masking) => {
                let seed = mlm::evaluation_seed(self.config.seed);
                mlm::evaluate_mlm(&self.loaded.model, split, self.pad_id, masking, batch, seed, at)
            }
            None => evaluate_split(&self.loaded.model, split, &self.data.label_names, self.pad_id, batch, at),
        }
    }

    /// Evaluates on validation and, for a classifier, projects the first validation rows' [CLS] vectors
    /// on the run's basis (from the same forward passes).
    fn evaluate_validation(
        &mut self,
        split: &EncodedSplit,
    ) -> TrainResult<(EvalReport, Option<super::snapshot::EmbeddingSnapshot>)> {
        if self.masking.is_some() || self.config.snapshot_rows == 0 {
            return Ok((self.evaluate_on(split, "validation")?, None));
        }
        let at = (self.state.step, self.epoch_f(), "validation");
        let batch = self.config.batch_size * 2;
        let keep = self.config.snapshot_rows;
        let (report, vectors) = super::batch::evaluate_split_with_vectors(
            &self.loaded.model,
            split,
            &self.data.label_names,
            self.pad_id,
            batch,
            at,
            keep,
        )?;
        let snapshot =
            super::snapshot::snapshot(&mut self.basis, &self.run_dir, &vectors, &split.labels, (at.0, at.1))?;
        Ok((report, snapshot))
    }

    /// Evaluates on validation; updates best/patience; returns whether early stopping triggers.
    fn evaluate(
        &mut self,
        on_event: &mut dyn FnMut(TrainerEvent),
        mut log: Option<&mut MetricsLog>,
    ) -> TrainResult<bool> {
        self.state.evaluated_at_step = Some(self.state.step);
        let Some(validation) = self.data.validation.take() else {
            return Ok(false);
        };
        let evaluated = self.evaluate_validation(&validation);
        self.data.validation = Some(validation);
        let (report, snapshot) = evaluated?;
        if let Some(log) = log.as_deref_mut() {
            log.append(&MetricsLine::Evaluation(report.clone()))?;
            if let Some(s) = &snapshot {
                log.append(&MetricsLine::Embeddings(s.clone()))?;
            }
        }
        if let Some(s) = snapshot {
            on_event(TrainerEvent::Embeddings(s));
        }
        let metric = best_metric_of(&self.config);
        let value = metric_value(metric, &report);
        on_event(TrainerEvent::Evaluation(report));
        if improves(metric, value, self.state.best_metric) {
            self.state.best_metric = Some(value);
            self.state.best_step = Some(self.state.step);
            self.state.patience_counter = 0;
            self.save("best", on_event, log)?;
        } else {
            self.state.patience_counter += 1;
        }
        Ok(self.config.early_stopping_patience.is_some_and(|p| self.state.patience_counter >= p))
    }

    fn run(
        &mut self,
        on_event: &mut dyn FnMut(TrainerEvent),
        commands: &Receiver<TrainerCommand>,
        mut log: Option<&mut MetricsLog>,
    ) -> TrainResult<Outcome> {
        self.tick = Instant::now();
        let total = self.plan.total_steps;
        let mut order = self.epoch_order();
        while self.state.step < total {
            if self.state.step_in_epoch >= self.plan.steps_per_epoch {
                self.state.epoch += 1;
                self.state.step_in_epoch = 0;
                self.state.batch_in_epoch = 0;
                order = self.epoch_order();
            }
            let metrics = self.step(&order)?;
            if let Some(log) = log.as_deref_mut() {
                log.append(&MetricsLine::Step(metrics.clone()))?;
            }
            on_event(TrainerEvent::Step(metrics));
            let step = self.state.step;
            let epoch_end = self.state.step_in_epoch >= self.plan.steps_per_epoch;
            let due = match self.config.eval_every {
                EvalEvery::Steps(n) => step.is_multiple_of(n),
                EvalEvery::Epoch => epoch_end,
            } || step == total;
            let mut early_stop = false;
            if due {
                early_stop = self.evaluate(on_event, log.as_deref_mut())?;
            }
            if self.config.save_every.is_some_and(|n| step.is_multiple_of(n)) {
                self.save(&format!("step-{step}"), on_event, log.as_deref_mut())?;
            }
            if let Some(reason) = self.handle_commands(on_event, commands, log.as_deref_mut())? {
                self.save("last", on_event, log.as_deref_mut())?;
                return Ok(Outcome::Stopped { step, reason });
            }
            if early_stop {
                self.save("last", on_event, log.as_deref_mut())?;
                let reason = format!(
                    "early stopping: no improvement of {:?} in {} evaluations",
                    best_metric_of(&self.config),
                    self.state.patience_counter
                );
                return Ok(Outcome::Stopped { step, reason });
            }
        }
        self.save("last", on_event, log.as_deref_mut())?;
        let test = match &self.data.test {
            Some(split) => {
                let report = self.evaluate_on(split, "test")?;
                if let Some(log) = log {
                    log.append(&MetricsLine::Evaluation(report.clone()))?;
                }
                Some(report)
            }
            None => None,
        };
        Ok(Outcome::Finished { step: self.state.step, test })
    }

    /// Applies the commands that arrived; blocks while paused. `Some(reason)` means stop.
    fn handle_commands(
        &mut self,
        on_event: &mut dyn FnMut(TrainerEvent),
        commands: &Receiver<TrainerCommand>,
        mut log: Option<&mut MetricsLog>,
    ) -> TrainResult<Option<String>> {
        let mut paused: Option<Instant> = None;
        loop {
            let command = match paused {
                None => match commands.try_recv() {
                    Ok(c) => c,
                    Err(_) => return Ok(None),
                },
                Some(_) => match commands.recv() {
                    Ok(c) => c,
                    // Nobody can resume the run any more: stop it (resumable).
                    Err(_) => return Ok(Some("the controller went away while paused".into())),
                },
            };
            match command {
                TrainerCommand::Pause if paused.is_none() => {
                    self.state.elapsed_secs += self.tick.elapsed().as_secs_f64();
                    paused = Some(Instant::now());
                    on_event(TrainerEvent::Paused { step: self.state.step });
                }
                TrainerCommand::Resume => {
                    if paused.take().is_some() {
                        self.tick = Instant::now();
                        on_event(TrainerEvent::Resumed { step: self.state.step });
                        return Ok(None);
                    }
                }
                TrainerCommand::Stop => return Ok(Some("stopped by the user".into())),
                TrainerCommand::SaveNow => self.save("last", on_event, log.as_deref_mut())?,
                TrainerCommand::SetLearningRate(lr) if lr.is_finite() && lr > 0.0 => {
                    self.state.schedule.base_lr = lr;
                    on_event(TrainerEvent::Log(format!(
                        "learning rate set to {lr:e} (the schedule continues from it)"
                    )));
                }
                TrainerCommand::SetLearningRate(lr) => {
                    on_event(TrainerEvent::Log(format!("ignored learning rate {lr}: it must be positive")));
                }
                TrainerCommand::Pause => {}
            }
        }
    }
}
