"""What the summary costs at the end of a run on a large call graph.

    python benchmarks/summary_cost.py [--nodes N] [--repeats R] [--unique-labels]

A call graph of ``--nodes`` nodes (default 100,000: 100 regions of 1,000 children each,
``wall_clock``; ``--unique-labels``: every child named apart, so the summary has a row per
node, as a program of many different functions) is recorded in this process. Timed, best of
``--repeats`` (default 5):

* ``summarize``: ``timemory._output._summary.summarize`` from the recorded graph (merged by
  label natively, read from the graph without a snapshot: ``_core.merge_by_label``; ranking);
* ``summarize(snapshot)``: the same from a flat snapshot (a FlatBatch, as for gathered data);
* ``to_text``: the printed table of the top 20 rows;
* ``text table``: the native text table of every row (what ``<label>.txt`` held before
  ``settings.text_max_rows``) and capped at 500 rows;
* baseline: the flat JSON text of the same graph (``_core.flat_json``), which every run
  writes: the summary's cost is reported as a ratio to it, measured in the same run.
"""

from __future__ import annotations

import argparse
import time


def build_graph(nodes: int, unique: bool = False) -> int:
    from timemory import _core, region

    region.set_default(["wall_clock"])
    width = 1000
    for i in range(max(nodes // width, 1)):
        region.push(f"top-{i}")
        for j in range(width):
            name = f"child-{i}-{j}" if unique else f"child-{j}"
            region.push(name)
            region.pop(name)
        region.pop(f"top-{i}")
    return int(_core.graph_size(_core.find_component("wall_clock")))


def best(func, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--unique-labels", action="store_true")
    args = parser.parse_args()

    from timemory import _core, _processes, settings
    from timemory._output._summary import summarize

    settings.auto_output = False
    index = _core.find_component("wall_clock")
    size = build_graph(args.nodes, args.unique_labels)
    summary = summarize(index)
    baseline = best(
        lambda: _core.flat_json(index, [_core.flat_snapshot(index)], _processes.output_meta(1)),
        args.repeats,
    )
    rows = [
        ("flat JSON text (baseline)", baseline),
        ("summarize", best(lambda: summarize(index), args.repeats)),
        (
            "summarize(snapshot)",
            best(lambda: summarize(index, _core.flat_snapshot(index)), args.repeats),
        ),
        ("to_text(top=20)", best(lambda: summary.to_text(top=20, width=100), args.repeats)),
        (
            "text table, every row",
            best(lambda: _core.text_table(index, _core.flat_snapshot(index)), args.repeats),
        ),
        (
            "text table, 500 rows",
            best(lambda: _core.text_table(index, _core.flat_snapshot(index), 500), args.repeats),
        ),
    ]
    print(f"call graph: {size} nodes, {len(summary)} labels; best of {args.repeats}")
    for name, seconds in rows:
        print(f"  {name:<28} {seconds * 1e3:9.1f} ms   {seconds / baseline:6.2f} x baseline")
    full = len(_core.text_table(index, _core.flat_snapshot(index)).splitlines())
    capped = len(_core.text_table(index, _core.flat_snapshot(index), 500).splitlines())
    print(f"  text table lines: {full} every row, {capped} capped at 500 rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
