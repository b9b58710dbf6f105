"""Helpers of :mod:`timemory.api.gperftools`: find gperftools' libraries and ``pprof``,
preload a library, run a command with its output in a log, post-process a profile."""

from __future__ import annotations

import os
import sys

from .. import UnavailableError

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Iterable, MutableMapping, Sequence
    from typing import Any

__all__ = [
    "LIBRARIES",
    "add_preload",
    "execute",
    "find_library_path",
    "find_pprof",
    "get_library_prefixes",
    "get_shared_lib_ext",
    "library_reason",
    "post_process",
    "profiler_library",
]

#: The libraries (without ``lib`` and the extension) each profiler can be preloaded from.
LIBRARIES = {
    "cpu_profiler": ("profiler", "tcmalloc_and_profiler"),
    "heap_profiler": ("tcmalloc", "tcmalloc_and_profiler"),
}
_SYSTEM_FOLDERS = (
    "/usr/local/lib",
    "/usr/local/lib64",
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/lib/x86_64-linux-gnu",
    "/lib64",
    "/lib",
    "/opt/homebrew/lib",
)
_PPROF = ("google-pprof", "pprof")


def get_shared_lib_ext() -> str:
    """The file extension of shared libraries here: ``.dylib`` on macOS, ``.so`` elsewhere."""
    return ".dylib" if sys.platform == "darwin" else ".so"


def get_library_prefixes() -> list[str]:
    """The folders searched for libraries, in order: ``DYLD_LIBRARY_PATH`` (macOS),
    ``LD_LIBRARY_PATH``, ``LIBRARY_PATH``, then the usual system library folders."""
    names = ("DYLD_LIBRARY_PATH",) if sys.platform == "darwin" else ()
    folders = []
    for name in (*names, "LD_LIBRARY_PATH", "LIBRARY_PATH"):
        folders += [f for f in os.environ.get(name, "").split(os.pathsep) if f]
    folders += [f for f in _SYSTEM_FOLDERS if os.path.isdir(f)]
    return list(dict.fromkeys(folders))


def find_library_path(name: str) -> str | None:
    """The real path of library ``name``: a path, a file name (``libprofiler.so.0``) or a
    bare name (``profiler``, looked for as ``libprofiler.so`` and ``libprofiler.so.<N>``);
    None when it is not found."""
    if os.sep in name:
        return os.path.realpath(name) if os.path.isfile(name) else None
    ext = get_shared_lib_ext()
    stem = name if name.startswith("lib") else "lib" + name
    exact = (name, stem) if ext in name else (stem + ext,)
    for folder in get_library_prefixes():
        for candidate in exact:
            path = os.path.join(folder, candidate)
            if os.path.isfile(path):
                return os.path.realpath(path)
        if ext not in name:  # versioned only: libprofiler.so.0 without the dev symlink
            try:
                entries = sorted(os.listdir(folder))
            except OSError:
                continue
            for entry in entries:
                if entry.startswith(stem + ext + "."):
                    return os.path.realpath(os.path.join(folder, entry))
    return None


def _check_kind(kind: str) -> tuple[str, ...]:
    if kind not in LIBRARIES:
        raise ValueError(
            f"unknown gperftools profiler {kind!r}; valid choices: {', '.join(LIBRARIES)}"
        )
    return LIBRARIES[kind]


def profiler_library(kind: str = "cpu_profiler") -> str | None:
    """The path of the library that provides ``kind`` (``"cpu_profiler"`` or
    ``"heap_profiler"``), or None. ``ValueError`` naming the valid choices for another kind."""
    for name in _check_kind(kind):
        path = find_library_path(name)
        if path is not None:
            return path
    return None


def library_reason(kind: str = "cpu_profiler") -> str:
    """Why ``kind`` cannot be preloaded ("" when its library is found)."""
    if profiler_library(kind) is not None:
        return ""
    ext = get_shared_lib_ext()
    names = " or ".join(f"lib{n}{ext}" for n in LIBRARIES[kind])
    return (
        f"gperftools is not installed: no {names} in LD_LIBRARY_PATH, LIBRARY_PATH or the "
        "system library folders"
    )


def find_pprof() -> str | None:
    """The path of gperftools' ``google-pprof`` (or ``pprof``) in ``PATH``, or None."""
    import shutil

    for name in _PPROF:
        path = shutil.which(name)
        if path is not None:
            return path
    return None


def add_preload(libs: str | Sequence[str], env: MutableMapping[str, str] | None = None) -> None:
    """Append ``libs`` (a path or a list of paths) to the preload list of ``env``
    (``os.environ`` by default): ``LD_PRELOAD``, or ``DYLD_INSERT_LIBRARIES`` on macOS."""
    target = os.environ if env is None else env
    paths = [libs] if isinstance(libs, str) else list(libs)
    if not paths:
        return
    name = "DYLD_INSERT_LIBRARIES" if sys.platform == "darwin" else "LD_PRELOAD"
    if sys.platform == "darwin":
        target["DYLD_FORCE_FLAT_NAMESPACE"] = "1"
    current = [p for p in target.get(name, "").split(":") if p]
    target[name] = ":".join(current + [p for p in paths if p not in current])


def execute(
    cmd: Sequence[str],
    outf: str | None,
    keep_going: bool = True,
    timeout: float | None = 5 * 60,
    env: MutableMapping[str, str] | None = None,
) -> int:
    """Run ``cmd`` (a list) with ``env``, its stdout and stderr written to the file ``outf``
    (passed through when None); return its exit status. ``keep_going=False`` raises
    ``RuntimeError`` naming the command when it fails; a ``timeout`` (seconds) that passes
    raises ``subprocess.TimeoutExpired``."""
    import subprocess

    cmd = [str(c) for c in cmd]
    if outf is None:
        status = subprocess.run(cmd, env=env, timeout=timeout, check=False).returncode
    else:
        with open(outf, "wb") as log:
            status = subprocess.run(
                cmd, env=env, timeout=timeout, stdout=log, stderr=subprocess.STDOUT, check=False
            ).returncode
    if status != 0 and not keep_going:
        where = f" (output in {outf})" if outf else ""
        raise RuntimeError(f"command {cmd} exited with status {status}{where}")
    return status


def post_process(
    exe: str,
    fname: str,
    image_type: str = "jpeg",
    echo_dart: bool = False,
    liblist: Iterable[str] = (),
    args: Sequence[str] = ("--no_strip_temp", "--functions"),
    generate: Iterable[str] = ("text", "cum", "dot"),
    dot_args: Sequence[str] = (),
) -> list[str]:
    """Turn the profile ``fname`` of program ``exe`` into ``<fname>.txt`` (``"text"``),
    ``<fname>.cum.txt`` (``"cum"``), ``<fname>.dot`` and ``<fname>.<image_type>``
    (``"dot"``, the image when graphviz's ``dot`` is installed) and ``<fname>.callgrind``
    (``"callgrind"``) with ``pprof``; return the files written. ``liblist`` adds shared
    libraries for symbols; ``echo_dart`` prints a CDash measurement tag of the image (stderr).

    Raises :class:`~timemory.api.UnavailableError` when ``pprof`` is not installed and
    ``ValueError`` naming the valid choices for an unknown ``generate`` entry."""
    choices = ("text", "cum", "dot", "callgrind")
    wanted = list(generate)
    unknown = [g for g in wanted if g not in choices]
    if unknown:
        raise ValueError(f"unknown output {unknown[0]!r}; valid choices: {', '.join(choices)}")
    pprof = find_pprof()
    if pprof is None:
        raise UnavailableError(
            "gperftools post-processing", f"no {' or '.join(_PPROF)} in PATH (gperftools' pprof)"
        )
    libs = [f"--add_lib={lib}" for lib in dict.fromkeys(liblist)]
    base = [pprof, *libs, *args]
    written = []
    outputs = {
        "text": (["--text"], f"{fname}.txt"),
        "cum": (["--text", "--cum"], f"{fname}.cum.txt"),
        "dot": (["--dot"], f"{fname}.dot"),
        "callgrind": (["--callgrind"], f"{fname}.callgrind"),
    }
    for kind in wanted:
        flags, out = outputs[kind]
        if execute([base[0], *flags, *base[1:], exe, fname], out) == 0:
            written.append(out)
    dot_file = f"{fname}.dot"
    if "dot" in wanted and dot_file in written:
        import shutil

        dot = shutil.which("dot")
        image = f"{fname}.{image_type}"
        if (
            dot is not None
            and execute([dot, *dot_args, f"-T{image_type}", dot_file, "-o", image], None) == 0
        ):
            written.append(image)
            if echo_dart:
                from ..._text import echo

                echo(
                    f'<DartMeasurementFile name="{os.path.basename(image)}" '
                    f'type="image/{image_type}">{os.path.realpath(image)}</DartMeasurementFile>',
                    sys.stderr,
                )
    return written


def run_profiled(
    kind: str,
    cmd: Sequence[str],
    prefix: str,
    profile_variable: str,
    variables: dict[str, str],
    preload: bool,
    post: dict[str, Any] | None,
) -> str:
    """Run ``cmd`` under profiler ``kind`` and return the profile's path,
    ``<prefix>.<program>/gperf.<N>`` (the first unused N), which the program gets in the
    environment variable ``profile_variable``, with ``variables`` set too and the library
    preloaded if ``preload``. The profile is then post-processed with ``post`` (keyword
    arguments of :func:`post_process`) when given and ``pprof`` is installed. Used by
    :mod:`.cpu_profiler` and :mod:`.heap_profiler`."""
    from ..._text import echo

    cmd = [str(c) for c in cmd]
    if not cmd:
        raise ValueError("no command to profile: pass the program and its arguments as a list")
    env = dict(os.environ)
    if preload:
        library = profiler_library(kind)
        if library is None:
            raise UnavailableError(f"gperftools {kind}", library_reason(kind))
        add_preload(library, env)
    folder = f"{prefix}.{os.path.basename(cmd[0])}"
    os.makedirs(folder, exist_ok=True)
    # the first N no earlier run used: a profile, its log or (heap) its numbered dumps
    entries = os.listdir(folder)
    n = 0
    while any(e == f"gperf.{n}" or e.startswith(f"gperf.{n}.") for e in entries):
        n += 1
    fname = os.path.join(folder, f"gperf.{n}")
    env.update(variables)
    env[profile_variable] = fname
    echo(f"[timemory]> gperftools {kind}: running {cmd}, profile {fname}", sys.stderr)
    status = execute(cmd, f"{fname}.log", env=env)
    if status != 0:
        echo(
            f"[timemory]> {cmd[0]} exited with status {status} (output in {fname}.log)", sys.stderr
        )
    if post is not None and list(post.get("generate", ())):
        if find_pprof() is None:
            echo(
                f"[timemory]> {fname}: not post-processed: no {' or '.join(_PPROF)} in PATH",
                sys.stderr,
            )
        elif os.path.exists(fname):
            post_process(cmd[0], fname, **post)
    return fname
