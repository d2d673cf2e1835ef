//! The Train page's pieces for a masked LM built from scratch: the shape editor of the "preset ▾" menu,
//! what such a run can show in a demo's time, and its perplexity beside the unigram baseline.

use crate::core::train::scratch::{BertShape, CPU_PRETRAINING};
use crate::core::train::{recipe_for, TrainConfig, TrainTask};

/// The editor of a BERT built from scratch: layers, hidden size, heads, feed-forward size, positions and
/// dropout; an impossible shape says why and cannot be used. Returns the spec to train when "Use" is clicked.
pub fn shape_editor_ui(ui: &mut egui::Ui, shape: &mut BertShape) -> Option<String> {
    ui.strong("Your own shape");
    egui::Grid::new("bert_shape").num_columns(2).spacing([8.0, 3.0]).show(ui, |ui| {
        let rows: [(&str, &mut usize, std::ops::RangeInclusive<usize>); 5] = [
            ("layers", &mut shape.layers, 1..=48),
            ("hidden size", &mut shape.hidden, 16..=4096),
            ("attention heads", &mut shape.heads, 1..=64),
            ("feed-forward size", &mut shape.intermediate, 16..=16384),
            ("max positions", &mut shape.max_positions, 8..=8192),
        ];
        for (name, value, range) in rows {
            let label = ui.label(name);
            ui.add(egui::DragValue::new(value).range(range)).labelled_by(label.id);
            ui.end_row();
        }
        let label = ui.label("dropout in its config");
        ui.add(egui::DragValue::new(&mut shape.dropout).range(0.0..=0.9).speed(0.01).fixed_decimals(2))
            .labelled_by(label.id)
            .on_hover_text(
                "of the hidden states and the attention probabilities, written to its config.json (BERT: 0.1); \
                 the run's dropout override, when set, wins",
            );
        ui.end_row();
    });
    match shape.validate() {
        Ok(()) => {
            let spec = shape.spec();
            ui.button(format!("Use {spec}")).clicked().then_some(spec)
        }
        Err(e) => {
            ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {e}"));
            None
        }
    }
}

/// A masked LM's held-out perplexity beside its unigram baseline (both `exp` of a loss in nats).
pub fn perplexity_line(validation_loss: Option<f64>, unigram_loss: Option<f64>) -> Option<String> {
    let baseline = unigram_loss.map(|u| format!(" · unigram baseline {:.1}", u.exp()));
    match (validation_loss, baseline) {
        (Some(loss), baseline) => Some(format!("validation perplexity {:.1}{}", loss.exp(), baseline.unwrap_or_default())),
        (None, Some(baseline)) => Some(format!("validation perplexity: at the first evaluation{baseline}")),
        (None, None) => None,
    }
}

/// What a masked LM built from scratch can show in a demo's time, from the measured CPU run
/// (BENCHMARKS.md); the GPU is the recommended path where there is one.
pub fn pretraining_advice(config: &TrainConfig, gpu: bool) -> Option<String> {
    let from_scratch = recipe_for(&config.model) == crate::core::train::FROM_SCRATCH;
    if config.task != TrainTask::MaskedLm || !from_scratch {
        return None;
    }
    let measured = "On two CPU cores, 600 steps of 32 × 128 tokens (about 2.5 minutes) take a 2×128 BERT from the \
                    unigram baseline (perplexity ≈ 900) to ≈ 630 with BERT's defaults, to ≈ 510 with the CPU \
                    pre-training recipe: its guesses are still mostly frequent words. Guesses a reader accepts need \
                    tens of thousands of steps.";
    Some(if gpu {
        format!("{measured} This machine has a GPU: pick it (Device: GPU) for pre-training.")
    } else {
        format!("{measured} Pre-train on a GPU machine for that (Device: GPU in a CUDA build); here, watch the loss fall below the unigram line.")
    })
}

/// One click to the settings that learn faster from scratch on a CPU (a masked LM built from scratch
/// only; hidden once they are set).
pub fn cpu_recipe_ui(ui: &mut egui::Ui, config: &mut TrainConfig) {
    if pretraining_advice(config, false).is_none() || CPU_PRETRAINING.is_applied(config) {
        return;
    }
    ui.horizontal_wrapped(|ui| {
        ui.weak(format!(
            "Learns faster on a CPU: learning rate {:e}, no dropout, first guesses at the unigram baseline.",
            CPU_PRETRAINING.learning_rate
        ));
        if ui.small_button("Use the CPU pre-training recipe").clicked() {
            CPU_PRETRAINING.apply(config);
        }
    });
}
