"""Member pages: list, detail with history, create and edit forms, affiliations, and the member's own record.

Every member is fetched through `member_list(actor=...)`, so one outside the user's scope is a 404; the
write pages also need change scope (403 otherwise), and the actions check it again. Full citizen ID and
phone numbers are shown only when the user asks for them (`?show=full`) and members.permissions allows
it, through `member_reveal`, which audits each record shown; everywhere else the stored masks are used.
A full ID number only travels in POST bodies (forms, the lookup), never in a URL.
"""

import datetime
import uuid

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.decorators import method_decorator
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView, TemplateView

from branches.models import Branch, Unit
from branches.permissions import branch_scope, has_perm_anywhere, in_scope, scope_paths
from branches.selectors import unit_list
from branches.views import add_action_error
from core.exceptions import Conflict
from core.pagination import InvalidCursor, keyset_paginate, page_query
from members import actions
from members.actions import AUDIT_FIELDS
from members.choices import AffiliationKind
from members.filters import MemberFilter
from members.forms import (
    MEMBER_PLAIN_FIELDS,
    AffiliationAddForm,
    AffiliationEndForm,
    MemberForm,
    MemberListFilter,
    MemberLookupForm,
    MemberSelfForm,
    MemberSortForm,
)
from members.models import Affiliation, Member
from members.permissions import may_view_sensitive
from members.selectors import affiliation_list, member_history, member_list, member_of_user, platform_list
from members.signals import SELF_SESSION_KEY
from members.validators import validate_citizen_id

PER_PAGE = 50
HISTORY_PER_PAGE = 20

_sensitive = method_decorator(sensitive_post_parameters("citizen_id", "phone"), name="dispatch")
_no_store = method_decorator(never_cache, name="dispatch")


def _scope_depth(user, perm: str) -> int:
    """Depth of the top of the user's scope (no query), so indented branch lists start at the left edge."""
    paths = scope_paths(user, perm)
    if not paths:
        return 0
    return min(path.strip("/").count("/") for path in paths)


def _add_member_error(form, exc) -> None:
    """An action's refusal on the form; the action's `user` field is the form's `username`."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict") and "user" in exc.error_dict:
        exc = ValidationError({("username" if k == "user" else k): v for k, v in exc.error_dict.items()})
    add_action_error(form, exc)


def _wants_full(request) -> bool:
    return request.GET.get("show") == "full"


#
# List
#
@_no_store
class MemberListView(TemplateView):
    """Filtered, sorted members of the user's scope, a page at a time (keyset: no count, no offset)."""

    template_name = "members/member_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        request, user = self.request, self.request.user
        branches = list(branch_scope(user, "members.view").order_by("path").only("id", "name", "path", "depth"))
        units = list(unit_list(actor=user).select_related(None).order_by("name").only("id", "name"))
        filterset = MemberListFilter(
            request.GET,
            queryset=member_list(actor=user).select_related("unit"),
            request=request,
            branches=branches,
            units=units,
            platforms=list(platform_list()),
        )
        sort_form = MemberSortForm(request.GET)
        ordering = sort_form.ordering()
        if filterset.is_valid():
            try:
                page = keyset_paginate(
                    filterset.qs, ordering=ordering, cursor=request.GET.get("cursor"), per_page=PER_PAGE
                )
            except InvalidCursor:
                page = keyset_paginate(filterset.qs, ordering=ordering, cursor=None, per_page=PER_PAGE)
        else:
            page = None
        members = page.object_list if page else []
        may_reveal = has_perm_anywhere(user, "members.change")
        revealed = actions.member_reveal(actor=user, members=members) if may_reveal and _wants_full(request) else set()
        filter_query = request.GET.copy()
        for key in ("cursor", "show"):
            filter_query.pop(key, None)
        context.update(
            {
                "filterset": filterset,
                "sort_form": sort_form,
                "page": page,
                "rows": [(m, m.pk in revealed) for m in members],
                "next_url": page_query(request.GET, page.next_cursor) if page and page.has_next else None,
                "previous_url": page_query(request.GET, page.previous_cursor) if page and page.has_previous else None,
                "may_reveal": may_reveal,
                "showing_full": bool(revealed) or (may_reveal and _wants_full(request)),
                "show_full_url": _with_param(request.GET, "show", "full"),
                "hide_full_url": _with_param(request.GET, "show", None),
                "filter_query": filter_query.urlencode(),
                "can_add": has_perm_anywhere(user, "members.change"),
                "can_view": has_perm_anywhere(user, "members.view"),
                "lookup_form": MemberLookupForm(),
            }
        )
        return context


def _with_param(query, key: str, value: str | None) -> str:
    query = query.copy()
    query.pop(key, None)
    if value is not None:
        query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@method_decorator(sensitive_post_parameters("citizen_id"), name="dispatch")
class MemberLookupView(View):
    """Exact search by full citizen ID number, sent by POST; answers with a redirect to the record."""

    def get(self, request, *args, **kwargs):
        return HttpResponseNotAllowed(["POST"])

    def post(self, request, *args, **kwargs):
        form = MemberLookupForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Enter a citizen ID number to look for."))
            return redirect("members:member_list")
        try:
            validate_citizen_id(form.cleaned_data["citizen_id"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("members:member_list")
        filterset = MemberFilter(
            data={"citizen_id": form.cleaned_data["citizen_id"]},
            queryset=member_list(actor=request.user),
            request=request,
            allow_citizen_id=True,
        )
        member = filterset.qs.first() if filterset.is_valid() else None
        if member is None:
            messages.error(request, _("No member in your scope has this citizen ID number."))
            return redirect("members:member_list")
        return redirect("members:member_detail", pk=member.pk)


#
# Detail and history
#
_ACTION_LABELS = {
    "members.member.created": gettext_lazy("Record created"),
    "members.member.updated": gettext_lazy("Record changed"),
    "members.member.self_updated": gettext_lazy("Changed by the member"),
    "members.member.deleted": gettext_lazy("Record deleted"),
    "members.affiliation.added": gettext_lazy("Affiliation added"),
    "members.affiliation.ended": gettext_lazy("Affiliation ended"),
}
_SENSITIVE_LABELS = {"citizen_id": gettext_lazy("Citizen ID number"), "phone": gettext_lazy("Phone")}
#: Keys that would hold plain sensitive values; never shown, whatever an entry contains.
_NEVER_SHOWN = {"citizen_id", "phone", "citizen_id_cipher", "citizen_id_hash", "phone_cipher"}
_FIELD_NAMES = {*AUDIT_FIELDS, "platforms"}


class _Names:
    """Names of the branches, units, users, platforms and affiliations an audit page mentions, read in bulk."""

    def __init__(self, entries):
        branch_ids, unit_ids, user_ids, affiliation_ids = set(), set(), set(), set()
        for entry in entries:
            for values in (entry.before or {}, entry.after or {}):
                branch_ids.add(values.get("branch"))
                unit_ids.add(values.get("unit"))
                user_ids.add(values.get("user"))
            data = entry.data or {}
            branch_ids.add(data.get("branch"))
            affiliation_ids.add(data.get("affiliation"))
        self.branches = self._load(Branch.all_objects, branch_ids, "name")
        self.units = self._load(Unit.all_objects, unit_ids, "name")
        users = self._ids(user_ids)
        self.users = {str(u.pk): str(u) for u in get_user_model().objects.filter(pk__in=users)} if users else {}
        affiliations = self._uuids(affiliation_ids)
        self.affiliations = (
            {str(a.pk): a for a in Affiliation.objects.filter(pk__in=affiliations).select_related("branch")}
            if affiliations
            else {}
        )
        self.platforms = {p.code: p.name for p in platform_list()}

    @staticmethod
    def _ids(values) -> list:
        return [v for v in values if v not in (None, "")]

    def _uuids(self, values) -> list[str]:
        out = []
        for value in self._ids(values):
            try:
                out.append(str(uuid.UUID(str(value))))
            except ValueError:
                continue
        return out

    def _load(self, manager, ids, attr) -> dict:
        ids = self._uuids(ids)
        if not ids:
            return {}
        return {str(obj.pk): getattr(obj, attr) for obj in manager.filter(pk__in=ids)}


def _display(name: str, value, names: _Names) -> str:
    """A before/after value as a person reads it: labels for choices, names for ids, dates formatted."""
    if value in (None, "", []):
        return "—"
    if name == "branch":
        return names.branches.get(str(value), _("(removed organisation)"))
    if name == "unit":
        return names.units.get(str(value), _("(removed unit)"))
    if name == "user":
        return names.users.get(str(value), _("(removed account)"))
    if name == "platforms":
        return ", ".join(names.platforms.get(code, code) for code in value)
    try:
        field = Member._meta.get_field(name)
    except Exception:
        return str(value)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if field.get_internal_type() == "BooleanField":
        return _("Yes") if value else _("No")
    if field.get_internal_type() == "DateField":
        try:
            return formats.date_format(datetime.date.fromisoformat(value), "DATE_FORMAT")
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def _label(name: str) -> str:
    if name in _FIELD_NAMES:
        return capfirst(str(Member._meta.get_field(name).verbose_name))
    return name


def history_rows(entries) -> list[dict]:
    """Audit entries as rows of the history table: who, when, what, and each field's before → after."""
    names = _Names(entries)
    rows = []
    for entry in entries:
        before, after = entry.before or {}, entry.after or {}
        changes = []
        for key in [k for k in {**before, **after} if k not in _NEVER_SHOWN]:
            if not before and after.get(key) in (None, "", [], False):
                continue  # a new record: list what it holds, not every empty field
            changes.append(
                {
                    "label": _label(key),
                    "before": _display(key, before.get(key), names) if key in before else None,
                    "after": _display(key, after.get(key), names) if key in after else None,
                }
            )
        rows.append(
            {
                "entry": entry,
                "action": _ACTION_LABELS.get(entry.action, entry.action),
                "actor": str(entry.actor) if entry.actor else _("System"),
                "changes": changes,
                "notes": _entry_notes(entry, names),
            }
        )
    return rows


def _entry_notes(entry, names: _Names) -> list[str]:
    data = entry.data or {}
    shown = {*(entry.before or {}), *(entry.after or {})}
    # A changed number whose mask stayed the same (same region and last four) would not show otherwise.
    notes = [
        _("%(field)s changed; its masked form looks the same.") % {"field": _SENSITIVE_LABELS[name]}
        for name in data.get("sensitive_changed") or []
        if name in _SENSITIVE_LABELS and f"{name}_masked" not in shown
    ]
    if entry.action == "members.affiliation.added":
        kind = dict(AffiliationKind.choices).get(data.get("kind"), data.get("kind"))
        notes.append(
            _("Takes part in %(branch)s (%(kind)s) from %(date)s.")
            % {
                "branch": names.branches.get(str(data.get("branch")), _("(removed organisation)")),
                "kind": kind,
                "date": _display("joined_on", data.get("started_on"), names),
            }
        )
    elif entry.action == "members.affiliation.ended":
        affiliation = names.affiliations.get(str(data.get("affiliation")))
        notes.append(
            _("No longer takes part in %(branch)s after %(date)s.")
            % {
                "branch": affiliation.branch.name if affiliation else _("(removed organisation)"),
                "date": _display("joined_on", data.get("ended_on"), names),
            }
        )
    elif data.get("reason"):
        notes.append(_("Reason: %(reason)s") % {"reason": data["reason"]})
    return notes


@_no_store
class MemberDetailView(TemplateView):
    """Profile, affiliations (with their forms for those who may change) and the history of changes."""

    template_name = "members/member_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        request, user = self.request, self.request.user
        member = get_object_or_404(member_list(actor=user).select_related("unit", "user"), pk=kwargs["pk"])
        may_reveal = may_view_sensitive(user, member)
        revealed = (
            bool(actions.member_reveal(actor=user, members=[member])) if may_reveal and _wants_full(request) else False
        )
        can_change = in_scope(user, "members.change", member.branch)
        affiliations = list(affiliation_list(member=member))
        try:
            history = keyset_paginate(
                member_history(member=member),
                ordering=("-at", "-id"),
                cursor=request.GET.get("history"),
                per_page=HISTORY_PER_PAGE,
            )
        except InvalidCursor:
            history = keyset_paginate(
                member_history(member=member), ordering=("-at", "-id"), cursor=None, per_page=HISTORY_PER_PAGE
            )
        masked_query = request.GET.copy()
        masked_query.pop("show", None)  # paging the history is not a new request to see full numbers
        context.update(
            {
                "member": member,
                "revealed": revealed,
                "may_reveal": may_reveal,
                "show_full_url": _with_param(request.GET, "show", "full"),
                "hide_full_url": _with_param(request.GET, "show", None),
                "can_change": can_change,
                "affiliations": [
                    (
                        a,
                        in_scope(user, "branches.view", a.branch),
                        AffiliationEndForm(member=member, initial={"affiliation": a.pk}),
                    )
                    for a in affiliations
                ],
                "history": history_rows(history.object_list),
                "history_older_url": page_query(masked_query, history.next_cursor, param="history")
                if history.has_next
                else None,
                "history_newer_url": page_query(masked_query, history.previous_cursor, param="history")
                if history.has_previous
                else None,
                "branch_viewable": in_scope(user, "branches.view", member.branch),
            }
        )
        return context


#
# Create and edit
#
class _MemberFormMixin:
    """Choices offered by the member form: formal branches of the user's change scope, units of the unit scope."""

    def member_form_kwargs(self, member: Member | None = None) -> dict:
        user = self.request.user
        units = Q(pk__in=unit_list(actor=user).values("pk"))
        if member is not None and member.unit_id:
            units |= Q(pk=member.unit_id)  # kept on edit even when it lies outside the user's unit scope
        return {
            "branches": branch_scope(user, "members.change").order_by("path"),
            "units": Unit.objects.filter(units).order_by("name"),
            "platforms": platform_list(),
            "base_depth": _scope_depth(user, "members.change"),
        }


@_no_store
@_sensitive
class MemberCreateView(_MemberFormMixin, FormView):
    template_name = "members/member_form.html"
    form_class = MemberForm

    def dispatch(self, request, *args, **kwargs):
        if not has_perm_anywhere(request.user, "members.change"):
            raise PermissionDenied(_("You may not record members."))
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        """The top of the user's change scope when it has one top (a secretary's own branch)."""
        paths = scope_paths(self.request.user, "members.change")
        if paths and len(paths) == 1:
            return {"branch": uuid.UUID(hex=paths[0].strip("/").split("/")[-1])}
        return {}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), **self.member_form_kwargs()}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update({"title": _("New member"), "submit_label": _("Create"), "form_id": "member-create-form"})
        return context

    def form_valid(self, form):
        try:
            member = actions.member_create(actor=self.request.user, **form.action_data())
        except (ValidationError, Conflict) as exc:
            _add_member_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Member “%(name)s” recorded.") % {"name": member.name})
        return redirect("members:member_detail", pk=member.pk)


class MemberChangeMixin:
    """Loads `self.member` from the user's scope (404 outside) and requires change rights there (403)."""

    def dispatch(self, request, *args, **kwargs):
        self.member = get_object_or_404(
            member_list(actor=request.user).select_related("unit", "user"), pk=kwargs["pk"]
        )
        if not in_scope(request.user, "members.change", self.member.branch):
            raise PermissionDenied(_("You may not change this member's record."))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["member"] = self.member
        return context


@_no_store
@_sensitive
class MemberUpdateView(MemberChangeMixin, _MemberFormMixin, FormView):
    template_name = "members/member_form.html"
    form_class = MemberForm

    def get_form_kwargs(self):
        member = self.member
        initial = {name: getattr(member, name) for name in MEMBER_PLAIN_FIELDS}
        initial.update(
            branch=member.branch_id,
            unit=member.unit_id,
            platforms=[p.pk for p in member.platforms.all()],
            username=member.user.username if member.user else "",
        )
        return {**super().get_form_kwargs(), **self.member_form_kwargs(member), "member": member, "initial": initial}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update({"title": _("Edit member"), "submit_label": _("Save"), "form_id": "member-edit-form"})
        return context

    def form_valid(self, form):
        try:
            member = actions.member_update(actor=self.request.user, member=self.member, **form.action_data())
        except (ValidationError, Conflict) as exc:
            _add_member_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Member “%(name)s” saved.") % {"name": member.name})
        return redirect("members:member_detail", pk=member.pk)


#
# Affiliations
#
class AffiliationAddView(MemberChangeMixin, FormView):
    """The member takes part in another branch; any live branch may be chosen (a host branch lies elsewhere)."""

    template_name = "members/affiliation_form.html"
    form_class = AffiliationAddForm

    def get_form_kwargs(self):
        branches = (
            Branch.objects.exclude(pk=self.member.branch_id).order_by("path").only("id", "name", "path", "depth")
        )
        return {**super().get_form_kwargs(), "branches": branches, "initial": {"started_on": timezone.localdate()}}

    def form_valid(self, form):
        try:
            affiliation = actions.affiliation_add(actor=self.request.user, member=self.member, **form.cleaned_data)
        except (ValidationError, Conflict) as exc:
            add_action_error(form, exc)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("%(name)s now takes part in “%(branch)s”.")
            % {"name": self.member.name, "branch": affiliation.branch.name},
        )
        return redirect(reverse("members:member_detail", kwargs={"pk": self.member.pk}) + "#affiliations")


class AffiliationEndView(MemberChangeMixin, View):
    """Ends one of the member's open affiliations (posted from the detail page)."""

    def post(self, request, *args, **kwargs):
        form = AffiliationEndForm(request.POST, member=self.member)
        target = reverse("members:member_detail", kwargs={"pk": self.member.pk}) + "#affiliations"
        if not form.is_valid():
            messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
            return redirect(target)
        affiliation = form.cleaned_data["affiliation"]
        try:
            actions.affiliation_end(
                actor=request.user, affiliation=affiliation, ended_on=form.cleaned_data["ended_on"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(target)
        except Conflict as exc:
            messages.error(request, str(exc))
            return redirect(target)
        messages.success(
            request, _("The affiliation with “%(branch)s” has ended.") % {"branch": affiliation.branch.name}
        )
        return redirect(target)


#
# The member's own record
#
@_no_store
@_sensitive
class MemberSelfView(FormView):
    """A signed-in member's own record, in full; they may change their phone and address, nothing else."""

    template_name = "members/member_self.html"
    form_class = MemberSelfForm

    def dispatch(self, request, *args, **kwargs):
        self.member = member_of_user(user=request.user)
        linked = self.member is not None
        if request.session.get(SELF_SESSION_KEY) != linked:
            request.session[SELF_SESSION_KEY] = linked
        if not linked:
            return render(request, "members/member_self_none.html")
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return {"phone": self.member.phone, "address": self.member.address}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.request.method == "GET":
            # The member sees their own full numbers; like every full view, it is audited.
            actions.member_reveal(actor=self.request.user, members=[self.member])
        context.update({"member": self.member, "affiliations": list(affiliation_list(member=self.member))})
        return context

    def form_valid(self, form):
        try:
            actions.member_self_update(
                actor=self.request.user,
                member=self.member,
                phone=form.cleaned_data["phone"],
                address=form.cleaned_data["address"],
            )
        except ValidationError as exc:
            add_action_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Your phone number and address are saved."))
        return redirect("members:member_self")
