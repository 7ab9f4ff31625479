"""Forms of the notice pages: input shape only; the rules (window, audience, scope, state) live in the actions."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branches.forms import IndentedSelect
from members.models.notices import NoticeAudience, NoticeCategory

_DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class NoticeForm(forms.Form):
    """A notice's content and window; `branch` only when creating (a notice never changes owner)."""

    branch = forms.ModelChoiceField(queryset=None, label=_("Organisation"), widget=IndentedSelect)
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 10}),
        required=False,
        help_text=_("Plain text; blank lines separate paragraphs."),
    )
    category = forms.ChoiceField(label=_("Category"), choices=NoticeCategory.choices)
    audience = forms.ChoiceField(
        label=_("Shown to"),
        choices=NoticeAudience.choices,
        widget=forms.RadioSelect,
        initial=NoticeAudience.MEMBERS,
    )
    publish_from = forms.DateTimeField(label=_("Shown from"), widget=_DATETIME, required=False)
    publish_until = forms.DateTimeField(
        label=_("Shown until"),
        widget=_DATETIME,
        required=False,
        help_text=_("Leave empty to keep the notice up until it is withdrawn."),
    )

    def __init__(self, *args, branches=None, **kwargs):
        super().__init__(*args, **kwargs)
        if branches is None:
            del self.fields["branch"]
        else:
            self.fields["branch"].queryset = branches
        if not self.is_bound and "publish_from" not in self.initial:
            self.initial["publish_from"] = timezone.localtime().replace(second=0, microsecond=0)

    def action_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields}


class NoticeAttachmentForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("PDF, picture (JPEG, PNG, WebP), Word or Excel document."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.webp,.docx,.xlsx"}),
    )
    name = forms.CharField(label=_("Shown as"), max_length=200, required=False)


class NoticeWithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class DuesPublicationForm(forms.Form):
    """From the yearly dues report: which branch and year to publish."""

    branch = forms.UUIDField(widget=forms.HiddenInput)
    year = forms.IntegerField(min_value=2000, max_value=2100, widget=forms.HiddenInput)
