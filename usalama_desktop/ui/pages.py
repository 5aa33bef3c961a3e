"""The navigation sidebar's pages. A page names its class by dotted path, so nothing heavy loads at start-up, and
says who sees it; record pages come from the form registry, one per form."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from ..i18n import L, Label
from ..permissions import allowed, can_use_module


@dataclass(frozen=True)
class PageSpec:
    key: str
    label: Label
    target: str  # "module:Class"; the class takes (window, **kwargs)
    visible: Callable = lambda session: True
    group: Label = L("General", "Jumla")
    kwargs: tuple = ()

    def build(self, window):
        module, cls = self.target.split(":")
        return getattr(importlib.import_module(module), cls)(window, **dict(self.kwargs))


def _admin(session) -> bool:
    return session.user.role == "admin"


def _module(module: str, action: str = "list"):
    return lambda session: allowed(session.actor, module, action)


RECORDS = L("Records", "Kumbukumbu")
EXCHANGE = L("Sharing and reports", "Kushiriki na ripoti")
ADMIN = L("Administration", "Utawala")

STATIC_PAGES: list[PageSpec] = [
    PageSpec("home", L("Home", "Mwanzo"), "usalama_desktop.ui.home:HomePage"),
    PageSpec("users", L("Users", "Watumiaji"), "usalama_desktop.ui.admin_pages:UsersPage", _admin, ADMIN),
    PageSpec("audit", L("Audit trail", "Kumbukumbu za ukaguzi"), "usalama_desktop.ui.admin_pages:AuditPage", _admin,
             ADMIN),
    PageSpec("backup", L("Backup", "Nakala rudufu"), "usalama_desktop.ui.admin_pages:BackupPage",
             lambda s: allowed(s.actor, "backup", "backup"), ADMIN),
    PageSpec("settings", L("Settings", "Mipangilio"), "usalama_desktop.ui.admin_pages:SettingsPage", _admin, ADMIN),
]

# Pages of the sharing and analysis side; order here is order in the sidebar. A page whose module is not written
# yet is left out.
EXTRA_PAGES: list[PageSpec] = [
    PageSpec("dashboard", L("Observatory dashboard", "Dashibodi ya uchunguzi"),
             "usalama_desktop.ui.dashboard:DashboardPage", _module("observatory", "report"), EXCHANGE),
    PageSpec("exchange", L("Exchange bundles", "Kubadilishana vifurushi"), "usalama_desktop.ui.exchange:ExchangePage",
             lambda s: any(allowed(s.actor, "sync", a) for a in ("export", "import")), EXCHANGE),
    PageSpec("reports", L("Monthly summary", "Muhtasari wa mwezi"), "usalama_desktop.ui.reports_page:ReportsPage",
             _module("reports", "report"), EXCHANGE),
]


def _exists(spec: PageSpec) -> bool:
    import importlib.util

    return importlib.util.find_spec(spec.target.split(":")[0]) is not None


def record_pages() -> list[PageSpec]:
    from ..forms.registry import forms

    out = []
    for form in forms().values():
        if form.child_record:
            continue
        out.append(PageSpec(f"records:{form.name}", form.title, "usalama_desktop.ui.records_page:RecordsPage",
                            (lambda m: lambda s: can_use_module(s.actor, m))(form.module), RECORDS,
                            (("form_name", form.name),)))
    return out


def pages_for(session) -> list[PageSpec]:
    specs = [STATIC_PAGES[0], *record_pages(), *[p for p in EXTRA_PAGES if _exists(p)], *STATIC_PAGES[1:]]
    return [p for p in specs if p.visible(session)]
