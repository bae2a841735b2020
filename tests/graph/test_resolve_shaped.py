"""Exact edges in Zig, Dart and Clojure, whose calls the units walk reads by shape."""

from __future__ import annotations

from pathlib import Path

from tests.graph.conftest import edge_set
from tldr.graph import graph_from_tree


def _project(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_zig_edges(tmp_path: Path) -> None:
    root = _project(tmp_path / "zigproj", {
        "src/main.zig": """const std = @import("std");
const util = @import("util.zig");

pub fn main() void {
    const n = util.double(2);
    report(n);
    std.debug.print("{}", .{n});
}

fn report(n: u32) void {
    _ = util.double(n);
}
""",
        "src/util.zig": """pub fn double(x: u32) u32 {
    return add(x, x);
}

fn add(a: u32, b: u32) u32 {
    return a + b;
}
""",
    })
    assert edge_set(graph_from_tree(root)) == {
        ("main", 5, "double@src/util.zig", "via-import", "util.double"),
        ("main", 6, "report@src/main.zig", "exact", "report"),
        ("report", 11, "double@src/util.zig", "via-import", "util.double"),
        ("double", 2, "add@src/util.zig", "exact", "add"),
    }


def test_dart_edges(tmp_path: Path) -> None:
    root = _project(tmp_path / "dartproj", {
        "lib/cart.dart": """import 'item.dart';

class Cart {
  void add(Item item) {
    check(item);
    this.save();
  }

  void save() {}
}

void check(Item item) {
  item.validate();
}
""",
        "lib/item.dart": """class Item {
  void validate() {}
}
""",
        "bin/main.dart": """import 'package:shop/cart.dart';

void main() {
  Cart().add(Item());
  var cart = new Cart();
  cart.save();
}
""",
        # Calls after other words of a statement (`+=`, `final x =`, `return`), in bodies.
        "lib/shop.dart": """import 'cart.dart' as c;

class Shop {
  final c.Cart cart = c.Cart();

  int total(List<int> xs) {
    var sum = 0;
    for (final x in xs) {
      sum += helper(x);
    }
    cart.save();
    return sum;
  }
}

int helper(int v) {
  final shop = Shop();
  return shop.total([v]);
}
""",
    })
    cart, item, shop = "lib/cart.dart", "lib/item.dart", "lib/shop.dart"
    assert edge_set(graph_from_tree(root)) == {
        ("Cart.add", 5, f"check@{cart}", "exact", "check"),
        ("Cart.add", 6, f"Cart.save@{cart}", "via-self", "this.save"),
        # `Item item`: the parameter's type settles the receiver
        ("check", 13, f"Item.validate@{item}", "via-receiver-type", "item.validate"),
        # `package:shop/cart.dart` is lib/cart.dart; `Item` is not imported here
        ("main", 4, f"Cart@{cart}", "constructor", "Cart"),
        ("main", 4, f"Cart.add@{cart}", "via-receiver-type", "Cart().add"),
        ("main", 5, f"Cart@{cart}", "constructor", "Cart"),
        ("main", 6, f"Cart.save@{cart}", "via-receiver-type", "cart.save"),  # a typed local
        ("Shop", 4, f"Cart@{cart}", "constructor", "c.Cart"),
        ("Shop.total", 9, f"helper@{shop}", "exact", "helper"),
        # `final c.Cart cart`: a field of a prefixed type
        ("Shop.total", 11, f"Cart.save@{cart}", "via-receiver-type", "cart.save"),
        ("helper", 17, f"Shop@{shop}", "constructor", "Shop"),
        ("helper", 18, f"Shop.total@{shop}", "via-receiver-type", "shop.total"),
    }


def test_clojure_edges(tmp_path: Path) -> None:
    root = _project(tmp_path / "cljproj", {
        "src/shop/cart.clj": """(ns shop.cart
  (:require [shop.db :as db]
            [shop.price :refer [total]]))

(defn checkout [cart]
  (let [sum (total cart)]
    (when (pos? sum)
      (db/save! cart)
      (log-it sum))))

(defn log-it [x]
  (println x))
""",
        "src/shop/db.clj": """(ns shop.db)

(defn save! [x]
  (str x))
""",
        "src/shop/price.clj": """(ns shop.price)

(defn total [cart]
  (reduce + (map :price cart)))
""",
    })
    # `pos?`, `println`, `str`, `reduce`, `map`: clojure.core, not the project's
    assert edge_set(graph_from_tree(root)) == {
        ("checkout", 6, "total@src/shop/price.clj", "via-import", "total"),
        ("checkout", 8, "save!@src/shop/db.clj", "via-import", "db.save!"),
        ("checkout", 9, "log-it@src/shop/cart.clj", "exact", "log-it"),
    }


def test_erlang_remote_calls_and_imports(tmp_path: Path) -> None:
    root = _project(tmp_path / "erlproj", {
        "src/shop.erl": """-module(shop).
-export([checkout/1]).
-import(prices, [total/1]).
-import(lists, [map/2]).

checkout(Cart) ->
    Sum = total(Cart),
    db:save(Cart),
    map(fun log/1, [Sum]).

log(X) -> X.
""",
        "src/prices.erl": """-module(prices).
-export([total/1]).

total(Cart) -> lists:sum(Cart).
""",
        "src/db.erl": """-module(db).
-export([save/1]).

save(X) -> X.
""",
    })
    # `map` is imported from lists (not the project's): unresolved, never by name
    assert edge_set(graph_from_tree(root)) == {
        ("checkout", 7, "total@src/prices.erl", "via-import", "total"),
        ("checkout", 8, "save@src/db.erl", "via-import", "db.save"),
    }


def test_r_source_is_a_wildcard_import(tmp_path: Path) -> None:
    root = _project(tmp_path / "rproj", {
        "main.R": """source("R/util.R")
library(stats)

run <- function(x) {
  helper(x)
}
""",
        "R/util.R": "helper <- function(x) x + 1\n",
        "R/other.R": "helper <- function(x) x - 1\n",
    })
    # two `helper`s in the project; the one main.R sources is meant
    assert edge_set(graph_from_tree(root)) == {
        ("run", 5, "helper@R/util.R", "via-import", "helper"),
    }

