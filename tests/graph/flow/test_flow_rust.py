"""Rust: exact CFG edges, def-use chains and slices."""

from __future__ import annotations

from flow_helpers import chains, edges, lines

PARSER = """\
impl Parser {
    fn parse(&mut self, input: &str, limit: usize) -> Result<usize, Error> {
        let mut count = 0;
        let tokens = lex(input)?;
        'outer: for tok in tokens.iter() {
            if let Some(v) = tok.value() {
                count += v;
            } else if count > limit {
                break 'outer;
            }
            let kind = match tok.kind {
                Kind::Skip => continue,
                Kind::Stop => return Ok(count),
                k => k,
            };
            self.push(kind);
        }
        let total = loop {
            if count < 10 { break count; }
            count -= 1;
        };
        let check = |x: usize| x + count;
        Ok(check(total))
    }
}
"""


def test_question_mark_labels_match_arms_and_loop_value() -> None:
    """`?` and a `return` inside a `match` arm leave their step; `loop` with `break value`."""
    assert edges(PARSER, "rust", "Parser.parse") == {
        ("11-12", "12", "true"),
        ("11-12", "13", "false"),
        ("11-16", "5", "loop_back"),
        ("12", "5", "continue"),
        ("13", "13", "true"),
        ("13", "14", "false"),
        ("13", "exit", "return"),
        ("14", "11-16", "true"),
        ("18-19", "19", "true"),
        ("18-19", "20", "false"),
        ("18-23", "exit", "fallthrough"),
        ("19", "18-23", "break"),
        ("2-4", "5", "fallthrough"),
        ("2-4", "exit", "return"),
        ("20", "18-19", "loop_back"),
        ("5", "18-19", "false"),
        ("5", "6", "true"),
        ("6", "7", "true"),
        ("6", "8", "false"),
        ("7", "11-12", "fallthrough"),
        ("8", "11-12", "false"),
        ("8", "9", "true"),
        ("9", "18-19", "break"),
    }
    assert chains(PARSER, "rust", "Parser.parse") == {
        ("input", 2): [4],
        ("limit", 2): [8],
        ("self", 2): [16],
        ("count", 3): [7, 8, 13, 19, 20, 22, 23],
        ("tokens", 4): [5],
        ("tok", 5): [6, 11],
        ("v", 6): [7],
        ("count", 7): [7, 8, 13, 19, 20, 22, 23],
        ("kind", 11): [16],
        ("k", 14): [14],
        ("total", 18): [23],
        ("count", 20): [19, 20, 22, 23],
        ("check", 22): [23],
    }
    assert lines(PARSER, "rust", "Parser.parse", 23, "backward", None) == [
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        9,
        11,
        12,
        13,
        18,
        19,
        20,
        22,
        23,
    ]
    assert lines(PARSER, "rust", "Parser.parse", 3, "forward", None) == [
        3,
        5,
        6,
        7,
        8,
        9,
        11,
        12,
        13,
        14,
        16,
        18,
        19,
        20,
        22,
        23,
    ]
    assert lines(PARSER, "rust", "Parser.parse", 16, "backward", None) == [
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        9,
        11,
        12,
        13,
        14,
        16,
    ]
