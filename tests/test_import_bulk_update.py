"""``update_many`` (the import's bulk path) keeps history, revisions, the search index, the change sequence and
the audit exactly as one ``update`` at a time does, and refuses as a whole what ``update`` would refuse."""

from __future__ import annotations

import json

import pytest

from usalama_desktop.errors import ConflictError, PermissionDenied, ValidationFailed
from usalama_desktop.services.records import RecordService


def incident(ref: str, **over) -> dict:
    values = {"agency_ref": ref, "occurred_on": "2024-03-01", "reported_on": "2024-03-02",
              "place": {"county": "047", "ward": "Kilimani", "village": "Yaya"}, "offence_category": "stealing",
              "status": "open", "victim_count": 1, "victims": [{"sex": "female", "age_band": "25-34"}],
              "narrative": "first account"}
    values.update(over)
    return values


def comparable(db, record_id: str) -> dict:
    """A record's row, children, revisions and search text without what must differ between two records."""
    row = dict(zip(*(lambda r: (r.keys(), tuple(r)))(db.one("SELECT * FROM incident WHERE id = ?", (record_id,))),
                   strict=True))
    rid = row.pop("rid")
    for k in ("id", "hlc", "created_at", "updated_at", "change_seq", "agency_ref", "vclock"):
        row.pop(k)
    kids = [tuple(r)[2:] for r in db.query("SELECT * FROM incident__victims WHERE parent_rid = ? ORDER BY idx",
                                           (rid,))]
    revs = []
    for r in db.query("SELECT revision, action, changed_by, previous, reason FROM revisions WHERE record_id = ? "
                      "ORDER BY id", (record_id,)):
        previous = json.loads(r[3])
        previous.pop("agency_ref")
        revs.append((r[0], r[1], r[2], previous, r[4]))
    search = db.one("SELECT public, identifying, narrative FROM incident_search WHERE rid = ?", (rid,))
    audit = [json.loads(a[0]) for a in db.query("SELECT detail FROM audit WHERE target = ? ORDER BY seq",
                                                (record_id,))]
    return {"row": row, "children": kids, "revisions": revs, "search": tuple(search).__repr__().replace(
        "OB 1", "OB x").replace("OB 2", "OB x"), "audit": audit}


def test_update_many_leaves_what_update_leaves(env):
    clerk = env.login("clerk")
    svc = RecordService(clerk, "incident")
    one, two = svc.create_many([incident("OB 1"), incident("OB 2")])
    change = {"status": "closed", "outcome": "no_suspect", "victims": [{"sex": "male", "age_band": "18-24"},
                                                                       {"sex": "female", "age_band": "60+"}],
              "victim_count": 2, "narrative": "second account", "offence_subtype": "phone snatching"}
    seq_before = int(clerk.db.scalar("SELECT value FROM meta WHERE key = 'change_seq'"))
    svc.update(one, incident("OB 1", **change))
    assert svc.update_many([(two, incident("OB 2", **change))]) == [2]
    assert comparable(clerk.db, one) == comparable(clerk.db, two)
    seqs = [r[0] for r in clerk.db.query("SELECT change_seq FROM incident WHERE id IN (?, ?) ORDER BY change_seq",
                                         (one, two))]
    assert seqs == [seq_before + 1, seq_before + 2]
    def changes(rec):
        return [[c for c in h["changes"] if c["field"] != "agency_ref"] for h in svc.history(rec)]

    assert changes(one) == changes(two) and len(changes(one)) == 2
    assert {r["id"] for r in svc.search("snatching").rows} == {one, two}
    assert not svc.search("first").rows


def test_a_record_named_twice_gets_two_revisions_in_order(env):
    clerk = env.login("clerk")
    svc = RecordService(clerk, "incident")
    (rec,) = svc.create_many([incident("OB 1")])
    revisions = svc.update_many([(rec, incident("OB 1", status="investigation")),
                                 (rec, incident("OB 1", status="closed", outcome="charged"))])
    assert revisions == [2, 3]
    history = svc.history(rec)
    assert [[(c["field"], c["new"]) for c in h["changes"] if c["field"] == "status"] for h in history[1:]] == [
        [("status", "investigation")], [("status", "closed")]]


def test_update_many_refuses_as_a_whole(env):
    clerk = env.login("clerk")
    svc = RecordService(clerk, "incident")
    a, b, c = svc.create_many([incident("OB 1"), incident("OB 2"), incident("OB 3")])
    before = clerk.db.scalar("SELECT count(*) FROM revisions")
    with pytest.raises(ValidationFailed) as exc:
        svc.update_many([(a, incident("OB 1", status="closed")), (b, incident("OB 1"))])  # b would take a's number
    assert "record 2: agency_ref" in str(exc.value)
    svc.delete(c, "entered twice")
    with pytest.raises(ConflictError):
        svc.update_many([(a, incident("OB 1", status="closed")), (c, incident("OB 3"))])
    assert clerk.db.scalar("SELECT count(*) FROM revisions") == before + 1  # only the delete
    with pytest.raises(PermissionDenied):
        RecordService(env.login("viewer"), "incident").update_many([(a, incident("OB 1"))])
    assert svc.get(a)["values"]["status"] == "open"


def test_a_coordinator_bulk_update_keeps_the_narrative_it_cannot_see(env):
    clerk = env.login("clerk")
    (rec,) = RecordService(clerk, "incident").create_many([incident("OB 1")])
    coord = RecordService(env.login("coord"), "incident")
    coord.update_many([(rec, incident("OB 1", narrative=None, status="investigation"))])
    values = RecordService(clerk, "incident").get(rec)["values"]
    assert values["narrative"] == "first account" and values["status"] == "investigation"
