//! The Train page's hyperparameter grid: learning rate, batch, epochs and steps, lengths, masking,
//! warm-up and schedule, optimiser, clipping, accumulation, dropout, seed, evaluation, early stopping and
//! checkpoint cadence.

use crate::core::train::{BestMetric, EvalEvery, Schedule, TrainConfig, TrainTask, Warmup};

/// Every hyperparameter of `c`, one row each.
pub fn hyperparameters_ui(ui: &mut egui::Ui, c: &mut TrainConfig) {
    ui.strong("Hyperparameters");
    egui::Grid::new("hyper").num_columns(2).spacing([8.0, 3.0]).show(ui, |ui| {
        let row = ui.label("learning rate");
        ui.add(egui::DragValue::new(&mut c.learning_rate).speed(1e-6).range(0.0..=1.0).custom_formatter(|v, _| format!("{v:.2e}"))).labelled_by(row.id);
        ui.end_row();
        let row = ui.label("batch size");
        ui.add(egui::DragValue::new(&mut c.batch_size).range(1..=1024)).labelled_by(row.id);
        ui.end_row();
        let row = ui.label("epochs");
        ui.add(egui::DragValue::new(&mut c.epochs).range(1..=1000)).labelled_by(row.id);
        ui.end_row();
        let row = ui.label("max steps");
        let mut limited = c.max_steps.is_some();
        ui.horizontal(|ui| {
            if ui.checkbox(&mut limited, "limit").changed() {
                c.max_steps = limited.then_some(100);
            }
            if let Some(n) = &mut c.max_steps {
                ui.add(egui::DragValue::new(n).range(1..=10_000_000)).labelled_by(row.id);
            }
        });
        ui.end_row();
        let row = ui.label("max length");
        // A masked LM on text in chunks takes blocks of the chunk size: the max length plays no part.
        let chunked = c.text_chunk_size().is_some();
        ui.add_enabled(!chunked, egui::DragValue::new(&mut c.max_length).range(8..=4096))
            .labelled_by(row.id)
            .on_disabled_hover_text("the text is cut into blocks of the chunk size below");
        ui.end_row();
        if c.task == TrainTask::MaskedLm {
            ui.label("text");
            ui.horizontal(|ui| {
                let mut chunked = c.chunk_size.is_some();
                let hint = "concatenate the text and cut it into blocks of N tokens (specials included), as the Hugging Face course's group_texts; off: one truncated row per line";
                if ui.checkbox(&mut chunked, "in chunks").on_hover_text(hint).changed() {
                    c.chunk_size = chunked.then_some(128);
                }
                if let Some(n) = &mut c.chunk_size {
                    ui.add(egui::DragValue::new(n).range(8..=4096).suffix(" tokens"));
                }
            });
            ui.end_row();
            ui.label("masking");
            ui.checkbox(&mut c.whole_word_masking, "whole words")
                .on_hover_text("mask every ## piece of a picked word together (WordPiece tokenizers); off: each token on its own");
            ui.end_row();
            if crate::core::train::setup::builds_from_scratch(&c.model) {
                ui.label("first guesses");
                ui.checkbox(&mut c.unigram_output_bias, "the unigram baseline's").on_hover_text(
                    "start the output bias at the log of each token's training frequency: the untrained model guesses \
                     frequent words instead of every token alike, and the loss starts at the unigram line",
                );
                ui.end_row();
            }
        }
        let row = ui.label("warm-up");
        ui.horizontal(|ui| match &mut c.warmup {
            Warmup::Ratio(r) => {
                ui.add(egui::DragValue::new(r).speed(0.01).range(0.0..=0.9).suffix(" of steps")).labelled_by(row.id);
                if ui.small_button("steps").clicked() {
                    c.warmup = Warmup::Steps(10);
                }
            }
            Warmup::Steps(n) => {
                ui.add(egui::DragValue::new(n).range(0..=1_000_000).suffix(" steps")).labelled_by(row.id);
                if ui.small_button("ratio").clicked() {
                    c.warmup = Warmup::Ratio(0.1);
                }
            }
        });
        ui.end_row();
        ui.label("schedule");
        ui.horizontal(|ui| {
            ui.selectable_value(&mut c.schedule, Schedule::Linear, "linear");
            ui.selectable_value(&mut c.schedule, Schedule::Cosine, "cosine");
            ui.selectable_value(&mut c.schedule, Schedule::Constant, "constant");
        });
        ui.end_row();
        let row = ui.label("weight decay");
        ui.add(egui::DragValue::new(&mut c.weight_decay).speed(0.001).range(0.0..=1.0)).labelled_by(row.id);
        ui.end_row();
        let row = ui.label("AdamW β1 β2 ε");
        ui.horizontal(|ui| {
            ui.add(egui::DragValue::new(&mut c.adam_beta1).speed(0.001).range(0.0..=0.9999)).labelled_by(row.id);
            ui.add(egui::DragValue::new(&mut c.adam_beta2).speed(0.0001).range(0.0..=0.99999)).labelled_by(row.id);
            ui.add(egui::DragValue::new(&mut c.adam_eps).speed(1e-9).range(0.0..=1e-3).custom_formatter(|v, _| format!("{v:.0e}"))).labelled_by(row.id);
        });
        ui.end_row();
        let row = ui.label("clip grad norm");
        let mut clip = c.max_grad_norm.is_some();
        ui.horizontal(|ui| {
            if ui.checkbox(&mut clip, "clip").changed() {
                c.max_grad_norm = clip.then_some(1.0);
            }
            if let Some(v) = &mut c.max_grad_norm {
                ui.add(egui::DragValue::new(v).speed(0.05).range(0.01..=100.0)).labelled_by(row.id);
            }
        });
        ui.end_row();
        let row = ui.label("accumulate");
        ui.add(egui::DragValue::new(&mut c.gradient_accumulation).range(1..=256).suffix(" batches")).labelled_by(row.id);
        ui.end_row();
        ui.label("batches");
        ui.checkbox(&mut c.group_by_length, "group by length")
            .on_hover_text("Rows of similar length share a batch: less padding, faster on data of mixed lengths");
        ui.end_row();
        let row = ui.label("dropout");
        let mut custom = c.dropout.is_some();
        ui.horizontal(|ui| {
            if ui.checkbox(&mut custom, "override").changed() {
                c.dropout = custom.then_some(0.1);
            }
            if let Some(p) = &mut c.dropout {
                ui.add(egui::DragValue::new(p).speed(0.01).range(0.0..=0.9)).labelled_by(row.id);
            }
        });
        ui.end_row();
        let row = ui.label("seed");
        ui.add(egui::DragValue::new(&mut c.seed)).labelled_by(row.id);
        ui.end_row();
        let row = ui.label("evaluate");
        ui.horizontal(|ui| match &mut c.eval_every {
            EvalEvery::Epoch => {
                ui.label("each epoch");
                if ui.small_button("every N steps").clicked() {
                    c.eval_every = EvalEvery::Steps(50);
                }
            }
            EvalEvery::Steps(n) => {
                ui.add(egui::DragValue::new(n).range(1..=1_000_000).prefix("every ").suffix(" steps")).labelled_by(row.id);
                if ui.small_button("each epoch").clicked() {
                    c.eval_every = EvalEvery::Epoch;
                }
            }
        });
        ui.end_row();
        let row = ui.label("early stopping");
        let mut early = c.early_stopping_patience.is_some();
        ui.horizontal(|ui| {
            if ui.checkbox(&mut early, "stop early").changed() {
                c.early_stopping_patience = early.then_some(3);
            }
            if let Some(p) = &mut c.early_stopping_patience {
                ui.add(egui::DragValue::new(p).range(1..=100).prefix("patience ")).labelled_by(row.id);
            }
        });
        ui.end_row();
        ui.label("best by");
        if c.task == TrainTask::MaskedLm {
            // The trainer keeps a masked LM's best checkpoint by its validation loss whatever the setting.
            ui.label("perplexity (the lowest validation loss)");
        } else {
            ui.horizontal(|ui| {
                ui.selectable_value(&mut c.best_metric, BestMetric::MacroF1, "macro-F1");
                ui.selectable_value(&mut c.best_metric, BestMetric::Accuracy, "accuracy");
                ui.selectable_value(&mut c.best_metric, BestMetric::Loss, "loss");
            });
        }
        ui.end_row();
        let row = ui.label("checkpoint every");
        let mut every = c.save_every.is_some();
        ui.horizontal(|ui| {
            if ui.checkbox(&mut every, "save").changed() {
                c.save_every = every.then_some(100);
            }
            if let Some(n) = &mut c.save_every {
                ui.add(egui::DragValue::new(n).range(1..=1_000_000).suffix(" steps")).labelled_by(row.id);
            }
        });
        ui.end_row();
        ui.label("validation");
        ui.add(egui::Slider::new(&mut c.validation_fraction, 0.0..=0.5).text("held out if none"));
        ui.end_row();
    });
}
