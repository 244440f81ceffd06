"""reports/ and the README's results are what reports/results.json renders to.

`scripts/reproduce_tables.py` writes results.json and renders tables.md from it alone
(`reproduce_tables.render`); the README's results tables are copies of tables.md's. A
number edited by hand in either, or a results.json regenerated without the Markdown,
fails here.
"""
from __future__ import annotations

import json
import re
from typing import List

from compression_eval import provenance
from compression_zoo import reproduce_tables
from tests.conftest import REPO_ROOT

REPORTS = REPO_ROOT / "reports"
README_RESULTS = ("## Results: the papers' tables at CPU scale", "### At the papers' scale")


def _results() -> dict:
  return json.loads((REPORTS / "results.json").read_text())


def _table_rows(markdown: str) -> List[str]:
  return [line for line in markdown.splitlines() if line.startswith("|")]


def test_tables_md_is_what_results_json_renders_to():
  assert reproduce_tables.render(_results()) == (REPORTS / "tables.md").read_text()


def test_the_readme_results_tables_are_tables_md_rows():
  readme = (REPO_ROOT / "README.md").read_text()
  start, end = (readme.index(marker) for marker in README_RESULTS)
  report = set(_table_rows((REPORTS / "tables.md").read_text()))
  tables = [block.splitlines() for block in
            re.findall(r"(?:^\|.*\n)+", readme[start:end], flags=re.MULTILINE)]
  copied = [rows for rows in tables if rows[0] in report]  # a report table's header
  assert len(copied) >= 7, "the README's results section lost the report's tables"
  stale = [row for rows in copied for row in rows if row not in report]
  assert not stale, f"README rows not in reports/tables.md: {stale[:3]}"


def test_results_record_their_provenance():
  results = _results()
  recorded = results["provenance"]
  assert re.fullmatch(r"[0-9a-f]{40}", recorded["commit"])
  assert set(provenance.versions()) <= set(recorded)
  for name, measured in results["baselines"].items():
    assert measured["utc"] and measured["Pillow"], f"{name}: no provenance"
