"""The headless ``usalama`` command. Exit codes: 0 done, 1 refused or invalid input (one line on stderr), 2 usage."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from .config import resolve
from .errors import UsalamaError
from .i18n import _, set_language

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


class Usage(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)  # "--password" must not quietly mean "--password-file"
        super().__init__(*args, **kwargs)

    def error(self, message):  # argparse's default exits 2 with usage: keep that, but say it our way
        self.print_usage(sys.stderr)
        print(f"usalama: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


# --- passwords: never from a command-line argument ---------------------------------------------------------


def _read_file(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise UsalamaError(_("Cannot read the password file {path}.").format(path=path)) from exc


def acting_password(args) -> str:
    if getattr(args, "password_file", None):
        return _read_file(args.password_file)
    if os.environ.get("USALAMA_PASSWORD") is not None:
        return os.environ["USALAMA_PASSWORD"]
    if sys.stdin.isatty():
        return getpass.getpass(_("Password for {user}: ").format(user=acting_user(args)))
    raise UsalamaError(_("No password given: set USALAMA_PASSWORD or use --password-file."))


def acting_user(args) -> str:
    return getattr(args, "user", None) or os.environ.get("USALAMA_USER") or "admin"


def new_password(args, who: str) -> str:
    if getattr(args, "new_password_file", None):
        return _read_file(args.new_password_file)
    if os.environ.get("USALAMA_NEW_PASSWORD") is not None:
        return os.environ["USALAMA_NEW_PASSWORD"]
    if sys.stdin.isatty():
        first = getpass.getpass(_("New password for {user}: ").format(user=who))
        if getpass.getpass(_("Type it again: ")) != first:
            raise UsalamaError(_("The two passwords differ; nothing was changed."))
        return first
    raise UsalamaError(_("No new password given: set USALAMA_NEW_PASSWORD or use --new-password-file."))


def installation(args):
    from .services.installation import Installation

    return Installation(resolve(args.data_dir))


def open_session(args):
    return installation(args).login(acting_user(args), acting_password(args))


def out(text: str = "") -> None:
    print(text)


# --- commands ------------------------------------------------------------------------------------------------


def cmd_version(args) -> int:
    from .selfcheck import versions

    for name, value in versions().items():
        out(f"{name}: {value}")
    return EXIT_OK


def cmd_selfcheck(args) -> int:
    from .selfcheck import run_selfcheck

    out(run_selfcheck())
    return EXIT_OK


def cmd_init(args) -> int:
    inst = installation(args)
    password = new_password(args, args.admin) if (
        getattr(args, "new_password_file", None) or os.environ.get("USALAMA_NEW_PASSWORD") is not None
    ) else acting_password(args)
    session, recovery_key = inst.initialise(args.agency, args.agency_type, args.county, args.admin.lower(), password,
                                            subcounty=args.subcounty or "", ward=args.ward or "")
    try:
        out(_("Installation created in {folder}.").format(folder=inst.paths.root))
        out(_("Recovery key (write it down and keep it locked away; it is shown only once):"))
        out(recovery_key)
        if args.recovery_pdf:
            from .reports.recovery import recovery_key_pdf

            recovery_key_pdf(Path(args.recovery_pdf), recovery_key, session.agency.name, session.installation_id)
            out(_("Recovery sheet written to {path}.").format(path=args.recovery_pdf))
    finally:
        session.close()
    return EXIT_OK


def cmd_user(args) -> int:
    from .services.users import UserService

    session = open_session(args)
    try:
        users = UserService(session)
        if args.user_cmd == "add":
            u = users.add(args.username, args.role, new_password(args, args.username), acting_password(args),
                          display_name=args.display_name or "")
            out(_("User {name} added with role {role}.").format(name=u.username, role=u.role))
        elif args.user_cmd == "list":
            for u in users.list():
                state = _("disabled") if u.disabled else _("active")
                out(f"{u.username}\t{u.role}\t{state}\t{u.display_name}")
        elif args.user_cmd == "passwd":
            users.change_password(args.username, new_password(args, args.username), acting_password(args))
            out(_("Password changed for {name}.").format(name=args.username))
        elif args.user_cmd == "disable":
            users.disable(args.username)
            out(_("User {name} disabled.").format(name=args.username))
        elif args.user_cmd == "enable":
            users.enable(args.username, new_password(args, args.username), acting_password(args))
            out(_("User {name} enabled.").format(name=args.username))
        elif args.user_cmd == "role":
            users.set_role(args.username, args.role)
            out(_("User {name} now has role {role}.").format(name=args.username, role=args.role))
        elif args.user_cmd == "unlock":
            users.unlock(args.username)
            out(_("User {name} unlocked.").format(name=args.username))
    finally:
        session.close()
    return EXIT_OK


def cmd_audit(args) -> int:
    from .services.auditing import AuditService

    session = open_session(args)
    try:
        service = AuditService(session)
        if args.audit_cmd == "verify":
            report = service.verify()
            if report.ok:
                out(_("Audit trail intact: {n} entries.").format(n=report.entries))
                return EXIT_OK
            print(_("Audit trail broken at entry {seq}: {problem}").format(seq=report.first_bad,
                                                                         problem=report.problem), file=sys.stderr)
            return EXIT_REFUSED
        for e in service.entries(limit=args.limit):
            out(f"{e['seq']}\t{e['at']}\t{e['username']}\t{e['action']}\t{e['module']}\t{e['target']}")
    finally:
        session.close()
    return EXIT_OK


def cmd_backup(args) -> int:
    from .services.backup import write_backup

    session = open_session(args)
    try:
        from .permissions import require

        require(session.actor, "backup", "backup")
        result = write_backup(session.installation, session.db, Path(args.out), session.username)
        out(_("Backup written to {path}.").format(path=result["path"]))
    finally:
        session.close()
    return EXIT_OK


def cmd_restore(args) -> int:
    from .services.backup import restore_backup

    inst = installation(args)
    if args.recovery_key_file:
        secret = _read_file(args.recovery_key_file)
        result = restore_backup(inst, Path(args.backup), "recovery", secret, use_recovery_key=True)
    else:
        result = restore_backup(inst, Path(args.backup), acting_user(args), acting_password(args))
    out(_("Backup from {when} restored. The replaced files are in {folder}.").format(
        when=result.get("created_at", "?"), folder=result["replaced"]))
    return EXIT_OK


def cmd_check(args) -> int:
    session = open_session(args)
    try:
        problems = session.db.integrity_problems()
        if problems:
            print(_("The database is damaged; restore the last backup.") + " " + "; ".join(problems[:5]),
                  file=sys.stderr)
            return EXIT_REFUSED
        out(_("The database passed both integrity checks."))
    finally:
        session.close()
    return EXIT_OK


def cmd_demo(args) -> int:
    from .demo import run_demo

    password = os.environ.get("USALAMA_PASSWORD")
    result = run_demo(resolve(args.data_dir), password, seed=args.seed, size=args.size)
    out(_("Demo installation ready in {folder}.").format(folder=result["folder"]))
    out(_("Log in as {user} with password {password}").format(user="admin", password=result["password"]))
    for line in result.get("summary", []):
        out(line)
    return EXIT_OK


# Each defines ``register(subparsers)``; a module not written yet is skipped.
COMMAND_MODULES: list[str] = [
    "usalama_desktop.cli_records",
    "usalama_desktop.cli_cases",
    "usalama_desktop.cli_community",
    "usalama_desktop.cli_sync",
    "usalama_desktop.cli_reports",
    "usalama_desktop.cli_privacy",
]


def build_parser() -> Parser:
    p = Parser(prog="usalama", description=_("Usalama Desktop, headless."))
    p.add_argument("--data-dir", help=_("data folder (default: $USALAMA_DATA_DIR or the user data folder)"))
    p.add_argument("--password-file", help=_("read the acting user's password from this file"))
    p.add_argument("--user", help=_("acting user (default: $USALAMA_USER or admin)"))
    p.add_argument("--lang", choices=["en", "sw"], help=_("language of messages"))
    sub = p.add_subparsers(dest="command", parser_class=Parser)
    sub.required = True

    s = sub.add_parser("version", help=_("print versions"))
    s.set_defaults(func=cmd_version)
    s = sub.add_parser("selfcheck", help=_("check that the program and its libraries work"))
    s.set_defaults(func=cmd_selfcheck)

    s = sub.add_parser("init", help=_("set up a new installation"))
    s.add_argument("--agency", required=True)
    s.add_argument("--agency-type", required=True)
    s.add_argument("--county", required=True)
    s.add_argument("--subcounty")
    s.add_argument("--ward")
    s.add_argument("--admin", required=True)
    s.add_argument("--new-password-file")
    s.add_argument("--recovery-pdf", help=_("also write the recovery key sheet to this PDF"))
    s.set_defaults(func=cmd_init)

    s = sub.add_parser("user", help=_("manage user accounts"))
    us = s.add_subparsers(dest="user_cmd", parser_class=Parser)
    us.required = True
    a = us.add_parser("add")
    a.add_argument("username")
    a.add_argument("--role", required=True)
    a.add_argument("--display-name")
    a.add_argument("--new-password-file")
    us.add_parser("list")
    for name in ("passwd", "enable"):
        a = us.add_parser(name)
        a.add_argument("username")
        a.add_argument("--new-password-file")
    for name in ("disable", "unlock"):
        a = us.add_parser(name)
        a.add_argument("username")
    a = us.add_parser("role")
    a.add_argument("username")
    a.add_argument("role")
    s.set_defaults(func=cmd_user)

    s = sub.add_parser("audit", help=_("check or read the audit trail"))
    aus = s.add_subparsers(dest="audit_cmd", parser_class=Parser)
    aus.required = True
    aus.add_parser("verify")
    a = aus.add_parser("list")
    a.add_argument("--limit", type=int, default=50)
    s.set_defaults(func=cmd_audit)

    s = sub.add_parser("backup", help=_("write an encrypted backup"))
    s.add_argument("out")
    s.set_defaults(func=cmd_backup)
    s = sub.add_parser("restore", help=_("bring back a backup"))
    s.add_argument("backup")
    s.add_argument("--recovery-key-file")
    s.set_defaults(func=cmd_restore)
    s = sub.add_parser("check", help=_("run the database integrity checks"))
    s.set_defaults(func=cmd_check)

    s = sub.add_parser("demo", help=_("create or fill a demo installation with fictional data"))
    s.add_argument("--seed", type=int, default=2026)
    s.add_argument("--size", choices=["small", "normal"], default="normal")
    s.set_defaults(func=cmd_demo)

    from .forms.registry import import_optional

    for name in COMMAND_MODULES:
        module = import_optional(name)
        if module is not None:
            module.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    os.umask(0o077)  # every file we create (database, logs, exports) is private to this account
    args = build_parser().parse_args(argv)
    if args.lang:
        set_language(args.lang)
    from .logsetup import setup_logging

    setup_logging(resolve(args.data_dir).logs if args.command not in ("version", "selfcheck") else None)
    try:
        return int(args.func(args) or 0)
    except UsalamaError as exc:
        print(f"usalama: {exc.message}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        print(_("usalama: stopped."), file=sys.stderr)
        return EXIT_REFUSED
    except BrokenPipeError:
        # Output piped into `head` and the reader left: not an error of ours. Keep Python from complaining at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
