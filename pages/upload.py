"""Upload data: drop CSV/XLSX files, map their columns, validate, then commit.

Nothing is written before Commit: validation is a dry run of the import, so leaving the page
half-way leaves the store as it was. An uploaded file lives in memory; for each read (header,
preview, check, import, rejected rows) it is copied to a temporary folder (keeping its name,
hence its suffix), which is deleted as soon as that read is done, so nothing is left behind when
the session ends.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import streamlit as st

from kpi import config, mappings
from kpi.errors import FileRejected, KinerjaError
from kpi.exports import to_csv_bytes
from kpi.i18n import fmt_int, fmt_number
from kpi.ingest import ingest_file
from kpi.sources import read_columns
from kpi.vocabulary import KINDS, REQUIRED
from ui.data import forget_version, load
from ui.guard import guard
from ui.problems import show_counts, show_problems
from ui.text import md

ctx = guard("upload")

AUTO = "auto"        # the kind chooser's "detect from the columns"
DROP = "__drop__"    # a mapping choice: leave the column out
UNCHOSEN = ""        # a mapping choice: not decided (the import reports the column as extra)
MEGABYTE = 1024 * 1024
SERVER_LIMIT_OPTION = "server.maxUploadSize"  # .streamlit/config.toml


def kind_label(kind: str) -> str:
    return ctx.t(f"upload.kind_{kind}")


def target_label(kind: str):
    required = set(REQUIRED[kind])

    def label(choice: str) -> str:
        if choice == UNCHOSEN:
            return ctx.t("mapping.unchosen")
        if choice == DROP:
            return ctx.t("mapping.drop")
        return f"{choice} *" if choice in required else choice
    return label


def file_size(size: int) -> str:
    """`434 B`, `12.5 KB`, `3.20 MB` in the reader's number format."""
    if size < 1024:
        return ctx.t("upload.size_b", size=fmt_int(size, ctx.lang))
    if size < MEGABYTE:
        return ctx.t("upload.size_kb", size=fmt_number(size / 1024, ctx.lang, 1))
    return ctx.t("upload.size_mb", size=fmt_number(size / MEGABYTE, ctx.lang, 2))


# -- the files of this session ----------------------------------------------------------------
@contextmanager
def staged(upload) -> Iterator[Path]:
    """The upload as a temporary file named like the original, deleted when the block ends."""
    folder = Path(tempfile.mkdtemp(prefix="kinerja-upload-"))
    try:
        path = folder / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# An upload's file_id is new for every file put in the uploader and its bytes never change, so
# it is a safe cache key (the `_upload` argument is not hashed): an XLSX workbook is not read
# again on every rerun.
@st.cache_data(max_entries=32, show_spinner=False)
def columns_of(file_id: str, _upload) -> list[str]:
    """The header of an uploaded file."""
    with staged(_upload) as path:
        return read_columns(path)


@st.cache_data(max_entries=32, show_spinner=False)
def preview_of(file_id: str, _upload) -> pd.DataFrame:
    """The first rows of an uploaded file, cached like its header."""
    with staged(_upload) as path:
        return mappings.read_rows(path, limit=5)


@st.cache_data(max_entries=32, show_spinner=False)
def rejected_of(file_id: str, signature: str, lang: str, _upload, _problems) -> pd.DataFrame:
    """The file's rows that a check rejected (for `signature`, the kind and mapping checked),
    with the reasons in `lang`."""
    with staged(_upload) as path:
        return mappings.rejected_rows(path, _problems, lang)


def forget_removed(uploads) -> None:
    """Drop the reports of files no longer in the uploader."""
    current = {upload.file_id for upload in uploads}
    reports = st.session_state.setdefault("upload_reports", {})
    for file_id in [f for f in reports if f not in current]:
        del reports[file_id]


def sort_key(upload, limit_mb: int) -> int:
    """Files in load order (units before services before events…), by their chosen or
    detected kind; unreadable and oversized files last."""
    kind = st.session_state.get(f"upload_kind_{upload.file_id}")
    if kind is None and upload.size <= limit_mb * MEGABYTE:
        try:
            kind = mappings.guess_kind(columns_of(upload.file_id, upload))
        except KinerjaError:
            kind = None
    return KINDS.index(kind) if kind in KINDS else len(KINDS)


# -- one file ---------------------------------------------------------------------------------
def apply_saved_mapping(prefix: str, columns: list[str], kind: str, saved: dict) -> None:
    """on_change of the saved-mapping chooser: set every column's choice from that mapping."""
    name = st.session_state.get(f"{prefix}_saved")
    if not name:
        return
    chosen = mappings.apply_saved(columns, kind, saved[name])
    for index, column in enumerate(columns):
        target = chosen[column]
        st.session_state[f"{prefix}_{index}"] = target if target else (
            DROP if mappings.normalize(column) in saved_drops(saved[name]) else UNCHOSEN)


def saved_drops(saved: dict) -> set[str]:
    return {mappings.normalize(source) for source, target in saved.items() if target is None}


def mapping_editor(file_id: str, columns: list[str], kind: str) -> dict | None:
    """The column mapping of one file (None when it cannot be used; the reason is shown)."""
    suggested = mappings.suggest(columns, kind)
    if mappings.is_identity(suggested):
        st.caption(ctx.t("mapping.identity"), help=ctx.t("mapping.identity_help"))
        return {}
    prefix = f"upload_map_{file_id}_{kind}"
    saved = {row["name"]: row["mapping"]
             for row in load(mappings.list_mappings, kind=kind).to_dict("records")}
    with st.expander(ctx.t("mapping.title"), expanded=True, icon=":material/swap_horiz:"):
        st.caption(ctx.t("mapping.intro"))
        if saved:
            st.selectbox(ctx.t("mapping.use_saved"), [UNCHOSEN, *saved], key=f"{prefix}_saved",
                         format_func=lambda name: name or ctx.t("mapping.none_saved"),
                         on_change=apply_saved_mapping, args=(prefix, columns, kind, saved))
        options = [UNCHOSEN, DROP, *mappings.contract_columns(kind)]
        grid = st.columns(3)
        for index, column in enumerate(columns):
            key = f"{prefix}_{index}"
            if key not in st.session_state:
                default = suggested[column]
                if default is None and mappings.normalize(column) in mappings.DROP_BY_DEFAULT:
                    default = DROP
                st.session_state[key] = default or UNCHOSEN
            grid[index % 3].selectbox(md(column) or ctx.t("mapping.unnamed"), options, key=key,
                                      format_func=target_label(kind))
        mapping: dict[str, str | None] = {}
        for index, column in enumerate(columns):
            choice = st.session_state[f"{prefix}_{index}"]
            if choice == DROP:
                mapping[column] = None
            elif choice:
                mapping[column] = choice
        try:
            mappings.check_mapping(mapping, kind, undecided=len(columns) - len(mapping))
        except KinerjaError as error:
            st.error(error.localized(ctx.lang), icon=":material/link_off:")
            return None
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        name = left.text_input(ctx.t("mapping.save_as"), key=f"{prefix}_name",
                               placeholder=ctx.t("mapping.save_placeholder"))
        if right.button(ctx.t("mapping.save"), key=f"{prefix}_save", icon=":material/save:",
                        disabled=not name.strip()):
            try:
                mappings.save_mapping(ctx.store, name, kind, mapping, by=ctx.user)
                forget_version()
                st.success(ctx.t("mapping.saved", name=name.strip()), icon=":material/check:")
            except KinerjaError as error:
                st.error(error.localized(ctx.lang))
    return mapping


def run_import(upload, kind: str, mapping: dict, *, dry_run: bool) -> dict:
    """A report of validating (dry_run) or committing one file."""
    try:
        with staged(upload) as path:
            result = ingest_file(ctx.store, kind, path, file_name=upload.name,
                                 loaded_by=ctx.user, column_map=mapping or None, dry_run=dry_run)
    except FileRejected as rejected:
        return {"result": None, "problems": rejected.problems, "committed": False}
    return {"result": result, "problems": result.problems,
            "committed": not dry_run and result.ok and result.batch_id is not None}


def show_report(report: dict, upload, kind: str, mapping: dict) -> None:
    result, problems = report["result"], report["problems"]
    name = Path(upload.name).stem
    if report["committed"]:
        st.success(ctx.t("upload.committed", batch=result.batch_id,
                         inserted=fmt_int(result.inserted, ctx.lang),
                         replaced=fmt_int(result.replaced, ctx.lang)),
                   icon=":material/task_alt:")
        show_counts(result, ctx.lang, committed=True)
        return
    if result is not None:
        show_counts(result, ctx.lang)
    if problems:
        show_problems(problems, ctx.lang, name=f"{name}-problems", key=f"problems-{upload.file_id}")
        rejected = rejected_of(upload.file_id, report["signature"], ctx.lang, upload, problems)
        if len(rejected):
            st.download_button(ctx.t("upload.download_rejected", count=fmt_int(len(rejected), ctx.lang)),
                               to_csv_bytes(rejected), file_name=f"{name}-rejected.csv",
                               mime="text/csv", key=f"rejected-{upload.file_id}",
                               icon=":material/download:", on_click="ignore",
                               help=ctx.t("upload.download_rejected_help"))
        st.caption(ctx.t("upload.nothing_written"))
        return
    st.success(ctx.t("upload.valid", rows=fmt_int(result.rows, ctx.lang)),
               icon=":material/check_circle:")
    if st.button(ctx.t("upload.commit"), key=f"upload_commit_{upload.file_id}", type="primary",
                 icon=":material/cloud_upload:"):
        with st.spinner(ctx.t("upload.committing")):
            committed = run_import(upload, kind, mapping, dry_run=False)
        committed["signature"] = report["signature"]
        st.session_state["upload_reports"][upload.file_id] = committed
        if committed["committed"]:
            forget_version()
        st.rerun()


def file_section(upload, chosen_kind: str, limit_mb: int) -> None:
    file_id = upload.file_id
    with st.container(border=True):
        st.subheader(md(upload.name), anchor=False)
        size = file_size(upload.size)
        if upload.size > limit_mb * MEGABYTE:
            st.error(ctx.t("upload.too_large", file=md(upload.name), size=size,
                           limit=fmt_int(limit_mb, ctx.lang)), icon=":material/block:")
            return
        try:
            columns = columns_of(file_id, upload)
        except FileRejected as rejected:
            show_problems(rejected.problems, ctx.lang, name=f"{Path(upload.name).stem}-problems",
                          key=f"problems-{file_id}")
            return
        except KinerjaError as error:
            st.error(error.localized(ctx.lang), icon=":material/error:")
            return
        if chosen_kind == AUTO:
            guessed = mappings.guess_kind(columns)
            kind = st.selectbox(ctx.t("upload.kind_of_file"), KINDS, key=f"upload_kind_{file_id}",
                                index=KINDS.index(guessed) if guessed else None,
                                format_func=kind_label, placeholder=ctx.t("upload.kind_unknown"),
                                help=ctx.t("upload.kind_detected_help"))
            if kind is None:
                st.warning(ctx.t("upload.choose_kind"), icon=":material/help:")
                return
        else:
            kind = chosen_kind
        st.caption(f"{size} · {ctx.t('upload.columns_count', count=fmt_int(len(columns), ctx.lang))}")
        with st.expander(ctx.t("upload.preview"), icon=":material/visibility:"):
            preview = preview_of(file_id, upload).rename(
                columns={"line": ctx.t("upload.col_line")})
            st.dataframe(preview, hide_index=True, width="stretch")
        mapping = mapping_editor(file_id, columns, kind)
        signature = json.dumps([kind, mapping], sort_keys=True)
        reports = st.session_state.setdefault("upload_reports", {})
        if st.button(ctx.t("upload.validate"), key=f"upload_validate_{file_id}",
                     disabled=mapping is None, icon=":material/fact_check:"):
            with st.spinner(ctx.t("upload.validating")):
                report = run_import(upload, kind, mapping or {}, dry_run=True)
            reports[file_id] = {**report, "signature": signature}
        report = reports.get(file_id)
        if mapping is not None and report and report["signature"] == signature:
            show_report(report, upload, kind, mapping)


# -- the page ---------------------------------------------------------------------------------
st.title(ctx.t("upload.title"))
st.write(ctx.t("upload.intro"))
limit_mb = config.upload_limit_mb()

with st.expander(ctx.t("upload.templates"), icon=":material/description:"):
    st.caption(ctx.t("upload.templates_help"))
    buttons = st.columns(len(KINDS))
    for column, kind in zip(buttons, KINDS, strict=True):
        column.download_button(kind_label(kind), to_csv_bytes(mappings.template_frame(kind)),
                               file_name=f"{kind}.csv", mime="text/csv", key=f"template-{kind}",
                               icon=":material/download:", on_click="ignore")

chosen_kind = st.selectbox(ctx.t("upload.kind"), [AUTO, *KINDS], key="upload_kind",
                           format_func=lambda kind: ctx.t("upload.kind_auto") if kind == AUTO
                           else kind_label(kind))
# The browser refuses files over the server's limit with its own English sentence; files between
# our limit and that one reach the page, which says why in the reader's language. A deployment
# that raises KPI_UPLOAD_LIMIT_MB above server.maxUploadSize needs no second setting.
server_limit = max(limit_mb, int(st.get_option(SERVER_LIMIT_OPTION)))
uploads = st.file_uploader(ctx.t("upload.files"), type=["csv", "gz", "xlsx"],
                           accept_multiple_files=True, key="upload_files",
                           max_upload_size=server_limit,
                           help=ctx.t("upload.files_help", limit=fmt_int(limit_mb, ctx.lang)))
forget_removed(uploads or [])
if not uploads:
    st.info(ctx.t("upload.empty"), icon=":material/upload_file:")
elif len(uploads) > 1:
    st.caption(ctx.t("upload.order_hint"))
for upload in sorted(uploads or [], key=lambda upload: sort_key(upload, limit_mb)):
    file_section(upload, chosen_kind, limit_mb)
