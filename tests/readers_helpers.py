"""Documents for the reader tests (tests/test_readers.py, tests/test_fuzz_readers.py): the files
a short program writes with timemory itself (flat and tree JSON of a one-value and a two-value
component, and the ai and op files of a roofline component), so that the tests follow the
output's shape wherever it changes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tool_helpers import clean_env, write

APP = """
    from timemory.bundle import marker
    from timemory import roofline

    COMPONENTS = ["wall_clock", "current_peak_rss", "cpu_roofline_dp_flops"]
    with marker(COMPONENTS, key="main"):
        for _ in range(2):
            with marker(COMPONENTS, key="child"):
                roofline.add_work(flops=1000, bytes=800)
                with marker(COMPONENTS, key='le"af \\u00fc'):
                    roofline.add_work(flops=10, bytes=8)
        with marker(COMPONENTS, key="other"):
            roofline.add_work(flops=100, bytes=16)
"""

#: name -> file the program writes (in the ``op`` pass, and ``roofline_ai`` in the ``ai`` one)
FILES = {
    "wall": "wall.json",
    "wall_tree": "wall.tree.json",
    "peak": "current_peak_rss.json",
    "peak_tree": "current_peak_rss.tree.json",
    "roofline_op": "cpu_roofline_dp_op.json",
    "roofline_ai": "cpu_roofline_dp_ai.json",
}

_MADE: dict[str, Path] = {}


def _run(folder: Path, mode: str) -> None:
    env = clean_env(
        {
            "TIMEMORY_OUTPUT_PATH": str(folder / "out"),
            "TIMEMORY_ROOFLINE_MODE": mode,
            # a short ERT run, cached for the second pass
            "TIMEMORY_ERT_NUM_TRIALS": "1",
            "TIMEMORY_ERT_MAX_DATA_SIZE_CPU": str(16 << 20),
            "TIMEMORY_ERT_CACHE_DIR": str(folder / "ert-cache"),
        }
    )
    proc = subprocess.run(
        [sys.executable, "app.py"], cwd=folder, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr


def make_documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``{name: path}`` of :data:`FILES`, written once per test session (the session fixture
    ``documents`` of each test module)."""
    if not _MADE:
        folder = tmp_path_factory.mktemp("documents")
        write(folder / "app.py", APP)
        _run(folder, "op")
        _run(folder, "ai")
        for name, file in FILES.items():
            path = folder / "out" / file
            assert path.is_file(), sorted(p.name for p in (folder / "out").iterdir())
            _MADE[name] = path
    return dict(_MADE)


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def copy(source: Path, target: Path) -> Path:
    shutil.copyfile(source, target)
    return target
