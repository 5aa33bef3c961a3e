"""Bulk work runs with Python's cyclic garbage collector paused (bulkwork.py): it is off while an Excel import, a
bundle export or a bundle import runs, and on again afterwards however the work ended, with any cyclic garbage made
meanwhile cleared."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest

from usalama_desktop.bulkwork import collection_paused
from usalama_desktop.errors import ImportRejected
from usalama_desktop.io import importer as excel_importer
from usalama_desktop.io.importer import import_file
from usalama_desktop.sync import keys
from usalama_desktop.sync.export import _Lines, export_bundle
from usalama_desktop.sync.importer import import_bundle
from usalama_desktop.sync.merge import Merger

from .test_import_template import fill, incident_row
from .test_sync_support import add_incidents, enrol_both, stick_fixture  # noqa: F401 (fixture)


@pytest.fixture(autouse=True)
def _collector_on():
    assert gc.isenabled()
    yield
    gc.enable()


class _Node:
    pass


def test_collection_is_off_inside_and_back_on_after_with_cycles_cleared():
    with collection_paused():
        assert not gc.isenabled()
        node = _Node()
        node.me = node  # a cycle: only the collector can free it
        ref = weakref.ref(node)
        del node
        assert ref() is not None
    assert gc.isenabled()
    assert ref() is None


def test_an_error_in_the_block_switches_collection_back_on():
    with pytest.raises(ValueError), collection_paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_nested_and_overlapping_blocks_end_with_the_last():
    entered, leave = threading.Event(), threading.Event()

    def other() -> None:
        with collection_paused():
            entered.set()
            leave.wait(10)

    with collection_paused():
        with collection_paused():
            pass
        assert not gc.isenabled()  # the inner block ended, the outer one runs
        worker = threading.Thread(target=other)
        worker.start()
        assert entered.wait(10)
    assert not gc.isenabled()  # the other thread's block still runs
    leave.set()
    worker.join(10)
    assert gc.isenabled()


def test_collection_left_off_by_the_program_stays_off():
    gc.disable()
    with collection_paused():
        pass
    assert not gc.isenabled()


def _spy(monkeypatch, cls, name: str) -> list[bool]:
    """Whether collection was on each time ``cls.name`` ran."""
    seen: list[bool] = []
    original = getattr(cls, name)

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return original(*args, **kwargs)

    monkeypatch.setattr(cls, name, spy)
    return seen


def test_an_excel_import_runs_paused_and_ends_with_collection_on(env, tmp_path, monkeypatch):
    admin = env.login("admin")
    seen = _spy(monkeypatch, excel_importer.Importer, "read_rows")
    report = import_file(admin, "incident", fill(tmp_path / "ok.xlsx", [incident_row("OB 1/2024")]))
    assert report.imported == 1 and seen == [False] and gc.isenabled()
    (tmp_path / "junk.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(ImportRejected):
        import_file(admin, "incident", tmp_path / "junk.xlsx")
    assert gc.isenabled()


def test_a_bundle_export_and_import_run_paused_and_end_with_collection_on(make_env, stick, monkeypatch):
    station = make_env("police_station", "station").login("admin")
    coord = make_env("community_safety_forum", "coordinator").login("admin")
    enrol_both(station, coord)
    add_incidents(station, 5)
    exported = _spy(monkeypatch, _Lines, "__iter__")
    merged = _spy(monkeypatch, Merger, "flush")
    bundle = export_bundle(station, stick, keys.find_peer(station, coord.installation_id), full=True).path
    assert exported == [False] and gc.isenabled()
    assert import_bundle(coord, bundle).stats.new == 5
    assert merged and not any(merged) and gc.isenabled()
