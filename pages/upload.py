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

from kpi import config, editor, ingest, mapping_suggestions, row_files, saved_mappings
from kpi.errors import FileRejected, KinerjaError
from kpi.exports import to_csv_bytes
from kpi.i18n import fmt_int, fmt_number
from kpi.ingest import ingest_file
from kpi.sources import read_columns
from kpi.vocabulary import KINDS
from ui import mapping_editor as mapping_editor_ui
from ui.data import forget_version, load
from ui.guard import guard
from ui.problems import show_counts, show_problems
from ui.text import md

ctx = guard("upload")

AUTO = "auto"        # the kind chooser's "detect from the columns"
MEGABYTE = 1024 * 1024
FILE_TYPES = (".csv", ".gz", ".xlsx")  # what kpi.sources reads (a .gz holds a CSV)
SERVER_LIMIT_OPTION = "server.maxUploadSize"  # .streamlit/config.toml


def kind_label(kind: str) -> str:
    return ctx.t(f"upload.kind_{kind}")


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
        return row_files.read_rows(path, limit=5)


def forget_removed(uploads) -> None:
    """Drop the reports of files no longer in the uploader."""
    current = {upload.file_id for upload in uploads}
    reports = st.session_state.setdefault("upload_reports", {})
    for file_id in [f for f in reports if f not in current]:
        del reports[file_id]


def detected_kind(columns: list[str]) -> str | None:
    """The kind of a file: from its header, else the kind of the saved mapping it fits."""
    saved = load(saved_mappings.list_mappings)
    fitting = saved_mappings.fitting_mapping(saved, columns)
    by_header = mapping_suggestions.guess_kind(columns)
    if by_header or not fitting:
        return by_header
    return saved.loc[saved["name"] == fitting, "kind"].iloc[0]


def sort_key(upload, limit_mb: int) -> int:
    """Files in load order (units before services before events…), by their chosen or
    detected kind; unreadable and oversized files last."""
    kind = st.session_state.get(f"upload_kind_{upload.file_id}")
    if kind is None and upload.size <= limit_mb * MEGABYTE \
            and upload.name.lower().endswith(FILE_TYPES):
        try:
            kind = detected_kind(columns_of(upload.file_id, upload))
        except KinerjaError:
            kind = None
    return KINDS.index(kind) if kind in KINDS else len(KINDS)


# -- one file: the §1.1 mapping --------------------------------------------------------------
SUGGESTED = ""  # the saved-mapping chooser's "suggested from the columns"


def mapping_editor(upload, columns: list[str], kind: str):
    """The §1.1 mapping of one file: an ImportMapping; a rename-only dict while some column is
    undecided (the import then names it as extra or misspelt, with a suggestion); None when no
    mapping is needed; False when it cannot be used (the reason shown). A saved mapping whose
    columns the file has is applied by itself, exactly as written."""
    if mapping_suggestions.is_identity(mapping_suggestions.suggest(columns, kind)):
        st.caption(ctx.t("mapping.identity"), help=ctx.t("mapping.identity_help"))
        return None
    saved = load(saved_mappings.list_mappings, kind=kind)
    by_name = dict(zip(saved["name"], saved["mapping"], strict=True))
    sample = sample_of(upload.file_id, upload)
    with st.expander(ctx.t("mapping.title"), expanded=True, icon=":material/swap_horiz:"):
        return _mapping_editor(upload, columns, kind, saved, by_name, sample)


def _mapping_editor(upload, columns, kind, saved, by_name, sample):
    """The inside of the mapping expander (see mapping_editor)."""
    st.caption(ctx.t("mapeditor.intro"))
    file_id = upload.file_id
    chooser = f"upload_map_{file_id}_{kind}_saved"
    if chooser not in st.session_state:
        st.session_state[chooser] = (saved_mappings.fitting_mapping(saved, columns, kind)
                                     or SUGGESTED)
    if by_name:
        st.selectbox(ctx.t("mapping.use_saved"), [SUGGESTED, *by_name], key=chooser,
                     format_func=lambda name: name or ctx.t("mapping.suggested"))
    base_name = st.session_state[chooser] if st.session_state[chooser] in by_name else SUGGESTED
    names = mapping_suggestions.service_names(load(editor.services_table))
    if base_name:
        st.caption(ctx.t("mapping.applied", name=base_name), help=ctx.t("mapping.applied_help"))
        start = by_name[base_name]
    else:
        start = mapping_suggestions.suggest_mapping(columns, sample, kind, names=names)
    editing = mapping_editor_ui.EditorContext(
        t=ctx.t, prefix=f"upload_map_{file_id}_{kind}_{base_name}", header=columns,
        sample=sample, names=names)
    lines, delimiter = mapping_editor_ui.edit_lines(editing, kind, start)
    try:
        mapping = mapping_editor_ui.mapping_of(kind, lines, delimiter, complete=False)
    except KinerjaError as error:
        st.error(error.localized(ctx.lang), icon=":material/link_off:")
        return False
    unused = mapping_editor_ui.unused_columns(mapping, columns)
    leave_all = bool(base_name) or not mapping.is_rename_only()
    undecided = [c for c in unused
                 if c not in mapping_editor_ui.left_out(editing, unused, leave_all=leave_all)]
    if undecided and mapping.is_rename_only():
        # The import names them (misspelt or extra, with a suggestion); the rest is renames.
        return {source: target for target, source in mapping.columns.items()}
    if undecided:
        st.error(ctx.t("mapping.undecided", columns=", ".join(undecided)),
                 icon=":material/link_off:")
        return False
    if mapping.missing_required():
        st.error(ctx.t("mapping.unmapped_required", columns=", ".join(mapping.missing_required())),
                 icon=":material/link_off:")
        return False
    st.markdown(ctx.t("mapping.preview"))
    try:
        with staged(upload) as path:
            parsed = ingest.mapped_preview(ctx.store, kind, path, mapping)
        st.dataframe(parsed.astype(object).where(parsed.notna(), ""), hide_index=True,
                     width="stretch")  # an empty value is blank, not "None"
    except KinerjaError as error:
        st.error(error.localized(ctx.lang), icon=":material/error:")
    with st.popover(ctx.t("mapping.show_toml"), icon=":material/code:"):
        st.code(mapping.to_toml(), language="toml")
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    name = left.text_input(ctx.t("mapping.save_as"), key=f"{editing.prefix}_name",
                           placeholder=ctx.t("mapping.save_placeholder"))
    if right.button(ctx.t("mapping.save"), key=f"{editing.prefix}_save", icon=":material/save:",
                    disabled=not name.strip()):
        try:
            saved_mappings.save_mapping(ctx.store, name, mapping, by=ctx.user)
            forget_version()
            st.success(ctx.t("mapping.saved", name=name.strip()), icon=":material/check:")
        except KinerjaError as error:
            st.error(error.localized(ctx.lang))
    return mapping


@st.cache_data(max_entries=32, show_spinner=False)
def sample_of(file_id: str, _upload) -> pd.DataFrame:
    """The first 200 rows of an uploaded file: what the suggestions read values from."""
    with staged(_upload) as path:
        return row_files.read_rows(path, limit=200)


@st.cache_data(max_entries=32, show_spinner=False)
def rejected_csv_of(file_id: str, signature: str, lang: str, _upload, _problems) -> bytes:
    """The file's rows that a check rejected (for `signature`, the kind and mapping checked),
    with the reasons in `lang`, as CSV in the file's own delimiter and line endings."""
    with staged(_upload) as path:
        return row_files.rejected_csv(path, _problems, lang)


def run_import(upload, kind: str, mapping, *, dry_run: bool, accept_valid: bool = False) -> dict:
    """A report of validating (dry_run) or committing one file."""
    try:
        renames = mapping if isinstance(mapping, dict) else None
        with staged(upload) as path:
            result = ingest_file(ctx.store, kind, path, file_name=upload.name,
                                 loaded_by=ctx.user, column_map=renames or None,
                                 mapping=None if renames is not None else mapping,
                                 dry_run=dry_run, accept_valid=accept_valid)
    except FileRejected as rejected:
        return {"result": None, "problems": rejected.problems, "committed": False}
    return {"result": result, "problems": result.problems,
            "committed": not dry_run and result.ok and result.batch_id is not None}


def show_report(report: dict, upload, kind: str, mapping) -> None:
    result, problems = report["result"], report["problems"]
    name = Path(upload.name).stem
    if report["committed"]:
        st.success(ctx.t("upload.committed", batch=result.batch_id,
                         inserted=fmt_int(result.inserted, ctx.lang),
                         replaced=fmt_int(result.replaced, ctx.lang)),
                   icon=":material/task_alt:")
        show_counts(result, ctx.lang, committed=True)
        if result.set_aside:
            st.warning(ctx.t("upload.set_aside", count=fmt_int(result.set_aside, ctx.lang)),
                       icon=":material/playlist_remove:")
        return
    if result is not None:
        show_counts(result, ctx.lang)
    if problems:
        show_problems(problems, ctx.lang, name=f"{name}-problems", key=f"problems-{upload.file_id}")
        lines = {p.line for p in problems if p.line and p.line > 1}
        if lines:
            st.download_button(ctx.t("upload.download_rejected", count=fmt_int(len(lines), ctx.lang)),
                               rejected_csv_of(upload.file_id, report["signature"], ctx.lang,
                                               upload, problems),
                               file_name=f"{name}-rejected.csv",
                               mime="text/csv", key=f"rejected-{upload.file_id}",
                               icon=":material/download:", on_click="ignore",
                               help=ctx.t("upload.download_rejected_help"))
        st.caption(ctx.t("upload.nothing_written"))
        row_problems = result is not None and all(p.line for p in problems)
        accept = row_problems and len(lines) < result.rows and st.checkbox(
            ctx.t("upload.accept_valid"), key=f"upload_accept_{upload.file_id}",
            help=ctx.t("upload.accept_valid_help"))
        if accept and st.button(ctx.t("upload.commit_valid",
                                      rows=fmt_int(result.rows - len(lines), ctx.lang),
                                      count=fmt_int(len(lines), ctx.lang)),
                                key=f"upload_commit_valid_{upload.file_id}", type="primary",
                                icon=":material/cloud_upload:"):
            commit(upload, kind, mapping, report, accept_valid=True)
        return
    st.success(ctx.t("upload.valid", rows=fmt_int(result.rows, ctx.lang)),
               icon=":material/check_circle:")
    if st.button(ctx.t("upload.commit"), key=f"upload_commit_{upload.file_id}", type="primary",
                 icon=":material/cloud_upload:"):
        commit(upload, kind, mapping, report)


def commit(upload, kind: str, mapping, report: dict, *, accept_valid: bool = False) -> None:
    """Import the file for real and show the outcome (a rerun)."""
    with st.spinner(ctx.t("upload.committing")):
        committed = run_import(upload, kind, mapping, dry_run=False, accept_valid=accept_valid)
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
        if not upload.name.lower().endswith(FILE_TYPES):
            st.error(ctx.t("partial.wrong_type", file=md(upload.name),
                           types=", ".join(FILE_TYPES)), icon=":material/block:")
            return
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
            guessed = detected_kind(columns)
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
        mapping = mapping_editor(upload, columns, kind)
        described = mapping.to_dict() if hasattr(mapping, "to_dict") else mapping
        signature = json.dumps([kind, described], sort_keys=True)
        reports = st.session_state.setdefault("upload_reports", {})
        if st.button(ctx.t("upload.validate"), key=f"upload_validate_{file_id}",
                     disabled=mapping is False, icon=":material/fact_check:"):
            with st.spinner(ctx.t("upload.validating")):
                report = run_import(upload, kind, mapping, dry_run=True)
            reports[file_id] = {**report, "signature": signature}
        report = reports.get(file_id)
        if mapping is not False and report and report["signature"] == signature:
            show_report(report, upload, kind, mapping)


# -- the page ---------------------------------------------------------------------------------
st.title(ctx.t("upload.title"))
st.write(ctx.t("upload.intro"))
limit_mb = config.upload_limit_mb()

with st.expander(ctx.t("upload.templates"), icon=":material/description:"):
    st.caption(ctx.t("upload.templates_help"))
    buttons = st.columns(len(KINDS))
    for column, kind in zip(buttons, KINDS, strict=True):
        column.download_button(kind_label(kind), to_csv_bytes(row_files.template_frame(kind)),
                               file_name=f"{kind}.csv", mime="text/csv", key=f"template-{kind}",
                               icon=":material/download:", on_click="ignore")

chosen_kind = st.selectbox(ctx.t("upload.kind"), [AUTO, *KINDS], key="upload_kind",
                           format_func=lambda kind: ctx.t("upload.kind_auto") if kind == AUTO
                           else kind_label(kind))
# The browser refuses files over the server's limit with its own English sentence; files between
# our limit and that one reach the page, which says why in the reader's language. A deployment
# that raises KPI_UPLOAD_LIMIT_MB above server.maxUploadSize needs no second setting.
server_limit = max(limit_mb, int(st.get_option(SERVER_LIMIT_OPTION)))
# Any type is taken, so that a wrong one is refused in the reader's language (the uploader's own
# refusal is an English hover text beside "no file yet").
uploads = st.file_uploader(ctx.t("upload.files"),
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
