//! The status bar: compute device, loaded model and tokenizer, background jobs.

use crate::core::model_source::ModelInfo;

use super::app::JobView;

/// A training run as the status bar shows it.
pub struct TrainingStatus {
    pub text: String,
    pub fraction: Option<f32>,
}

pub fn status_bar_ui(ui: &mut egui::Ui, device: &str, model: Option<&ModelInfo>, jobs: &[JobView], training: Option<&TrainingStatus>) {
    ui.horizontal(|ui| {
        ui.label(format!("Device: {device}"));
        ui.separator();
        match model {
            Some(m) => {
                let tok = &m.tokenizer;
                ui.label(format!("Model: {}", m.name));
                ui.separator();
                ui.label(format!("Tokenizer: {} · vocab {}", tok.kind().label(), thousands(tok.vocab_size())));
            }
            None => {
                ui.label("Model: none loaded");
            }
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if jobs.is_empty() && training.is_none() {
                ui.label(egui::RichText::new("idle").weak());
            }
            if let Some(t) = training {
                if let Some(f) = t.fraction {
                    ui.add(egui::ProgressBar::new(f).desired_width(120.0).show_percentage());
                }
                ui.label(&t.text);
                ui.separator();
            }
            for job in jobs {
                match job.fraction {
                    Some(f) => {
                        ui.add(egui::ProgressBar::new(f).desired_width(120.0).show_percentage());
                    }
                    None => {
                        ui.spinner();
                    }
                }
                let text = if job.message.is_empty() { job.name.clone() } else { format!("{} — {}", job.name, job.message) };
                ui.label(text);
            }
        });
    });
}

/// 30522 → "30,522".
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_separators() {
        assert_eq!(super::thousands(30522), "30,522");
        assert_eq!(super::thousands(109_486_854), "109,486,854");
        assert_eq!(super::thousands(7), "7");
    }
}
