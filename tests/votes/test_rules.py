import pytest

from members.voting_rules import ThresholdRule, more_than_half, threshold_met, threshold_needed


@pytest.mark.parametrize(
    ("part", "whole", "met"),
    [(2, 4, False), (3, 4, True), (3, 5, True), (2, 5, False), (1, 1, True), (0, 0, False), (1, 2, False)],
)
def test_more_than_half(part, whole, met):
    assert more_than_half(part, whole) is met


@pytest.mark.parametrize(
    ("rule", "part", "whole", "met"),
    [
        (ThresholdRule.MORE_THAN_FOUR_FIFTHS, 4, 5, False),
        (ThresholdRule.MORE_THAN_FOUR_FIFTHS, 5, 5, True),
        (ThresholdRule.AT_LEAST_FOUR_FIFTHS, 4, 5, True),
        (ThresholdRule.AT_LEAST_FOUR_FIFTHS, 7, 9, False),
        (ThresholdRule.AT_LEAST_TWO_THIRDS, 2, 3, True),
        (ThresholdRule.MORE_THAN_TWO_THIRDS, 2, 3, False),
    ],
)
def test_threshold_met(rule, part, whole, met):
    assert threshold_met(rule, part, whole) is met


@pytest.mark.parametrize(
    ("rule", "whole", "needed"),
    [
        (ThresholdRule.MORE_THAN_HALF, 4, 3),
        (ThresholdRule.MORE_THAN_HALF, 5, 3),
        (ThresholdRule.MORE_THAN_FOUR_FIFTHS, 5, 5),
        (ThresholdRule.AT_LEAST_FOUR_FIFTHS, 5, 4),
        (ThresholdRule.AT_LEAST_FOUR_FIFTHS, 9, 8),
        (ThresholdRule.AT_LEAST_TWO_THIRDS, 6, 4),
    ],
)
def test_threshold_needed_is_the_smallest_count_that_meets_it(rule, whole, needed):
    assert threshold_needed(rule, whole) == needed
    assert threshold_met(rule, needed, whole)
    assert not threshold_met(rule, needed - 1, whole)
