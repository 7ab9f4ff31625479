import pytest
from django.core.cache import cache

from branches.choices import Role
from services.models import CaseType


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def wage(db):
    return CaseType.objects.get(code="wage_arrears")


@pytest.fixture
def caseworker(branch_tree, role_at):
    return role_at(branch_tree["station_a"], Role.CASEWORKER)
