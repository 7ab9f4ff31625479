"""Threshold rules of party votes (quorum and majority), as exact integer arithmetic.

Shared by branch votes (members/actions/votes.py) and the assembly votes of member development
(members/actions/development.py). A rule is "more than" or "at least" a fraction of a base:
quorum counts ballots cast against the members entitled to vote (应到会); the majority counts the
votes for a motion or a candidate against the entitled members (the party rules' base) or, when a
vote is so configured, against the ballots cast.

Which rule applies by default is [practice] and lives in settings (VOTES_DEFAULT_RULES); the rules'
own texts: decisions need more than half present and more than half of those entitled voting for;
elections need more than four fifths present (基层组织选举工作条例: 超过应到会人数的五分之四).
"""

from dataclasses import dataclass
from fractions import Fraction

from django.db import models
from django.utils.translation import gettext_lazy as _


class ThresholdRule(models.TextChoices):
    MORE_THAN_HALF = "more_than_half", _("More than half")
    AT_LEAST_TWO_THIRDS = "at_least_two_thirds", _("At least two thirds")
    MORE_THAN_TWO_THIRDS = "more_than_two_thirds", _("More than two thirds")
    AT_LEAST_FOUR_FIFTHS = "at_least_four_fifths", _("At least four fifths")
    MORE_THAN_FOUR_FIFTHS = "more_than_four_fifths", _("More than four fifths")


@dataclass(frozen=True)
class Threshold:
    fraction: Fraction
    strict: bool  # True: "more than"; False: "at least"

    def met(self, part: int, whole: int) -> bool:
        """Whether `part` of `whole` reaches the threshold; nothing is ever reached of nobody."""
        if whole <= 0:
            return False
        # part / whole > a / b  ⇔  part * b > a * whole (integers only, so 2 of 4 is never "more than half")
        left, right = part * self.fraction.denominator, self.fraction.numerator * whole
        return left > right if self.strict else left >= right

    def needed(self, whole: int) -> int:
        """The smallest count that meets the threshold of `whole`."""
        minimum = self.fraction * whole
        if self.strict:
            return int(minimum) + 1
        return int(minimum) if minimum.denominator == 1 else int(minimum) + 1


THRESHOLDS: dict[str, Threshold] = {
    ThresholdRule.MORE_THAN_HALF: Threshold(Fraction(1, 2), strict=True),
    ThresholdRule.AT_LEAST_TWO_THIRDS: Threshold(Fraction(2, 3), strict=False),
    ThresholdRule.MORE_THAN_TWO_THIRDS: Threshold(Fraction(2, 3), strict=True),
    ThresholdRule.AT_LEAST_FOUR_FIFTHS: Threshold(Fraction(4, 5), strict=False),
    ThresholdRule.MORE_THAN_FOUR_FIFTHS: Threshold(Fraction(4, 5), strict=True),
}


def threshold_met(rule: str, part: int, whole: int) -> bool:
    return THRESHOLDS[rule].met(part, whole)


def threshold_needed(rule: str, whole: int) -> int:
    return THRESHOLDS[rule].needed(whole)


def more_than_half(part: int, whole: int) -> bool:
    """The party rules' usual test: quorum of an assembly, yes votes of a motion (both against those entitled)."""
    return THRESHOLDS[ThresholdRule.MORE_THAN_HALF].met(part, whole)
