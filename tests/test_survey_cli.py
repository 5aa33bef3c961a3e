"""``usalama survey`` and ``usalama scores`` as scripts run them: a KoboToolbox import by round code, the results
by ward, the proposed mapping, and scores per agency."""

from __future__ import annotations

from usalama_desktop.services.records import RecordService

from .conftest import PASSWORD, run_cli
from .test_feedback import feedback
from .test_kobo import make_round, write_export, write_xlsform


def _cli(env, user, *args):
    return run_cli("--data-dir", env.folder, "--user", user, *args, env_vars={"USALAMA_PASSWORD": PASSWORD})


def test_mapping_import_and_results_from_the_command(make_env, tmp_path):
    env = make_env("community_safety_forum")
    s = env.login("coordinator")
    make_round(s)
    s.close()
    xlsform, export = write_xlsform(tmp_path / "f.xlsx"), write_export(tmp_path / "e.xlsx")
    r = _cli(env, "coord", "survey", "mapping", "--xlsform", str(xlsform))
    assert r.returncode == 0 and "safe_after_dark\tsafe_dark" in r.stdout
    assert "--map-choice gender.CODE=VALUE" in r.stdout
    r = _cli(env, "coord", "survey", "import-kobo", str(export), "--xlsform", str(xlsform), "--round",
             "CSA-2024-DAGORETTI-N")
    assert r.returncode == 1 and "gender" in r.stderr
    r = _cli(env, "coord", "survey", "import-kobo", str(export), "--xlsform", str(xlsform), "--round",
             "CSA-2024-DAGORETTI-N", "--map-choice", "gender.x=unknown")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "3 interviews imported, 0 already imported, 2 rejected."
    r = _cli(env, "coord", "survey", "results", "--year", "2024", "--min-n", "1")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "Safety audit 2024: rounds CSA-2024-DAGORETTI-N"
    kilimani = next(line for line in lines if line.startswith("Kilimani\t")).split("\t")
    assert kilimani[:3] == ["Kilimani", "1", "100%"] and kilimani[-1] == "0"
    assert lines[-1].startswith("All wards\t3\t")
    r = _cli(env, "coord", "survey", "results")
    assert r.returncode == 1 and "year" in r.stderr


def test_scores_from_the_command(make_env):
    env = make_env("community_safety_forum")
    s = env.login("clerk")
    RecordService(s, "feedback").create_many([feedback(overall=str(n)) for n in (1, 2, 3, 4, 5)])
    s.close()
    r = _cli(env, "coord", "scores", "--module", "feedback")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[1].split("\t")[:8] == ["Court", "Kibera Law Courts", "5", "2.0", "4.0", "4.0",
                                                        "1.0", "3.0"]
    r = _cli(env, "coord", "scores", "--module", "feedback", "--by", "none", "--period", "month", "--min-n", "1")
    assert r.stdout.splitlines()[1].split("\t")[:3] == ["2024-03", "5", "2.0"]
    r = _cli(env, "coord", "scores", "--module", "feedback", "--by", "name")
    assert r.returncode == 1 and "cannot be used" in r.stderr
