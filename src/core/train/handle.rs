//! The trainer on a named background thread ("lmw-trainer"): commands in, events out over crossbeam
//! channels, the waker called after every send. Step events are throttled to at most one per
//! [`STEP_EVENT_INTERVAL`]: steps in between are aggregated into the next one sent (its metrics are
//! the latest step's, its loss the mean over the aggregated steps, as transformers' logging
//! interval). Every other event is sent as it comes (after any pending step), and none is dropped;
//! metrics.jsonl keeps every step.

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use super::error::{TrainError, TrainResult};
use super::setup::validate_config;
use super::trainer::run_training;
use super::{StepMetrics, TrainConfig, TrainerCommand, TrainerEvent};

/// At most one step event per this interval (20 a second).
pub const STEP_EVENT_INTERVAL: Duration = Duration::from_millis(50);

/// A running trainer. Dropping it does not stop the run; send [`TrainerCommand::Stop`].
pub struct TrainerHandle {
    pub commands: Sender<TrainerCommand>,
    pub events: Receiver<TrainerEvent>,
    thread: Option<JoinHandle<()>>,
}

impl TrainerHandle {
    /// A handle over channels and a thread made elsewhere (the replay).
    pub(crate) fn from_parts(commands: Sender<TrainerCommand>, events: Receiver<TrainerEvent>, thread: JoinHandle<()>) -> Self {
        Self { commands, events, thread: Some(thread) }
    }

    /// Sends a command (ignored when the trainer has ended).
    pub fn send(&self, command: TrainerCommand) {
        let _ = self.commands.send(command);
    }

    /// Whether the trainer thread has ended.
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Waits for the thread to end (blocking: not for the UI thread).
    pub fn join(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts a run (or resumes one, from a run folder or a checkpoint folder) on the "lmw-trainer"
/// thread. Settings that cannot work are refused here; everything else is reported as events.
pub fn spawn_trainer(
    config: TrainConfig,
    resume_from: Option<PathBuf>,
    waker: Arc<dyn Fn() + Send + Sync>,
) -> TrainResult<TrainerHandle> {
    validate_config(&config)?;
    let (command_tx, command_rx) = crossbeam_channel::unbounded();
    let (event_tx, event_rx) = crossbeam_channel::unbounded();
    let thread = std::thread::Builder::new()
        .name("lmw-trainer".into())
        .spawn(move || {
            let mut throttle = Throttle::new(event_tx, waker, STEP_EVENT_INTERVAL);
            run_training(config, resume_from, &mut |event| throttle.push(event), &command_rx);
        })
        .map_err(|e| TrainError::io("lmw-trainer thread", e))?;
    Ok(TrainerHandle { commands: command_tx, events: event_rx, thread: Some(thread) })
}

/// Aggregates step events; sends the rest at once.
pub struct Throttle {
    tx: Sender<TrainerEvent>,
    waker: Arc<dyn Fn() + Send + Sync>,
    interval: Duration,
    last_sent: Option<Instant>,
    pending: Option<StepMetrics>,
    loss_sum: f64,
    count: u32,
}

impl Throttle {
    pub fn new(tx: Sender<TrainerEvent>, waker: Arc<dyn Fn() + Send + Sync>, interval: Duration) -> Self {
        Self { tx, waker, interval, last_sent: None, pending: None, loss_sum: 0.0, count: 0 }
    }

    fn send(&mut self, event: TrainerEvent) {
        let _ = self.tx.send(event);
        (self.waker)();
    }

    fn flush(&mut self) {
        if let Some(mut step) = self.pending.take() {
            step.loss = self.loss_sum / f64::from(self.count.max(1));
            self.loss_sum = 0.0;
            self.count = 0;
            self.last_sent = Some(Instant::now());
            self.send(TrainerEvent::Step(step));
        }
    }

    pub fn push(&mut self, event: TrainerEvent) {
        match event {
            TrainerEvent::Step(step) => {
                self.loss_sum += step.loss;
                self.count += 1;
                self.pending = Some(step);
                if self.last_sent.is_none_or(|t| t.elapsed() >= self.interval) {
                    self.flush();
                }
            }
            other => {
                self.flush();
                self.send(other);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn step(n: u64, loss: f64) -> TrainerEvent {
        TrainerEvent::Step(StepMetrics {
            step: n,
            epoch: 0.0,
            loss,
            learning_rate: 0.0,
            grad_norm: 0.0,
            samples_per_sec: 0.0,
            tokens_per_sec: 0.0,
            elapsed_secs: 0.0,
        })
    }

    #[test]
    fn steps_are_aggregated_and_other_events_kept() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let wakes = Arc::new(AtomicUsize::new(0));
        let w = wakes.clone();
        let mut throttle = Throttle::new(
            tx,
            Arc::new(move || {
                w.fetch_add(1, Ordering::Relaxed);
            }),
            Duration::from_secs(3600),
        );
        throttle.push(step(1, 1.0));
        throttle.push(step(2, 2.0));
        throttle.push(step(3, 4.0));
        throttle.push(TrainerEvent::Log("x".into()));
        throttle.push(TrainerEvent::Finished { step: 3, test: None });
        let events: Vec<TrainerEvent> = rx.try_iter().collect();
        assert_eq!(events.len(), 4, "{events:?}");
        assert!(matches!(&events[0], TrainerEvent::Step(s) if s.step == 1 && s.loss == 1.0));
        assert!(matches!(&events[1], TrainerEvent::Step(s) if s.step == 3 && s.loss == 3.0));
        assert!(events[3].is_terminal());
        assert_eq!(wakes.load(Ordering::Relaxed), 4);
    }
}
