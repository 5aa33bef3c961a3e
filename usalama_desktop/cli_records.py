"""``usalama records``: list, export, import and templates for every form in the registry.

An import that ran exits 0 and prints its row accounting, even when some rows were rejected (the row report beside
the file says which and why); it exits 1 only when the file was refused as a whole and nothing was written.
"""

from __future__ import annotations

from pathlib import Path

from .cli import EXIT_OK, Parser, open_session, out
from .errors import UsalamaError
from .i18n import _, current_language


def _add_filters(p) -> None:
    p.add_argument("--from", dest="date_from", metavar="DATE", help=_("from this date (YYYY-MM-DD or YYYY-MM)"))
    p.add_argument("--to", dest="date_to", metavar="DATE", help=_("up to this date, inclusive"))
    p.add_argument("--category", action="append", default=[], help=_("category (value or label); repeatable"))
    p.add_argument("--status", action="append", default=[], help=_("status (value or label); repeatable"))
    p.add_argument("--county", help=_("county code or name"))
    p.add_argument("--subcounty")
    p.add_argument("--ward")
    p.add_argument("--agency", dest="agency_ids", action="append", default=[], metavar="ID",
                   help=_("agency id; repeatable"))
    p.add_argument("--search", help=_("words to search for"))


def register(sub) -> None:
    s = sub.add_parser("records", help=_("templates, exports, imports and lists of records, for every form"))
    rs = s.add_subparsers(dest="records_cmd", parser_class=Parser)
    rs.required = True
    rs.add_parser("forms", help=_("list the forms"))
    a = rs.add_parser("template", help=_("write a blank Excel template"))
    a.add_argument("--form", required=True)
    a.add_argument("--out", required=True)
    a.add_argument("--lang", dest="sheet_lang", choices=["en", "sw"], help=_("language of the headers"))
    a = rs.add_parser("export", help=_("export records to .xlsx or .csv"))
    a.add_argument("--form", required=True)
    a.add_argument("--out", required=True)
    a.add_argument("--lang", dest="sheet_lang", choices=["en", "sw"], help=_("language of headers and choices"))
    a.add_argument("--include-narratives", action="store_true",
                   help=_("also export fields that never leave this computer (narratives); recorded in the audit"))
    _add_filters(a)
    a = rs.add_parser("import", help=_("import a filled template or a mapped spreadsheet"))
    a.add_argument("file")
    a.add_argument("--form", required=True)
    a.add_argument("--mapping", help=_("a mapping file, or the name of a saved or shipped mapping"))
    a.add_argument("--agency", dest="import_agency", metavar="ID", help=_("enter the records for this agency"))
    a = rs.add_parser("list", help=_("list records"))
    a.add_argument("--form", required=True)
    a.add_argument("--limit", type=int, default=50)
    _add_filters(a)
    a = rs.add_parser("mappings", help=_("list saved and shipped column mappings"))
    a.add_argument("--form")
    a = rs.add_parser("mapping-save", help=_("keep a mapping file here under its name"))
    a.add_argument("file")
    a.add_argument("--name", help=_("save under this name instead of the file's"))
    a = rs.add_parser("mapping-export", help=_("write a saved mapping to a file"))
    a.add_argument("name")
    a.add_argument("--out", required=True)
    s.set_defaults(func=cmd_records)


def query_from(args, form):
    """Command-line filters -> a Query, with categories, statuses and counties accepted by value or label."""
    from .forms.choices import get
    from .forms.fields import FieldError, parse_date
    from .services.records import Query

    def date(text):
        if not text:
            return None
        try:
            return parse_date(text, "either")
        except FieldError as exc:
            raise UsalamaError(str(exc)) from None

    def choices(texts, field_name, what):
        if not texts:
            return []
        if not field_name:
            raise UsalamaError(_("The form {form} has no {what} to filter on.").format(form=form.name, what=what))
        cl = form.by_name[field_name].choice_list
        out_values = []
        for text in texts:
            value = cl.find(text)
            if value is None:
                raise UsalamaError(_("{value} is not a {what} of the form {form}.").format(value=text, what=what,
                                                                                          form=form.name))
            out_values.append(value)
        return out_values

    county = None
    if args.county:
        county = get("counties").find(args.county) or get("counties").find(args.county.zfill(3))
        if county is None:
            raise UsalamaError(_("{value} is not a Kenyan county.").format(value=args.county))
    return Query(date_from=date(args.date_from), date_to=date(args.date_to),
                 categories=choices(args.category, form.category_field, _("category")),
                 statuses=choices(args.status, form.status_field, _("status")), agency_ids=list(args.agency_ids),
                 county=county, subcounty=args.subcounty, ward=args.ward, text=args.search)


def cmd_records(args) -> int:
    from .forms.registry import forms, get_form

    cmd = args.records_cmd
    if cmd == "forms":
        for name, form in sorted(forms().items()):
            out(f"{name}\t{form.title.text()}")
        return EXIT_OK
    if cmd == "template":
        from .io.template import write_template

        path = write_template(get_form(args.form).name, Path(args.out), args.sheet_lang or current_language())
        out(_("Template written to {path}.").format(path=path))
        return EXIT_OK
    session = open_session(args)
    try:
        return _with_session(args, session, get_form)
    finally:
        session.close()


def _with_session(args, session, get_form) -> int:
    from .io import mapping as mappings

    cmd = args.records_cmd
    if cmd == "export":
        from .io.export import export_records

        form = get_form(args.form)
        result = export_records(session, form.name, Path(args.out), query_from(args, form),
                                include_local=args.include_narratives, lang=args.sheet_lang or current_language())
        out(_("{n} records exported.").format(n=result.records))
        for path in result.paths:
            out(_("Written: {path}").format(path=path))
        return EXIT_OK
    if cmd == "import":
        from .io.importer import import_file

        form = get_form(args.form)
        m = mappings.resolve(session, args.mapping) if args.mapping else None
        report = import_file(session, form.name, Path(args.file), m, agency_id=args.import_agency)
        for line in report.lines():
            out(line)
        return EXIT_OK
    if cmd == "list":
        return _list(args, session, get_form(args.form))
    if cmd == "mappings":
        for name in mappings.saved_names(session, args.form):
            out(f"{name}\t{_('saved')}")
        for name, path in mappings.shipped().items():
            m = mappings.read_file(path)
            if not args.form or m.form == args.form:
                out(f"{name}\t{_('shipped')}\t{m.name}")
        return EXIT_OK
    if cmd == "mapping-save":
        m = mappings.read_file(Path(args.file))
        if args.name:
            m.name = args.name
        mappings.save(session, m)
        out(_("Mapping {name} saved.").format(name=m.name))
        return EXIT_OK
    if cmd == "mapping-export":
        m = mappings.load_saved(session, args.name)
        if m is None:
            raise UsalamaError(_("No saved mapping called {name}.").format(name=args.name))
        mappings.write_file(m, Path(args.out))
        out(_("Mapping written to {path}.").format(path=args.out))
        return EXIT_OK
    raise UsalamaError(f"unknown records command {cmd}")  # pragma: no cover (argparse limits the choices)


def _list(args, session, form) -> int:
    from .services.records import RecordService

    svc = RecordService(session, form.name)
    q = query_from(args, form)
    names = svc.list_columns()
    out("\t".join([_("Record id"), *[form.by_name[n].label.text() for n in names]]))
    after, left = None, max(0, args.limit)
    while left > 0:
        page = svc.page(q, after=after, limit=min(left, 500))
        for row in page.rows:
            out("\t".join([row["id"], *[form.by_name[n].display(row["values"].get(n)).replace("\t", " ")
                                        for n in names]]))
        left -= len(page.rows)
        if page.next_key is None:
            break
        after = page.next_key
    return EXIT_OK
