"""Per-branch figures for the dashboard, refreshed by a beat task so no page counts a million members.

Each row holds the total over the branch's whole subtree (rolled up when written), so a dashboard reads
the rows of one branch: one indexed query whatever the size of the tree or the membership. Rows are
replaced a dimension at a time, in one transaction, by `members.stats.branch_stats_write`.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class BranchStat(models.Model):
    """One figure of a branch's subtree: `value` members (or slots) with `key` in `dimension`, as of `refreshed_at`.

    Dimensions: members, category, occupation, age, platform, arrears, lost_contact (members app) and
    study (activities app). A key with no members has no row.
    """

    branch = models.ForeignKey("branches.Branch", on_delete=models.CASCADE, related_name="+")
    dimension = models.CharField(_("dimension"), max_length=30)
    key = models.CharField(_("key"), max_length=50, blank=True)
    value = models.BigIntegerField(_("value"), default=0)
    refreshed_at = models.DateTimeField(_("refreshed at"))

    class Meta:
        verbose_name = _("branch figure")
        verbose_name_plural = _("branch figures")
        constraints = [
            models.UniqueConstraint(fields=["branch", "dimension", "key"], name="branchstat_unique"),
        ]

    def __str__(self):
        return f"{self.branch_id} {self.dimension}/{self.key}: {self.value}"
