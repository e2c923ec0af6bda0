"""Printable QR posters of the units' public SKM forms (issue 24): A4 or A5, one page per unit,
with the unit's name, the QR code of its form's address (segno), the short link and a one-line
invitation in both languages. A PDF of one unit, or of every unit of a scope in one file, set
by WeasyPrint like the review pack (kpi.pack.render_pdf).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import segno
from jinja2 import Environment, FileSystemLoader

from kpi import config
from kpi.errors import InputRejected
from kpi.i18n import LANGUAGES, t
from kpi.pack import TEMPLATES, render_pdf
from kpi.survey_links import UnitLink

SIZES = ("A4", "A5")
TEMPLATE = "survey_poster.html.j2"
# Error correction Q (25 % of the code may be lost): a poster at a counter gets scratched,
# creased and taped over.
QR_ERROR = "q"


def check_size(size: str) -> str:
    if size not in SIZES:
        raise InputRejected("survey.bad_size")
    return size


def qr_svg(url: str) -> str:
    """The QR code of `url` as an SVG data URI (vector: sharp at any print size)."""
    return segno.make(url, error=QR_ERROR, micro=False).svg_data_uri(border=4, dark="#000",
                                                                       light="#fff")


def posters_html(links: Sequence[UnitLink], size: str) -> str:
    """One page per unit, in the order given."""
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                              trim_blocks=True, lstrip_blocks=True)
    texts = {lang: {key: t(f"posters.{key}", lang) for key in ("invite", "or_type", "anonymous")}
             for lang in LANGUAGES}
    return environment.get_template(TEMPLATE).render(
        size=check_size(size), city=config.city_name(), texts=texts,
        posters=[{"name": link.name, "code": link.unit_code, "url": link.url,
                  "short": link.url.split("://", 1)[-1], "qr": qr_svg(link.url)}
                 for link in links])


def posters_pdf(links: Sequence[UnitLink], size: str) -> bytes:
    """The posters of `links` as one PDF."""
    if not links:
        raise InputRejected("survey.no_units")
    return render_pdf(posters_html(links, size))


def write_posters(links: Sequence[UnitLink], folder: Path, sizes: Sequence[str]) -> list[Path]:
    """poster-<unit>-<size>.pdf for each unit and size, and posters-<size>.pdf with every unit
    when there are several; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for size in sizes:
        for link in links:
            path = folder / f"poster-{_file_part(link.unit_code)}-{size}.pdf"
            path.write_bytes(posters_pdf([link], size))
            written.append(path)
        if len(links) > 1:
            path = folder / f"posters-{size}.pdf"
            path.write_bytes(posters_pdf(links, size))
            written.append(path)
    return written


def _file_part(code: str) -> str:
    """A unit code as part of a file name (codes come from files: keep letters, digits, - _)."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in code) or "unit"
