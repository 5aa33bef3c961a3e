"""``usalama privacy``: retention, a person's access export and the breach readiness report (admins only)."""

from __future__ import annotations

from pathlib import Path

from .cli import EXIT_OK, open_session, out
from .i18n import _


def cmd_privacy(args) -> int:
    from .services.privacy import PrivacyService, report_text

    session = open_session(args)
    try:
        svc = PrivacyService(session)
        if args.privacy_cmd == "retention":
            if args.module:
                svc.set_retention(args.module, None if args.years == 0 else args.years)
            for module, years in svc.retention().items():
                out(f"{module}\t{years if years else _('kept until erased by hand')}")
        elif args.privacy_cmd == "purge":
            if args.dry_run:
                for form, n in svc.due_for_purge().items():
                    out(f"{form}\t{n}")
            else:
                counts = svc.purge()
                out(_("Erased {n} records past their retention period.").format(n=sum(counts.values())))
        elif args.privacy_cmd == "access":
            result = svc.access_export(args.identifier, Path(args.out), args.request)
            out(_("{n} records written to {path}.").format(n=result["records"], path=result["path"]))
        elif args.privacy_cmd == "breach":
            text = report_text(svc.breach_report(args.bundle))
            if args.out:
                from .fsutil import atomic_write_bytes

                atomic_write_bytes(Path(args.out), text.encode("utf-8"))
                out(_("Report written to {path}.").format(path=args.out))
            else:
                out(text.rstrip("\n"))
    finally:
        session.close()
    return EXIT_OK


def register(sub) -> None:
    s = sub.add_parser("privacy", help=_("retention, access requests and breach reports (Data Protection Act)"))
    ps = s.add_subparsers(dest="privacy_cmd")
    ps.required = True
    a = ps.add_parser("retention", help=_("show or set how many years records are kept"))
    a.add_argument("--module")
    a.add_argument("--years", type=int, default=0, help=_("0 keeps records until erased by hand"))
    a = ps.add_parser("purge", help=_("erase records past their retention period"))
    a.add_argument("--dry-run", action="store_true")
    a = ps.add_parser("access", help=_("write everything held about one person to a file"))
    a.add_argument("identifier", help=_("the name, code or number the person is recorded under"))
    a.add_argument("--out", required=True)
    a.add_argument("--request", required=True, help=_("reference of the person's written request"))
    a = ps.add_parser("breach", help=_("what a lost computer or bundle exposed, and whether it was encrypted"))
    a.add_argument("--bundle", help=_("the lost bundle's id"))
    a.add_argument("--out")
    s.set_defaults(func=cmd_privacy)
