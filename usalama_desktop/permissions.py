"""Who may do what: a role x action x module matrix, row rules and field tiers, enforced in the service layer.

The GUI hides what a role cannot use, but every service call checks again here, so search, counts, reports and
exports obey the same rules as lists.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import PermissionDenied
from .i18n import L, _
from .reference import POLICE_AGENCY_TYPES

ROLES = ("admin", "coordinator", "clerk", "counsellor", "ajs_recorder", "viewer")
ROLE_LABELS = {
    "admin": L("Administrator", "Msimamizi"),
    "coordinator": L("Coordinator", "Mratibu"),
    "clerk": L("Data clerk", "Karani wa data"),
    "counsellor": L("Guidance and counselling teacher", "Mwalimu wa ushauri nasaha"),
    "ajs_recorder": L("Elders' council secretary", "Katibu wa baraza la wazee"),
    "viewer": L("Viewer", "Mtazamaji"),
}


def role_label(role: str) -> str:
    label = ROLE_LABELS.get(role)
    return str(label) if label else role

RECORD_ACTIONS = ("create", "read", "update", "delete", "list", "search", "count", "export", "import", "report")
ALL = frozenset(RECORD_ACTIONS)
ENTRY = frozenset({"create", "read", "update", "delete", "list", "search", "count", "export", "import", "report"})
AGGREGATE = frozenset({"count", "report"})
DEIDENTIFIED = frozenset({"read", "list", "count", "report"})

RECORD_MODULES = (
    "observatory", "counselling", "ajs", "family", "feedback", "police_ratings", "complaints", "safety_audit",
    "groups", "meetings",
)
ADMIN_MODULES = ("users", "audit", "settings", "backup", "sync", "reports")

# role -> module -> actions
MATRIX: dict[str, dict[str, frozenset[str]]] = {
    "admin": {**{m: ALL for m in RECORD_MODULES},
              "users": frozenset({"manage", "list"}), "audit": frozenset({"read", "verify"}),
              "settings": frozenset({"manage"}), "backup": frozenset({"backup", "restore"}),
              "sync": frozenset({"export", "import", "keys", "conflicts"}), "reports": frozenset({"report", "export"})},
    "coordinator": {"observatory": ALL, "feedback": ALL, "police_ratings": ALL, "complaints": ALL,
                    "safety_audit": ALL, "groups": ALL, "meetings": ALL,
                    "counselling": AGGREGATE | {"list", "read"}, "ajs": AGGREGATE | {"list", "read", "search"},
                    "family": AGGREGATE | {"list", "read"},
                    "audit": frozenset({"verify"}), "backup": frozenset({"backup"}),
                    "sync": frozenset({"export", "import", "keys", "conflicts"}),
                    "reports": frozenset({"report", "export"})},
    "clerk": {"observatory": ENTRY, "family": ENTRY, "feedback": ENTRY, "police_ratings": ENTRY,
              "complaints": ENTRY, "safety_audit": ENTRY, "groups": ENTRY, "meetings": ENTRY,
              "backup": frozenset({"backup"}), "sync": frozenset({"export"}), "reports": frozenset({"report"})},
    "counsellor": {"counselling": ENTRY, "family": ENTRY, "meetings": DEIDENTIFIED,
                   "sync": frozenset({"export"}), "reports": frozenset({"report"})},
    "ajs_recorder": {"ajs": ENTRY, "feedback": ENTRY, "meetings": DEIDENTIFIED,
                     "sync": frozenset({"export"}), "reports": frozenset({"report"})},
    "viewer": {"observatory": DEIDENTIFIED, "feedback": DEIDENTIFIED, "police_ratings": DEIDENTIFIED,
               "complaints": AGGREGATE, "safety_audit": DEIDENTIFIED, "groups": DEIDENTIFIED,
               "meetings": DEIDENTIFIED, "counselling": AGGREGATE, "ajs": AGGREGATE, "family": AGGREGATE,
               "reports": frozenset({"report"})},
}

# Roles whose rows are limited to their own agency (the rest see every merged record they may see at all).
OWN_AGENCY_ROLES = frozenset({"clerk", "counsellor", "ajs_recorder"})

# Field tiers each role sees, per module; "public" is always visible to anyone who may read the module.
IDENTIFYING_ROLES: dict[str, frozenset[str]] = {
    "counselling": frozenset({"counsellor", "admin"}),
    "ajs": frozenset({"ajs_recorder", "admin"}),
    "family": frozenset({"clerk", "counsellor", "admin"}),
}
DEFAULT_IDENTIFYING_ROLES = frozenset({"admin", "coordinator", "clerk", "counsellor", "ajs_recorder"})
NARRATIVE_ROLES = frozenset({"admin", "clerk", "counsellor", "ajs_recorder"})

# Modules never visible on any path at a police agency's installation.
HIDDEN_FROM_POLICE = frozenset({"complaints"})


@dataclass(frozen=True)
class Actor:
    """Who is asking: enough to decide any permission question without touching the database."""

    username: str
    role: str
    agency_id: str
    agency_type: str

    @property
    def is_police(self) -> bool:
        return self.agency_type in POLICE_AGENCY_TYPES


def module_hidden(actor: Actor, module: str) -> bool:
    return actor.is_police and module in HIDDEN_FROM_POLICE


def allowed(actor: Actor, module: str, action: str) -> bool:
    if module_hidden(actor, module):
        return False
    return action in MATRIX.get(actor.role, {}).get(module, frozenset())


def require(actor: Actor, module: str, action: str) -> None:
    if not allowed(actor, module, action):
        raise PermissionDenied(
            _("Your role ({role}) may not {action} in {module}. Ask your administrator if you need this.").format(
                role=actor.role, action=action, module=module
            )
        )


def own_agency_only(actor: Actor) -> bool:
    return actor.role in OWN_AGENCY_ROLES


def visible_tiers(actor: Actor, module: str) -> frozenset[str]:
    tiers = {"public"}
    if actor.role in IDENTIFYING_ROLES.get(module, DEFAULT_IDENTIFYING_ROLES):
        tiers.add("identifying")
    if actor.role in NARRATIVE_ROLES and "identifying" in tiers:
        tiers.add("narrative")
    return frozenset(tiers)


def can_use_module(actor: Actor, module: str) -> bool:
    """Whether the module appears in the navigation at all."""
    return any(allowed(actor, module, a) for a in ("list", "create", "count", "report"))
