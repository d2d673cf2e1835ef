//! The vocabulary browser: search by token text or ID, in a virtualised list.

use serde::{Deserialize, Serialize};

use crate::core::text::tokenizer::TextTokenizer;

use super::status_bar::thousands;

#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
pub struct VocabPanel {
    pub query: String,
    #[serde(skip)]
    hits: Option<(String, usize, Vec<u32>)>,
}

const MAX_HITS: usize = 5000;

impl VocabPanel {
    pub fn ui(&mut self, ui: &mut egui::Ui, tokenizer: &TextTokenizer) {
        ui.horizontal(|ui| {
            ui.label(format!("{} entries · {}", thousands(tokenizer.vocab_size()), tokenizer.kind().label()));
            if let Some((unk, id)) = tokenizer.unk() {
                ui.label(format!("· unknown token {unk} = {id}"));
            }
        });
        ui.horizontal(|ui| {
            let label = ui.label("Search:");
            ui.add(egui::TextEdit::singleline(&mut self.query).hint_text("token text or ID").desired_width(240.0))
                .labelled_by(label.id);
        });
        let key = (self.query.clone(), tokenizer.vocab_size());
        if self.hits.as_ref().is_none_or(|(q, n, _)| (q, n) != (&key.0, &key.1)) {
            let ids = if self.query.trim().is_empty() {
                (0..tokenizer.vocab_size() as u32).collect()
            } else {
                tokenizer.search_vocab(&self.query, MAX_HITS).into_iter().map(|(id, _)| id).collect()
            };
            self.hits = Some((key.0, key.1, ids));
        }
        let Some((_, _, ids)) = &self.hits else { return };
        if !self.query.trim().is_empty() {
            let more = if ids.len() >= MAX_HITS { "+" } else { "" };
            ui.label(format!("{}{more} matches", thousands(ids.len())));
        }
        let row_height = ui.text_style_height(&egui::TextStyle::Monospace) + 2.0;
        egui::ScrollArea::vertical().id_salt("vocab_rows").auto_shrink([false, true]).show_rows(ui, row_height, ids.len(), |ui, rows| {
            for &id in &ids[rows] {
                let token = tokenizer.id_to_token(id).unwrap_or("");
                ui.monospace(format!("{id:>7}  {token}"));
            }
        });
    }
}
