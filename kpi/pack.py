"""The review pack: the weekly management review as PDF, Excel and a single-file HTML page.

One presentation model (`pack_view`) feeds all three: the HTML comes from a Jinja2 template with
its CSS and chart images inlined (data URIs), the PDF is WeasyPrint's rendering of that same
HTML, and the workbook (xlsxwriter) holds the same rows with raw numbers. Every word comes from
the catalogues (tables [pack], [review], [action] and the engine's KPI, status, grade and SPC
words); numbers and dates are formatted for the chosen language by kpi.i18n.

The pack renders a review's content (`kpi.review.review_content`): the stored record of a
finalised review, so that an old pack is reproduced exactly, or the live agenda of a draft.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter
from jinja2 import Environment, FileSystemLoader

from kpi import charts, config, interventions, review, spc
from kpi.audit import short_hash
from kpi.effect import describe
from kpi.exports import escape_cell
from kpi.i18n import fmt_date, fmt_int, fmt_number, t
from kpi.labels import (
    change_direction,
    format_value,
    is_missing,
    kpi_name,
    kpi_short,
    kpi_unit,
    signal_words,
    status_text,
)
from kpi.offtarget import chart_variations, point_variations
from kpi.store import Reader
from kpi.vocabulary import KPIS

TEMPLATES = Path(__file__).with_name("templates")
TEMPLATE = "review_pack.html.j2"
STYLESHEET = "review_pack.css"
CHART_WIDTH = 900  # layout pixels of an exception chart, rendered at twice that; printed 17 cm wide
CHART_HEIGHT = 240
CHART_SCALE = 1.75  # pixels per layout pixel: about 230 dpi at 17 cm, sharp in print
COVER_EXCEPTIONS = 6  # the cover lists the first ones; section 4 has them all
STATUS_SYMBOLS = charts.STATUS_SYMBOLS
STATUS_COLOURS = charts.STATUS_COLOURS
OVERDUE_SYMBOL = "⚠"


def pack_name(week: str) -> str:
    """The file name stem of a week's pack: review-2026-W47."""
    return f"review-{week}"


# -- words and numbers -------------------------------------------------------------------------
def format_change(kpi: str, change: float | None, lang: str) -> str:
    """A signed change with the KPI's decimals and an arrow that says better or worse in shape
    (▲ up / ▼ down) and word is left to the reader's KPI knowledge; `—` when absent."""
    if is_missing(change):
        return "—"
    decimals = KPIS[kpi].decimals
    if round(change, decimals) == 0:
        return "±" + fmt_number(0, lang, decimals)
    sign = "+" if change > 0 else "−"
    return sign + fmt_number(abs(change), lang, decimals)


def unit_label(code: str, name: str | None, lang: str) -> str:
    if code == "*":
        return t("review.city_unit", lang)
    return name or code


def reasons_text(item: dict, lang: str) -> str:
    return "; ".join(t(f"review.reason_{reason}", lang) for reason in item["reasons"])


def week_dates(content: dict, lang: str) -> str:
    agenda = content["agenda"]
    return t("review.week_dates", lang, start=fmt_date(agenda["week_start"], lang, "medium"),
             end=fmt_date(agenda["week_end"], lang, "medium"))


def format_timestamp(value: str | None, lang: str) -> str:
    if not value:
        return "—"
    moment = dt.datetime.fromisoformat(value)
    return t("pack.timestamp", lang, date=fmt_date(moment.date(), lang, "long"),
             time=moment.strftime("%H:%M"))


# -- the presentation model --------------------------------------------------------------------
def audit_head_text(head: dict | None, lang: str) -> str:
    """`row 123 · 3f2a9c1e7b4d5a60`: the audit trail's head a record or pack was made at (empty
    for a record made before it was printed)."""
    if not head:
        return ""
    return t("audithead.value", lang, seq=head["seq"], head=short_hash(head["sha256"]))


def action_view(action: dict, lang: str) -> dict:
    history = action.get("history") or []
    comments = [entry for entry in history if entry.get("comment")]
    last = comments[-1] if comments else None
    status_text = t(f"action.status_{action['status']}", lang)
    overdue_text = f"{OVERDUE_SYMBOL} {t('action.overdue', lang)}" if action.get("overdue") else ""
    return {
        "id": action["action_id"],
        "title": action["title"],
        "unit": unit_label(action["unit_code"], action.get("unit_name"), lang),
        "responsible": action["responsible"],
        "due": fmt_date(action["due_date"], lang),
        "kpi": kpi_name(action["kpi"], lang) if action.get("kpi") else "—",
        "raised": action["raised_week"],
        "status": action["status"],
        "status_text": status_text,
        "overdue": bool(action.get("overdue")),
        "overdue_text": overdue_text,
        # the status as a table cell shows it: `Terbuka · ⚠ Terlambat`
        "status_full": " · ".join(part for part in (status_text, overdue_text) if part),
        "last_comment": last["comment"] if last else "",
        "last_comment_date": fmt_date(last["updated_at"], lang) if last else "",
    }


def action_counts(carried: list[dict], new: list[dict]) -> dict:
    """open_actions and overdue of a review, from the `action_view`s of its carried and new
    actions (a carried action closed during the review is no longer open)."""
    open_carried = [a for a in carried if a["status"] not in review.CLOSED_STATUSES]
    return {"open_actions": len(open_carried) + len(new),
            "overdue": sum(a["overdue"] for a in carried + new)}


def _item_view(item: dict, lang: str, minutes: dict) -> dict:
    kpi = item["kpi"]
    noted = minutes.get("items", {}).get(item["key"], {})
    direction = change_direction(kpi, item.get("change"))
    return {
        "key": item["key"],
        "unit": unit_label(item["unit_code"], item.get("unit_name"), lang),
        "unit_code": item["unit_code"],
        "kpi": kpi_name(kpi, lang),
        "kpi_code": kpi,
        "value": format_value(kpi, item.get("value"), lang),
        "target": format_value(kpi, item.get("target"), lang),
        "status": item.get("status", "none"),
        "status_text": status_text(item.get("status", "none"), lang),
        "prev_value": format_value(kpi, item.get("prev_value"), lang),
        "change": format_change(kpi, item.get("change"), lang),
        "change_words": t(f"pack.change_{direction}", lang) if direction else "",
        "reasons": reasons_text(item, lang),
        "signals": signal_words(item.get("signals") or [], lang),
        "variation": t(f"spc.variation.{item['variation']}", lang) if item.get("variation")
        else "",
        "note": noted.get("note", ""),
        "decision": noted.get("decision", ""),
        "image": None,
    }


def _scorecard_view(scorecard: list[dict], lang: str) -> dict:
    kpis = [kpi for kpi in KPIS if any(row["kpi"] == kpi for row in scorecard)]
    units: dict[str, dict] = {}
    for row in scorecard:
        unit = units.setdefault(row["unit_code"], {
            "unit": unit_label(row["unit_code"], row.get("unit_name"), lang),
            "code": row["unit_code"], "depth": row.get("depth", 1), "cells": {}})
        status = row.get("status") or "none"
        has_value = not is_missing(row.get("value"))
        unit["cells"][row["kpi"]] = {
            "value": format_value(row["kpi"], row.get("value"), lang),
            "status": status if has_value else "none",
            "symbol": STATUS_SYMBOLS[status] if has_value and status in STATUS_SYMBOLS
            and status != "none" else "",
            "word": t(f"pack.status_short_{status}", lang) if has_value and status != "none"
            else "",
            "change": format_change(row["kpi"], row.get("change"), lang),
            "direction": change_direction(row["kpi"], row.get("change")),
        }
    rows = [{**unit, "cells": [unit["cells"].get(kpi) for kpi in kpis]} for unit in units.values()]
    headers = [{"name": kpi_short(kpi, lang),
                "better": t(f"pack.better_{KPIS[kpi].better}", lang)} for kpi in kpis]
    return {"headers": headers, "rows": rows}


def _satisfaction_view(satisfaction: dict | None, lang: str) -> dict | None:
    if not satisfaction:
        return None
    start = dt.date.fromisoformat(satisfaction["quarter_start"])
    quarter = t("pack.quarter_name", lang, quarter=(start.month - 1) // 3 + 1, year=start.year)
    period = t("review.week_dates", lang, start=fmt_date(start, lang),
               end=fmt_date(satisfaction["quarter_end"], lang))
    heading_key = "pack.skm_closed" if satisfaction["closed"] else "pack.skm_to_date"
    rows = []
    for row in satisfaction["rows"]:
        grade = row.get("grade")
        rows.append({
            "unit": unit_label(row["unit_code"], row.get("unit_name"), lang),
            "n": fmt_int(row.get("n"), lang),
            "ikm": fmt_number(row.get("ikm"), lang, 2),
            "prev_ikm": fmt_number(row.get("prev_ikm"), lang, 2),
            "grade": f"{grade} {t(f'grade.{grade}', lang)}" if grade else "—",
            "grade_letter": grade or "",
            "min_sample": fmt_int(row.get("min_sample"), lang),
            "sample_ok": bool(row.get("sample_ok")),
            "sample_text": (f"{STATUS_SYMBOLS['green']} {t('pack.sample_ok', lang)}"
                            if row.get("sample_ok")
                            else f"{STATUS_SYMBOLS['amber']} {t('pack.sample_short', lang)}"),
        })
    return {"heading": t(heading_key, lang, quarter=quarter, period=period),
            "closed": satisfaction["closed"], "rows": rows}


def _changes_view(changes: dict, lang: str) -> dict:
    batches = [{
        "id": batch["batch_id"],
        "kind": t(f"pack.kind_{batch['kind']}", lang),
        "file": batch.get("file_name") or "—",
        "rows": fmt_int(batch.get("rows_in_file"), lang),
        "inserted": fmt_int(batch.get("rows_inserted"), lang),
        "replaced": fmt_int(batch.get("rows_replaced"), lang),
        "by": batch.get("loaded_by") or "—",
        "when": format_timestamp(batch.get("loaded_at"), lang),
        "rolled_back": batch.get("status") == "rolled_back",
    } for batch in changes.get("batches", [])]
    targets = [{
        "unit": unit_label(row["unit_code"], row.get("unit_name"), lang)
        if row["unit_code"] != "*" else t("pack.every_unit", lang),
        "kpi": kpi_name(row["kpi"], lang),
        "target": format_value(row["kpi"], row["target"], lang),
        "valid": t("review.week_dates", lang, start=fmt_date(row["valid_from"], lang),
                   end=fmt_date(row["valid_to"], lang) if row.get("valid_to")
                   else t("pack.open_ended", lang)),
    } for row in changes.get("new_targets", [])]
    since = changes.get("since")
    intro = (t("pack.changes_since", lang, week=changes["previous_week"],
               when=format_timestamp(since, lang)) if changes.get("previous_week")
             else t("pack.changes_first", lang))
    hidden = changes.get("batch_count", len(batches)) - len(batches)
    return {"intro": intro, "batches": batches, "targets": targets,
            "units": [f"{row['name']} ({row['unit_code']})" for row in changes.get("new_units", [])],
            "more_batches": t("pack.more_batches", lang, count=fmt_int(hidden, lang))
            if hidden > 0 else ""}


def _minutes_view(content: dict, item_labels: list[tuple[str, str]]) -> dict | None:
    minutes = content.get("minutes") or {}
    noted = [{"item": label, "note": entry.get("note", ""), "decision": entry.get("decision", "")}
             for key, label in item_labels
             if (entry := minutes.get("items", {}).get(key))]
    if not (minutes.get("attendees") or minutes.get("decisions") or noted):
        return None
    return {"attendees": minutes.get("attendees", []), "decisions": minutes.get("decisions", ""),
            "entries": noted}


def _agenda_item_labels(content: dict, lang: str) -> list[tuple[str, str]]:
    """(item_key, label) of every agenda item that can carry minutes, in agenda order."""
    agenda = content["agenda"]
    labels = [(key, t(f"review.section_{key}", lang)) for key in
              ("actions", "changes", "scorecard")]
    for item in agenda["exceptions"]:
        labels.append((item["key"], t("pack.item_label", lang, unit=unit_label(
            item["unit_code"], item.get("unit_name"), lang), kpi=kpi_name(item["kpi"], lang))))
    labels.append(("satisfaction", t("review.section_satisfaction", lang)))
    labels.append(("opportunities", t("review.section_opportunities", lang)))
    if "effects" in agenda:  # a record finalised before issue 23 has no such section
        labels.append(("effects", t("effect.section", lang)))
    return labels


def incomplete_week_warning(covered: dict | None, lang: str) -> str:
    """The warning at the top of the agenda of a week that not enough units have reported (the
    overview's), or "" (also for records finalised before the flag was kept)."""
    if not covered or covered.get("complete", True) or not covered["reported"]:
        return ""
    coverage = t("filters.units_reported", lang, reported=fmt_number(covered["reported"], lang, 0),
                 expected=fmt_number(covered["expected"], lang, 0))
    return t("partial.week_warning", lang, coverage=coverage,
             missing=fmt_number(covered["expected"] - covered["reported"], lang, 0))


def pack_view(content: dict, lang: str, *, today: dt.date | None = None) -> dict:
    """Everything the template and the workbook show, as formatted text, for `lang`."""
    agenda = content["agenda"]
    review = content.get("review") or {}
    minutes = content.get("minutes") or {}
    final = review.get("status") == "final"
    exceptions = [_item_view(item, lang, minutes) for item in agenda["exceptions"]]
    opportunities = [_item_view(item, lang, minutes) for item in agenda["opportunities"]]
    carried = [action_view(a, lang) for a in agenda["carried_actions"]]
    new = [action_view(a, lang) for a in agenda["new_actions"]]
    item_labels = _agenda_item_labels(content, lang)
    off_target = sum("off_target" in item["reasons"] for item in agenda["exceptions"])
    if final:
        status_line = t("pack.status_final", lang, when=format_timestamp(review.get("finalised_at"), lang),
                        who=review.get("finalised_by") or "—")
    else:
        status_line = t("pack.status_draft", lang)
    week_number = int(content["week"].split("W")[1])
    covered = agenda.get("coverage")  # a record finalised before issue 12 has none
    if not covered:
        coverage_line = ""
    elif not covered["reported"]:
        coverage_line = t("review.no_unit_reported", lang, week=content["week"])
    else:
        coverage_line = t("filters.units_reported", lang,
                          reported=fmt_number(covered["reported"], lang, 0),
                          expected=fmt_number(covered["expected"], lang, 0))
    return {
        "lang": lang,
        "incomplete": incomplete_week_warning(covered, lang),
        # A city user's review (a scope's record, kpi/review.py) says whose it is.
        "city": " · ".join(part for part in (content.get("city") or config.city_name(),
                                              content.get("scope_label")) if part),
        "week": content["week"],
        "week_title": t("pack.week_title", lang, week=week_number,
                        year=content["week"][:4]),
        "dates": week_dates(content, lang),
        "prepared": fmt_date(today or config.local_today(), lang, "long"),
        "final": final,
        "status_line": status_line,
        "coverage": coverage_line,
        "checksum": review.get("record_sha256") or "",
        "audit_head": audit_head_text(review.get("audit_head"), lang),
        "summary": {
            "exceptions": len(exceptions),
            "off_target": off_target,
            "concerns": len(exceptions) - off_target,
            **action_counts(carried, new),
            "opportunities": len(opportunities),
        },
        "exceptions": exceptions,
        "cover_exceptions": exceptions[:COVER_EXCEPTIONS],
        "more_exceptions": t("pack.more_exceptions", lang,
                             count=len(exceptions) - COVER_EXCEPTIONS)
        if len(exceptions) > COVER_EXCEPTIONS else "",
        "opportunities": opportunities,
        "carried_actions": carried,
        "new_actions": new,
        "changes": _changes_view(agenda.get("changes") or {}, lang),
        "scorecard": _scorecard_view(agenda["scorecard"], lang),
        "satisfaction": _satisfaction_view(agenda.get("satisfaction"), lang),
        "minutes": _minutes_view(content, item_labels),
        "agenda_items": item_labels,
        "effects": effects_view(agenda.get("effects"), lang),
    }


# -- effectiveness of actions taken (issue 23) -------------------------------------------------
def effects_view(effects: dict | None, lang: str) -> list[dict] | None:
    """The section "Effectiveness of actions taken": per intervention its heading, who recorded
    it and when, and per KPI its verdict in plain words (None for a record made before it)."""
    if effects is None:
        return None
    shown = []
    for item in effects["items"]:
        unit = unit_label(item["unit_code"], item.get("unit_name"), lang)
        meta_key = "effect.meta_action" if item.get("action_id") is not None else "effect.meta"
        shown.append({
            "key": item["key"],
            "unit": unit,
            "title": item["title"],
            "heading": t("effect.heading", lang, unit=unit, title=item["title"]),
            "meta": t(meta_key, lang, date=fmt_date(dt.date.fromisoformat(item["date"]), lang),
                      who=item["recorded_by"], action=item.get("action_id")),
            "rows": [{"kpi": kpi_name(row["kpi"], lang), "kpi_code": row["kpi"],
                      "verdict_code": row["verdict"],
                      "verdict": t(f"effect.verdict.{row['verdict']}", lang),
                      "words": describe(row, lang),
                      "before_n": fmt_int(row["before_n"], lang),
                      "after_n": fmt_int(row["after_n"], lang)} for row in item["rows"]],
            "chart_kpi": kpi_name(chosen["kpi"], lang) if (chosen := chart_row(item)) else "",
            "image": None,
        })
    return shown


def chart_row(item: dict) -> dict | None:
    """The KPI row an intervention's small chart shows: its own KPI's, else the first that
    moved (improved, worse, mixed), else the first judged; None without one."""
    rows = [row for row in item["rows"] if row["verdict"] != "no_baseline"]
    moved = [row for row in rows if row["verdict"] in ("improved", "worse", "mixed")]
    return (moved or rows or [None])[0]


def effect_figure(item: dict, row: dict, lang: str, *, title: str | None = None,
                  height: int | None = None) -> charts.Figure:
    """The before/after chart of an intervention on one KPI: the weekly values, the limits of
    before drawn across (signals marked on after points only) and the change's marker."""
    before = [{**point, "signals": []} for point in row["before"]]
    points = pd.DataFrame(before + row["after"])
    points["period_start"] = pd.to_datetime(points["period_start"]).dt.date
    points["variation"] = point_variations(points["value"].tolist(), points["signals"].tolist(),
                                           row.get("centre"), KPIS[row["kpi"]].better)
    points["hover"] = [format_value(row["kpi"], value, lang) for value in points["value"]]
    segment = {"start": points["period_start"].iloc[0], "centre": row.get("centre"),
               "ucl": row.get("ucl"), "lcl": row.get("lcl"), "trial": row["before_n"] < 12}
    figure = charts.spc_chart(
        points, lang, centre=row.get("centre"), ucl=row.get("ucl"), lcl=row.get("lcl"),
        trial=segment["trial"], target=None, labels=chart_labels(lang, row["kpi"]),
        y_title=kpi_unit(row["kpi"], lang), title=title, grain=row.get("period"),
        segments=[segment], markers=[{
            "id": item["intervention_id"], "date": item["date"], "title": item["title"],
            "hover": t("intervention.marker_hover", lang, title=item["title"],
                       date=fmt_date(dt.date.fromisoformat(item["date"]), lang),
                       who=item["recorded_by"])}])
    if height is not None:
        figure.update_layout(height=height)
    return figure


# -- charts ------------------------------------------------------------------------------------
def chart_labels(lang: str, kpi: str) -> dict[str, str]:
    """The translated words of an XmR chart (kpi.charts.spc_chart's `labels`)."""
    return {"value": kpi_name(kpi, lang), "centre": t("spc.centre", lang),
            "limits": t("spc.limits", lang), "target": t("spc.target", lang),
            "concern": t("spc.variation.concern", lang),
            "improvement": t("spc.variation.improvement", lang),
            "trial_suffix": t("charts.trial_suffix", lang)}


def rebased_chart(chart: dict, kpi: str, rebase: tuple[dt.date, ...]) -> dict | None:
    """An agenda item's stored chart with its limits recalculated per segment at `rebase`
    (kpi.spc); None when no date splits it."""
    days = [dt.date.fromisoformat(point["period_start"]) for point in chart["points"]]
    starts = spc.segment_starts(days, rebase)
    if len(starts) < 2:
        return None
    values = [point["value"] for point in chart["points"]]
    split = spc.segmented_xmr(values, starts, better=KPIS[kpi].better)
    last = split.last
    return {"centre": last.centre, "ucl": last.ucl, "lcl": last.lcl, "trial": last.trial,
            "segments": [{"start": days[first], "centre": part.centre, "ucl": part.ucl,
                          "lcl": part.lcl, "trial": part.trial}
                         for first, part in zip(split.starts, split.charts, strict=True)],
            "points": [{**point, "signals": signals, "segment": number}
                       for point, signals, number in zip(chart["points"], split.signals,
                                                         split.segment_of, strict=True)]}


def item_figure(item: dict, lang: str, *, title: str | None = None,
                height: int | None = None, changes: list[dict] | None = None,
                rebased: bool = False) -> charts.Figure | None:
    """The XmR figure of one agenda item from its stored chart data (so a finalised review
    redraws exactly what it showed); None when the item has no chart. `changes`: the
    interventions to mark (the agenda's `effects` markers); `rebased`: the limits recalculated
    per segment at the rebasing ones of the item's unit and KPI."""
    chart = item.get("chart")
    if not chart or not chart.get("points"):
        return None
    points = pd.DataFrame(chart["points"])
    points["period_start"] = pd.to_datetime(points["period_start"]).dt.date
    own = [change for change in changes or () if change["unit_code"] == item["unit_code"]]
    segments = rebased_chart(chart, item["kpi"], interventions.rebase_dates_of(
        own, item["kpi"])) if rebased else None
    if segments is not None:
        chart = segments
        points["signals"] = [point["signals"] for point in chart["points"]]
    points["variation"] = chart_variations(
        [{**point, "value": value} for point, value in zip(chart["points"], points["value"],
                                                           strict=True)],
        chart.get("segments"), chart.get("centre"), KPIS[item["kpi"]].better)
    points["hover"] = [format_value(item["kpi"], value, lang) for value in points["value"]]
    figure = charts.spc_chart(points, lang, centre=chart.get("centre"), ucl=chart.get("ucl"),
                              lcl=chart.get("lcl"), trial=bool(chart.get("trial")),
                              target=item.get("target"), labels=chart_labels(lang, item["kpi"]),
                              y_title=kpi_unit(item["kpi"], lang), title=title,
                              grain="week", segments=chart.get("segments"),
                              markers=interventions.chart_markers(
                                  own, item["kpi"], lang, first=points["period_start"].iloc[0],
                                  last=points["period_start"].iloc[-1] + dt.timedelta(days=6)))
    if height is not None:
        figure.update_layout(height=height)
    return figure


def chart_images(content: dict, lang: str) -> dict[str, bytes]:
    """A JPEG of every exception's chart, keyed by agenda item key, from the image cache or
    rendered together in one browser session. An image is cached under the item's own chart
    data and language, so a warm pack builds no figure at all. JPEG rather than PNG:
    WeasyPrint embeds a JPEG as it is, while a PNG with alpha is decoded and re-compressed
    twice, which tripled the PDF's rendering time."""
    items = [item for item in content["agenda"]["exceptions"]
             if item.get("chart") and item["chart"].get("points")]
    effects = content["agenda"].get("effects") or {"items": [], "markers": []}
    changes = effects["markers"]
    figures = [(json.dumps([lang, item["kpi"], item.get("target"), item["chart"],
                            chart_labels(lang, item["kpi"]), kpi_unit(item["kpi"], lang),
                            [change for change in changes
                             if change["unit_code"] == item["unit_code"]]],
                           sort_keys=True, default=str),
                lambda item=item: item_figure(item, lang, height=CHART_HEIGHT, changes=changes))
               for item in items]
    judged = [(change, row) for change in effects["items"]
              if (row := chart_row(change)) is not None]
    figures += [(json.dumps(["effect", lang, change["title"], change["date"], row],
                            sort_keys=True, default=str),
                 functools.partial(effect_figure, change, row, lang, height=CHART_HEIGHT))
                for change, row in judged]
    images = charts.cached_images(figures, image_format="jpg", width=CHART_WIDTH,
                                  height=CHART_HEIGHT, scale=CHART_SCALE)
    keys = [item["key"] for item in items] + [change["key"] for change, _ in judged]
    return dict(zip(keys, images, strict=True))


def _data_uri(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


# -- the three files ---------------------------------------------------------------------------
def _environment() -> Environment:
    # Autoescape explicitly: unit names, minutes and action titles come from files and people,
    # and select_autoescape() does not recognise a template named *.html.j2.
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                       trim_blocks=True, lstrip_blocks=True)


def render_html(view: dict, lang: str, images: dict[str, bytes] | None = None) -> str:
    """The pack as one self-contained HTML document (CSS inline, charts as data URIs)."""
    images = images or {}
    for item in view["exceptions"] + (view.get("effects") or []):
        item["image"] = _data_uri(images[item["key"]]) if item["key"] in images else None
    css = (TEMPLATES / STYLESHEET).read_text(encoding="utf-8")
    template = _environment().get_template(TEMPLATE)
    return template.render(v=view, css=css, t=lambda key, **params: t(key, lang, **params),
                           colours=STATUS_COLOURS, symbols=STATUS_SYMBOLS)


def render_pdf(html: str) -> bytes:
    """WeasyPrint's PDF of the pack's HTML (A4, print CSS of the same stylesheet). The pack's
    only resources are its own `data:` images: every other URL (http, file, …) that markup in
    a unit name or a minute might name is refused, never fetched."""
    # On use: WeasyPrint loads pango and its fonts, which only a PDF needs.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False)
    return HTML(string=html, base_url=str(TEMPLATES), url_fetcher=fetcher).write_pdf()


Block = tuple[list[str], list[list]]  # a table of a sheet: its header row, its rows


def _sheet_frames(view: dict, content: dict, lang: str) -> list[tuple[str, list[Block]]]:
    """(sheet name, its tables) of the workbook; numbers stay numbers. Every sheet is one table
    but the minutes: the attendees, the meeting's decisions and the agenda items' notes are
    three, each under its own header row (issue 22: they stood under one "Note" header)."""
    agenda = content["agenda"]
    minutes = content.get("minutes") or {}

    def h(key: str) -> str:
        return t(f"pack.col_{key}", lang)

    scorecard = [[row["unit_code"], unit_label(row["unit_code"], row.get("unit_name"), lang),
                  kpi_name(row["kpi"], lang), row.get("value"), row.get("target"),
                  status_text(row.get("status") or "none", lang) if not is_missing(row.get("value"))
                  else t("pack.no_value", lang),
                  row.get("prev_value"), row.get("change"), row.get("n")]
                 for row in agenda["scorecard"]]
    exceptions = []
    for item in agenda["exceptions"]:
        noted = minutes.get("items", {}).get(item["key"], {})
        exceptions.append([
            item["unit_code"], unit_label(item["unit_code"], item.get("unit_name"), lang),
            kpi_name(item["kpi"], lang), item.get("value"), item.get("target"),
            status_text(item.get("status") or "none", lang), item.get("change"),
            reasons_text(item, lang), signal_words(item.get("signals") or [], lang),
            noted.get("note", ""), noted.get("decision", "")])
    actions = [[a["action_id"], a["title"], a["unit_code"],
                unit_label(a["unit_code"], a.get("unit_name"), lang), a["responsible"],
                dt.date.fromisoformat(a["due_date"]),
                kpi_name(a["kpi"], lang) if a.get("kpi") else "", a["raised_week"],
                t(f"action.status_{a['status']}", lang),
                t("action.overdue", lang) if a.get("overdue") else "",
                next((e["comment"] for e in reversed(a.get("history") or []) if e.get("comment")),
                     "")]
               for a in agenda["carried_actions"] + agenda["new_actions"]]
    satisfaction = agenda.get("satisfaction") or {"rows": []}
    skm = [[row["unit_code"], unit_label(row["unit_code"], row.get("unit_name"), lang),
            row.get("n"), row.get("ikm"), row.get("grade"),
            t(f"grade.{row['grade']}", lang) if row.get("grade") else "", row.get("min_sample"),
            t("pack.yes", lang) if row.get("sample_ok") else t("pack.no", lang),
            row.get("prev_ikm")] for row in satisfaction["rows"]]
    sheets = [
        (t("pack.sheet_scorecard", lang),
         [h("code"), h("unit"), h("kpi"), h("value"), h("target"), h("status"), h("previous"),
          h("change"), h("n")], scorecard),
        (t("pack.sheet_exceptions", lang),
         [h("code"), h("unit"), h("kpi"), h("value"), h("target"), h("status"), h("change"),
          h("reason"), h("signals"), h("note"), h("decision")], exceptions),
        (t("pack.sheet_actions", lang),
         [h("id"), h("action"), h("code"), h("unit"), h("responsible"), h("due"), h("kpi"),
          h("raised"), h("status"), h("overdue"), h("comment")], actions),
        (t("pack.sheet_skm", lang),
         [h("code"), h("unit"), h("respondents"), h("ikm"), h("grade"), h("grade_label"),
          h("min_sample"), h("sample_ok"), h("prev_ikm")], skm),
    ]
    effects = (agenda.get("effects") or {}).get("items")
    if effects is not None:
        sheets.append((t("effect.sheet", lang),
                       [t(f"effect.col_{key}", lang) for key in (
                           "date", "unit", "change", "kpi", "verdict", "in_words", "before",
                           "after")] + [h("by"), h("id")],
                       [[dt.date.fromisoformat(item["date"]),
                         unit_label(item["unit_code"], item.get("unit_name"), lang),
                         item["title"], kpi_name(row["kpi"], lang),
                         t(f"effect.verdict.{row['verdict']}", lang), describe(row, lang),
                         row["before_n"], row["after_n"], item["recorded_by"],
                         item.get("action_id")]
                        for item in effects for row in item["rows"]]))
    tables: list[tuple[str, list[Block]]] = [(name, [(headers, rows)])
                                            for name, headers, rows in sheets]
    if view["minutes"]:
        minutes_view = view["minutes"]
        blocks: list[Block] = [
            ([t("pack.attendees", lang)], [[name] for name in minutes_view["attendees"]]),
            ([t("review.decisions", lang)],
             [[minutes_view["decisions"]]] if minutes_view["decisions"] else [])]
        if minutes_view["entries"]:
            blocks.append(([h("item"), h("note"), h("decision")],
                           [[entry["item"], entry["note"], entry["decision"]]
                            for entry in minutes_view["entries"]]))
        tables.append((t("pack.sheet_minutes", lang), blocks))
    record = [[t("pack.record_status", lang), view["status_line"]]]
    record += [[t("pack.checksum", lang), view["checksum"]]] if view["checksum"] else []
    record += [[t("audithead.label", lang), view["audit_head"]]] if view["audit_head"] else []
    tables.append((t("audithead.sheet", lang),
                   [([t("audithead.col_item", lang), t("audithead.col_value", lang)], record)]))
    return tables


# Number formats of the workbook's numeric columns, by header key.
def _kpi_number_format(kpi_label_to_code: dict[str, str], label: str) -> str:
    code = kpi_label_to_code.get(label)
    decimals = KPIS[code].decimals if code else 2
    return "#,##0" + ("." + "0" * decimals if decimals else "")


def render_xlsx(view: dict, content: dict, lang: str) -> bytes:
    """The workbook: one formatted sheet each for scorecard, exceptions, actions and SKM (and
    the minutes when there are any); bold header (frozen, with filters, on a one-table sheet),
    widths, status colours."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "nan_inf_to_errors": True})
    formats = _BookFormats(book, lang)
    for sheet_name, blocks in _sheet_frames(view, content, lang):
        sheet = book.add_worksheet(sheet_name[:31])
        widths = [0] * max(len(headers) for headers, _ in blocks)
        top = 0  # the row of a table's header; one empty row between tables
        for headers, rows in blocks:
            formats.write_block(sheet, top, headers, rows, widths)
            top += len(rows) + 2
        for c, width in enumerate(widths):
            sheet.set_column(c, c, min(max(width + 2, 8), 62))
        if len(blocks) == 1:  # one table: its header stays in view, with filters
            headers, rows = blocks[0]
            sheet.freeze_panes(1, 0)
            sheet.autofilter(0, 0, max(len(rows), 1), len(headers) - 1)
    book.close()
    return buffer.getvalue()


class _BookFormats:
    """The workbook's cell formats, and writing one table of a sheet with them."""

    def __init__(self, book: xlsxwriter.Workbook, lang: str) -> None:
        self.book = book
        self.header = book.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1,
                                       "text_wrap": True, "valign": "top"})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self.date = book.add_format({"num_format": "yyyy-mm-dd", "valign": "top"})
        self.status = {status: book.add_format({"bg_color": _tint(colour), "valign": "top"})
                       for status, colour in STATUS_COLOURS.items()}
        self.numbers: dict[str, Any] = {}
        self.kpi_codes = {kpi_name(code, lang): code for code in KPIS}
        self.status_words = {status_text(s, lang): s for s in STATUS_SYMBOLS}

    def write_block(self, sheet: Any, top: int, headers: list[str], rows: list[list],
                    widths: list[int]) -> None:
        """One table from row `top`: its header, then its rows; `widths` grows to the widest
        cell of each column."""
        sheet.write_row(top, 0, headers, self.header)
        for c, value in enumerate(headers):
            widths[c] = max(widths[c], len(str(value)))
        for r, row in enumerate(rows, start=top + 1):
            kpi_label = next((cell for cell in row if cell in self.kpi_codes), None)
            pattern = _kpi_number_format(self.kpi_codes, kpi_label) if kpi_label else "#,##0.00"
            number = self.numbers.setdefault(pattern, self.book.add_format(
                {"num_format": pattern, "valign": "top"}))
            for c, cell in enumerate(row):
                if is_missing(cell):
                    sheet.write_blank(r, c, None)
                elif isinstance(cell, bool):
                    sheet.write_string(r, c, str(cell))
                elif isinstance(cell, int | float):
                    sheet.write_number(r, c, cell, number if isinstance(cell, float) else None)
                elif isinstance(cell, dt.date):
                    sheet.write_datetime(r, c, dt.datetime.combine(cell, dt.time()), self.date)
                elif cell in self.status_words:
                    sheet.write_string(r, c, cell, self.status[self.status_words[cell]])
                else:
                    sheet.write_string(r, c, str(escape_cell(str(cell))), self.wrap)
                widths[c] = max(widths[c], min(len(str(cell)), 60))


def _tint(colour: str, amount: float = 0.75) -> str:
    """`colour` mixed with white (a pale cell background that keeps black text readable)."""
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    mix = [round(c + (255 - c) * amount) for c in (red, green, blue)]
    return "#" + "".join(f"{c:02X}" for c in mix)


@dataclass(frozen=True)
class Pack:
    """A rendered review pack."""

    week: str
    lang: str
    html: str
    pdf: bytes
    xlsx: bytes

    def files(self) -> dict[str, bytes]:
        """File name → content of the three files."""
        stem = pack_name(self.week)
        return {f"{stem}.pdf": self.pdf, f"{stem}.xlsx": self.xlsx,
                f"{stem}.html": self.html.encode("utf-8")}


def build_pack(content: dict, lang: str, *, today: dt.date | None = None,
               with_charts: bool = True) -> Pack:
    """The pack of one review's content (see kpi.review.review_content) in `lang`."""
    view = pack_view(content, lang, today=today)
    images = chart_images(content, lang) if with_charts else {}
    html = render_html(view, lang, images)
    return Pack(week=content["week"], lang=lang, html=html, pdf=render_pdf(html),
                xlsx=render_xlsx(view, content, lang))


def write_pack(store: Reader, week: str, out_dir: str | Path, lang: str | None = None) -> list[Path]:
    """Write review-<week>.pdf/.xlsx/.html of `week` into `out_dir`; returns their paths."""
    lang = lang or config.default_language()
    # No browser session up front: charts whose images are cached (charts.cached_images) need
    # none, and the browser starts only for the ones that are not.
    pack = build_pack(review.review_content(store, week), lang)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in pack.files().items():
        path = folder / name
        temporary = path.with_name(path.name + ".part")
        temporary.write_bytes(data)
        temporary.replace(path)  # never a half-written file under the final name
        paths.append(path)
    return paths
