import datetime
import decimal
import re
from http import HTTPStatus

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from branches.choices import Role
from branches.models import Branch
from core.audit import audit_record, snapshot
from core.context import client_ip_var, request_id_var
from core.middleware import RequestContextMiddleware
from core.models import AuditEntry

pytestmark = pytest.mark.django_db


def create_branch_over_api(client, parent: Branch, **headers):
    return client.post(
        reverse("api:branch-list"),
        {"name": "Station C branch", "parent": str(parent.pk), "kind": "branch", "basis": "platform"},
        content_type="application/json",
        **headers,
    )


def test_audit_entry_takes_request_id_and_ip_from_the_request(client, branch_tree, role_at):
    officer = role_at(branch_tree["delivery"], Role.OFFICER)
    client.force_login(officer)
    response = create_branch_over_api(
        client, branch_tree["delivery"], HTTP_X_REQUEST_ID="gw-2025.06-abc_1", REMOTE_ADDR="203.0.113.7"
    )
    assert response.status_code == HTTPStatus.CREATED
    assert response["X-Request-ID"] == "gw-2025.06-abc_1"
    entry = AuditEntry.objects.get(action="branches.branch.created", object_repr="Station C branch")
    assert (entry.actor, entry.request_id, entry.ip) == (officer, "gw-2025.06-abc_1", "203.0.113.7")
    assert entry.after["parent"] == str(branch_tree["delivery"].pk)


@pytest.mark.parametrize("incoming", ["", "has spaces", "x" * 65, "semi;colon", "非ASCII"])
def test_audit_request_id_replaced_when_missing_or_malformed(client, branch_tree, role_at, incoming):
    officer = role_at(branch_tree["delivery"], Role.OFFICER)
    client.force_login(officer)
    response = create_branch_over_api(client, branch_tree["delivery"], HTTP_X_REQUEST_ID=incoming)
    assert response.status_code == HTTPStatus.CREATED
    generated = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert AuditEntry.objects.get(action="branches.branch.created", object_repr="Station C branch").request_id == (
        generated
    )


def test_audit_outside_a_request_has_no_request_id_or_ip(branch_tree):
    entry = audit_record(actor=None, obj=branch_tree["district"], action="core.test.done")
    assert (entry.request_id, entry.ip, entry.actor) == ("", None, None)


def test_audit_request_context_is_reset_after_the_request(branch_tree):
    seen = []

    def view(request):
        seen.append(audit_record(actor=None, obj=branch_tree["district"], action="core.test.inside"))
        return HttpResponse()

    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="req-1", REMOTE_ADDR="198.51.100.2")
    response = RequestContextMiddleware(view)(request)
    assert response["X-Request-ID"] == "req-1"
    assert (seen[0].request_id, seen[0].ip) == ("req-1", "198.51.100.2")
    assert (request_id_var.get(), client_ip_var.get()) == ("", None)


def test_audit_request_context_is_reset_when_the_view_fails():
    def view(request):
        raise RuntimeError("boom")

    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="req-2")
    with pytest.raises(RuntimeError):
        RequestContextMiddleware(view)(request)
    assert (request_id_var.get(), client_ip_var.get()) == ("", None)


def test_audit_record_keeps_anonymous_actor_as_none(branch_tree):
    entry = audit_record(actor=AnonymousUser(), obj=branch_tree["district"], action="core.test.done")
    assert entry.actor is None
    assert entry.object_type == "branches.branch"
    assert entry.object_id == str(branch_tree["district"].pk)


def test_snapshot_gives_json_safe_values(branch_tree):
    branch = branch_tree["station_a"]
    branch.elected_on = datetime.date(2024, 5, 1)
    branch.latitude = decimal.Decimal("39.904200")
    data = snapshot(branch, ["elected_on", "latitude", "parent", "id", "name"])
    assert data == {
        "elected_on": "2024-05-01",
        "latitude": "39.904200",
        "parent": str(branch_tree["delivery"].pk),
        "id": str(branch.pk),
        "name": "Station A branch",
    }


def test_audit_entries_only_ever_append(branch_tree, user):
    first = audit_record(actor=user, obj=branch_tree["district"], action="core.test.done", data={"n": 1})
    second = audit_record(actor=user, obj=branch_tree["district"], action="core.test.done", data={"n": 2})
    assert first.pk != second.pk
    first.data = {"n": 3}
    with pytest.raises(ValueError, match="append-only"):
        first.save()
    done = AuditEntry.objects.filter(action="core.test.done").order_by("pk")
    assert list(done.values_list("data", flat=True)) == [{"n": 1}, {"n": 2}]


def test_audit_admin_shows_entries_but_cannot_change_or_delete_them(client, branch_tree, role_at):
    admin = role_at(branch_tree["district"], Role.ADMIN)
    admin.is_staff = admin.is_superuser = True
    admin.save()
    entry = audit_record(actor=admin, obj=branch_tree["district"], action="core.test.done")
    client.force_login(admin)
    change_url = reverse("admin:core_auditentry_change", args=[entry.pk])
    assert client.get(change_url).status_code == HTTPStatus.OK
    response = client.post(change_url, {"action": "tampered"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    response = client.post(reverse("admin:core_auditentry_delete", args=[entry.pk]), {"post": "yes"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    entry.refresh_from_db()
    assert entry.action == "core.test.done"
