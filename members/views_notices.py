"""Pages of notices (党务公开): the managing side (/notices/manage/), members' notices (/notices/), the public
pages (/public/notices/, no login).

Managers reach notices through `notice_list(actor=...)` (404 outside their scope) and see them in every
state; the actions check "notices.change" again. A member reaches the notices of their formal branch and
the branches above it; the public, the public notices. A notice outside its window opened by a reader is a
page saying which (not yet shown: 404; expired or withdrawn: 410), never its content. Lists are keyset
pages: no COUNT, the same cost on every page.
"""

from http import HTTPStatus

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, TemplateView

from branches.forms import IndentedSelect
from branches.permissions import branch_scope, has_perm_anywhere, in_scope
from branches.views import add_action_error
from core.exceptions import Conflict
from core.pagination import InvalidCursor, keyset_paginate, page_query
from core.uploads import attachment_response
from members.actions import notices as notice_actions
from members.filters_notices import NoticeFilter
from members.forms_notices import DuesPublicationForm, NoticeAttachmentForm, NoticeForm, NoticeWithdrawForm
from members.models import Notice
from members.models.notices import NoticeStatus
from members.selectors import member_of_user
from members.selectors_notices import (
    member_notice_list,
    member_notice_scope,
    notice_list,
    notice_read_summary,
    notice_unread_members,
    public_notice_list,
    public_notice_scope,
)

PER_PAGE = 50
#: Newest first; the keyset needs the unique id last.
NOTICE_ORDERING = ("-publish_from", "-id")
UNREAD_ORDERING = ("name_pinyin", "id")


def _page(request, queryset, ordering) -> dict:
    """A keyset page of `queryset` and the query strings of its neighbours (a bad cursor shows page one)."""
    try:
        page = keyset_paginate(queryset, ordering=ordering, cursor=request.GET.get("cursor"), per_page=PER_PAGE)
    except InvalidCursor:
        page = keyset_paginate(queryset, ordering=ordering, cursor=None, per_page=PER_PAGE)
    return {
        "page": page,
        "next_query": page_query(request.GET, page.next_cursor) if page.has_next else None,
        "previous_query": page_query(request.GET, page.previous_cursor) if page.has_previous else None,
    }


def _unavailable(request, notice: Notice, *, manage_url: str | None = None):
    """The page for a notice its reader may know of but not read now: not yet shown (404), or over (410)."""
    state = notice.window_state()
    status = HTTPStatus.NOT_FOUND if state == "pending" else HTTPStatus.GONE
    return render(
        request,
        "notices/notice_unavailable.html",
        {"notice": notice, "state": state, "manage_url": manage_url},
        status=status,
    )


def _download(attachment):
    return attachment_response(attachment.file, name=attachment.name, content_type=attachment.content_type)


def _manage_notice(user, pk) -> Notice:
    return get_object_or_404(notice_list(actor=user), pk=pk)


#
# The managing side
#
@method_decorator(never_cache, name="dispatch")
class NoticeManageListView(TemplateView):
    """Notices of the organisations in the user's scope, any state, filtered by organisation, status, category."""

    template_name = "notices/manage_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        if not has_perm_anywhere(user, "notices.view"):
            raise PermissionDenied(_("You may not manage notices."))
        filterset = NoticeFilter(self.request.GET, queryset=notice_list(actor=user))
        branches = branch_scope(user, "notices.view").order_by("path").only("id", "name", "path", "depth")
        filterset.form.fields["branch"].widget = IndentedSelect(
            choices=[("", "—"), *((b.pk, b.name) for b in branches)]
        )
        rows = filterset.qs if filterset.is_valid() else Notice.objects.none()
        context.update(
            filterset=filterset,
            can_add=has_perm_anywhere(user, "notices.change"),
            now=timezone.now(),
            **_page(self.request, rows, NOTICE_ORDERING),
        )
        return context


class _NoticeFormView(FormView):
    template_name = "notices/notice_form.html"
    form_class = NoticeForm

    def get_context_data(self, **kwargs):
        return super().get_context_data(notice=getattr(self, "notice", None), **kwargs)

    def run(self, form) -> Notice:
        raise NotImplementedError

    def form_valid(self, form):
        try:
            notice = self.run(form)
        except (ValidationError, Conflict) as exc:
            add_action_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Notice saved as a draft."))
        return redirect("notices:notice_manage", pk=notice.pk)


@method_decorator(never_cache, name="dispatch")
class NoticeCreateView(_NoticeFormView):
    def dispatch(self, request, *args, **kwargs):
        if not has_perm_anywhere(request.user, "notices.change"):
            raise PermissionDenied(_("You may not write notices."))
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        branches = branch_scope(self.request.user, "notices.change").order_by("path")
        return {**super().get_form_kwargs(), "branches": branches.only("id", "name", "path", "depth")}

    def get_initial(self):
        return {"branch": self.request.GET.get("branch")}

    def run(self, form) -> Notice:
        return notice_actions.notice_create(actor=self.request.user, **form.action_data())


@method_decorator(never_cache, name="dispatch")
class NoticeUpdateView(_NoticeFormView):
    def dispatch(self, request, *args, **kwargs):
        self.notice = _manage_notice(request.user, kwargs["pk"])
        if not in_scope(request.user, "notices.change", self.notice.branch):
            raise PermissionDenied(_("You may not manage notices of this organisation."))
        if self.notice.status != NoticeStatus.DRAFT:
            messages.error(request, _("Only a draft can be edited."))
            return redirect("notices:notice_manage", pk=self.notice.pk)
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        notice = self.notice
        return {
            "title": notice.title,
            "body": notice.body,
            "category": notice.category,
            "audience": notice.audience,
            "publish_from": timezone.localtime(notice.publish_from),
            "publish_until": timezone.localtime(notice.publish_until) if notice.publish_until else None,
        }

    def run(self, form) -> Notice:
        return notice_actions.notice_update(actor=self.request.user, notice=self.notice, **form.action_data())


@method_decorator(never_cache, name="dispatch")
class NoticeManageDetailView(TemplateView):
    """A notice as its managers see it, in any state: content, attachments, buttons, and read receipts
    (how many of the members addressed have read it, and a page of those who have not)."""

    template_name = "notices/manage_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        notice = _manage_notice(user, kwargs["pk"])
        can_change = in_scope(user, "notices.change", notice.branch)
        context.update(
            notice=notice,
            state=notice.window_state(),
            can_change=can_change,
            attachment_form=NoticeAttachmentForm() if can_change and notice.status != NoticeStatus.WITHDRAWN else None,
            withdraw_form=NoticeWithdrawForm() if can_change and notice.status == NoticeStatus.PUBLISHED else None,
        )
        if notice.status != NoticeStatus.DRAFT:
            context["summary"] = notice_read_summary(notice=notice)
            context.update(_page(self.request, notice_unread_members(notice=notice), UNREAD_ORDERING))
        return context


class _NoticePostView(View):
    """A button on the managing detail page: run one action, say how it went, back to the page."""

    success_message = ""

    def run(self, request, notice: Notice):
        raise NotImplementedError

    def post(self, request, pk):
        notice = _manage_notice(request.user, pk)
        try:
            self.run(request, notice)
        except (ValidationError, Conflict) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, self.success_message)
        return redirect("notices:notice_manage", pk=notice.pk)


class NoticePublishView(_NoticePostView):
    success_message = _("The notice is published.")

    def run(self, request, notice):
        notice_actions.notice_publish(actor=request.user, notice=notice)


class NoticeWithdrawView(_NoticePostView):
    success_message = _("The notice was withdrawn.")

    def run(self, request, notice):
        form = NoticeWithdrawForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        notice_actions.notice_withdraw(actor=request.user, notice=notice, reason=reason)


class NoticeAttachView(_NoticePostView):
    success_message = _("The file was attached.")

    def run(self, request, notice):
        form = NoticeAttachmentForm(request.POST, request.FILES)
        if not form.is_valid():
            raise ValidationError([e for errors in form.errors.values() for e in errors])
        notice_actions.notice_attachment_add(
            actor=request.user, notice=notice, upload=form.cleaned_data["file"], name=form.cleaned_data["name"]
        )


class DuesPublicationView(View):
    """From the yearly dues report: prepare the year's dues publication as a draft notice and open it."""

    def post(self, request):
        form = DuesPublicationForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose an organisation and a year first."))
            return redirect("members:dues_report")
        branch = get_object_or_404(branch_scope(request.user, "dues.view"), pk=form.cleaned_data["branch"])
        try:
            notice = notice_actions.notice_publish_dues(
                actor=request.user, branch=branch, year=form.cleaned_data["year"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(f"{reverse('members:dues_report')}?branch={branch.pk}&year={form.cleaned_data['year']}")
        messages.success(request, _("The dues publication was prepared as a draft: check it, then publish it."))
        return redirect("notices:notice_manage", pk=notice.pk)


#
# Members
#
@method_decorator(never_cache, name="dispatch")
class MyNoticeListView(TemplateView):
    """The notices a member may read now (their branch's and those above it), newest first, unread marked."""

    template_name = "notices/my_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        member = member_of_user(user=self.request.user)
        context.update(member=member, can_manage=has_perm_anywhere(self.request.user, "notices.view"))
        if member is not None:
            context.update(
                _page(self.request, member_notice_list(member=member, user=self.request.user), NOTICE_ORDERING)
            )
        return context


def _reader_notice(request, pk):
    """(notice, manage url) for a reader: the member's notice in any state but draft; a manager's in scope."""
    member = member_of_user(user=request.user)
    manageable = notice_list(actor=request.user).filter(pk=pk).exists()
    manage_url = None
    if manageable:
        manage_url = reverse("notices:notice_manage", kwargs={"pk": pk})
    notice = None
    if member is not None:
        notice = member_notice_scope(member=member).select_related("branch").prefetch_related("attachments")
        notice = notice.filter(pk=pk).first()
    return notice, manage_url


@method_decorator(never_cache, name="dispatch")
class NoticeDetailView(View):
    """A notice as a member reads it; opening it records the read receipt."""

    def get(self, request, pk):
        notice, manage_url = _reader_notice(request, pk)
        if notice is None:
            if manage_url:
                return redirect(manage_url)
            raise Http404
        if notice.window_state() != "open":
            return _unavailable(request, notice, manage_url=manage_url)
        notice_actions.notice_mark_read(user=request.user, notice=notice)
        return render(request, "notices/notice_detail.html", {"notice": notice, "manage_url": manage_url})


@method_decorator(never_cache, name="dispatch")
class NoticeAttachmentView(View):
    """An attachment, for the notice's managers (any state) and its readers (while it is shown)."""

    def get(self, request, pk, attachment_pk):
        notice = notice_list(actor=request.user).filter(pk=pk).first()
        if notice is None:
            notice, _manage_url = _reader_notice(request, pk)
            if notice is None or notice.window_state() != "open":
                raise Http404
        return _download(get_object_or_404(notice.attachments.all(), pk=attachment_pk))


#
# The public (no login)
#
@login_not_required
def public_notice_list_view(request):
    """Public notices shown now, newest first."""
    return render(request, "notices/public_list.html", _page(request, public_notice_list(), NOTICE_ORDERING))


@login_not_required
def public_notice_detail_view(request, pk):
    notice = public_notice_scope().select_related("branch").prefetch_related("attachments").filter(pk=pk).first()
    if notice is None:
        raise Http404
    if notice.window_state() != "open":
        return _unavailable(request, notice)
    return render(request, "notices/public_detail.html", {"notice": notice})


@login_not_required
def public_notice_attachment_view(request, pk, attachment_pk):
    notice = public_notice_list().filter(pk=pk).first()
    if notice is None:
        raise Http404
    return _download(get_object_or_404(notice.attachments.all(), pk=attachment_pk))
