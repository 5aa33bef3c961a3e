"""``usalama report monthly``: the monthly summary PDF (and workbook) from the command line, through the same
function as the GUI's reports page."""

from __future__ import annotations

from pathlib import Path

from .cli import EXIT_OK, open_session, out
from .i18n import _


def cmd_report(args) -> int:
    from .reports.monthly import monthly_report

    session = open_session(args)
    try:
        result = monthly_report(session, args.month, out=Path(args.out), scope=args.scope,
                                lang=args.report_lang or args.lang or "en", audience=args.audience,
                                xlsx=Path(args.xlsx) if args.xlsx else None)
    finally:
        session.close()
    out(_("Monthly summary written to {path} ({pages} pages).").format(path=result.path, pages=result.pages))
    if result.xlsx:
        out(_("Tables written to {path}.").format(path=result.xlsx))
    if result.missing_agencies:
        out(_("Missing this month: {names}.").format(names=", ".join(result.missing_agencies)))
    return EXIT_OK


def register(subparsers) -> None:
    s = subparsers.add_parser("report", help=_("print reports"))
    rs = s.add_subparsers(dest="report_cmd", parser_class=type(s))
    rs.required = True
    m = rs.add_parser("monthly", help=_("the monthly summary for the team meeting or the Safety Forum"))
    m.add_argument("--month", required=True, help=_("the month, as YYYY-MM"))
    m.add_argument("--scope", choices=["agency", "all"], default="all")
    m.add_argument("--lang", dest="report_lang", choices=["en", "sw"], help=_("language of the report"))
    m.add_argument("--audience", choices=["team", "forum"], default="team")
    m.add_argument("--out", required=True, help=_("the PDF to write"))
    m.add_argument("--xlsx", help=_("also write the tables to this workbook"))
    s.set_defaults(func=cmd_report)
