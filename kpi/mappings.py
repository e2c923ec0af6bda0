"""Column mappings: how a file's own column names become the contract's (section 1).

Queue systems and survey tools export their own headers (`Kode Unit`, `Waktu Datang`,
`No Antrian`…). A mapping says, for each column of the file, which contract column it is, or
None to drop it. `suggest` proposes one from common English and Indonesian names; an analyst can
save a mapping under a name and reuse it for next week's file from the same system. The mapping
is handed to `kpi.ingest.ingest_file(column_map=…)`, which does all the validation of values.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import pandas as pd

from kpi import audit, config, import_mapping
from kpi.errors import InputRejected
from kpi.import_mapping import ImportMapping
from kpi.sources import open_binary, open_source
from kpi.vocabulary import KINDS, OPTIONAL, REQUIRED

# Names other systems use for each contract column, written as `normalize` leaves them. A name
# may stand for different columns in different kinds (`tanggal`); `suggest` only looks among the
# columns of the chosen kind, so within one kind every name must point to one column.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "unit_code": ("kode unit", "kd unit", "unit", "unit id", "id unit", "kode satker",
                  "kode opd", "kode puskesmas", "kode unit layanan", "unit kode"),
    "service_code": ("kode layanan", "kd layanan", "layanan", "service", "service id",
                     "id layanan", "kode jenis layanan", "jenis layanan kode"),
    "ticket_id": ("no antrian", "nomor antrian", "no antrean", "nomor antrean", "antrian",
                  "nomor tiket", "no tiket", "tiket", "ticket", "ticket no", "ticket number",
                  "queue number", "queue no", "id antrian", "no urut"),
    "arrived_at": ("waktu datang", "jam datang", "waktu kedatangan", "kedatangan", "datang",
                   "tanggal datang", "waktu daftar", "arrival", "arrival time", "arrived",
                   "check in", "checkin", "tanggal", "date", "waktu"),
    "started_at": ("jam mulai", "waktu mulai", "mulai", "waktu dilayani", "waktu panggil",
                   "jam panggil", "start", "start time", "started", "called at"),
    "completed_at": ("jam selesai", "waktu selesai", "selesai", "end", "end time", "finished",
                     "finish time", "completed", "done at"),
    "outcome": ("status", "hasil", "status layanan", "status antrian", "result"),
    "channel": ("kanal", "saluran", "media", "jalur", "via", "loket", "jenis loket", "channel"),
    "name": ("nama", "nama unit", "nama layanan", "nama unit layanan", "unit name",
             "service name"),
    "type": ("jenis", "jenis unit", "tipe", "tipe unit", "unit type", "kategori"),
    "parent_code": ("kode induk", "induk", "parent", "parent unit", "unit induk", "parent id"),
    "district": ("kecamatan", "wilayah", "kec"),
    "standard_minutes": ("standar waktu", "standar menit", "waktu standar", "standar pelayanan",
                         "jangka waktu", "jangka waktu penyelesaian", "standard time",
                         "standard", "sla minutes", "sla"),
    "response_id": ("id responden", "no responden", "nomor responden", "id survei",
                    "no survei", "nomor survei", "id respon", "response", "response no",
                    "respondent id"),
    "submitted_at": ("tanggal survei", "waktu survei", "waktu isi", "tanggal isi",
                     "waktu pengisian", "tanggal pengisian", "tanggal", "date", "waktu",
                     "submitted", "timestamp", "submission time"),
    **{f"u{i}": (f"unsur {i}", f"unsur{i}", f"u {i}", f"q{i}", f"pertanyaan {i}", f"p{i}",
                 f"nilai unsur {i}") for i in range(1, 10)},
    "respondent_gender": ("jenis kelamin", "kelamin", "jk", "gender", "sex"),
    "respondent_age": ("umur", "usia", "age"),
    "respondent_education": ("pendidikan", "pendidikan terakhir", "education"),
    "comment": ("komentar", "saran", "masukan", "saran dan masukan", "catatan", "comments",
                "keterangan", "remarks"),
    "kpi": ("indikator", "indikator kinerja", "kode indikator", "indicator", "measure"),
    "target": ("sasaran", "nilai target", "target value"),
    "valid_from": ("berlaku dari", "berlaku mulai", "mulai berlaku", "dari tanggal",
                   "tanggal mulai", "tanggal", "valid from", "from", "start date"),
    "valid_to": ("berlaku sampai", "berlaku hingga", "sampai tanggal", "tanggal akhir",
                 "valid to", "valid until", "to", "end date"),
    "amber_pct": ("toleransi", "toleransi persen", "batas kuning", "amber", "amber percent",
                  "tolerance"),
}

_NOT_ALPHANUMERIC = re.compile(r"[^0-9a-z]+")

# The reasons column of a rejected-rows file: dropped by default when the fixed file comes back.
REASON_COLUMN = "rejected_because"


def normalize(name: str) -> str:
    """A column name compared loosely: lower case, every run of other characters one space."""
    return _NOT_ALPHANUMERIC.sub(" ", str(name).strip().lower()).strip()


DROP_BY_DEFAULT = frozenset({normalize(REASON_COLUMN)})


def contract_columns(kind: str) -> tuple[str, ...]:
    """The required then optional columns of `kind` (from kpi.vocabulary, the one list)."""
    return tuple(REQUIRED[kind]) + tuple(OPTIONAL[kind])


def suggest(columns: list[str], kind: str) -> dict[str, str | None]:
    """For every column of the file: the contract column of `kind` it most likely is, or None.

    A column named like a contract column (ignoring case, spaces and punctuation) is that
    column; otherwise the first synonym match wins. No contract column is proposed twice.
    """
    # (rank, target) per loose name: the contract's own name ranks first, then the synonyms in
    # their listed order, so `Waktu Datang` beats a plain `Tanggal` for arrived_at.
    ranked: dict[str, list[tuple[int, str]]] = {}
    for target in contract_columns(kind):
        for rank, alias in enumerate((target, *SYNONYMS.get(target, ()))):
            ranked.setdefault(normalize(alias), []).append((rank, target))
    candidates = sorted((rank, position, target)
                        for position, column in enumerate(columns)
                        for rank, target in ranked.get(normalize(column), ()))
    mapping: dict[str, str | None] = {column: None for column in columns}
    taken: set[str] = set()
    for _rank, position, target in candidates:
        column = columns[position]
        if mapping[column] is None and target not in taken:
            mapping[column] = target
            taken.add(target)
    return mapping


def guess_kind(columns: list[str]) -> str | None:
    """The kind of a file from its header: kpi.ingest.detect_kind on the names as they are,
    else the one kind whose required columns the suggestions cover (the most columns wins)."""
    from kpi.ingest import detect_kind

    kind = detect_kind(columns)
    if kind:
        return kind
    covered = []
    for candidate in KINDS:
        targets = {t for t in suggest(columns, candidate).values() if t}
        if set(REQUIRED[candidate]) <= targets:
            covered.append((len(targets), candidate))
    covered.sort(reverse=True)
    if covered and (len(covered) == 1 or covered[0][0] > covered[1][0]):
        return covered[0][1]
    return None


def is_identity(mapping: dict[str, str | None]) -> bool:
    """True when every column already carries its contract name (no mapping needed)."""
    return all(target is not None and normalize(source) == normalize(target)
               for source, target in mapping.items())


def unmapped_required(mapping: dict[str, str | None], kind: str) -> list[str]:
    """The required columns of `kind` no file column is mapped to."""
    mapped = set(mapping.values())
    return [column for column in REQUIRED[kind] if column not in mapped]


def check_mapping(mapping: dict[str, str | None], kind: str, *, undecided: int = 0) -> None:
    """Raise InputRejected when `mapping` cannot be used for `kind`: a required column left
    unmapped, one contract column chosen for two file columns, or a name that is not a column.

    With `undecided` file columns (neither matched nor left out) a missing required column is
    left to the import, which names misspelt and extra columns with a suggestion."""
    allowed = set(contract_columns(kind))
    unknown = sorted({t for t in mapping.values() if t is not None and t not in allowed})
    if unknown:
        raise InputRejected("mapping.unknown_target", columns=", ".join(unknown), kind=kind)
    targets = [t for t in mapping.values() if t is not None]
    twice = sorted({t for t in targets if targets.count(t) > 1})
    if twice:
        raise InputRejected("mapping.duplicate_target", columns=", ".join(twice))
    missing = unmapped_required(mapping, kind)
    if missing and not undecided:
        raise InputRejected("mapping.unmapped_required", columns=", ".join(missing))


# -- saved mappings (contract section 1.1: the TOML format is what is stored) --------------------
def _as_mapping(kind: str, text: str) -> ImportMapping:
    """A stored mapping: TOML, or the rename-only JSON of stores saved before section 1.1."""
    if text.lstrip().startswith("{"):
        return import_mapping.rename_only(kind, json.loads(text))
    return import_mapping.parse(text)


def save_mapping(store, name: str, mapping: ImportMapping, *, by: str | None = None) -> None:
    """Save `mapping` under `name` as its TOML, replacing a mapping of that name."""
    name = name.strip()
    if not name:
        raise InputRejected("mapping.name_missing")
    text = mapping.to_toml()
    import_mapping.parse(text)  # what is stored must read back
    with store.transaction() as cur:
        cur.execute("DELETE FROM column_mappings WHERE name = ?", [name])
        cur.execute(
            "INSERT INTO column_mappings (name, kind, mapping, saved_by, saved_at) VALUES (?, ?, ?, ?, ?)",
            [name, mapping.kind, text, by, config.local_now()])
        audit.record(cur, by, "mapping.save", name, {"kind": mapping.kind, "mapping": text})


def list_mappings(store, kind: str | None = None) -> pd.DataFrame:
    """name, kind, mapping (ImportMapping), toml, saved_by, saved_at of the saved mappings (of
    `kind`), by name."""
    frame = store.query_df(
        "SELECT name, kind, mapping AS toml, saved_by, saved_at FROM column_mappings "
        "WHERE $kind IS NULL OR kind = $kind ORDER BY name", {"kind": kind})
    frame["mapping"] = [_as_mapping(k, text) for k, text in zip(frame["kind"], frame["toml"],
                                                                strict=True)]
    frame["toml"] = [mapping.to_toml() for mapping in frame["mapping"]]
    return frame[["name", "kind", "mapping", "toml", "saved_by", "saved_at"]]


def load_mapping(store, name: str) -> ImportMapping:
    """The saved mapping `name`."""
    rows = store.query_rows("SELECT kind, mapping FROM column_mappings WHERE name = ?",
                            [name.strip()])
    if not rows:
        raise InputRejected("mapping.not_found", name=name)
    return _as_mapping(rows[0][0], rows[0][1])


def fitting_mapping(saved: pd.DataFrame, header: list[str], kind: str | None = None) -> str | None:
    """The name of the saved mapping (of `kind`) whose every source column the header has; the
    one naming the most columns wins. None when none fits."""
    best: tuple[int, str] | None = None
    for row in saved.to_dict("records"):
        mapping = row["mapping"]
        if (kind is None or mapping.kind == kind) and mapping.fits(header):
            score = len(mapping.source_columns())
            if best is None or score > best[0]:
                best = (score, row["name"])
    return best[1] if best else None


# -- the file's own rows: preview, rejected rows, templates -----------------------------------
def read_rows(path, *, lines: set[int] | None = None, limit: int | None = None) -> pd.DataFrame:
    """The file's rows as text under its own header, with their `line` in the file (header =
    line 1): the first `limit` rows, or those at `lines`. Reads what kpi.ingest reads (same
    form, separator and header), but never judges the values."""
    source = open_source(Path(path), Path(path).name)
    header = _unique_names(source.header)
    wanted: list[tuple[int, list[str]]] = []
    if source.frame is not None:  # xlsx: every cell is text already
        for position, values in enumerate(source.frame.itertuples(index=False), start=2):
            if lines is None or position in lines:
                wanted.append((position, ["" if pd.isna(v) else str(v) for v in values]))
            if _enough(wanted, lines, limit):
                break
    else:
        with open_binary(source) as handle:
            text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="replace", newline="")
            reader = csv.reader(text, delimiter=source.delimiter)
            next(reader, None)
            start = reader.line_num + 1
            for values in reader:
                if values and (lines is None or start in lines):
                    wanted.append((start, values))
                if _enough(wanted, lines, limit):
                    break
                start = reader.line_num + 1
    width = len(header)
    frame = pd.DataFrame([(values + [""] * width)[:width] for _, values in wanted],
                         columns=header, dtype=object)
    frame.insert(0, "line", [line for line, _ in wanted])
    return frame


def _enough(found: list, lines: set[int] | None, limit: int | None) -> bool:
    if lines is not None:
        return len(found) >= len(lines)
    return limit is not None and len(found) >= limit


def _unique_names(header: list[str]) -> list[str]:
    """Header names made unique (`name`, `name (2)`) so that a table can show them."""
    seen: dict[str, int] = {}
    names = []
    for name in header:
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return names


def rejected_rows(path, problems: list, lang: str,
                  reason_column: str = REASON_COLUMN) -> pd.DataFrame:
    """The original rows of every line a problem names, with the reasons (in `lang`) in a last
    column: the file to fix and upload again. Problems without a line are left out."""
    reasons: dict[int, list[str]] = {}
    for problem in problems:
        if problem.line and problem.line > 1:
            reasons.setdefault(int(problem.line), []).append(problem.message(lang))
    if not reasons:
        return pd.DataFrame()
    frame = read_rows(path, lines=set(reasons))
    frame[reason_column] = ["; ".join(reasons.get(int(line), [])) for line in frame["line"]]
    return frame.drop(columns="line")


def source_shape(path) -> tuple[str, str]:
    """(delimiter, line ending) of a file as its system wrote it: a rejected-rows file in the
    same shape goes back through the same mapping. XLSX gives comma and LF."""
    source = open_source(Path(path), Path(path).name)
    if source.form == "xlsx":
        return ",", "\n"
    with open_binary(source) as handle:
        head = handle.read(1 << 16)
    first = head.find(b"\n")
    return source.delimiter, "\r\n" if first > 0 and head[first - 1:first] == b"\r" else "\n"


def rejected_csv(path, problems: list, lang: str) -> bytes:
    """`rejected_rows` as CSV in the source's own delimiter and line endings."""
    from kpi.exports import to_csv_bytes

    delimiter, ending = source_shape(path)
    return to_csv_bytes(rejected_rows(path, problems, lang), delimiter=delimiter,
                        line_ending=ending)


TEMPLATE_EXAMPLES: dict[str, dict[str, str]] = {
    "units": {"unit_code": "PKM-PDB", "name": "Puskesmas Padang Bulan", "type": "puskesmas",
              "parent_code": "", "district": "Medan Baru"},
    "services": {"unit_code": "PKM-PDB", "service_code": "UMUM", "name": "Poli umum",
                 "standard_minutes": "45"},
    "events": {"unit_code": "PKM-PDB", "service_code": "UMUM", "ticket_id": "A-0001",
               "arrived_at": "2026-11-16 07:45:00", "started_at": "2026-11-16 08:05:00",
               "completed_at": "2026-11-16 08:20:00", "outcome": "completed",
               "channel": "counter"},
    "survey": {"unit_code": "PKM-PDB", "response_id": "R-0001",
               "submitted_at": "2026-11-16 09:10:00",
               **{f"u{i}": "3" for i in range(1, 10)}, "service_code": "UMUM",
               "respondent_gender": "P", "respondent_age": "34", "respondent_education": "SMA",
               "comment": "Pelayanan cepat"},
    "targets": {"unit_code": "*", "kpi": "service_time_median", "target": "30",
                "valid_from": "2026-01-01", "valid_to": "", "amber_pct": "10"},
}


def template_frame(kind: str) -> pd.DataFrame:
    """A file of `kind` with every contract column and one example row."""
    example = TEMPLATE_EXAMPLES[kind]
    return pd.DataFrame([[example.get(column, "") for column in contract_columns(kind)]],
                        columns=list(contract_columns(kind)))


# -- building a §1.1 mapping on the Upload page -----------------------------------------------
# Words real exports use for contract values (trimmed, lower case), per contract column.
VALUE_SYNONYMS: dict[str, dict[str, str]] = {
    "outcome": {"selesai": "completed", "dilayani": "completed", "sudah dilayani": "completed",
                "done": "completed", "served": "completed", "finished": "completed",
                "batal": "abandoned", "dibatalkan": "abandoned", "cancelled": "abandoned",
                "canceled": "abandoned", "walked out": "abandoned", "pulang": "abandoned",
                "tidak hadir": "no_show", "tidak datang": "no_show", "absen": "no_show",
                "no show": "no_show", "no-show": "no_show", "absent": "no_show",
                "terlewat": "no_show", "lewat": "no_show"},
    "channel": {"loket": "counter", "langsung": "counter", "tatap muka": "counter",
                "walk in": "counter", "daring": "online", "web": "online", "aplikasi": "online",
                "app": "online", "telepon": "phone", "telp": "phone", "telpon": "phone",
                "telephone": "phone", "whatsapp": "phone"},
}
VOCABULARY_COLUMNS = tuple(VALUE_SYNONYMS)
# Local formats tried on a sample, day first (Indonesia) before month first.
LOCAL_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M",
                 "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
                 "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%m/%d/%Y %H:%M:%S",
                 "%m/%d/%Y %H:%M", "%m/%d/%Y")
_TIME_ONLY = re.compile(r"\d{1,2}[:.]\d\d([:.]\d\d)?")
_ISO = re.compile(r"\d{4}-\d\d-\d\d([ T]\d\d:\d\d(:\d\d(\.\d+)?)?)?.*")
DATE_NAMES = ("tanggal", "tgl", "date", "tanggal kunjungan", "tanggal antrian", "hari")
KEY_COLUMNS = ("ticket_id", "response_id")
TIMESTAMP_COLUMNS = ("arrived_at", "started_at", "completed_at", "submitted_at")
DATE_PART, TIME_PART = ":date", ":time"

# Names for the started time that the rename suggestions above do not know.
SYNONYMS["started_at"] = (*SYNONYMS["started_at"], "waktu dipanggil", "jam dipanggil",
                          "dipanggil", "waktu layan", "jam layan")
SYNONYMS["completed_at"] = (*SYNONYMS["completed_at"], "waktu selesai layanan", "jam keluar")


def local_format(samples: list[str]) -> str | None:
    """The first of LOCAL_FORMATS every sample reads with; None for ISO values (the contract
    reads them itself) or when none fits."""
    samples = [s.strip() for s in samples if s and s.strip()]
    if not samples or all(_ISO.fullmatch(s) for s in samples):
        return None
    for candidate in LOCAL_FORMATS:
        try:
            for sample in samples:
                dt.datetime.strptime(sample, candidate)
        except ValueError:
            continue
        return candidate
    return None


def _column_values(rows: pd.DataFrame, column: str) -> list[str]:
    if column not in rows:
        return []
    return [str(v).strip() for v in rows[column] if isinstance(v, str) and v.strip()]


def suggest_mapping(header: list[str], rows: pd.DataFrame, kind: str) -> ImportMapping:
    """A §1.1 mapping for a file with `header` whose first rows are `rows` (text, by header):
    renames from `suggest`, local timestamp formats read off the values, a time column joined
    to the file's date column, value tables for status and channel words, and the key composed
    with the date when its values repeat (queue numbers that restart every day)."""
    renamed = suggest(header, kind)
    mapping = ImportMapping(kind=kind)
    unused = [c for c in header if renamed[c] is None and normalize(c) != normalize(REASON_COLUMN)]
    date_column = next((c for c in unused if normalize(c) in DATE_NAMES), None)
    for source, target in renamed.items():
        if target is None:
            continue
        values = _column_values(rows, source)
        if target in TIMESTAMP_COLUMNS:
            if values and all(_TIME_ONLY.fullmatch(v) for v in values) and date_column:
                dates = _column_values(rows, date_column)
                joined = [f"{d} {v}" for d, v in zip(dates, values, strict=False)]
                mapping.timestamps[target] = import_mapping.TimestampSource(
                    format=local_format(joined) or "%d/%m/%Y %H:%M", date=date_column,
                    time=source)
                continue
            found = local_format(values)
            if found:
                mapping.timestamps[target] = import_mapping.TimestampSource(format=found,
                                                                            column=source)
                continue
        mapping.columns[target] = source
        if target in VALUE_SYNONYMS:
            table = {value: VALUE_SYNONYMS[target][value.lower()]
                     for value in dict.fromkeys(values) if value.lower() in VALUE_SYNONYMS[target]}
            if table:
                mapping.values[target] = table
    for key in KEY_COLUMNS:
        key_source = mapping.columns.get(key)
        values = _column_values(rows, key_source) if key_source else []
        if key_source and date_column and len(set(values)) < len(values):
            del mapping.columns[key]
            mapping.compose[key] = [date_column, key_source]
    return mapping


def mapping_choices(mapping: ImportMapping, header: list[str]) -> dict[str, str | None]:
    """For each source column: the contract column it gives (`arrived_at`, or `arrived_at:date`
    / `arrived_at:time` for a split timestamp), or None when no table names it by itself."""
    lookup = {normalize(name): name for name in header}
    choices: dict[str, str | None] = dict.fromkeys(header)

    def put(source: str | None, target: str) -> None:
        if source and normalize(source) in lookup:
            choices[lookup[normalize(source)]] = target

    for target, source in mapping.columns.items():
        put(source, target)
    for target, spec in mapping.timestamps.items():
        put(spec.column, target)
        put(spec.date, target + DATE_PART)
        put(spec.time, target + TIME_PART)
    return choices


def mapping_from_choices(kind: str, choices: dict[str, str | None], *,
                         formats: dict[str, str] | None = None,
                         compose: dict[str, list[str]] | None = None,
                         values: dict[str, dict[str, str]] | None = None,
                         constants: dict[str, str] | None = None,
                         delimiter: str | None = None) -> ImportMapping:
    """The §1.1 mapping the Upload page's choices describe (checked like a TOML file)."""
    formats = formats or {}
    document: dict = {"kind": kind, "columns": {}, "timestamps": {}}
    if delimiter:
        document["delimiter"] = delimiter
    for source, target in choices.items():
        if not target:
            continue
        base, _, part = target.partition(":")
        if part:
            spec = document["timestamps"].setdefault(base, {})
            spec[part] = source
        elif formats.get(base):
            document["timestamps"].setdefault(base, {})["column"] = source
        else:
            if base in document["columns"]:
                raise InputRejected("mapping.duplicate_target", columns=base)
            document["columns"][base] = source
    for target, spec in document["timestamps"].items():
        spec["format"] = formats.get(target) or "%d/%m/%Y %H:%M"
        if "time" in spec and "date" not in spec:
            raise InputRejected("importmap.time_without_date", column=target)
    document["compose"] = {key: parts for key, parts in (compose or {}).items() if parts}
    for key in document["compose"]:
        document["columns"].pop(key, None)
    document["values"] = {c: {k: v for k, v in table.items() if k and v}
                          for c, table in (values or {}).items()
                          if any(k and v for k, v in table.items())}
    document["constants"] = {c: v for c, v in (constants or {}).items() if v and v.strip()}
    for column in document["constants"]:
        document["columns"].pop(column, None)
    return import_mapping.from_dict({k: v for k, v in document.items() if v or k == "kind"})


def is_rename_only(mapping: ImportMapping) -> bool:
    """Whether the mapping only renames columns (what an older column map could say)."""
    return not (mapping.constants or mapping.timestamps or mapping.values or mapping.compose)


def value_table_rows(mapping: ImportMapping, rows: pd.DataFrame, column: str) -> dict[str, str]:
    """The value table of `column` to show: the mapping's entries, plus the distinct values of
    the sample rows (empty where unknown), so that the analyst sees every word of the file."""
    table = dict(mapping.values.get(column, {}))
    source = mapping.columns.get(column)
    for value in dict.fromkeys(_column_values(rows, source) if source else []):
        if value not in table and value.lower() not in {k.lower() for k in table}:
            table[value] = VALUE_SYNONYMS.get(column, {}).get(value.lower(), "")
    return table
