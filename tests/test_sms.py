"""The pilot mobile platform's CSV export into police ratings and complaints: saved column mappings, the phone number
hashed with a per-installation key and never stored, every row accounted for, complaints never kept at a police
station, bad files refused with nothing written."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from usalama_desktop.errors import ImportRejected, PermissionDenied
from usalama_desktop.io import mapping as mappings
from usalama_desktop.io.sms import (
    ALREADY,
    COMPLAINTS_FORM,
    COMPLAINTS_MAPPING,
    IMPORTED,
    NOT_HERE,
    PHONE_KEY_META,
    RATINGS_FORM,
    RATINGS_MAPPING,
    REJECTED,
    UNKNOWN_KIND,
    hash_phone,
    import_sms,
    mask_phones,
    normalise_phone,
    phone_key,
)
from usalama_desktop.services.records import RecordService
from usalama_desktop.store.schema import get_meta

SAMPLE = Path(__file__).parent / "data" / "sms_platform_export.csv"
# Every way the sample writes its senders' numbers, and the numbers quoted inside messages.
PHONE_TEXTS = ("700000101", "700 000 101", "0700000102", "0700 000 102", "254700000103", "700 000 103",
               "700000104", "0700 000 105", "700000105", "0700000106", "0700000107", "0700000108", "0700000109")


def all_text(session) -> str:
    """Every value in every table of the database, as one string, for leak checks."""
    out = []
    for (table,) in session.db.query("SELECT name FROM sqlite_master WHERE type = 'table'"):
        for row in session.db.query(f'SELECT * FROM "{table}"'):
            out.extend(str(v) for v in tuple(row) if v is not None)
    return "\n".join(out)


def statuses(report):
    return [(r.row, r.form, r.status) for r in report.rows]


EXPECTED = [
    (2, RATINGS_FORM, IMPORTED), (3, RATINGS_FORM, IMPORTED), (4, COMPLAINTS_FORM, IMPORTED),
    (5, COMPLAINTS_FORM, IMPORTED), (6, RATINGS_FORM, IMPORTED), (7, RATINGS_FORM, REJECTED),
    (8, None, UNKNOWN_KIND), (9, RATINGS_FORM, REJECTED), (10, RATINGS_FORM, ALREADY),
    (11, COMPLAINTS_FORM, IMPORTED), (12, RATINGS_FORM, IMPORTED),
]


# --- phone numbers ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "phone"), [
    ("0712 345 678", "+254712345678"), ("+254 712 345 678", "+254712345678"), ("254712345678", "+254712345678"),
    ("712345678", "+254712345678"), ("tel:+254712345678", "+254712345678"), (712345678.0, "+254712345678"),
    ("0110-123-456", "+254110123456"), ("+44 20 7946 0000", "+442079460000"), ("12345", None), ("", None),
    (None, None), ("not a number", None),
])
def test_phone_numbers_take_one_shape(raw, phone):
    assert normalise_phone(raw) == phone


def test_the_hash_is_keyed_and_the_same_for_every_way_of_writing_a_number():
    key = b"k" * 32
    expected = hmac.new(key, b"+254712345678", hashlib.sha256).hexdigest()
    assert {hash_phone(v, key) for v in ("0712345678", "+254 712 345 678", "712345678")} == {expected}
    assert hash_phone("0712345678", b"x" * 32) != expected
    assert hashlib.sha256(b"+254712345678").hexdigest() != expected  # not a bare hash anyone can recompute
    assert hash_phone("hello", key) is None


def test_numbers_inside_messages_are_masked():
    assert mask_phones("Call me on +254 700 000 103 or 0712-345-678, OB 12/05/03/2024") == \
        "Call me on [phone] or [phone], OB 12/05/03/2024"
    assert mask_phones("Paid 2000 at 0800hrs") == "Paid 2000 at 0800hrs"


def test_the_key_is_made_once_per_installation_and_kept_in_the_encrypted_database(make_env):
    env_a, env_b = make_env("community_safety_forum", "a"), make_env("community_safety_forum", "b")
    a, b = env_a.login("admin"), env_b.login("admin")
    assert get_meta(a.db, PHONE_KEY_META) is None
    key = phone_key(a.db)
    assert len(key) == 32 and get_meta(a.db, PHONE_KEY_META) == key.hex() and phone_key(a.db) == key
    assert phone_key(b.db) != key
    assert key.hex().encode() not in env_a.paths.db.read_bytes()


# --- the import at a forum ----------------------------------------------------------------------------------------


def test_the_export_is_imported_row_by_row(make_env):
    env = make_env("community_safety_forum")
    s = env.login("coordinator")
    report = import_sms(s, SAMPLE)
    assert statuses(report) == EXPECTED
    assert "Overall" in report.rows[5].problems[0]
    assert "station" in report.rows[7].problems[0].lower()
    assert report.summary().startswith("4 ratings and 3 complaints imported; 1 already imported; 2 rejected")
    ratings = RecordService(s, RATINGS_FORM)
    first = ratings.get(report.rows[0].record_id)["values"]
    assert (first["station"], first["service"], first["waiting_minutes"], first["overall"], first["asked_bribe"],
            first["channel"], first["visit_date"]) == ("Kilimani Police Station", "report_crime", 35, "3", "no", "sms",
                                                       "2024-03-01")
    assert first["sms_id"] == "UPS-240301-0001" and len(first["phone_hash"]) == 64
    # The same phone written two ways gives one sender code.
    assert ratings.get(report.rows[4].record_id)["values"]["phone_hash"] == first["phone_hash"]
    last = ratings.get(report.rows[-1].record_id)["values"]
    assert (last["visit_date"], last["asked_bribe"], last["service"]) == ("2024-03-05", "no", "visit")
    complaint = RecordService(s, COMPLAINTS_FORM).get(report.rows[2].record_id)["values"]
    assert (complaint["complaint_type"], complaint["status"], complaint["channel"], complaint["received_on"]) == (
        "bribery", "received", "sms", "2024-03-02")
    assert complaint["what_happened"] is None  # a narrative: coordinators do not read it, clerks do
    clerk = RecordService(env.login("clerk"), COMPLAINTS_FORM)
    assert clerk.get(report.rows[2].record_id)["values"]["what_happened"].endswith("Call me on [phone]")
    assert RecordService(s, COMPLAINTS_FORM).get(report.rows[3].record_id)["values"]["complaint_type"] == \
        "refused_report"


def test_the_phone_number_is_never_stored_logged_or_audited(make_env):
    env = make_env("community_safety_forum")
    s = env.login("coordinator")
    import_sms(s, SAMPLE)
    text = all_text(s)
    for phone in PHONE_TEXTS:
        assert phone not in text
        assert phone.replace(" ", "") not in text
    assert "[phone]" in text  # the masked message is there
    for log in env.paths.logs.rglob("*") if env.paths.logs.exists() else []:
        if log.is_file():
            content = log.read_text(errors="replace")
            assert all(phone not in content for phone in PHONE_TEXTS)
    details = [json.loads(r[0]) for r in s.db.query("SELECT detail FROM audit WHERE action = 'import.sms'")]
    assert details == [{"file_rows": 11, "imported": 4}, {"file_rows": 11, "imported": 3}]


def test_importing_the_same_file_again_changes_nothing(make_env):
    s = make_env("community_safety_forum").login("clerk")
    import_sms(s, SAMPLE)
    counts = (RecordService(s, RATINGS_FORM).count(), RecordService(s, COMPLAINTS_FORM).count())
    again = import_sms(s, SAMPLE)
    assert again.count(IMPORTED) == 0 and again.count(ALREADY) == 8 and again.count(REJECTED) == 2
    assert (RecordService(s, RATINGS_FORM).count(), RecordService(s, COMPLAINTS_FORM).count()) == counts == (4, 3)


def test_the_mappings_are_saved_on_first_use_and_an_edited_one_is_used(make_env, tmp_path):
    s = make_env("community_safety_forum").login("coordinator")
    assert mappings.saved_names(s) == []
    import_sms(s, SAMPLE, dry_run=True)
    assert mappings.saved_names(s) == []  # a dry run writes nothing, not even the mappings
    import_sms(s, tmp_path_copy(tmp_path, first_rows=2))
    assert mappings.saved_names(s) == [COMPLAINTS_MAPPING, RATINGS_MAPPING]
    saved = mappings.load_saved(s, RATINGS_MAPPING)
    next(rule for rule in saved.columns if rule.target == "service").values["ob"] = "visit"
    mappings.save(s, saved)  # as an administrator would in the import window
    report = import_sms(s, SAMPLE)
    row6 = next(r for r in report.rows if r.row == 6)
    assert RecordService(s, RATINGS_FORM).get(row6.record_id)["values"]["service"] == "visit"


def tmp_path_copy(tmp_path: Path, first_rows: int) -> Path:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    out = tmp_path / "part.csv"
    out.write_text("\n".join(lines[: first_rows + 1]) + "\n", encoding="utf-8")
    return out


def test_a_dry_run_writes_nothing(make_env):
    s = make_env("community_safety_forum").login("coordinator")
    before = s.db.scalar("SELECT count(*) FROM audit")
    report = import_sms(s, SAMPLE, dry_run=True)
    assert statuses(report) == EXPECTED and all(r.record_id is None for r in report.rows)
    assert RecordService(s, RATINGS_FORM).count() == 0 and RecordService(s, COMPLAINTS_FORM).count() == 0
    assert s.db.scalar("SELECT count(*) FROM import_keys") == 0
    assert s.db.scalar("SELECT count(*) FROM audit") == before


# --- at a police station ---------------------------------------------------------------------------------------------


def test_a_police_station_imports_the_ratings_and_keeps_no_complaint(make_env):
    s = make_env("police_station").login("clerk")
    report = import_sms(s, SAMPLE)
    assert [r.status for r in report.rows if r.form == COMPLAINTS_FORM] == [NOT_HERE] * 3
    assert all(r.problems == [] and r.record_id is None for r in report.rows if r.form == COMPLAINTS_FORM)
    assert report.count(IMPORTED, RATINGS_FORM) == 4
    assert s.db.scalar("SELECT count(*) FROM police_complaint") == 0
    assert s.db.scalar("SELECT count(*) FROM import_keys WHERE form = ?", (COMPLAINTS_FORM,)) == 0
    assert mappings.saved_names(s) == [RATINGS_MAPPING]
    text = all_text(s)
    assert "insulted my mother" not in text and "boda riders" not in text


# --- refusals -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["counsellor", "ajs_recorder", "viewer"])
def test_roles_that_may_not_import_are_refused(make_env, role):
    s = make_env("community_safety_forum").login({"counsellor": "couns", "ajs_recorder": "elder",
                                                  "viewer": "viewer"}[role])
    with pytest.raises(PermissionDenied):
        import_sms(s, SAMPLE)


def _write(tmp_path, name, text=None, data=None):
    path = tmp_path / name
    if data is not None:
        path.write_bytes(data)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("case", ["no_sender", "no_station_column", "empty", "binary", "missing_file"])
def test_bad_files_are_refused_and_nothing_is_written(make_env, tmp_path, case):
    s = make_env("community_safety_forum").login("coordinator")
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    if case == "no_sender":
        path = _write(tmp_path, "x.csv", "\n".join([lines[0].replace("Sender", "From"), *lines[1:]]))
    elif case == "no_station_column":
        path = _write(tmp_path, "x.csv", "\n".join([lines[0].replace("Station", "Post"), *lines[1:]]))
    elif case == "empty":
        path = _write(tmp_path, "x.csv", "")
    elif case == "binary":
        path = _write(tmp_path, "x.csv", data=b"\x00\x01\x02" * 100)
    else:
        path = tmp_path / "gone.csv"
    with pytest.raises(ImportRejected) as exc:
        import_sms(s, path)
    assert "700" not in exc.value.message
    assert RecordService(s, RATINGS_FORM).count() == 0 and RecordService(s, COMPLAINTS_FORM).count() == 0
    assert s.db.scalar("SELECT count(*) FROM import_keys") == 0


def test_a_mapping_that_would_store_the_phone_number_is_refused(make_env, tmp_path):
    s = make_env("community_safety_forum").login("coordinator")
    leaky = mappings.Mapping(RATINGS_FORM, name="leaky", columns=[
        mappings.ColumnRule("Station", "station"), mappings.ColumnRule("Sender", "comment"),
        mappings.ColumnRule("Overall", "overall"), mappings.ColumnRule("Service", "service"),
        mappings.ColumnRule("Received", "visit_date")])
    mappings.write_file(leaky, tmp_path / "leaky.json")
    with pytest.raises(ImportRejected) as exc:
        import_sms(s, SAMPLE, ratings_mapping=str(tmp_path / "leaky.json"))
    assert "phone" in exc.value.message.lower()
    assert RecordService(s, RATINGS_FORM).count() == 0 and RecordService(s, COMPLAINTS_FORM).count() == 0
    wrong = mappings.Mapping(COMPLAINTS_FORM, name="wrong", columns=[mappings.ColumnRule("Station", "station")])
    mappings.write_file(wrong, tmp_path / "wrong.json")
    with pytest.raises(ImportRejected):
        import_sms(s, SAMPLE, ratings_mapping=str(tmp_path / "wrong.json"))


def test_a_workbook_export_reads_the_same(make_env, tmp_path):
    import csv

    import openpyxl

    wb = openpyxl.Workbook()
    with SAMPLE.open(encoding="utf-8", newline="") as f:
        for row in csv.reader(f):
            wb.active.append(row)
    wb.save(tmp_path / "export.xlsx")
    s = make_env("community_safety_forum").login("coordinator")
    assert statuses(import_sms(s, tmp_path / "export.xlsx")) == EXPECTED


def test_a_cancelled_import_leaves_nothing_behind(make_env):
    from usalama_desktop.errors import Cancelled

    s = make_env("community_safety_forum").login("coordinator")

    def cancel_at_row_five(done, total):
        if done == 5:
            raise Cancelled("stopped")

    with pytest.raises(Cancelled):
        import_sms(s, SAMPLE, progress=cancel_at_row_five)
    assert RecordService(s, RATINGS_FORM).count() == 0 and RecordService(s, COMPLAINTS_FORM).count() == 0
    assert s.db.scalar("SELECT count(*) FROM import_keys") == 0 and mappings.saved_names(s) == []
