//! Property: on a random mixed Chinese/English corpus, every query finds exactly the messages
//! a brute-force scan of the texts finds (recall and precision), for CJK substrings of 1–4
//! characters, whole words, word prefixes, and two-term combinations.

use std::collections::BTreeSet;

use hongyan_search::{is_cjk, tokenize, Doc, Query, SearchIndex};
use proptest::prelude::*;

/// A small alphabet so substrings repeat across messages (and overlap in tricky ways).
const HAN: &[char] = &['消', '息', '推', '送', '离', '线', '的', '了', '机', '制'];
const KANA: &[char] = &['ひ', 'ら', 'カ', 'ナ', '한', '국'];
const WORDS: &[&str] = &[
    "message",
    "messages",
    "deliver",
    "delivered",
    "delivery",
    "qos",
    "server",
    "serve",
    "ok",
    "Café",
    "cafe",
    "mobileimsdk",
    "2024",
    "v6",
];
const SEPARATORS: &[&str] = &[" ", " ", "，", ", ", "! ", "", "😀"];

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::collection::vec(prop::sample::select(HAN), 1..6)
            .prop_map(|cs| cs.into_iter().collect::<String>()),
        2 => prop::collection::vec(prop::sample::select(&HAN[..4]), 1..4)
            .prop_map(|cs| cs.into_iter().collect::<String>()),
        1 => prop::collection::vec(prop::sample::select(KANA), 1..4)
            .prop_map(|cs| cs.into_iter().collect::<String>()),
        3 => prop::sample::select(WORDS).prop_map(str::to_string),
    ]
}

fn message() -> impl Strategy<Value = String> {
    prop::collection::vec((piece(), prop::sample::select(SEPARATORS)), 0..8).prop_map(|parts| {
        parts
            .into_iter()
            .map(|(p, sep)| format!("{p}{sep}"))
            .collect()
    })
}

/// What a query asks for, checked on the text.
#[derive(Debug, Clone)]
enum Probe {
    Cjk(String),
    Word(String),
    Prefix(String),
}

fn words_of(text: &str) -> Vec<String> {
    tokenize(text)
        .into_iter()
        .map(|t| t.text)
        .filter(|t| !t.chars().any(is_cjk))
        .collect()
}

fn satisfied(text: &str, probe: &Probe) -> bool {
    match probe {
        Probe::Cjk(s) => text.contains(s.as_str()),
        Probe::Word(w) => words_of(text).iter().any(|t| t == w),
        Probe::Prefix(p) => words_of(text).iter().any(|t| t.starts_with(p.as_str())),
    }
}

/// The query text for probes (words complete, the last one a prefix when it is one).
fn query_text(probes: &[Probe]) -> String {
    probes
        .iter()
        .map(|p| match p {
            Probe::Cjk(s) => format!("{s} "),
            Probe::Word(w) => format!("{w} "),
            Probe::Prefix(p) => p.clone(),
        })
        .collect::<Vec<_>>()
        .join("")
}

/// Probes drawn from the corpus: CJK substrings of 1–4 chars, words and prefixes.
fn probes_for(texts: &[String], picks: &[(usize, usize, usize)]) -> Vec<Probe> {
    let mut probes = Vec::new();
    for &(doc, at, len) in picks {
        let Some(text) = texts.get(doc % texts.len().max(1)) else {
            continue;
        };
        let chars: Vec<char> = text.chars().collect();
        // A CJK substring starting near `at`.
        if !chars.is_empty() {
            let start = at % chars.len();
            let run: String = chars[start..]
                .iter()
                .take_while(|c| is_cjk(**c))
                .take(1 + len % 4)
                .collect();
            if !run.is_empty() {
                probes.push(Probe::Cjk(run));
            }
        }
        // CJK characters of the message with what separates them removed: substrings of this
        // often straddle two runs, and must then not match (positions gap between runs).
        let joined: Vec<char> = chars.iter().copied().filter(|c| is_cjk(*c)).collect();
        if joined.len() >= 3 {
            let start = at % (joined.len() - 2);
            let n = (3 + len % 2).min(joined.len() - start);
            probes.push(Probe::Cjk(joined[start..start + n].iter().collect()));
        }
        let words = words_of(text);
        if !words.is_empty() {
            let w = &words[at % words.len()];
            probes.push(Probe::Word(w.clone()));
            let n = 1 + len % w.chars().count();
            probes.push(Probe::Prefix(w.chars().take(n).collect()));
        }
    }
    probes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn search_finds_exactly_what_a_scan_finds(
        texts in prop::collection::vec(message(), 1..80),
        picks in prop::collection::vec((0usize..1000, 0usize..1000, 0usize..1000), 8),
        // Strings over the first four characters only: often present, often split across runs.
        random_cjk in prop::collection::vec(
            prop::collection::vec(prop::sample::select(&HAN[..4]), 2..5), 8),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let (index, _) = SearchIndex::open(dir.path()).unwrap();
        let docs: Vec<Doc> = texts
            .iter()
            .enumerate()
            .map(|(i, text)| Doc {
                id: format!("d{i}"),
                conversation_id: format!("c{}", i % 3),
                sender: "s".into(),
                sent_at: i as i64,
                text: text.clone(),
            })
            .collect();
        // Two batches, so queries run across two segments.
        let (first, second) = docs.split_at(docs.len() / 2);
        index.add(first).unwrap();
        index.commit().unwrap();
        index.add(second).unwrap();
        index.commit().unwrap();

        let mut probes = probes_for(&texts, &picks);
        probes.extend(random_cjk.iter().map(|cs| Probe::Cjk(cs.iter().collect())));
        let mut queries: Vec<Vec<Probe>> = probes.iter().map(|p| vec![p.clone()]).collect();
        // Two-term queries: a CJK substring (or word) with a following word or prefix.
        for pair in probes.windows(2) {
            queries.push(pair.to_vec());
        }
        for probes in queries {
            // A prefix is only a prefix as the last word; elsewhere it is a word.
            let probes: Vec<Probe> = probes
                .iter()
                .enumerate()
                .map(|(i, p)| match p {
                    Probe::Prefix(x) if i + 1 < probes.len() => Probe::Word(x.clone()),
                    other => other.clone(),
                })
                .collect();
            let text = query_text(&probes);
            let expected: BTreeSet<String> = docs
                .iter()
                .filter(|d| probes.iter().all(|p| satisfied(&d.text, p)))
                .map(|d| d.id.clone())
                .collect();
            let mut q = Query::text(text.clone());
            q.limit = docs.len();
            let results = index.search(&q).unwrap();
            let found: BTreeSet<String> = results.hits.into_iter().map(|h| h.id).collect();
            prop_assert_eq!(results.total, expected.len(), "total for {:?}", text);
            prop_assert_eq!(found, expected, "query {:?}", text);
        }
    }
}
