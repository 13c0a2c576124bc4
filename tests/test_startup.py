"""The collector is held off during a command's start-up and back, minus start-up's objects, after."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from ribao.startup import defer_gc, end_startup


@pytest.fixture
def gc_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
    gc.unfreeze()
    (gc.enable if was else gc.disable)()


@pytest.mark.usefixtures("gc_restored")
def test_start_up_runs_without_the_collector_and_freezes_what_it_built() -> None:
    gc.enable()
    defer_gc()
    assert not gc.isenabled()
    built = [[] for _ in range(1000)]  # long-lived start-up objects (modules, classes)
    end_startup()
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(built)
    end_startup()  # a second call (a resumed run in the same process) changes nothing
    assert gc.isenabled()


@pytest.mark.usefixtures("gc_restored")
def test_a_collector_the_host_turned_off_stays_off() -> None:
    gc.disable()
    defer_gc()
    end_startup()
    assert not gc.isenabled()
    assert gc.get_freeze_count() == 0
