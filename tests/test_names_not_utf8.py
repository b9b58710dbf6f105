"""File and function names that are not valid UTF-8 (a script file name with a byte such as
0xff, which Python decodes with surrogateescape; function names and keys holding surrogates)
are recorded escaped, each invalid byte as ``\\xNN``, by markers, decorated functions, regions,
the profiler, trace and the line profiler; every file written stays valid UTF-8 JSON/text."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tool_helpers import clean_env

pytestmark = pytest.mark.skipif(
    sys.getfilesystemencoding() != "utf-8", reason="needs a UTF-8 file system encoding"
)

NAME = b"k\xff.py"  # not valid UTF-8

SCRIPT = """\
from timemory.bundle import marker
from timemory import region

with marker(["wall_clock"]):
    pass

with marker(["wall_clock"], key="key\\udcfe", mode="full"):
    pass

def work():
    return sum(range(10))

work.__qualname__ = "work\\udcff"
work.__code__ = work.__code__.replace(co_name="work\\udcff")
marker(["wall_clock"], mode="full")(work)()

region.push("region\\udcfd")
region.pop("region\\udcfd")
work()
"""


def _script(tmp_path: Path) -> bytes:
    path = os.path.join(os.fsencode(tmp_path), NAME)
    with open(path, "w") as f:
        f.write(SCRIPT)
    return path


def _all_text(folder: Path) -> dict[str, str]:
    """Every file under ``folder``, read as strict UTF-8 (raises if any is not)."""
    out = {}
    for root, _, files in os.walk(os.fsencode(folder)):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                out[os.fsdecode(name)] = f.read().decode("utf-8")
    return out


def _run(args: list, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        args,
        cwd=cwd,
        env=clean_env({"TIMEMORY_COUT_OUTPUT": "OFF"}),
        capture_output=True,
        timeout=300,
    )


def _labels(texts: dict[str, str], name: str = "wall.json") -> list[str]:
    data = json.loads(texts[name])
    (component,) = data["timemory"].values()
    return [g["prefix"] for g in component["ranks"][0]["graph"]]


def test_markers_and_regions_in_a_file_named_with_invalid_utf8(tmp_path):
    script = _script(tmp_path)
    proc = _run([sys.executable, script], tmp_path)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    texts = _all_text(tmp_path)
    for name, text in texts.items():
        if name.endswith(".json"):
            json.loads(text)
    labels = _labels(texts)
    assert any(label.startswith(">>> <module>@k\\xff.py:") for label in labels), labels
    assert any(label.endswith("/key\\xfe") for label in labels), labels
    assert any(label.startswith(">>> work\\xff@k\\xff.py:") for label in labels), labels
    assert ">>> region\\xfd" in labels
    assert "key\\xfe" in texts["wall.txt"]


@pytest.mark.parametrize("tool", ["timemory.profiler", "timemory.trace"])
def test_tools_on_a_file_named_with_invalid_utf8(tmp_path, tool):
    script = _script(tmp_path)
    out = tmp_path / "out"
    proc = _run([sys.executable, "-m", tool, "-d", str(out), "--", script], tmp_path)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    texts = _all_text(out)
    assert texts
    joined = "".join(texts.values())
    for name, text in texts.items():
        if name.endswith(".json"):
            json.loads(text)
    assert "k\\xff.py" in joined
    if tool == "timemory.profiler":
        assert "work\\xff" in joined


def test_line_profiler_on_a_file_named_with_invalid_utf8(tmp_path):
    script = _script(tmp_path)
    with open(script, "a") as f:
        f.write("\n@profile\ndef hot():\n    return 1\n\nhot()\n")
    out = tmp_path / "out"
    proc = _run(
        [sys.executable, "-m", "timemory.line_profiler", "-d", str(out), "--", script], tmp_path
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    texts = _all_text(out)
    assert texts
    for name, text in texts.items():
        if name.endswith(".json"):
            json.loads(text)
    assert "k\\xff.py" in "".join(texts.values())
