"""Each grammar's node types that matter, and every language tldrf indexes.

The extraction engine is generic; everything it knows about a language's
grammar lives in one `LanguageSpec` here (or, for the less common
languages, in `languages_less_common`), so adding a language means adding one table
entry (plus, rarely, a naming, shape or import rule).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from tldr.units.langspec import LanguageSpec, fs
from tldr.units.languages_less_common import LESS_COMMON_SPECS

__all__ = [
    "FALLBACK_LANGUAGES",
    "SPECS",
    "SUPPORTED_LANGUAGES",
    "LanguageSpec",
]

_C_FAMILY_BRANCHES = fs("if_statement", "conditional_expression", "case_statement")
_C_FAMILY_LOOPS = fs("for_statement", "while_statement", "do_statement")

_JS_FUNCTIONS = fs(
    "function_declaration",
    "generator_function_declaration",
    "method_definition",
    "method_signature",
    "abstract_method_signature",
    # The four below are units only when their value is a function; see naming.
    "variable_declarator",
    "pair",
    "assignment_expression",
    "public_field_definition",
    "field_definition",
)


def _js_spec(name: str) -> LanguageSpec:
    return LanguageSpec(
        name=name,
        functions=_JS_FUNCTIONS,
        classes=fs(
            "class_declaration",
            "abstract_class_declaration",
            "interface_declaration",
            "enum_declaration",
            "type_alias_declaration",
        ),
        namespaces=fs("internal_module", "module"),
        calls={"call_expression": "function", "new_expression": "constructor"},
        imports=fs("import_statement", "export_statement"),
        branches=fs("if_statement", "ternary_expression", "switch_case", "catch_clause"),
        loops=fs("for_statement", "for_in_statement", "while_statement", "do_statement"),
        boolean_parents=fs("binary_expression"),
        assignments={
            "variable_declarator": "name",
            "assignment_expression": "left",
            "augmented_assignment_expression": "left",
        },
        wrappers={
            "export_statement": True,
            "lexical_declaration": True,
            "variable_declaration": True,
            "expression_statement": True,
        },
    )


_SPEC_LIST = [
    LanguageSpec(
        name="python",
        functions=fs("function_definition"),
        classes=fs("class_definition"),
        calls={"call": "function"},
        imports=fs("import_statement", "import_from_statement", "future_import_statement"),
        branches=fs(
            "if_statement",
            "elif_clause",
            "conditional_expression",
            "case_clause",
            "except_clause",
        ),
        loops=fs(
            "for_statement",
            "while_statement",
            "list_comprehension",
            "set_comprehension",
            "dictionary_comprehension",
            "generator_expression",
        ),
        boolean_parents=fs("boolean_operator"),
        assignments={"assignment": "left", "augmented_assignment": "left"},
        wrappers={"decorated_definition": False},
    ),
    _js_spec("javascript"),
    _js_spec("typescript"),
    _js_spec("tsx"),
    LanguageSpec(
        name="go",
        functions=fs("function_declaration", "method_declaration"),
        classes=fs("type_spec", "type_alias"),
        calls={"call_expression": "function"},
        imports=fs("import_spec"),
        branches=fs("if_statement", "expression_case", "type_case", "communication_case"),
        loops=fs("for_statement"),
        boolean_parents=fs("binary_expression"),
        assignments={
            "short_var_declaration": "left",
            "assignment_statement": "left",
            "var_spec": "name",
        },
        wrappers={"type_declaration": True},
        top_level_ignored=fs("package_clause", "import_declaration"),
    ),
    LanguageSpec(
        name="rust",
        functions=fs("function_item", "function_signature_item"),
        classes=fs(
            "struct_item", "enum_item", "union_item", "trait_item", "type_item", "macro_definition"
        ),
        type_scopes=fs("impl_item"),
        namespaces=fs("mod_item"),
        calls={"call_expression": "function", "macro_invocation": "macro"},
        imports=fs("use_declaration", "extern_crate_declaration"),
        branches=fs("if_expression", "match_arm"),
        loops=fs("for_expression", "while_expression", "loop_expression"),
        boolean_parents=fs("binary_expression"),
        comments=fs("line_comment", "block_comment"),
        assignments={
            "let_declaration": "pattern",
            "assignment_expression": "left",
            "compound_assignment_expr": "left",
        },
        top_level_ignored=fs("attribute_item", "inner_attribute_item"),
    ),
    LanguageSpec(
        name="java",
        functions=fs(
            "method_declaration", "constructor_declaration", "compact_constructor_declaration"
        ),
        classes=fs(
            "class_declaration",
            "interface_declaration",
            "enum_declaration",
            "record_declaration",
            "annotation_type_declaration",
        ),
        calls={"method_invocation": "name", "object_creation_expression": "type"},
        imports=fs("import_declaration"),
        branches=fs(
            "if_statement", "ternary_expression", "switch_label", "catch_clause"
        ),
        loops=fs(
            "for_statement", "enhanced_for_statement", "while_statement", "do_statement"
        ),
        boolean_parents=fs("binary_expression"),
        comments=fs("line_comment", "block_comment"),
        assignments={"variable_declarator": "name", "assignment_expression": "left"},
        top_level_ignored=fs("package_declaration"),
    ),
    LanguageSpec(
        name="c",
        functions=fs("function_definition", "preproc_function_def"),
        classes=fs("struct_specifier", "union_specifier", "enum_specifier", "type_definition"),
        calls={"call_expression": "function"},
        imports=fs("preproc_include"),
        branches=_C_FAMILY_BRANCHES,
        loops=_C_FAMILY_LOOPS,
        boolean_parents=fs("binary_expression"),
        assignments={"init_declarator": "declarator", "assignment_expression": "left"},
    ),
    LanguageSpec(
        name="cpp",
        functions=fs("function_definition", "preproc_function_def"),
        classes=fs(
            "struct_specifier",
            "class_specifier",
            "union_specifier",
            "enum_specifier",
            "type_definition",
            "alias_declaration",
            "concept_definition",
        ),
        namespaces=fs("namespace_definition"),
        calls={"call_expression": "function", "new_expression": "type"},
        imports=fs("preproc_include"),
        branches=_C_FAMILY_BRANCHES | fs("catch_clause"),
        loops=_C_FAMILY_LOOPS | fs("for_range_loop"),
        boolean_parents=fs("binary_expression"),
        assignments={"init_declarator": "declarator", "assignment_expression": "left"},
        wrappers={"template_declaration": True},
    ),
    LanguageSpec(
        name="csharp",
        functions=fs(
            "method_declaration",
            "constructor_declaration",
            "destructor_declaration",
            "local_function_statement",
            "operator_declaration",
        ),
        classes=fs(
            "class_declaration",
            "interface_declaration",
            "struct_declaration",
            "record_declaration",
            "enum_declaration",
        ),
        namespaces=fs("namespace_declaration"),
        calls={"invocation_expression": "function", "object_creation_expression": "type"},
        imports=fs("using_directive"),
        branches=fs(
            "if_statement",
            "conditional_expression",
            "switch_section",
            "switch_expression_arm",
            "catch_clause",
        ),
        loops=fs("for_statement", "foreach_statement", "while_statement", "do_statement"),
        boolean_parents=fs("binary_expression"),
        assignments={"variable_declarator": "name", "assignment_expression": "left"},
        top_level_ignored=fs("file_scoped_namespace_declaration"),
    ),
    LanguageSpec(
        name="ruby",
        functions=fs("method", "singleton_method"),
        classes=fs("class", "module", "singleton_class"),
        calls={"call": "method"},
        branches=fs(
            "if", "elsif", "unless", "conditional", "when", "rescue", "if_modifier",
            "unless_modifier",
        ),
        loops=fs("for", "while", "until", "while_modifier", "until_modifier"),
        boolean_parents=fs("binary"),
        assignments={"assignment": "left", "operator_assignment": "left"},
        default_names={"singleton_class": "self"},
    ),
    LanguageSpec(
        name="php",
        functions=fs("function_definition", "method_declaration"),
        classes=fs(
            "class_declaration", "interface_declaration", "trait_declaration", "enum_declaration"
        ),
        calls={
            "function_call_expression": "function",
            "member_call_expression": "name",
            "nullsafe_member_call_expression": "name",
            "scoped_call_expression": "name",
            "object_creation_expression": "",
        },
        imports=fs(
            "namespace_use_declaration",
            "require_expression",
            "require_once_expression",
            "include_expression",
            "include_once_expression",
        ),
        branches=fs(
            "if_statement",
            "else_if_clause",
            "conditional_expression",
            "case_statement",
            "catch_clause",
            "match_conditional_expression",
        ),
        loops=fs("for_statement", "foreach_statement", "while_statement", "do_statement"),
        boolean_parents=fs("binary_expression"),
        assignments={"assignment_expression": "left", "augmented_assignment_expression": "left"},
        top_level_ignored=fs("php_tag", "namespace_definition", "text_interpolation"),
    ),
    LanguageSpec(
        name="kotlin",
        functions=fs("function_declaration", "secondary_constructor"),
        classes=fs("class_declaration", "object_declaration", "companion_object", "type_alias"),
        calls={"call_expression": ""},
        imports=fs("import_header"),
        branches=fs("if_expression", "when_entry", "catch_block"),
        loops=fs("for_statement", "while_statement", "do_while_statement"),
        boolean_parents=fs("conjunction_expression", "disjunction_expression"),
        comments=fs("line_comment", "multiline_comment"),
        assignments={"variable_declaration": "", "assignment": ""},
        top_level_ignored=fs("package_header", "import_list"),
        default_names={"companion_object": "Companion", "secondary_constructor": "constructor"},
    ),
    LanguageSpec(
        name="scala",
        functions=fs("function_definition", "function_declaration"),
        classes=fs(
            "class_definition",
            "object_definition",
            "trait_definition",
            "enum_definition",
            "type_definition",
        ),
        calls={"call_expression": "function"},
        imports=fs("import_declaration"),
        branches=fs("if_expression", "case_clause", "catch_clause"),
        loops=fs("for_expression", "while_expression", "do_while_expression"),
        boolean_parents=fs("infix_expression"),
        comments=fs("comment", "block_comment"),
        assignments={
            "val_definition": "pattern",
            "var_definition": "pattern",
            "assignment_expression": "left",
        },
        top_level_ignored=fs("package_clause"),
    ),
    LanguageSpec(
        name="swift",
        functions=fs(
            "function_declaration",
            "init_declaration",
            "deinit_declaration",
            "protocol_function_declaration",
        ),
        classes=fs("class_declaration", "protocol_declaration", "typealias_declaration"),
        calls={"call_expression": ""},
        imports=fs("import_declaration"),
        branches=fs(
            "if_statement", "guard_statement", "switch_entry", "catch_block", "ternary_expression"
        ),
        loops=fs("for_statement", "while_statement", "repeat_while_statement"),
        boolean_parents=fs("conjunction_expression", "disjunction_expression"),
        comments=fs("comment", "multiline_comment"),
        assignments={"property_declaration": "name", "assignment": "target"},
        default_names={"init_declaration": "init", "deinit_declaration": "deinit"},
    ),
    LanguageSpec(
        name="lua",
        functions=fs("function_declaration"),
        classes=frozenset(),
        calls={"function_call": "name"},
        branches=fs("if_statement", "elseif_statement"),
        loops=fs("for_statement", "while_statement", "repeat_statement"),
        boolean_parents=fs("binary_expression"),
        assignments={"assignment_statement": ""},
    ),
    LanguageSpec(
        name="elixir",
        # Everything in Elixir is a `call`; naming.elixir_role sorts them out.
        functions=frozenset(),
        classes=frozenset(),
        calls={"call": "target"},
        boolean_parents=fs("binary_operator"),
        methods_in_classes=False,
    ),
    LanguageSpec(
        name="bash",
        functions=fs("function_definition"),
        classes=frozenset(),
        calls={"command": "name"},
        branches=fs("if_statement", "elif_clause", "case_item"),
        loops=fs("for_statement", "c_style_for_statement", "while_statement"),
        boolean_parents=fs("list"),
        assignments={"variable_assignment": "name"},
    ),
]

SPECS: Mapping[str, LanguageSpec] = MappingProxyType(
    {spec.name: spec for spec in (*_SPEC_LIST, *LESS_COMMON_SPECS)}
)

# Languages without a grammar here, split by `tldr.units.chunks`: the value
# says how (heading sections, top-level keys, or line windows).
FALLBACK_LANGUAGES: Mapping[str, str] = MappingProxyType(
    {
        "markdown": "headings",
        "yaml": "keys",
        "toml": "keys",
        "json": "keys",
        "ini": "keys",
        "dockerfile": "windows",
        "make": "windows",
        "cmake": "windows",
        "text": "windows",
    }
)

SUPPORTED_LANGUAGES: frozenset[str] = frozenset(SPECS) | frozenset(FALLBACK_LANGUAGES)
