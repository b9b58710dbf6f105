"""Python-defined components in Dask tasks: measured in the workers (which register the classes
in slots of their own), merged beneath the client's submitting call path by their ``combine``
rule. The merged values are read from the native views of what the client collected."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("distributed")

import timemory.dask as tdask  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402
from timemory import _core  # noqa: E402
from timemory._workers import data_indices  # noqa: E402
from timemory.bundle import marker  # noqa: E402
from timemory.component import Base, register  # noqa: E402
from timemory.storage import exchange, local_payload  # noqa: E402

# per thread: a threads cluster runs the tasks in the client's process, beside its own marker
LEVEL = threading.local()


def level() -> float:
    return getattr(LEVEL, "value", 0.0)


class DaskPeak(Base):
    label = "dask_peak"
    combine = "max"

    def sample(self):
        return level()


class DaskTotal(Base):
    label = "dask_total"
    combine = "sum"

    def sample(self):
        return level()


class DaskLow(Base):
    label = "dask_low"
    combine = "min"
    names = ("level", "negated")

    def sample(self):
        return (level(), -level())


ORDER = [DaskPeak, DaskTotal, DaskLow]


def work(x: int) -> int:
    LEVEL.value = float(x)  # what the task's components read at its stop
    return x


def _local_client(processes: bool):
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=processes, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def process_client():
    yield from _local_client(processes=True)


@pytest.fixture(scope="module")
def threads_client():
    yield from _local_client(processes=False)


def _merged(cls: type[Base]) -> dict[str, tuple[int, list[float], int]]:
    procs = exchange(local_payload(data_indices(), ["flat"]))
    n = max(1, len(cls.names))
    flat = _core.merge_packed_flat(cls._index, procs.packed(cls._index, "flat"))
    return {
        flat.label(i): (flat.laps(i), flat.entry(i).entry.accum[:n], flat.depth(i))
        for i in range(len(flat))
    }


def _run(client: Client) -> None:
    # the client's slots in the opposite order of the workers' (the plugin's list)
    for cls in reversed(ORDER):
        register(cls)
    for cls in ORDER:
        _core.clear(cls._index)
    LEVEL.value = 0.25
    with tdask.profile(client, components=["wall_clock", *ORDER]) as p:
        with marker(ORDER, key="solve"):
            assert client.gather(client.map(work, range(1, 13))) == list(range(1, 13))
    assert not p.failed


@pytest.mark.parametrize("cluster", ["process_client", "threads_client"])
def test_tasks_merge_beneath_the_submitting_path_by_the_rule(cluster, request):
    client = request.getfixturevalue(cluster)
    _run(client)
    peak, total, low = (_merged(cls) for cls in ORDER)
    assert peak["solve"] == (1, [0.25], 0)
    assert peak["work"] == (12, [12.0], 1)
    assert total["work"] == (12, [78.0], 1)
    assert low["work"] == (12, [1.0, -12.0], 1)
    if cluster == "process_client":
        # the workers gave the classes other slots than the client
        slots = client.run(lambda: {c.label: c._index for c in ORDER})
        assert all(s != {c.label: c._index for c in ORDER} for s in slots.values())
    for cls in ORDER:
        _core.clear(cls._index)
