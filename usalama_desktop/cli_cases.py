"""``usalama cases|ajs|family ...``: the case steps, the AJS decision record and search, and the GBVIMS export, for
scripts. Every command goes through the same services as the GUI, so roles, rules and the audit trail are the same.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .errors import UsalamaError, ValidationFailed
from .i18n import _


def _pairs(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsalamaError(_("Write each --set as FIELD=VALUE, for example --set session_type=individual."))
        out[name.strip()] = value
    return out


def _json_values(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        data = json.loads(text)
    except OSError as exc:
        raise UsalamaError(_("Cannot read {path}.").format(path=path)) from exc
    except ValueError as exc:
        raise UsalamaError(_("{path} is not a JSON object of field values.").format(path=path)) from exc
    if not isinstance(data, dict):
        raise UsalamaError(_("{path} is not a JSON object of field values.").format(path=path))
    return data


def _session_and_service(args):
    from .cli import open_session
    from .services.cases import CaseService

    session = open_session(args)
    try:
        return session, CaseService(session, args.form)
    except BaseException:
        session.close()
        raise


def cmd_cases(args) -> int:
    from .cli import out

    session, svc = _session_and_service(args)
    try:
        c = args.cases_cmd
        if c == "open":
            raw = {**_json_values(args.json), **_pairs(args.set)}
            values, problems = svc.form.parse(raw)
            if not problems.ok:
                raise ValidationFailed(problems.errors)
            out(svc.open(values))
        elif c == "actions":
            for key, label in svc.actions(args.record_id):
                out(f"{key}\t{label}")
        elif c == "show":
            state = svc.state(args.record_id)
            out(f"{state['title']}\t{state['status_label']}\t{state['outcome_label']}")
            for warning in state["warnings"]:
                out(_("Warning: {text}").format(text=warning))
            for event in state["timeline"]:
                out(f"{event['on']}\t{event['kind']}\t{event['text']}")
        elif c == "due":
            for f in svc.due_follow_ups(within_days=args.within):
                out(f"{f.due}\t{f.kind}\t{f.record_id}\t{f.title}\t{f.what}")
        elif c == "list-open":
            page = svc.open_cases(limit=args.limit)
            for row in page.rows:
                out(f"{row['id']}\t{svc.form.describe(row['values'])}")
        else:
            out(_("Revision {rev} saved.").format(rev=_step(svc, args)))
    finally:
        session.close()
    return 0


def _step(svc, args) -> int:
    from .services.cases import ADD_REFERRAL, ADD_SESSION, CLOSE, REFERRAL_RESULT, REOPEN

    flow, c, fields = svc.flow, args.cases_cmd, _pairs(args.set)
    rev = args.revision
    if c == "session":
        return svc.perform(args.record_id, ADD_SESSION, rev, **fields)
    if c == "referral":
        return svc.perform(args.record_id, ADD_REFERRAL, rev, **fields)
    if c == "referral-result":
        if args.index < 1:
            raise UsalamaError(_("Referrals are numbered from 1."))
        return svc.perform(args.record_id, REFERRAL_RESULT, rev, index=args.index - 1,
                           **{flow.referral_result: args.result, flow.referral_result_date: args.date})
    if c == "close":
        return svc.perform(args.record_id, CLOSE, rev, **{flow.outcome_field: args.outcome,
                                                          flow.closed_field: args.date, **fields})
    if c == "reopen":
        return svc.perform(args.record_id, REOPEN, rev, **{flow.reopen_reason_field: args.reason,
                                                           flow.reopened_field: args.date})
    return svc.perform(args.record_id, args.key, rev, **fields)


def cmd_ajs(args) -> int:
    from .cli import open_session, out

    session = open_session(args)
    try:
        if args.ajs_cmd == "decision-pdf":
            from .reports.decision_record import decision_record_pdf

            stats = decision_record_pdf(session, args.record_id, Path(args.out), lang=args.lang)
            out(_("Decision record written to {path} ({pages} pages).").format(path=args.out, pages=stats["pages"]))
        else:
            from .forms import choices
            from .services.cases import search_decisions

            county = choices.get("counties").find(args.county) if args.county else None
            if args.county and county is None:
                raise UsalamaError(_("{value} is not a Kenyan county.").format(value=args.county))
            hits = search_decisions(session, " ".join(args.words), args.category, county=county, ward=args.ward,
                                    outcome=args.outcome, court_result=args.court_result, limit=args.limit)
            for hit in hits:
                out(f"{hit['id']}\t{hit['title']}" + (f"\t{hit['excerpt']}" if hit["excerpt"] else ""))
    finally:
        session.close()
    return 0


def cmd_family(args) -> int:
    from .cli import open_session, out
    from .io.gbvims_recorder import export_gbvims

    session = open_session(args)
    try:
        n = export_gbvims(session, Path(args.out), args.date_from, args.date_to, args.agency_code,
                          consented_only=not args.all)
        out(_("{n} incidents written to {path}.").format(n=n, path=args.out))
    finally:
        session.close()
    return 0


def register(sub) -> None:
    from .cli import Parser

    p = sub.add_parser("cases", help=_("longitudinal cases: open, sessions, referrals, close, reopen, follow-ups"))
    cs = p.add_subparsers(dest="cases_cmd", parser_class=Parser)
    cs.required = True

    def command(name: str, help_text: str, record: bool = True, step: bool = False):
        a = cs.add_parser(name, help=help_text)
        if record:
            a.add_argument("record_id")
        a.add_argument("--form", required=True, help=_("the case form or its module: counselling, ajs, family"))
        if step:
            a.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
            a.add_argument("--revision", type=int, help=_("refuse if the case changed since this revision"))
        return a

    a = command("open", _("open a new case from field values"), record=False)
    a.add_argument("--json", help=_("a JSON file of the case's values ('-' reads standard input)"))
    a.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    command("actions", _("list the steps you may take on a case now"))
    command("show", _("status and timeline of a case"))
    a = command("due", _("follow-ups due"), record=False)
    a.add_argument("--within", type=int, default=0, help=_("also what falls due within this many days"))
    a = command("list-open", _("open cases"), record=False)
    a.add_argument("--limit", type=int, default=100)
    command("session", _("add a session or hearing"), step=True)
    command("referral", _("add a referral"), step=True)
    a = command("referral-result", _("record the result of a referral"), step=True)
    a.add_argument("--index", type=int, default=1, help=_("which referral, counting from 1"))
    a.add_argument("--result", required=True)
    a.add_argument("--date")
    a = command("close", _("close a case with its outcome"), step=True)
    a.add_argument("--outcome", required=True)
    a.add_argument("--date")
    a = command("reopen", _("reopen a closed case, saying why"), step=True)
    a.add_argument("--reason", required=True)
    a.add_argument("--date")
    a = command("step", _("take a module's own step (see 'actions')"), step=True)
    a.add_argument("key")
    p.set_defaults(func=cmd_cases)

    p = sub.add_parser("ajs", help=_("alternative justice: decision records and local jurisprudence"))
    js = p.add_subparsers(dest="ajs_cmd", parser_class=Parser)
    js.required = True
    a = js.add_parser("decision-pdf", help=_("print a case's decision record for filing in court"))
    a.add_argument("record_id")
    a.add_argument("--out", required=True)
    a.add_argument("--lang", choices=["en", "sw"])
    a = js.add_parser("search", help=_("search decisions by words, category, place and outcome"))
    a.add_argument("words", nargs="*")
    a.add_argument("--category", action="append", default=[])
    a.add_argument("--county")
    a.add_argument("--ward")
    a.add_argument("--outcome")
    a.add_argument("--court-result")
    a.add_argument("--limit", type=int, default=100)
    p.set_defaults(func=cmd_ajs)

    p = sub.add_parser("family", help=_("family-violence programme"))
    fs = p.add_subparsers(dest="family_cmd", parser_class=Parser)
    fs.required = True
    a = fs.add_parser("gbvims-export", help=_("incidents in the GBVIMS Incident Recorder layout (codes only)"))
    a.add_argument("--out", required=True)
    a.add_argument("--from", dest="date_from")
    a.add_argument("--to", dest="date_to")
    a.add_argument("--agency-code", help=_("the code GBV partners gave this agency"))
    a.add_argument("--all", action="store_true", help=_("include incidents without the survivor's consent to share"))
    p.set_defaults(func=cmd_family)
