"""Full-text search: prefixes, accents, tiers, filters and paging, through the record service."""

from __future__ import annotations

from usalama_desktop.services import search
from usalama_desktop.services.records import Query, RecordService

from .test_store_encryption import incident


def _svc(env, role="clerk"):
    return RecordService(env.login(role), "incident")


def test_words_prefixes_and_accents(env):
    svc = _svc(env)
    a = svc.create(incident(agency_ref="OB 11/2/3/2024", offence_subtype="phone snatching",
                            place={"county": "047", "ward": "Kawangware", "village": "Congo stage"}))
    b = svc.create(incident(agency_ref="OB 12/2/3/2024", offence_subtype="house breaking",
                            narrative="Mama Wanjikũ saw it", place={"county": "047", "ward": "Kilimani"}))
    ids = lambda text: {r["id"] for r in svc.search(text).rows}  # noqa: E731
    assert ids("kawang") == {a}  # an unfinished word is a prefix
    assert ids("kawang ") == set()  # a finished word is whole
    assert ids("congo kawangware") == {a}
    assert ids("wanjiku") == {b}  # accents folded both ways
    assert ids("WANJIKŨ") == {b}
    assert ids("OB 12/2/3/2024") == {b}
    assert ids("1") == set() and ids("zzzz") == set()
    assert svc.count(Query(text="breaking")) == 1
    assert ids('" OR rowid > 0 --') == set()  # quotes and operators are words, never syntax


def test_search_obeys_tiers_and_filters(env):
    clerk = _svc(env)
    rid = clerk.create(incident(narrative="secret narrative words", offence_category="robbery"))
    clerk.create(incident(agency_ref="OB 2/1/1/2024", narrative="secret narrative too"))
    assert {r["id"] for r in clerk.search("secret", Query(categories=["robbery"])).rows} == {rid}
    coord = _svc(env, "coordinator")
    assert coord.count(Query(text="secret")) == 0  # the narrative tier is not the coordinator's
    assert coord.count(Query(text="robbery")) == 1


def test_search_pages_newest_first_across_chunks(env, monkeypatch):
    svc = _svc(env)
    ids = svc.create_many([incident(agency_ref=f"OB {i}/1/1/2024", offence_subtype="stock theft" if i % 3 else
                                    "assault") for i in range(90)])
    wanted = [rid for i, rid in enumerate(ids) if i % 3][::-1]
    page = svc.search("stock", limit=25)
    got = [r["id"] for r in page.rows]
    while page.next_key:
        page = svc.page(Query(text="stock", sort="rid"), after=page.next_key, limit=25)
        got += [r["id"] for r in page.rows]
    assert got == wanted


def test_common_words_are_left_out_when_a_rare_one_is_given(env, monkeypatch):
    monkeypatch.setattr(search, "COMMON", 5)
    svc = _svc(env)
    svc.create_many([incident(agency_ref=f"OB {i}/1/1/2024") for i in range(10)])
    index = search.SearchIndex(svc.s.db, svc.spec)
    expr = index.expression("OB 7/1/1/2024", svc.tiers)
    assert '"7"' in expr and '"ob"' not in expr
    assert [r["values"]["agency_ref"] for r in svc.search("OB 7/1/1/2024").rows] == ["OB 7/1/1/2024"]
    assert '"ob"' in index.expression("OB 1", svc.tiers)  # nothing rare: every word kept


def _index_consistent(db, table="incident"):
    """FTS5's own check that the index matches the search text it was built from (raises when not)."""
    db.execute(f"INSERT INTO {table}_search_fts({table}_search_fts) VALUES('integrity-check')")
    return True


def test_the_index_follows_every_kind_of_write(env):
    svc = _svc(env)
    ids = svc.create_many([incident(agency_ref=f"OB {i}/1/1/2024", offence_subtype="stock theft") for i in range(20)])
    one = svc.create(incident(agency_ref="SINGLE-1", offence_subtype="arson"))
    svc.update(one, {**svc.get(one)["values"], "offence_subtype": "burning"})
    svc.update_many([(rid, {**svc.get(rid)["values"], "offence_subtype": "cattle rustling"}) for rid in ids[:5]])
    svc.delete(ids[6], "entered twice")
    RecordService(env.login("admin"), "incident").erase(ids[7], "asked to erase")
    db = svc.s.db
    assert _index_consistent(db)
    assert svc.count(Query(text="arson")) == 0 and svc.count(Query(text="burning")) == 1
    assert svc.count(Query(text="rustling")) == 5 and svc.count(Query(text="stock")) == 13
    assert db.scalar("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'") == 0


def test_an_older_database_loses_its_index_triggers_and_stays_consistent(env):
    from usalama_desktop.store import schema

    s = env.login("clerk")
    RecordService(s, "incident").create(incident(offence_subtype="before upgrade"))
    # As version 3 left it: sqlite-utils' triggers on the search table.
    s.db.execute("CREATE TRIGGER incident_search_ai AFTER INSERT ON incident_search BEGIN SELECT 1; END")
    schema.set_meta(s.db, "schema_version", 3)
    s.close()
    s = env.login("clerk")
    assert s.db.scalar("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'") == 0
    assert schema.schema_version(s.db) == schema.SCHEMA_VERSION
    svc = RecordService(s, "incident")
    svc.create(incident(agency_ref="after", offence_subtype="after upgrade"))
    assert svc.count(Query(text="upgrade")) == 2 and _index_consistent(s.db)
