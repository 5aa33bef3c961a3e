"""The monthly summary page: choose the month, whose data, the language and who will read it; the report is built
and its pages drawn on the worker (progress and Cancel), shown here as a preview, and saved where the coordinator
chooses.

Everything the report holds comes from ``reports.monthly.monthly_report``, the same call as ``usalama report
monthly``. The report is written in the installation's own private folder (never the system's temp folder), read
back into memory and removed at once, so no copy lingers beside the database; "Save a copy" writes the PDF, and the
workbook with it, where the user says.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import clock
from ..analysis import month_label
from ..analysis.core import shift_month
from ..errors import UsalamaError
from ..fsutil import atomic_write_bytes, private_dir
from ..i18n import _
from ..permissions import allowed, own_agency_only
from .qt import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QImage,
    QLabel,
    QPixmap,
    QPushButton,
    QRadioButton,
    QScrollArea,
    Qt,
    QVBoxLayout,
    QWidget,
)
from .widgets import ErrorLabel, heading

MONTHS_OFFERED = 36
PREVIEW_SCALE = 1.25  # 72 dpi x 1.25: an A4 page about 740 px wide, readable on a laptop screen
PREVIEW_NAME = "monthly-preview"


@dataclass
class Preview:
    """What the worker hands back: the report's result and each page drawn as 32-bit pixels."""

    result: object
    pages: list[tuple[bytes, int, int, int]]  # (pixels, width, height, bytes per line)
    options: tuple
    pdf: bytes
    xlsx: bytes | None


def render_pages(path: Path, scale: float = PREVIEW_SCALE, token=None) -> list[tuple[bytes, int, int, int]]:
    """Draw every page of a PDF with PDFium (on the worker: a QImage is made from the pixels on the GUI thread)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path.read_bytes())
    try:
        pages = []
        for n in range(len(pdf)):
            if token is not None:
                token.check()
            page = pdf[n]
            bitmap = page.render(scale=scale, prefer_bgrx=True)
            pages.append((bytes(bitmap.buffer), bitmap.width, bitmap.height, bitmap.stride))
            bitmap.close()
            page.close()
        return pages
    finally:
        pdf.close()


class ReportsPage(QWidget):
    def __init__(self, window):
        super().__init__()
        self.window = window
        self.session = window.session
        self.preview: Preview | None = None
        self.page_labels: list[QLabel] = []
        outer = QVBoxLayout(self)
        outer.addWidget(heading(_("Monthly summary")))
        intro = QLabel(_("The report for the Observatory Team meeting and the Safety Forum: choose the month and who "
                         "will read it, look at the preview, then save or print it."))
        intro.setWordWrap(True)
        outer.addWidget(intro)

        form = QFormLayout()
        self.month = QComboBox()
        this_month = clock.today().isoformat()[:7]
        for n in range(MONTHS_OFFERED):
            month = shift_month(this_month, -n)
            text = month_label(month)
            if n == 0:
                text = _("{month} (so far)").format(month=text)
            self.month.addItem(text, month)
        self.month.setCurrentIndex(1)  # the month just ended is the one a meeting reads
        form.addRow(_("Month"), self.month)

        self.scope_all = QRadioButton(_("All agencies (merged data)"))
        self.scope_own = QRadioButton(_("My agency only"))
        self.scope = QButtonGroup(self)
        for b in (self.scope_all, self.scope_own):
            self.scope.addButton(b)
        sees_all = not own_agency_only(self.session.actor)
        self.scope_all.setEnabled(sees_all)
        (self.scope_all if sees_all else self.scope_own).setChecked(True)
        form.addRow(_("Data"), _row(self.scope_all, self.scope_own))

        self.lang = QComboBox()
        self.lang.addItem("English", "en")
        self.lang.addItem("Kiswahili", "sw")
        form.addRow(_("Language"), self.lang)

        self.audience = QComboBox()
        self.audience.addItem(_("Observatory Team (exact counts)"), "team")
        self.audience.addItem(_("Safety Forum (counts under 5 hidden)"), "forum")
        form.addRow(_("Readers"), self.audience)

        self.with_xlsx = QCheckBox(_("Also the tables as an Excel workbook"))
        form.addRow("", self.with_xlsx)
        outer.addLayout(form)

        self.build = QPushButton(_("Make the report"))
        self.build.setDefault(True)
        self.build.clicked.connect(self.make)
        self.save = QPushButton(_("Save a copy…"))
        self.save.setEnabled(False)
        self.save.clicked.connect(self.save_copy)
        outer.addWidget(_row(self.build, self.save))
        self.status = ErrorLabel()
        outer.addWidget(self.status)

        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.pages_box = QWidget()
        self.pages_layout = QVBoxLayout(self.pages_box)
        self.pages_layout.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.scroll.setWidget(self.pages_box)
        outer.addWidget(self.scroll, 1)
        self.can_save = allowed(self.session.actor, "reports", "export")

    # --- building ------------------------------------------------------------------------------------------------

    def options(self) -> tuple[str, str, str, str, bool]:
        scope = "all" if self.scope_all.isChecked() else "agency"
        return (self.month.currentData(), scope, self.lang.currentData(), self.audience.currentData(),
                self.with_xlsx.isChecked())

    def _folder(self) -> Path:
        return self.session.installation.paths.root / "reports"

    def make(self) -> None:
        from ..reports.monthly import monthly_report

        month, scope, lang, audience, xlsx = options = self.options()
        folder = self._folder()
        session = self.session
        self.status.show_message("")
        self.build.setEnabled(False)

        def job(token):
            private_dir(folder)
            out = folder / f"{PREVIEW_NAME}.pdf"
            book = folder / f"{PREVIEW_NAME}.xlsx" if xlsx else None
            try:
                result = monthly_report(session, month, out=out, scope=scope, lang=lang, audience=audience,
                                        xlsx=book, token=token)
                token.progress(0, 0, _("Drawing the pages…"))
                pages = render_pages(out, token=token)
                return Preview(result, pages, options, out.read_bytes(), book.read_bytes() if book else None)
            finally:
                for made in (out, book):
                    if made is not None:
                        made.unlink(missing_ok=True)

        self.window.tasks.run_with_progress(self, _("Making the monthly summary…"), job, self._shown, self._failed)

    def _shown(self, preview: Preview) -> None:
        self.build.setEnabled(True)
        self.preview = preview
        for label in self.page_labels:
            self.pages_layout.removeWidget(label)
            label.deleteLater()
        self.page_labels = []
        for pixels, width, height, stride in preview.pages:
            image = QImage(pixels, width, height, stride, QImage.Format.Format_RGB32).copy()
            label = QLabel()
            label.setPixmap(QPixmap.fromImage(image))
            label.setFrameShape(QLabel.Shape.Box)
            self.pages_layout.addWidget(label)
            self.page_labels.append(label)
        result = preview.result
        missing = list(getattr(result, "missing_agencies", []) or [])
        text = _("{pages} pages, {n} incidents this month.").format(pages=len(preview.pages),
                                                                   n=getattr(result, "incidents", 0))
        if missing:
            text += " " + _("No data this month from: {names}.").format(names=", ".join(missing))
        self.status.show_message(text, warning=True)
        self.save.setEnabled(self.can_save)

    def _failed(self, error: BaseException) -> None:
        self.build.setEnabled(True)
        if isinstance(error, UsalamaError):
            self.status.show_message(str(error))
        else:
            from .tasks import report_error

            report_error(error)

    # --- saving --------------------------------------------------------------------------------------------------

    def suggested_name(self) -> str:
        month, scope, lang, audience, _x = self.preview.options if self.preview else self.options()
        return f"usalama-monthly-{month}-{scope}-{audience}-{lang}.pdf"

    def save_copy(self, path: str | None = None) -> None:
        if self.preview is None:
            return
        if not path:
            path, _filter = QFileDialog.getSaveFileName(self, _("Save the monthly summary"), self.suggested_name(),
                                                        _("PDF files (*.pdf)"))
        if not path:
            return
        target = Path(path)
        if target.suffix.lower() != ".pdf":
            target = target.with_suffix(".pdf")
        preview = self.preview

        def job(token):
            written = [_save(preview.pdf, target)]
            if preview.xlsx is not None:
                written.append(_save(preview.xlsx, target.with_suffix(".xlsx")))
            token.check()
            return written

        def done(written):
            self.last_saved = written
            self.status.show_message(_("Saved: {paths}").format(paths=", ".join(str(p) for p in written)),
                                     warning=True)

        self.window.tasks.run_with_progress(self, _("Saving…"), job, done, self._failed)

    def closeEvent(self, event):  # noqa: N802 (Qt)
        self.preview = None
        super().closeEvent(event)


def _save(data: bytes, target: Path) -> Path:
    """Write through a temporary name beside the target, so a stick pulled out never leaves half a report."""
    try:
        atomic_write_bytes(target, data)
    except OSError as exc:
        raise UsalamaError(_("The report could not be saved there ({reason}). Choose another folder or "
                             "check the USB stick.").format(reason=exc.strerror or exc.__class__.__name__)) from exc
    return target


def _row(*widgets: QWidget) -> QWidget:
    """Widgets side by side, to the left (``widgets.button_row`` puts buttons to the right)."""
    box = QWidget()
    layout = QHBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    for w in widgets:
        layout.addWidget(w)
    layout.addStretch(1)
    return box
