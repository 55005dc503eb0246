"""Small-cell suppression and histogram bins, as pure functions."""

from __future__ import annotations

from datetime import date

from reports.surveys.bins import date_bins, number_bins
from reports.surveys.suppression import hidden_cells


def test_nothing_is_hidden_when_every_cell_is_big_enough_or_empty():
    assert hidden_cells([12, 0, 7], 5) == set()


def test_one_small_cell_hides_the_next_smallest_so_the_total_cannot_give_it_back():
    # 20 + 3 + 9 = 32 is shown: hiding 3 alone leaves 32 - 20 - 9.
    assert hidden_cells([20, 3, 9], 5) == {1, 2}


def test_hidden_cells_must_add_up_to_the_minimum_too():
    # 1 and 0 hidden would say "one person is in one of these two".
    assert hidden_cells([20, 1, 0, 9], 5) == {1, 2, 3}


def test_two_small_cells_adding_up_to_the_minimum_are_enough():
    assert hidden_cells([20, 2, 3, 9], 5) == {1, 2}


def test_a_multiple_choice_hides_only_its_small_options():
    assert hidden_cells([20, 3, 9], 5, additive=False) == {1}


def test_whole_numbers_over_a_short_range_get_a_bin_each():
    bins = number_bins({1.0: 2, 3.0: 1})
    assert [(b.label, b.count) for b in bins] == [("1", 2), ("2", 0), ("3", 1)]


def test_wide_ranges_get_about_ten_round_bins():
    bins = number_bins({0.0: 1, 95.0: 2, 1000.0: 1})
    assert [b.label for b in bins][:2] == ["0–99", "100–199"]
    assert len(bins) == 11 and (bins[0].count, bins[-1].count) == (3, 1)


def test_fractions_are_binned_half_open():
    bins = number_bins({0.5: 1, 2.25: 1})
    # A width of 0.2 (1.75 / 10 rounded up to 2 × 10⁻¹) from 0.4.
    assert (bins[0].key, bins[0].count) == ("0.4", 1)
    assert len(bins) == 10 and bins[-1].count == 1


def test_dates_over_months_are_binned_by_month():
    bins = date_bins({date(2026, 1, 15): 1, date(2026, 9, 2): 2})  # 34 weeks
    assert [(b.key, b.count) for b in bins][:2] == [("2026-01-01", 1), ("2026-02-01", 0)]
    assert len(bins) == 9 and bins[-1].count == 2


def test_dates_over_weeks_are_binned_from_monday():
    bins = date_bins({date(2026, 11, 4): 1, date(2026, 12, 20): 1})
    assert bins[0].key == "2026-11-02" and len(bins) == 7
