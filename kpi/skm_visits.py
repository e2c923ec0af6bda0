"""The visit beside the answer (issue 24): the SKM of respondents whose queue ticket matches a
completed visit at the same unit, split by whether that visit was completed within its
service's standard time (PermenPAN-RB 15/2014) or over it. Does waiting longer than the
standard show in the answers, above all in u3 (Waktu Penyelesaian)?
"""

from __future__ import annotations

import datetime as dt

from kpi import skm
from kpi.metrics import check_units, day_params, subtree_filter_sql
from kpi.reads import reads
from kpi.store import Reader, one_unit_of_work
from kpi.vocabulary import AGGREGATES, U_COLUMNS

GROUPS = ("within", "over")

# A response and the visit it names: same unit and ticket, the visit completed and its service
# with a standard. A ticket that matches no such visit (not imported yet, no standard) is left
# out; one visit per response (tickets are a key of events).
_SQL = """
WITH answered AS (
    SELECT r.unit_code, {u_columns},
           CASE WHEN date_diff('second', e.arrived_at, e.completed_at) / 60.0
                     <= s.standard_minutes THEN 'within' ELSE 'over' END AS visit
    FROM survey_responses AS r
    JOIN events AS e ON e.unit_code = r.unit_code AND e.ticket_id = r.ticket_id
    JOIN services AS s ON s.unit_code = e.unit_code AND s.service_code = e.service_code
    WHERE r.ticket_id IS NOT NULL AND e.outcome = 'completed' AND s.standard_minutes IS NOT NULL
      AND r.submitted_at >= $start AND r.submitted_at < $end
)
SELECT visit, {n} AS n, {ikm} AS ikm, {parts} AS parts, {nrr_u3} AS nrr_u3
FROM answered WHERE {subtree}
GROUP BY visit
"""


@reads("events", "services", "survey_responses", "units")
@one_unit_of_work
def ikm_by_visit_standard(store: Reader, *, unit: str, date_from: dt.date,
                          date_to: dt.date) -> list[dict]:
    """One row per group ("within", then "over") that has responses submitted on local dates
    [date_from, date_to] over `unit`'s subtree (`*` = the city): group, n, ikm (unrounded),
    ikm_rounded (half up, exactly), grade and nrr_u3."""
    check_units(store, [unit])
    survey = AGGREGATES["survey"]
    sql = _SQL.format(u_columns=", ".join(f"r.{u}" for u in U_COLUMNS),
                      n=survey["n_responses"], ikm=survey["ikm"], parts=survey["ikm_parts"],
                      nrr_u3=survey["nrr_u3"], subtree=subtree_filter_sql())
    found = {row[0]: row for row in store.query_rows(
        sql, {"unit": unit, **day_params(date_from, date_to)})}
    rows = []
    for group in GROUPS:
        if group not in found:
            continue
        _, n, ikm, parts, nrr_u3 = found[group]
        rounded = skm.exact_ikm(parts)
        rows.append({"group": group, "n": int(n), "ikm": float(ikm),
                     "ikm_rounded": float(rounded) if rounded is not None else float(ikm),
                     "grade": skm.grade_of(parts)[0],
                     "nrr_u3": None if nrr_u3 is None else float(nrr_u3)})
    return rows
