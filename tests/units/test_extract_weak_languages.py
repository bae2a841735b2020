"""Extraction defects found on the development set's weakest languages (issue 9)."""

from __future__ import annotations

from tldr.units import extract_units

# curl's pattern (lib/hostip.h, lib/http.c): a feature switch declares or
# defines the function in one branch and `#define`s a stand-in in the other.
C_FEATURE_SWITCH = b"""\
#ifndef HEADER_RESOLV_H
#define HEADER_RESOLV_H

#ifdef USE_ASYNC
/* Take the result of a finished resolve. */
int resolv_take_result(struct easy *data, int id);
#define resolv_pending(d) ((d)->pending)
#else /* !USE_ASYNC */
#define resolv_take_result(x, y) NOT_BUILT_IN
#define resolv_shutdown(x) do {} while(0)
#endif

#if defined(USE_NTLM)
static void check_auth(struct easy *data)
{
  data->closed = 1;
}
#elif defined(USE_SPNEGO)
#define check_auth(x) spnego_check(x)
#else
#define check_auth(x) /* empty */
#endif

#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif
"""


def _units(source: bytes, path: str, language: str) -> list[tuple[str, str, int, int]]:
    return [
        (u.name, u.unit_type, u.line, u.end_line)
        for u in extract_units(source, path=path, language=language)
        if u.unit_type != "module"
    ]


def test_c_macro_standing_in_for_a_compiled_out_function_is_not_a_unit() -> None:
    # The stand-ins of `resolv_take_result` and `check_auth` are not second
    # definitions; macros with no function twin stay units, in both languages.
    expected = [
        ("resolv_pending", "function", 7, 7),
        ("resolv_shutdown", "function", 10, 10),
        ("check_auth", "function", 14, 17),
        ("MAX", "function", 24, 24),
    ]
    assert _units(C_FEATURE_SWITCH, "lib/resolv.h", "c") == expected
    assert _units(C_FEATURE_SWITCH, "lib/resolv.hpp", "cpp") == expected


def test_c_macro_beside_a_function_of_its_name_in_an_include_guard_stays() -> None:
    # No other branch: `#define f(x) f_impl(x)` next to a prototype is the
    # header's own choice, so it stays a unit.
    source = b"#ifndef A_H\n#define A_H\nint f(int x);\n#define f(x) f_impl(x)\n#endif\n"
    assert _units(source, "a.h", "c") == [("f", "function", 4, 4)]


# railties' pattern: nearly every file wraps its one class in `module Rails`.
RUBY_NAMESPACES = b"""\
module Rails
  # Engines are miniature applications.
  class Engine < Railtie
    def routes
      @routes
    end
  end
end

module Rails
  module Generators
    extend ActiveSupport::Autoload
    autoload :Base

    class << self
      def invoke(namespace)
        lookup(namespace)
      end
    end
  end
end

module Empty
end
"""


def test_ruby_module_that_only_wraps_one_definition_is_a_namespace() -> None:
    # `module Rails` only qualifies names; `Generators` holds code of its own
    # and an empty module is still a definition.
    assert _units(RUBY_NAMESPACES, "lib/rails/engine.rb", "ruby") == [
        ("Engine", "class", 3, 7),
        ("routes", "method", 4, 6),
        ("Generators", "class", 11, 20),
        ("self", "class", 15, 19),
        ("invoke", "method", 16, 18),
        ("Empty", "class", 23, 24),
    ]
    qualified = [u.qualified_name for u in extract_units(
        RUBY_NAMESPACES, path="lib/rails/engine.rb", language="ruby"
    )]
    assert "Rails.Engine.routes" in qualified
    assert "Rails.Generators.self.invoke" in qualified
