"""Member import and export pages.

Import, in two steps (members/actions/imports.py): upload → preview (every bad row with its reason) →
the user's choice (all or nothing, or only the valid rows) → done. Files of up to
settings.MEMBERS_IMPORT_SYNC_MAX_ROWS rows are checked and written within the request; larger ones by
Celery tasks, while the job page shows a progress bar that htmx refreshes every second. An import is
seen only by the person who uploaded it (others get a 404).

Export: the list page's filters and sort (its query string, passed through) to XLSX or CSV; the
export page first says how many rows and whether numbers will be masked, then the file is built and
the export audited.
"""

import csv
import io

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, TemplateView

from branches.models import Branch
from branches.permissions import branch_scope, has_perm_anywhere
from core.exceptions import Conflict
from members import actions, exports, importing
from members.choices import ImportFormat, ImportMode, ImportStatus
from members.filters import MemberFilter
from members.forms import MemberSortForm
from members.importing import ImportFileError
from members.selectors import import_job_list, member_list
from members.tasks import import_commit as import_commit_task
from members.tasks import import_validate as import_validate_task

#: Above this many organisations in scope the upload form asks for an id instead of offering a list.
BRANCH_SELECT_LIMIT = 300
#: Bad rows listed on the preview page; all of them are in the downloadable report.
ERRORS_SHOWN = 200
#: Query parameters of the list page that are not filters.
_NOT_FILTERS = ("cursor", "show", "format", "masked")

_no_store = method_decorator(never_cache, name="dispatch")


def _runs_in_request(rows: int) -> bool:
    return 0 < rows <= settings.MEMBERS_IMPORT_SYNC_MAX_ROWS


def _chinese() -> bool:
    return (translation.get_language() or "").lower().startswith("zh")


#
# Forms
#
class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("An .xlsx workbook or a .csv file (UTF-8 or GB18030), with the template's columns."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )
    branch = forms.ModelChoiceField(
        queryset=Branch.objects.none(),
        required=False,
        label=gettext_lazy("Organisation for rows without one"),
        help_text=gettext_lazy("Used for every row whose organisation column is empty (or when the file has none)."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        scope = branch_scope(user, "members.change").order_by("path")
        field = self.fields["branch"]
        field.queryset = scope
        if scope.count() > BRANCH_SELECT_LIMIT:
            field.widget = forms.TextInput(attrs={"placeholder": "00000000-0000-0000-0000-000000000000"})
            field.help_text = gettext_lazy("The id of the organisation (it is in the address of its page).")
        else:
            field.empty_label = _("None: each row names its organisation")
            field.label_from_instance = lambda branch: "\u00a0\u00a0" * branch.depth + branch.name

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.MEMBERS_IMPORT_MAX_BYTES:
            raise forms.ValidationError(importing.too_large_message())
        return upload


class ImportCommitForm(forms.Form):
    mode = forms.ChoiceField(choices=ImportMode.choices, widget=forms.RadioSelect, label=gettext_lazy("How to import"))


#
# Import
#
@_no_store
class MemberImportView(FormView):
    """Upload page: the file, an organisation for rows without one, the templates and the column guide."""

    template_name = "members/import_form.html"
    form_class = ImportUploadForm

    def dispatch(self, request, *args, **kwargs):
        if not has_perm_anywhere(request.user, "members.change"):
            raise PermissionDenied(_("You may not import members."))
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        branch = self.request.GET.get("branch")
        if branch and "data" not in kwargs:
            kwargs["initial"] = {"branch": branch}
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            {
                "columns": importing.column_notes(),
                "max_megabytes": f"{settings.MEMBERS_IMPORT_MAX_BYTES / (1024 * 1024):g}",
                "sync_max_rows": settings.MEMBERS_IMPORT_SYNC_MAX_ROWS,
                "recent_jobs": import_job_list(actor=self.request.user)[:10],
            }
        )
        return context

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        try:
            job = actions.import_job_create(
                actor=self.request.user,
                data=upload.read(),
                filename=upload.name or "",
                default_branch=form.cleaned_data.get("branch"),
                language=translation.get_language() or "",
            )
        except ImportFileError as exc:
            for message in exc.messages:
                form.add_error("file", message)
            return self.form_invalid(form)
        if _runs_in_request(job.rows_total):
            actions.import_job_validate(job=job)
        else:
            job_id = str(job.pk)
            transaction.on_commit(lambda: import_validate_task.delay(job_id=job_id))
        return redirect("members:member_import_job", pk=job.pk)


class ImportTemplateView(View):
    """The empty template, as XLSX (with drop-down lists and a sheet explaining the columns) or CSV."""

    def get(self, request, fmt: str):
        if fmt == ImportFormat.XLSX:
            content, content_type = importing.template_xlsx(), exports.CONTENT_TYPES[ImportFormat.XLSX]
        elif fmt == ImportFormat.CSV:
            content, content_type = importing.template_csv(), exports.CONTENT_TYPES[ImportFormat.CSV]
        else:
            raise Http404
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="member-import-template.{fmt}"'
        return response


def _job_context(job, commit_form) -> dict:
    return {
        "job": job,
        "errors_shown": job.row_errors[:ERRORS_SHOWN],
        "errors_hidden": max(0, len(job.row_errors) - ERRORS_SHOWN),
        "commit_form": commit_form,
        "statuses": ImportStatus,
    }


class _JobMixin:
    """Loads `self.job` among the user's own imports (404 for anyone else's)."""

    def dispatch(self, request, *args, **kwargs):
        self.job = get_object_or_404(import_job_list(actor=request.user), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)


@_no_store
class ImportJobView(_JobMixin, TemplateView):
    """One import: its progress while it runs, the preview and the choice once checked, the outcome at the end."""

    template_name = "members/import_job.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        initial_mode = ImportMode.VALID_ONLY if self.job.rows_invalid else ImportMode.ALL_OR_NOTHING
        context.update(_job_context(self.job, ImportCommitForm(initial={"mode": initial_mode})))
        return context


class ImportJobProgressView(_JobMixin, View):
    """The progress bar, polled by htmx every second; once the job stops running the page reloads itself."""

    def get(self, request, pk):
        if not self.job.is_running:
            if request.headers.get("HX-Request"):
                response = HttpResponse(status=204)
                response["HX-Refresh"] = "true"
                return response
            return redirect("members:member_import_job", pk=self.job.pk)
        return render(request, "members/import_progress.html", {"job": self.job})


class ImportJobCommitView(_JobMixin, View):
    """The user's choice after the preview: all or nothing, or only the valid rows."""

    def post(self, request, pk):
        form = ImportCommitForm(request.POST)
        if not form.is_valid():
            return render(request, ImportJobView.template_name, _job_context(self.job, form), status=400)
        try:
            job = actions.import_job_commit_start(actor=request.user, job=self.job, mode=form.cleaned_data["mode"])
        except Conflict as exc:
            messages.error(request, str(exc))
            return redirect("members:member_import_job", pk=self.job.pk)
        if _runs_in_request(job.rows_total):
            actions.import_job_commit(job=job)
        else:
            job_id = str(job.pk)
            transaction.on_commit(lambda: import_commit_task.delay(job_id=job_id))
        return redirect("members:member_import_job", pk=job.pk)


class ImportJobErrorsView(_JobMixin, View):
    """Every bad row of an import as CSV: row, column, reason (never a cell's value)."""

    def get(self, request, pk):
        lines = [[_("Row"), _("Column"), _("Reason")]]
        for number, errors in self.job.row_errors:
            lines.extend([number, column, message] for column, message in errors)
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows([[exports.neutralise(v) for v in line] for line in lines])
        response = HttpResponse(buffer.getvalue().encode("utf-8-sig"), content_type=exports.CONTENT_TYPES["csv"])
        response["Content-Disposition"] = 'attachment; filename="member-import-errors.csv"'
        return response


#
# Export
#
@_no_store
class MemberExportView(View):
    """Export of the list page's current selection; without `format`, a page that says what will be exported."""

    template_name = "members/member_export.html"

    def get(self, request):
        user = request.user
        if not has_perm_anywhere(user, "members.view"):
            raise PermissionDenied(_("Your roles do not include member records of any organisation."))
        data = request.GET.copy()
        for key in _NOT_FILTERS:
            data.pop(key, None)
        filterset = MemberFilter(data, queryset=member_list(actor=user), request=request)
        ordering = MemberSortForm(data).ordering()
        file_format = request.GET.get("format")
        masked = request.GET.get("masked") == "1"
        may_see_full = has_perm_anywhere(user, "members.change")
        if not filterset.is_valid() or file_format not in (None, *ImportFormat.values):
            return render(
                request,
                self.template_name,
                {"filterset": filterset, "invalid": True, "list_query": data.urlencode()},
                status=400,
            )
        queryset = filterset.qs.order_by(*ordering)
        if file_format is None:
            return render(
                request,
                self.template_name,
                {
                    "filterset": filterset,
                    "rows": queryset.count(),
                    "may_see_full": may_see_full,
                    "list_query": data.urlencode(),
                    "formats": ImportFormat.choices,
                },
            )
        result = exports.export_members(
            queryset, actor=user, file_format=file_format, chinese=_chinese(), masked=masked
        )
        actions.member_export_record(
            actor=user,
            file_format=file_format,
            filters={key: data.getlist(key) for key in sorted(data) if any(data.getlist(key))},
            rows=result.rows,
            full_rows=result.full_rows,
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return FileResponse(
            result.file,
            as_attachment=True,
            filename=f"members-{stamp}.{file_format}",
            content_type=exports.CONTENT_TYPES[file_format],
        )
