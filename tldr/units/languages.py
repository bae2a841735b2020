"""Which files are which language, and each grammar's node types that matter.

The extraction engine is generic; everything it knows about a language's
grammar lives in one `LanguageSpec` here, so adding a language means adding
one table entry (plus, rarely, a naming or import rule in `naming`/`imports`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = [
    "EXTENSIONS",
    "SPECS",
    "SUPPORTED_LANGUAGES",
    "LanguageSpec",
    "language_for_path",
]

EXTENSIONS: Mapping[str, str] = MappingProxyType(
    {
        ".py": "python",
        ".pyi": "python",
        ".js": "javascript",
        ".mjs": "javascript",
        ".cjs": "javascript",
        ".jsx": "javascript",
        ".ts": "typescript",
        ".mts": "typescript",
        ".cts": "typescript",
        ".tsx": "tsx",
        ".go": "go",
        ".rs": "rust",
        ".java": "java",
        ".c": "c",
        ".h": "c",
        ".cc": "cpp",
        ".cpp": "cpp",
        ".cxx": "cpp",
        ".hpp": "cpp",
        ".hh": "cpp",
        ".hxx": "cpp",
        ".cs": "csharp",
        ".rb": "ruby",
        ".php": "php",
        ".kt": "kotlin",
        ".kts": "kotlin",
        ".scala": "scala",
        ".sc": "scala",
        ".swift": "swift",
        ".lua": "lua",
        ".ex": "elixir",
        ".exs": "elixir",
        ".sh": "bash",
        ".bash": "bash",
    }
)


def language_for_path(path: str) -> str | None:
    """Return the tree-sitter language name for a file path, by extension.

    Args:
        path: Any file path or name; only the extension is looked at.

    Returns:
        A name from `SUPPORTED_LANGUAGES`, or None when the extension is not
        one we index (minified `*.min.js` files included).
    """
    name = path.rsplit("/", 1)[-1].lower()
    dot = name.rfind(".")
    if dot <= 0:
        return None
    if name.endswith(".min.js"):
        return None
    return EXTENSIONS.get(name[dot:])


def _fs(*names: str) -> frozenset[str]:
    return frozenset(names)


@dataclass(frozen=True)
class LanguageSpec:
    """The node types of one grammar that the extraction engine acts on.

    Attributes:
        name: The tree-sitter language name.
        functions: Nodes that define a function or method.
        classes: Nodes that define a class-like container (class, struct,
            trait, interface, enum, module).
        type_scopes: Nodes that qualify the names of the functions inside
            them as methods but are not units (Rust `impl`, Swift extension).
        namespaces: Nodes that only add a prefix to qualified names.
        wrappers: Parents that belong to the unit they wrap (decorators,
            `export`, `const x = ...`), mapped to whether the wrapper's text
            is part of the signature.
        calls: Call nodes mapped to the field holding the callee ("" = the
            first named child).
        imports: Nodes handled by the language's import rule.
        branches: Nodes counted as one branch each.
        loops: Nodes counted as one loop each.
        boolean_parents: Nodes whose `&&`/`||`/`and`/`or` operator adds to
            complexity.
        comments: Comment node types.
        assignments: Assignment nodes mapped to the field holding the target
            ("" = the first named child).
        top_level_ignored: Top-level nodes that are not "code worth finding"
            (package clauses, `<?php`, includes, using directives).
        methods_in_classes: Whether a function directly inside a class is a
            method (Elixir: `def` in `defmodule` stays a function).
        default_names: Names for definitions whose grammar has no name node.
    """

    name: str
    functions: frozenset[str]
    classes: frozenset[str]
    calls: Mapping[str, str]
    imports: frozenset[str] = frozenset()
    branches: frozenset[str] = frozenset()
    loops: frozenset[str] = frozenset()
    boolean_parents: frozenset[str] = frozenset()
    comments: frozenset[str] = _fs("comment")
    assignments: Mapping[str, str] = field(default_factory=dict)
    type_scopes: frozenset[str] = frozenset()
    namespaces: frozenset[str] = frozenset()
    wrappers: Mapping[str, bool] = field(default_factory=dict)
    top_level_ignored: frozenset[str] = frozenset()
    methods_in_classes: bool = True
    default_names: Mapping[str, str] = field(default_factory=dict)


_C_FAMILY_BRANCHES = _fs("if_statement", "conditional_expression", "case_statement")
_C_FAMILY_LOOPS = _fs("for_statement", "while_statement", "do_statement")

_JS_FUNCTIONS = _fs(
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
        classes=_fs(
            "class_declaration",
            "abstract_class_declaration",
            "interface_declaration",
            "enum_declaration",
        ),
        namespaces=_fs("internal_module", "module"),
        calls={"call_expression": "function", "new_expression": "constructor"},
        imports=_fs("import_statement", "export_statement"),
        branches=_fs("if_statement", "ternary_expression", "switch_case", "catch_clause"),
        loops=_fs("for_statement", "for_in_statement", "while_statement", "do_statement"),
        boolean_parents=_fs("binary_expression"),
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
        functions=_fs("function_definition"),
        classes=_fs("class_definition"),
        calls={"call": "function"},
        imports=_fs("import_statement", "import_from_statement", "future_import_statement"),
        branches=_fs(
            "if_statement",
            "elif_clause",
            "conditional_expression",
            "case_clause",
            "except_clause",
        ),
        loops=_fs(
            "for_statement",
            "while_statement",
            "list_comprehension",
            "set_comprehension",
            "dictionary_comprehension",
            "generator_expression",
        ),
        boolean_parents=_fs("boolean_operator"),
        assignments={"assignment": "left", "augmented_assignment": "left"},
        wrappers={"decorated_definition": False},
    ),
    _js_spec("javascript"),
    _js_spec("typescript"),
    _js_spec("tsx"),
    LanguageSpec(
        name="go",
        functions=_fs("function_declaration", "method_declaration"),
        classes=_fs("type_spec"),  # struct and interface types only; see naming
        calls={"call_expression": "function"},
        imports=_fs("import_spec"),
        branches=_fs("if_statement", "expression_case", "type_case", "communication_case"),
        loops=_fs("for_statement"),
        boolean_parents=_fs("binary_expression"),
        assignments={
            "short_var_declaration": "left",
            "assignment_statement": "left",
            "var_spec": "name",
        },
        wrappers={"type_declaration": True},
        top_level_ignored=_fs("package_clause", "import_declaration"),
    ),
    LanguageSpec(
        name="rust",
        functions=_fs("function_item", "function_signature_item"),
        classes=_fs("struct_item", "enum_item", "union_item", "trait_item"),
        type_scopes=_fs("impl_item"),
        namespaces=_fs("mod_item"),
        calls={"call_expression": "function", "macro_invocation": "macro"},
        imports=_fs("use_declaration", "extern_crate_declaration"),
        branches=_fs("if_expression", "match_arm"),
        loops=_fs("for_expression", "while_expression", "loop_expression"),
        boolean_parents=_fs("binary_expression"),
        comments=_fs("line_comment", "block_comment"),
        assignments={
            "let_declaration": "pattern",
            "assignment_expression": "left",
            "compound_assignment_expr": "left",
        },
        top_level_ignored=_fs("attribute_item", "inner_attribute_item"),
    ),
    LanguageSpec(
        name="java",
        functions=_fs(
            "method_declaration", "constructor_declaration", "compact_constructor_declaration"
        ),
        classes=_fs(
            "class_declaration",
            "interface_declaration",
            "enum_declaration",
            "record_declaration",
            "annotation_type_declaration",
        ),
        calls={"method_invocation": "name", "object_creation_expression": "type"},
        imports=_fs("import_declaration"),
        branches=_fs(
            "if_statement", "ternary_expression", "switch_label", "catch_clause"
        ),
        loops=_fs(
            "for_statement", "enhanced_for_statement", "while_statement", "do_statement"
        ),
        boolean_parents=_fs("binary_expression"),
        comments=_fs("line_comment", "block_comment"),
        assignments={"variable_declarator": "name", "assignment_expression": "left"},
        top_level_ignored=_fs("package_declaration"),
    ),
    LanguageSpec(
        name="c",
        functions=_fs("function_definition"),
        classes=_fs("struct_specifier", "union_specifier", "enum_specifier"),
        calls={"call_expression": "function"},
        imports=_fs("preproc_include"),
        branches=_C_FAMILY_BRANCHES,
        loops=_C_FAMILY_LOOPS,
        boolean_parents=_fs("binary_expression"),
        assignments={"init_declarator": "declarator", "assignment_expression": "left"},
        wrappers={"type_definition": True},
    ),
    LanguageSpec(
        name="cpp",
        functions=_fs("function_definition"),
        classes=_fs("struct_specifier", "class_specifier", "union_specifier", "enum_specifier"),
        namespaces=_fs("namespace_definition"),
        calls={"call_expression": "function", "new_expression": "type"},
        imports=_fs("preproc_include"),
        branches=_C_FAMILY_BRANCHES | _fs("catch_clause"),
        loops=_C_FAMILY_LOOPS | _fs("for_range_loop"),
        boolean_parents=_fs("binary_expression"),
        assignments={"init_declarator": "declarator", "assignment_expression": "left"},
        wrappers={"template_declaration": True, "type_definition": True},
    ),
    LanguageSpec(
        name="csharp",
        functions=_fs(
            "method_declaration",
            "constructor_declaration",
            "destructor_declaration",
            "local_function_statement",
            "operator_declaration",
        ),
        classes=_fs(
            "class_declaration",
            "interface_declaration",
            "struct_declaration",
            "record_declaration",
            "enum_declaration",
        ),
        namespaces=_fs("namespace_declaration"),
        calls={"invocation_expression": "function", "object_creation_expression": "type"},
        imports=_fs("using_directive"),
        branches=_fs(
            "if_statement",
            "conditional_expression",
            "switch_section",
            "switch_expression_arm",
            "catch_clause",
        ),
        loops=_fs("for_statement", "foreach_statement", "while_statement", "do_statement"),
        boolean_parents=_fs("binary_expression"),
        assignments={"variable_declarator": "name", "assignment_expression": "left"},
        top_level_ignored=_fs("file_scoped_namespace_declaration"),
    ),
    LanguageSpec(
        name="ruby",
        functions=_fs("method", "singleton_method"),
        classes=_fs("class", "module", "singleton_class"),
        calls={"call": "method"},
        branches=_fs(
            "if", "elsif", "unless", "conditional", "when", "rescue", "if_modifier",
            "unless_modifier",
        ),
        loops=_fs("for", "while", "until", "while_modifier", "until_modifier"),
        boolean_parents=_fs("binary"),
        assignments={"assignment": "left", "operator_assignment": "left"},
        default_names={"singleton_class": "self"},
    ),
    LanguageSpec(
        name="php",
        functions=_fs("function_definition", "method_declaration"),
        classes=_fs(
            "class_declaration", "interface_declaration", "trait_declaration", "enum_declaration"
        ),
        calls={
            "function_call_expression": "function",
            "member_call_expression": "name",
            "nullsafe_member_call_expression": "name",
            "scoped_call_expression": "name",
            "object_creation_expression": "",
        },
        imports=_fs(
            "namespace_use_declaration",
            "require_expression",
            "require_once_expression",
            "include_expression",
            "include_once_expression",
        ),
        branches=_fs(
            "if_statement",
            "else_if_clause",
            "conditional_expression",
            "case_statement",
            "catch_clause",
            "match_conditional_expression",
        ),
        loops=_fs("for_statement", "foreach_statement", "while_statement", "do_statement"),
        boolean_parents=_fs("binary_expression"),
        assignments={"assignment_expression": "left", "augmented_assignment_expression": "left"},
        top_level_ignored=_fs("php_tag", "namespace_definition", "text_interpolation"),
    ),
    LanguageSpec(
        name="kotlin",
        functions=_fs("function_declaration", "secondary_constructor"),
        classes=_fs("class_declaration", "object_declaration", "companion_object"),
        calls={"call_expression": ""},
        imports=_fs("import_header"),
        branches=_fs("if_expression", "when_entry", "catch_block"),
        loops=_fs("for_statement", "while_statement", "do_while_statement"),
        boolean_parents=_fs("conjunction_expression", "disjunction_expression"),
        comments=_fs("line_comment", "multiline_comment"),
        assignments={"variable_declaration": "", "assignment": ""},
        top_level_ignored=_fs("package_header", "import_list"),
        default_names={"companion_object": "Companion", "secondary_constructor": "constructor"},
    ),
    LanguageSpec(
        name="scala",
        functions=_fs("function_definition", "function_declaration"),
        classes=_fs("class_definition", "object_definition", "trait_definition", "enum_definition"),
        calls={"call_expression": "function"},
        imports=_fs("import_declaration"),
        branches=_fs("if_expression", "case_clause", "catch_clause"),
        loops=_fs("for_expression", "while_expression", "do_while_expression"),
        boolean_parents=_fs("infix_expression"),
        comments=_fs("comment", "block_comment"),
        assignments={
            "val_definition": "pattern",
            "var_definition": "pattern",
            "assignment_expression": "left",
        },
        top_level_ignored=_fs("package_clause"),
    ),
    LanguageSpec(
        name="swift",
        functions=_fs(
            "function_declaration",
            "init_declaration",
            "deinit_declaration",
            "protocol_function_declaration",
        ),
        classes=_fs("class_declaration", "protocol_declaration"),
        calls={"call_expression": ""},
        imports=_fs("import_declaration"),
        branches=_fs(
            "if_statement", "guard_statement", "switch_entry", "catch_block", "ternary_expression"
        ),
        loops=_fs("for_statement", "while_statement", "repeat_while_statement"),
        boolean_parents=_fs("conjunction_expression", "disjunction_expression"),
        comments=_fs("comment", "multiline_comment"),
        assignments={"property_declaration": "name", "assignment": "target"},
        default_names={"init_declaration": "init", "deinit_declaration": "deinit"},
    ),
    LanguageSpec(
        name="lua",
        functions=_fs("function_declaration"),
        classes=frozenset(),
        calls={"function_call": "name"},
        branches=_fs("if_statement", "elseif_statement"),
        loops=_fs("for_statement", "while_statement", "repeat_statement"),
        boolean_parents=_fs("binary_expression"),
        assignments={"assignment_statement": ""},
    ),
    LanguageSpec(
        name="elixir",
        # Everything in Elixir is a `call`; naming.elixir_role sorts them out.
        functions=frozenset(),
        classes=frozenset(),
        calls={"call": "target"},
        boolean_parents=_fs("binary_operator"),
        methods_in_classes=False,
    ),
    LanguageSpec(
        name="bash",
        functions=_fs("function_definition"),
        classes=frozenset(),
        calls={"command": "name"},
        branches=_fs("if_statement", "elif_clause", "case_item"),
        loops=_fs("for_statement", "c_style_for_statement", "while_statement"),
        boolean_parents=_fs("list"),
        assignments={"variable_assignment": "name"},
    ),
]

SPECS: Mapping[str, LanguageSpec] = MappingProxyType({spec.name: spec for spec in _SPEC_LIST})

SUPPORTED_LANGUAGES: frozenset[str] = frozenset(SPECS)
