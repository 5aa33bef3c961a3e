"""Small-cell suppression (THREATS 41): every count from 1 to 4 hidden, and no hidden cell recoverable from the
printed cells and totals, checked by brute force (every table a reader could believe) and by linear algebra."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from usalama_desktop.analysis.suppression import COMPLEMENT, PRIMARY, Grid, Suppression, suppress


def _bounds(kind: str, cap: int) -> range:
    return range(1, 5) if kind == PRIMARY else range(5, cap + 1)


def possible_values(result: Suppression) -> dict[tuple[int, int], set[int]]:
    """Every value each hidden position takes among all tables consistent with what is printed: printed cells and
    totals as they are, "<5" cells 1-4, complementary ones 5 or more. Enumerates the hidden cells row by row."""
    grid = result.grid
    R, C = grid.R, grid.C
    cap = grid.value((R, C)) + 8
    printed = {p: grid.value(p) for p in grid.positions() if p not in result.marks}
    hidden_cells = [(i, j) for i in range(R) for j in range(C) if (i, j) in result.marks]
    found: dict[tuple[int, int], set[int]] = {p: set() for p in result.marks}
    base = [[printed.get((i, j), 0) for j in range(C)] for i in range(R)]
    # Tables a reader could believe are searched near the true one: if any other table fits what is printed, one
    # fits with every count moved by at most one (the difference of two fitting tables splits into +1/-1 cycles,
    # each fitting on its own), so a window of two either side finds every hidden figure that is not pinned down.
    def window(p):
        lo, hi = (1, 4) if result.marks[p] == PRIMARY else (5, cap)
        v = grid.value(p)
        return range(max(lo, v - 2), min(hi, v + 2) + 1)

    def ok_total(p, value) -> bool:
        if p not in grid.positions():
            return True
        if p in printed:
            return printed[p] == value
        return value in _bounds(result.marks[p], cap) or (result.marks[p] == COMPLEMENT and value > cap)

    def rows(i: int, table: list[list[int]]):
        if i == R:
            cols = [sum(table[r][j] for r in range(R)) for j in range(C)]
            if not all(ok_total((R, j), cols[j]) for j in range(C)):
                return
            if grid.grand_total and not ok_total((R, C), sum(cols)):
                return
            for p in found:
                if p[0] < R and p[1] < C:
                    found[p].add(table[p[0]][p[1]])
                elif p[1] == C and p[0] < R:
                    found[p].add(sum(table[p[0]]))
                elif p[0] == R and p[1] < C:
                    found[p].add(cols[p[1]])
                else:
                    found[p].add(sum(cols))
            return
        mine = [p for p in hidden_cells if p[0] == i]
        for combo in itertools.product(*(window(p) for p in mine)):
            row = list(base[i])
            for (_i, j), v in zip(mine, combo, strict=True):
                row[j] = v
            if not ok_total((i, C), sum(row)):
                continue
            partial = [sum(table[r][j] for r in range(i)) + row[j] for j in range(C)]
            if grid.col_totals and any((R, j) in printed and partial[j] > printed[(R, j)] for j in range(C)):
                continue
            rows(i + 1, [*table[:i], row, *table[i + 1:]])

    rows(0, [list(r) for r in base])
    return found


def assert_protected(result: Suppression) -> None:
    grid = result.grid
    for p in grid.positions():
        if 1 <= grid.value(p) <= 4:
            assert result.marks.get(p) == PRIMARY, p
    for p, values in possible_values(result).items():
        assert grid.value(p) in values
        assert len(values) >= 2, f"hidden {p} = {grid.value(p)} can be worked out: {result.marks}"


def test_a_single_small_cell_is_hidden_with_a_partner_in_its_row_and_column():
    result = suppress([[3, 20, 30], [12, 15, 40]])
    assert result.marks[(0, 0)] == PRIMARY
    assert result.marks[(0, 1)] == COMPLEMENT  # the smallest other cell of the row
    assert result.marks[(1, 0)] == COMPLEMENT  # the smallest other cell of the column
    assert result.marks[(1, 1)] == COMPLEMENT  # closes the rectangle
    assert (0, 3) not in result.marks and (2, 0) not in result.marks and (2, 3) not in result.marks
    assert_protected(result)


def test_two_ones_in_a_row_are_not_enough_when_the_total_says_two():
    # 1 + 1 + 30 = 32: hiding both ones still gives them away (two numbers from 1 to 4 summing to 2).
    result = suppress([[1, 1, 30]], col_totals=False)
    assert result.marks == {(0, 0): PRIMARY, (0, 1): PRIMARY, (0, 2): COMPLEMENT}
    assert_protected(result)


def test_a_small_total_is_hidden_too_and_zeros_stay_printed():
    result = suppress([[2, 0, 1], [0, 0, 0], [9, 8, 7]])
    assert result.marks[(0, 3)] == PRIMARY  # row total 3
    assert (1, 0) not in result.marks and (1, 3) not in result.marks
    assert_protected(result)


def test_a_table_without_small_counts_hides_nothing_and_an_empty_table_works():
    assert suppress([[5, 6], [7, 8]]).marks == {}
    assert suppress([]).marks == {}
    assert suppress([[0, 0], [0, 0]]).marks == {}


def test_column_totals_only_and_a_pinned_grand_total():
    result = suppress([[2, 9], [30, 11], [6, 3]], row_totals=False)
    assert_protected(result)
    pinned = suppress([[2, 30], [40, 50]], pinned=[(2, 2)])
    assert (2, 2) not in pinned.marks
    assert_protected(pinned)


def test_already_hidden_positions_from_a_linked_table_stay_hidden():
    result = suppress([[10, 20], [30, 40]], already=[(0, 2)])
    assert result.marks[(0, 2)] == COMPLEMENT
    assert_protected(result)


def test_bad_tables_are_refused():
    with pytest.raises(ValueError):
        Grid([[1, 2], [3]])
    with pytest.raises(ValueError):
        Grid([[-1]])


tables = st.integers(1, 3).flatmap(lambda r: st.integers(1, 3).flatmap(
    lambda c: st.lists(st.lists(st.integers(0, 9), min_size=c, max_size=c), min_size=r, max_size=r)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables, st.booleans(), st.booleans())
def test_no_hidden_cell_can_be_derived_by_brute_force(cells, row_totals, col_totals):
    assert_protected(suppress(cells, row_totals, col_totals))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables, st.booleans(), st.booleans(), st.randoms(use_true_random=False))
def test_the_exact_check_agrees_with_brute_force_on_any_hiding_pattern(cells, row_totals, col_totals, rnd):
    """The check the algorithm relies on, against enumeration, for arbitrary (not only good) patterns."""
    grid = Grid(cells, row_totals, col_totals)
    result = Suppression(grid)
    for p in grid.positions():
        v = grid.value(p)
        if 1 <= v <= 4:
            result.marks[p] = PRIMARY
        elif v >= 5 and rnd.random() < 0.5:
            result.marks[p] = COMPLEMENT
    found = possible_values(result)
    for p in result.marks:
        assert result.determined(p) == (len(found[p]) == 1), (cells, row_totals, col_totals, result.marks, p)


def _determined_over_reals(result: Suppression) -> list[tuple[int, int]]:
    """Hidden positions whose value the printed sums fix even ignoring bounds: e_p in the row space of the
    constraint matrix over the hidden positions."""
    grid = result.grid
    hidden = sorted(result.marks)
    index = {p: k for k, p in enumerate(hidden)}
    rows = []
    for line in grid.lines():
        row = np.zeros(len(hidden))
        for p in line:
            if p in index:
                row[index[p]] = grid.sign(p)
        rows.append(row)
    if not rows:
        return []
    matrix = np.array(rows)
    rank = np.linalg.matrix_rank(matrix)
    out = []
    for p, k in index.items():
        unit = np.zeros(len(hidden))
        unit[k] = 1
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            out.append(p)
    return out


def test_large_random_tables_leave_no_hidden_cell_fixed_by_the_linear_system():
    rnd = random.Random(41)
    for _ in range(60):
        r, c = rnd.randint(2, 12), rnd.randint(2, 9)
        cells = [[rnd.choice([0, 0, 1, 2, 3, 4, 6, 9, 15, 40]) for _ in range(c)] for _ in range(r)]
        result = suppress(cells)
        assert _determined_over_reals(result) == []
        assert result.exposed() == []
        for p in result.grid.positions():
            if 1 <= result.grid.value(p) <= 4:
                assert p in result.marks
