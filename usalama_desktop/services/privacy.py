"""Duties of the Kenya Data Protection Act 2019 that the program can carry out itself.

Retention (s.39): records kept no longer than an administrator set for their module, then erased for good.
Access (s.26): everything held about one person, found by an identifying value, written to a file for them.
Breach readiness (s.43, 72 hours): what a lost computer or a lost bundle exposed, and whether it was encrypted.
Every action is audited by ids and counts, never by content.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

from .. import __version__, clock
from ..errors import UsalamaError
from ..forms.fields import TEXT
from ..forms.registry import forms
from ..fsutil import atomic_write_bytes
from ..i18n import _
from ..permissions import RECORD_MODULES
from .installation import Session

RETENTION_KEY = "retention_years."


def _years_ago(years: int) -> str:
    today = clock.today()
    try:
        cut = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        cut = today.replace(year=today.year - years, day=28)
    return cut.isoformat()


class PrivacyService:
    def __init__(self, session: Session):
        self.s = session

    # --- retention --------------------------------------------------------------------------------------------

    def retention(self) -> dict[str, int | None]:
        out: dict[str, int | None] = {}
        for module in RECORD_MODULES:
            value = self.s.db.scalar("SELECT value FROM settings WHERE key = ?", (RETENTION_KEY + module,))
            out[module] = int(value) if value else None
        return out

    def set_retention(self, module: str, years: int | None) -> None:
        self.s.require_admin()
        if module not in RECORD_MODULES:
            raise UsalamaError(_("Unknown module {name}.").format(name=module))
        if years is not None and not 1 <= years <= 100:
            raise UsalamaError(_("Keep records between 1 and 100 years."))
        with self.s.db.transaction():
            if years is None:
                self.s.db.execute("DELETE FROM settings WHERE key = ?", (RETENTION_KEY + module,))
            else:
                self.s.db.execute("INSERT INTO settings(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET "
                                  "value = excluded.value", (RETENTION_KEY + module, str(years)))
            self.s.audit("privacy.retention", "settings", module, {"years": years})

    def _expired(self) -> list[tuple[Any, list[str]]]:
        """(form, record ids) whose last change is older than their module's retention period."""
        out = []
        periods = self.retention()
        for form in forms().values():
            years = periods.get(form.module)
            if not years:
                continue
            cut = _years_ago(years)
            ids = [r[0] for r in self.s.db.query(f'SELECT id FROM "{form.name}" WHERE updated_at < ?', (cut,))]
            if ids:
                out.append((form, ids))
        return out

    def due_for_purge(self) -> dict[str, int]:
        self.s.require_admin()
        return {form.name: len(ids) for form, ids in self._expired()}

    def purge(self, progress=None) -> dict[str, int]:
        """Erase every record past its retention period: values, history, search words and exchange copies."""
        self.s.require_admin()
        expired = self._expired()
        total = sum(len(ids) for _f, ids in expired)
        done = 0
        counts: dict[str, int] = {}
        with self.s.db.transaction():
            for form, ids in expired:
                for record_id in ids:
                    self.s.writer.erase(form.table_spec, record_id, "retention period over", self.s.username,
                                        checkpoint=False)
                    done += 1
                    if progress and done % 200 == 0:
                        progress(done, total)
                counts[form.name] = len(ids)
            self.s.audit("privacy.purge", "settings", "", {"erased": counts})
        self.s.db.checkpoint()
        return counts

    # --- access -------------------------------------------------------------------------------------------------

    def find_person(self, identifier: str) -> list[tuple[str, str]]:
        """(form, record id) of every record where an identifying text field equals ``identifier`` (case and
        surrounding spaces ignored): in the record itself or in one of its lists (parties, members)."""
        self.s.require_admin()
        needle = (identifier or "").strip()
        if len(needle) < 2:
            raise UsalamaError(_("Give the name, code or number the person is recorded under."))
        found: list[tuple[str, str]] = []
        for form in forms().values():
            cols = [f.name for f in form.fields if f.tier == "identifying" and f.kind == TEXT]
            ids: set[str] = set()
            if cols:
                where = " OR ".join(f'lower(trim("{c}")) = lower(?)' for c in cols)
                ids |= {r[0] for r in self.s.db.query(f'SELECT id FROM "{form.name}" WHERE {where}',
                                                      [needle] * len(cols))}
            for repeat in form.repeats:
                rcols = [f.name for f in repeat.fields if f.tier == "identifying" and f.kind == TEXT]
                if not rcols:
                    continue
                where = " OR ".join(f'lower(trim(c."{c}")) = lower(?)' for c in rcols)
                ids |= {r[0] for r in self.s.db.query(
                    f'SELECT DISTINCT t.id FROM "{form.name}" t JOIN "{form.table_spec.child_table(repeat.name)}" c '
                    f"ON c.parent_rid = t.rid WHERE {where}", [needle] * len(rcols))}
            found += [(form.name, rid) for rid in sorted(ids)]
        return found

    def access_export(self, identifier: str, out: Path, request_reference: str) -> dict[str, Any]:
        """Write all records held about one person (every tier: it is their own data) to a JSON file."""
        self.s.require_admin()
        if len((request_reference or "").strip()) < 3:
            raise UsalamaError(_("Record the reference of the person's written request."))
        found = self.find_person(identifier)
        records = []
        for form_name, record_id in found:
            form = forms()[form_name]
            row = self.s.writer.get(form.table_spec, record_id)
            values = form.from_row(row, row["children"])
            records.append({"form": form_name, "form_title": form.title.en, "id": record_id,
                            "agency": self.s.agency_name(row["agency_id"]), "created_at": row["created_at"],
                            "updated_at": row["updated_at"], "deleted": bool(row["deleted"]), "values": values})
        doc = {"format": "usalama-access-export", "version": 1, "app_version": __version__,
               "written_at": clock.now_iso(), "installation": self.s.agency.name, "records": records}
        atomic_write_bytes(Path(out), json.dumps(doc, ensure_ascii=False, indent=2, default=str).encode("utf-8"))
        with self.s.db.transaction():
            self.s.audit("privacy.access", "settings", "", {"records": len(records), "file": Path(out).name,
                                                            "request_length": len(request_reference.strip()),
                                                            "forms": dict(Counter(f for f, _r in found))})
        return {"records": len(records), "path": str(out)}

    # --- breach readiness -----------------------------------------------------------------------------------------

    def breach_report(self, bundle_id: str | None = None) -> dict[str, Any]:
        """What was held (a lost computer) or sent (a lost bundle): agencies, counts, categories, encryption."""
        self.s.require_admin()
        if bundle_id:
            return self._bundle_report(bundle_id)
        agencies = dict(self.s.db.query("SELECT id, name FROM agencies"))
        per_form = []
        for form in forms().values():
            by_agency = Counter({agencies.get(a, a): n for a, n in self.s.db.query(
                f'SELECT agency_id, count(*) FROM "{form.name}" WHERE deleted = 0 GROUP BY agency_id')})
            if not by_agency:
                continue
            categories = {}
            if form.category_field:
                field = form.by_name[form.category_field]
                categories = {field.display(v, "en") or "(none)": n for v, n in self.s.db.query(
                    f'SELECT "{form.category_field}", count(*) FROM "{form.name}" WHERE deleted = 0 '
                    f'GROUP BY "{form.category_field}" ORDER BY 2 DESC')}
            identifying = [f.label.en for f in form.fields if f.tier != "public"]
            per_form.append({"form": form.name, "title": form.title.en, "records": sum(by_agency.values()),
                             "by_agency": dict(by_agency), "categories": categories,
                             "sensitive_fields": identifying})
        return {
            "kind": "computer", "installation": self.s.agency.name, "written_at": clock.now_iso(),
            "encrypted": True,
            "encryption": "SQLCipher 4 (AES-256-CBC, HMAC-SHA512 per page) with a random 256-bit key, wrapped per "
                          "account with Argon2id (64 MiB, 3 passes); without a password or the recovery key the "
                          "file cannot be read.",
            "forms": per_form, "accounts": int(self.s.db.scalar("SELECT count(*) FROM users WHERE disabled = 0")),
            "last_backup": self.s.db.scalar("SELECT max(at) FROM audit WHERE action = 'backup'"),
        }

    def _bundle_report(self, bundle_id: str) -> dict[str, Any]:
        row = self.s.db.one("SELECT * FROM sync_outgoing WHERE bundle_id = ?", (bundle_id,))
        if row is None:
            raise UsalamaError(_("No bundle with that id was written here."))
        row = dict(zip(row.keys(), tuple(row), strict=True))
        summary = json.loads(row.get("summary") or "{}") if "summary" in row else {}
        return {
            "kind": "bundle", "bundle_id": bundle_id, "installation": self.s.agency.name,
            "written_at": clock.now_iso(), "created_at": row["created_at"], "recipient": row["recipient"],
            "profile": row["profile"], "records": row["records"], "tombstones": row["tombstones"],
            "forms": summary.get("forms", []), "encrypted": True,
            "encryption": "age (X25519 + ChaCha20-Poly1305) to the recipient's key only; signed with Ed25519. "
                          "Without the recipient's identity the payload cannot be read; the manifest holds no "
                          "personal data.",
        }


def report_text(report: dict[str, Any]) -> str:
    """The breach report as plain text for the Data Commissioner's form (English: the Commissioner's language)."""
    lines = [f"Usalama Desktop breach readiness report — {report['installation']}",
             f"Written {report['written_at']}", ""]
    if report["kind"] == "bundle":
        lines += [f"Lost bundle {report['bundle_id']}, written {report['created_at']} for {report['recipient']}",
                  f"Profile: {report['profile']}; records: {report['records']} (deletions {report['tombstones']})"]
    else:
        lines += [f"Lost computer: {report['accounts']} active accounts; last backup {report['last_backup'] or 'none'}"]
    lines += [f"Encrypted: {'yes' if report['encrypted'] else 'NO'} — {report['encryption']}", ""]
    for f in report["forms"]:
        lines.append(f"{f['title']}: {f['records']} records")
        for agency, n in sorted(f.get("by_agency", {}).items()):
            lines.append(f"    {agency}: {n}")
        if f.get("categories"):
            lines.append("    categories: " + ", ".join(f"{k} {v}" for k, v in f["categories"].items()))
        if f.get("sensitive_fields"):
            lines.append("    fields with personal or sensitive data: " + ", ".join(f["sensitive_fields"]))
    return "\n".join(lines) + "\n"


__all__ = ["PrivacyService", "report_text", "dt"]
