"""A record list that opens as fast at a million records as at a hundred (Anki's browser model, keyset paging).

The model never loads the table: it holds the rows fetched so far, page by page, each page asked for after the
last (sort value, rid) seen. Pages and the total count are fetched on the database worker and inserted when they
arrive, so scrolling never waits on the disk.
"""

from __future__ import annotations

from dataclasses import replace

from ..forms.fields import PLACE
from ..i18n import _
from ..services.records import PAGE_SIZE, Query, RecordService
from .qt import QAbstractTableModel, QModelIndex, Qt, Signal

ID_ROLE = Qt.ItemDataRole.UserRole + 1


_ROOT = QModelIndex()  # Qt's "no parent": the list is flat


class RecordListModel(QAbstractTableModel):
    count_changed = Signal(int)
    loading_changed = Signal(bool)
    failed = Signal(object)

    def __init__(self, service: RecordService, tasks, agencies: dict[str, str] | None = None, parent=None):
        super().__init__(parent)
        self.service = service
        self.tasks = tasks
        self.agencies = agencies or {}
        self.fields = [service.form.by_name[n] for n in service.list_columns()]
        self.show_agency = bool(agencies) and len(agencies) > 1
        self.rows: list[dict] = []
        self.display: list[list[str]] = []
        self.query = Query()
        self.next_key = None
        self.exhausted = True
        self.loading = False
        self.generation = 0
        self.total: int | None = None

    # --- shape --------------------------------------------------------------------------------------------------

    def rowCount(self, parent=_ROOT):  # noqa: N802 (Qt's name)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=_ROOT):  # noqa: N802
        return 0 if parent.isValid() else len(self.fields) + (1 if self.show_agency else 0)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        if section < len(self.fields):
            return self.fields[section].label.text()
        if self.show_agency and section == len(self.fields):
            return _("Agency")
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.rows) or index.column() >= self.columnCount():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display[index.row()][index.column()]
        if role == ID_ROLE:
            return self.rows[index.row()]["id"]
        return None

    def flags(self, index):
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def record_id(self, row: int) -> str | None:
        return self.rows[row]["id"] if 0 <= row < len(self.rows) else None

    # --- loading ------------------------------------------------------------------------------------------------

    def set_query(self, query: Query) -> None:
        self.generation += 1
        self.beginResetModel()
        self.query = query
        self.rows, self.display = [], []
        self.next_key = None
        self.exhausted = False
        self.loading = True  # so a view asking for more during the reset does not start a second first page
        self.total = None
        self.endResetModel()
        self._fetch()
        generation = self.generation
        q = replace(query)
        self.tasks.run(lambda: self.service.count(q), lambda n: self._counted(generation, n), self._failed)

    def refresh(self) -> None:
        self.set_query(self.query)

    def _counted(self, generation: int, n: int) -> None:
        if generation == self.generation:
            self.total = n
            self.count_changed.emit(n)

    def canFetchMore(self, parent=_ROOT):  # noqa: N802
        return not parent.isValid() and not self.exhausted and not self.loading

    def fetchMore(self, parent=_ROOT):  # noqa: N802
        if self.canFetchMore(parent):
            self._fetch()

    def _fetch(self) -> None:
        self.loading = True
        self.loading_changed.emit(True)
        generation, after, q = self.generation, self.next_key, replace(self.query)
        self.tasks.run(lambda: self.service.page(q, after=after, limit=PAGE_SIZE),
                       lambda page: self._arrived(generation, page), self._failed)

    def _arrived(self, generation: int, page) -> None:
        if generation != self.generation:
            return  # the filters changed while this page was on its way
        self.loading = False
        self.loading_changed.emit(False)
        self.next_key = page.next_key
        self.exhausted = page.next_key is None
        if not page.rows:
            return
        first = len(self.rows)
        self.beginInsertRows(QModelIndex(), first, first + len(page.rows) - 1)
        for row in page.rows:
            self.rows.append(row)
            self.display.append(self._render(row))
        self.endInsertRows()

    def _render(self, row: dict) -> list[str]:
        out = [f.display(row["values"].get(f.name)) for f in self.fields]
        if self.show_agency:
            out.append(self.agencies.get(row["agency_id"], ""))
        return out

    def _failed(self, error) -> None:
        self.loading = False
        self.loading_changed.emit(False)
        self.failed.emit(error)

    # --- sorting -------------------------------------------------------------------------------------------------

    def sort(self, column, order=Qt.SortOrder.AscendingOrder):
        if column < 0 or column >= len(self.fields):
            return
        f = self.fields[column]
        key = f"{f.name}_ward" if f.kind == PLACE else f.name
        if key not in self.service.sortable():
            return
        self.set_query(replace(self.query, sort=key, descending=order == Qt.SortOrder.DescendingOrder))
