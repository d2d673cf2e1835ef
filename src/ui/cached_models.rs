//! The HF cache as the pages see it: one listing of the repos on this machine, scanned on the worker
//! thread when a page first needs it, again after a download and on request; and the "cached ▾" menu
//! of its models that the Train and Fill-Mask pages offer.

use crate::core::backend::{Backend, Command, Event, JobId};
use crate::core::hub::HubSettings;
use crate::core::hub::search::{CachedRepo, RepoKind};

use super::app::PageContext;

#[derive(Default)]
pub struct CacheListing {
    /// `None`: not scanned yet, or out of date (a rescan starts when a page asks).
    repos: Option<Vec<CachedRepo>>,
    job: Option<JobId>,
}

impl CacheListing {
    /// Takes the event of the scan in flight; returns the others.
    pub fn on_event(&mut self, event: Event) -> Option<Event> {
        match event {
            Event::CacheScanned { id, repos } if self.job == Some(id) => {
                self.job = None;
                self.repos = Some(repos);
                None
            }
            Event::JobFailed { id, .. } if self.job == Some(id) => {
                self.job = None;
                self.repos = Some(Vec::new());
                None
            }
            other => Some(other),
        }
    }

    /// Marks the listing out of date (a scan in flight may predate the change: its result is ignored).
    pub fn invalidate(&mut self) {
        self.repos = None;
        self.job = None;
    }

    /// The repos in the cache, or `None` while a scan runs (one is started when needed).
    pub fn repos(&mut self, backend: &mut Backend, hub: &HubSettings) -> Option<&[CachedRepo]> {
        if self.repos.is_none() && self.job.is_none() {
            self.job = Some(backend.send(Command::ScanCache { hub: hub.clone() }));
        }
        self.repos.as_deref()
    }
}

/// The "cached ▾" menu of the model repos in the cache; returns the repo the user picked.
pub fn cached_models_menu(ui: &mut egui::Ui, ctx: &mut PageContext<'_>) -> Option<String> {
    let mut picked = None;
    let mut rescan = false;
    let models: Option<Vec<&str>> = ctx
        .cache
        .repos(ctx.backend, ctx.hub)
        .map(|repos| repos.iter().filter(|r| r.kind == RepoKind::Model).map(|r| r.id.as_str()).collect());
    ui.menu_button("cached ▾", |ui| {
        match &models {
            None => {
                ui.spinner();
            }
            Some(list) if list.is_empty() => {
                ui.weak("No models in the HF cache yet: download one on Model & Data.");
            }
            Some(list) => {
                for repo in list {
                    if ui.button(*repo).clicked() {
                        picked = Some(repo.to_string());
                        ui.close();
                    }
                }
            }
        }
        ui.separator();
        rescan = ui.button("⟳ Rescan the cache").clicked();
    })
    .response
    .on_hover_text("pretrained models in the Hugging Face cache (usable offline)");
    if rescan {
        ctx.cache.invalidate();
    }
    picked
}
