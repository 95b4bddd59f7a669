"""Two-sample tests of the compare view, against hand computations and scipy's published results."""

from __future__ import annotations

import math

import pytest

from prompts.stats import MIN_SAMPLE, average_ranks, compare, format_p, mann_whitney_u, two_proportion_z

# Reference values from scipy.stats.mannwhitneyu(a, b, method="asymptotic") (continuity and tie corrected).
SKEWED_A = [
    0.8,
    1.1,
    1.0,
    0.5,
    0.5,
    0.7,
    0.7,
    1.1,
    1.5,
    0.7,
    0.4,
    0.5,
    1.2,
    1.0,
    0.6,
    1.3,
    0.7,
    0.9,
    2.3,
    0.6,
]
SKEWED_A += [
    1.2,
    1.3,
    0.7,
    0.6,
    1.7,
    1.6,
    1.5,
    1.1,
    0.9,
    1.5,
    0.7,
    0.5,
    0.7,
    0.7,
    0.5,
    0.5,
    1.4,
    0.7,
    0.4,
    0.7,
]
SKEWED_B = [0.9, 1.5, 0.6, 1.0, 1.4, 1.6, 1.2, 0.5, 1.0, 1.2, 0.8, 1.5, 1.0, 1.2, 1.3, 1.1, 1.9, 1.4, 1.4]
SKEWED_B += [4.1, 3.8, 1.0, 1.5, 1.1, 3.9, 0.8, 1.2, 0.8, 0.7, 2.7, 2.5, 1.0, 1.0, 3.9, 2.4]


def test_ties_share_their_average_rank():
    ranks, ties = average_ranks([3.0, 1.0, 3.0, 2.0, 3.0])
    assert ranks == [4.0, 1.0, 4.0, 2.0, 4.0]
    assert sorted(ties) == [1, 1, 3]


def test_mann_whitney_of_separated_samples_matches_the_hand_computation():
    # U1 = 0; mean 12.5; variance 5*5/12*11 = 22.917; z = (25 - 12.5 - 0.5) / 4.787 = 2.5067
    result = mann_whitney_u([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
    assert result.statistic == 0
    assert result.z == pytest.approx(12 / math.sqrt(25 * 11 / 12))
    assert result.p_value == pytest.approx(0.012185780355344813, rel=1e-9)


def test_mann_whitney_with_ties_matches_scipy():
    result = mann_whitney_u([1.2, 3.4, 3.4, 5.0, 2.2, 7.1, 3.4, 0.5], [2.2, 4.8, 6.0, 3.4, 9.1, 5.5, 8.0])
    assert result.statistic == 13.0
    assert result.p_value == pytest.approx(0.0901178061101395, rel=1e-9)


def test_mann_whitney_of_skewed_samples_matches_scipy():
    result = mann_whitney_u(SKEWED_A, SKEWED_B)
    assert result.statistic == 361.5
    assert result.p_value == pytest.approx(0.0003156297053055712, rel=1e-9)


def test_mann_whitney_is_symmetric_in_its_p_value():
    assert mann_whitney_u(SKEWED_B, SKEWED_A).p_value == pytest.approx(
        mann_whitney_u(SKEWED_A, SKEWED_B).p_value
    )


def test_identical_constant_samples_are_not_different():
    assert mann_whitney_u([2.0] * 30, [2.0] * 30).p_value == 1.0


def test_two_proportion_z_matches_the_hand_computation():
    # pooled p = 0.525; se = sqrt(0.525 * 0.475 * (1/100 + 1/100)) = 0.070622; z = 0.15 / se = 2.12398
    result = two_proportion_z(45, 100, 60, 100)
    assert result.z == pytest.approx(2.123976976214366)
    assert result.p_value == pytest.approx(0.033672068856345834, rel=1e-9)


def test_two_proportion_z_of_all_passes_on_both_sides_is_not_different():
    assert two_proportion_z(30, 30, 25, 25).p_value == 1.0


def test_faster_version_gets_a_significant_latency_statement():
    comparison = compare("Latency", "latency", 3, 4, SKEWED_B, SKEWED_A)
    assert comparison.value_a == pytest.approx(1.2) and comparison.value_b == pytest.approx(0.7)
    assert comparison.difference == pytest.approx(-0.5)
    assert comparison.relative == pytest.approx(-41.666, rel=1e-3)
    assert comparison.significant
    assert comparison.sentence == (
        "Version 4 is 500 ms (41.7%) faster at the median than version 3; "
        "the difference is significant (p < 0.001, n = 35 vs 40)."
    )


def test_a_small_difference_is_reported_as_not_significant():
    a = [1.0, 2.0, 3.0, 4.0, 5.0] * 5
    b = [1.5, 2.0, 3.0, 4.0, 5.0] * 5
    comparison = compare("Cost", "cost", 1, 2, a, b)
    assert not comparison.significant
    assert comparison.sentence.startswith(
        "Version 2 is $0.100000 (3.3%) more expensive on average than version 1;"
    )
    assert "not significant (p = 0." in comparison.sentence and "n = 25 vs 25" in comparison.sentence


def test_boolean_scores_compare_pass_rates_in_percentage_points():
    comparison = compare("correct", "boolean", 1, 2, [1.0] * 45 + [0.0] * 55, [1.0] * 60 + [0.0] * 40)
    assert comparison.value_a == pytest.approx(0.45) and comparison.value_b == pytest.approx(0.60)
    assert comparison.p_value == pytest.approx(0.033672068856345834, rel=1e-9)
    assert comparison.sentence == (
        "Version 2 passes correct 15.0 percentage points more often than version 1; "
        "the difference is significant (p = 0.034, n = 100 vs 100)."
    )


def test_numeric_scores_name_the_score():
    comparison = compare("quality", "numeric", 1, 2, [0.5] * 30, [0.8] * 30)
    assert comparison.sentence.startswith(
        "Version 2 is 0.3 (60.0%) higher on quality on average than version 1;"
    )
    assert comparison.significant


def test_below_the_minimum_sample_no_test_is_run():
    comparison = compare("Latency", "latency", 1, 2, [1.0] * (MIN_SAMPLE - 1), [2.0] * 50)
    assert comparison.p_value is None and not comparison.enough_data and not comparison.significant
    assert comparison.value_a == 1.0 and comparison.value_b == 2.0
    assert comparison.sentence.startswith(f"Not enough data (n = {MIN_SAMPLE - 1} vs 50)")


def test_a_side_without_values_has_no_summary():
    comparison = compare("Cost", "cost", 1, 2, [], [1.0])
    assert comparison.value_a is None and comparison.difference is None and comparison.relative is None


def test_p_values_are_shown_with_three_decimals_or_as_a_bound():
    assert format_p(0.0301) == "p = 0.030"
    assert format_p(0.0004) == "p < 0.001"
