"""Alerts (contract §2 "Alerts", issue 25): a unit's KPI that turned red, or whose SPC reading
turned to a signal of concern, in the latest complete week; by e-mail to the users with alerts
on whose scope holds the unit.

An alert is found once per (unit, KPI, week, kind) and kept in `notify_alerts`; who received
it, in which message, in `notify_alert_sends`. A run sends each recipient ONE message with every
alert due to them that they have not received; an alert is closed once every recipient it was
due to has it. When the mail server cannot be reached nothing is recorded: the alerts stay due
and go out on the next run (`python -m kpi notify alerts`, from cron, or at the end of an
import with `--notify`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from kpi import config, mail, metrics, review, spc
from kpi.digest import latest_week, link, reason_words, render, unit_link, week_dates, week_name
from kpi.errors import KinerjaError
from kpi.i18n import fmt_int, t
from kpi.labels import kpi_name
from kpi.notify import Letter, Subscription, deliver, recipient_units, subscriptions, to_date
from kpi.reads import reads
from kpi.store import Reader, Store, Writer, one_unit_of_work
from kpi.vocabulary import CITY, KPIS

KINDS = ("red", "concern")
DETAIL_POINTS = 26  # the points an alert keeps for its words (the overview's weekly window)


def _chart(starts: Sequence[dt.date], values: Sequence[float], kpi: str,
           rebases: Sequence[dt.date]) -> spc.Segments | None:
    """The weekly XmR chart of a series (oldest first), in segments at the unit's rebasing
    interventions (contract §2 "Segments"); None for an empty series."""
    if not values:
        return None
    return spc.segmented_xmr(list(values), spc.segment_starts(list(starts), rebases),
                             better=KPIS[kpi].better)


def _rebase_dates(store: Reader) -> dict[tuple[str, str | None], list[dt.date]]:
    """Every unit's own rebasing interventions: (unit, kpi or None for every KPI) -> dates."""
    found: dict[tuple[str, str | None], list[dt.date]] = {}
    for unit, kpi, day in store.query_rows(
            "SELECT unit_code, kpi, date FROM interventions WHERE rebase ORDER BY date"):
        found.setdefault((unit, kpi), []).append(to_date(day))
    return found


@one_unit_of_work  # the week's alerts from one snapshot: data range, values, rebasing dates
def find(store: Reader, week: str) -> list[dict]:
    """Every alert of `week` (contract §2): per unit (and `*`) and KPI with a value that week,
    `red` when its status is red and was not the week before; `concern` when the weekly SPC
    variation of its series up to the week is `concern` and up to the week before was not."""
    start = review.parse_week(week)
    previous = start - dt.timedelta(days=7)
    first, _ = metrics.data_range(store)
    if first is None or first > start + dt.timedelta(days=6):
        return []
    table = metrics.kpi_table(store, period="week", date_from=min(first, previous), date_to=start)
    rebasing = _rebase_dates(store)
    found = []
    for (unit, kpi), group in table.groupby(["unit_code", "kpi"], sort=False):
        group = group.sort_values("period_start")
        starts = [to_date(day) for day in group["period_start"]]
        if starts[-1] != start:
            continue
        latest = group.iloc[-1]
        before = group.iloc[:-1]
        status_before = before["status"].iloc[-1] if len(before) and \
            starts[-2] == previous else None
        values = group["value"].astype(float).tolist()
        rebases = rebasing.get((unit, kpi), []) + rebasing.get((unit, None), [])
        segments = _chart(starts, values, kpi, rebases)
        before_chart = _chart(starts[:-1], values[:-1], kpi, rebases)
        assert segments is not None
        chart = segments.last
        kinds = []
        if latest["status"] == "red" and status_before != "red":
            kinds.append("red")
        if chart.variation == "concern" and (before_chart is None
                                             or before_chart.last.variation != "concern"):
            kinds.append("concern")
        if not kinds:
            continue
        target = None if pd.isna(latest["target"]) else float(latest["target"])
        points = [{"period_start": day.isoformat(), "value": value, "signals": signals}
                  for day, value, signals in zip(starts, values, segments.signals, strict=True)]
        # The last segment's points: its centre and limits are the ones the words speak of.
        points = points[segments.starts[-1]:]
        details = {"value": float(latest["value"]), "target": target,
                   "status": latest["status"], "variation": chart.variation,
                   "centre": chart.centre, "ucl": chart.ucl, "lcl": chart.lcl,
                   "points": points[-DETAIL_POINTS:]}
        found += [{"unit_code": unit, "kpi": kpi, "week_start": start, "kind": kind,
                   "details": details} for kind in kinds]
    return found


def _stored(cur: Reader, *, open_only: bool) -> list[dict]:
    rows = cur.query_rows(
        "SELECT alert_id, unit_code, kpi, week_start, kind, details FROM notify_alerts "
        "WHERE NOT $open_only OR closed_at IS NULL ORDER BY week_start, alert_id",
        {"open_only": open_only})
    return [{"alert_id": int(alert_id), "unit_code": unit, "kpi": kpi,
             "week_start": to_date(week_start), "kind": kind, "details": json.loads(details)}
            for alert_id, unit, kpi, week_start, kind, details in rows]


def _key(alert: dict) -> tuple:
    return alert["unit_code"], alert["kpi"], to_date(alert["week_start"]), alert["kind"]


def record_new(store: Store, week: str) -> list[dict]:
    """Find `week`'s alerts and store those not stored yet (each key once, ever); returns the
    open alerts (the new ones and those still due from earlier runs)."""
    found = find(store, week)
    with store.transaction() as cur:
        known = {_key(alert) for alert in _stored(cur, open_only=False)}
        new = [alert for alert in found if _key(alert) not in known]
        if new:
            first_id = store.next_id(cur, "notify_alerts", "alert_id")
            now = config.local_now()
            cur.executemany(
                "INSERT INTO notify_alerts (alert_id, unit_code, kpi, week_start, kind, details, "
                "found_at, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                [[first_id + offset, alert["unit_code"], alert["kpi"], alert["week_start"],
                  alert["kind"], json.dumps(alert["details"]), now]
                 for offset, alert in enumerate(new)])
        return _stored(cur, open_only=True)


def pending(store: Store, week: str) -> list[dict]:
    """What a dry run shows: the open alerts plus `week`'s new ones (ids None), storing
    nothing."""
    with store.cursor() as cur:
        stored = _stored(cur, open_only=True)
        known = {_key(alert) for alert in _stored(cur, open_only=False)}
    new = [{**alert, "alert_id": None} for alert in find(store, week) if _key(alert) not in known]
    return stored + new


def _received(store: Reader) -> set[tuple[int, str]]:
    return {(int(alert_id), email) for alert_id, email in store.query_rows(
        "SELECT alert_id, email FROM notify_alert_sends")}


# -- the message -------------------------------------------------------------------------------
def alert_view(alerts: list[dict], who: Subscription, names: dict[str, str]) -> dict:
    """The message's content in `who`'s language: one entry per unit, KPI and week (its red
    and concern alerts together), in the contract's KPI order within each unit."""
    lang = who.lang
    grouped: dict[tuple, list[dict]] = {}
    for alert in sorted(alerts, key=lambda a: (to_date(a["week_start"]), a["unit_code"],
                                               list(KPIS).index(a["kpi"]))):
        grouped.setdefault((alert["unit_code"], alert["kpi"], to_date(alert["week_start"])),
                           []).append(alert)
    items = []
    for (code, kpi, start), group in grouped.items():
        unit = t("alertmail.city", lang) if code == CITY else names.get(code, code)
        kinds = [kind for kind in KINDS if any(alert["kind"] == kind for alert in group)]
        details = group[-1]["details"]
        item = {"kpi": kpi, "value": details["value"], "target": details["target"],
                "status": details["status"], "variation": details["variation"],
                "chart": {"centre": details["centre"], "ucl": details["ucl"],
                          "lcl": details["lcl"], "points": details["points"]}}
        # A red alert is a first red week (it was not red the week before).
        items.append({
            "unit": unit, "kpi": kpi_name(kpi, lang), "kinds": kinds,
            "headline": t(f"alertmail.kind_{'both' if len(kinds) == 2 else kinds[0]}", lang,
                          unit=unit, kpi=kpi_name(kpi, lang)),
            "week": week_dates(start, lang),
            "reason": reason_words(item, lang, red_weeks=1),
            "link": link("", lang, grain="week", period=start.isoformat()) if code == CITY
            else unit_link(code, kpi, start, lang),
        })
    weeks = sorted({to_date(alert["week_start"]) for alert in alerts})
    if len(items) == 1:
        subject = t("alertmail.subject_one", lang, week=week_name(weeks[-1]),
                    headline=items[0]["headline"])
    else:
        subject = t("alertmail.subject_many", lang, week=week_name(weeks[-1]),
                    count=fmt_int(len(items), lang))
    return {"lang": lang, "subject": subject, "title": t("alertmail.title", lang),
            "intro": t("alertmail.intro", lang, count=fmt_int(len(items), lang)),
            "alerts": items, "settings_link": link("email", lang),
            "why": t("alertmail.why", lang, email=who.user.email)}


def alert_letter(alerts: list[dict], who: Subscription, names: dict[str, str], *,
                 sender: str) -> Letter:
    view = alert_view(alerts, who, names)
    html, text = render("alerts", view, who.lang)
    message = mail.build_message(sender=sender, to=who.user.email, subject=view["subject"],
                                 text=text, html=html, lang=who.lang)
    return Letter(recipient=who, kind="alerts", message=message, items=len(alerts),
                  alert_ids=[alert["alert_id"] for alert in alerts])


def _letters(store: Reader, alerts: list[dict], received: set[tuple[int, str]], *,
             sender: str) -> tuple[list[Letter], dict[int | None, set[str]]]:
    """One letter per recipient with the alerts due to them; and per alert, who it is due to."""
    names = dict(store.query_rows("SELECT unit_code, name FROM units"))
    due_to: dict[int | None, set[str]] = {alert["alert_id"]: set() for alert in alerts}
    letters = []
    for who in subscriptions(store):
        if not who.alerts:
            continue
        allowed = recipient_units(store, who)
        mine = [alert for alert in alerts
                if (allowed is None or alert["unit_code"] in allowed)
                and (alert["alert_id"], who.user.email) not in received]
        for alert in mine:
            due_to[alert["alert_id"]].add(who.user.email)
        if mine:
            letters.append(alert_letter(mine, who, names, sender=sender))
    return letters, due_to


def send_alerts(store: Store, *, dry_run: str | Path | None = None, week: str | None = None,
                settings: mail.MailSettings | None = None) -> list[Letter]:
    """Find the latest complete week's alerts, and send every recipient one message with the
    alerts due to them (see the module docstring). With `dry_run`, write the messages into that
    folder and record nothing. Raises mail.MailUnavailable when the server cannot be reached
    (nothing marked sent)."""
    if dry_run is None:
        settings = settings or mail.settings()  # no SMTP URL: say so before anything is stored
    try:
        week = week or latest_week(store)
    except KinerjaError:  # an empty store has no week: nothing is due
        return []
    sender = settings.sender if settings else mail.sender_address()
    if dry_run is not None:
        letters, _ = _letters(store, pending(store, week), set(), sender=sender)
        deliver(store, letters, dry_run=dry_run)
        return letters
    alerts = record_new(store, week)
    letters, due_to = _letters(store, alerts, _received(store), sender=sender)

    def mark(cur: Writer, logged: list[Letter]) -> None:
        _mark(cur, logged, due_to)

    if letters:
        deliver(store, letters, after_logging=mark, settings=settings)
    else:
        with store.transaction() as cur:
            _mark(cur, [], due_to)
    return letters


def _mark(cur: Writer, letters: list[Letter], due_to: dict[int | None, set[str]]) -> None:
    """Record who received which alert; close the alerts every recipient now has."""
    got: dict[int, set[str]] = {}
    for letter in letters:
        if not letter.sent:
            continue
        for alert_id in letter.alert_ids:
            cur.execute("INSERT INTO notify_alert_sends (alert_id, email, delivery_id) "
                        "VALUES (?, ?, ?)", [alert_id, letter.recipient.user.email,
                                             letter.delivery_id])
            got.setdefault(int(alert_id), set()).add(letter.recipient.user.email)
    done = [alert_id for alert_id, emails in due_to.items()
            if alert_id is not None and emails <= got.get(alert_id, set())]
    if done:
        cur.execute("UPDATE notify_alerts SET closed_at = ? WHERE list_contains(?, alert_id)",
                    [config.local_now(), done])


@reads("notify_alert_sends", "notify_alerts")
def alert_log(store: Reader) -> pd.DataFrame:
    """Every alert found: alert_id, unit_code, kpi, week_start, kind, found_at, closed_at, and
    how many recipients received it."""
    return store.query_df(
        "SELECT a.alert_id, a.unit_code, a.kpi, a.week_start, a.kind, a.found_at, a.closed_at, "
        "(SELECT count(*) FROM notify_alert_sends s WHERE s.alert_id = a.alert_id) AS received "
        "FROM notify_alerts a ORDER BY a.alert_id DESC")
