//! The project's analyzer, used for documents and queries alike.
//!
//! Text is cut into runs of "CJK" characters (Han ideographs, Japanese kana, Korean hangul) and
//! runs of everything else. A CJK run becomes overlapping bigrams with consecutive positions
//! (`离线消息` → `离线@0 线消@1 消息@2`), a one-character run becomes that character. Other runs are
//! split into words on Unicode word boundaries (UAX #29); pieces without a letter or digit
//! (punctuation, emoji, spaces) are dropped. After each CJK run the position skips one, so a
//! phrase of bigrams never matches across two runs (`消息 息推` must not match `消息推`).
//! Filters then lowercase and ASCII-fold every token and drop over-long ones.

use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, TextAnalyzer, Token as TantivyToken, TokenFilter, TokenStream,
    Tokenizer,
};
use unicode_segmentation::{UWordBoundIndices, UnicodeSegmentation};

use crate::types::Token;

/// The name the analyzer is registered under in the index.
pub const TOKENIZER_NAME: &str = "hongyan_cjk";

/// Words longer than this (bytes, before folding) are not indexed: they are not words people
/// search for, and tantivy caps term length anyway.
pub const MAX_WORD_BYTES: usize = 100;

/// Whether `c` belongs to a CJK run (bigram indexing).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3005 | 0x3007                // 々 〇
        | 0x3021..=0x3029              // Hangzhou numerals
        | 0x3040..=0x309F              // Hiragana
        | 0x30A0..=0x30FF              // Katakana (incl. ー)
        | 0x3100..=0x312F              // Bopomofo
        | 0x3130..=0x318F              // Hangul compatibility jamo
        | 0x31F0..=0x31FF              // Katakana phonetic extensions
        | 0x3400..=0x4DBF              // CJK extension A
        | 0x4E00..=0x9FFF              // CJK unified ideographs
        | 0x1100..=0x11FF              // Hangul jamo
        | 0xA960..=0xA97F              // Hangul jamo extended A
        | 0xAC00..=0xD7AF              // Hangul syllables
        | 0xD7B0..=0xD7FF              // Hangul jamo extended B
        | 0xF900..=0xFAFF              // CJK compatibility ideographs
        | 0xFF66..=0xFF9F              // Halfwidth katakana
        | 0x1B000..=0x1B16F            // Kana supplement / extended
        | 0x20000..=0x323AF            // CJK extensions B..H
    )
}

/// The raw tokenizer (no case folding); wrap it with [`analyzer`] for indexing.
#[derive(Clone, Default)]
pub struct HongyanTokenizer;

impl Tokenizer for HongyanTokenizer {
    type TokenStream<'a> = HongyanTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> HongyanTokenStream<'a> {
        HongyanTokenStream {
            text,
            cursor: 0,
            next_position: 0,
            run: Run::None,
            token: TantivyToken::default(),
        }
    }
}

enum Run<'a> {
    None,
    /// Inside a CJK run: the last character seen and whether a bigram was emitted yet.
    Cjk {
        prev_start: usize,
        prev_end: usize,
        emitted: bool,
    },
    /// Inside a non-CJK run: its word segments, offsets relative to `base`.
    Words {
        base: usize,
        segments: UWordBoundIndices<'a>,
    },
}

pub struct HongyanTokenStream<'a> {
    text: &'a str,
    cursor: usize,
    next_position: usize,
    run: Run<'a>,
    token: TantivyToken,
}

impl HongyanTokenStream<'_> {
    fn emit(&mut self, start: usize, end: usize) {
        self.token.text.clear();
        self.token.text.push_str(&self.text[start..end]);
        self.token.offset_from = start;
        self.token.offset_to = end;
        self.token.position = self.next_position;
        self.token.position_length = 1;
        self.next_position += 1;
    }
}

impl TokenStream for HongyanTokenStream<'_> {
    fn advance(&mut self) -> bool {
        loop {
            match &mut self.run {
                Run::Cjk {
                    prev_start,
                    prev_end,
                    emitted,
                } => {
                    let (start, end, was_emitted) = (*prev_start, *prev_end, *emitted);
                    match self.text[self.cursor..].chars().next() {
                        Some(c) if is_cjk(c) => {
                            let next_end = self.cursor + c.len_utf8();
                            self.run = Run::Cjk {
                                prev_start: self.cursor,
                                prev_end: next_end,
                                emitted: true,
                            };
                            self.cursor = next_end;
                            self.emit(start, next_end);
                            return true;
                        }
                        _ => {
                            self.run = Run::None;
                            if !was_emitted {
                                self.emit(start, end);
                                self.next_position += 1;
                                return true;
                            }
                            self.next_position += 1;
                        }
                    }
                }
                Run::Words { base, segments } => {
                    let base = *base;
                    match segments.next() {
                        Some((offset, segment)) => {
                            if segment.len() <= MAX_WORD_BYTES
                                && segment.chars().any(char::is_alphanumeric)
                            {
                                let start = base + offset;
                                self.emit(start, start + segment.len());
                                return true;
                            }
                        }
                        None => self.run = Run::None,
                    }
                }
                Run::None => {
                    let rest = &self.text[self.cursor..];
                    let Some(first) = rest.chars().next() else {
                        return false;
                    };
                    if is_cjk(first) {
                        let end = self.cursor + first.len_utf8();
                        self.run = Run::Cjk {
                            prev_start: self.cursor,
                            prev_end: end,
                            emitted: false,
                        };
                        self.cursor = end;
                    } else {
                        let len = rest
                            .char_indices()
                            .find(|&(_, c)| is_cjk(c))
                            .map_or(rest.len(), |(i, _)| i);
                        let base = self.cursor;
                        self.run = Run::Words {
                            base,
                            segments: self.text[base..base + len].split_word_bound_indices(),
                        };
                        self.cursor = base + len;
                    }
                }
            }
        }
    }

    fn token(&self) -> &TantivyToken {
        &self.token
    }

    fn token_mut(&mut self) -> &mut TantivyToken {
        &mut self.token
    }
}

/// Adds the English stem of a word as an extra token at the same position (only when it
/// differs). Off in the index (see docs/SEARCH.md); kept for callers that want it.
#[derive(Clone, Default)]
pub struct StemAlongside;

impl TokenFilter for StemAlongside {
    type Tokenizer<T: Tokenizer> = StemAlongsideTokenizer<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> StemAlongsideTokenizer<T> {
        StemAlongsideTokenizer { inner: tokenizer }
    }
}

#[derive(Clone)]
pub struct StemAlongsideTokenizer<T> {
    inner: T,
}

impl<T: Tokenizer> Tokenizer for StemAlongsideTokenizer<T> {
    type TokenStream<'a> = StemAlongsideStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        StemAlongsideStream {
            inner: self.inner.token_stream(text),
            stemmer: rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English),
            pending: None,
        }
    }
}

pub struct StemAlongsideStream<S> {
    inner: S,
    stemmer: rust_stemmers::Stemmer,
    pending: Option<String>,
}

impl<S: TokenStream> TokenStream for StemAlongsideStream<S> {
    fn advance(&mut self) -> bool {
        if let Some(stem) = self.pending.take() {
            self.inner.token_mut().text = stem;
            return true;
        }
        if !self.inner.advance() {
            return false;
        }
        let word = &self.inner.token().text;
        if word.len() > 2 && word.bytes().all(|b| b.is_ascii_lowercase()) {
            let stem = self.stemmer.stem(word);
            if stem != word.as_str() {
                self.pending = Some(stem.into_owned());
            }
        }
        true
    }

    fn token(&self) -> &TantivyToken {
        self.inner.token()
    }

    fn token_mut(&mut self) -> &mut TantivyToken {
        self.inner.token_mut()
    }
}

/// The analyzer: [`HongyanTokenizer`], then lowercase, ASCII folding, and with
/// `stem` the English stem alongside each word.
pub fn analyzer(stem: bool) -> TextAnalyzer {
    let base = TextAnalyzer::builder(HongyanTokenizer)
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter);
    if stem {
        base.filter(StemAlongside).build()
    } else {
        base.build()
    }
}

/// The index analysis (no stemming) of `text`.
pub fn tokenize(text: &str) -> Vec<Token> {
    analyze(&mut analyzer(false), text)
}

/// Runs `analyzer` over `text` and collects the tokens.
pub fn analyze(analyzer: &mut TextAnalyzer, text: &str) -> Vec<Token> {
    let mut stream = analyzer.token_stream(text);
    let mut tokens = Vec::new();
    while stream.advance() {
        let t = stream.token();
        tokens.push(Token {
            text: t.text.clone(),
            position: t.position,
            start: t.offset_from,
            end: t.offset_to,
        });
    }
    tokens
}

/// Splits `text` into maximal runs of CJK and of other characters: `(is_cjk, run)`.
pub(crate) fn script_runs(text: &str) -> impl Iterator<Item = (bool, &str)> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let cjk = is_cjk(first);
        let len = rest
            .char_indices()
            .find(|&(_, c)| is_cjk(c) != cjk)
            .map_or(rest.len(), |(i, _)| i);
        let (run, tail) = rest.split_at(len);
        rest = tail;
        Some((cjk, run))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (text, position) pairs.
    fn tokens(text: &str) -> Vec<(String, usize)> {
        tokenize(text)
            .into_iter()
            .map(|t| (t.text, t.position))
            .collect()
    }

    fn texts(text: &str) -> Vec<String> {
        tokenize(text).into_iter().map(|t| t.text).collect()
    }

    fn pairs(expected: &[(&str, usize)]) -> Vec<(String, usize)> {
        expected.iter().map(|(t, p)| (t.to_string(), *p)).collect()
    }

    #[test]
    fn cjk_run_becomes_overlapping_bigrams_with_positions() {
        assert_eq!(
            tokens("离线消息"),
            pairs(&[("离线", 0), ("线消", 1), ("消息", 2)])
        );
        let t = tokenize("离线消息");
        assert_eq!((t[1].start, t[1].end), (3, 9), "byte offsets of 线消");
    }

    #[test]
    fn two_chars_are_one_bigram_and_a_lone_char_is_itself() {
        assert_eq!(tokens("消息"), pairs(&[("消息", 0)]));
        assert_eq!(tokens("消"), pairs(&[("消", 0)]));
        // Between Latin words: the lone char keeps its own position.
        assert_eq!(tokens("a的b"), pairs(&[("a", 0), ("的", 1), ("b", 3)]));
    }

    #[test]
    fn positions_skip_after_each_cjk_run() {
        // 消息 and 息推 are not adjacent, so a phrase 消息·息推 can't match across the space.
        assert_eq!(tokens("消息 息推"), pairs(&[("消息", 0), ("息推", 2)]));
    }

    #[test]
    fn mixed_text_splits_into_each_part() {
        assert_eq!(
            texts("MobileIMSDK的QoS机制"),
            ["mobileimsdk", "的", "qos", "机制"]
        );
    }

    #[test]
    fn kana_and_hangul_are_bigrams_too() {
        assert_eq!(texts("ひらがな"), ["ひら", "らが", "がな"]);
        assert_eq!(texts("カタカナ"), ["カタ", "タカ", "カナ"]);
        assert_eq!(texts("한국어 메시지"), ["한국", "국어", "메시", "시지"]);
        // Kanji and kana join one run.
        assert_eq!(texts("日本語の"), ["日本", "本語", "語の"]);
        assert_eq!(texts("ラーメン"), ["ラー", "ーメ", "メン"]);
    }

    #[test]
    fn words_are_lowercased_and_ascii_folded() {
        assert_eq!(texts("Café NAÏVE Résumé"), ["cafe", "naive", "resume"]);
        assert_eq!(texts("Straße ÅNGSTRÖM"), ["strasse", "angstrom"]);
        assert_eq!(texts("ＡＢＣ"), ["abc"], "fullwidth Latin folds to ASCII");
    }

    #[test]
    fn digits_are_kept_and_punctuation_and_emoji_dropped() {
        assert_eq!(
            texts("Meet at 10:30, room 42! 🎉👍 ok?"),
            ["meet", "at", "10", "30", "room", "42", "ok"]
        );
        assert_eq!(texts("v6.2 2024年"), ["v6.2", "2024", "年"]);
        assert_eq!(texts("你好！！😀世界。"), ["你好", "世界"]);
    }

    #[test]
    fn other_scripts_split_on_word_boundaries() {
        assert_eq!(texts("Привет, мир"), ["привет", "мир"]);
        // Folding is to ASCII only where a Latin equivalent exists: other scripts stay as written.
        assert_eq!(texts("γειά σου"), ["γειά", "σου"]);
    }

    #[test]
    fn empty_and_blank_input_give_nothing() {
        assert!(tokenize("").is_empty());
        assert!(tokenize("   \n\t").is_empty());
        assert!(tokenize("!!! ... 😀").is_empty());
    }

    #[test]
    fn very_long_input_is_tokenized_fully_and_overlong_words_dropped() {
        let text = "消息".repeat(50_000);
        let t = tokenize(&text);
        assert_eq!(t.len(), 99_999);
        assert_eq!(t.last().map(|t| t.position), Some(99_998));
        let long_word = "a".repeat(MAX_WORD_BYTES + 1);
        assert_eq!(texts(&format!("ok {long_word} fine")), ["ok", "fine"]);
        let many = "word ".repeat(100_000);
        assert_eq!(tokenize(&many).len(), 100_000);
    }

    #[test]
    fn offsets_point_into_the_original_text() {
        let text = "Héllo 世界 wörld";
        for t in tokenize(text) {
            let original = &text[t.start..t.end];
            assert!(!original.is_empty(), "{t:?}");
        }
        let t = tokenize(text);
        assert_eq!(&text[t[0].start..t[0].end], "Héllo");
        assert_eq!(&text[t[1].start..t[1].end], "世界");
    }

    #[test]
    fn stemming_adds_the_stem_at_the_same_position() {
        let t = analyze(&mut analyzer(true), "delivered messages 消息");
        let got: Vec<(&str, usize)> = t.iter().map(|t| (t.text.as_str(), t.position)).collect();
        assert_eq!(
            got,
            [
                ("delivered", 0),
                ("deliv", 0),
                ("messages", 1),
                ("messag", 1),
                ("消息", 2)
            ]
        );
        // Off by default: the index analysis has no stems.
        assert_eq!(texts("delivered"), ["delivered"]);
    }

    #[test]
    fn script_runs_alternate() {
        let runs: Vec<(bool, &str)> = script_runs("ab消息 cd的").collect();
        assert_eq!(
            runs,
            [(false, "ab"), (true, "消息"), (false, " cd"), (true, "的")]
        );
    }
}
