//! Splitting text into characters and words, with character offsets, for the side-by-side views.

use serde::Serialize;

/// A piece of the input text and its span in characters (Unicode scalar values), end exclusive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub text: String,
    pub start: usize,
    pub end: usize,
}

/// Every character of the text, whitespace included.
pub fn characters(text: &str) -> Vec<Segment> {
    text.chars().enumerate().map(|(i, c)| Segment { text: c.to_string(), start: i, end: i + 1 }).collect()
}

/// Words: runs of letters, digits and apostrophes inside a word; every other non-space character
/// (punctuation, symbols, emoji) is a word of its own. Whitespace separates words and is dropped.
pub fn words(text: &str) -> Vec<Segment> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c.is_alphanumeric() {
            i += 1;
            while i < chars.len() {
                let d = chars[i];
                let inner_apostrophe = (d == '\'' || d == '’') && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
                if d.is_alphanumeric() || inner_apostrophe {
                    i += 1;
                } else {
                    break;
                }
            }
        } else {
            i += 1;
        }
        out.push(Segment { text: chars[start..i].iter().collect(), start, end: i });
    }
    out
}

/// Converts a span in characters to a span in bytes of `text` (clamped to the text).
pub fn char_span_to_bytes(text: &str, start: usize, end: usize) -> (usize, usize) {
    let mut byte_start = text.len();
    let mut byte_end = text.len();
    for (n, (b, _)) in text.char_indices().enumerate() {
        if n == start {
            byte_start = b;
        }
        if n == end {
            byte_end = b;
            break;
        }
    }
    (byte_start.min(byte_end), byte_end)
}

/// `text` with one segment (character offsets, as [`words`] gives them) replaced by `with`, e.g. a word
/// by the model's mask token.
pub fn replace_segment(text: &str, segment: &Segment, with: &str) -> String {
    let mut out: String = text.chars().take(segment.start).collect();
    out.push_str(with);
    out.extend(text.chars().skip(segment.end));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_punctuation_and_keep_contractions() {
        let w: Vec<_> = words("Don't panic, it's 3.14 🤗!").into_iter().map(|s| s.text).collect();
        assert_eq!(w, ["Don't", "panic", ",", "it's", "3", ".", "14", "🤗", "!"]);
    }

    #[test]
    fn word_offsets_are_in_characters() {
        let w = words("héllo wörld");
        assert_eq!((w[1].start, w[1].end), (6, 11));
        assert_eq!(char_span_to_bytes("héllo wörld", 6, 11), (7, 13));
    }

    #[test]
    fn characters_keep_spaces() {
        let c = characters("a b");
        assert_eq!(c.len(), 3);
        assert_eq!(c[1].text, " ");
    }

    #[test]
    fn a_word_is_replaced_by_character_offsets() {
        let text = "Café prices rise — again";
        let w = words(text);
        let prices = w.iter().find(|s| s.text == "prices").unwrap();
        assert_eq!(replace_segment(text, prices, "[MASK]"), "Café [MASK] rise — again");
        let again = w.iter().find(|s| s.text == "again").unwrap();
        assert_eq!(replace_segment(text, again, "<mask>"), "Café prices rise — <mask>");
    }
}
