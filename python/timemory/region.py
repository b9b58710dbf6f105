"""The region API of timemory's C library: named regions started and stopped by key,
never throttled.

    from timemory import region

    region.push("load")
    data = load()
    region.pop("load")

    rid = region.begin("solve")      # a region owned by its id, not by its key
    solve(data)
    region.end(rid)

Regions nest as markers do (tree scope unless ``settings.flat_profile``), per thread. They
measure the current component set: ``TIMEMORY_COMPONENTS`` if set, else
``TIMEMORY_GLOBAL_COMPONENTS``, else ``wall_clock``; ``set_default``, ``add_components``,
``remove_components``, ``push_components`` and ``pop_components`` change it for the regions
started afterwards. ``pause()`` and ``resume()`` switch recording off and on
(``settings.enabled``), as the C library's do.
"""

from __future__ import annotations

import os
import warnings

from timemory import _core, settings
from timemory._components import resolve
from timemory._text import split_names

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: a native extension binding the C API imports this
    # module into the program it runs in (typing costs about 0.8 MiB and shows in a profile)
    from typing import Any

__all__ = [
    "add_components",
    "begin",
    "end",
    "pause",
    "pop",
    "pop_components",
    "push",
    "push_components",
    "remove_components",
    "resume",
    "set_default",
]

#: ``push(key)``: start a region named ``key`` (a str, or the int hash of one registered with
#: ``timemory.get_hash``) on this thread.
push = _core.region_push
#: ``pop(key)``: stop the newest region of ``key`` on this thread (nothing if none runs).
pop = _core.region_pop
#: ``begin(key) -> int``: start a region and return its id.
begin = _core.region_begin
#: ``end(id)``: stop the region ``begin`` returned ``id`` for (ValueError if none runs).
end = _core.region_end


def _resolve(components: Any) -> list[int]:
    """Enum indices of names (a list, or one comma-separated str), enum values or classes;
    ValueError naming the valid choices for an unknown name."""
    return resolve(components)


def _from_environment() -> list[int]:
    for variable in ("TIMEMORY_COMPONENTS", "TIMEMORY_GLOBAL_COMPONENTS"):
        names = split_names(os.environ.get(variable, ""))
        known = [n for n in names if _core.find_component(n) >= 0]
        for name in (n for n in names if n not in known):
            warnings.warn(
                f"ignoring unknown component {name!r} in {variable}",
                settings.TimemoryWarning,
                stacklevel=3,
            )
        if known:
            return _resolve(known)
    return _resolve(["wall_clock"])


# The component sets: the default at the bottom, push_components() on top; the regions use
# the top one.
_sets: list[list[int]] = [_from_environment()]


def _apply() -> None:
    _core.region_set_components(_sets[-1])


def set_default(components: Any) -> None:
    """Replace the default component set (in use unless a set was pushed)."""
    _sets[0] = _resolve(components)
    _apply()


def add_components(components: Any) -> None:
    """Add components to the set in use."""
    _sets[-1] = list(dict.fromkeys(_sets[-1] + _resolve(components)))
    _apply()


def remove_components(components: Any) -> None:
    """Remove components from the set in use."""
    removed = set(_resolve(components))
    _sets[-1] = [index for index in _sets[-1] if index not in removed]
    _apply()


def push_components(components: Any) -> None:
    """Use ``components`` until the matching ``pop_components()``."""
    _sets.append(_resolve(components))
    _apply()


def pop_components() -> None:
    """Go back to the set in use before the last ``push_components()`` (the default set
    stays when nothing was pushed)."""
    if len(_sets) > 1:
        _sets.pop()
        _apply()


def pause() -> None:
    """Stop recording (every region, marker and profiler) until ``resume()``."""
    settings.enabled = False


def resume() -> None:
    settings.enabled = True


_apply()
