//! From what the user typed to a tantivy query, without tantivy's query parser: every input is
//! plain text except `"quoted phrases"`, so no input is a syntax error.

use std::ops::Bound;
use std::sync::Arc;

use tantivy::query::{
    AutomatonWeight, BooleanQuery, BoostQuery, EnableScoring, Occur, PhraseQuery,
    Query as TantivyQuery, RangeQuery, TermQuery, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::Term;
use tantivy_fst::Automaton;

use crate::schema::Fields;
use crate::tokenizer::{is_cjk, script_runs, tokenize};
use crate::types::Query;

/// One ANDed part of a query, in analysed form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Clause {
    /// A token (a word or a CJK bigram) exactly.
    Term(String),
    /// Any word starting with this (the last word while the user is typing).
    Prefix(String),
    /// Any bigram starting or ending with this CJK character, or the character alone.
    CjkChar(String),
    /// Tokens at these relative positions (CJK runs of 3+ chars, quoted text).
    Phrase(Vec<(usize, String)>),
}

/// Reads the user's text. A CJK run of 2+ characters is a phrase of its bigrams, a single CJK
/// character matches it anywhere, words are terms, and the last word is a prefix unless the
/// text ends after it (a space or a closing quote). An unmatched `"` is ignored.
pub(crate) fn parse(text: &str) -> Vec<Clause> {
    let pieces: Vec<&str> = text.split('"').collect();
    // With an odd number of quotes the last one is unmatched: its text is unquoted.
    let closed = if pieces.len().is_multiple_of(2) {
        pieces.len() - 1
    } else {
        pieces.len()
    };
    let mut clauses = Vec::new();
    let mut last_word_open = None;
    for (i, piece) in pieces.iter().enumerate() {
        let quoted = i % 2 == 1 && i < closed;
        if quoted {
            let tokens = tokenize(piece);
            match tokens.as_slice() {
                [] => {}
                [one] => clauses.push(single_token_clause(piece, &one.text)),
                [first, ..] => clauses.push(Clause::Phrase(
                    tokens
                        .iter()
                        .map(|t| (t.position - first.position, t.text.clone()))
                        .collect(),
                )),
            }
            last_word_open = None;
            continue;
        }
        for (cjk, run) in script_runs(piece) {
            let tokens = tokenize(run);
            if cjk {
                match tokens.as_slice() {
                    [] => {}
                    [one] => clauses.push(single_token_clause(run, &one.text)),
                    many => clauses.push(Clause::Phrase(
                        many.iter()
                            .map(|t| (t.position - many[0].position, t.text.clone()))
                            .collect(),
                    )),
                }
                last_word_open = None;
            } else {
                for token in &tokens {
                    clauses.push(Clause::Term(token.text.clone()));
                }
                last_word_open = tokens
                    .last()
                    .filter(|t| t.end == run.len())
                    .map(|_| clauses.len() - 1);
            }
        }
        // The text went on after this piece (a quote follows): nothing is being typed.
        if i + 1 < pieces.len() {
            last_word_open = None;
        }
    }
    if let Some(index) = last_word_open {
        if let Clause::Term(word) = &clauses[index] {
            clauses[index] = Clause::Prefix(word.clone());
        }
    }
    clauses.dedup();
    clauses
}

fn single_token_clause(original: &str, token: &str) -> Clause {
    let chars = original.chars().filter(|c| is_cjk(*c)).count();
    if chars == 1 && token.chars().count() == 1 {
        Clause::CjkChar(token.to_string())
    } else {
        Clause::Term(token.to_string())
    }
}

/// The tantivy query for `q`, or `None` when the text has nothing to search for.
pub(crate) fn build(q: &Query, fields: &Fields) -> Option<Box<dyn TantivyQuery>> {
    let clauses = parse(&q.text);
    if clauses.is_empty() {
        return None;
    }
    let mut parts: Vec<(Occur, Box<dyn TantivyQuery>)> = clauses
        .into_iter()
        .map(|c| (Occur::Must, clause_query(c, fields.text)))
        .collect();
    let mut filter = |query: Box<dyn TantivyQuery>| {
        // Filters narrow, they don't score.
        parts.push((Occur::Must, Box::new(BoostQuery::new(query, 0.0))));
    };
    if let Some(conversation) = &q.conversation_id {
        filter(Box::new(TermQuery::new(
            Term::from_field_text(fields.conversation_id, conversation),
            IndexRecordOption::Basic,
        )));
    }
    if let Some(sender) = &q.sender {
        filter(Box::new(TermQuery::new(
            Term::from_field_text(fields.sender, sender),
            IndexRecordOption::Basic,
        )));
    }
    if q.from_ms.is_some() || q.to_ms.is_some() {
        let bound = |v: Option<i64>| match v {
            Some(ms) => Bound::Included(Term::from_field_i64(fields.sent_at, ms)),
            None => Bound::Unbounded,
        };
        filter(Box::new(RangeQuery::new(bound(q.from_ms), bound(q.to_ms))));
    }
    if parts.len() == 1 {
        return parts.pop().map(|(_, query)| query);
    }
    Some(Box::new(BooleanQuery::new(parts)))
}

fn clause_query(clause: Clause, text: Field) -> Box<dyn TantivyQuery> {
    match clause {
        Clause::Term(t) => Box::new(TermQuery::new(
            Term::from_field_text(text, &t),
            IndexRecordOption::WithFreqs,
        )),
        Clause::Phrase(terms) => Box::new(PhraseQuery::new_with_offset(
            terms
                .into_iter()
                .map(|(offset, t)| (offset, Term::from_field_text(text, &t)))
                .collect(),
        )),
        Clause::Prefix(p) => Box::new(AutomatonQuery {
            field: text,
            automaton: Arc::new(TermAutomaton::Prefix(p.into_bytes())),
        }),
        Clause::CjkChar(c) => Box::new(AutomatonQuery {
            field: text,
            automaton: Arc::new(TermAutomaton::CjkChar(c.into_bytes())),
        }),
    }
}

/// Matches the terms of the dictionary that an automaton accepts (walked on the term FST, so
/// only the matching branches are visited) and ORs their postings into one set.
#[derive(Debug, Clone)]
struct AutomatonQuery {
    field: Field,
    automaton: Arc<TermAutomaton>,
}

impl TantivyQuery for AutomatonQuery {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(AutomatonWeight::<TermAutomaton>::new(
            self.field,
            self.automaton.clone(),
        )))
    }
}

/// The two term shapes we expand on the dictionary.
#[derive(Debug)]
pub(crate) enum TermAutomaton {
    /// Terms starting with these bytes.
    Prefix(Vec<u8>),
    /// `c`, `c?` or `?c` for the CJK character `c` (UTF-8 bytes), `?` any one character.
    CjkChar(Vec<u8>),
}

/// The bytes read so far (at most two 4-byte characters), or dead.
#[derive(Clone, Debug)]
pub(crate) struct Bytes8 {
    len: u8,
    buf: [u8; 8],
}

impl Bytes8 {
    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len as usize]
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

impl TermAutomaton {
    /// `(viable, complete)` for the bytes read so far.
    fn cjk_status(c: &[u8], s: &[u8]) -> (bool, bool) {
        let Some(&first) = s.first() else {
            return (true, false);
        };
        let first_len = utf8_len(first);
        if s.len() <= first_len {
            return (true, s == c);
        }
        let (head, rest) = s.split_at(first_len);
        let second_len = utf8_len(rest[0]);
        if head == c {
            // `c?`: anything as the second character, then the end.
            return (rest.len() <= second_len, rest.len() == second_len);
        }
        // `?c`: the second character must be c.
        (c.starts_with(rest), rest == c)
    }
}

impl Automaton for TermAutomaton {
    type State = Option<Bytes8>;

    fn start(&self) -> Self::State {
        Some(Bytes8 {
            len: 0,
            buf: [0; 8],
        })
    }

    fn is_match(&self, state: &Self::State) -> bool {
        let Some(state) = state else { return false };
        match self {
            TermAutomaton::Prefix(p) => state.len as usize >= p.len(),
            TermAutomaton::CjkChar(c) => Self::cjk_status(c, state.bytes()).1,
        }
    }

    fn can_match(&self, state: &Self::State) -> bool {
        state.is_some()
    }

    fn will_always_match(&self, state: &Self::State) -> bool {
        matches!((self, state), (TermAutomaton::Prefix(p), Some(s)) if s.len as usize >= p.len())
    }

    fn accept(&self, state: &Self::State, byte: u8) -> Self::State {
        let state = state.as_ref()?;
        match self {
            TermAutomaton::Prefix(p) => {
                let n = state.len as usize;
                if n >= p.len() {
                    // The prefix is matched: stay in the accepting state.
                    return Some(state.clone());
                }
                (p[n] == byte).then(|| Bytes8 {
                    len: state.len + 1,
                    buf: state.buf,
                })
            }
            TermAutomaton::CjkChar(c) => {
                let n = state.len as usize;
                if n >= 8 {
                    return None;
                }
                let mut next = state.clone();
                next.buf[n] = byte;
                next.len += 1;
                Self::cjk_status(c, next.bytes()).0.then_some(next)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(t: &str) -> Clause {
        Clause::Term(t.to_string())
    }
    fn prefix(t: &str) -> Clause {
        Clause::Prefix(t.to_string())
    }
    fn phrase(terms: &[(usize, &str)]) -> Clause {
        Clause::Phrase(terms.iter().map(|(p, t)| (*p, t.to_string())).collect())
    }

    #[test]
    fn cjk_runs_become_phrases_terms_or_single_chars() {
        assert_eq!(parse("消息"), [term("消息")]);
        assert_eq!(
            parse("离线消息"),
            [phrase(&[(0, "离线"), (1, "线消"), (2, "消息")])]
        );
        assert_eq!(parse("消"), [Clause::CjkChar("消".into())]);
    }

    #[test]
    fn the_last_word_is_a_prefix_while_typing() {
        assert_eq!(parse("deliv"), [prefix("deliv")]);
        assert_eq!(parse("message deliv"), [term("message"), prefix("deliv")]);
        // A space after it: the word is complete.
        assert_eq!(parse("deliv "), [term("deliv")]);
        // Followed by CJK: complete too.
        assert_eq!(parse("qos机制"), [term("qos"), term("机制")]);
        assert_eq!(parse("Café"), [prefix("cafe")]);
    }

    #[test]
    fn mixed_query_is_an_and_of_each_part() {
        assert_eq!(
            parse("MobileIMSDK的QoS机制"),
            [
                term("mobileimsdk"),
                Clause::CjkChar("的".into()),
                term("qos"),
                term("机制")
            ]
        );
    }

    #[test]
    fn quotes_make_phrases_and_bad_quotes_are_plain_text() {
        assert_eq!(
            parse("\"hello world\" x"),
            [phrase(&[(0, "hello"), (1, "world")]), prefix("x")]
        );
        assert_eq!(parse("\"hello\""), [term("hello")]);
        // Unmatched quote: ignored.
        assert_eq!(parse("hello \"wor"), [term("hello"), prefix("wor")]);
        assert_eq!(parse("\"\"\""), []);
        assert_eq!(parse("a\"\"b"), [term("a"), prefix("b")]);
    }

    #[test]
    fn nothing_to_search_gives_no_clauses() {
        assert!(parse("").is_empty());
        assert!(parse("  !!! 😀 ").is_empty());
        assert!(parse("AND OR NOT ( ) [ ] : ^ ~ * \\").len() == 3);
    }

    #[test]
    fn repeated_terms_are_deduplicated() {
        assert_eq!(parse("ok ok ok "), [term("ok")]);
    }

    fn accepts(a: &TermAutomaton, term: &str) -> bool {
        let mut state = a.start();
        for b in term.bytes() {
            state = a.accept(&state, b);
            if !a.can_match(&state) {
                return false;
            }
        }
        a.is_match(&state)
    }

    #[test]
    fn single_char_automaton_matches_c_cx_and_xc_only() {
        let a = TermAutomaton::CjkChar("消".as_bytes().to_vec());
        for yes in ["消", "消息", "取消", "消消", "𠀀消", "消𠀀"] {
            assert!(accepts(&a, yes), "{yes}");
        }
        for no in ["息", "取消息", "消息队", "a", "", "ab", "息取"] {
            assert!(!accepts(&a, no), "{no}");
        }
    }

    #[test]
    fn prefix_automaton_matches_words_starting_with_it() {
        let a = TermAutomaton::Prefix(b"deliv".to_vec());
        for yes in ["deliv", "delivered", "delivery"] {
            assert!(accepts(&a, yes), "{yes}");
        }
        for no in ["deli", "adeliv", "message", ""] {
            assert!(!accepts(&a, no), "{no}");
        }
    }
}
