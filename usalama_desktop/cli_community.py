"""``usalama sms|survey|scores|complaints|meetings|groups``: the community modules from the command line, through the
same services as the GUI (roles, rules and the audit trail are the same).

An import that ran exits 0 and prints one line per row (row, form, outcome, reasons), even when some rows were
rejected; it exits 1 only when the files were refused as a whole and nothing was written.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from .cli import EXIT_OK, Parser, open_session, out
from .errors import UsalamaError
from .i18n import _


def _pairs(items: list[str], what: str) -> dict[str, str]:
    result = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsalamaError(_("Write each {what} as NAME=VALUE.").format(what=what))
        result[name.strip()] = value.strip()
    return result


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _round_id(session, text: str) -> str:
    """A survey round named by its id or its round code."""
    from .forms.registry import ref
    from .services.records import Query, RecordService

    rounds = RecordService(session, "survey_round")
    found = rounds.page(Query(equals={ref("survey_round", "round_code"): text}), limit=2).rows
    if len(found) == 1:
        return found[0]["id"]
    return text


# --- sms ------------------------------------------------------------------------------------------------------------


def cmd_sms(args) -> int:
    from .io.sms import import_sms

    session = open_session(args)
    try:
        report = import_sms(session, Path(args.file), args.ratings_mapping, args.complaints_mapping,
                            dry_run=args.dry_run)
        for row in report.rows:
            out("\t".join([str(row.row), row.form or "-", row.status, row.record_id or "", "; ".join(row.problems)]))
        for note in report.notes:
            out(note)
        out(report.summary())
        if args.dry_run:
            out(_("Dry run: nothing was saved."))
    finally:
        session.close()
    return EXIT_OK


# --- survey -----------------------------------------------------------------------------------------------------------


def cmd_survey(args) -> int:
    session = open_session(args)
    try:
        if args.survey_cmd == "rounds":
            _rounds(session, args)
        elif args.survey_cmd == "mapping":
            _mapping(args)
        elif args.survey_cmd == "import-kobo":
            _import_kobo(session, args)
        else:
            _results(session, args)
    finally:
        session.close()
    return EXIT_OK


def _rounds(session, args) -> None:
    from .forms.registry import get_form, ref
    from .services.records import Query, RecordService

    rounds = RecordService(session, "survey_round")
    q = Query(equals={ref("survey_round", "year"): args.year} if args.year else {}, sort="rid")
    form = get_form("survey_round")
    for row in rounds.page(q, limit=1000).rows:
        values = row["values"]
        out("\t".join([row["id"], *[form.by_name[n].display(values.get(n)) for n in rounds.list_columns()]]))


def _mapping(args) -> None:
    from .io.kobo import propose_mapping, read_xlsform

    mapping = propose_mapping(read_xlsform(Path(args.xlsform)), _pairs(args.map, "--map"),
                              _pairs(args.map_choice, "--map-choice"))
    for target, question in sorted(mapping.questions.items()):
        out(f"{target}\t{question}")
    if mapping.unused:
        out(_("Questions not imported: {names}.").format(names=", ".join(mapping.unused)))
    for problem in mapping.problems():
        out(problem)
    if mapping.complete:
        out(_("The form fits the safety audit questions."))


def _import_kobo(session, args) -> None:
    from .io.kobo import import_kobo

    report = import_kobo(session, Path(args.export), Path(args.xlsform), _round_id(session, args.round),
                         _pairs(args.map, "--map"), _pairs(args.map_choice, "--map-choice"), dry_run=args.dry_run)
    for row in report.rows:
        out("\t".join([str(row.row), row.status, row.record_id or "", "; ".join(row.problems)]))
    for note in report.notes:
        out(note)
    out(report.summary())
    if args.dry_run:
        out(_("Dry run: nothing was saved."))


def _results(session, args) -> None:
    from .services.survey import ward_results

    results = ward_results(session, args.year, _round_id(session, args.round) if args.round else None,
                           min_n=args.min_n)
    out(_("Safety audit {year}: rounds {rounds}").format(year=results.year, rounds=", ".join(results.rounds) or "-"))
    out("\t".join([_("Ward"), _("Respondents"), _("Victimisation rate"), _("Reporting rate"), _("Feel safe"),
                   _("Never walk alone"), _("Don't know"), _("Trust police"), _("Trust local justice"),
                   _("Incidents recorded")]))
    for w in [*results.wards, results.total]:
        name = w.ward or (_("All wards") if w is results.total else _("Not recorded"))
        recorded = "-" if w.recorded_incidents is None else str(w.recorded_incidents)
        out("\t".join([name, str(w.respondents), _percent(w.victimisation_rate), _percent(w.reporting_rate),
                       _percent(w.safe_share), str(w.never_alone), str(w.dont_know), _percent(w.trust_police_share),
                       _percent(w.trust_justice_share), recorded]))
    for note in results.notes:
        out(note)


# --- scores, complaints, meetings, groups ----------------------------------------------------------------------------


def cmd_scores(args) -> int:
    from .cli_records import query_from
    from .forms.registry import get_form
    from .services.scores import AGENCY, scores, spec_for

    session = open_session(args)
    try:
        form = get_form(spec_for(args.module).form)
        by = None if not args.by else tuple(AGENCY if b == "agency" else b for b in args.by if b != "none")
        table = scores(session, args.module, by, args.period, query_from(args, form), min_n=args.min_n)
        from .analysis.core import agency_names

        out("\t".join(table.header()))
        for row in table.table(agency_names(session)):
            out("\t".join(row))
    finally:
        session.close()
    return EXIT_OK


def cmd_complaints(args) -> int:
    from .services.complaints import complaint_ages, redress_summary

    session = open_session(args)
    try:
        as_of = _date(args.as_of) if args.as_of else None
        if args.complaints_cmd == "ages":
            for a in complaint_ages(session, as_of=as_of, open_only=args.open):
                out("\t".join([a.id, a.complaint_ref or "", a.station or "", a.status or "", a.received_on,
                               str(a.age_days), " ".join(a.forwarded_to)]))
        else:
            s = redress_summary(session, as_of=as_of)
            out(_("{total} complaints, {open} open; open more than 30 days: {over30}, more than 90 days: {over90}.")
                .format(total=s.total, open=s.open, over30=s.open_over[30], over90=s.open_over[90]))
            if s.median_open_age is not None:
                out(_("Open complaints are {days} days old (median).").format(days=f"{s.median_open_age:g}"))
            if s.median_days_to_close is not None:
                out(_("Closed complaints took {days} days (median).").format(days=f"{s.median_days_to_close:g}"))
            for office, n in sorted(s.forwarded.items()):
                out(f"{office}\t{n}")
    finally:
        session.close()
    return EXIT_OK


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsalamaError(_("Write the date as YYYY-MM-DD.")) from None


def cmd_meetings(args) -> int:
    from .services.meetings import open_action_points

    session = open_session(args)
    try:
        from . import clock

        for p in open_action_points(session, args.before or clock.today(), team=args.team):
            out("\t".join([p.team, p.meeting_date, p.action, p.owner, p.due_on or "", p.status,
                           str(p.days_overdue)]))
    finally:
        session.close()
    return EXIT_OK


def cmd_groups(args) -> int:
    from .services.groups import group_progress

    session = open_session(args)
    try:
        for p in group_progress(session, args.group, args.period):
            out("\t".join([p.group_name or "", p.period, str(p.activities), str(p.savings_reports), str(p.trainings),
                           str(p.police_meetings), str(p.incidents), str(p.incidents_resolved),
                           "" if p.savings_kes is None else f"{p.savings_kes:.0f}", str(p.participants)]))
    finally:
        session.close()
    return EXIT_OK


def register(sub) -> None:
    from .cli_records import _add_filters

    p = sub.add_parser("sms", help=_("the mobile platform's text messages: import its export"))
    ss = p.add_subparsers(dest="sms_cmd", parser_class=Parser)
    ss.required = True
    a = ss.add_parser("import", help=_("import the platform's CSV export into police ratings and complaints"))
    a.add_argument("file")
    a.add_argument("--ratings-mapping", help=_("a mapping file or saved mapping for ratings (default: sms-ratings)"))
    a.add_argument("--complaints-mapping",
                   help=_("a mapping file or saved mapping for complaints (default: sms-complaints)"))
    a.add_argument("--dry-run", action="store_true", help=_("check every row but save nothing"))
    p.set_defaults(func=cmd_sms)

    p = sub.add_parser("survey", help=_("the community safety audit: rounds, KoboToolbox import, results by ward"))
    vs = p.add_subparsers(dest="survey_cmd", parser_class=Parser)
    vs.required = True
    a = vs.add_parser("rounds", help=_("list the survey rounds"))
    a.add_argument("--year", type=int)
    for name, help_text in (("mapping", _("show how an XLSForm's questions match the audit questions")),
                            ("import-kobo", _("import a KoboToolbox export (XLSX or CSV) with its XLSForm"))):
        a = vs.add_parser(name, help=help_text)
        if name == "import-kobo":
            a.add_argument("export")
            a.add_argument("--round", required=True, help=_("the survey round's id or code"))
            a.add_argument("--dry-run", action="store_true", help=_("check every row but save nothing"))
        a.add_argument("--xlsform", required=True, help=_("the form's XLSForm workbook (.xlsx)"))
        a.add_argument("--map", action="append", default=[], metavar="FIELD=QUESTION",
                       help=_("fill an audit field from this question; repeatable"))
        a.add_argument("--map-choice", action="append", default=[], metavar="QUESTION.CODE=VALUE",
                       help=_("read this answer code as our value (empty: leave blank); repeatable"))
    a = vs.add_parser("results", help=_("results by ward beside the recorded incidents"))
    a.add_argument("--year", type=int)
    a.add_argument("--round", help=_("one survey round's id or code instead of a whole year"))
    a.add_argument("--min-n", type=int, default=5, help=_("hide rates of wards with fewer respondents"))
    p.set_defaults(func=cmd_survey)

    p = sub.add_parser("scores", help=_("mean service ratings per agency and over time"))
    p.add_argument("--module", required=True, choices=["feedback", "police_ratings"])
    p.add_argument("--by", action="append", default=[],
                   help=_("group by agency, a field, or none (default: the agency rated); repeatable"))
    p.add_argument("--period", choices=["month", "quarter", "year"])
    p.add_argument("--min-n", type=int, default=5, help=_("hide means of groups with fewer answers"))
    _add_filters(p)
    p.set_defaults(func=cmd_scores)

    p = sub.add_parser("complaints", help=_("complaints about police conduct: age in days and slow redress"))
    cs = p.add_subparsers(dest="complaints_cmd", parser_class=Parser)
    cs.required = True
    a = cs.add_parser("ages", help=_("each complaint with its age in days, oldest open first"))
    a.add_argument("--open", action="store_true", help=_("only complaints still open"))
    a.add_argument("--as-of", help=_("count ages up to this date (default: today)"))
    a = cs.add_parser("summary", help=_("how slow redress is"))
    a.add_argument("--as-of", help=_("count ages up to this date (default: today)"))
    p.set_defaults(func=cmd_complaints)

    p = sub.add_parser("meetings", help=_("team meetings: open action points"))
    ms = p.add_subparsers(dest="meetings_cmd", parser_class=Parser)
    ms.required = True
    a = ms.add_parser("actions", help=_("action points still open from meetings before a date"))
    a.add_argument("--before", help=_("meetings held before this date (default: today)"))
    a.add_argument("--team", choices=["observatory", "access_to_justice", "police_service"])
    p.set_defaults(func=cmd_meetings)

    p = sub.add_parser("groups", help=_("at-risk groups: progress over time"))
    gs = p.add_subparsers(dest="groups_cmd", parser_class=Parser)
    gs.required = True
    a = gs.add_parser("progress", help=_("activities, savings and incidents per group and period"))
    a.add_argument("--group", help=_("one group's id"))
    a.add_argument("--period", choices=["month", "quarter", "year"], default="quarter")
    p.set_defaults(func=cmd_groups)
