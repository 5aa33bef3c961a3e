"""``usalama keys|export|import|conflicts|submissions``: exchange bundles for scripts and for coordinators without a
screen. The same services as the GUI page, so roles, checks and the audit trail are the same."""

from __future__ import annotations

import sys
from pathlib import Path

from .errors import UsalamaError
from .i18n import _


def _session(args):
    from .cli import open_session

    return open_session(args)


def cmd_keys(args) -> int:
    from .cli import EXIT_REFUSED, out
    from .sync import keys, quarantine

    session = _session(args)
    try:
        c = args.keys_cmd
        if c == "card":
            folder = Path(args.out or ".")
            json_path, pub_path = keys.write_card(session, folder)
            card = keys.local_card(session)
            out(_("Agency card written to {path} (and the signing key alone to {pub}).").format(path=json_path,
                                                                                            pub=pub_path))
            out(_("Fingerprint to read aloud: {fingerprint}").format(fingerprint=card["fingerprint"]))
        elif c == "enrol":
            card = keys.read_card(Path(args.card))
            if not args.fingerprint:
                out(_("Agency: {name} ({type})").format(name=card["agency_name"], type=card["agency_type"]))
                out(_("Installation: {id}").format(id=card["installation_id"]))
                out(_("Fingerprint: {fingerprint}").format(fingerprint=card["fingerprint"]))
                print(_("usalama: not enrolled yet. Ask the agency to read out its fingerprint; if it matches, run "
                        "again with --fingerprint \"DIGITS\"."), file=sys.stderr)
                return EXIT_REFUSED
            relay = None if args.relay is None else args.relay == "yes"
            peer = keys.enrol(session, card, args.fingerprint, relay=relay)
            out(_("Enrolled {name}{relay}.").format(
                name=peer.agency_name, relay=_(" as a coordinator that passes records on") if peer.relay else ""))
        elif c == "list":
            for p in keys.list_peers(session):
                state = _("revoked {date}").format(date=p.revoked_at[:10]) if p.revoked else _("active")
                role = _("relay") if p.relay else _("agency")
                out(f"{p.agency_name}\t{p.agency_type}\t{role}\t{state}\t{p.key_id_text}\t{p.fingerprint}\t"
                    f"{p.installation_id}")
        elif c == "revoke":
            peer = keys.revoke(session, keys.find_peer(session, args.who), args.reason)
            out(_("Revoked the card of {name}: its bundles are refused from now on.").format(name=peer.agency_name))
            records = quarantine.records_from(session, peer)
            if args.quarantine:
                n = quarantine.quarantine(session, peer, args.reason)
                out(_("{n} records that came with that key were quarantined.").format(n=n))
            elif records:
                out(_("{n} records came with that key; list them with `usalama keys records`, quarantine them with "
                      "`usalama keys quarantine`.").format(n=len(records)))
        elif c == "records":
            for r in quarantine.records_from(session, keys.find_peer(session, args.who)):
                out(f"{r['form']}\t{r['record_id']}\t{r['agency']}\t{r['updated_at']}")
        elif c == "quarantine":
            peer = keys.find_peer(session, args.who)
            n = quarantine.quarantine(session, peer, args.reason or _("key revoked"))
            out(_("{n} records that came with that key were quarantined.").format(n=n))
        elif c == "release":
            quarantine.release(session, args.record_id)
            out(_("Record {id} is back from quarantine.").format(id=args.record_id))
        elif c == "reset-sequence":
            n = quarantine.reset_sequence(session, keys.find_peer(session, args.who))
            out(_("Sequence record reset ({n} bundles set aside).").format(n=n))
    finally:
        session.close()
    return 0


def cmd_export(args) -> int:
    from .cli import out
    from .sync import keys
    from .sync.export import export_bundle

    session = _session(args)
    try:
        recipient = keys.find_peer(session, args.recipient) if args.recipient else None

        def progress(done: int, total: int) -> None:
            if args.progress and total:
                print(f"\r{done}/{total}", end="", file=sys.stderr, flush=True)

        result = export_bundle(session, Path(args.to), recipient, args.profile, args.full, args.record, progress)
        if args.progress:
            print(file=sys.stderr)
        out(_("Bundle {seq} for {agency} written and verified: {path}").format(
            seq=result.sequence, agency=result.recipient.agency_name, path=result.path))
        out(_("{n} records ({deleted} deletions); fingerprint {fingerprint}.").format(
            n=result.records, deleted=result.tombstones, fingerprint=result.sender_fingerprint))
        if args.receipt:
            from .reports.receipt import bundle_receipt_pdf

            bundle_receipt_pdf(session, Path(args.receipt), result)
            out(_("Receipt written to {path}.").format(path=args.receipt))
    finally:
        session.close()
    return 0


def cmd_import(args) -> int:
    from .cli import EXIT_REFUSED, out
    from .sync.importer import import_many

    session = _session(args)
    try:
        for p in args.bundles:
            if not Path(p).exists():
                raise UsalamaError(_("There is no file or folder {path}.").format(path=p))
        results = import_many(session, [Path(p) for p in args.bundles], accept_jump=args.accept_jump)
        if not results:
            raise UsalamaError(_("No bundles found there."))
        refused = 0
        for r in results:
            if r.ok:
                out(f"{r.file_name}: {r.message}")
                for note in r.notes:
                    out(f"  {note}")
            else:
                refused += 1
                print(f"usalama: {r.file_name}: {r.message}", file=sys.stderr)
        return EXIT_REFUSED if refused else 0
    finally:
        session.close()


def cmd_conflicts(args) -> int:
    from .cli import out
    from .sync import conflicts

    session = _session(args)
    try:
        if args.conflicts_cmd == "list":
            for c in conflicts.list_conflicts(session):
                out(f"{c.record_id}\t{c.form.name}\t{c.agency_name}\t{c.status}\t"
                    + _("{n} other versions").format(n=len(c.others)))
                sides = [c.current, *c.others]
                for side in sides:
                    out(f"  [{side.key}] {side.agency} · {side.by} · {side.at}" + (f" · {_('deleted')}"
                                                                                  if side.deleted else ""))
                for _name, label, shown in c.differences:
                    out(f"    {label}: " + " | ".join(f"[{s.key}] {v}" for s, v in zip(sides, shown, strict=True)))
        else:
            combine = {}
            for item in args.combine or []:
                name, sep, source = item.partition("=")
                if not sep:
                    raise UsalamaError(_("Write each --combine as FIELD=current or FIELD=NUMBER."))
                combine[name.strip()] = source.strip()
            outcome = conflicts.resolve(session, args.record_id, args.keep, combine or None)
            out(_("Conflict resolved: a new version that includes every other was saved.") if outcome == "resolved"
                else _("Conflict marked as reviewed; the record keeps its current version."))
    finally:
        session.close()
    return 0


def cmd_submissions(args) -> int:
    from .cli import out
    from .sync.tracker import late_text, submissions

    session = _session(args)
    try:
        for s in submissions(session):
            last = f"{s.last_sequence} ({s.last_created[:10]})" if s.last_sequence else "-"
            line = f"{s.agency_name}\t{last}\t{late_text(s)}"
            if s.gaps:
                line += f"\t{s.gap_text}"
            if s.rejected:
                line += "\t" + _("{n} refused; last: {reason}").format(n=s.rejected, reason=s.last_rejected_reason)
            out(line)
        from .sync.importer import rejected

        refused = rejected(session, limit=20)
        if refused:
            out(_("Refused bundles (newest first):"))
            for r in refused:
                out(f"  {r['at'][:16].replace('T', ' ')}\t{r['file']}\t{r['reason']}")
    finally:
        session.close()
    return 0


def register(sub) -> None:
    from .cli import Parser
    from .sync.profiles import PROFILES

    s = sub.add_parser("keys", help=_("agency cards: this installation's, enrolled ones, revocation"))
    ks = s.add_subparsers(dest="keys_cmd", parser_class=Parser)
    ks.required = True
    a = ks.add_parser("card", help=_("save this installation's agency card"))
    a.add_argument("--out", help=_("folder to write the card to (default: here)"))
    a = ks.add_parser("enrol", help=_("trust another agency's card after comparing fingerprints"))
    a.add_argument("card")
    a.add_argument("--fingerprint", help=_("the 30 digits the agency read out"))
    a.add_argument("--relay", choices=["yes", "no"], help=_("whether it passes other agencies' records on"))
    ks.add_parser("list", help=_("list enrolled cards"))
    a = ks.add_parser("revoke", help=_("refuse every later bundle signed by a card"))
    a.add_argument("who", help=_("installation id, key id, fingerprint, card file or agency name"))
    a.add_argument("--reason", required=True)
    a.add_argument("--quarantine", action="store_true", help=_("also quarantine the records that came with it"))
    a = ks.add_parser("records", help=_("list the records that came with a card's key"))
    a.add_argument("who")
    a = ks.add_parser("quarantine", help=_("quarantine the records that came with a revoked card's key"))
    a.add_argument("who")
    a.add_argument("--reason")
    a = ks.add_parser("release", help=_("put a quarantined record back"))
    a.add_argument("record_id")
    a = ks.add_parser("reset-sequence", help=_("forget the sequence numbers seen from a revoked card"))
    a.add_argument("who")
    s.set_defaults(func=cmd_keys)

    s = sub.add_parser("export", help=_("write an exchange bundle for the coordinator or another agency"))
    s.add_argument("--to", required=True, help=_("folder to write to (the USB stick)"))
    s.add_argument("--recipient", help=_("card file, installation id, fingerprint or agency name (default: the "
                                          "enrolled coordinator)"))
    s.add_argument("--full", action="store_true", help=_("every record, not only the changes since the last bundle"))
    s.add_argument("--profile", choices=PROFILES, default="observatory")
    s.add_argument("--record", help=_("the record to refer (referral profile)"))
    s.add_argument("--receipt", help=_("also write a printable receipt PDF here"))
    s.add_argument("--progress", action="store_true", help=_("show progress on stderr"))
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("import", help=_("import exchange bundles (files, or folders such as a USB stick)"))
    s.add_argument("bundles", nargs="+")
    s.add_argument("--accept-jump", action="store_true",
                   help=_("confirm a sequence number far ahead of the last one seen"))
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("conflicts", help=_("review records edited in two places at once"))
    cs = s.add_subparsers(dest="conflicts_cmd", parser_class=Parser)
    cs.required = True
    cs.add_parser("list")
    a = cs.add_parser("resolve")
    a.add_argument("record_id")
    a.add_argument("--keep", default="current", help=_("current, or the number of the version to keep"))
    a.add_argument("--combine", action="append", help=_("FIELD=current or FIELD=NUMBER, repeatable"))
    s.set_defaults(func=cmd_conflicts)

    s = sub.add_parser("submissions", help=_("which agencies have sent bundles, gaps, and who is late"))
    s.set_defaults(func=cmd_submissions)
