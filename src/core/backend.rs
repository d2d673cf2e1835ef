//! The background worker: the UI sends [`Command`]s and receives [`Event`]s over channels; the worker
//! wakes the UI through a callback whenever it sends something. The UI thread never blocks on it.

use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};

use super::hub::HubSettings;
use super::model_source::{load_model, LoadedModel, ModelSpec};

/// Identifies one background job.
pub type JobId = u64;

/// UI → core.
#[derive(Debug)]
pub enum Command {
    /// Load a model's tokenizer and config, from a spec as the user typed it.
    LoadModel { spec: String, hub: HubSettings },
    Shutdown,
}

/// Core → UI.
#[derive(Debug)]
pub enum Event {
    JobStarted { id: JobId, name: String },
    JobProgress { id: JobId, message: String, fraction: Option<f32> },
    ModelLoaded { id: JobId, model: Arc<LoadedModel> },
    JobFailed { id: JobId, name: String, error: String },
}

/// Called whenever the worker sends an event, so the UI repaints.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// The UI's end of the worker.
pub struct Backend {
    commands: Sender<(JobId, Command)>,
    events: Receiver<Event>,
    thread: Option<JoinHandle<()>>,
    next_id: JobId,
}

impl Backend {
    /// Starts the worker on a named thread.
    pub fn spawn(waker: Waker) -> Self {
        let (commands, command_rx) = crossbeam_channel::unbounded::<(JobId, Command)>();
        let (event_tx, events) = crossbeam_channel::unbounded::<Event>();
        let thread = std::thread::Builder::new()
            .name("lmw-worker".into())
            .spawn(move || worker_loop(&command_rx, &Outbox { tx: event_tx, waker }))
            .map_err(|e| tracing::error!("cannot start the worker thread: {e}"))
            .ok();
        Self { commands, events, thread, next_id: 1 }
    }

    /// Queues a command; returns the job id it will report under.
    pub fn send(&mut self, command: Command) -> JobId {
        let id = self.next_id;
        self.next_id += 1;
        if self.commands.send((id, command)).is_err() {
            tracing::error!("the worker thread has stopped");
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

impl Drop for Backend {
    fn drop(&mut self) {
        let _ = self.commands.send((0, Command::Shutdown));
        // The worker finishes its current job on its own; don't block the UI on it.
        drop(self.thread.take());
    }
}

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

fn worker_loop(commands: &Receiver<(JobId, Command)>, out: &Outbox) {
    for (id, command) in commands.iter() {
        match command {
            Command::Shutdown => break,
            Command::LoadModel { spec, hub } => {
                let name = format!("Loading {}", spec.trim());
                out.send(Event::JobStarted { id, name: name.clone() });
                let result = ModelSpec::parse(&spec).and_then(|spec| {
                    load_model(&spec, &hub, &mut |message, fraction| {
                        out.send(Event::JobProgress { id, message: message.to_string(), fraction });
                    })
                });
                match result {
                    Ok(model) => out.send(Event::ModelLoaded { id, model: Arc::new(model) }),
                    Err(e) => out.send(Event::JobFailed { id, name, error: e.to_string() }),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn load_reports_start_then_result_and_wakes_the_ui() {
        let wakes = Arc::new(AtomicUsize::new(0));
        let counter = wakes.clone();
        let mut backend = Backend::spawn(Arc::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        }));
        let id = backend.send(Command::LoadModel { spec: "builtin:demo".into(), hub: HubSettings::from_env() });
        assert_eq!(id, 1);
        let mut loaded = None;
        while let Some(event) = backend.wait(Duration::from_secs(30)) {
            if let Event::ModelLoaded { model, .. } = event {
                loaded = Some(model);
                break;
            }
        }
        let model = loaded.expect("the demo loads");
        assert_eq!(model.name, "built-in demo");
        assert!(wakes.load(Ordering::SeqCst) >= 2);

        backend.send(Command::LoadModel { spec: "/no/such/folder".into(), hub: HubSettings::from_env() });
        let failure = std::iter::from_fn(|| backend.wait(Duration::from_secs(30)))
            .find_map(|e| if let Event::JobFailed { error, .. } = e { Some(error) } else { None });
        assert_eq!(failure.as_deref(), Some("model folder not found: /no/such/folder"));
    }
}
