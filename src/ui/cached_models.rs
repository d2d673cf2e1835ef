//! The "cached ▾" menu: the model repos in the Hugging Face cache (usable offline), scanned on the
//! worker thread when first shown and again on request.

use crate::core::backend::{Command, Event, JobId};
use crate::core::hub_search::RepoKind;

use super::app::PageContext;

#[derive(Default)]
pub struct CachedModels {
    /// Model repo ids in the cache; `None`: not scanned yet (or a rescan is due).
    repos: Option<Vec<String>>,
    job: Option<JobId>,
}

impl CachedModels {
    /// Takes the event of this menu's scan; returns the others.
    pub fn on_event(&mut self, event: Event) -> Option<Event> {
        match event {
            Event::CacheScanned { id, repos } if self.job == Some(id) => {
                self.job = None;
                self.repos = Some(repos.into_iter().filter(|r| r.kind == RepoKind::Model).map(|r| r.id).collect());
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

    /// The menu button; returns the repo the user picked. Starts a scan when none has been made.
    pub fn menu_ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>) -> Option<String> {
        if self.repos.is_none() && self.job.is_none() {
            self.job = Some(ctx.backend.send(Command::ScanCache { hub: ctx.hub.clone() }));
        }
        let mut picked = None;
        let repos = &mut self.repos;
        ui.menu_button("cached ▾", |ui| {
            match repos {
                None => {
                    ui.spinner();
                }
                Some(list) if list.is_empty() => {
                    ui.weak("No models in the HF cache yet: download one on Model & Data.");
                }
                Some(list) => {
                    for repo in list.iter() {
                        if ui.button(repo).clicked() {
                            picked = Some(repo.clone());
                            ui.close();
                        }
                    }
                }
            }
            ui.separator();
            if ui.button("⟳ Rescan the cache").clicked() {
                *repos = None;
            }
        })
        .response
        .on_hover_text("pretrained models in the Hugging Face cache (usable offline)");
        picked
    }
}
