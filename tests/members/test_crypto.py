import io

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from members import crypto
from members.apps import check_member_keys
from members.models import Member
from tests.members.factories import MemberFactory, make_citizen_id

pytestmark = pytest.mark.django_db


def test_encrypt_round_trip_and_no_plain_text():
    token = crypto.encrypt("110101199001010015")
    assert "110101199001010015" not in token
    assert crypto.decrypt(token) == "110101199001010015"
    assert crypto.encrypt("") == ""
    assert crypto.decrypt("") == ""


def test_lookup_hash_depends_on_key():
    first = crypto.lookup_hash("110101199001010015")
    assert first == crypto.lookup_hash("110101199001010015")
    with override_settings(MEMBERS_HASH_KEY="another-key-that-is-long-enough-for-the-check"):
        assert crypto.lookup_hash("110101199001010015") != first


def test_decrypt_with_old_key_after_a_new_key_is_added():
    old_token = crypto.encrypt("13812345678")
    new_key = Fernet.generate_key().decode()
    with override_settings(MEMBERS_FIELD_KEYS=[new_key, *settings.MEMBERS_FIELD_KEYS]):
        assert crypto.decrypt(old_token) == "13812345678"
    with override_settings(MEMBERS_FIELD_KEYS=[new_key]), pytest.raises(ImproperlyConfigured):
        crypto.decrypt(old_token)


def test_rotate_member_keys_reencrypts_under_newest_key(branch_tree):
    member = MemberFactory(branch=branch_tree["station_a"], citizen_id=make_citizen_id(7), phone="13900001111")
    deleted = MemberFactory(branch=branch_tree["station_a"], citizen_id=make_citizen_id(8))
    deleted.soft_delete()
    version = Member.objects.get(pk=member.pk).version
    new_key = Fernet.generate_key().decode()
    with override_settings(MEMBERS_FIELD_KEYS=[new_key, *settings.MEMBERS_FIELD_KEYS]):
        out = io.StringIO()
        call_command("rotate_member_keys", "--batch-size", "1", stdout=out)
        assert "Re-encrypted 2 member records." in out.getvalue()
    with override_settings(MEMBERS_FIELD_KEYS=[new_key]):  # the old key is gone: everything still opens
        fresh = Member.objects.get(pk=member.pk)
        assert fresh.citizen_id == make_citizen_id(7)
        assert fresh.phone == "13900001111"
        assert fresh.version == version
        assert Member.all_objects.get(pk=deleted.pk).citizen_id == make_citizen_id(8)


def test_rotate_member_keys_applies_a_new_hash_key(branch_tree):
    member = MemberFactory(branch=branch_tree["station_a"])
    new_hash_key = "a-new-hash-key-that-is-long-enough-to-pass"
    with override_settings(MEMBERS_HASH_KEY=new_hash_key):
        call_command("rotate_member_keys", stdout=io.StringIO())
        assert Member.objects.get(pk=member.pk).citizen_id_hash == crypto.lookup_hash(member.citizen_id)


def test_database_holds_no_plain_sensitive_values(branch_tree):
    number = make_citizen_id(11)
    MemberFactory(branch=branch_tree["station_a"], citizen_id=number, phone="13712345678")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Member._meta.db_table}")
        row_text = " ".join(str(v) for v in cursor.fetchone())
    assert number not in row_text
    assert "13712345678" not in row_text


def test_system_check_reports_missing_or_bad_keys():
    assert check_member_keys() == []
    with override_settings(MEMBERS_FIELD_KEYS=[], MEMBERS_HASH_KEY=""):
        messages = [e.msg for e in check_member_keys()]
    assert any("MEMBERS_FIELD_KEYS" in m for m in messages)
    assert any("MEMBERS_HASH_KEY" in m for m in messages)
    with override_settings(MEMBERS_FIELD_KEYS=["not-a-fernet-key"]):
        assert [e.id for e in check_member_keys()] == ["members.E001"]
