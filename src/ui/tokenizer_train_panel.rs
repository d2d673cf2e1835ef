//! Model & Data → "Train a tokenizer": a WordPiece, byte-level BPE or unigram tokenizer (BERT's special
//! tokens) learnt from the loaded dataset's train split (a Backend job with progress and Cancel), saved in the Hugging Face layout, then what it
//! does to that text (tokens per word, [UNK] rate, the frequent words it splits) and one click to open
//! it on the Tokenize page.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::core::backend::{Command, Event, JobId, TrainedTokenizerInfo};
use crate::core::data::SplitName;
use crate::core::text::tokenizer_train::{SubwordModel, TokenizerTrainSettings};

use super::app::{AppCommand, PageContext};
use super::state::Page;
use super::status_bar::thousands;

#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct TokenizerTrainPanel {
    pub model: SubwordModel,
    pub vocab_size: usize,
    pub min_frequency: u64,
    pub lowercase: bool,
    /// Strip accents apart from the case: `None` as BERT does (when lower-casing).
    pub strip_accents: Option<bool>,
    /// The special tokens, comma-separated, first in the vocabulary in this order.
    pub special_tokens: String,
    /// The folder the tokenizer is written to; empty: one named after the dataset beside the runs folder.
    pub out: String,
    #[serde(skip)]
    job: Option<(JobId, Arc<AtomicBool>)>,
    #[serde(skip)]
    result: Option<Result<TrainedTokenizerInfo, String>>,
}

impl Default for TokenizerTrainPanel {
    fn default() -> Self {
        Self {
            model: SubwordModel::WordPiece,
            vocab_size: 8000,
            min_frequency: 2,
            lowercase: true,
            strip_accents: None,
            special_tokens: TokenizerTrainSettings::default().special_tokens.join(", "),
            out: String::new(),
            job: None,
            result: None,
        }
    }
}

impl TokenizerTrainPanel {
    /// Takes the events of this panel's job; returns the others.
    pub fn on_event(&mut self, event: Event) -> Option<Event> {
        let mine = self.job.as_ref().is_some_and(|(id, _)| *id == event.job());
        if !mine {
            return Some(event);
        }
        match event {
            Event::TokenizerTrained { info, .. } => {
                self.result = Some(Ok(*info));
                self.job = None;
            }
            Event::JobFailed { error, .. } => {
                self.result = Some(Err(error));
                self.job = None;
            }
            Event::JobCancelled { .. } => {
                self.result = None;
                self.job = None;
            }
            other => return Some(other),
        }
        None
    }

    /// The last training's outcome (none while one runs).
    pub fn last_result(&self) -> Option<&Result<TrainedTokenizerInfo, String>> {
        self.result.as_ref()
    }

    /// Where the tokenizer goes when no folder is given.
    fn default_out(&self, dataset: &str) -> PathBuf {
        let name: String = dataset
            .rsplit(['/', '\\'])
            .find(|s| !s.is_empty())
            .unwrap_or("dataset")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' })
            .collect();
        let base = crate::core::train::default_runs_dir().parent().map_or_else(std::env::temp_dir, PathBuf::from);
        base.join("tokenizers").join(format!("{name}-{}-{}", self.model.name(), self.vocab_size))
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>) {
        egui::CollapsingHeader::new("Train a tokenizer on this dataset").id_salt("train_tokenizer").show(ui, |ui| {
            let Some(dataset) = ctx.dataset.cloned() else {
                ui.weak("Load a dataset above: its train split is the text the tokenizer learns from.");
                return;
            };
            ui.label(format!(
                "A tokenizer with BERT's special tokens learnt from the train split. {} The same text and settings \
                 always give the same vocabulary.",
                self.model.explain()
            ));
            let running = self.job.is_some();
            ui.add_enabled_ui(!running, |ui| {
                egui::Grid::new("tokenizer_settings").num_columns(2).spacing([8.0, 4.0]).show(ui, |ui| {
                    let label = ui.label("Algorithm");
                    egui::ComboBox::from_id_salt("tokenizer_model")
                        .selected_text(self.model.label())
                        .show_ui(ui, |ui| {
                            for model in SubwordModel::ALL {
                                ui.selectable_value(&mut self.model, model, model.label());
                            }
                        })
                        .response
                        .labelled_by(label.id);
                    ui.end_row();
                    let label = ui.label("Vocabulary size");
                    ui.add(egui::DragValue::new(&mut self.vocab_size).range(100..=200_000).speed(50)).labelled_by(label.id);
                    ui.end_row();
                    let label = ui.label("Minimum frequency");
                    ui.add_enabled(self.model.uses_min_frequency(), egui::DragValue::new(&mut self.min_frequency).range(1..=1000))
                        .labelled_by(label.id)
                        .on_disabled_hover_text("unigram training prunes pieces by likelihood, not by a pair count");
                    ui.end_row();
                    ui.label("Case");
                    ui.horizontal(|ui| {
                        ui.checkbox(&mut self.lowercase, "lower-case (uncased)");
                        let mut strip = self.strip_accents.unwrap_or(self.lowercase);
                        if ui.checkbox(&mut strip, "strip accents").on_hover_text("café → cafe; by default when lower-casing, as BERT").changed() {
                            self.strip_accents = Some(strip);
                        }
                    });
                    ui.end_row();
                    let label = ui.label("Special tokens");
                    ui.add(egui::TextEdit::singleline(&mut self.special_tokens).desired_width(420.0))
                        .labelled_by(label.id)
                        .on_hover_text("first in the vocabulary in this order, comma-separated; [UNK], [CLS] and [SEP] are needed");
                    ui.end_row();
                    let label = ui.label("Save to");
                    let hint = self.default_out(&dataset.name).display().to_string();
                    ui.add(egui::TextEdit::singleline(&mut self.out).hint_text(hint).desired_width(420.0)).labelled_by(label.id);
                    ui.end_row();
                });
            });
            ui.horizontal(|ui| {
                if running {
                    if let Some(job) = ctx.jobs.iter().find(|j| self.job.as_ref().is_some_and(|(id, _)| *id == j.id)) {
                        ui.add(egui::ProgressBar::new(job.fraction.unwrap_or(0.0)).text(job.message.clone()).desired_width(300.0));
                    }
                    if ui.button("Cancel").clicked() {
                        if let Some((_, cancel)) = &self.job {
                            cancel.store(true, Ordering::Relaxed);
                        }
                    }
                } else if ui.button("Train tokenizer").clicked() {
                    let out = if self.out.trim().is_empty() { self.default_out(&dataset.name) } else { PathBuf::from(self.out.trim()) };
                    let settings = TokenizerTrainSettings {
                        model: self.model,
                        vocab_size: self.vocab_size,
                        min_frequency: self.min_frequency,
                        lowercase: self.lowercase,
                        strip_accents: self.strip_accents,
                        special_tokens: self.special_tokens.split(',').map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect(),
                    };
                    let cancel = Arc::new(AtomicBool::new(false));
                    let split = dataset.train_or_first().map_or(SplitName::Train, |s| s.name);
                    let id = ctx.backend.send(Command::TrainTokenizer { dataset: Arc::clone(&dataset), split, settings, out, cancel: Arc::clone(&cancel) });
                    self.job = Some((id, cancel));
                    self.result = None;
                }
            });
            match &self.result {
                Some(Ok(info)) => result_ui(ui, ctx, info),
                Some(Err(error)) => {
                    ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {error}"));
                }
                None => {}
            }
        });
    }
}

fn result_ui(ui: &mut egui::Ui, ctx: &mut PageContext<'_>, info: &TrainedTokenizerInfo) {
    let r = &info.report;
    ui.label(format!("✔ {} tokens, saved to {}", thousands(info.vocab_size), info.dir.display()));
    ui.label(format!(
        "On its text: {} words ({} different) · {:.3} tokens per word · {:.1}% of words are one token · [UNK] {:.3}% of tokens",
        thousands(r.words as usize),
        thousands(r.distinct_words),
        r.tokens_per_word,
        100.0 * r.whole_word_share,
        100.0 * r.unk_rate
    ));
    ui.horizontal(|ui| {
        if ui.button("Open it on the Tokenize page").clicked() {
            ctx.commands.push(AppCommand::LoadModel(info.dir.display().to_string()));
            ctx.commands.push(AppCommand::OpenPage(Page::Tokenize));
        }
        if ui.button("Compare it with the loaded model's").on_hover_text("the same text through both tokenizers, on the Tokenize page").clicked() {
            ctx.commands.push(AppCommand::CompareTokenizer(info.dir.display().to_string()));
        }
    });
    if !r.most_split.is_empty() {
        ui.strong("The most frequent words it splits");
        egui::Grid::new("most_split").striped(true).num_columns(3).show(ui, |ui| {
            for w in r.most_split.iter().take(12) {
                ui.label(&w.word);
                ui.label(format!("{}×", thousands(w.count as usize)));
                ui.monospace(w.pieces.join(" "));
                ui.end_row();
            }
        });
    }
}
