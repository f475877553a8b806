"""The Grafana dashboard is generated from code (ha/dashboard.py): the committed JSON is
what the code makes, and its panels are laid out on Grafana's 24-column grid without
overlapping. (Prometheus accepts every query: tests/ha/test_monitoring.py.)"""

from __future__ import annotations

import json

from ha import dashboard
from service import cli


def test_the_committed_dashboard_is_what_the_code_generates() -> None:
    assert dashboard.OUT.read_text() == dashboard.render(), "run: idportal dashboard"


def test_panels_fit_the_grid_without_overlapping_and_all_query_prometheus() -> None:
    data = json.loads(dashboard.render())
    taken: set[tuple[int, int]] = set()
    for panel in data["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24, panel["title"]
        cells = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"])
                 for y in range(pos["y"], pos["y"] + pos["h"])}
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells
        if panel["type"] != "row":
            assert panel["datasource"] == dashboard.DATASOURCE and panel["targets"]
    assert data["uid"] == "idportal-slo" and len(dashboard.queries()) >= 15


def test_the_command_writes_the_dashboard(tmp_path: object) -> None:
    from pathlib import Path

    out = Path(str(tmp_path)) / "d.json"
    assert cli.main(["dashboard", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["title"].startswith("idportal")
