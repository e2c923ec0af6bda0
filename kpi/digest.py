"""The Monday digest (issue 25): one e-mail per subscribed user about the week just over.

Per recipient, for their scope only (kpi/scope.py: the subtrees of their units; the whole city
and `*` when unscoped): how many units are off target; the city's tiles (unscoped only); the
exceptions ranked as on the overview (kpi.offtarget, through the review's agenda so that the
digest, the overview and the review flag the same items), each with its reason in words, a
small trend chart and a link that opens the unit page on that KPI, week and language; the open
actions of their units, overdue first. HTML (Jinja2, autoescaped, CSS in the document, images
as related parts, no remote resource) plus a plain-text part; kept under MAX_BYTES.

The week's data (agenda, actions, names) is computed once per run and shared by every
recipient; each message then picks what its recipient may see.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader

from kpi import charts, config, effect, interventions, mail, metrics, review
from kpi.errors import KinerjaError
from kpi.i18n import fmt_date, fmt_int, t
from kpi.labels import format_value, kpi_name, kpi_unit, status_word
from kpi.notify import Letter, Subscription, recipient_units, subscriptions
from kpi.pack import chart_labels, item_figure
from kpi.store import Reader, one_unit_of_work
from kpi.vocabulary import CITY

TEMPLATES = Path(__file__).with_name("templates")
MAX_BYTES = 300_000
MAX_EXCEPTIONS = 12      # listed; the rest are one link to the overview
MAX_CHARTS = 6           # exceptions with a trend chart
EFFECT_WEEKS = 13        # interventions of the last quarter get their verdict in the digest
CHART_WIDTH, CHART_HEIGHT, CHART_SCALE = 560, 190, 1.25  # six charts fit in MAX_BYTES


# -- words -------------------------------------------------------------------------------------
def week_name(week_start: dt.date) -> str:
    """`W47`: the ISO week as the subject names it (both languages)."""
    return f"W{week_start.isocalendar().week:02d}"


def week_dates(week_start: dt.date, lang: str) -> str:
    """`Week 47 · 16–22 Nov 2026` in the language."""
    end = week_start + dt.timedelta(days=6)
    return t("digest.week_dates", lang, week=week_start.isocalendar().week,
             start=fmt_date(week_start, lang, "d MMM"), end=fmt_date(end, lang, "d MMM y"))


def _run_back(points: list[dict], signal: str) -> int:
    """How many points, ending with the last, carry `signal` in a row."""
    length = 0
    for point in reversed(points):
        if signal not in (point.get("signals") or []):
            break
        length += 1
    return length


def spc_words(item: dict, lang: str) -> str:
    """The SPC signals of the latest week in words: `a shift of 8 weeks above the centre`;
    empty without a signal."""
    chart = item.get("chart") or {}
    points = chart.get("points") or []
    signals = points[-1].get("signals") if points else item.get("signals")
    if not signals:
        return ""
    centre, last = chart.get("centre"), points[-1]["value"] if points else item.get("value")
    side = "above" if centre is not None and last is not None and last > centre else "below"
    parts = []
    for signal in signals:
        if signal == "shift":
            parts.append(t(f"digest.spc_shift_{side}", lang,
                           weeks=fmt_int(_run_back(points, "shift"), lang)))
        elif signal == "trend":
            rising = len(points) > 1 and points[-1]["value"] > points[-2]["value"]
            parts.append(t("digest.spc_trend_up" if rising else "digest.spc_trend_down", lang,
                           weeks=fmt_int(_run_back(points, "trend"), lang)))
        elif signal == "outside":
            limit = chart.get("ucl") if side == "above" else chart.get("lcl")
            parts.append(t(f"digest.spc_outside_{side}", lang,
                           limit=format_value(item["kpi"], limit, lang)))
        elif signal == "two_of_three":
            parts.append(t(f"digest.spc_two_of_three_{side}", lang))
    return t("digest.spc_prefix", lang, signals="; ".join(parts)) if parts else ""


def reason_words(item: dict, lang: str, *, red_weeks: int | None = None) -> str:
    """Why an item needs attention, in words: `Service time (median) 41 min, target 28 min, off
    target for 3 weeks; SPC: a shift of 8 weeks above the centre`."""
    kpi = item["kpi"]
    value = format_value(kpi, item.get("value"), lang)
    if item.get("target") is None:
        parts = [t("digest.reason_value", lang, kpi=kpi_name(kpi, lang), value=value)]
    else:
        parts = [t("digest.reason_value_target", lang, kpi=kpi_name(kpi, lang), value=value,
                   target=format_value(kpi, item["target"], lang))]
    weeks = red_weeks if red_weeks is not None else item.get("red_periods") or 0
    if item.get("status") == "red":
        parts.append(t("digest.reason_red_one", lang) if weeks <= 1
                     else t("digest.reason_red", lang, weeks=fmt_int(weeks, lang)))
    words = ", ".join(parts)
    spc = spc_words(item, lang)
    return f"{words}; {spc}" if spc else words


# -- links -------------------------------------------------------------------------------------
def link(page: str, lang: str, **params: str) -> str:
    """The dashboard address of `page` (a ui.registry key; "" = the overview at the root)
    opening the exact view: the query parameters the pages read (ui/state.py, ui/filters.py)."""
    query = urlencode({**{name: value for name, value in params.items() if value}, "lang": lang})
    return f"{config.base_url()}/{page}?{query}"


def unit_link(unit: str, kpi: str | None, week_start: dt.date, lang: str) -> str:
    return link("unit", lang, unit=unit, kpi=kpi or "", grain="week",
                period=week_start.isoformat())


# -- the week's data, shared by every recipient ------------------------------------------------
@dataclass
class Week:
    label: str                 # 2026-W47
    start: dt.date
    agenda: dict               # review.data_agenda: scorecard, exceptions (with charts), coverage
    actions: list[dict]        # open actions of every unit, overdue first
    names: dict[str, str]      # unit code -> name
    parents: set[str]          # units that have children (the overview's parent filter)
    effects: list[dict]        # recent interventions with the verdict on each KPI


def latest_week(store: Reader, today: dt.date | None = None) -> str:
    """The week the digest reports by default: the latest complete week (kpi.review's default,
    the week the dashboard and the review open on)."""
    week = review.default_week(store, today)
    if week is None:
        raise KinerjaError("digest.error_no_data")
    return week


@one_unit_of_work  # the digest's numbers from one snapshot, as the review's agenda
def week_data(store: Reader, week: str) -> Week:
    start = review.parse_week(week)
    agenda = review.data_agenda(store, week)
    tree = metrics.unit_tree(store)
    names = dict(zip(tree["unit_code"], tree["name"], strict=True))
    parents = {code for code in tree["parent_code"].dropna() if code in names}
    actions = [action for action in review.list_actions(store, open_only=True)
               if action["raised_week"] <= week]
    return Week(label=week, start=start, agenda=agenda, actions=actions, names=names,
                parents=parents, effects=recent_effects(store, start))


@one_unit_of_work
def recent_effects(cur: Reader, week_start: dt.date) -> list[dict]:
    """The interventions dated in the EFFECT_WEEKS weeks up to the week's end, newest first,
    each with kpi.effect's verdict on every KPI it is judged on (issue 23)."""
    end = week_start + dt.timedelta(days=6)
    since = week_start - dt.timedelta(weeks=EFFECT_WEEKS - 1)
    found = []
    for change in reversed(interventions.list_interventions(cur, since=since, until=end)):
        verdicts = [(row["kpi"], row["verdict"])
                    for row in effect.effect(cur, change["intervention_id"])]
        if verdicts:
            found.append({**change, "verdicts": verdicts})
    return found


# -- one recipient's digest --------------------------------------------------------------------
def _visible(code: str, allowed: list[str] | None) -> bool:
    return allowed is None or code in allowed


def digest_view(data: Week, who: Subscription, allowed: list[str] | None) -> dict:
    """Everything one recipient's digest shows, as text in their language, limited to the units
    `allowed` (None: the whole city and its tiles)."""
    lang = who.lang
    exceptions = [item for item in data.agenda["exceptions"]
                  if item["unit_code"] != CITY and _visible(item["unit_code"], allowed)]
    units_off = len({item["unit_code"] for item in exceptions if item.get("status") == "red"})
    items = []
    for rank, item in enumerate(exceptions[:MAX_EXCEPTIONS], start=1):
        code = item["unit_code"]
        items.append({
            "rank": rank, "unit": data.names.get(code, code), "code": code,
            "kpi": kpi_name(item["kpi"], lang), "status": item.get("status") or "none",
            "status_word": status_word(item.get("status") or "none", lang),
            "symbol": charts.STATUS_SYMBOLS.get(item.get("status") or "none", "–"),
            "concern": item.get("variation") == "concern",
            "reason": reason_words(item, lang),
            "link": unit_link(code, item["kpi"], data.start, lang),
            "cid": None, "item": item,
        })
    tiles = []
    if allowed is None:
        for row in data.agenda["scorecard"]:
            if row["unit_code"] != CITY or row.get("value") is None:
                continue
            status = row.get("status") or "none"
            tiles.append({"kpi": kpi_name(row["kpi"], lang),
                          "value": format_value(row["kpi"], row["value"], lang),
                          "target": format_value(row["kpi"], row.get("target"), lang)
                          if row.get("target") is not None else "",
                          "status": status, "status_word": status_word(status, lang),
                          "symbol": charts.STATUS_SYMBOLS.get(status, "–")})
    actions = [{
        "title": action["title"], "unit": data.names.get(action["unit_code"], action["unit_code"]),
        "responsible": action["responsible"], "due": fmt_date(action["due_date"], lang),
        "overdue": bool(action.get("overdue")),
        "status": t(f"action.status_{action['status']}", lang),
        "link": unit_link(action["unit_code"], action.get("kpi"), data.start, lang),
    } for action in data.actions if _visible(action["unit_code"], allowed)]
    effects = [{
        "title": change["title"],
        "unit": t("alertmail.city", lang) if change["unit_code"] == CITY
        else data.names.get(change["unit_code"], change["unit_code"]),
        "date": fmt_date(change["date"], lang),
        "verdicts": [{"kpi": kpi_name(kpi, lang), "verdict": verdict,
                      "words": t(f"digest.verdict_{verdict}", lang)}
                     for kpi, verdict in change["verdicts"]],
        "link": unit_link(change["unit_code"], change.get("kpi"), data.start, lang)
        if change["unit_code"] != CITY else link("", lang, grain="week",
                                                 period=data.start.isoformat()),
    } for change in data.effects if _visible(change["unit_code"], allowed)]
    if allowed is None:
        scope_links = [{"label": t("digest.open_overview", lang),
                        "url": link("", lang, grain="week", period=data.start.isoformat())}]
        scope_words = t("digest.scope_city", lang)
    else:
        roots = [code for code in who.user.units if code in data.names]
        scope_links = [{
            "label": t("digest.open_unit", lang, unit=data.names[code]),
            "url": link("", lang, grain="week", period=data.start.isoformat(), parent=code)
            if code in data.parents else unit_link(code, None, data.start, lang),
        } for code in roots]
        scope_words = t("digest.scope_units", lang,
                        units=", ".join(data.names[code] for code in roots))
    count_key = ("digest.subject_none" if units_off == 0 else
                 "digest.subject_one" if units_off == 1 else "digest.subject_many")
    return {
        "lang": lang,
        "subject": t(count_key, lang, week=week_name(data.start), count=fmt_int(units_off, lang)),
        "title": t("digest.title", lang, dates=week_dates(data.start, lang)),
        "scope": scope_words,
        "summary": t("digest.summary", lang, units=fmt_int(units_off, lang),
                     exceptions=fmt_int(len(exceptions), lang)),
        "tiles": tiles,
        "exceptions": items,
        "more": t("digest.more_exceptions", lang,
                  count=fmt_int(len(exceptions) - MAX_EXCEPTIONS, lang))
        if len(exceptions) > MAX_EXCEPTIONS else "",
        "actions": actions,
        "effects": effects,
        "links": scope_links,
        "settings_link": link("email", lang),
        "why": t("digest.why", lang, email=who.user.email),
        "count": len(exceptions),
    }


def _chart_images(items: list[dict], lang: str) -> list[bytes]:
    """A small JPEG trend chart per exception (the review pack's XmR figure, rendered through
    the shared image cache: a chart drawn for one recipient is not drawn again for the next)."""
    figures = [(json.dumps(["digest", lang, entry["item"]["kpi"], entry["item"].get("target"),
                            entry["item"]["chart"], chart_labels(lang, entry["item"]["kpi"]),
                            kpi_unit(entry["item"]["kpi"], lang)], sort_keys=True, default=str),
                lambda entry=entry: item_figure(entry["item"], lang, height=CHART_HEIGHT))
               for entry in items]
    return charts.cached_images(figures, image_format="jpg", width=CHART_WIDTH,
                                height=CHART_HEIGHT, scale=CHART_SCALE)


def _environment(autoescape: bool) -> Environment:
    # Autoescape explicitly: unit names and action texts come from files and people.
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=autoescape,
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def render(template: str, view: dict, lang: str) -> tuple[str, str]:
    """(HTML, plain text) of `view` through `<template>.html.j2` and `<template>.txt.j2`."""
    def words(key: str, **params: Any) -> str:
        return t(key, lang, **params)

    common = {"v": view, "t": words, "colours": charts.STATUS_COLOURS}
    html = _environment(True).get_template(f"{template}.html.j2").render(**common)
    text = _environment(False).get_template(f"{template}.txt.j2").render(**common)
    return html, text


def digest_letter(data: Week, who: Subscription, allowed: list[str] | None, *,
                  sender: str, with_charts: bool = True) -> Letter:
    """The digest of `who` as a message under MAX_BYTES (charts are left out from the last one
    up while it is larger)."""
    view = digest_view(data, who, allowed)
    charted = [entry for entry in view["exceptions"]
               if (entry["item"].get("chart") or {}).get("points")][:MAX_CHARTS]
    images = _chart_images(charted, who.lang) if with_charts and charted else []
    keep = len(images)
    while True:
        for entry in view["exceptions"]:
            entry["cid"] = None
        named = {}
        for index, (entry, image) in enumerate(zip(charted[:keep], images[:keep], strict=True)):
            entry["cid"] = f"chart{index + 1}@kinerja"
            named[entry["cid"]] = image
        html, text = render("digest", view, who.lang)
        message = mail.build_message(sender=sender, to=who.user.email, subject=view["subject"],
                                     text=text, html=html, images=named, lang=who.lang)
        if len(message.as_bytes()) <= MAX_BYTES or keep == 0:
            return Letter(recipient=who, kind="digest", message=message, items=view["count"],
                          week=data.label)
        keep -= 1


@one_unit_of_work  # every recipient's digest from one snapshot
def digest_letters(store: Reader, week: str | None = None, *, sender: str | None = None,
                   today: dt.date | None = None) -> list[Letter]:
    """The digest of every user with the digest on, for `week` (default: the latest complete
    week), each limited to its recipient's scope."""
    week = week or latest_week(store, today)
    review.parse_week(week)
    recipients = [who for who in subscriptions(store) if who.digest]
    if not recipients:
        return []
    data = week_data(store, week)
    sender = sender or mail.sender_address()
    return [digest_letter(data, who, recipient_units(store, who), sender=sender)
            for who in recipients]
