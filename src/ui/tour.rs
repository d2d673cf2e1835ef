//! The first-start walkthrough: the talk's story in six steps (tokenize → IDs and one-hot → train the
//! classifier only → train the whole model → compare → fill masks), offline with the built-in demo.
//! Each step says what to look at; "Show me" opens its page and sets it up. Shown on first start,
//! reopened from the "Tour" button; where it was is remembered.

use serde::{Deserialize, Serialize};

/// One step of the story.
pub struct TourStep {
    pub title: &'static str,
    pub text: &'static str,
}

/// The story, in order.
pub const STEPS: [TourStep; 6] = [
    TourStep {
        title: "Text becomes tokens",
        text: "Characters, words and the model's subword tokens side by side: rare words split into pieces \
               that start with ##. Type your own sentence.",
    },
    TourStep {
        title: "Tokens become IDs and one-hot rows",
        text: "Each token is a row number in the vocabulary; the model sees it as a one-hot row, a single 1 \
               among the vocabulary's zeros.",
    },
    TourStep {
        title: "Train the classifier only",
        text: "The demo encoder was pre-trained on unlabelled headlines. Freeze it and train only the \
               classifier on top to sort 2,100 headlines into six topics: about 10 seconds.",
    },
    TourStep {
        title: "Train the whole model",
        text: "Now let every weight learn (same data, same settings): about 20 seconds. Watch validation \
               accuracy climb past the frozen run's.",
    },
    TourStep {
        title: "Compare the runs",
        text: "Both runs side by side: the whole model clearly beats the classifier alone — the talk's finding.",
    },
    TourStep {
        title: "Fill in the blanks",
        text: "The task the encoder was pre-trained on: it guesses the hidden word at [MASK]. Click another \
               word to hide it, or type a sentence of your own.",
    },
];

/// Where the walkthrough is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tour {
    pub open: bool,
    /// The step shown (an index into [`STEPS`]).
    pub step: usize,
}

impl Default for Tour {
    fn default() -> Self {
        Self { open: true, step: 0 }
    }
}

/// What the user asked of the tour this frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TourRequest {
    /// The step whose page to open and set up.
    pub step: usize,
    /// Also start that step's training run.
    pub start_run: bool,
}

/// The steps that train (their button starts the run).
pub const TRAINING_STEPS: [usize; 2] = [2, 3];

impl Tour {
    /// Draws the tour's bar; returns what the user asked for.
    pub fn ui(&mut self, ui: &mut egui::Ui) -> Option<TourRequest> {
        self.step = self.step.min(STEPS.len() - 1);
        let step = &STEPS[self.step];
        let mut request = None;
        ui.horizontal_wrapped(|ui| {
            ui.strong(format!("Tour {}/{} · {}", self.step + 1, STEPS.len(), step.title));
            ui.label(step.text);
        });
        ui.horizontal(|ui| {
            let trains = TRAINING_STEPS.contains(&self.step);
            let (label, hover) = if trains {
                ("Start this run", "open the Train page with this step's settings and start training")
            } else {
                ("Show me", "open the page of this step and set it up")
            };
            if ui.button(label).on_hover_text(hover).clicked() {
                request = Some(TourRequest { step: self.step, start_run: trains });
            }
            if ui.add_enabled(self.step > 0, egui::Button::new("‹ Back")).clicked() {
                self.step -= 1;
                request = Some(TourRequest { step: self.step, start_run: false });
            }
            let last = self.step + 1 == STEPS.len();
            if ui.add_enabled(!last, egui::Button::new("Next ›")).clicked() {
                self.step += 1;
                request = Some(TourRequest { step: self.step, start_run: false });
            }
            if ui.button("Close tour").on_hover_text("the Tour button at the top right opens it again").clicked() {
                self.open = false;
            }
        });
        request
    }
}
