"""Go: exact CFG edges, def-use chains and slices."""

from __future__ import annotations

from flow_helpers import chains, edges, lines

HANDLE = """\
package p

func (s *Server) Handle(reqs []Req, max int) (n int, err error) {
	count := 0
outer:
	for i := 0; i < len(reqs); i++ {
		r := reqs[i]
		if err := r.Validate(); err != nil {
			continue outer
		}
		switch r.Kind {
		case 1:
			count++
			fallthrough
		case 2:
			count += 2
		default:
			break outer
		}
		for _, h := range s.hooks {
			if h == nil {
				goto done
			}
			h(r)
		}
	}
done:
	if count > max {
		panic("too many")
	}
	return count, nil
}
"""


def test_labels_goto_fallthrough_switch_panic() -> None:
    """`err` declared again by `if err :=` is another variable: the result `err` is never read."""
    assert edges(HANDLE, "go", "Server.Handle") == {
        ("11-12", "13-14", "true"),
        ("11-12", "15", "false"),
        ("13-14", "16", "fallthrough"),
        ("15", "16", "true"),
        ("15", "17-18", "false"),
        ("16", "20", "fallthrough"),
        ("17-18", "27-28", "break"),
        ("20", "21", "true"),
        ("20", "6", "false"),
        ("21", "22", "true"),
        ("21", "24", "false"),
        ("22", "27-28", "goto"),
        ("24", "20", "loop_back"),
        ("27-28", "29", "true"),
        ("27-28", "31", "false"),
        ("29", "exit", "exception"),
        ("3-6", "6", "fallthrough"),
        ("31", "exit", "return"),
        ("6", "27-28", "false"),
        ("6", "6", "loop_back"),
        ("6", "7-8", "true"),
        ("7-8", "11-12", "false"),
        ("7-8", "9", "true"),
        ("9", "6", "continue"),
    }
    assert chains(HANDLE, "go", "Server.Handle") == {
        ("err", 3): [],
        ("max", 3): [28],
        ("n", 3): [],
        ("reqs", 3): [6, 7],
        ("s", 3): [20],
        ("count", 4): [13, 16, 28, 31],
        ("i", 6): [6, 7],
        ("r", 7): [8, 11, 24],
        ("err", 8): [8],
        ("count", 13): [16],
        ("count", 16): [13, 16, 28, 31],
        ("h", 20): [21, 24],
    }
    assert lines(HANDLE, "go", "Server.Handle", 31, "backward", None) == [
        3,
        4,
        6,
        7,
        8,
        9,
        11,
        12,
        13,
        15,
        16,
        18,
        20,
        21,
        22,
        28,
        31,
    ]
    assert lines(HANDLE, "go", "Server.Handle", 28, "backward", "max") == [3, 28]
    assert lines(HANDLE, "go", "Server.Handle", 4, "forward", None) == [4, 13, 16, 28, 29, 31]
    assert lines(HANDLE, "go", "Server.Handle", 31, "backward", "count") == [
        3,
        4,
        6,
        7,
        8,
        9,
        11,
        12,
        13,
        15,
        16,
        18,
        20,
        21,
        22,
        28,
        31,
    ]
