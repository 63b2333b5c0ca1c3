"""The benchmark harness (`python -m bench`) at tiny sizes, so that it cannot rot: every case
still runs the installed CLI and produces every figure. No timing is asserted here: the real
figures, at full size, are in BENCHMARKS.md."""

from __future__ import annotations

import re

from bench.harness import main

FIGURES_PER_CASE = {
    "1. Pacing": 4,
    "2. Request economy": 3,
    "3. Analysis throughput": 2,
    "4. Report": 2,
    "5. Start-up": 2,
    "6. Real-shaped cache": 4,
    "7. Distinct users": 2,
    "8. Export": 2,
    "9. Time-aware commands": 2,
}


def test_the_quick_harness_produces_every_figure_with_its_target(tmp_path, capsys):
    output = tmp_path / "BENCHMARKS.md"

    code = main(["--quick", "--data-dir", str(tmp_path / "data"), "--output", str(output)])

    assert code in (0, 1)  # tiny sizes may well miss a target: that is not checked here
    lines = output.read_text().splitlines()
    rows = [line.split(" | ") for line in lines if re.match(r"\| \d\. ", line)]
    per_case = {
        title: [row for row in rows if row[0] == f"| {title}"] for title in FIGURES_PER_CASE
    }
    assert {title: len(found) for title, found in per_case.items()} == FIGURES_PER_CASE
    for row in rows:
        case, figure, measured, target, met, command = (cell.strip(" |`") for cell in row)
        assert re.search(r"\d", measured), row  # a number, not an empty cell
        assert target and met in ("yes", "NO", "–"), row
        assert command.startswith("python -m bench --case "), row
    assert "## Machine" in lines
    assert "1. Pacing" in capsys.readouterr().out  # the table is printed too
