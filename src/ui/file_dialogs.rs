//! Native file dialogs off the UI thread: a page asks for one under a purpose ("model-folder", …), the
//! Backend shows it on a job thread (the window keeps drawing and a live run's charts keep moving), and
//! the page takes the chosen path on a later frame.

use std::path::PathBuf;

use crate::core::backend::{Backend, Command, Event, JobId, PathPicker};

/// A native file dialog to show (rfd stays in the UI; the core only runs it on a job thread).
#[derive(Clone, Debug, PartialEq)]
pub enum FileDialog {
    PickFolder { title: String },
    PickFile { title: String, filter: Option<(String, Vec<String>)> },
    SaveFile { title: String, file_name: String },
}

impl FileDialog {
    fn title(&self) -> &str {
        match self {
            Self::PickFolder { title } | Self::PickFile { title, .. } | Self::SaveFile { title, .. } => title,
        }
    }

    fn show(self) -> Option<PathBuf> {
        match self {
            Self::PickFolder { title } => rfd::FileDialog::new().set_title(title).pick_folder(),
            Self::PickFile { title, filter } => {
                let mut dialog = rfd::FileDialog::new().set_title(title);
                if let Some((name, extensions)) = filter {
                    dialog = dialog.add_filter(name, &extensions);
                }
                dialog.pick_file()
            }
            Self::SaveFile { title, file_name } => rfd::FileDialog::new().set_title(title).set_file_name(file_name).save_file(),
        }
    }
}

#[derive(Default)]
pub struct Dialogs {
    open: Vec<(JobId, &'static str)>,
    chosen: Vec<(&'static str, PathBuf)>,
}

impl Dialogs {
    /// Opens a dialog for `purpose` (one at a time per purpose).
    pub fn open(&mut self, backend: &mut Backend, purpose: &'static str, dialog: FileDialog) {
        if self.is_open(purpose) {
            return;
        }
        let title = dialog.title().to_string();
        let id = backend.send(Command::PickPath { title, pick: PathPicker(Box::new(move || dialog.show())) });
        self.open.push((id, purpose));
    }

    pub fn is_open(&self, purpose: &str) -> bool {
        self.open.iter().any(|(_, p)| *p == purpose)
    }

    /// The path chosen for `purpose`, once (nothing when the dialog was cancelled).
    pub fn take(&mut self, purpose: &str) -> Option<PathBuf> {
        let i = self.chosen.iter().position(|(p, _)| *p == purpose)?;
        Some(self.chosen.remove(i).1)
    }

    /// Takes the dialogs' events; returns the others.
    pub fn on_event(&mut self, event: Event) -> Option<Event> {
        let id = event.job();
        let Some(i) = self.open.iter().position(|(job, _)| *job == id) else { return Some(event) };
        match event {
            Event::FileChosen { path, .. } => {
                let (_, purpose) = self.open.remove(i);
                if let Some(path) = path {
                    self.chosen.push((purpose, path));
                }
                None
            }
            Event::JobFailed { .. } | Event::JobCancelled { .. } => {
                self.open.remove(i);
                Some(event)
            }
            other => Some(other),
        }
    }
}
