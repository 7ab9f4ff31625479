"""Reads of transfers. Both sides see a transfer: the sending branch's scope and the receiving branch's scope."""

from members.models import Transfer
from members.models.transfers import TransferStatus


def transfer_list(*, actor, perm: str = "transfers.view"):
    """Transfers whose sending or receiving branch is in the actor's scope, ready for lists (no query per row)."""
    return Transfer.objects.for_actor(actor, perm).select_related(
        "member", "from_branch", "to_branch", "issuing_committee"
    )


def transfer_get(*, actor, pk, perm: str = "transfers.view") -> Transfer:
    """One transfer in the actor's scope; Transfer.DoesNotExist otherwise (a 404 for the caller)."""
    return transfer_list(actor=actor, perm=perm).get(pk=pk)


def transfers_awaiting(*, actor):
    """Letters issued to branches in the actor's scope and not yet answered (the receiving side's inbox)."""
    from branches.permissions import branch_scope

    return transfer_list(actor=actor).filter(
        status=TransferStatus.ISSUED, to_branch__in=branch_scope(actor, "transfers.change").values("pk")
    )
