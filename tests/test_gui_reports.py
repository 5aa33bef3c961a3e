"""The monthly summary page through real widgets: build with progress, a preview drawn from the real PDF, a saved
copy that pdftotext reads, the scope a clerk may choose, and a refusal shown in place."""

from __future__ import annotations

import datetime as dt
import random
import subprocess

import pytest

from usalama_desktop import clock
from usalama_desktop.analysis.core import shift_month
from usalama_desktop.demo_data.observatory import incident_values
from usalama_desktop.services.records import RecordService

from .test_gui_shell import login_through_dialog, shell  # noqa: F401 (fixture)

pytestmark = pytest.mark.gui


@pytest.fixture
def last_month(env):
    """Seven incidents in the month just ended, recorded by the station's clerk."""
    month = shift_month(clock.today().isoformat()[:7], -1)
    clerk = env.login("clerk")
    rng = random.Random(3)
    svc = RecordService(clerk, "incident")
    for i in range(7):
        day = dt.date.fromisoformat(f"{month}-{1 + 3 * i:02d}")
        svc.create(incident_values(rng, "police_station", day, i + 1))
    clerk.close()
    return month


def open_reports(qtbot, shell, env, user):  # noqa: F811
    sh = shell(env.folder)
    sh.start()
    login_through_dialog(qtbot, sh, user=user)
    qtbot.waitUntil(lambda: sh.window is not None, timeout=10000)
    page = sh.window.show_page("reports")
    assert page is not None
    return sh, page


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def test_the_coordinator_previews_and_saves_the_month(qtbot, shell, env, last_month, tmp_path):  # noqa: F811
    sh, page = open_reports(qtbot, shell, env, "coord")
    assert page.month.currentData() == last_month
    assert page.scope_all.isEnabled() and page.scope_all.isChecked()
    page.with_xlsx.setChecked(True)
    page.build.click()
    qtbot.waitUntil(lambda: page.preview is not None, timeout=60000)
    assert len(page.page_labels) == len(page.preview.pages) >= 2
    pixmap = page.page_labels[0].pixmap()
    assert pixmap.width() > 600 and pixmap.height() > pixmap.width()  # an A4 page, upright
    assert "7" in page.status.text()
    assert page.save.isEnabled()

    target = tmp_path / "stick" / "summary"
    target.parent.mkdir()
    page.save_copy(str(target))
    qtbot.waitUntil(lambda: getattr(page, "last_saved", None) is not None, timeout=20000)
    pdf = target.with_suffix(".pdf")
    assert pdf.exists() and target.with_suffix(".xlsx").exists()
    assert not list(target.parent.glob("*.tmp"))
    text = pdf_text(pdf)
    assert "Kilimani" in text  # the forum's or station's name heads every page
    preview_folder = env.folder / "reports"
    assert oct(preview_folder.stat().st_mode & 0o777) == "0o700"
    assert list(preview_folder.iterdir()) == []  # the report was read into memory and removed
    sh.window.tasks.wait_idle()


def test_a_clerk_reports_on_their_own_agency_only(qtbot, shell, env, last_month):  # noqa: F811
    sh, page = open_reports(qtbot, shell, env, "clerk")
    assert not page.scope_all.isEnabled()
    assert page.scope_own.isChecked()
    assert page.options()[1] == "agency"
    sh.window.tasks.wait_idle()


def test_saving_to_a_folder_that_is_not_there_says_so(qtbot, shell, env, last_month, tmp_path):  # noqa: F811
    sh, page = open_reports(qtbot, shell, env, "coord")
    page.lang.setCurrentIndex(page.lang.findData("sw"))
    page.audience.setCurrentIndex(page.audience.findData("forum"))
    page.build.click()
    qtbot.waitUntil(lambda: page.preview is not None, timeout=60000)
    page.save_copy(str(tmp_path / "no such stick" / "summary.pdf"))
    qtbot.waitUntil(lambda: "could not be saved" in page.status.text(), timeout=20000)
    assert page.build.isEnabled()
    sh.window.tasks.wait_idle()


def test_cancelling_leaves_no_report_and_the_page_ready(qtbot, shell, env, last_month):  # noqa: F811
    sh, page = open_reports(qtbot, shell, env, "coord")
    page.build.click()
    sh.window.tasks.active_token.cancel()
    qtbot.waitUntil(lambda: page.build.isEnabled(), timeout=60000)
    sh.window.tasks.wait_idle()
    assert page.preview is None and not page.save.isEnabled()
    assert "Stopped" in page.status.text()
    folder = env.folder / "reports"
    assert not folder.exists() or list(folder.iterdir()) == []
