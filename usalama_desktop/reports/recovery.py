"""The recovery key sheet: printed once at set-up, kept locked away."""

from __future__ import annotations

from pathlib import Path

from .. import clock
from ..fsutil import atomic_writer
from ..i18n import _


def recovery_key_pdf(path: Path, recovery_key: str, agency_name: str, installation_id: str) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    with atomic_writer(Path(path)) as f:
        c = canvas.Canvas(f, pagesize=A4, invariant=1)
        c.setTitle(_("Usalama Desktop recovery key"))
        width, height = A4
        y = height - 30 * mm
        c.setFont("Helvetica-Bold", 18)
        c.drawString(20 * mm, y, _("Usalama Desktop recovery key"))
        y -= 12 * mm
        c.setFont("Helvetica", 11)
        for line in (
            _("Agency: {name}").format(name=agency_name),
            _("Installation: {id}").format(id=installation_id),
            _("Printed: {date}").format(date=clock.today().isoformat()),
        ):
            c.drawString(20 * mm, y, line)
            y -= 7 * mm
        y -= 8 * mm
        c.setFont("Courier-Bold", 15)
        groups = recovery_key.split("-")
        for i in range(0, len(groups), 5):
            c.drawString(20 * mm, y, "  ".join(groups[i : i + 5]))
            y -= 10 * mm
        y -= 6 * mm
        c.setFont("Helvetica", 10)
        for line in (
            _("This key opens all records of this installation if every password is lost."),
            _("Keep it locked away, apart from the computer. Anyone holding it can read the records."),
            _("Using it is written in the audit trail."),
        ):
            c.drawString(20 * mm, y, line)
            y -= 6 * mm
        c.showPage()
        c.save()
