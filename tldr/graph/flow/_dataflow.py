"""Reaching definitions, def-use chains and control dependence on a step graph.

Definitions are numbered; the sets of definitions reaching each step are
Python ints used as bit sets. Block scopes are resolved first (`_resolve`),
so a name declared again in an inner block is another variable.
"""

from __future__ import annotations

from collections import defaultdict

from tldr.graph.flow._access import DECL_FUNCTION, NO_DECL, Access
from tldr.graph.flow._steps import ENTRY, EXIT, StepGraph

__all__ = ["FlowFacts", "analyse"]

_ALWAYS_LOCAL = frozenset({"self", "this"})
# "call": the receiver of a method call, which may change the object it names.
_DEFINING = frozenset({"def", "may", "call"})


class FlowFacts:
    """What the slicer and the def-use listing need.

    Attributes:
        defs: Definition number -> (step, access).
        use_defs: (step, index of a use in the step's accesses) -> definitions reaching it.
        reach_in: Step -> definitions reaching its start.
        control: Step -> the steps it is control dependent on.
    """

    __slots__ = ("control", "defs", "reach_in", "use_defs")

    def __init__(self) -> None:
        self.defs: list[tuple[int, Access]] = []
        self.use_defs: dict[tuple[int, int], int] = {}
        self.reach_in: list[int] = []
        self.control: list[set[int]] = []


class _Declaration:
    __slots__ = ("byte", "end", "hoisted", "index", "key", "start", "step")

    def __init__(
        self, step: int, index: int, access: Access, scope: tuple[int, int], hoisted: bool
    ) -> None:
        self.step = step
        self.index = index
        self.byte = access.byte
        self.start, self.end = scope
        self.hoisted = hoisted
        self.key = f"{access.name}@{access.byte}"


def _resolve(graph: StepGraph) -> None:
    """Give each access the key of the declaration it refers to (block scopes).

    A declaration is seen inside its scope (the block, or the compound
    statement whose head declares it) after it: later in its own step's
    evaluation order, or anywhere past its step's end. Function-wide
    declarations (parameters, JavaScript `var`) and reads inside closures see
    every declaration of their scope. A name with no declaration in scope
    (Python, a global, a field) keeps its spelling as its key.
    """
    declared: dict[str, list[_Declaration]] = defaultdict(list)
    whole = (0, 1 << 62)
    for step in graph.steps:
        for index, access in enumerate(step.accesses):
            if access.kind != "def" or access.decl == NO_DECL:
                continue
            hoisted = access.decl == DECL_FUNCTION
            scope = step.scope if step.scope is not None and not hoisted else whole
            declared[access.name].append(_Declaration(step.id, index, access, scope, hoisted))
    if not declared:
        return
    steps = graph.steps
    for step in steps:
        for index, access in enumerate(step.accesses):
            candidates = declared.get(access.name)
            if not candidates:
                continue
            best: _Declaration | None = None
            for declaration in candidates:
                if not declaration.start <= access.byte < declaration.end:
                    continue
                if not (
                    declaration.hoisted
                    or access.nested
                    or (declaration.step == step.id and index >= declaration.index)
                    or (
                        declaration.step != step.id
                        and access.byte >= steps[declaration.step].end_byte
                    )
                ):
                    continue
                if best is None or (declaration.start, -declaration.end, declaration.byte) > (
                    best.start,
                    -best.end,
                    best.byte,
                ):
                    best = declaration
            if best is not None:
                access.key = best.key


def _locals(graph: StepGraph) -> set[str]:
    names = set(_ALWAYS_LOCAL)
    for step in graph.steps:
        names.update(access.name for access in step.accesses if access.kind == "def")
    return names


def _closure_effects(graph: StepGraph) -> None:
    """Where a local function is used, it may read and write what its body does.

    A step defining `add` from a closure (`const add = n => { sum += n }`,
    `def helper(): return total`) gives every later use of `add` (a call, or
    passing it on) the closure's reads of outer names and its may-writes:
    the closure runs there, not where it is written.
    """
    effects: dict[str, dict[tuple[str, str], str]] = defaultdict(dict)
    for step in graph.steps:
        inner = {
            (a.kind, a.key): a.name for a in step.accesses if a.nested and a.kind in ("use", "may")
        }
        if not inner:
            continue
        for access in step.accesses:
            if access.kind == "def" and access.closure and not access.nested:
                effects[access.key].update(
                    (item, name) for item, name in inner.items() if item[1] != access.key
                )
    if not effects:
        return
    for step in graph.steps:
        added: list[Access] = []
        for access in step.accesses:
            if access.kind == "use" and access.key in effects:
                for (kind, key), name in sorted(effects[access.key].items()):
                    effect = Access(kind, name, access.line, access.byte)
                    effect.key = key
                    added.append(effect)
        step.accesses += added


def _normalise(graph: StepGraph) -> None:
    """Resolve block scopes; method-call receivers count for local names only."""
    local = _locals(graph)
    _resolve(graph)
    _closure_effects(graph)
    for step in graph.steps:
        step.accesses = [
            access for access in step.accesses if access.kind != "call" or access.name in local
        ]


def _reaching(graph: StepGraph, facts: FlowFacts, successors: list[list[int]]) -> None:
    steps = graph.steps
    by_name: dict[str, int] = defaultdict(int)  # name -> bits of all its definitions
    step_defs: list[list[int]] = [[] for _ in steps]
    for step in steps:
        for access in step.accesses:
            if access.kind in _DEFINING:
                number = len(facts.defs)
                facts.defs.append((step.id, access))
                by_name[access.key] |= 1 << number
                step_defs[step.id].append(number)
    gen = [0] * len(steps)
    kill = [0] * len(steps)
    for step in steps:
        for number in step_defs[step.id]:
            access = facts.defs[number][1]
            if access.kind == "def":
                kill[step.id] |= by_name[access.key]
                gen[step.id] &= ~by_name[access.key]
            gen[step.id] |= 1 << number
    predecessors: list[list[int]] = [[] for _ in steps]
    for source, targets in enumerate(successors):
        for target in targets:
            predecessors[target].append(source)
    reach_in = [0] * len(steps)
    reach_out = [gen[i] for i in range(len(steps))]
    keep = [~mask for mask in kill]
    # Round-robin in reverse post-order: as many rounds as loops are deep, plus one.
    order = _reverse_postorder(successors, len(steps))
    changed = True
    while changed:
        changed = False
        for current in order:
            incoming = 0
            for predecessor in predecessors[current]:
                incoming |= reach_out[predecessor]
            reach_in[current] = incoming
            out = gen[current] | (incoming & keep[current])
            if out != reach_out[current]:
                reach_out[current] = out
                changed = True
    facts.reach_in = reach_in
    for step in steps:
        live = reach_in[step.id]
        numbers = iter(step_defs[step.id])
        for index, access in enumerate(step.accesses):
            if access.kind == "use":
                facts.use_defs[(step.id, index)] = live & by_name.get(access.key, 0)
            elif access.kind in _DEFINING:
                number = next(numbers)
                if access.kind == "def":
                    live &= ~by_name[access.key]
                live |= 1 << number


def _reverse_postorder(successors: list[list[int]], count: int) -> list[int]:
    """Steps in reverse post-order from the entry; unreachable ones after, in id order."""
    order: list[int] = []
    seen = [False] * count
    seen[ENTRY] = True
    stack: list[tuple[int, int]] = [(ENTRY, 0)]
    while stack:
        node, index = stack.pop()
        if index < len(successors[node]):
            stack.append((node, index + 1))
            following = successors[node][index]
            if not seen[following]:
                seen[following] = True
                stack.append((following, 0))
        else:
            order.append(node)
    order.reverse()
    order += [node for node in range(count) if not seen[node]]
    return order


def _postdominators(successors: list[list[int]], count: int) -> list[int]:
    """Immediate post-dominators (Cooper, Harvey and Kennedy on the reversed graph)."""
    predecessors: list[list[int]] = [[] for _ in range(count)]
    for source, targets in enumerate(successors):
        for target in targets:
            predecessors[target].append(source)
    # Reverse post-order of the reversed graph, from the exit.
    order: list[int] = []
    seen = [False] * count
    seen[EXIT] = True
    stack: list[tuple[int, int]] = [(EXIT, 0)]
    while stack:
        node, index = stack.pop()
        if index < len(predecessors[node]):
            stack.append((node, index + 1))
            nxt = predecessors[node][index]
            if not seen[nxt]:
                seen[nxt] = True
                stack.append((nxt, 0))
        else:
            order.append(node)
    order.reverse()
    rank = {node: position for position, node in enumerate(order)}
    ipdom = [-1] * count
    ipdom[EXIT] = EXIT
    changed = True
    while changed:
        changed = False
        for node in order:
            if node == EXIT:
                continue
            chosen = -1
            for successor in successors[node]:
                if ipdom[successor] == -1:
                    continue
                if chosen == -1:
                    chosen = successor
                    continue
                a, b = successor, chosen
                while a != b:
                    while rank[a] > rank[b]:
                        a = ipdom[a]
                    while rank[b] > rank[a]:
                        b = ipdom[b]
                chosen = a
            if chosen != -1 and ipdom[node] != chosen:
                ipdom[node] = chosen
                changed = True
    return ipdom


def _control(successors: list[list[int]], count: int) -> list[set[int]]:
    """Ferrante-Ottenstein-Warren control dependence from post-dominators."""
    reaches_exit = [False] * count
    predecessors: list[list[int]] = [[] for _ in range(count)]
    for source, targets in enumerate(successors):
        for target in targets:
            predecessors[target].append(source)
    stack = [EXIT]
    reaches_exit[EXIT] = True
    while stack:
        node = stack.pop()
        for predecessor in predecessors[node]:
            if not reaches_exit[predecessor]:
                reaches_exit[predecessor] = True
                stack.append(predecessor)
    augmented = [list(targets) for targets in successors]
    for node in range(count):
        if not reaches_exit[node] and node != EXIT:
            augmented[node].append(EXIT)  # an endless loop: a virtual way out
    ipdom = _postdominators(augmented, count)
    control: list[set[int]] = [set() for _ in range(count)]
    for source in range(count):
        if len(set(augmented[source])) < 2:
            continue
        stop = ipdom[source]
        for target in set(augmented[source]):
            runner = target
            guard = 0
            while runner != stop and runner != -1 and guard <= count:
                control[runner].add(source)
                if runner == EXIT:
                    break
                runner = ipdom[runner]
                guard += 1
    for node, dependents in enumerate(control):
        dependents.discard(ENTRY)
        dependents.discard(node)
    return control


def analyse(graph: StepGraph) -> FlowFacts:
    """Reaching definitions, def-use facts and control dependence of a step graph."""
    _normalise(graph)
    count = len(graph.steps)
    successors: list[list[int]] = [[] for _ in range(count)]
    for source, target, _ in graph.edges:
        if target not in successors[source]:
            successors[source].append(target)
    facts = FlowFacts()
    _reaching(graph, facts, successors)
    facts.control = _control(successors, count)
    return facts
