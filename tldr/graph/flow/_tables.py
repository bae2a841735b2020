"""What flow analysis needs to know about each grammar it supports.

The builder (`_build`) and the def/use reader (`_access`) are generic; the
node types they act on live here, one `FlowTables` per language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["FLOW_LANGUAGES", "TABLES", "FlowTables"]


def _fs(*names: str) -> frozenset[str]:
    return frozenset(names)


def _pairs(*pairs: tuple[str, str]) -> frozenset[tuple[str, str]]:
    return frozenset(pairs)


@dataclass(frozen=True)
class FlowTables:
    """Node types of one grammar, by the role they play in control and data flow.

    Attributes:
        language: The tree-sitter language name.
        blocks: Nodes that hold a list of statements.
        constructs: Statement nodes with their own control flow, mapped to
            the builder's construct name ("if", "while", "try", ...).
        skipped: Nodes that are not statements (comments, `;`).
        variables: Identifier node types that can name a local variable.
        self_names: Node types read as a variable of their own text
            (`this`, Rust `self`).
        scopes: Nested functions, lambdas, closures, classes and
            comprehensions: one step where they are written, their own
            parameters not reads of the outer function.
        parameters: Fields of a scope node that hold its parameters.
        assignments: Assignment nodes mapped to (target field, value field,
            augmented); the value is read before the target is written.
        updates: `x++`-like nodes: their operand is read and written.
        declarations: Nodes that declare names, mapped to (target field,
            value field); a target of "" means the first named child.
        function_scoped: Declaration parents whose names live in the whole
            function (JavaScript `var`).
        writes: Member and index expressions: a write through them changes
            the object named by their base, mapped to the base field.
        calls: Call nodes mapped to their callee field.
        skip_fields: (parent type, field) whose subtree names no variable.
        opaque: Node types whose subtree names no variable (types, paths).
        true_literals: Conditions that always hold (`while True`): no exit edge.
    """

    language: str
    blocks: frozenset[str]
    constructs: Mapping[str, str]
    skipped: frozenset[str]
    variables: frozenset[str]
    scopes: frozenset[str]
    assignments: Mapping[str, tuple[str, str, bool]]
    declarations: Mapping[str, tuple[str, str]]
    writes: Mapping[str, str]
    calls: Mapping[str, str]
    self_names: frozenset[str] = frozenset()
    parameters: tuple[str, ...] = ("parameters", "parameter")
    updates: frozenset[str] = frozenset()
    function_scoped: frozenset[str] = frozenset()
    skip_fields: frozenset[tuple[str, str]] = frozenset()
    opaque: frozenset[str] = frozenset()
    true_literals: frozenset[str] = field(default_factory=lambda: _fs("true", "True", "1"))


_SKIP_COMMON = _fs("comment", "line_comment", "block_comment", "empty_statement", "ERROR")

_PYTHON = FlowTables(
    language="python",
    blocks=_fs("block"),
    constructs=MappingProxyType(
        {
            "if_statement": "if",
            "while_statement": "while",
            "for_statement": "foreach",
            "try_statement": "try",
            "with_statement": "with",
            "match_statement": "switch",
            "return_statement": "return",
            "raise_statement": "raise",
            "break_statement": "break",
            "continue_statement": "continue",
            "assert_statement": "assert",
        }
    ),
    skipped=_SKIP_COMMON,
    variables=_fs("identifier"),
    scopes=_fs(
        "function_definition",
        "class_definition",
        "lambda",
        "list_comprehension",
        "set_comprehension",
        "dictionary_comprehension",
        "generator_expression",
    ),
    parameters=("parameters",),
    assignments=MappingProxyType(
        {
            "assignment": ("left", "right", False),
            "augmented_assignment": ("left", "right", True),
            "named_expression": ("name", "value", False),
        }
    ),
    declarations=MappingProxyType({}),
    writes=MappingProxyType({"attribute": "object", "subscript": "value"}),
    calls=MappingProxyType({"call": "function"}),
    skip_fields=_pairs(("attribute", "attribute"), ("keyword_argument", "name")),
    opaque=_fs("type", "string", "integer", "float"),
)


def _js(language: str) -> FlowTables:
    return FlowTables(
        language=language,
        blocks=_fs("statement_block"),
        constructs=MappingProxyType(
            {
                "if_statement": "if",
                "while_statement": "while",
                "do_statement": "do",
                "for_statement": "for",
                "for_in_statement": "foreach",
                "switch_statement": "switch",
                "try_statement": "try",
                "return_statement": "return",
                "throw_statement": "raise",
                "break_statement": "break",
                "continue_statement": "continue",
                "labeled_statement": "labeled",
                "statement_block": "block",
            }
        ),
        skipped=_SKIP_COMMON,
        variables=_fs(
            "identifier", "shorthand_property_identifier", "shorthand_property_identifier_pattern"
        ),
        self_names=_fs("this"),
        scopes=_fs(
            "function_declaration",
            "generator_function_declaration",
            "function_expression",
            "function",
            "generator_function",
            "arrow_function",
            "class_declaration",
            "abstract_class_declaration",
            "class",
            "method_definition",
        ),
        assignments=MappingProxyType(
            {
                "assignment_expression": ("left", "right", False),
                "augmented_assignment_expression": ("left", "right", True),
            }
        ),
        updates=_fs("update_expression"),
        declarations=MappingProxyType({"variable_declarator": ("name", "value")}),
        function_scoped=_fs("variable_declaration"),
        writes=MappingProxyType({"member_expression": "object", "subscript_expression": "object"}),
        calls=MappingProxyType({"call_expression": "function"}),
        skip_fields=_pairs(("pair_pattern", "key"), ("pair", "key")),
        opaque=_fs(
            "type_annotation",
            "type_arguments",
            "type_parameters",
            "string",
            "number",
            "template_string",
            "regex",
            "statement_identifier",
        ),
    )


_GO = FlowTables(
    language="go",
    blocks=_fs("block", "statement_list"),
    constructs=MappingProxyType(
        {
            "if_statement": "if",
            "for_statement": "go_for",
            "expression_switch_statement": "switch",
            "type_switch_statement": "switch",
            "select_statement": "select",
            "return_statement": "return",
            "break_statement": "break",
            "continue_statement": "continue",
            "goto_statement": "goto",
            "fallthrough_statement": "fallthrough",
            "labeled_statement": "labeled",
            "block": "block",
        }
    ),
    skipped=_SKIP_COMMON,
    variables=_fs("identifier"),
    scopes=_fs("func_literal"),
    assignments=MappingProxyType({"assignment_statement": ("left", "right", False)}),
    updates=_fs("inc_statement", "dec_statement"),
    declarations=MappingProxyType(
        {
            "short_var_declaration": ("left", "right"),
            "var_spec": ("name", "value"),
            "const_spec": ("name", "value"),
            "receive_statement": ("left", "right"),  # `case v := <-ch` in a select
        }
    ),
    writes=MappingProxyType(
        {
            "selector_expression": "operand",
            "index_expression": "operand",
            "unary_expression": "operand",
            "slice_expression": "operand",
        }
    ),
    calls=MappingProxyType({"call_expression": "function"}),
    opaque=_fs(
        "type_identifier",
        "qualified_type",
        "pointer_type",
        "slice_type",
        "map_type",
        "interpreted_string_literal",
        "raw_string_literal",
        "int_literal",
        "label_name",
        "field_identifier",
        "package_identifier",
    ),
)

_JAVA = FlowTables(
    language="java",
    blocks=_fs("block", "constructor_body"),
    constructs=MappingProxyType(
        {
            "if_statement": "if",
            "while_statement": "while",
            "do_statement": "do",
            "for_statement": "for",
            "enhanced_for_statement": "foreach",
            "switch_expression": "switch",
            "switch_statement": "switch",
            "try_statement": "try",
            "try_with_resources_statement": "try",
            "synchronized_statement": "with",
            "return_statement": "return",
            "throw_statement": "raise",
            "break_statement": "break",
            "continue_statement": "continue",
            "labeled_statement": "labeled",
            "assert_statement": "assert",
            "block": "block",
        }
    ),
    skipped=_SKIP_COMMON,
    variables=_fs("identifier"),
    self_names=_fs("this"),
    scopes=_fs("lambda_expression", "class_body", "class_declaration", "record_declaration"),
    assignments=MappingProxyType({"assignment_expression": ("left", "right", False)}),
    updates=_fs("update_expression"),
    declarations=MappingProxyType(
        {"variable_declarator": ("name", "value"), "resource": ("name", "value")}
    ),
    writes=MappingProxyType({"field_access": "object", "array_access": "array"}),
    calls=MappingProxyType({"method_invocation": "object"}),
    skip_fields=_pairs(
        ("method_invocation", "name"),
        ("field_access", "field"),
        ("labeled_statement", ""),
        ("method_reference", ""),
    ),
    opaque=_fs(
        "type_identifier",
        "generic_type",
        "scoped_type_identifier",
        "integral_type",
        "string_literal",
        "decimal_integer_literal",
        "annotation",
        "marker_annotation",
        "catch_type",
        "array_type",
    ),
)

_RUST = FlowTables(
    language="rust",
    blocks=_fs("block"),
    constructs=MappingProxyType(
        {
            "if_expression": "if",
            "while_expression": "while",
            "for_expression": "foreach",
            "loop_expression": "loop",
            "match_expression": "switch",
            "return_expression": "return",
            "break_expression": "break",
            "continue_expression": "continue",
            "expression_statement": "expression",
            "block": "block",
            "unsafe_block": "block",
            "let_declaration": "let",
        }
    ),
    skipped=_SKIP_COMMON | _fs("attribute_item", "inner_attribute_item"),
    variables=_fs("identifier"),
    self_names=_fs("self"),
    scopes=_fs("closure_expression", "function_item", "impl_item", "struct_item", "enum_item"),
    assignments=MappingProxyType(
        {
            "assignment_expression": ("left", "right", False),
            "compound_assignment_expr": ("left", "right", True),
        }
    ),
    declarations=MappingProxyType(
        {"let_declaration": ("pattern", "value"), "let_condition": ("pattern", "value")}
    ),
    writes=MappingProxyType(
        {"field_expression": "value", "index_expression": "", "unary_expression": ""}
    ),
    calls=MappingProxyType({"call_expression": "function"}),
    skip_fields=_pairs(
        ("macro_invocation", "macro"),
        ("tuple_struct_pattern", "type"),
        ("struct_pattern", "type"),
        ("struct_expression", "name"),
    ),
    opaque=_fs(
        "scoped_identifier",
        "scoped_type_identifier",
        "type_identifier",
        "generic_type",
        "primitive_type",
        "string_literal",
        "raw_string_literal",
        "integer_literal",
        "label",
        "lifetime",
        "field_identifier",
        "reference_type",
        "attribute_item",
    ),
)

TABLES: Mapping[str, FlowTables] = MappingProxyType(
    {
        "python": _PYTHON,
        "javascript": _js("javascript"),
        "typescript": _js("typescript"),
        "tsx": _js("tsx"),
        "go": _GO,
        "java": _JAVA,
        "rust": _RUST,
    }
)
FLOW_LANGUAGES = frozenset(TABLES)
