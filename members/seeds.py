"""Idempotent seed data for the members app, wired into data migrations by the lead (one banner per subject)."""


#
# Development and dues (issue 4, parts 1 and 5)
#
def seed_development(apps, schema_editor) -> None:
    """The development rules' interval lengths (DevelopmentInterval); keeps rows an admin has edited."""
    from members.models.development import INTERVAL_DEFAULTS

    interval_model = apps.get_model("members", "DevelopmentInterval")
    for code, (months, days) in INTERVAL_DEFAULTS.items():
        interval_model.objects.get_or_create(code=str(code), defaults={"months": months, "days": days})


#: DOMAIN.md §3: (base kind, above, up to, rate, fixed amount).
DUES_BRACKETS = [
    ("salary", "0", "3000", "0.005", None),
    ("salary", "3000", "5000", "0.01", None),
    ("salary", "5000", "10000", "0.015", None),
    ("salary", "10000", None, "0.02", None),
    ("pension", "0", "5000", "0.005", None),
    ("pension", "5000", None, "0.01", None),
    ("fixed_low", "0", None, None, "0.20"),
]


def seed_dues(apps, schema_editor) -> None:
    """The dues brackets (DuesBracket); keeps rows an admin has edited."""
    from decimal import Decimal

    bracket_model = apps.get_model("members", "DuesBracket")
    for kind, lower, upper, rate, amount in DUES_BRACKETS:
        bracket_model.objects.get_or_create(
            base_kind=kind,
            lower=Decimal(lower),
            defaults={
                "upper": Decimal(upper) if upper else None,
                "rate": Decimal(rate) if rate else None,
                "amount": Decimal(amount) if amount else None,
            },
        )
