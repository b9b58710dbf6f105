"""How often ``timemory.runs.compare`` flags a node when nothing changed (A/A), and how often
it finds one node made 10% slower, on simulated call graphs.

    python benchmarks/runs_statistics.py [--trials N] [--seed S] [--quick]
    python benchmarks/runs_statistics.py --real R

A tree of 200 nodes (random parents, base values log-uniform between 10 us and 1 s), 10
repeats on each side, log-normal noise with a 10% spread (sigma 0.1 of the log). Two noise
models:

* ``independent``: every node of every repeat has its own noise, sigma 0.1 (the issue's
  literal model);
* ``shared``: most of the noise is common to the whole repeat (every node of a repeat scaled
  by one log-normal factor, sigma 0.1: the machine's frequency, load, cache state), plus
  independent per-node noise of sigma 0.02. This is what real repeats look like;
* ``mixed``: both at full strength (sigma 0.1 shared, 0.1 per node): the worst case for
  the two families of tests (whole run, nodes) that share alpha with normalize="run".

For each model and setting (alpha, normalize) it reports:

* ``A/A any``: the share of trials where some row (a node, or the whole-run row) is
  "slower" or "faster" although both sides come from the same distribution (target <= 1%);
* ``detect``: the share of trials where one node (a random one per trial) made 10% slower
  in B is reported "slower" (target >= 90%), and ``others``: the share of trials where
  another row is flagged too;
* ``global``: the share of trials where every node made 10% slower is reported (a
  "slower" whole-run row with normalize="run", a "slower" node without).

For the independent model it also searches the repeats per side that reach 90% detection.
It ends with the conclusions these figures give about the defaults (alpha, normalize), the
reasoning docs/guide/compare.md gives at length.

``--real R`` instead profiles one 30-function script R times for A and R times for B
(interleaved, ``timemory profile -d``), compares them with the defaults and prints the table:
a real A/A check on this machine (exit status 1 when a row is flagged).

Every figure is a share of seeded trials: ``--seed`` changes the draws, not the method;
the 95% margin of a share p over N trials is about 2 * sqrt(p (1 - p) / N).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from timemory.runs import _compare

NODES = 200
REPEATS = 10
SIGMA = 0.1
SHARED_NODE_SIGMA = 0.02
SLOWDOWN = 1.10
#: model -> (sigma of the factor shared by a repeat, sigma of each node's own noise)
MODELS = {
    "independent": (0.0, SIGMA),
    "shared": (SIGMA, SHARED_NODE_SIGMA),
    "mixed": (SIGMA, SIGMA),
}


def tree(rng: np.random.Generator, nodes: int = NODES) -> tuple[list[tuple[str, ...]], np.ndarray]:
    """Call paths (each node's parent an earlier node) and base values in ns."""
    paths: list[tuple[str, ...]] = [("main",)]
    for i in range(1, nodes):
        parent = paths[int(rng.integers(0, i))]
        paths.append((*parent, f"f{i}"))
    base = np.exp(rng.uniform(math.log(1e4), math.log(1e9), size=nodes))
    return paths, base


def draw(rng: np.random.Generator, base: np.ndarray, repeats: int, model: str) -> np.ndarray:
    """One side's values, shape (nodes, repeats)."""
    shared_sigma, node_sigma = MODELS[model]
    shared = rng.normal(0.0, shared_sigma, size=(1, repeats))
    noise = shared + rng.normal(0.0, node_sigma, size=(len(base), repeats))
    return base[:, None] * np.exp(noise)


def trial(
    rng: np.random.Generator,
    model: str,
    scenario: str,
    *,
    alpha: float,
    normalize: str,
    repeats: int = REPEATS,
) -> tuple[bool, bool]:
    """(the target was flagged, some other row was flagged); for A/A the target is none."""
    paths, base = tree(rng)
    a = draw(rng, base, repeats, model)
    factor = np.ones(len(base))
    target = -1
    if scenario == "one":
        target = int(rng.integers(0, len(base)))
        factor[target] = SLOWDOWN
    elif scenario == "global":
        factor[:] = SLOWDOWN
    b = draw(rng, base * factor, repeats, model)
    result = _compare.compare_arrays(
        paths,
        {"wall_clock": a},
        {"wall_clock": b},
        {"wall_clock": "ns"},
        alpha=alpha,
        normalize=normalize,
    )
    flagged = [row for row in result.rows if row.verdict in ("slower", "faster")]
    if scenario == "global":
        # with normalize="run" the whole-run row carries it; without, any node does
        hit = any(row.verdict == "slower" for row in flagged)
        return hit, False
    if target < 0:  # A/A: every flagged row is a false one
        return False, bool(flagged)
    hit = any(row.path == paths[target] and row.verdict == "slower" for row in flagged)
    others = any(row.path != paths[target] for row in flagged)
    return hit, others


def share(
    seed: int, trials: int, model: str, scenario: str, **options: object
) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    hits = others = 0
    for _ in range(trials):
        hit, other = trial(rng, model, scenario, **options)  # type: ignore[arg-type]
        hits += hit
        others += other
    return hits / trials, others / trials


def workload_source(functions: int = 30) -> str:
    """A script of ``functions`` functions of different sizes, called from a few parents."""
    lines = ["def spin(n):", "    return sum(i * i for i in range(n))", ""]
    for i in range(functions):
        lines += [f"def f{i}():", f"    return spin({2000 + 1500 * (i % 7)})", ""]
    groups = [list(range(i, functions, 5)) for i in range(5)]
    for g, members in enumerate(groups):
        lines += [f"def group{g}():"] + [f"    f{i}()" for i in members] + [""]
    lines += ["def main():", "    for _ in range(3):"]
    lines += [f"        group{g}()" for g in range(len(groups))]
    lines += ["", "main()", ""]
    return "\n".join(lines)


def real_a_a(repeats: int) -> int:
    """The same script profiled ``repeats`` times for A and for B, interleaved (A B A B ...),
    then compared with the defaults: the rows flagged are false alarms of this machine."""
    import os
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory(prefix="timemory-real-aa-") as work:
        script = os.path.join(work, "work.py")
        with open(script, "w", encoding="utf-8") as stream:
            stream.write(workload_source())
        folders: dict[str, list[str]] = {"a": [], "b": []}
        start = time.perf_counter()
        for repeat in range(repeats):
            for side in ("a", "b"):
                out = os.path.join(work, f"{side}{repeat:02d}")
                subprocess.run(
                    [sys.executable, "-m", "timemory", "profile", "-d", out, "--", script],
                    check=True,
                    capture_output=True,
                    timeout=600,
                )
                folders[side].append(out)
        measured = time.perf_counter() - start
        result = _compare.compare(folders["a"], folders["b"])
        print(result.text(limit=15))
        flagged = result.changed()
        print(
            f"real A/A: {repeats} repeats per side, {len(result.rows)} rows, "
            f"{len(flagged)} flagged ({measured:.0f} s of profiling)"
        )
        return len(flagged)


def conclusions(
    figures: dict[tuple[str, float, str], tuple[float, float]], enough_repeats: int | None
) -> None:
    """What the figures say about the defaults, from the figures of this run."""
    alpha = _compare.DEFAULT_ALPHA
    worst = max(MODELS, key=lambda model: figures[model, alpha, "run"][0])
    loose = max(MODELS, key=lambda model: figures[model, 0.05, "run"][0])
    print("conclusions:")
    print(
        f"  A/A, the defaults (alpha {alpha:g}, normalize run): any row flagged in at most "
        f"{figures[worst, alpha, 'run'][0]:.2%} of the trials ({worst} model), target <= 1%; "
        f"at alpha 0.05 up to {figures[loose, 0.05, 'run'][0]:.2%} ({loose})"
    )
    print(
        f"  one node 10% slower under shared noise: found in "
        f"{figures['shared', alpha, 'run'][1]:.1%} of the trials with normalize run, "
        f"{figures['shared', alpha, 'none'][1]:.1%} without (target >= 90%)"
    )
    reached = (
        f"reached at {enough_repeats} repeats per side"
        if enough_repeats
        else "not reached up to 100 repeats per side"
    )
    print(
        f"  under independent noise (sigma {SIGMA} per node) the same node is found in "
        f"{figures['independent', alpha, 'run'][1]:.1%} of the trials with {REPEATS} repeats: "
        f"the effect is {math.log(SLOWDOWN) / SIGMA:.2f} standard deviations of a node's noise "
        f"and {NODES} nodes are tested; 90% is {reached}"
    )


def margin(p: float, trials: int) -> float:
    return 2 * math.sqrt(max(p * (1 - p), 1.0 / trials) / trials)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=2000, help="A/A trials (default 2000)")
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--quick", action="store_true", help="a tenth of the trials")
    parser.add_argument(
        "--real",
        type=int,
        default=0,
        metavar="R",
        help="instead: a real A/A check, a script profiled R times per side (e.g. 10)",
    )
    args = parser.parse_args()
    if args.real:
        return 1 if real_a_a(args.real) else 0
    trials = max(args.trials // (10 if args.quick else 1), 20)
    power_trials = max(trials // 2, 20)
    start = time.perf_counter()
    print(
        f"{NODES} nodes, {REPEATS} repeats per side, sigma {SIGMA} (shared model: {SIGMA} per "
        f"repeat + {SHARED_NODE_SIGMA} per node), slowdown {SLOWDOWN:g}x, min_effect "
        f"{_compare.DEFAULT_MIN_EFFECT:g}; {trials} A/A trials, {power_trials} per detection "
        f"figure, seed {args.seed}"
    )
    print(
        f"{'model':<12} {'alpha':>6} {'normalize':>9}  {'A/A any':>14}  {'detect':>14}  "
        f"{'others':>7}  {'global':>7}"
    )
    figures: dict[tuple[str, float, str], tuple[float, float]] = {}
    for model in MODELS:
        for alpha in (0.05, 0.01):
            for normalize in ("none", "run"):
                options = {"alpha": alpha, "normalize": normalize}
                _, aa = share(args.seed, trials, model, "none", **options)
                detect, others = share(args.seed + 1, power_trials, model, "one", **options)
                whole, _ = share(args.seed + 2, power_trials, model, "global", **options)
                figures[model, alpha, normalize] = (aa, detect)
                print(
                    f"{model:<12} {alpha:>6g} {normalize:>9}  "
                    f"{aa:>7.2%} +-{margin(aa, trials):>5.2%}  "
                    f"{detect:>7.1%} +-{margin(detect, power_trials):>5.1%}  "
                    f"{others:>7.1%}  {whole:>7.1%}",
                    flush=True,
                )
    print(
        "independent model, defaults (alpha "
        f"{_compare.DEFAULT_ALPHA:g}, normalize run): detection by repeats per side"
    )
    enough_repeats = None
    for repeats in (10, 20, 30, 40, 50, 60, 70, 80, 100):
        detect, _ = share(
            args.seed + 3,
            power_trials,
            "independent",
            "one",
            alpha=_compare.DEFAULT_ALPHA,
            normalize="run",
            repeats=repeats,
        )
        print(
            f"  {repeats:>3} repeats: {detect:6.1%} +-{margin(detect, power_trials):.1%}",
            flush=True,
        )
        if detect >= 0.9:
            enough_repeats = repeats
            break
    conclusions(figures, enough_repeats)
    print(f"({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
