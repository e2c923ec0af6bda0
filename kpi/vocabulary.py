"""The data contract's vocabulary, in one place: the KPIs, the periods, the city, the outcomes of
a visit and the five kinds of file with their columns.

A leaf module (it imports nothing of Kinerja), so the engine, the pages, the CLI and the tests
all take their lists from here. Adding a KPI means one `Kpi` entry below (with its SQL), its
names in `kpi/i18n/{en,id}/` and a test.
"""

from __future__ import annotations

from dataclasses import dataclass

PERIODS = ("day", "week", "month", "quarter", "year")
CITY = "*"  # the unit code of the whole city (all rows pooled); a target for `*` applies to all
OUTCOMES = ("completed", "abandoned", "no_show")
U_COLUMNS = tuple(f"u{i}" for i in range(1, 10))  # the nine SKM elements of a survey response

# -- the aggregate columns ----------------------------------------------------------------------
# Per source, the aggregates over one group of rows (one row per event or survey response, with
# the derived columns of kpi.metrics: completed, lost, service_minutes, wait_minutes,
# standard_minutes; u1 … u9). Every KPI value is an expression over these columns.
AGGREGATES: dict[str, dict[str, str]] = {
    "events": {
        "n_events": "count(*)",
        "n_abandoned": "count(*) FILTER (WHERE lost)",
        "n_completed": "count(*) FILTER (WHERE completed)",
        "service_time_median": "quantile_cont(service_minutes, 0.5)",
        "service_time_p90": "quantile_cont(service_minutes, 0.9)",
        "n_waited": "count(wait_minutes)",
        "wait_time_median": "quantile_cont(wait_minutes, 0.5)",
        "n_with_standard": "count(*) FILTER (WHERE completed AND standard_minutes IS NOT NULL)",
        "n_within_standard": "count(*) FILTER (WHERE service_minutes <= standard_minutes)",
    },
    "survey": {
        "n_responses": "count(*)",
        **{f"nrr_{u}": f"avg({u})" for u in U_COLUMNS},
        # NRR per element = mean of the answered values; IKM = 25 × mean of the non-null NRRs.
        "ikm": "25 * list_avg([" + ", ".join(f"avg({u})" for u in U_COLUMNS) + "])",
        # The integer answer sums and counts of u1…u9: the grade is judged on the IKM computed
        # exactly from them (contract §2), never on the float above.
        "ikm_parts": "[" + ", ".join(f"sum({u})::BIGINT, count({u})" for u in U_COLUMNS) + "]",
    },
}


@dataclass(frozen=True)
class Kpi:
    """What a KPI is: which way is better, its unit, where it comes from, how many decimals to
    show, and its SQL: `value` and `n` are expressions over the `needs` aggregate columns."""

    name: str
    better: str  # "higher" | "lower"
    unit: str  # "count" | "minutes" | "percent" | "index"
    source: str  # "events" | "survey" (a key of AGGREGATES)
    decimals: int
    value: str
    n: str
    needs: tuple[str, ...]


# The share of completed visits (with a standard) served within the service's standard: the one
# formula, used by the KPI and by the per-service breakdown.
WITHIN_STANDARD_SQL = "100.0::DOUBLE * n_within_standard / nullif(n_with_standard, 0)"

KPIS: dict[str, Kpi] = {
    kpi.name: kpi
    for kpi in (
        Kpi("throughput", "higher", "count", "events", 0,
            "n_completed::DOUBLE", "n_completed", ("n_completed",)),
        Kpi("service_time_median", "lower", "minutes", "events", 1,
            "service_time_median", "n_completed", ("n_completed", "service_time_median")),
        Kpi("service_time_p90", "lower", "minutes", "events", 1,
            "service_time_p90", "n_completed", ("n_completed", "service_time_p90")),
        Kpi("wait_time_median", "lower", "minutes", "events", 1,
            "wait_time_median", "n_waited", ("n_waited", "wait_time_median")),
        Kpi("within_standard_pct", "higher", "percent", "events", 1,
            WITHIN_STANDARD_SQL, "n_with_standard", ("n_with_standard", "n_within_standard")),
        Kpi("abandon_rate", "lower", "percent", "events", 1,
            "100.0::DOUBLE * n_abandoned / n_events", "n_events", ("n_events", "n_abandoned")),
        Kpi("response_count", "higher", "count", "survey", 0,
            "n_responses::DOUBLE", "n_responses", ("n_responses",)),
        Kpi("ikm", "higher", "index", "survey", 2, "ikm", "n_responses",
            ("n_responses", "ikm", "ikm_parts")),
    )
}

# -- the files ----------------------------------------------------------------------------------
KINDS = ("units", "services", "events", "survey", "targets")
REQUIRED: dict[str, tuple[str, ...]] = {
    "units": ("unit_code", "name", "type"),
    "services": ("unit_code", "service_code", "name"),
    "events": ("unit_code", "service_code", "ticket_id", "arrived_at", "outcome"),
    "survey": ("unit_code", "response_id", "submitted_at", *U_COLUMNS),
    "targets": ("unit_code", "kpi", "target", "valid_from"),
}
OPTIONAL: dict[str, tuple[str, ...]] = {
    "units": ("parent_code", "district"),
    "services": ("standard_minutes",),
    "events": ("started_at", "completed_at", "channel"),
    "survey": ("service_code", "respondent_gender", "respondent_age", "respondent_education",
               "comment", "ticket_id"),
    "targets": ("valid_to", "amber_pct"),
}
KEYS: dict[str, tuple[str, ...]] = {  # the columns that identify a row (a reload replaces it)
    "units": ("unit_code",),
    "services": ("unit_code", "service_code"),
    "events": ("unit_code", "ticket_id"),
    "survey": ("unit_code", "response_id"),
    "targets": ("unit_code", "kpi", "valid_from"),
}
TABLES = {"units": "units", "services": "services", "events": "events",
          "survey": "survey_responses", "targets": "targets"}


def contract_columns(kind: str) -> tuple[str, ...]:
    """The required then optional columns of a file of `kind`."""
    return REQUIRED[kind] + OPTIONAL[kind]


def detect_kind(columns: list[str]) -> str | None:
    """The kind whose required columns the header has (the most specific one), or None."""
    names = {c.strip().lower() for c in columns}
    fitting = [kind for kind in KINDS if set(REQUIRED[kind]) <= names]
    return max(fitting, key=lambda kind: len(REQUIRED[kind]), default=None)
