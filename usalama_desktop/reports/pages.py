"""Page furniture shared by the PDFs that run to several pages: a running head and foot, and "Page n of N"."""

from __future__ import annotations

from ..i18n import _


def numbered_canvas(foot: str, head: str = "", foot_mm: float = 10) -> tuple[type, dict[str, int]]:
    """A reportlab canvas class for ``doc.build(story, canvasmaker=...)`` that holds the pages back until the end so
    each one can say "Page n of N", with ``foot`` bottom left and ``head`` (if any) top left of every A4 page; and a
    dict whose "n" holds the number of pages once the document is built."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    pages = {"n": 0}

    class NumberedCanvas(canvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):  # noqa: N802 (reportlab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = pages["n"] = len(self._pages)
            for number, state in enumerate(self._pages, 1):
                self.__dict__.update(state)
                self.setFont("Helvetica", 8)
                if head:
                    self.drawString(20 * mm, A4[1] - 12 * mm, head)
                self.drawString(20 * mm, foot_mm * mm, foot)
                self.drawRightString(A4[0] - 20 * mm, foot_mm * mm,
                                     _("Page {n} of {total}").format(n=number, total=total))
                super().showPage()
            super().save()

    return NumberedCanvas, pages
