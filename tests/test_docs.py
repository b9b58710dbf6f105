"""The documentation in the repository: the API reference is what tools/gen_api_docs.py makes
from the installed package and names every public name, every relative link of the README and
docs/ leads to a file (and heading) of the repository, and nothing points outside it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tool_helpers import clean_env

ROOT = Path(__file__).resolve().parents[1]
API = ROOT / "docs" / "api"
GENERATOR = ROOT / "tools" / "gen_api_docs.py"
HAND_WRITTEN = ["README.md", "CONTRIBUTING.md", "CHANGELOG.md"]
# Written with escapes so that this file does not contain what it looks for.
SECTION_SIGN = "\u00a7"
OUTSIDE = "../" + "shared"

# Every public module (no part of its dotted name private) and its public names: ``__all__``,
# or for a module without one the names it defines itself. Found here independently of the
# generator, so that a name the generator leaves out fails the test.
PUBLIC_NAMES = r"""
import importlib, json, pkgutil, sys, types
import timemory

modules = ["timemory"] + [
    m.name
    for m in pkgutil.walk_packages(timemory.__path__, "timemory.")
    if not any(part.startswith("_") for part in m.name.split("."))
]
out = {}
for name in modules:
    module = importlib.import_module(name)
    names = getattr(module, "__all__", None)
    if names is None:
        names = []
        for n, v in vars(module).items():
            if n.startswith("_") or isinstance(v, types.ModuleType):
                continue
            if isinstance(v, (type, types.FunctionType)):
                own = v.__module__ == name  # not one imported for annotations
            else:
                own = type(v).__module__ in (name, "builtins")  # a value, or an own instance
            if own:
                names.append(n)
    out[name] = sorted(set(names))
print(json.dumps(out))
"""


def _markdown_files() -> list[Path]:
    files = [ROOT / name for name in HAND_WRITTEN]
    return files + sorted((ROOT / "docs").rglob("*.md"))


def _without_code(text: str) -> str:
    """The text with fenced code blocks and inline code spans blanked (links in code are
    examples, not links)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def _slug(title: str) -> str:
    """The anchor GitHub gives a heading (before numbering repeats)."""
    text = title.replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    anchors: set[str] = set()
    used: dict[str, int] = {}
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)
    for match in re.finditer(r"^#{1,6} (.+?)\s*$", text, flags=re.M):
        base = _slug(match.group(1))
        anchors.add(base if base not in used else f"{base}-{used[base]}")
        used[base] = used.get(base, 0) + 1
    anchors |= set(re.findall(r'<a (?:id|name)="([^"]+)"', text))
    return anchors


def _links(path: Path) -> list[str]:
    text = _without_code(path.read_text(encoding="utf-8"))
    inline = re.findall(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", text)
    reference = re.findall(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?\s*$", text, flags=re.M)
    return inline + reference


def _tracked_files() -> list[Path]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
        ).stdout
    except (OSError, subprocess.CalledProcessError) as err:
        pytest.skip(f"not a git checkout: {err}")
    return [ROOT / name for name in listed.decode().split("\0") if name]


def _occurrences(needle: str, files: list[Path]) -> list[str]:
    """``path:line`` of every line of ``files`` containing ``needle``."""
    found = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue
        for number, line in enumerate(text.split("\n"), 1):
            if needle in line:
                found.append(f"{path.relative_to(ROOT)}:{number}")
    return found


def test_api_reference_is_what_the_generator_writes():
    proc = subprocess.run(
        [sys.executable, str(GENERATOR), "--check"],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout


def test_api_reference_names_every_public_module_and_name(run_python):
    proc = run_python(PUBLIC_NAMES)
    assert proc.returncode == 0, proc.stderr
    public = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "timemory" in public and "timemory.profiler" in public
    index = (API / "index.md").read_text(encoding="utf-8")
    missing = []
    for module, names in public.items():
        page = API / f"{module}.md"
        assert page.is_file(), f"no API page for {module}"
        assert f"({module}.md)" in index, f"the API index does not link {module}"
        text = page.read_text(encoding="utf-8")
        missing += [f"{module}.{name}" for name in names if f"`{name}`" not in text]
    assert not missing, missing


def test_relative_links_lead_to_files_and_headings_of_the_repository():
    broken = []
    checked = 0
    for path in _markdown_files():
        for target in _links(path):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
                continue
            file_part, _, fragment = target.partition("#")
            resolved = (path.parent / file_part).resolve() if file_part else path
            where = f"{path.relative_to(ROOT)}: {target}"
            checked += 1
            if ROOT not in resolved.parents and resolved != ROOT:
                broken.append(f"{where} (outside the repository)")
            elif not resolved.exists():
                broken.append(f"{where} (no such file)")
            elif fragment and resolved.suffix == ".md" and fragment not in _anchors(resolved):
                broken.append(f"{where} (no such heading)")
    assert checked > 50, "the link parser found almost no links"
    assert not broken, "\n".join(broken)


def test_hand_written_docs_point_nowhere_outside_the_repository():
    # docs/api/ holds the docstrings' text: the code's references are the next test's subject
    files = [p for p in _markdown_files() if API not in p.parents]
    assert _occurrences(OUTSIDE, files) == []
    assert _occurrences(SECTION_SIGN, files) == []


def test_no_tracked_file_has_section_references():
    assert _occurrences(SECTION_SIGN, _tracked_files()) == []


def test_no_tracked_file_points_outside_the_repository():
    assert _occurrences(OUTSIDE, _tracked_files()) == []
