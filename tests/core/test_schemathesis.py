"""Schemathesis against the live schema, every operation, as a scoped token (API.md: never a 500).

Each operation gets generated requests, valid and invalid, sent in-process to the WSGI app with an
officer's token at one committee. Checks: no server error, only declared status codes, the declared
content type, and bodies that match the schema. The operations are driven with Hypothesis directly
(schemathesis' pytest plugin does not run under pytest 9), and every failure is collected so that
one run names them all.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from branches.choices import Role
from branches.tokens import token_issue
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 6, GenerationMode.NEGATIVE: 4}


@pytest.fixture
def keep_connection():
    """The WSGI app closes the database connection after each request; inside the test's transaction that
    would break every later request on PostgreSQL, so keep it open as Django's own test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token_headers(branch_tree, settings, keep_connection):
    settings.API_TOKEN_THROTTLE_RATE = "1000000/min"
    MemberFactory(branch=branch_tree["station_a"])
    _client, key = token_issue(actor=None, name="Schemathesis", role=Role.OFFICER, branch=branch_tree["delivery"])
    return {"Authorization": f"Token {key}"}


def _exercise(operation, mode, headers) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        response = case.call(headers={**(case.headers or {}), **headers})
        case.validate_response(response, checks=CHECKS)

    run()


def test_api_answers_every_operation_within_its_schema(token_headers):
    from config.wsgi import application

    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in EXAMPLES:
            try:
                _exercise(operation, mode, token_headers)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collected: one run reports every failure
                failures.append(f"{operation.label} ({mode.value}): {str(exc)[:1500]}")
    assert operations > 50
    assert failures == [], "\n\n".join(failures)
