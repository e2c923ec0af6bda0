"""The visit beside the answer (issue 24): responses whose ticket matches a completed visit at
the same unit, split by the visit's service time against its standard; on the Satisfaction
page as IKM and u3 per group."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from kpi.ingest import ingest_file
from kpi.skm_visits import ikm_by_visit_standard
from kpi.store import Store
from tests.helpers import no_exceptions, open_view

HEADER = "unit_code,response_id,submitted_at,u1,u2,u3,u4,u5,u6,u7,u8,u9,ticket_id\n"
Q1 = (dt.date(2026, 1, 1), dt.date(2026, 3, 31))


def visits(store: Store, unit: str, within: bool, count: int) -> list[str]:
    return [row[0] for row in store.query_rows(
        "SELECT e.ticket_id FROM events e JOIN services s USING (unit_code, service_code) "
        "WHERE e.unit_code = ? AND e.outcome = 'completed' AND s.standard_minutes IS NOT NULL "
        "AND (date_diff('second', e.arrived_at, e.completed_at) / 60.0 <= s.standard_minutes)"
        " = ? ORDER BY e.ticket_id LIMIT ?", [unit, within, count])]


def answered_visits(store: Store, tmp_path: Path) -> None:
    """PKM-2: two answers about visits within the standard (all 4s but u3 = 3), two about
    visits over it (all 2s but u3 = 1); one ticket that matches no visit."""
    within, over = visits(store, "PKM-2", True, 2), visits(store, "PKM-2", False, 2)
    lines = [f"PKM-2,V-{i},2026-03-20 10:00,4,4,3,4,4,4,4,4,4,{ticket}"
             for i, ticket in enumerate(within)]
    lines += [f"PKM-2,V-{i + 2},2026-03-20 11:00,2,2,1,2,2,2,2,2,2,{ticket}"
              for i, ticket in enumerate(over)]
    lines.append("PKM-2,V-9,2026-03-20 12:00,1,1,1,1,1,1,1,1,1,NO-SUCH-TICKET")
    path = tmp_path / "survey.csv"
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    assert ingest_file(store, "survey", path, loaded_by="tests").ok


def test_ikm_and_u3_within_and_over_the_standard(example_store: Store, tmp_path: Path) -> None:
    assert ikm_by_visit_standard(example_store, unit="PKM-2", date_from=Q1[0],
                                 date_to=Q1[1]) == []
    answered_visits(example_store, tmp_path)
    rows = ikm_by_visit_standard(example_store, unit="PKM-2", date_from=Q1[0], date_to=Q1[1])
    # within: NRRs 4 ×8 and 3 → IKM 25 × 35/9; over: 2 ×8 and 1 → 25 × 17/9.
    assert [(r["group"], r["n"], round(r["ikm"], 6), r["grade"], r["nrr_u3"]) for r in rows] == [
        ("within", 2, round(25 * 35 / 9, 6), "A", 3.0),
        ("over", 2, round(25 * 17 / 9, 6), "D", 1.0)]
    # Pooled over the subtree like every KPI: the parent DINKES and the city see the same.
    for unit in ("DINKES", "*"):
        assert ikm_by_visit_standard(example_store, unit=unit, date_from=Q1[0],
                                     date_to=Q1[1]) == rows
    assert ikm_by_visit_standard(example_store, unit="PKM-1", date_from=Q1[0],
                                 date_to=Q1[1]) == []


def test_the_satisfaction_page_shows_both_groups(example_store: Store, tmp_path: Path,
                                                 monkeypatch) -> None:
    answered_visits(example_store, tmp_path)
    at = open_view(example_store, monkeypatch, "satisfaction", lang="id", grain="quarter",
                   period="2026-01-01", unit="PKM-2")
    no_exceptions(at)
    assert "IKM menurut lama pelayanan kunjungan" in [h.value for h in at.subheader]
    table = next(frame.value for frame in at.dataframe
                 if "NRR U3 Waktu Penyelesaian" in frame.value.columns)
    assert table.to_dict("records") == [
        {"Kunjungan": "Dalam standar waktu", "Responden": "2", "IKM": "97,22", "Mutu": "A",
         "NRR U3 Waktu Penyelesaian": "3,00"},
        {"Kunjungan": "Melebihi standar waktu", "Responden": "2", "IKM": "47,22", "Mutu": "D",
         "NRR U3 Waktu Penyelesaian": "1,00"}]
