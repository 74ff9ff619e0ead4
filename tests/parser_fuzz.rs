//! Property tests of the front end: random bytes and mutated conformance
//! programs give either a resolved program or diagnostics — never a panic.

use proptest::prelude::*;
use runtime::syntax::span::SourceMap;

/// Lexes, parses and resolves `src`; panics propagate to the test.
fn front_end(src: &str) {
    let map = std::sync::Arc::new(SourceMap::new());
    let _ = runtime::program::load_source("fuzz.fg", src.to_string(), Vec::new(), map);
}

fn corpus() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance");
    let mut out = Vec::new();
    let mut dirs = vec![root];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "fg") {
                if let Ok(t) = std::fs::read_to_string(&p) {
                    out.push(t);
                }
            }
        }
    }
    out.sort();
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        front_end(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn random_token_soup_never_panics(words in proptest::collection::vec(prop::sample::select(vec![
        "let", "mut", "fn", "(", ")", "{", "}", "[", "]", ",", "x", "1", "2.5", "\"s{x}\"", "+", "-", "*",
        "==", "|>", "..", "...", "if", "else", "match", "=>", "->", "when", "spawn", "squad", "\n", ";",
        "return", "for", "in", "while", "struct", "P", ":", "=", "?", ".", "@", "/*", "*/", "//", "\"\"\"",
    ]), 0..60)) {
        front_end(&words.join(" "));
    }

    #[test]
    fn mutated_programs_never_panic(index in any::<prop::sample::Index>(), cuts in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)) {
        let corpus = corpus();
        let mut src = corpus[index.index(corpus.len())].clone().into_bytes();
        for (at, byte) in cuts {
            if src.is_empty() { break; }
            let i = at.index(src.len());
            match byte % 3 {
                0 => { src.remove(i); }
                1 => src.insert(i, b"{}()[]\"\n;.,=+"[(byte as usize) % 13]),
                _ => src.truncate(i),
            }
        }
        front_end(&String::from_utf8_lossy(&src));
    }
}
