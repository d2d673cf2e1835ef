//! One-hot rows: the vocabulary-sized rows of a token sequence and the one-hot table of category labels.

/// A window of columns of a one-hot row: which IDs are shown and where the single 1 sits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OneHotWindow {
    /// First column shown (a token ID).
    pub first: u32,
    /// Columns shown, `first..first + width`, clamped to the vocabulary.
    pub width: u32,
    /// The hot column (the token ID).
    pub hot: u32,
}

/// The columns to show for a vocabulary-sized one-hot row of `id`: `radius` columns either side of the
/// hot one, shifted to stay inside the vocabulary.
pub fn window(id: u32, vocab_size: u32, radius: u32) -> OneHotWindow {
    let width = (2 * radius + 1).min(vocab_size.max(1));
    let first = id.saturating_sub(radius).min(vocab_size.saturating_sub(width));
    OneHotWindow { first, width, hot: id }
}

/// Parses a comma- or newline-separated list of category names, trimmed, empty ones dropped,
/// first occurrence kept.
pub fn parse_labels(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in text.split([',', '\n']).map(str::trim).filter(|s| !s.is_empty()) {
        if !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    }
    out
}

/// The one-hot table of labels: row i has a 1 in column i.
pub fn label_table(labels: &[String]) -> Vec<Vec<u8>> {
    (0..labels.len()).map(|i| (0..labels.len()).map(|j| u8::from(i == j)).collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_stays_inside_vocabulary() {
        assert_eq!(window(0, 30522, 3), OneHotWindow { first: 0, width: 7, hot: 0 });
        assert_eq!(window(30521, 30522, 3), OneHotWindow { first: 30515, width: 7, hot: 30521 });
        assert_eq!(window(100, 30522, 3).first, 97);
        assert_eq!(window(1, 3, 3), OneHotWindow { first: 0, width: 3, hot: 1 });
    }

    #[test]
    fn labels_from_talk() {
        let labels = parse_labels("Sport, Politic,Science , Health,,Sport");
        assert_eq!(labels, ["Sport", "Politic", "Science", "Health"]);
        let table = label_table(&labels);
        assert_eq!(table[2], [0, 0, 1, 0]);
        assert_eq!(table.iter().map(|r| r.iter().map(|&x| x as usize).sum::<usize>()).sum::<usize>(), 4);
    }
}
