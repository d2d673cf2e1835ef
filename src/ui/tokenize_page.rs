//! Tokenize: characters, words and the model's subword tokens side by side, live as you type; the
//! encoding exactly as transformers returns it; one-hot rows; the vocabulary.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::core::model_source::ModelInfo;
use crate::core::text::segment::{char_span_to_bytes, characters, words, Segment};
use crate::core::text::tokenizer::{EncodeRequest, EncodedText, Padding};

use super::app::PageContext;
use super::chips::{visible_whitespace, Chip, ChipKind};
use super::onehot_panel::OneHotPanel;
use super::status_bar::thousands;
use super::vocab_panel::VocabPanel;

pub const DEFAULT_TEXT: &str = "Welcome to the 🤗 Tokenizers library. This is a library from Hugging Face.";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tab {
    #[default]
    Encoding,
    OneHot,
    Vocabulary,
}

#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct TokenizePage {
    pub text: String,
    pub use_pair: bool,
    pub pair: String,
    pub truncate: bool,
    pub max_length: usize,
    pub pad_to_max_length: bool,
    pub tab: Tab,
    pub onehot: OneHotPanel,
    pub vocab: VocabPanel,
    /// A second tokenizer (model spec or tokenizer folder) shown on the same text, e.g. one just trained.
    pub compare_spec: String,
    #[serde(skip)]
    compare: CompareState,
    #[serde(skip)]
    cache: Option<Analysis>,
    /// The span under the mouse: (sequence, start char, end char).
    #[serde(skip)]
    hovered: Option<(usize, usize, usize)>,
}

impl Default for TokenizePage {
    fn default() -> Self {
        Self {
            text: DEFAULT_TEXT.into(),
            use_pair: false,
            pair: "It turns text into token IDs.".into(),
            truncate: false,
            max_length: 32,
            pad_to_max_length: false,
            tab: Tab::default(),
            onehot: OneHotPanel::default(),
            vocab: VocabPanel::default(),
            compare_spec: String::new(),
            compare: CompareState::default(),
            cache: None,
            hovered: None,
        }
    }
}

/// The second tokenizer of the side-by-side view.
#[derive(Default)]
struct CompareState {
    model: Option<Arc<ModelInfo>>,
    job: Option<crate::core::backend::JobId>,
    error: Option<String>,
    /// The spec last asked for (a start reopens the persisted one once).
    asked: Option<String>,
    /// Open the section on the next frame (a comparison was asked for from elsewhere).
    open: bool,
}

/// Everything derived from the input, recomputed only when the input or the model changes.
struct Analysis {
    request: EncodeRequest,
    model: Arc<ModelInfo>,
    encoded: Result<EncodedText, String>,
    unk: usize,
    chars: Vec<Segment>,
    words: Vec<Segment>,
    pair_chars: Vec<Segment>,
    pair_words: Vec<Segment>,
}

impl TokenizePage {
    pub fn request(&self) -> EncodeRequest {
        EncodeRequest {
            text: self.text.clone(),
            pair: self.use_pair.then(|| self.pair.clone()),
            max_length: self.truncate.then_some(self.max_length),
            padding: if self.truncate && self.pad_to_max_length { Padding::MaxLength } else { Padding::None },
        }
    }

    /// Takes the events of the comparison's load; returns the others.
    pub fn on_event(&mut self, event: crate::core::backend::Event) -> Option<crate::core::backend::Event> {
        use crate::core::backend::Event;
        let c = &mut self.compare;
        if c.job != Some(event.job()) {
            return Some(event);
        }
        match event {
            Event::ModelLoaded { model, .. } => {
                c.model = Some(model);
                c.error = None;
                c.job = None;
            }
            Event::JobFailed { error, .. } => {
                c.error = Some(error);
                c.model = None;
                c.job = None;
            }
            other => return Some(other),
        }
        None
    }

    /// Shows `spec` beside the loaded model's tokenizer.
    pub fn compare_with(&mut self, spec: String) {
        self.compare_spec = spec;
        self.compare.asked = None;
        self.compare.open = true;
    }

    /// The current encoding, if a model is loaded and the text encodes.
    pub fn encoded(&self) -> Option<&EncodedText> {
        self.cache.as_ref().and_then(|a| a.encoded.as_ref().ok())
    }

    fn analyse(&mut self, model: &Arc<ModelInfo>) {
        let request = self.request();
        let fresh = self.cache.as_ref().is_some_and(|a| a.request == request && Arc::ptr_eq(&a.model, model));
        if fresh {
            return;
        }
        let encoded = model.tokenizer.encode(&request).map_err(|e| e.to_string());
        let unk = encoded.as_ref().map_or(0, |e| model.tokenizer.unk_count(e));
        let pair = request.pair.as_deref().unwrap_or("");
        self.cache = Some(Analysis {
            chars: characters(&request.text),
            words: words(&request.text),
            pair_chars: characters(pair),
            pair_words: words(pair),
            request,
            model: model.clone(),
            encoded,
            unk,
        });
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>) {
        let Some(model) = ctx.model else {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Loading the tokenizer…");
            });
            return;
        };
        self.input_ui(ui);
        self.analyse(model);
        let Some(analysis) = self.cache.take() else { return };
        let hovered_before = self.hovered.take();
        self.summary_ui(ui, &analysis);
        match &analysis.encoded {
            Ok(encoded) => {
                self.views_ui(ui, &analysis, encoded, hovered_before);
                self.compare_ui(ui, ctx);
                ui.separator();
                self.tabs_ui(ui, &analysis, encoded);
            }
            Err(error) => {
                ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {error}"));
            }
        }
        self.cache = Some(analysis);
        if self.hovered != hovered_before {
            ui.ctx().request_repaint();
        }
    }

    fn input_ui(&mut self, ui: &mut egui::Ui) {
        let hovered = self.hovered;
        text_input_ui(ui, "Text", &mut self.text, hovered.filter(|h| h.0 == 0));
        ui.horizontal(|ui| {
            ui.checkbox(&mut self.use_pair, "Sentence pair");
            ui.separator();
            ui.checkbox(&mut self.truncate, "Truncate to max_length");
            ui.add_enabled(self.truncate, egui::DragValue::new(&mut self.max_length).range(1..=8192).prefix("max_length "));
            ui.add_enabled(self.truncate, egui::Checkbox::new(&mut self.pad_to_max_length, "pad to max_length"));
        });
        if self.use_pair {
            text_input_ui(ui, "Pair", &mut self.pair, hovered.filter(|h| h.0 == 1));
        }
    }

    fn summary_ui(&self, ui: &mut egui::Ui, a: &Analysis) {
        let tok = &a.model.tokenizer;
        let count = a.encoded.as_ref().map_or(0, EncodedText::len);
        ui.horizontal_wrapped(|ui| {
            ui.label(format!("{} characters", a.chars.len() + a.pair_chars.len()));
            ui.label("·");
            ui.label(format!("{} words", a.words.len() + a.pair_words.len()));
            ui.label("·");
            ui.label(format!("{count} tokens"));
            ui.label("·");
            let unk_text = format!("{} [UNK]", a.unk);
            if a.unk > 0 {
                ui.colored_label(ui.visuals().warn_fg_color, unk_text);
            } else {
                ui.label(unk_text);
            }
            ui.label("·");
            ui.label(format!("vocabulary {} ({}, {})", thousands(tok.vocab_size()), tok.kind().label(), a.model.name));
        });
    }

    /// The three views; `hovered` is the span hovered in the last frame, highlighted in all of them.
    fn views_ui(&mut self, ui: &mut egui::Ui, a: &Analysis, encoded: &EncodedText, hovered: Option<(usize, usize, usize)>) {
        let height = (ui.available_height() * 0.38).clamp(90.0, 320.0);
        ui.columns(3, |cols| {
            cols[0].strong("Characters");
            if let Some(h) = segments_ui(&mut cols[0], "chars", &a.chars, &a.pair_chars, hovered, height, true) {
                self.hovered = Some(h);
            }
            cols[1].strong("Words");
            if let Some(h) = segments_ui(&mut cols[1], "words", &a.words, &a.pair_words, hovered, height, false) {
                self.hovered = Some(h);
            }
            cols[2].strong("Subword tokens (ID below)");
            if let Some(h) = tokens_ui(&mut cols[2], "tokens", encoded, &a.model, hovered, height) {
                self.hovered = Some(h);
            }
        });
    }

    /// The same text through a second tokenizer: its token count, [UNK]s and chips.
    fn compare_ui(&mut self, ui: &mut egui::Ui, ctx: &mut PageContext<'_>) {
        let spec = self.compare_spec.trim().to_string();
        if !spec.is_empty() && self.compare.asked.as_deref() != Some(spec.as_str()) {
            let hub = ctx.hub.clone();
            self.compare.job = Some(ctx.backend.send(crate::core::backend::Command::LoadModel { spec: spec.clone(), hub }));
            self.compare.asked = Some(spec);
        }
        egui::CollapsingHeader::new("Compare with another tokenizer")
            .id_salt("compare_tokenizer")
            .default_open(!self.compare_spec.trim().is_empty())
            .open(std::mem::take(&mut self.compare.open).then_some(true))
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    let label = ui.label("Tokenizer:");
                    let edit = ui
                        .add(egui::TextEdit::singleline(&mut self.compare_spec).hint_text("a tokenizer folder, model folder or Hub id").desired_width(360.0))
                        .labelled_by(label.id);
                    if edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                        self.compare.asked = None;
                    }
                    if ui.button("Compare").clicked() {
                        self.compare.asked = None;
                    }
                    if self.compare.job.is_some() {
                        ui.spinner();
                    }
                });
                if let Some(error) = &self.compare.error {
                    ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {error}"));
                }
                let Some(other) = self.compare.model.clone() else { return };
                match other.tokenizer.encode(&self.request()) {
                    Ok(encoded) => {
                        let unk = other.tokenizer.unk_count(&encoded);
                        ui.label(format!(
                            "{}: {} tokens · {unk} [UNK] · vocabulary {} ({})",
                            other.name,
                            encoded.len(),
                            thousands(other.tokenizer.vocab_size()),
                            other.tokenizer.kind().label()
                        ));
                        tokens_ui(ui, "compare_tokens", &encoded, &other, None, 140.0);
                    }
                    Err(e) => {
                        ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {e}"));
                    }
                }
            });
    }

    fn tabs_ui(&mut self, ui: &mut egui::Ui, a: &Analysis, encoded: &EncodedText) {
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.tab, Tab::Encoding, "Encoding");
            ui.selectable_value(&mut self.tab, Tab::OneHot, "One-hot");
            ui.selectable_value(&mut self.tab, Tab::Vocabulary, "Vocabulary");
        });
        match self.tab {
            Tab::Encoding => encoding_ui(ui, encoded),
            Tab::OneHot => self.onehot.ui(ui, encoded, a.model.tokenizer.vocab_size()),
            Tab::Vocabulary => self.vocab.ui(ui, &a.model.tokenizer),
        }
    }
}

/// A multi-line text field whose hovered span (in characters) is highlighted.
fn text_input_ui(ui: &mut egui::Ui, name: &str, text: &mut String, hovered: Option<(usize, usize, usize)>) {
    let highlight = ui.visuals().selection.bg_fill;
    let mut layouter = |ui: &egui::Ui, buf: &dyn egui::TextBuffer, wrap_width: f32| {
        let text = buf.as_str();
        let font = egui::TextStyle::Body.resolve(ui.style());
        let color = ui.visuals().text_color();
        let mut job = egui::text::LayoutJob::default();
        let plain = egui::TextFormat::simple(font.clone(), color);
        let marked = egui::TextFormat { background: highlight, ..plain.clone() };
        match hovered.map(|(_, s, e)| char_span_to_bytes(text, s, e)) {
            Some((s, e)) if s < e => {
                job.append(&text[..s], 0.0, plain.clone());
                job.append(&text[s..e], 0.0, marked);
                job.append(&text[e..], 0.0, plain);
            }
            _ => job.append(text, 0.0, plain),
        }
        job.wrap.max_width = wrap_width;
        ui.fonts_mut(|f| f.layout_job(job))
    };
    ui.horizontal(|ui| {
        let label = ui.label(format!("{name}:"));
        ui.add(
            egui::TextEdit::multiline(text)
                .desired_rows(2)
                .desired_width(f32::INFINITY)
                .layouter(&mut layouter),
        )
        .labelled_by(label.id);
    });
}

fn overlaps(hovered: Option<(usize, usize, usize)>, seq: usize, start: usize, end: usize) -> bool {
    hovered.is_some_and(|(hs, a, b)| hs == seq && start < b.max(a + 1) && a < end.max(start + 1))
}

/// Chips for characters or words of the text and the pair; returns the hovered span.
fn segments_ui(
    ui: &mut egui::Ui,
    id: &str,
    text: &[Segment],
    pair: &[Segment],
    hovered: Option<(usize, usize, usize)>,
    height: f32,
    show_whitespace: bool,
) -> Option<(usize, usize, usize)> {
    let mut hit = None;
    egui::ScrollArea::vertical().id_salt(id).max_height(height).auto_shrink([false, true]).show(ui, |ui| {
        ui.horizontal_wrapped(|ui| {
            ui.spacing_mut().item_spacing = egui::vec2(3.0, 3.0);
            for (seq, segments) in [(0, text), (1, pair)] {
                if seq == 1 && !pair.is_empty() {
                    ui.end_row();
                }
                for (i, seg) in segments.iter().enumerate() {
                    let shown = if show_whitespace { visible_whitespace(&seg.text) } else { seg.text.clone() };
                    let chip = Chip {
                        text: &shown,
                        sub: None,
                        kind: ChipKind::Normal(i),
                        highlighted: overlaps(hovered, seq, seg.start, seg.end),
                    };
                    let response = chip.show(ui);
                    if response.hovered() {
                        hit = Some((seq, seg.start, seg.end));
                    }
                    response.on_hover_text(format!("characters {}..{}", seg.start, seg.end));
                }
            }
        });
    });
    hit
}

/// Chips for the subword tokens, each with its ID; returns the hovered span.
fn tokens_ui(
    ui: &mut egui::Ui,
    id: &str,
    encoded: &EncodedText,
    model: &ModelInfo,
    hovered: Option<(usize, usize, usize)>,
    height: f32,
) -> Option<(usize, usize, usize)> {
    let mut hit = None;
    let unk = model.tokenizer.unk().map(|(_, id)| id);
    egui::ScrollArea::vertical().id_salt(id).max_height(height).auto_shrink([false, true]).show(ui, |ui| {
        ui.horizontal_wrapped(|ui| {
            ui.spacing_mut().item_spacing = egui::vec2(3.0, 3.0);
            for i in 0..encoded.len() {
                let id = encoded.input_ids[i];
                let (start, end) = encoded.offsets[i];
                let seq = encoded.sequence_ids[i];
                let kind = if Some(id) == unk {
                    ChipKind::Unknown
                } else if encoded.is_special(i) {
                    ChipKind::Special
                } else {
                    ChipKind::Normal(i)
                };
                let chip = Chip {
                    text: &encoded.tokens[i],
                    sub: Some(id.to_string()),
                    kind,
                    highlighted: seq.is_some_and(|s| overlaps(hovered, s, start, end)),
                };
                let response = chip.show(ui);
                if response.hovered() {
                    hit = seq.map(|s| (s, start, end));
                }
                let special = if encoded.is_special(i) { " · special token" } else { "" };
                response.on_hover_text(format!(
                    "ID {id}{special}\ncharacters {start}..{end}\ntoken_type_id {} · attention_mask {}",
                    encoded.token_type_ids[i], encoded.attention_mask[i]
                ));
            }
        });
    });
    hit
}

/// Formats a list as Python prints it: `[101, 6160, 102]`.
pub fn python_list(values: &[u32]) -> String {
    let items: Vec<String> = values.iter().map(u32::to_string).collect();
    format!("[{}]", items.join(", "))
}

/// The encoding as transformers returns it, plus a per-token table.
fn encoding_ui(ui: &mut egui::Ui, encoded: &EncodedText) {
    let lines = [
        format!("input_ids: {}", python_list(&encoded.input_ids)),
        format!("token_type_ids: {}", python_list(&encoded.token_type_ids)),
        format!("attention_mask: {}", python_list(&encoded.attention_mask)),
    ];
    for line in &lines {
        ui.add(egui::Label::new(egui::RichText::new(line).monospace()).wrap());
    }
    if ui.button("Copy as JSON").clicked() {
        let json = serde_json::json!({
            "input_ids": encoded.input_ids,
            "token_type_ids": encoded.token_type_ids,
            "attention_mask": encoded.attention_mask,
            "tokens": encoded.tokens,
            "offsets": encoded.offsets,
        });
        ui.ctx().copy_text(json.to_string());
    }
    ui.add_space(4.0);
    let row_height = ui.text_style_height(&egui::TextStyle::Monospace) + 4.0;
    ui.monospace(format!("{:>4}  {:<18} {:>7}  {:>4}  {:>4}  {:<10} special", "#", "token", "id", "type", "mask", "offsets"));
    egui::ScrollArea::vertical().id_salt("encoding_rows").auto_shrink([false, true]).show_rows(ui, row_height, encoded.len(), |ui, rows| {
        for i in rows {
            let (s, e) = encoded.offsets[i];
            ui.monospace(format!(
                "{i:>4}  {:<18} {:>7}  {:>4}  {:>4}  {:<10} {}",
                encoded.tokens[i],
                encoded.input_ids[i],
                encoded.token_type_ids[i],
                encoded.attention_mask[i],
                format!("{s}..{e}"),
                if encoded.is_special(i) { "yes" } else { "" }
            ));
        }
    });
}
