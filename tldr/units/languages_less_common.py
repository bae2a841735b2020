"""Grammar tables of the less common languages, beside `languages`' mainstream ones.

Haskell, Zig, OCaml, Dart, Erlang, Clojure, Julia, R, Perl, Objective-C,
SQL, protobuf and HCL (Terraform), as tree-sitter-language-pack 0.13.0
names them. Grammars whose definitions are not told apart by node type
alone (a Zig `Decl`, a Clojure list, an R assignment) list those node types
in `shaped`; `tldr.units.shapes` decides them.
"""

from __future__ import annotations

from tldr.units.langspec import LanguageSpec, fs

__all__ = ["LESS_COMMON_SPECS"]

LESS_COMMON_SPECS = (
    LanguageSpec(
        name="haskell",
        # A signature and the equations after it are one unit (merge_clauses);
        # only declarations of a module, class or instance count (shapes).
        functions=fs("signature", "function", "bind"),
        classes=fs("data_type", "newtype", "type_synomym", "class", "type_family", "data_family"),
        type_scopes=fs("instance"),
        shaped=fs("signature", "function", "bind", "instance"),
        calls={"apply": "function"},
        imports=fs("import"),
        branches=fs("conditional", "alternative", "guards"),
        comments=fs("comment", "haddock"),
        top_level_ignored=fs("header", "imports", "pragma"),
        merge_clauses=True,
        split_names=False,
    ),
    LanguageSpec(
        name="zig",
        functions=frozenset(),
        classes=frozenset(),
        shaped=fs("Decl"),
        calls={},
        branches=fs("IfStatement", "IfExpr", "SwitchProng"),
        loops=fs("ForStatement", "WhileStatement", "ForExpr", "WhileExpr"),
        comments=fs("doc_comment", "line_comment", "container_doc_comment"),
    ),
    LanguageSpec(
        name="ocaml",
        functions=frozenset(),
        classes=frozenset(),
        shaped=fs(
            "value_definition",
            "module_definition",
            "module_type_definition",
            "type_definition",
            "class_definition",
        ),
        calls={"application_expression": "function"},
        imports=fs("open_module"),
        branches=fs("if_expression", "match_case"),
        loops=fs("for_expression", "while_expression"),
    ),
    LanguageSpec(
        name="dart",
        functions=fs("function_signature", "method_signature"),
        classes=fs("class_definition", "mixin_declaration", "enum_declaration", "type_alias"),
        type_scopes=fs("extension_declaration"),
        shaped=fs("function_signature", "method_signature"),
        attached_bodies=fs("function_body"),
        calls={},
        imports=fs("import_or_export"),
        branches=fs("if_statement", "conditional_expression", "switch_statement_case"),
        loops=fs("for_statement", "while_statement", "do_statement"),
        boolean_parents=fs("logical_and_expression", "logical_or_expression"),
        comments=fs("comment", "documentation_comment"),
    ),
    LanguageSpec(
        name="erlang",
        functions=fs("fun_decl"),
        classes=fs("record_decl", "type_alias"),
        shaped=fs("fun_decl", "type_alias"),
        calls={"call": "expr"},
        branches=fs("case_expr", "if_expr", "cr_clause"),
        merge_clauses=True,
        top_level_ignored=fs("module_attribute", "export_attribute"),
    ),
    LanguageSpec(
        name="clojure",
        functions=frozenset(),
        classes=frozenset(),
        shaped=fs("list_lit"),
        calls={},
        split_names=False,
    ),
    LanguageSpec(
        name="julia",
        functions=fs("function_definition", "macro_definition"),
        classes=fs("struct_definition", "abstract_definition"),
        namespaces=fs("module_definition"),
        shaped=fs("function_definition", "macro_definition", "assignment"),
        calls={"call_expression": ""},
        imports=fs("import_statement", "using_statement"),
        branches=fs("if_statement", "elseif_clause", "ternary_expression"),
        loops=fs("for_statement", "while_statement"),
        comments=fs("line_comment", "block_comment"),
    ),
    LanguageSpec(
        name="r",
        functions=frozenset(),
        classes=frozenset(),
        shaped=fs("binary_operator"),
        calls={"call": "function"},
        branches=fs("if_statement"),
        loops=fs("for_statement", "while_statement", "repeat_statement"),
    ),
    LanguageSpec(
        name="perl",
        functions=fs("subroutine_declaration_statement", "method_declaration_statement"),
        classes=fs("class_statement"),
        calls={"function_call_expression": "function", "method_call_expression": "method"},
        imports=fs("use_statement", "require_expression"),
        branches=fs("conditional_statement", "elsif"),
        loops=fs("loop_statement", "for_statement", "cstyle_for_statement"),
        comments=fs("comment", "pod"),
        top_level_ignored=fs("package_statement"),
    ),
    LanguageSpec(
        name="objc",
        functions=fs("function_definition", "method_definition", "method_declaration"),
        classes=fs(
            "class_interface",
            "class_implementation",
            "category_interface",
            "category_implementation",
            "protocol_declaration",
            "struct_specifier",
            "enum_specifier",
            "type_definition",
        ),
        calls={"call_expression": "function", "message_expression": "method"},
        imports=fs("preproc_include", "preproc_import", "module_import"),
        branches=fs("if_statement", "conditional_expression", "case_statement"),
        loops=fs("for_statement", "while_statement", "do_statement", "for_in_statement"),
        boolean_parents=fs("binary_expression"),
    ),
    LanguageSpec(
        name="sql",
        functions=frozenset(),
        classes=frozenset(),
        shaped=fs("statement"),
        calls={"invocation": ""},
        comments=fs("comment", "marginalia"),
    ),
    LanguageSpec(
        name="proto",
        functions=fs("rpc"),
        classes=fs("message", "enum", "service"),
        calls={},
        imports=fs("import"),
        top_level_ignored=fs("syntax", "package", "option"),
    ),
    LanguageSpec(
        name="hcl",
        functions=frozenset(),
        classes=frozenset(),
        shaped=fs("block"),
        calls={"function_call": ""},
    ),
)
