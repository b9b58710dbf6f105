"""One chart from several inputs of the same component: side by side (``combine``, every
input's entries tagged with the input's name) or entry by entry the largest (``maximums``,
e.g. the slowest of several runs or ranks)."""

from __future__ import annotations

from collections.abc import Sequence

from timemory.plotting._read import ComponentData, InputError, Node

__all__ = ["by_component", "combined", "maximums"]


def by_component(components: Sequence[ComponentData]) -> dict[str, list[ComponentData]]:
    """The components grouped by their key (``wall_clock``...), in order of appearance."""
    groups: dict[str, list[ComponentData]] = {}
    for component in components:
        groups.setdefault(component.key, []).append(component)
    return groups


def _check_same_kind(components: Sequence[ComponentData]) -> ComponentData:
    first = components[0]
    for other in components[1:]:
        if other.key != first.key or len(other.types) != len(first.types):
            raise InputError(
                f"{other.source}: {other.key!r} cannot be drawn with {first.key!r} of "
                f"{first.source}"
            )
    return first


def _merged(
    first: ComponentData, components: Sequence[ComponentData], ranks: dict
) -> ComponentData:
    return first._replace(
        processes=max(c.processes for c in components),
        threads=max(c.threads for c in components),
        ranks=tuple((rank, tuple(nodes)) for rank, nodes in sorted(ranks.items())),
        source=", ".join(dict.fromkeys(c.source for c in components)),
    )


def combined(parts: Sequence[tuple[str, ComponentData]]) -> ComponentData:
    """The entries of each ``(name, component)`` one input after the other, each tagged with
    its input's name (shown in front of the label)."""
    components = [c for _, c in parts]
    first = _check_same_kind(components)
    ranks: dict[int, list[Node]] = {}
    for name, component in parts:
        for rank, nodes in component.ranks:
            ranks.setdefault(rank, []).extend(n._replace(origin=name) for n in nodes)
    return _merged(first, components, ranks)


def maximums(components: Sequence[ComponentData]) -> ComponentData:
    """Entry by entry (the same call-graph path, thread and rank), the largest count and the
    largest of each value over ``components``; entries missing from some inputs are kept, in
    call-graph order."""
    first = _check_same_kind(components)
    # per rank, a tree of {(label, thread, rank): [node, children]} in order of appearance
    trees: dict[int, dict] = {}
    for component in components:
        for rank, nodes in component.ranks:
            tree = trees.setdefault(rank, {})
            path: list[dict] = [tree]
            for node in nodes:
                del path[node.depth + 1 :]
                while len(path) <= node.depth:  # a gap in depths: attach to the deepest known
                    path.append(path[-1])
                siblings = path[node.depth]
                key = (node.label, node.thread, node.rank)
                if key in siblings:
                    slot = siblings[key]
                    old = slot[0]
                    slot[0] = old._replace(
                        count=max(old.count, node.count),
                        values=tuple(max(a, b) for a, b in zip(old.values, node.values)),
                        stats=None,  # a lap of one input no longer describes the entry
                    )
                else:
                    slot = siblings[key] = [node, {}]
                path.append(slot[1])
    ranks = {rank: list(_pre_order(tree)) for rank, tree in trees.items()}
    return _merged(first, components, ranks)


def _pre_order(tree: dict) -> list[Node]:
    out: list[Node] = []
    for node, children in tree.values():
        out.append(node)
        out += _pre_order(children)
    return out
