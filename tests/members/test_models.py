import datetime

import pytest
from django.db import IntegrityError, transaction

from members.models import Member
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "change",
    [
        {"category": "probationary", "full_member_on": datetime.date(2016, 7, 1)},
        {"full_member_on": datetime.date(2000, 1, 1)},  # before joining
        {"joined_on": datetime.date(1980, 1, 1)},  # before birth
        {"lost_contact": True},  # without a date
        {"is_mobile": True},  # without a destination
        {"status": "vanished"},
        {"occupation": "astronaut"},
        {"citizen_id_hash": ""},
    ],
)
def test_member_constraints_hold_in_the_database(branch_tree, change):
    member = MemberFactory(branch=branch_tree["station_a"], full_member_on=datetime.date(2016, 7, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.filter(pk=member.pk).update(**change)


def test_member_citizen_id_unique_among_live_members_in_the_database(branch_tree):
    first = MemberFactory(branch=branch_tree["station_a"])
    second = MemberFactory(branch=branch_tree["station_a"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.filter(pk=second.pk).update(citizen_id_hash=first.citizen_id_hash)
    first.soft_delete()
    Member.all_objects.filter(pk=second.pk).update(citizen_id_hash=first.citizen_id_hash)
    assert Member.objects.get(pk=second.pk).citizen_id_hash == first.citizen_id_hash
