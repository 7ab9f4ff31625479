"""Uniqueness violations reported on the field they concern, whichever layer noticed them.

`full_clean()` reports a conditional UniqueConstraint (e.g. "unique among live records") as a
non-field error, and a concurrent insert that slips past that check surfaces as IntegrityError from
the database. API clients should get 400 naming the field in both cases, never a 500.
"""

import contextlib

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import UniqueConstraint
from django.utils.translation import gettext_lazy as _

_DEFAULT_MESSAGE = _("Another record already has this value.")


def _single_field_constraints(model) -> list[UniqueConstraint]:
    return [
        c
        for c in model._meta.constraints
        if isinstance(c, UniqueConstraint) and len(c.fields) == 1 and not c.expressions
    ]


def _message(constraint: UniqueConstraint) -> str:
    if constraint.violation_error_message == constraint.default_violation_error_message:
        return str(_DEFAULT_MESSAGE)
    return str(constraint.get_violation_error_message())


def _names_constraint(exc: IntegrityError, model, constraint: UniqueConstraint) -> bool:
    """Whether the database error is a violation of `constraint`."""
    text = str(exc)
    if f'"{constraint.name}"' in text:  # PostgreSQL: duplicate key value violates unique constraint "<name>"
        return True
    if text.startswith("UNIQUE constraint failed:"):  # SQLite: UNIQUE constraint failed: <table>.<column>
        column = model._meta.get_field(constraint.fields[0]).column
        failed = [part.strip() for part in text.split(":", 1)[1].split(",")]
        return failed == [f"{model._meta.db_table}.{column}"]
    return False


@contextlib.contextmanager
def unique_violations_as_field_errors(model):
    """Turn violations of `model`'s single-field unique constraints into ValidationError on that field."""
    constraints = _single_field_constraints(model)
    try:
        yield
    except DjangoValidationError as exc:
        if not hasattr(exc, "error_dict") or NON_FIELD_ERRORS not in exc.error_dict:
            raise
        by_message = {str(c.get_violation_error_message()): c for c in constraints}
        errors: dict[str, list[str]] = {}
        for field, field_errors in exc.error_dict.items():
            for error in field_errors:
                for message in error.messages:
                    constraint = by_message.get(message) if field == NON_FIELD_ERRORS else None
                    if constraint is not None:
                        errors.setdefault(constraint.fields[0], []).append(_message(constraint))
                    else:
                        errors.setdefault(field, []).append(message)
        raise DjangoValidationError(errors) from exc
    except IntegrityError as exc:
        for constraint in constraints:
            if _names_constraint(exc, model, constraint):
                raise DjangoValidationError({constraint.fields[0]: [_message(constraint)]}) from exc
        raise
