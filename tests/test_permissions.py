"""The role x action x module matrix, called as each role through the real services."""

from __future__ import annotations

import pytest

from usalama_desktop.errors import PermissionDenied
from usalama_desktop.services.records import Query, RecordService

from .test_store_encryption import incident

# What each role may do on observatory incidents, written out by hand (not read from the matrix under test).
OBSERVATORY = {
    "admin": {"create", "read", "update", "delete", "list", "search", "count", "export"},
    "coordinator": {"create", "read", "update", "delete", "list", "search", "count", "export"},
    "clerk": {"create", "read", "update", "delete", "list", "search", "count", "export"},
    "counsellor": set(),
    "ajs_recorder": set(),
    "viewer": {"read", "list", "count"},
}


def attempt(svc: RecordService, action: str, rid: str):
    if action == "create":
        return svc.create(incident(agency_ref=f"OB {action}/1/1/2024"))
    if action == "read":
        return svc.get(rid)
    if action == "update":
        return svc.update(rid, {**RecordService(svc.s, "incident").form.clean(incident()), "status": "closed"})
    if action == "delete":
        return svc.delete(rid, "testing roles")
    if action == "list":
        return svc.page()
    if action == "search":
        return svc.search("stealing")
    if action == "count":
        return svc.count()
    if action == "export":
        return list(svc.iter_records())
    raise AssertionError(action)


@pytest.mark.parametrize("role", list(OBSERVATORY))
@pytest.mark.parametrize("action", ["create", "read", "update", "delete", "list", "search", "count", "export"])
def test_each_role_on_observatory(env, role, action):
    admin = env.login("admin")
    rid = RecordService(admin, "incident").create(incident(narrative="private words"))
    s = env.login(role)
    svc = RecordService(s, "incident")
    if action in OBSERVATORY[role]:
        attempt(svc, action, rid)
    else:
        with pytest.raises(PermissionDenied) as exc:
            attempt(svc, action, rid)
        assert "may not" in str(exc.value) and role in str(exc.value)


def test_viewer_sees_de_identified_values_only(env):
    admin = env.login("admin")
    rid = RecordService(admin, "incident").create(incident(narrative="private words"))
    viewer = RecordService(env.login("viewer"), "incident")
    record = viewer.get(rid)
    assert record["values"]["narrative"] is None and "narrative" in record["hidden"]
    assert "narrative" not in viewer.list_columns()


def test_clerks_see_their_own_agency_and_coordinators_see_all(env):
    admin = env.login("admin")
    svc = RecordService(admin, "incident")
    own = svc.create(incident(agency_ref="OWN-1"))
    other = svc.create(incident(agency_ref="OTHER-1"))
    admin.db.execute("INSERT INTO agencies(id, name, type, is_local, created_at) VALUES ('agency-b', 'Agency B', "
                     "'chief_office', 0, '2024-01-01')")
    admin.db.execute("UPDATE incident SET agency_id = 'agency-b' WHERE id = ?", (other,))
    clerk = RecordService(env.login("clerk"), "incident")
    assert clerk.count() == 1
    assert [r["id"] for r in clerk.page().rows] == [own]
    assert clerk.count(Query(text="OTHER")) == 0
    with pytest.raises(PermissionDenied):
        clerk.get(other)
    assert [r["spine"]["id"] for r in clerk.iter_records()] == [own]
    coord = RecordService(env.login("coordinator"), "incident")
    assert coord.count() == 2 and coord.count(Query(agency_ids=["agency-b"])) == 1
