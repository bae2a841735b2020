"""Slices never miss a line that plainly matters: shadowing, closures, writes through names."""

from __future__ import annotations

from flow_helpers import chains, edges, lines

SHADOWED = """\
function f(a) {
  let x = a;
  if (a) {
    let x = 2;
    use(x);
  }
  return x;
}
"""

OUTER_WRITE = """\
function f(a) {
  x = a;
  {
    let x = 2;
    x = 3;
  }
  return x;
}
"""

WRITES = """\
def f(items, cfg):
    out = []
    for item in items:
        out.append(item)
    cfg.seen = len(out)
    log.info("x")
    return out, cfg
"""

RUST_LET_ELSE = """\
fn f(v: Option<i32>) -> i32 {
    let x = 1;
    let Some(y) = v else { return x; };
    let x = x + y;
    let mut s = Vec::new();
    s.push(x);
    s.len() as i32
}
"""

GO_SELECT = """\
package p

func f(ch chan int, done chan bool) int {
	total := 0
	for {
		select {
		case v := <-ch:
			total += v
		case <-done:
			return total
		}
	}
}
"""

JAVA_RESOURCES = """\
class A {
  String read(Path p) throws IOException {
    try (BufferedReader r = open(p)) {
      return r.readLine();
    } catch (IOException e) {
      log(e);
      throw e;
    }
  }
}
"""


def test_a_name_shadowed_in_a_block_keeps_the_outer_definition() -> None:
    # `x` is declared twice, once in a nested block: no definition of it kills,
    # so the outer `let x = a` still reaches `return x` (the inner one too:
    # the sound over-approximation).
    assert chains(SHADOWED, "javascript", "f")[("x", 2)] == [5, 7]
    assert 2 in lines(SHADOWED, "javascript", "f", 7)


def test_an_assignment_inside_a_block_scope_does_not_hide_the_outer_one() -> None:
    assert chains(OUTER_WRITE, "javascript", "f")[("x", 2)] == [7]
    assert lines(OUTER_WRITE, "javascript", "f", 7)[:2] == [1, 2]


def test_writes_through_a_name_and_method_calls_on_it() -> None:
    assert chains(WRITES, "python", "f") == {
        ("cfg", 1): [5, 7],
        ("items", 1): [3],
        ("out", 2): [4, 5, 7],
        ("item", 3): [4],
        ("cfg", 5): [7],
    }
    # `out.append(item)` may change `out`: it is in the slice of the return.
    assert lines(WRITES, "python", "f", 7) == [1, 2, 3, 4, 5, 7]
    # A call on a name the function never defines (a module) changes nothing local.
    assert lines(WRITES, "python", "f", 6) == [6]


def test_rust_let_else_and_shadowing_at_the_top() -> None:
    assert edges(RUST_LET_ELSE, "rust", "f") == {
        ("1-3", "3", "false"),
        ("1-3", "4-7", "true"),
        ("3", "exit", "return"),
        ("4-7", "exit", "fallthrough"),
    }
    assert chains(RUST_LET_ELSE, "rust", "f") == {
        ("v", 1): [3],
        ("x", 2): [3, 4],
        ("y", 3): [4],
        ("x", 4): [6],
        ("s", 5): [6, 7],
    }
    assert lines(RUST_LET_ELSE, "rust", "f", 7) == [1, 2, 3, 4, 5, 6, 7]


def test_go_select_cases() -> None:
    assert edges(GO_SELECT, "go", "f") == {
        ("3-4", "5-6", "fallthrough"),
        ("5-6", "7-8", "case"),
        ("5-6", "9-10", "case"),
        ("7-8", "5-6", "loop_back"),
        ("9-10", "exit", "return"),
    }
    assert chains(GO_SELECT, "go", "f")[("v", 7)] == [8]
    assert lines(GO_SELECT, "go", "f", 10) == [3, 4, 6, 7, 8, 10]


def test_java_try_with_resources() -> None:
    assert edges(JAVA_RESOURCES, "java", "A.read") == {
        ("2-3", "4", "fallthrough"),
        ("2-3", "5", "exception"),
        ("4", "5", "exception"),
        ("4", "exit", "return"),
        ("5", "6-7", "true"),
        ("5", "exit", "exception"),
        ("6-7", "exit", "exception"),
    }
    assert chains(JAVA_RESOURCES, "java", "A.read") == {
        ("p", 2): [3],
        ("r", 3): [4],
        ("e", 5): [6, 7],
    }
