from services import actions
from services.models import CaseType

_counter = iter(range(10**6))


def make_worker(branch, **kwargs):
    n = next(_counter)
    kwargs.setdefault("phone", f"139{n:08d}")
    kwargs.setdefault("name", f"Worker {n}")
    return actions.worker_create(actor=None, branch=branch, **kwargs)


def make_case(branch, *, worker=None, case_type=None, **kwargs):
    worker = worker or make_worker(branch)
    case_type = case_type or CaseType.objects.get(code="wage_arrears")
    kwargs.setdefault("description", "Two months of wages unpaid")
    kwargs.setdefault("channel", "phone")
    return actions.case_open(actor=None, branch=branch, case_type=case_type, worker=worker, **kwargs)


def make_station(branch, *, actor=None, **kwargs):
    n = next(_counter)
    kwargs.setdefault("name", f"Station {n}")
    kwargs.setdefault("address", f"{n} Rider Road")
    return actions.station_create(actor=actor, branch=branch, **kwargs)
