"""Small-cell suppression for tables shown outside the team (THREATS 41): a pure function over a table of counts.

Every count from 1 to ``threshold - 1`` is hidden ("primary"). Hiding one cell is not enough when the row or column
total is printed, so more cells are hidden ("complementary"): in each row and column that hides anything, at least
two cells, the smallest others first; then an exact check looks for any hidden cell whose value the published
figures still pin down, and hides more until none is left.

The exact check. Print the table with its totals as one grid ``z`` in which every row and every column sums to
zero (cells as they are, row and column totals negated, the grand total as it is). A reader who knows the printed
numbers, that "<5" means 1 to 4 and that a complementary mark means 5 or more, can change hidden values only by
moves that keep every printed row and column sum: integer circulations on the bipartite graph whose nodes are the
rows and columns and whose edges are the hidden cells (a row or column without a printed total constrains nothing,
so all of those are one "ground" node). Such a graph's constraint matrix is totally unimodular, so a hidden cell
can take another value if and only if a single cycle of +1/-1 steps through it stays within every bound: a search
in the residual graph, exact for integers, and fast for tables of any size we print.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

THRESHOLD = 5
PRIMARY = "primary"
COMPLEMENT = "complement"

Position = tuple[int, int]  # (row, column) in the extended grid: row R is the column totals, column C the row totals
_GROUND = ("ground", 0)


@dataclass
class Grid:
    """A table of counts and which totals are printed beside it. Positions ``(i, C)`` are row totals, ``(R, j)``
    column totals and ``(R, C)`` the grand total (printed only when both kinds of total are)."""

    cells: list[list[int]]
    row_totals: bool = True
    col_totals: bool = True

    def __post_init__(self):
        self.cells = [[int(v) for v in row] for row in self.cells]
        widths = {len(row) for row in self.cells}
        if len(widths) > 1:
            raise ValueError("every row needs the same number of cells")
        if any(v < 0 for row in self.cells for v in row):
            raise ValueError("counts cannot be negative")
        self.R = len(self.cells)
        self.C = widths.pop() if widths else 0

    @property
    def grand_total(self) -> bool:
        return self.row_totals and self.col_totals

    def value(self, p: Position) -> int:
        i, j = p
        if i < self.R and j < self.C:
            return self.cells[i][j]
        if i < self.R:
            return sum(self.cells[i])
        if j < self.C:
            return sum(row[j] for row in self.cells)
        return sum(map(sum, self.cells))

    def positions(self) -> list[Position]:
        out = [(i, j) for i in range(self.R) for j in range(self.C)]
        if self.row_totals:
            out += [(i, self.C) for i in range(self.R)]
        if self.col_totals:
            out += [(self.R, j) for j in range(self.C)]
        if self.grand_total:
            out.append((self.R, self.C))
        return out

    def _row_line(self, i: int) -> bool:
        """Whether row ``i`` of the extended grid is a printed sum (a constraint a reader can use)."""
        return self.row_totals if i < self.R else self.grand_total

    def _col_line(self, j: int) -> bool:
        return self.col_totals if j < self.C else self.grand_total

    def lines(self) -> list[list[Position]]:
        """Every printed sum, as the positions it ties together (the cells and their total)."""
        printed = set(self.positions())
        out = []
        for i in range(self.R + 1):
            if self._row_line(i):
                out.append([(i, j) for j in range(self.C + 1) if (i, j) in printed])
        for j in range(self.C + 1):
            if self._col_line(j):
                out.append([(i, j) for i in range(self.R + 1) if (i, j) in printed])
        return [line for line in out if len(line) > 1]

    def nodes(self, p: Position) -> tuple[tuple[str, int], tuple[str, int]]:
        """The row node and column node of a position in the circulation graph (ground when unconstrained)."""
        i, j = p
        return (("row", i) if self._row_line(i) else _GROUND, ("col", j) if self._col_line(j) else _GROUND)

    def sign(self, p: Position) -> int:
        """+1 where the grid z holds the value itself, -1 where it holds the negated total."""
        i, j = p
        return 1 if (i < self.R) == (j < self.C) else -1


@dataclass
class Suppression:
    grid: Grid
    marks: dict[Position, str] = field(default_factory=dict)
    threshold: int = THRESHOLD

    def hidden(self, p: Position) -> str | None:
        return self.marks.get(p)

    def bounds(self, p: Position) -> tuple[int, float]:
        """What a reader knows of a hidden value: 1 to threshold-1 for "<5", threshold or more otherwise."""
        if self.marks[p] == PRIMARY:
            return 1, self.threshold - 1
        return self.threshold, float("inf")

    def determined(self, p: Position) -> bool:
        """Whether the printed figures pin down hidden position ``p`` (see the module's docstring)."""
        grid = self.grid
        lo, hi = self.bounds(p)
        value = grid.value(p)
        row, col = grid.nodes(p)
        if row == col:
            return False  # in no printed sum at all (or only through ground): free within its bounds
        # z grows with the value where sign is +1; shrinking a negated total grows z.
        up, down = (value + 1 <= hi, value - 1 >= lo)
        z_up, z_down = (up, down) if grid.sign(p) > 0 else (down, up)
        # Increasing z_p is the edge col -> row, so a cycle needs a path row -> col (and the reverse for a decrease).
        if z_up and self._path(row, col, p):
            return False
        return not (z_down and self._path(col, row, p))

    def _path(self, start, goal, skip: Position) -> bool:
        edges: dict[tuple[str, int], list[tuple[str, int]]] = {}
        for q in self.marks:
            if q == skip:
                continue
            lo, hi = self.bounds(q)
            v = self.grid.value(q)
            up, down = v + 1 <= hi, v - 1 >= lo
            z_up, z_down = (up, down) if self.grid.sign(q) > 0 else (down, up)
            row, col = self.grid.nodes(q)
            if z_up:
                edges.setdefault(col, []).append(row)
            if z_down:
                edges.setdefault(row, []).append(col)
        seen, todo = {start}, deque([start])
        while todo:
            node = todo.popleft()
            if node == goal:
                return True
            for nxt in edges.get(node, ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    def exposed(self) -> list[Position]:
        """Hidden positions the printed figures still pin down (none, once ``suppress`` is done)."""
        return [p for p in self.marks if self.determined(p)]


def suppress(cells: Sequence[Sequence[int]], row_totals: bool = True, col_totals: bool = True,
             threshold: int = THRESHOLD, pinned: Iterable[Position] = (),
             already: Iterable[Position] = ()) -> Suppression:
    """Which positions of a table (and of its printed totals) to hide.

    ``pinned`` positions are printed elsewhere in the report (a grand total that is also the headline figure), so
    they are hidden only when they are small themselves, or as the very last resort. ``already`` positions are
    hidden because a linked table hides the same figure.
    """
    grid = Grid([list(r) for r in cells], row_totals, col_totals)
    pinned = set(pinned)
    result = Suppression(grid, threshold=threshold)
    printed = grid.positions()
    for p in printed:
        if 1 <= grid.value(p) < threshold:
            result.marks[p] = PRIMARY
    for p in already:
        if p in printed and p not in result.marks and grid.value(p) > 0:
            result.marks[p] = COMPLEMENT
    lines = grid.lines()
    by_position: dict[Position, list[list[Position]]] = {}
    for line in lines:
        for p in line:
            by_position.setdefault(p, []).append(line)

    def candidates(pool: Iterable[Position], allow_pinned: bool = False) -> list[Position]:
        return [q for q in pool if q not in result.marks and grid.value(q) >= threshold
                and (allow_pinned or q not in pinned)]

    def smallest(pool: list[Position]) -> Position:
        return min(pool, key=lambda q: (grid.value(q), q[0] >= grid.R or q[1] >= grid.C, q))

    while True:
        changed = False
        for line in lines:
            if sum(p in result.marks for p in line) == 1:
                pool = candidates(line)
                if pool:
                    result.marks[smallest(pool)] = COMPLEMENT
                    changed = True
        if changed:
            continue
        exposed = result.exposed()
        if not exposed:
            return result
        p = exposed[0]
        near = [q for line in by_position.get(p, []) for q in line]
        pool = candidates(near) or candidates(printed) or candidates(near, True) or candidates(printed, True)
        if not pool:
            return result  # everything that could be hidden is: nothing more to do
        result.marks[smallest(pool)] = COMPLEMENT


__all__ = ["COMPLEMENT", "PRIMARY", "THRESHOLD", "Grid", "Suppression", "suppress"]
