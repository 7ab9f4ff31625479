"""Figures of the organisation tree for the dashboard: coverage of a subtree (reads only).

Branches and units grow with the tree, not with the membership; each figure is one GROUP BY or COUNT on
the subtree through the path index.
"""

from django.db.models import Count, Q

from branches.models import Branch


def branch_coverage(*, branch: Branch) -> dict:
    """Organisations of `branch`'s subtree (itself included) by kind and setting basis, with the joint,
    temporary and functional ones, and the number of distinct units they cover. Two queries.

    {"by_kind_basis": [{"kind", "basis", "n", "joint", "temporary", "functional"}], "units": int}
    """
    subtree = Branch.objects.filter(path__startswith=branch.path)
    rows = list(
        subtree.values("kind", "basis")
        .annotate(
            n=Count("id"),
            joint=Count("id", filter=Q(is_joint=True)),
            temporary=Count("id", filter=Q(is_temporary=True)),
            functional=Count("id", filter=Q(is_functional=True)),
        )
        .order_by("kind", "basis")
    )
    units = (
        Branch.units.through.objects.filter(
            branch__path__startswith=branch.path, branch__deleted_at__isnull=True, unit__deleted_at__isnull=True
        )
        .values("unit_id")
        .distinct()
        .count()
    )
    return {"by_kind_basis": rows, "units": units}


def subtree_rollup() -> dict:
    """For every branch (deleted ones too, as the live counts join them by path), the branches with
    sub-organisations whose subtree holds it (itself included when it has sub-organisations): the rows a count
    of that branch is added to when a figure is stored per subtree. One query.

    Only subtrees of several organisations get stored rows: a single organisation's figures are a handful of
    rows read through its own indexes, so they are counted live.
    """
    tree = list(Branch.all_objects.values_list("pk", "path", "parent_id"))
    parents = {parent_id for _pk, _path, parent_id in tree if parent_id is not None}
    by_hex = {pk.hex: pk for pk, _path, _parent in tree if pk in parents}
    rollup = {}
    for pk, path, _parent in tree:
        rollup[pk] = [by_hex[part] for part in path.strip("/").split("/") if part in by_hex]
    return rollup
