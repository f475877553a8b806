"""A short headless Locust run against the real cluster: the scenarios complete whole
journeys, and a broken SLO makes the run fail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ha import cluster as clustermod
from loadtests.run import read_stats, run
from loadtests.slo import JOURNEY

pytestmark = pytest.mark.ha


def test_peak_mix_completes_journeys_within_slo(cluster: Any, tmp_path: Path) -> None:
    info = clustermod.describe(cluster)
    result = run(info, "peak", out=tmp_path, users=6, duration=15)
    assert result.exit_code == 0, result.output[-2000:]
    journeys = {e.name: e for e in read_stats(result.stats_csv) if e.kind == JOURNEY}
    assert sum(e.requests - e.failures for e in journeys.values()) >= 5
    assert any(name.startswith("bankid_login") for name in journeys)
    assert result.html.exists() and "SLOs met" in result.output


def test_a_broken_slo_fails_the_run(cluster: Any, tmp_path: Path) -> None:
    strict = tmp_path / "strict.toml"
    strict.write_text('max_error_rate = 0.01\n[journeys."*"]\np95_ms = 1\n')
    info = clustermod.describe(cluster)
    result = run(info, "refresh", out=tmp_path / "out", users=2, duration=6,
                 slo_file=str(strict))
    assert result.exit_code != 0
    assert "SLO broken" in result.output


def test_pin_scenario_with_mistakes_and_lockouts_completes(cluster: Any, tmp_path: Path) -> None:
    info = clustermod.describe(cluster)
    result = run(info, "pin", out=tmp_path, users=3, duration=8,
                 extra_env={"IDPORTAL_LOCKOUT_SHARE": "0.3", "IDPORTAL_WRONG_PIN_SHARE": "0.3"})
    assert result.exit_code == 0, result.output[-2000:]
    journeys = {e.name: e for e in read_stats(result.stats_csv) if e.kind == JOURNEY}
    assert journeys["pin_login"].requests > 0 and journeys["pin_login"].failures == 0
    assert journeys["pin_lockout"].requests > 0 and journeys["pin_lockout"].failures == 0


def test_capacity_measures_each_step_without_its_warm_up_and_plans_per_core(
        cluster: Any, tmp_path: Path) -> None:
    import json

    from service import cli

    out = tmp_path / "capacity"
    assert cli.main(["capacity", "--run-dir", str(cluster.run_dir), "--scenario", "bankid",
                     "--steps", "2,4", "--step-duration", "5", "--out", str(out)]) == 0
    data = json.loads((out / "capacity.json").read_text())
    for step in data["steps"]:
        # CPU and throughput over the measured window only (users spawn before it).
        assert 4.0 <= step["window_s"] <= 8.0, step["window_s"]
        assert sum(step["node_cores"].values()) > 0 and step["journeys_per_s"] > 0
    plan = data["plan"]
    assert plan["per_core_journeys_per_s"] > 0 and plan["nodes_needed"] >= 3
    assert data["environment"]["server"] in ("uvicorn", "hypercorn")
    assert "per node core" in (out / "capacity.md").read_text()
    assert (out / "capacity.png").stat().st_size > 10_000


def test_idportal_load_shows_locusts_own_statistics_while_it_runs(
        cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from service import cli

    assert cli.main(["load", "bankid", "--users", "2", "--duration", "8", "--run-dir",
                     str(cluster.run_dir), "--out", str(tmp_path), "--processes", "1"]) == 0
    out = capsys.readouterr().out
    # Locust prints its statistics table every few seconds, then the summary.
    assert out.count("Aggregated") >= 2, out[-3000:]
