"""Words and numbers as the dashboard and the review pack show them: KPI names, formatted
values, status words.

One place for these so that every page (and every chart label) says the same thing the same
way, in the reader's language: Indonesian `26,8 menit`, `90,7 %`; English `26.8 min`, `90.7%`.
Status is always an icon plus a word, never a colour alone.
"""

from __future__ import annotations

from babel.dates import get_day_names

from kpi.charts import STATUS_ICONS, STATUS_SYMBOLS, STATUS_TEXT_COLOURS
from kpi.i18n import fmt_date, fmt_int, fmt_number, fmt_percent, is_missing, locale_of, t
from kpi.spc import MIN_POINTS_FOR_FIRM_LIMITS, MIN_POINTS_FOR_LIMITS
from kpi.vocabulary import KPIS


def kpi_name(kpi: str, lang: str) -> str:
    """The KPI's full name (`Waktu pelayanan (median)`)."""
    return t(f"kpi.{kpi}.name", lang)


def kpi_short(kpi: str, lang: str) -> str:
    """A short name for column headers (`Waktu layanan`)."""
    return t(f"kpi.{kpi}.short", lang)


def kpi_help(kpi: str, lang: str) -> str:
    """What the KPI measures and which way is better."""
    better = "status_ui.higher_better" if KPIS[kpi].better == "higher" else "status_ui.lower_better"
    return f"{t(f'kpi.{kpi}.description', lang)} {t(better, lang)}"


def format_value(kpi: str, value: float | None, lang: str, *, unit: bool = True,
                 decimals: int | None = None) -> str:
    """A KPI value with its decimals (or `decimals`) and unit in the language's convention;
    `—` when absent."""
    if is_missing(value):
        return "—"
    info = KPIS[kpi]
    places = info.decimals if decimals is None else decimals
    if info.unit == "percent":
        return fmt_percent(value, lang, places) if unit else fmt_number(value, lang, places)
    text = fmt_number(value, lang, places)
    if unit and info.unit == "minutes":
        return t("charts.measure.minutes", lang, value=text)
    return text


def name_and_code(name: str, code: str) -> str:
    """`Poli umum (UMUM)`: a name with its code, once; a name that already ends with its code
    in brackets (`Surat Keterangan Tidak Mampu (SKTM)`) is shown as it is."""
    if name.rstrip().lower().endswith(f"({code.lower()})"):
        return name
    return f"{name} ({code})"


def value_and_target(kpi: str, value: float | None, target: float | None,
                     lang: str) -> tuple[str, str]:
    """A value and its target written with enough decimals that they differ when they do
    (84.99 against 85 reads "84,99 %" and "85,00 %", never "85,0 %" twice beside "near
    target"); at most three more decimals than the KPI's own."""
    decimals = KPIS[kpi].decimals
    if not is_missing(value) and not is_missing(target) and value != target:
        while (decimals < KPIS[kpi].decimals + 3
               and format_value(kpi, value, lang, decimals=decimals)
               == format_value(kpi, target, lang, decimals=decimals)):
            decimals += 1
    return (format_value(kpi, value, lang, decimals=decimals),
            format_value(kpi, target, lang, decimals=decimals))


def format_change(kpi: str, change: float | None, lang: str) -> str:
    """A signed change (`+1,2`, `-3`) with the KPI's decimals; empty when absent."""
    if is_missing(change):
        return ""
    text = format_value(kpi, abs(change), lang, unit=False)
    if round(change, KPIS[kpi].decimals) == 0:
        return text
    return ("+" if change > 0 else "-") + text


def change_direction(kpi: str, change: float | None) -> str | None:
    """"better", "worse" or "same" for a change of the KPI; None when there is none."""
    if is_missing(change):
        return None
    if round(change, KPIS[kpi].decimals) == 0:  # no change at the precision shown
        return "same"
    improved = change > 0 if KPIS[kpi].better == "higher" else change < 0
    return "better" if improved else "worse"


def change_words(kpi: str, change: float | None, lang: str) -> str:
    """`worse than the previous period` and the like: the meaning of a change, in words."""
    direction = change_direction(kpi, change)
    if direction is None:
        return t("status_ui.change_none", lang)
    if direction == "same":
        return t("status_ui.change_same", lang)
    return t("status_ui.change_vs_previous", lang, direction=t(f"status_ui.{direction}", lang))


def status_word(status: str, lang: str, *, has_value: bool = True) -> str:
    """`Off target`, `Near target`, …; `No data` for a KPI without a value."""
    return t(f"status.{status}", lang) if has_value else t("status_ui.no_data", lang)


def status_icon(status: str) -> str:
    return STATUS_ICONS.get(status, STATUS_ICONS["none"])


def status_symbol(status: str) -> str:
    return STATUS_SYMBOLS.get(status, STATUS_SYMBOLS["none"])


def status_markdown(status: str, lang: str, *, has_value: bool = True) -> str:
    """Markdown of a status: coloured icon and word (`:red[:material/cancel: Off target]`)."""
    colour = STATUS_TEXT_COLOURS.get(status, "gray")
    return f":{colour}[{status_icon(status)} {status_word(status, lang, has_value=has_value)}]"


def status_text(status: str, lang: str, *, has_value: bool = True) -> str:
    """Plain text of a status for tables and downloads: symbol and word (`✕ Off target`)."""
    return f"{status_symbol(status)} {status_word(status, lang, has_value=has_value)}"


def variation_word(variation: str | None, lang: str) -> str:
    """The SPC reading of the latest point in words (NHS "Making Data Count")."""
    return t(f"spc.variation.{variation}", lang) if variation else t("status_ui.variation_none", lang)


def assurance_word(assurance: str | None, lang: str) -> str:
    return t(f"spc.assurance.{assurance}", lang) if assurance else t("status_ui.assurance_none", lang)


def signal_words(signals: list[str], lang: str) -> str:
    return "; ".join(t(f"spc.signal.{signal}", lang) for signal in signals)


def spc_caption(kpi: str, chart: dict, lang: str, *, window: str) -> str:
    """The words under a unit's XmR chart (`chart`: kpi.spc.spc_series' dict): the centre and
    limits of the latest segment and how many points they rest on, and "trial" exactly where
    the contract says it (limits resting on fewer than 12 points); the markers' meaning."""
    if chart["ucl"] is None:
        limits = t("unitpage.spc_no_limits", lang,
                   centre=format_value(kpi, chart["centre"], lang),
                   points=fmt_int(len(chart["points"]), lang), window=window,
                   least=fmt_int(MIN_POINTS_FOR_LIMITS, lang))
    else:
        segments = chart["segments"]
        span = (t("unitpage.spc_since", lang, date=fmt_date(segments[-1]["start"], lang))
                if len(segments) > 1 else window)
        limits = t("unitpage.spc_limits", lang, centre=format_value(kpi, chart["centre"], lang),
                   lcl=format_value(kpi, chart["lcl"], lang),
                   ucl=format_value(kpi, chart["ucl"], lang),
                   basis=fmt_int(chart["baseline"], lang), span=span)
    sentences = [limits]
    firm = fmt_int(MIN_POINTS_FOR_FIRM_LIMITS, lang)
    if chart["trial"] and chart["ucl"] is not None:
        sentences.append(t("unitpage.spc_trial", lang, firm=firm))
    elif any(segment["trial"] and segment["ucl"] is not None for segment in chart["segments"]):
        sentences.append(t("unitpage.spc_earlier_trial", lang, firm=firm))
    sentences.append(t("unitpage.spc_markers", lang))
    return " ".join(sentences)


def kpi_unit(kpi: str, lang: str) -> str:
    """The unit a KPI is measured in (`min`, `%`), for axis titles."""
    return t(f"kpi.{kpi}.unit", lang)


def weekday_names(lang: str) -> list[str]:
    """The seven abbreviated day names, Monday first, in the language."""
    names = get_day_names("abbreviated", locale=locale_of(lang))
    return [names[day] for day in range(7)]


# Glyphs in the spirit of NHS "Making Data Count": variation (grey common cause, orange concern,
# blue improvement; the arrow says whether the latest point is high or low) and assurance
# (blue pass, orange fail, grey hit and miss). Always shown with their words.
VARIATION_BADGE_COLOURS = {"common": "gray", "concern": "orange", "improvement": "blue"}
ASSURANCE_BADGE_COLOURS = {"pass": "blue", "fail": "orange", "hit_and_miss": "gray"}


def variation_icon(variation: str | None, side: str) -> str:
    """`side` is "high" or "low": where the latest point lies against the centre."""
    if variation in ("concern", "improvement"):
        return ":material/trending_up:" if side == "high" else ":material/trending_down:"
    if variation == "common":
        return ":material/trending_flat:"
    return ":material/more_horiz:"


def assurance_icon(assurance: str | None) -> str:
    return {"pass": ":material/verified:", "fail": ":material/report:",
            "hit_and_miss": ":material/swap_vert:"}.get(assurance or "", ":material/remove:")
