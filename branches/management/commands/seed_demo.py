"""`manage.py seed_demo [--branches N --members N --seed S]`: demo or benchmark data, idempotent."""

from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import module_has_submodule
from django.utils.translation import gettext as _

from branches.demo import DemoResult, demo_build, totp_code_now, tree_build


def demo_extend_all(demo: DemoResult) -> int:
    """Let each installed app add its own demo data: `<app>.demo.demo_extend(demo)`, if the app has one.

    The branches app never imports the apps that hang on the tree (STYLE.md §1b); they plug in here
    instead. Each hook must be idempotent and returns how many records it created (None counts as 0).
    """
    created = 0
    for app_config in apps.get_app_configs():
        if not module_has_submodule(app_config.module, "demo"):
            continue
        extend = getattr(import_module(f"{app_config.name}.demo"), "demo_extend", None)
        if callable(extend):
            created += extend(demo) or 0
    return created


class Command(BaseCommand):
    help = _(
        "Create a demo organisation with users for every role (idempotent). With --branches N, also add a "
        "generated tree of N organisations under the demo district for benchmarks. Each app adds its own demo "
        "records (members, notices, votes, appraisal, dues); --members only sets the generated branches' "
        "member counts."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--branches",
            type=int,
            default=0,
            help=_("Number of generated organisations (committees to groups)."),
        )
        parser.add_argument(
            "--members",
            type=int,
            default=None,
            help=_("Member counts spread over the generated branches (counts only, no member records)."),
        )
        parser.add_argument("--seed", type=int, default=1, help=_("Seed of the generated tree."))

    def handle(self, *args, branches, members, seed, **options):
        if branches < 0:
            raise CommandError(_("--branches must be 0 or more."))
        if members is not None and members < 0:
            raise CommandError(_("--members must be 0 or more."))
        if members is not None and not branches:
            raise CommandError(_("--members needs --branches: members are spread over the generated branches."))

        demo = demo_build()
        demo.created += demo_extend_all(demo)
        self.stdout.write(_("Demo organisation ready (%(n)d records created).") % {"n": demo.created})
        if branches:
            result = tree_build(root=demo.branches["district"], count=branches, seed=seed, members=members)
            self.stdout.write(
                _(
                    "Generated tree (seed %(seed)d): %(total)d organisations, %(inserted)d inserted, "
                    "%(updated)d member counts updated, in %(seconds).1f s."
                )
                % {
                    "seed": seed,
                    "total": result.total,
                    "inserted": result.inserted,
                    "updated": result.updated,
                    "seconds": result.seconds,
                }
            )
        self._print_logins(demo.logins)

    def _print_logins(self, logins) -> None:
        rows = [(_("username"), _("password"), _("role"), _("organisation"), _("TOTP secret"))]
        rows += [
            (lg.username, lg.password, lg.role, lg.branch, lg.totp_secret or "-") for lg in logins if not lg.foreign
        ]
        widths = [max(_display_width(row[i]) for row in rows) for i in range(len(rows[0]))]
        self.stdout.write("")
        self.stdout.write(_("Demo logins:"))
        for row in rows:
            self.stdout.write("  ".join(_pad(cell, width) for cell, width in zip(row, widths, strict=True)).rstrip())
        for lg in logins:
            if lg.foreign:
                self.stdout.write(
                    self.style.WARNING(
                        _("A user %(user)s exists and is not a demo account; it was left alone.")
                        % {"user": lg.username}
                    )
                )
                continue
            if not lg.totp_secret:
                continue
            if not lg.totp_matches:
                self.stdout.write(
                    self.style.WARNING(
                        _("%(user)s set up another authenticator; the secret above does not apply.")
                        % {"user": lg.username}
                    )
                )
                continue
            code, seconds = totp_code_now(lg.totp_secret)
            self.stdout.write(
                _("%(user)s: add the secret to an authenticator app; the code now is %(code)s (%(s)d s left).")
                % {"user": lg.username, "code": code, "s": seconds}
            )


def _display_width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(text))


def _pad(text: str, width: int) -> str:
    return str(text) + " " * (width - _display_width(text))
