"""The exchange page through real widgets: send with progress and a receipt, import a whole stick, the submissions
tracker, conflict review, enrolling and revoking cards, and what each role sees."""

from __future__ import annotations

import subprocess

import pytest

from usalama_desktop.services.records import RecordService
from usalama_desktop.store.ids import uuid7
from usalama_desktop.sync import keys, pipeline
from usalama_desktop.sync.importer import import_bundle

from .test_gui_shell import login_through_dialog, shell  # noqa: F401 (fixture)
from .test_sync_merge import BASE_MS, incident_values
from .test_sync_support import add_incidents, craft, doc, enrol_both

pytestmark = pytest.mark.gui


@pytest.fixture
def two(make_env):
    agency_env = make_env("police_station", "agency")
    coord_env = make_env("community_safety_forum", "coord")
    a, c = agency_env.login("admin"), coord_env.login("admin")
    enrol_both(a, c)
    add_incidents(a, 3)
    a.close()
    c.close()
    return agency_env, coord_env


@pytest.fixture
def open_page(qtbot, shell):  # noqa: F811
    def open_as(env, user="admin"):
        sh = shell(env.folder)
        sh.start()
        login_through_dialog(qtbot, sh, user=user)
        qtbot.waitUntil(lambda: sh.window is not None, timeout=10000)
        page = sh.window.show_page("exchange")
        sh.window.tasks.wait_idle()
        return sh, page

    return open_as


def test_the_agency_sends_a_bundle_and_prints_a_receipt(qtbot, open_page, two, tmp_path):
    agency_env, _coord_env = two
    sh, page = open_page(agency_env)
    send = page.send
    qtbot.waitUntil(lambda: send.recipient.count() == 1, timeout=10000)
    assert "Kilimani Community Safety Forum" in send.recipient.currentText()
    stick = tmp_path / "stick"
    stick.mkdir()
    send.write.click()
    assert "Choose the USB stick" in send.status.text()
    send.folder.setText(str(stick))
    send.write.click()
    qtbot.waitUntil(lambda: send.last_result is not None, timeout=20000)
    assert "written and verified: 3 records" in send.status.text()
    assert len(list(stick.glob("*.usalama-bundle"))) == 1
    qtbot.waitUntil(lambda: send.sent.rowCount() == 1, timeout=10000)
    assert send.receipt.isEnabled()
    send.print_receipt(str(tmp_path / "receipt.pdf"))
    sh.window.tasks.wait_idle()
    qtbot.waitUntil(lambda: "Receipt saved" in send.status.text(), timeout=10000)
    text = subprocess.run(["pdftotext", str(tmp_path / "receipt.pdf"), "-"], capture_output=True, text=True).stdout
    assert send.last_result.bundle_id in text


@pytest.mark.parametrize("helper", [False, True], ids=["inline", "helper"])
def test_the_coordinator_imports_a_stick_and_sees_submissions(qtbot, open_page, two, tmp_path, monkeypatch, helper):
    """Also with the records checked by the helper process (sync/pipeline.py), started from the GUI's worker."""
    agency_env, coord_env = two
    if helper:
        monkeypatch.setattr(pipeline, "PIPELINE_MIN_RECORDS", 0)
    from usalama_desktop.sync.export import export_bundle

    stick = tmp_path / "stick"
    stick.mkdir()
    a = agency_env.login("admin")
    export_bundle(a, stick)
    broken = stick / "broken.usalama-bundle"
    broken.write_bytes(next(stick.glob("kilimani*.usalama-bundle")).read_bytes()[:500])
    a.close()
    sh, page = open_page(coord_env)
    receive = page.receive
    receive.import_paths([stick])
    qtbot.waitUntil(lambda: receive.table.rowCount() == 2, timeout=20000)
    results = {receive.table.item(i, 0).text(): receive.table.item(i, 1).text() for i in range(2)}
    assert results["broken.usalama-bundle"] == "refused"
    assert "1 imported, 1 refused" in receive.summary.text()
    subs = page.submissions
    qtbot.waitUntil(lambda: subs.table.rowCount() == 1 and subs.table.item(0, 1).text() == "1", timeout=10000)
    assert subs.table.item(0, 0).text() == "Kilimani Police Station"
    qtbot.waitUntil(lambda: subs.refused.rowCount() == 1, timeout=10000)
    assert "incomplete" in subs.refused.item(0, 2).text()
    s = sh.window.session
    assert RecordService(s, "incident").count() == 3


def test_conflicts_are_reviewed_on_the_page(qtbot, open_page, two, tmp_path):
    agency_env, coord_env = two
    a, c = agency_env.login("admin"), coord_env.login("admin")
    record, fork = uuid7(), uuid7()
    first = doc(a, incident_values("investigation"), record_id=record, hlc_ms=BASE_MS)
    other = doc(a, incident_values("closed"), record_id=record, hlc_ms=BASE_MS + 5, installation=fork,
                vclock={fork: 1})
    import_bundle(c, craft(a, c, [first, other], tmp_path / "c.usalama-bundle"))
    a.close()
    c.close()
    _sh, page = open_page(coord_env)
    tab = page.conflicts
    qtbot.waitUntil(lambda: tab.table.rowCount() == 1, timeout=10000)
    qtbot.waitUntil(lambda: tab.details.rowCount() >= 1, timeout=10000)
    assert not tab.keep_other.isEnabled()  # another agency's record: review only
    assert tab.keep_current.text() == "Mark as reviewed"
    tab.keep_current.click()
    qtbot.waitUntil(lambda: "reviewed" in tab.status.text(), timeout=10000)
    qtbot.waitUntil(lambda: tab.table.rowCount() == 1 and tab.table.item(0, 2).text() == "reviewed", timeout=10000)


def test_cards_are_saved_enrolled_and_revoked(qtbot, open_page, make_env, tmp_path):
    coord_env = make_env("community_safety_forum", "coord")
    chief_env = make_env("chief_office", "chief")
    chief = chief_env.login("admin")
    card_path, _pub = keys.write_card(chief, tmp_path)
    card = keys.local_card(chief)
    chief.close()
    sh, page = open_page(coord_env)
    cards = page.cards
    qtbot.waitUntil(lambda: "Fingerprint to read aloud" in cards.own.text(), timeout=10000)
    cards.enrol(str(card_path), "11111 11111 11111 11111 11111 11111")
    qtbot.waitUntil(lambda: "does not match" in cards.status.text(), timeout=10000)
    cards.enrol(str(card_path), card["fingerprint"], relay=False)
    qtbot.waitUntil(lambda: cards.table.rowCount() == 1, timeout=10000)
    assert cards.table.item(0, 3).text() == "active"
    cards.table.selectRow(0)
    cards.revoke("laptop stolen")
    qtbot.waitUntil(lambda: cards.table.item(0, 3).text().startswith("revoked"), timeout=10000)
    cards.save_card(str(tmp_path))
    qtbot.waitUntil(lambda: "Card saved" in cards.status.text(), timeout=10000)
    assert (tmp_path / "kilimani-community-safety-forum.card.json").exists()


def test_a_clerk_sends_but_does_not_receive(qtbot, open_page, two):
    agency_env, _coord_env = two
    _sh, page = open_page(agency_env, user="clerk")
    assert page.send is not None and page.receive is None and page.conflicts is None
    assert [page.tabs.tabText(i) for i in range(page.tabs.count())] == ["Send", "Agency cards"]
