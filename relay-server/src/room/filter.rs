//! The room's word filter: listed words are masked with `*`, whole words only and
//! regardless of case, before a chat message is stored.

use std::collections::HashSet;

#[derive(Debug, Clone, Default)]
pub struct WordFilter {
    words: HashSet<String>,
}

impl WordFilter {
    pub fn new<I, S>(words: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        WordFilter {
            words: words
                .into_iter()
                .map(|w| w.as_ref().trim().to_lowercase())
                .filter(|w| !w.is_empty())
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// `text` with every listed word replaced by as many `*` as it has characters.
    pub fn mask(&self, text: &str) -> String {
        if self.words.is_empty() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut word = String::new();
        let flush = |word: &mut String, out: &mut String| {
            if !word.is_empty() {
                if self.words.contains(&word.to_lowercase()) {
                    out.extend(std::iter::repeat_n('*', word.chars().count()));
                } else {
                    out.push_str(word);
                }
                word.clear();
            }
        };
        for c in text.chars() {
            if c.is_alphanumeric() || c == '\'' {
                word.push(c);
            } else {
                flush(&mut word, &mut out);
                out.push(c);
            }
        }
        flush(&mut word, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_whole_words_any_case() {
        let f = WordFilter::new(["darn", "Heck"]);
        assert_eq!(f.mask("Darn it, HECK!"), "**** it, ****!");
        assert_eq!(f.mask("darned heckling"), "darned heckling");
        assert_eq!(f.mask("naïve darn café"), "naïve **** café");
    }

    #[test]
    fn empty_filter_changes_nothing() {
        assert_eq!(WordFilter::new(Vec::<String>::new()).mask("darn"), "darn");
    }
}
