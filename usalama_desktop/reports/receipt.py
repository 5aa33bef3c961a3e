"""The printable receipt for an exported bundle, for the clerk's file: which bundle, to whom, how many records,
and the fingerprint that identifies the sender's key. It holds no record values."""

from __future__ import annotations

from pathlib import Path

from .. import clock
from ..fsutil import atomic_writer
from ..i18n import _
from ..permissions import require


def bundle_receipt_pdf(session, path: Path, result) -> Path:
    """``result`` is the ExportResult of a bundle that was written and verified."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    from ..forms import registry

    require(session.actor, "sync", "export")
    path = Path(path)
    with atomic_writer(path) as f:
        c = canvas.Canvas(f, pagesize=A4, invariant=1)
        c.setTitle(_("Exchange bundle receipt"))
        width, height = A4
        left = 20 * mm
        y = height - 25 * mm
        c.setFont("Helvetica-Bold", 17)
        c.drawString(left, y, _("Exchange bundle receipt"))
        y -= 11 * mm
        c.setFont("Helvetica", 10.5)
        rows = [
            (_("From"), result.sender_name),
            (_("To"), result.recipient.agency_name),
            (_("Bundle"), result.bundle_id),
            (_("Sequence number"), str(result.sequence)),
            (_("Created"), result.created_at.replace("T", " ")[:19] + " UTC"),
            (_("Profile"), result.profile + (" (" + _("full") + ")" if result.full else "")),
            (_("File"), result.path.name),
            (_("Size"), _("{n} bytes").format(n=result.size)),
            (_("Sender's key fingerprint"), result.sender_fingerprint),
            (_("Recipient's key fingerprint"), result.recipient.fingerprint),
            (_("Manifest SHA-256"), result.manifest_sha256),
            (_("Checked after writing"), _("yes: signature and checksums read back from the disk")),
        ]
        if result.skipped_sequences:
            rows.append((_("Earlier numbers never completed"), ", ".join(map(str, result.skipped_sequences))))
        for label, value in rows:
            c.setFont("Helvetica-Bold", 10.5)
            c.drawString(left, y, label)
            c.setFont("Courier" if label in (_("Bundle"), _("Manifest SHA-256")) else "Helvetica", 10)
            c.drawString(left + 55 * mm, y, str(value))
            y -= 6.5 * mm
        y -= 5 * mm
        c.setFont("Helvetica-Bold", 12)
        c.drawString(left, y, _("Records in the bundle"))
        y -= 7 * mm
        c.setFont("Helvetica-Bold", 10)
        c.drawString(left, y, _("Form"))
        c.drawRightString(left + 120 * mm, y, _("Records"))
        c.drawRightString(left + 160 * mm, y, _("of which deleted"))
        y -= 6 * mm
        c.setFont("Helvetica", 10)
        forms = registry.forms()
        for name, counts in sorted(result.counts.items()):
            if not counts["records"]:
                continue
            title = forms[name].title.text() if name in forms else name
            c.drawString(left, y, title)
            c.drawRightString(left + 120 * mm, y, str(counts["records"]))
            c.drawRightString(left + 160 * mm, y, str(counts["tombstones"]))
            y -= 6 * mm
        c.setFont("Helvetica-Bold", 10)
        c.drawString(left, y, _("Total"))
        c.drawRightString(left + 120 * mm, y, str(result.records))
        c.drawRightString(left + 160 * mm, y, str(result.tombstones))
        y -= 16 * mm
        c.setFont("Helvetica", 10)
        for line in (_("Handed over by: ______________________   Signature: ____________"),
                     _("Received by: _________________________   Signature: ____________"),
                     _("Date: ____________")):
            c.drawString(left, y, line)
            y -= 10 * mm
        c.setFont("Helvetica-Oblique", 8.5)
        c.drawString(left, 15 * mm, _("Printed {date} by Usalama Desktop. The bundle is encrypted for the recipient "
                                      "only; this receipt holds no record values.").format(date=clock.today()))
        c.showPage()
        c.save()
    return path
