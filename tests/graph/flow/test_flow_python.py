"""Python: exact CFG edges, def-use chains and slices."""

from __future__ import annotations

from flow_helpers import chains, edges, lines

BRANCHES = """\
def f(a, b=1):
    x = 1
    if a > 0 and b:
        x += a
    elif a < 0:
        return -1
    else:
        pass
    for i in range(a):
        if i == 3:
            break
        if i == 2:
            continue
        x = x * i
    else:
        x = 0
    try:
        y = g(x)
    except ValueError as e:
        y = e
    finally:
        z = 2
    return x + y
"""

LOOP_ELSE = """\
def scan(rows):
    best = None
    while rows:
        row = rows.pop()
        if row.bad:
            continue
        if row.final:
            best = row
            break
    else:
        best = rows
    assert best is not None
    try:
        value = best.value
    except (KeyError, AttributeError) as err:
        raise ValueError(str(err)) from err
    else:
        value += 1
    return value
"""

CLOSURES = """\
import os


class Cache:
    def load(self, key, default=None):
        path = os.path.join(self.root, key)
        hits = 0

        def bump(n):
            nonlocal hits
            hits += n

        with open(path) as fh:
            data = fh.read()
        while True:
            if not data:
                break
            bump(1)
            data = data[1:]
        self.stats[key] = hits
        match data:
            case "":
                result = default
            case [first, *rest]:
                result = first
            case _:
                result = None
        return [x for x in result if x] if result else hits
"""


def test_branches_loops_and_try_finally_edges() -> None:
    assert edges(BRANCHES, "python", "f") == {
        ("1-3", "4", "true"),
        ("1-3", "5", "false"),
        ("4", "9", "fallthrough"),
        ("5", "6", "true"),
        ("5", "8", "false"),
        ("6", "exit", "return"),
        ("8", "9", "fallthrough"),
        ("9", "10", "true"),
        ("9", "16", "false"),
        ("10", "11", "true"),
        ("10", "12", "false"),
        ("11", "17", "break"),
        ("12", "13", "true"),
        ("12", "14", "false"),
        ("13", "9", "continue"),
        ("14", "9", "loop_back"),
        ("16", "17", "fallthrough"),
        ("17", "18", "fallthrough"),
        ("17", "19", "exception"),
        ("18", "19", "exception"),
        ("18", "22-23", "fallthrough"),
        ("19", "20", "true"),
        ("19", "22", "exception"),
        ("20", "22-23", "fallthrough"),
        # The finally is built once per way out: re-raise, and on to the return.
        ("22", "exit", "exception"),
        ("22-23", "exit", "return"),
    }


def test_branches_def_use() -> None:
    assert chains(BRANCHES, "python", "f") == {
        ("a", 1): [3, 4, 5, 9],
        ("b", 1): [3],
        ("x", 2): [4, 14, 18, 23],
        ("x", 4): [14, 18, 23],
        ("i", 9): [10, 12, 14],
        ("x", 14): [14, 18, 23],
        ("x", 16): [18, 23],
        ("y", 18): [23],
        ("e", 19): [20],
        ("y", 20): [23],
        ("z", 22): [],
    }


def test_branches_slices() -> None:
    # The early `return -1` is kept with its `elif`; the finally's `z = 2` is not.
    assert lines(BRANCHES, "python", "f", 23) == [
        1,
        2,
        3,
        4,
        5,
        6,
        9,
        10,
        11,
        12,
        13,
        14,
        16,
        17,
        18,
        19,
        20,
        23,
    ]
    assert lines(BRANCHES, "python", "f", 2, "forward") == [2, 4, 14, 18, 19, 20, 22, 23]
    # Whether the handler runs depends on `g(x)` raising: all of x's history.
    assert lines(BRANCHES, "python", "f", 20, "backward", "e") == [
        1,
        2,
        3,
        4,
        5,
        6,
        9,
        10,
        11,
        12,
        13,
        14,
        16,
        17,
        18,
        19,
        20,
    ]


def test_while_else_assert_and_try_else() -> None:
    assert edges(LOOP_ELSE, "python", "scan") == {
        ("1-2", "3", "fallthrough"),
        ("3", "4-5", "true"),
        ("3", "11", "false"),
        ("4-5", "6", "true"),
        ("4-5", "7", "false"),
        ("6", "3", "continue"),
        ("7", "8-9", "true"),
        ("7", "3", "false"),
        ("8-9", "12", "break"),
        ("11", "12", "fallthrough"),
        ("12", "13", "fallthrough"),
        ("12", "exit", "exception"),
        ("13", "14", "fallthrough"),
        ("13", "15", "exception"),
        ("14", "15", "exception"),
        ("14", "18-19", "fallthrough"),
        ("15", "16", "true"),
        ("15", "exit", "exception"),
        ("16", "exit", "exception"),
        ("18-19", "exit", "return"),
    }
    found = chains(LOOP_ELSE, "python", "scan")
    # `best = None` never reaches a use: both ways out of the loop redefine it.
    assert found[("best", 2)] == []
    assert found[("best", 8)] == [12, 14]
    assert found[("best", 11)] == [12, 14]
    assert found[("value", 14)] == [18]
    assert found[("rows", 1)] == [3, 4, 11]
    assert lines(LOOP_ELSE, "python", "scan", 2, "forward") == [2]
    assert lines(LOOP_ELSE, "python", "scan", 19) == [
        1,
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
        18,
        19,
    ]


def test_with_match_nested_function_and_comprehension() -> None:
    assert edges(CLOSURES, "python", "Cache.load") == {
        ("5-14", "15", "fallthrough"),
        ("15", "16", "true"),  # `while True` has no false edge
        ("16", "17", "true"),
        ("16", "18-19", "false"),
        ("17", "20-22", "break"),
        ("18-19", "15", "loop_back"),
        ("20-22", "23", "true"),
        ("20-22", "24", "false"),
        ("23", "28", "fallthrough"),
        ("24", "25", "true"),
        ("24", "26", "false"),
        ("25", "28", "fallthrough"),
        ("26", "27", "true"),  # `case _` matches anything
        ("27", "28", "fallthrough"),
        ("28", "exit", "return"),
    }
    found = chains(CLOSURES, "python", "Cache.load")
    # Calling `bump` (line 18) runs its body: it reads `hits` there too.
    assert found[("hits", 7)] == [10, 11, 18, 20, 28]
    assert found[("bump", 9)] == [18]
    # Calling the closure that writes `hits` (nonlocal) may write it again.
    assert found[("hits", 18)] == [18, 20, 28]
    assert found[("first", 24)] == [25]
    assert found[("fh", 13)] == [14]
    assert ("x", 28) not in found  # the comprehension's own variable
    assert lines(CLOSURES, "python", "Cache.load", 28, "backward", "hits") == [
        5,
        6,
        7,
        9,
        10,
        11,
        13,
        14,
        16,
        18,
        19,
        28,
    ]
    assert lines(CLOSURES, "python", "Cache.load", 7, "forward") == [7, 9, 10, 11, 18, 20, 28]


def test_nested_function_by_qualified_name() -> None:
    assert chains(CLOSURES, "python", "Cache.load.bump") == {
        ("n", 9): [11],
        ("hits", 11): [],
    }
    assert chains(CLOSURES, "python", "bump") == chains(CLOSURES, "python", "11")


IMPORTS = """\
def f():
    import os.path
    from json import dumps as d, loads
    return os.path.join(d(1), loads("2"))
"""


def test_imports_inside_a_function_bind_names() -> None:
    assert chains(IMPORTS, "python", "f") == {("os", 2): [4], ("d", 3): [4], ("loads", 3): [4]}
