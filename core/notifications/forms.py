"""The preferences page's form: the checked "kind:channel" boxes (the action checks what they name)."""

from django import forms


class CheckedBoxesField(forms.Field):
    """Every value posted under the name, as strings; which ones are valid is the action's business."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value):
        if not value:
            return []
        if isinstance(value, str):
            return [value]
        return [str(v) for v in value]


class NotificationPreferencesForm(forms.Form):
    enabled = CheckedBoxesField(required=False)
