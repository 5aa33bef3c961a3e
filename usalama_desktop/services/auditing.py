"""Reading and verifying the audit trail (admins read it; admins and coordinators may verify it)."""

from __future__ import annotations

import json

from ..permissions import allowed, require
from ..store import audit
from .installation import Session

# Audit entries about these modules are hidden from police-agency users like the records themselves.
_POLICE_HIDDEN_MODULES = ("complaints",)


class AuditService:
    def __init__(self, session: Session):
        self.s = session

    def verify(self) -> audit.ChainReport:
        require(self.s.actor, "audit", "verify")
        report = audit.verify(self.s.db, self._last_checkpoint())
        if report.ok:
            from .users import UserService

            mismatched = UserService(self.s).role_mismatches()
            if mismatched:
                report = audit.ChainReport(False, report.entries, None,
                                           "role changed outside the program for: " + ", ".join(mismatched),
                                           report.head)
        with self.s.db.transaction():
            self.s.audit("audit.verify", "audit", "", {"ok": report.ok, "entries": report.entries})
        return report

    def _last_checkpoint(self) -> tuple[int, str] | None:
        row = self.s.db.one("SELECT value FROM meta WHERE key = 'audit_checkpoint'")
        if not row:
            return None
        doc = json.loads(row[0])
        return int(doc["seq"]), str(doc["hash"])

    def entries(self, limit: int = 200, action: str | None = None, username: str | None = None,
                since: str | None = None, until: str | None = None, before_seq: int | None = None) -> list[dict]:
        require(self.s.actor, "audit", "read")
        where, params = [], []
        if action:
            where.append("action LIKE ?")
            params.append(action.replace("*", "%") + ("%" if "*" not in action and "." not in action else ""))
        if username:
            where.append("username = ?")
            params.append(username)
        if since:
            where.append("at >= ?")
            params.append(since)
        if until:
            where.append("at < ?")
            params.append(until)
        if before_seq:
            where.append("seq < ?")
            params.append(before_seq)
        if not allowed(self.s.actor, "complaints", "list"):
            where.append("module NOT IN ({})".format(",".join("?" * len(_POLICE_HIDDEN_MODULES))))
            params.extend(_POLICE_HIDDEN_MODULES)
        sql = "SELECT seq, at, username, action, module, target, detail FROM audit"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq DESC LIMIT ?"
        params.append(limit)
        return [dict(zip(("seq", "at", "username", "action", "module", "target", "detail"), tuple(r), strict=True))
                for r in self.s.db.query(sql, params)]
