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


def test_a_name_shadowed_in_a_block_is_another_variable() -> None:
    assert chains(SHADOWED, "javascript", "f") == {("a", 1): [2, 3], ("x", 2): [7], ("x", 4): [5]}
    assert lines(SHADOWED, "javascript", "f", 7) == [1, 2, 7]
    assert lines(SHADOWED, "javascript", "f", 5) == [1, 3, 4, 5]


def test_an_assignment_inside_a_block_scope_does_not_hide_the_outer_one() -> None:
    assert chains(OUTER_WRITE, "javascript", "f") == {
        ("a", 1): [2],
        ("x", 2): [7],
        ("x", 4): [],
        ("x", 5): [],
    }
    assert lines(OUTER_WRITE, "javascript", "f", 7) == [1, 2, 7]


RUST_SHADOWING = """\
fn f(a: i32) -> i32 {
    let x = a;
    {
        let x = x + 1;
        let x = x * 2;
        println!("{}", x);
    }
    for x in 0..a {
        g(x);
    }
    x
}
"""

GO_ERR = """\
package p

func f() error {
	a, err := one()
	if err != nil {
		return err
	}
	if err := two(a); err != nil {
		return err
	}
	b, err := three(a)
	use(b)
	return err
}
"""

CLOSURE_READS_LATER = """\
function f(c) {
  const g = () => x;
  let x = 1;
  if (c) { var y = 2; }
  return g() + y;
}
"""


def test_rust_shadowing_in_blocks_and_loops() -> None:
    assert chains(RUST_SHADOWING, "rust", "f") == {
        ("a", 1): [2, 8],
        ("x", 2): [4, 11],
        ("x", 4): [5],
        ("x", 5): [6],
        ("x", 8): [9],
    }
    assert lines(RUST_SHADOWING, "rust", "f", 11) == [1, 2, 11]


def test_go_err_redeclared_in_an_if_is_its_own_variable() -> None:
    assert chains(GO_ERR, "go", "f") == {
        ("a", 4): [8, 11],
        ("err", 4): [5, 6],
        ("err", 8): [8, 9],
        ("b", 11): [12],
        ("err", 11): [13],
    }
    assert lines(GO_ERR, "go", "f", 13) == [4, 5, 6, 8, 9, 11, 13]


def test_a_closure_reads_where_it_is_called_and_var_is_function_wide() -> None:
    assert chains(CLOSURE_READS_LATER, "javascript", "f") == {
        ("c", 1): [4],
        ("g", 2): [5],
        ("x", 3): [5],
        ("y", 4): [5],
    }
    assert lines(CLOSURE_READS_LATER, "javascript", "f", 5) == [1, 2, 3, 4, 5]


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


RUST_VALUE_LET = """\
fn f(n: i32, items: &[i32]) -> i32 {
    let mut count = n;
    let total = loop {
        if count < 10 {
            break count;
        }
        count -= 1;
    };
    let kind = match items.first() {
        Some(x) if *x > 0 => *x,
        Some(_) => return 0,
        None => total,
    };
    kind
}
"""


def test_rust_let_with_a_loop_or_match_value() -> None:
    assert edges(RUST_VALUE_LET, "rust", "f") == {
        ("1-2", "3-4", "fallthrough"),
        ("3-4", "5", "true"),
        ("3-4", "7", "false"),
        ("7", "3-4", "loop_back"),
        # `break count` leaves the loop into the binding of `total` (line 3),
        # which runs on into the match head (9) and its first arm's test (10).
        ("5", "3-10", "break"),
        ("3-10", "10", "true"),
        ("3-10", "11", "false"),
        ("10", "9-14", "fallthrough"),
        ("11", "11", "true"),
        ("11", "12", "false"),
        ("11", "exit", "return"),
        ("12", "12", "true"),  # the last arm: no false edge
        ("12", "9-14", "fallthrough"),
        ("9-14", "exit", "fallthrough"),
    }
    assert chains(RUST_VALUE_LET, "rust", "f") == {
        ("n", 1): [2],
        ("items", 1): [9],
        ("count", 2): [4, 5, 7],
        ("total", 3): [12],
        ("count", 7): [4, 5, 7],  # round the loop, then out as its value
        ("kind", 9): [14],
        ("x", 10): [10],
    }
    assert lines(RUST_VALUE_LET, "rust", "f", 14) == [1, 2, 3, 4, 5, 7, 9, 10, 11, 12, 14]


COMPREHENSION_IS_NO_CLOSURE = """\
def f(xs, k):
    ys = [x * k for x in xs]
    g = lambda: k
    k = 2
    return ys, g()
"""


def test_a_comprehension_runs_where_it_is_written_a_lambda_where_it_is_called() -> None:
    assert chains(COMPREHENSION_IS_NO_CLOSURE, "python", "f") == {
        ("k", 1): [2, 3],
        ("xs", 1): [2],
        ("ys", 2): [5],
        ("g", 3): [5],
        ("k", 4): [5],  # read by `g()`: the lambda's body runs there
    }
