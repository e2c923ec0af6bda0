"""The public routes and their background work (see web/__init__.py).

- GET  /skm/<token>               the unit's SKM form (Bahasa Indonesia; `?lang=en` English)
- POST /skm/<token>               a submission: judged, then accepted into the intake queue
- GET  /skm/<token>/terima-kasih  the thank-you page
- GET  /publik, /publik.csv       the published units' SKM results (kpi.publication)

The handlers read the request in the event loop and do everything that touches the store in a
worker thread (Starlette's thread pool), so the dashboard's sessions on the same loop never wait
for them. Every refusal is a page of its own in the respondent's language; an unexpected error
is a polite page too, logged without the request's content.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import secrets
import threading
import urllib.parse
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from jinja2 import Environment, FileSystemLoader
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from kpi import config, publication, survey_form, survey_links, survey_queue
from kpi.errors import KinerjaError, StoreMissing
from kpi.i18n import LANGUAGES, fmt_number, t
from kpi.store import Store
from kpi.vocabulary import U_COLUMNS

_LOG = logging.getLogger("kinerja.web")
TEMPLATES = Path(__file__).with_name("templates")
DEFAULT_LANG = "id"  # citizens read Bahasa Indonesia first; English is one tap away
FORM_MAX_AGE = 4 * 3600  # seconds a form stays valid after it was opened
_CSRF_SALT = "kinerja-skm-form"
_HEADERS = {
    # Nothing to run and nothing to fetch: only the page's own inline style and data: images.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the form's address carries the unit's token
    "Cache-Control": "no-store",
}


# -- the store, the intake and the templates (one of each per process) --------------------------
@functools.cache
def _store() -> Store:
    return Store(config.store_location(), busy_timeout=config.busy_timeout())


@functools.cache
def _intake() -> survey_queue.Intake:
    return survey_queue.Intake(_store())


@functools.cache
def _environment() -> Environment:
    # Autoescape explicitly: select_autoescape() does not recognise *.html.j2, and unit names,
    # service names and the respondent's own text all come from outside.
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                       trim_blocks=True, lstrip_blocks=True)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_intake().secret(), salt=_CSRF_SALT)


def _language(request: Request) -> str:
    lang = request.query_params.get("lang", DEFAULT_LANG)
    return lang if lang in LANGUAGES else DEFAULT_LANG


def _page(name: str, lang: str, status: int = 200, **view: Any) -> HTMLResponse:
    html = _environment().get_template(f"{name}.html.j2").render(
        lang=lang, t=lambda key, **params: t(key, lang, **params),
        other_lang="en" if lang == "id" else "id", **view)
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def _refused(lang: str, reason: str, status: int, **view: Any) -> HTMLResponse:
    """A polite page saying why nothing was kept (`skmform.refused.<reason>`)."""
    return _page("refused", lang, status, reason=reason, **view)


def _polite(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
    """Every failure of `handler` becomes a page, never a traceback."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        lang = _language(request)
        try:
            return await handler(request)
        except KinerjaError as error:
            _LOG.warning("public page %s: %s", request.url.path.split("/")[1], error)
            return _refused(lang, "unavailable", 503)
        except Exception:
            _LOG.exception("public page %s failed", request.url.path.split("/")[1])
            return _refused(lang, "unavailable", 500)

    return wrapped


# -- the form ----------------------------------------------------------------------------------
def _form_view(unit: survey_links.FormUnit) -> dict[str, Any]:
    return {"unit_code": unit.unit_code, "unit_name": unit.name, "services": unit.services,
            "elements": U_COLUMNS, "answers": survey_form.ANSWERS,
            "genders": survey_form.GENDERS, "education": survey_form.EDUCATION,
            "occupations": survey_form.OCCUPATIONS, "age_range": survey_form.AGE_RANGE,
            "limits": survey_form.FIELD_LIMITS, "honeypot": survey_form.HONEYPOT_FIELD,
            "csrf_field": survey_form.CSRF_FIELD}


def _unit_or_refusal(lang: str, token: str) -> survey_links.FormUnit | HTMLResponse:
    """The unit whose form `token` opens, or the page refusing an unknown or revoked token
    (the form, the answer sent to it and the thank-you page alike). Reads the store: call it in
    the thread pool from a route."""
    unit = survey_links.form_unit(_store(), token)
    return _refused(lang, "unknown_form", 404) if unit is None else unit


def _new_csrf(unit_code: str) -> str:
    return _serializer().dumps([unit_code, secrets.token_urlsafe(12)])


@_polite
async def form_page(request: Request) -> Response:
    lang = _language(request)
    token = request.path_params["token"]
    unit = await run_in_threadpool(_unit_or_refusal, lang, token)
    if isinstance(unit, Response):
        return unit
    return _page("form", lang, token=token, csrf=_new_csrf(unit.unit_code), values={},
                 problems={}, **_form_view(unit))


async def _body(request: Request, limit: int) -> bytes | None:
    """The request body, or None when it is larger than `limit` bytes (read no further)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > limit:
            return None
    return bytes(received)


def _csrf_unit(token: str) -> tuple[str, str] | None:
    """(unit code, nonce) of a valid, unexpired form token, else None."""
    try:
        unit_code, nonce = _serializer().loads(token, max_age=FORM_MAX_AGE)
    except (SignatureExpired, BadSignature, ValueError, TypeError):
        return None
    return str(unit_code), str(nonce)


@_polite
async def submit(request: Request) -> Response:
    lang = _language(request)
    token = request.path_params["token"]
    body = await _body(request, survey_form.MAX_BODY_BYTES)
    if body is None:
        return _refused(lang, "too_large", 413, token=token)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return _refused(lang, "bad_request", 400, token=token)
    try:
        form = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True,
                                     strict_parsing=False, max_num_fields=60)
    except (UnicodeDecodeError, ValueError):
        return _refused(lang, "bad_request", 400, token=token)
    client = request.client.host if request.client else "unknown"
    return await run_in_threadpool(_judge_and_accept, lang, token, form, client)


def _judge_and_accept(lang: str, token: str, form: dict[str, list[str]],
                      client: str) -> Response:
    unit = _unit_or_refusal(lang, token)
    if isinstance(unit, Response):
        return unit
    unit_code = unit.unit_code
    if any(value.strip() for value in form.get(survey_form.HONEYPOT_FIELD, [])):
        return _refused(lang, "not_accepted", 400, token=token)
    signed = _csrf_unit(form.get(survey_form.CSRF_FIELD, [""])[0])
    if signed is None or signed[0] != unit_code:
        return _refused(lang, "expired", 403, token=token)
    fields = {name: values for name, values in form.items()
              if name not in (survey_form.CSRF_FIELD, survey_form.HONEYPOT_FIELD)}
    judged = survey_form.check(fields, [code for code, _ in unit.services])
    if not judged.ok:  # the form again, with what was given and what is missing
        return _page("form", lang, 400, token=token, csrf=_new_csrf(unit_code),
                     values=judged.values, problems=judged.problems, **_form_view(unit))
    outcome = _intake().accept(unit_code, client, signed[1], judged.row, judged.occupation)
    if outcome == "rate_limited":
        return _refused(lang, "rate_limited", 429, token=token)
    if outcome == "used":
        return _refused(lang, "already_sent", 409, token=token)
    return RedirectResponse(f"{survey_links.FORM_PATH}/{token}/terima-kasih?lang={lang}",
                            status_code=303, headers=_HEADERS)


@_polite
async def thanks_page(request: Request) -> Response:
    lang = _language(request)
    token = request.path_params["token"]
    unit = await run_in_threadpool(_unit_or_refusal, lang, token)
    if isinstance(unit, Response):
        return unit
    return _page("thanks", lang, token=token, unit_name=unit.name,
                 published=await run_in_threadpool(_is_published, unit.unit_code))


def _is_published(unit_code: str) -> bool:
    return any(code == unit_code for code, _ in survey_links.published(_store()))


# -- the published results ---------------------------------------------------------------------
def _results(request: Request, lang: str) -> publication.PublicResults:
    period = request.query_params.get("period", "")[:16]
    store = _store()
    return _results_at(store.path, store.data_version(), config.local_today(),
                       period if publication.parse_period(period) else "", lang)


@functools.lru_cache(maxsize=64)
def _results_at(db: str, version: int, today: dt.date, period: str,
                lang: str) -> publication.PublicResults:
    """The results of one data version of the store `db` on `today`: anyone may ask for the
    page, so each period and language is computed once per version, not once per request."""
    return publication.public_results(_store(), period, lang, today=today)


@_polite
async def results_page(request: Request) -> Response:
    lang = _language(request)
    results = await run_in_threadpool(_results, request, lang)
    return _page("publik", lang, r=results, number=lambda value, decimals=2: fmt_number(
        value, lang, decimals))


@_polite
async def results_csv(request: Request) -> Response:
    lang = _language(request)
    results = await run_in_threadpool(_results, request, lang)
    name = f"ikm-{results.period.key}.csv"
    return Response(publication.results_csv(results, lang), media_type="text/csv; charset=utf-8",
                    headers={**_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})


def routes() -> list[BaseRoute]:
    form = survey_links.FORM_PATH
    return [
        Route(f"{form}/{{token}}", form_page, methods=["GET"]),
        Route(f"{form}/{{token}}", submit, methods=["POST"]),
        Route(f"{form}/{{token}}/terima-kasih", thanks_page, methods=["GET"]),
        Route(survey_links.PUBLIC_RESULTS_PATH, results_page, methods=["GET"]),
        Route(f"{survey_links.PUBLIC_RESULTS_PATH}.csv", results_csv, methods=["GET"]),
    ]


# -- the background work -----------------------------------------------------------------------
def _flush_forever(stop: threading.Event) -> None:
    """Move accepted answers into the lake every few seconds until `stop`; once a minute forget
    the rate limit's old hits and the used forms' old tokens."""
    rounds = 0
    interval = survey_queue.flush_seconds()
    while not stop.wait(interval):
        rounds += 1
        try:
            intake = _intake()
            intake.flush()
            if rounds % max(1, int(60 / interval)) == 0:
                intake.prune(FORM_MAX_AGE)
        except StoreMissing:  # no store yet (`make run` creates one): nothing can be queued
            continue
        except Exception:  # the next round tries again; the answers wait in the queue
            _LOG.exception("moving public form answers into the store failed")


@asynccontextmanager
async def lifespan(_app: object) -> AsyncIterator[None]:
    """Start the flusher with the server and stop it with it (a last flush on the way out)."""
    stop = threading.Event()
    worker = threading.Thread(target=_flush_forever, args=(stop,), name="kinerja-survey-flush",
                              daemon=True)
    worker.start()
    try:
        yield
    finally:
        stop.set()
        await run_in_threadpool(worker.join, 30)
        try:
            await run_in_threadpool(lambda: _intake().flush())
        except StoreMissing:
            pass
        except Exception:
            _LOG.exception("the last flush of public form answers failed; they stay queued")
