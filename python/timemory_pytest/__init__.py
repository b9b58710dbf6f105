"""The pytest plugin of timemory (entry point ``pytest11: timemory``): its options.

pytest imports this module in every session of an environment where timemory is installed,
so it is a package of its own, outside ``timemory``: a session without ``--timemory`` loads
nothing of timemory (importing the ``timemory`` package would load its native core and
register its exit and fork hooks in every test session). With ``--timemory``,
``pytest_configure`` hands the session to :mod:`timemory.runs._pytest`, which profiles each
test into a run store (docs/guide/pytest.md).
"""

from __future__ import annotations

import pytest

__all__ = ["DEFAULT_COMPONENTS", "pytest_addoption", "pytest_configure"]

#: ``--timemory`` without a value
DEFAULT_COMPONENTS = "wall_clock"
#: the options that only mean something with ``--timemory``
_DEPENDENT = (
    "timemory_store",
    "timemory_code",
    "timemory_repeat",
    "timemory_compare",
    "timemory_fail_on",
    "timemory_min_effect",
    "timemory_alpha",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("timemory", "timemory: profile each test into a run store")
    # every value is taken as text and checked by pytest_configure: a bad one is then one
    # line (pytest's usage error) rather than argparse's usage block
    group.addoption(
        "--timemory",
        nargs="?",
        const=DEFAULT_COMPONENTS,
        default=None,
        metavar="COMPONENTS",
        help="profile the call phase of each test function with these components (a comma "
        f"list, default {DEFAULT_COMPONENTS}) into a run of the store",
    )
    group.addoption(
        "--timemory-store",
        default=None,
        metavar="DIR",
        help="the run store (default: timemory-runs in pytest's cache folder)",
    )
    group.addoption(
        "--timemory-code",
        default=None,
        metavar="CODE",
        help="the code identity of the runs: a version string, or git:PATH for the commit of "
        "a git work tree (default: git:<rootdir> in a git work tree, else none; '' for none)",
    )
    group.addoption(
        "--timemory-repeat",
        default=None,
        metavar="N",
        help="call each test function N times (default 1); fixtures are set up once",
    )
    group.addoption(
        "--timemory-compare",
        default=None,
        metavar="REF",
        help="compare each test with the runs of the same test whose code identity is REF "
        "(git:<commit> may be abbreviated), or with those of the store at path REF",
    )
    group.addoption(
        "--timemory-fail-on",
        default=None,
        metavar="slower|faster|change",
        help="with --timemory-compare: exit status 1 when a test is flagged so",
    )
    group.addoption(
        "--timemory-min-effect",
        default=None,
        metavar="X",
        help="the smallest change of a node that counts (0.05 or 5%%: the default)",
    )
    group.addoption(
        "--timemory-alpha",
        default=None,
        metavar="Q",
        help="the false discovery rate of the comparison (default 0.01)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("timemory", None) is None:
        given = [name for name in _DEPENDENT if config.getoption(name, None) is not None]
        if given:
            flag = "--" + given[0].replace("_", "-")
            raise pytest.UsageError(f"{flag} needs --timemory")
        return
    from timemory.runs import _pytest

    _pytest.configure(config)
