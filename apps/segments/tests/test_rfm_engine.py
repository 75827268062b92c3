"""RFM engine (pure): quintile scores, the 11-cell map, exact cells on a hand-made table."""

from __future__ import annotations

import numpy as np
import pytest

from apps.segments.choices import RfmCell
from apps.segments.engine.rfm import (
    RFM_CELL_GRID,
    RFM_CELLS,
    frequency_monetary_scores,
    quintile_scores,
    rfm_cell,
    rfm_grid_counts,
    rfm_scores,
)

# Ten customers with distinct values: two per quintile in each dimension.
# (days since the last order, orders, money spent) -> expected (R, F, M, FM, cell)
HAND_MADE = [
    ("c01", 1, 10, 1000.0, 5, 5, 5, 5, "champions"),
    ("c02", 3, 1, 100.0, 5, 1, 1, 1, "new"),
    ("c03", 5, 2, 300.0, 4, 1, 2, 2, "potential_loyalists"),
    ("c04", 10, 9, 800.0, 4, 5, 4, 5, "loyal"),
    ("c05", 20, 5, 500.0, 3, 3, 3, 3, "need_attention"),
    ("c06", 40, 3, 200.0, 3, 2, 1, 2, "about_to_sleep"),
    ("c07", 80, 8, 900.0, 2, 4, 5, 5, "cant_lose_them"),
    ("c08", 160, 6, 600.0, 2, 3, 3, 3, "at_risk"),
    ("c09", 320, 4, 400.0, 1, 2, 2, 2, "hibernating"),
    ("c10", 640, 7, 700.0, 1, 4, 4, 4, "at_risk"),
]


def _columns(rows):
    return (
        np.array([row[1] for row in rows], dtype=float),
        np.array([row[2] for row in rows], dtype=float),
        np.array([row[3] for row in rows], dtype=float),
    )


def test_hand_made_table_gets_the_exact_scores_and_cells():
    # given ten customers, two per quintile of each dimension
    recency_days, frequency, monetary = _columns(HAND_MADE)

    # when scored
    result = rfm_scores(recency_days=recency_days, frequency=frequency, monetary=monetary)

    # then every score and cell is the hand-computed one
    assert result.recency.tolist() == [row[4] for row in HAND_MADE]
    assert result.frequency.tolist() == [row[5] for row in HAND_MADE]
    assert result.monetary.tolist() == [row[6] for row in HAND_MADE]
    assert result.frequency_monetary.tolist() == [row[7] for row in HAND_MADE]
    assert result.cells.tolist() == [row[8] for row in HAND_MADE]
    assert result.boundaries == {
        "recency_days_at_most": [640.0, 160.0, 40.0, 10.0, 3.0],
        "frequency_at_least": [1.0, 3.0, 5.0, 7.0, 9.0],
        "monetary_at_least": [100.0, 300.0, 500.0, 700.0, 900.0],
    }


def test_lost_and_promising_cells_on_a_second_table():
    # given five customers, one per score: the most idle one bought once for little money,
    # the second most recent also bought once for little
    recency_days = np.array([500.0, 2.0, 30.0, 60.0, 90.0])
    frequency = np.array([1.0, 2.0, 5.0, 4.0, 3.0])
    monetary = np.array([10.0, 20.0, 50.0, 40.0, 30.0])

    result = rfm_scores(recency_days=recency_days, frequency=frequency, monetary=monetary)

    assert result.recency.tolist() == [1, 5, 4, 3, 2]
    assert result.frequency_monetary.tolist() == [1, 2, 5, 4, 3]
    assert result.cells.tolist() == ["lost", "potential_loyalists", "loyal", "loyal", "at_risk"]
    assert rfm_cell(4, 1) == "promising"


def test_ties_share_a_score_and_skip_the_scores_in_between():
    # given 60% one-order customers
    values = np.array([1, 1, 1, 1, 1, 1, 2, 2, 3, 5], dtype=float)

    # then mid-rank quintiles give every tie the same score; F1 and F3 are skipped
    assert quintile_scores(values).tolist() == [2, 2, 2, 2, 2, 2, 4, 4, 5, 5]


def test_scores_do_not_depend_on_input_order():
    rng = np.random.default_rng(3)
    values = rng.integers(1, 6, size=200).astype(float)
    order = rng.permutation(values.size)

    scores = quintile_scores(values)
    shuffled = quintile_scores(values[order])

    assert shuffled.tolist() == scores[order].tolist()


def test_exact_quintiles_with_distinct_values_and_single_customer():
    assert quintile_scores(np.arange(10, dtype=float)).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert quintile_scores(np.arange(5, dtype=float)).tolist() == [1, 2, 3, 4, 5]
    assert quintile_scores(np.array([42.0])).tolist() == [3]
    assert quintile_scores(np.array([7.0, 7.0, 7.0])).tolist() == [3, 3, 3]
    assert quintile_scores(np.array([])).tolist() == []


def test_frequency_monetary_rounds_half_up():
    assert frequency_monetary_scores(
        np.array([1, 3, 4, 5, 2]), np.array([2, 4, 4, 4, 1])
    ).tolist() == [
        2,
        4,
        4,
        5,
        2,
    ]


def test_the_grid_uses_exactly_the_eleven_cells_of_the_choices():
    used = {cell for row in RFM_CELL_GRID for cell in row}

    assert used == set(RfmCell.values) == set(RFM_CELLS)
    assert len(RFM_CELLS) == 11
    # The full map, as documented in the engine and docs/rfm_and_clusters.md (R rows 1-5).
    assert [[rfm_cell(r, fm) for fm in range(1, 6)] for r in range(5, 0, -1)] == [
        ["new", "potential_loyalists", "potential_loyalists", "champions", "champions"],
        ["promising", "potential_loyalists", "potential_loyalists", "loyal", "loyal"],
        ["about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"],
        ["hibernating", "hibernating", "at_risk", "at_risk", "cant_lose_them"],
        ["lost", "hibernating", "at_risk", "at_risk", "cant_lose_them"],
    ]


def test_grid_counts():
    counts = rfm_grid_counts(np.array([5, 5, 1]), np.array([5, 5, 2]))

    assert counts[4][4] == 2
    assert counts[0][1] == 1
    assert sum(map(sum, counts)) == 3


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="equal length"):
        rfm_scores(
            recency_days=np.array([1.0]), frequency=np.array([1.0, 2.0]), monetary=np.array([1.0])
        )
    with pytest.raises(ValueError, match="finite"):
        quintile_scores(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="1-5"):
        rfm_cell(0, 3)
