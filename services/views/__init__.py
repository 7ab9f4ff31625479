"""Pages of the services app: the public intake and tracking pages (public.py), the caseworker inbox, case
and worker pages and reports (cases.py), stations and hardship aid (stations.py). Reads through selectors
(404 outside the scope), writes through actions."""

from services.views.cases import (
    case_action,
    case_attachment,
    case_create,
    case_detail,
    case_edit,
    case_list_view,
    reports,
    worker_detail,
)
from services.views.public import help_intake, help_rate, help_track
from services.views.stations import (
    aid_create,
    aid_decide,
    aid_list_view,
    station_create,
    station_detail,
    station_edit,
    station_list_view,
    station_visit,
    wish_claim,
    wish_fulfil,
    wish_post,
)

__all__ = [
    "aid_create",
    "aid_decide",
    "aid_list_view",
    "case_action",
    "case_attachment",
    "case_create",
    "case_detail",
    "case_edit",
    "case_list_view",
    "help_intake",
    "help_rate",
    "help_track",
    "reports",
    "station_create",
    "station_detail",
    "station_edit",
    "station_list_view",
    "station_visit",
    "wish_claim",
    "wish_fulfil",
    "wish_post",
    "worker_detail",
]
