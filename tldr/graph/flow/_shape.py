"""From a step graph and its flow facts to what users see: blocks, chains, slices."""

from __future__ import annotations

from collections import defaultdict

from tldr.graph.flow._dataflow import FlowFacts
from tldr.graph.flow._model import Block, DefUse, Edge
from tldr.graph.flow._steps import ENTRY, EXIT, HIDDEN_PREFIX, StepGraph

__all__ = ["basic_blocks", "def_use_chains", "slice_steps", "steps_on_line"]


def _bits(mask: int) -> list[int]:
    """Positions of the set bits (one pass over the text form: masks are wide)."""
    digits = bin(mask)[:1:-1]
    found: list[int] = []
    position = digits.find("1")
    while position != -1:
        found.append(position)
        position = digits.find("1", position + 1)
    return found


def basic_blocks(graph: StepGraph) -> tuple[list[Block], list[Edge]]:
    """Merge chains of steps into basic blocks; block 0 is the entry, the last the exit."""
    count = len(graph.steps)
    successors: list[list[tuple[int, str]]] = [[] for _ in range(count)]
    predecessors: list[set[int]] = [set() for _ in range(count)]
    for source, target, kind in graph.edges:
        if (target, kind) not in successors[source]:
            successors[source].append((target, kind))
        predecessors[target].add(source)

    def leader(step: int) -> bool:
        if step in (ENTRY, EXIT) or len(predecessors[step]) != 1:
            return True
        (only,) = predecessors[step]
        return only == EXIT or successors[only] != [(step, "fallthrough")]

    chains: list[list[int]] = []
    owner = [-1] * count
    for step in range(count):
        if not leader(step):
            continue
        chain = [step]
        owner[step] = len(chains)
        while step != EXIT and len(successors[step]) == 1:
            following, kind = successors[step][0]
            if kind != "fallthrough" or leader(following) or owner[following] != -1:
                break
            chain.append(following)
            owner[following] = len(chains)
            step = following
        chains.append(chain)
    for step in range(count):  # defensive: a step no chain reached stands alone
        if owner[step] == -1:
            owner[step] = len(chains)
            chains.append([step])

    def sort_key(index: int) -> tuple[int, int, int]:
        first = chains[index][0]
        if first == ENTRY:
            return (0, 0, 0)
        if first == EXIT:
            return (2, 0, 0)
        return (1, graph.steps[first].start, first)

    order = sorted(range(len(chains)), key=sort_key)
    number = {chain_index: position for position, chain_index in enumerate(order)}
    blocks: list[Block] = []
    edges: list[Edge] = []
    seen: set[tuple[int, int, str]] = set()
    for chain_index in order:
        chain = chains[chain_index]
        lines = [graph.steps[s] for s in chain if s != EXIT]
        block_id = number[chain_index]
        kind = "entry" if chain[0] == ENTRY else "exit" if chain[0] == EXIT else "body"
        start = min((s.start for s in lines), default=0)
        end = max((s.end for s in lines), default=0)
        blocks.append(Block(id=block_id, start_line=start, end_line=end, kind=kind))
        for target, edge_kind in successors[chain[-1]]:
            key = (block_id, number[owner[target]], edge_kind)
            if key not in seen:
                seen.add(key)
                edges.append(Edge(source=key[0], target=key[1], kind=edge_kind))
    return blocks, edges


def def_use_chains(graph: StepGraph, facts: FlowFacts) -> list[DefUse]:
    """One chain per (name, defining line) with its uses' lines; call receivers left out."""
    uses: dict[int, set[int]] = defaultdict(set)
    for (step, index), mask in facts.use_defs.items():
        line = graph.steps[step].accesses[index].line
        for number in _bits(mask):
            uses[number].add(line)
    merged: dict[tuple[str, int], set[int]] = {}
    for number, (_, access) in enumerate(facts.defs):
        if access.kind == "call" or access.name.startswith(HIDDEN_PREFIX):
            continue
        merged.setdefault((access.name, access.line), set()).update(uses.get(number, ()))
    return [
        DefUse(var=name, def_line=line, use_lines=sorted(lines))
        for (name, line), lines in sorted(merged.items(), key=lambda item: (item[0][1], item[0][0]))
    ]


def steps_on_line(graph: StepGraph, line: int) -> list[int]:
    """The steps whose lines include `line` (the entry for the header's lines)."""
    return [s.id for s in graph.steps if s.id != EXIT and s.start <= line <= s.end]


def _dependences(graph: StepGraph, facts: FlowFacts) -> list[set[int]]:
    depends: list[set[int]] = [set(control) for control in facts.control]
    for (step, _), mask in facts.use_defs.items():
        for number in _bits(mask):
            depends[step].add(facts.defs[number][0])
    return depends


def _defs_of(graph: StepGraph, facts: FlowFacts, step: int, var: str) -> list[int]:
    return [
        number
        for number, (owner, access) in enumerate(facts.defs)
        if owner == step and access.name == var
    ]


def _reaching_defs(facts: FlowFacts, step: int, var: str) -> list[int]:
    return [n for n in _bits(facts.reach_in[step]) if facts.defs[n][1].name == var]


def _users(graph: StepGraph, facts: FlowFacts, numbers: list[int]) -> set[int]:
    wanted = 0
    for number in numbers:
        wanted |= 1 << number
    return {step for (step, _), mask in facts.use_defs.items() if mask & wanted}


def _closure(seeds: set[int], edges: list[set[int]]) -> set[int]:
    found = set(seeds)
    work = list(seeds)
    while work:
        current = work.pop()
        for following in edges[current]:
            if following not in found:
                found.add(following)
                work.append(following)
    return found


def slice_steps(
    graph: StepGraph, facts: FlowFacts, criterion: list[int], direction: str, var: str | None
) -> set[int]:
    """The steps of a backward or forward slice from the criterion steps."""
    depends = _dependences(graph, facts)
    if direction == "backward":
        found = _backward(graph, facts, depends, criterion, var)
        return found | _jumps_kept(graph, facts, found)
    dependents: list[set[int]] = [set() for _ in graph.steps]
    for step, sources in enumerate(depends):
        for source in sources:
            dependents[source].add(step)
    if var is None:
        return _closure(set(criterion), dependents)
    seeds: set[int] = set()
    for step in criterion:
        numbers = _defs_of(graph, facts, step, var) or _reaching_defs(facts, step, var)
        seeds |= _users(graph, facts, numbers)
    return _closure(seeds, dependents) | set(criterion)


def _jumps_kept(graph: StepGraph, facts: FlowFacts, found: set[int]) -> set[int]:
    """Jumps inside a branch that is in the slice: `if bad: return` keeps its `return`.

    Without it the slice would read as if the code went on after the branch.
    """
    kept: set[int] = set()
    for step in graph.steps:
        if not step.jump:
            continue
        for branch in facts.control[step.id] & found:
            head = graph.steps[branch]
            if head.start <= step.start and step.end <= head.extent:
                kept.add(step.id)
                break
    return kept


def _backward(
    graph: StepGraph,
    facts: FlowFacts,
    depends: list[set[int]],
    criterion: list[int],
    var: str | None,
) -> set[int]:
    if var is None:
        return _closure(set(criterion), depends)
    seeds: set[int] = set()
    for step in criterion:
        if _defs_of(graph, facts, step, var):
            seeds.add(step)
        else:
            seeds.update(facts.defs[n][0] for n in _reaching_defs(facts, step, var))
            seeds.update(facts.control[step])
    return _closure(seeds, depends) | set(criterion)
