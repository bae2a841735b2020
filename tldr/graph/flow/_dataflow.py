"""Reaching definitions, def-use chains and control dependence on a step graph.

Definitions are numbered; the sets of definitions reaching each step are
Python ints used as bit sets. A name that might denote two variables (see
`_ambiguous`) is never killed, so every definition of it reaches every use
it can flow to: the sound over-approximation the spec asks for.
"""

from __future__ import annotations

from collections import defaultdict

from tldr.graph.flow._access import NO_DECL, Access
from tldr.graph.flow._build import ENTRY, EXIT, StepGraph

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


def _ambiguous(graph: StepGraph) -> set[str]:
    """Names declared inside a nested block that may not be one variable throughout."""
    declared: dict[str, list[tuple[int, int] | None]] = defaultdict(list)
    positions: dict[str, list[int]] = defaultdict(list)
    for step in graph.steps:
        for access in step.accesses:
            positions[access.name].append(access.byte)
            if access.kind == "def" and access.decl != NO_DECL:
                declared[access.name].append(step.scope if access.decl == 1 else None)
    names: set[str] = set()
    for name, scopes in declared.items():
        nested = [scope for scope in scopes if scope is not None]
        if not nested:
            continue
        if len(scopes) > 1:
            names.add(name)
            continue
        start, end = nested[0]
        if any(not start <= byte < end for byte in positions[name]):
            names.add(name)
    return names


def _locals(graph: StepGraph) -> set[str]:
    names = set(_ALWAYS_LOCAL)
    for step in graph.steps:
        names.update(access.name for access in step.accesses if access.kind == "def")
    return names


def _closure_effects(graph: StepGraph) -> None:
    """Where a local function that writes outer names is used, it may write them again.

    A step defining `add` with may-writes (`const add = n => { sum += n }`)
    gives every later use of `add` (a call, or passing it on) those may-writes.
    """
    effects: dict[str, set[str]] = defaultdict(set)
    for step in graph.steps:
        writes = {a.name for a in step.accesses if a.kind == "may" and a.nested}
        if writes:
            for access in step.accesses:
                if access.kind == "def":
                    effects[access.name] |= writes - {access.name}
    if not effects:
        return
    for step in graph.steps:
        added: list[Access] = []
        for access in step.accesses:
            if access.kind == "use" and access.name in effects:
                added += [
                    Access("may", name, access.line, access.byte)
                    for name in sorted(effects[access.name])
                ]
        step.accesses += added


def _normalise(graph: StepGraph) -> None:
    """Method-call receivers count for local names only; ambiguous defs never kill."""
    local = _locals(graph)
    ambiguous = _ambiguous(graph)
    _closure_effects(graph)
    for step in graph.steps:
        kept: list[Access] = []
        for access in step.accesses:
            if access.kind == "call" and access.name not in local:
                continue
            if access.kind == "def" and access.name in ambiguous:
                access.kind = "may"
            kept.append(access)
        step.accesses = kept


def _reaching(graph: StepGraph, facts: FlowFacts, successors: list[list[int]]) -> None:
    steps = graph.steps
    by_name: dict[str, int] = defaultdict(int)  # name -> bits of all its definitions
    step_defs: list[list[int]] = [[] for _ in steps]
    for step in steps:
        for access in step.accesses:
            if access.kind in _DEFINING:
                number = len(facts.defs)
                facts.defs.append((step.id, access))
                by_name[access.name] |= 1 << number
                step_defs[step.id].append(number)
    gen = [0] * len(steps)
    kill = [0] * len(steps)
    for step in steps:
        for number in step_defs[step.id]:
            access = facts.defs[number][1]
            if access.kind == "def":
                kill[step.id] |= by_name[access.name]
                gen[step.id] &= ~by_name[access.name]
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
                facts.use_defs[(step.id, index)] = live & by_name.get(access.name, 0)
            elif access.kind in _DEFINING:
                number = next(numbers)
                if access.kind == "def":
                    live &= ~by_name[access.name]
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
