"""JavaScript, TypeScript and TSX: exact CFG edges, def-use chains and slices."""

from __future__ import annotations

import pytest
from flow_helpers import chains, edges, lines

LOOPS = """\
function total(items, limit) {
  let sum = 0;
  outer: for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (item == null) {
      continue;
    }
    for (const part of item.parts) {
      if (part > limit) break outer;
      sum += part;
    }
  }
  try {
    check(sum);
  } catch (err) {
    sum = -1;
  } finally {
    log(sum);
  }
  const add = (n) => { sum += n; };
  add(1);
  return sum;
}
"""

PANEL = """\
export const Panel = ({ items, onPick }: Props): JSX.Element => {
  let picked: string | undefined;
  for (const item of items) {
    if (!item.enabled) continue;
    picked = item.id;
  }
  const handle = (e: Event) => onPick(picked ?? e.type);
  return <div onClick={handle}>{picked}</div>;
};
class Store<T> {
  private data: T[] = [];
  get(index: number): T | undefined {
    const found = this.data[index];
    if (found === undefined) {
      throw new RangeError(`no ${index}`);
    }
    return found;
  }
}
"""


def test_javascript_labels_closures_try_finally() -> None:
    """Labelled break/continue, for-of, try/catch/finally, a closure writing `sum`."""
    assert edges(LOOPS, "javascript", "total") == {
        ("1-3", "3", "fallthrough"),
        ("10", "8", "loop_back"),
        ("13", "14", "fallthrough"),
        ("13", "15", "exception"),
        ("14", "15", "exception"),
        ("14", "18-22", "fallthrough"),
        ("15", "16", "true"),
        ("16", "18-22", "fallthrough"),
        ("18-22", "exit", "return"),
        ("3", "13", "false"),
        ("3", "3", "loop_back"),
        ("3", "4-5", "true"),
        ("4-5", "6", "true"),
        ("4-5", "8", "false"),
        ("6", "3", "continue"),
        ("8", "3", "false"),
        ("8", "9", "true"),
        ("9", "10", "false"),
        ("9", "13", "break"),
        ("9", "9", "true"),
    }
    assert chains(LOOPS, "javascript", "total") == {
        ("items", 1): [3, 4],
        ("limit", 1): [9],
        ("sum", 2): [10, 14, 18, 20, 21, 22],
        ("i", 3): [3, 4],
        ("item", 4): [5, 8],
        ("part", 8): [9, 10],
        ("sum", 10): [10, 14, 18, 20, 21, 22],
        ("err", 15): [],
        ("sum", 16): [18, 20, 21, 22],
        ("add", 20): [21],
        ("sum", 20): [21, 22],
        ("sum", 21): [21, 22],
    }
    assert lines(LOOPS, "javascript", "total", 22, "backward", None) == [
        1,
        2,
        3,
        4,
        5,
        6,
        8,
        9,
        10,
        13,
        14,
        16,
        20,
        21,
        22,
    ]
    assert lines(LOOPS, "javascript", "total", 22, "backward", "sum") == [
        1,
        2,
        3,
        4,
        5,
        6,
        8,
        9,
        10,
        13,
        14,
        16,
        20,
        21,
        22,
    ]
    assert lines(LOOPS, "javascript", "total", 2, "forward", None) == [
        2,
        10,
        14,
        15,
        16,
        18,
        20,
        21,
        22,
    ]
    assert lines(LOOPS, "javascript", "total", 4, "forward", None) == [
        3,
        4,
        5,
        6,
        8,
        9,
        10,
        14,
        15,
        16,
        18,
        20,
        21,
        22,
    ]


def test_tsx_arrow_component() -> None:
    assert edges(PANEL, "tsx", "Panel") == {
        ("1-2", "3", "fallthrough"),
        ("3", "4", "true"),
        ("3", "7-8", "false"),
        ("4", "3", "continue"),
        ("4", "4", "true"),
        ("4", "5", "false"),
        ("5", "3", "loop_back"),
        ("7-8", "exit", "return"),
    }
    assert chains(PANEL, "tsx", "Panel") == {
        ("items", 1): [3],
        ("onPick", 1): [7, 8],
        ("picked", 2): [7, 8],
        ("item", 3): [4, 5],
        ("picked", 5): [7, 8],
        ("handle", 7): [8],
    }
    assert lines(PANEL, "tsx", "Panel", 8, "backward", None) == [1, 2, 3, 4, 5, 7, 8]


def test_tsx_method_throw() -> None:
    assert edges(PANEL, "tsx", "Store.get") == {
        ("12-14", "15", "true"),
        ("12-14", "17", "false"),
        ("15", "exit", "exception"),
        ("17", "exit", "return"),
    }
    assert chains(PANEL, "tsx", "Store.get") == {("index", 12): [13], ("found", 13): [14, 17]}
    assert lines(PANEL, "tsx", "Store.get", 17, "backward", None) == [12, 13, 14, 15, 17]
    assert lines(PANEL, "tsx", "Store.get", 13, "forward", None) == [13, 14, 15, 17]


@pytest.mark.parametrize("language", ["typescript", "tsx", "javascript"])
def test_same_answer_in_every_dialect(language: str) -> None:
    assert edges(LOOPS, language, "total") == edges(LOOPS, "javascript", "total")
    assert chains(LOOPS, language, "total") == chains(LOOPS, "javascript", "total")


SWITCH = """\
function grade(score) {
  let g;
  switch (score) {
    case 10:
      g = "A";
    case 9:
      g = g || "B";
      break;
    default:
      g = "C";
  }
  do {
    score--;
  } while (score > 0);
  return g;
}
"""


def test_switch_falls_through_and_do_while() -> None:
    assert edges(SWITCH, "javascript", "grade") == {
        ("1-4", "5", "true"),
        ("1-4", "6", "false"),
        ("5", "7-8", "fallthrough"),  # case 10 falls into case 9
        ("6", "7-8", "true"),
        ("6", "9-10", "false"),
        ("7-8", "13-14", "break"),
        ("9-10", "13-14", "fallthrough"),
        ("13-14", "13-14", "loop_back"),
        ("13-14", "15", "false"),
        ("15", "exit", "return"),
    }
    assert chains(SWITCH, "javascript", "grade") == {
        ("score", 1): [3, 13],
        ("g", 2): [7],
        ("g", 5): [7],
        ("g", 7): [15],
        ("g", 10): [15],
        ("score", 13): [13, 14],
    }
    # The `break` stays with its case; `default:` holds no statement of its own.
    assert lines(SWITCH, "javascript", "grade", 15, "backward", "g") == [
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        10,
        15,
    ]
