//! Snippets cut from the original text around the first match, the matched ranges marked.
//! Matching uses the same analysis as the index, so what is highlighted is what was found.

use std::collections::HashMap;

use crate::query::{parse, Clause};
use crate::tokenizer::tokenize;
use crate::types::{SnippetPart, Token};

/// About how many characters of text a snippet shows.
pub const SNIPPET_CHARS: usize = 80;
/// How many characters before the first match the window starts.
const CONTEXT_BEFORE: usize = 20;
const ELLIPSIS: &str = "…";

/// The snippet of `text` for the query text `query` (as typed). Parts with `hit: true` cover
/// exactly the matched characters; `…` parts mark cut text. Without a match: the text's start.
pub fn snippet(text: &str, query: &str) -> Vec<SnippetPart> {
    let ranges = match_ranges(text, &parse(query));
    let first = ranges.first().map_or(0, |r| r.0);
    let start = char_start_before(text, first, CONTEXT_BEFORE);
    let first_end = ranges.first().map_or(0, |r| r.1);
    let end = char_end_after(text, start, SNIPPET_CHARS).max(first_end);

    let mut parts = Vec::new();
    let mut push = |text: &str, hit: bool| {
        if !text.is_empty() {
            parts.push(SnippetPart {
                text: text.to_string(),
                hit,
            });
        }
    };
    if start > 0 {
        push(ELLIPSIS, false);
    }
    let mut at = start;
    for &(s, e) in &ranges {
        let (s, e) = (s.max(at), e.min(end));
        if s >= e {
            continue;
        }
        push(&text[at..s], false);
        push(&text[s..e], true);
        at = e;
    }
    push(&text[at..end], false);
    if end < text.len() {
        push(ELLIPSIS, false);
    }
    parts
}

/// Byte index `n` characters before `at` (or 0).
fn char_start_before(text: &str, at: usize, n: usize) -> usize {
    text[..at]
        .char_indices()
        .rev()
        .nth(n.saturating_sub(1))
        .map_or(0, |(i, _)| i)
}

/// Byte index `n` characters after `from` (or the end).
fn char_end_after(text: &str, from: usize, n: usize) -> usize {
    text[from..]
        .char_indices()
        .nth(n)
        .map_or(text.len(), |(i, _)| from + i)
}

/// Sorted, merged byte ranges of `text` matched by any clause.
fn match_ranges(text: &str, clauses: &[Clause]) -> Vec<(usize, usize)> {
    if clauses.is_empty() {
        return Vec::new();
    }
    let tokens = tokenize(text);
    let mut at_position: HashMap<usize, Vec<&Token>> = HashMap::new();
    for t in &tokens {
        at_position.entry(t.position).or_default().push(t);
    }
    let mut ranges = Vec::new();
    for clause in clauses {
        match clause {
            Clause::Term(term) => ranges.extend(
                tokens
                    .iter()
                    .filter(|t| &t.text == term)
                    .map(|t| (t.start, t.end)),
            ),
            Clause::Prefix(prefix) => ranges.extend(
                tokens
                    .iter()
                    .filter(|t| t.text.starts_with(prefix.as_str()))
                    .map(|t| prefix_range(text, t, prefix)),
            ),
            Clause::CjkChar(c) => {
                for t in tokens.iter().filter(|t| t.text.contains(c.as_str())) {
                    let original = &text[t.start..t.end];
                    // The character's own range inside the token (bigram or lone char).
                    for (i, _) in original.match_indices(c.as_str()) {
                        ranges.push((t.start + i, t.start + i + c.len()));
                    }
                }
            }
            Clause::Phrase(terms) => {
                let Some((_, first)) = terms.first() else {
                    continue;
                };
                for t in tokens.iter().filter(|t| &t.text == first) {
                    let matched: Option<Vec<&Token>> = terms
                        .iter()
                        .map(|(offset, term)| {
                            at_position
                                .get(&(t.position + offset))?
                                .iter()
                                .find(|other| &other.text == term)
                                .copied()
                        })
                        .collect();
                    if let Some(matched) = matched {
                        ranges.extend(matched.iter().map(|m| (m.start, m.end)));
                    }
                }
            }
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (s, e) in ranges {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

/// The part of the original word that the prefix covers: as many characters as the prefix
/// has, unless folding changed the word's length (`ß` → `ss`), then the whole word.
fn prefix_range(text: &str, token: &Token, prefix: &str) -> (usize, usize) {
    let original = &text[token.start..token.end];
    if original.chars().count() != token.text.chars().count() {
        return (token.start, token.end);
    }
    let n = prefix.chars().count();
    let end = original
        .char_indices()
        .nth(n)
        .map_or(token.end, |(i, _)| token.start + i);
    (token.start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The snippet as text with hits in [brackets].
    fn marked(text: &str, query: &str) -> String {
        snippet(text, query)
            .into_iter()
            .map(|p| {
                if p.hit {
                    format!("[{}]", p.text)
                } else {
                    p.text
                }
            })
            .collect()
    }

    #[test]
    fn cjk_matches_cover_exactly_the_matched_characters() {
        assert_eq!(marked("离线消息推送", "消息推"), "离线[消息推]送");
        assert_eq!(marked("离线消息推送", "消"), "离线[消]息推送");
        assert_eq!(marked("消息 息推", "消息推"), "消息 息推");
    }

    #[test]
    fn words_and_prefixes_are_marked_on_the_original_text() {
        assert_eq!(
            marked("The message was Delivered.", "deliv"),
            "The message was [Deliv]ered."
        );
        assert_eq!(
            marked("The message was Delivered.", "message "),
            "The [message] was Delivered."
        );
        assert_eq!(marked("un Café noir", "cafe "), "un [Café] noir");
        assert_eq!(
            marked("Straße", "stras"),
            "[Straße]",
            "folding changed the length"
        );
    }

    #[test]
    fn mixed_and_multiple_terms_are_all_marked() {
        assert_eq!(
            marked("MobileIMSDK的QoS机制", "qos 机制"),
            "MobileIMSDK的[QoS机制]",
            "touching hits merge into one part"
        );
        assert_eq!(marked("ok then ok", "ok "), "[ok] then [ok]");
    }

    #[test]
    fn long_text_is_cut_around_the_first_match() {
        let text = format!("{}消息推送{}", "前".repeat(200), "后".repeat(200));
        let parts = snippet(&text, "消息");
        assert_eq!(parts.first().map(|p| p.text.as_str()), Some("…"));
        assert_eq!(parts.last().map(|p| p.text.as_str()), Some("…"));
        let shown: String = parts.iter().map(|p| p.text.as_str()).collect();
        assert!(shown.chars().count() <= SNIPPET_CHARS + 2);
        assert!(parts.iter().any(|p| p.hit && p.text == "消息"));
        let before: String = parts[1].text.clone();
        assert_eq!(before.chars().count(), CONTEXT_BEFORE);
    }

    #[test]
    fn no_match_shows_the_start_and_empty_text_is_empty() {
        assert_eq!(marked("hello world", "zzz"), "hello world");
        assert!(snippet("", "x").is_empty());
        let long = "x".repeat(200);
        let parts = snippet(&long, "");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].text.chars().count(), SNIPPET_CHARS);
    }

    #[test]
    fn parts_are_char_boundary_safe_on_any_text() {
        let text = "😀é消息x".repeat(40);
        for q in ["消", "息x", "x", "e", "消息"] {
            let parts = snippet(&text, q);
            assert!(!parts.is_empty());
            assert!(parts.iter().any(|p| p.hit), "{q}");
        }
    }
}
