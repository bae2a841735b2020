"""Java: exact CFG edges, def-use chains and slices."""

from __future__ import annotations

from flow_helpers import chains, edges, lines

SHOP = """\
class Shop {
  int price(int[] items, int cap) throws Exception {
    int total = 0;
    outer:
    for (int i = 0; i < items.length; i++) {
      int item = items[i];
      switch (item) {
        case 0:
          continue outer;
        case 1:
          total += 1;
        case 2:
          total += 2;
          break;
        default:
          if (item > cap) break outer;
          total += item;
      }
    }
    for (int v : items) { if (v < 0) throw new Exception("neg"); }
    try {
      total = check(total);
    } catch (IllegalStateException e) {
      total = 0;
    } finally {
      audit(total);
    }
    Runnable r = () -> System.out.println(total);
    do { total--; } while (total > 100);
    return total;
  }
}
"""


def test_switch_labels_try_finally_do_while() -> None:
    """Old-style switch falls through; `break outer`; try/catch/finally; a lambda reads `total`."""
    assert edges(SHOP, "java", "Shop.price") == {
        ("10", "11", "true"),
        ("10", "12", "false"),
        ("11", "13-14", "fallthrough"),
        ("12", "13-14", "true"),
        ("12", "15-16", "false"),
        ("13-14", "5", "break"),
        ("15-16", "16", "true"),
        ("15-16", "17", "false"),
        ("16", "20", "break"),
        ("17", "5", "fallthrough"),
        ("2-5", "5", "fallthrough"),
        ("20", "20", "false"),
        ("20", "20", "true"),
        ("20", "21", "false"),
        ("20", "exit", "exception"),
        ("21", "22", "fallthrough"),
        ("21", "23", "exception"),
        ("22", "23", "exception"),
        ("22", "26-28", "fallthrough"),
        ("23", "24", "true"),
        ("23", "26", "exception"),
        ("24", "26-28", "fallthrough"),
        ("26", "exit", "exception"),
        ("26-28", "29", "fallthrough"),
        ("29", "29", "loop_back"),
        ("29", "30", "false"),
        ("30", "exit", "return"),
        ("5", "20", "false"),
        ("5", "5", "loop_back"),
        ("5", "6-8", "true"),
        ("6-8", "10", "false"),
        ("6-8", "9", "true"),
        ("9", "5", "continue"),
    }
    assert chains(SHOP, "java", "Shop.price") == {
        ("cap", 2): [16],
        ("items", 2): [5, 6, 20],
        ("total", 3): [11, 13, 17, 22, 26],
        ("i", 5): [5, 6],
        ("item", 6): [7, 16, 17],
        ("total", 11): [13],
        ("total", 13): [11, 13, 17, 22, 26],
        ("total", 17): [11, 13, 17, 22, 26],
        ("v", 20): [20],
        ("total", 22): [26, 28, 29],
        ("e", 23): [],
        ("total", 24): [26, 28, 29],
        ("r", 28): [],
        ("total", 29): [29, 30],
    }
    assert lines(SHOP, "java", "Shop.price", 30, "backward", None) == [
        2,
        3,
        5,
        6,
        7,
        8,
        9,
        10,
        11,
        12,
        13,
        14,
        16,
        17,
        20,
        21,
        22,
        23,
        24,
        29,
        30,
    ]
    assert lines(SHOP, "java", "Shop.price", 3, "forward", None) == [
        3,
        11,
        13,
        17,
        22,
        23,
        24,
        26,
        28,
        29,
        30,
    ]
    assert lines(SHOP, "java", "Shop.price", 13, "backward", "total") == [
        2,
        3,
        5,
        6,
        7,
        8,
        9,
        10,
        11,
        12,
        13,
        14,
        16,
        17,
    ]
