"""Suggestions for an import mapping (contract section 1.1): which contract column each of a
file's own columns most likely is, and a whole §1.1 mapping read off the file's first rows.

Queue systems and survey tools export their own headers (`Kode Unit`, `Jam Ambil`,
`No Antrian`…), local date formats, status words and queue numbers that restart every day. The
Upload page starts from `suggest_mapping`; the analyst corrects it; kpi.ingest applies it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pandas as pd

from kpi import import_mapping
from kpi.import_mapping import ImportMapping
from kpi.row_files import REASON_COLUMN
from kpi.vocabulary import KINDS, REQUIRED, contract_columns, detect_kind

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
                   "tanggal datang", "waktu daftar", "jam daftar", "jam ambil", "waktu ambil",
                   "jam ambil antrian", "waktu ambil antrian", "jam cetak", "arrival",
                   "arrival time", "arrived", "check in", "checkin", "tanggal", "date", "waktu"),
    "started_at": ("jam mulai", "waktu mulai", "mulai", "waktu dilayani", "waktu panggil",
                   "jam panggil", "waktu dipanggil", "jam dipanggil", "dipanggil", "waktu layan",
                   "jam layan", "start", "start time", "started", "called at"),
    "completed_at": ("jam selesai", "waktu selesai", "selesai", "waktu selesai layanan",
                     "jam keluar", "end", "end time", "finished", "finish time", "completed",
                     "done at"),
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

# Local formats tried on a sample, day first (Indonesia) before month first.
LOCAL_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M",
                 "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
                 "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%m/%d/%Y %H:%M:%S",
                 "%m/%d/%Y %H:%M", "%m/%d/%Y")
_TIME_ONLY = re.compile(r"\d{1,2}[:.]\d\d([:.]\d\d)?")
_DATE_ONLY = re.compile(r"\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}")
_ISO = re.compile(r"\d{4}-\d\d-\d\d([ T]\d\d:\d\d(:\d\d(\.\d+)?)?)?.*")
_NOT_ALPHANUMERIC = re.compile(r"[^0-9a-z]+")
# Names of a column holding only the day (a queue export's `Tanggal`).
DATE_NAMES = ("tanggal", "tgl", "date", "tanggal kunjungan", "tanggal antrian", "hari",
              "tanggal layanan", "tanggal pelayanan")
# Names of a queue number, which restarts every day: the key is the date and the number.
QUEUE_NUMBER_NAMES = ("no antrian", "nomor antrian", "no antrean", "nomor antrean", "antrian",
                      "no urut", "nomor urut")
KEY_COLUMNS = ("ticket_id", "response_id")
TIMESTAMP_COLUMNS = ("arrived_at", "started_at", "completed_at", "submitted_at")
# A column proposed for these only when most of its values are words of the column's value
# table: a `Loket` column holding counter numbers is no channel.
VALUE_CHECKED = ("channel",)


def normalize(name: str) -> str:
    """A column name compared loosely: lower case, every run of other characters one space."""
    return _NOT_ALPHANUMERIC.sub(" ", str(name).strip().lower()).strip()


DROP_BY_DEFAULT = frozenset({normalize(REASON_COLUMN)})


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
    """The kind of a file from its header: kpi.vocabulary.detect_kind on the names as they are,
    else the one kind whose required columns the suggestions cover (the most columns wins)."""
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


def timestamp_format(rows: pd.DataFrame, column: str, time: str | None = None) -> str | None:
    """The local format of the timestamps in `column` (joined with " " and the time in `time`)
    of the sample `rows`; None for ISO values or when no known format reads them all."""
    values = column_values(rows, column)
    if time:
        values = [f"{d} {v}" for d, v in zip(rows[column].astype(str), rows[time].astype(str),
                                             strict=True) if d.strip() and v.strip()]
    return local_format(values)


def column_values(rows: pd.DataFrame, column: str) -> list[str]:
    """The non-empty values of `column` in the sample `rows` (text), trimmed."""
    if column not in rows:
        return []
    return [str(v).strip() for v in rows[column] if isinstance(v, str) and v.strip()]


def _all_match(pattern: re.Pattern, values: list[str]) -> bool:
    return bool(values) and all(pattern.fullmatch(v) for v in values)


def service_names(services: pd.DataFrame) -> dict[str, str]:
    """Service name (as first written) -> service code, from the services table (unit_code,
    service_code, name); names compared ignoring case. For a name that several codes carry, the
    code most units use."""
    votes: dict[str, Counter] = {}
    spelling: dict[str, str] = {}
    for code, name in zip(services["service_code"], services["name"], strict=True):
        if isinstance(name, str) and name.strip():
            spelling.setdefault(name.strip().lower(), name.strip())
            votes.setdefault(name.strip().lower(), Counter())[code] += 1
    return {spelling[name]: counter.most_common(1)[0][0] for name, counter in votes.items()}


def value_words(column: str, names: dict[str, str] | None = None) -> dict[str, str]:
    """The source words known for contract `column` (lower case -> contract value): status and
    channel words, and for service_code the unit's service names."""
    if column == "service_code":
        return {name.lower(): code for name, code in (names or {}).items()}
    return VALUE_SYNONYMS.get(column, {})


def value_table(column: str, values: list[str], names: dict[str, str] | None = None,
                start: dict[str, str] | None = None) -> dict[str, str]:
    """A value table for `column` to show: the entries of `start` as they are, then every other
    distinct value of the sample, empty (kept as it is) beside a table that exists, else with
    the contract value its word suggests; so the analyst sees every word of the file."""
    table = dict(start or {})
    known = {key.lower() for key in table}
    words = {} if start else value_words(column, names)
    for value in dict.fromkeys(values):
        if value.lower() not in known:
            table[value] = words.get(value.lower(), "")
            known.add(value.lower())
    return table


def suggest_mapping(header: list[str], rows: pd.DataFrame, kind: str, *,
                    names: dict[str, str] | None = None) -> ImportMapping:
    """A §1.1 mapping for a file with `header` whose first rows are `rows` (text, by header):
    renames from `suggest`; a date column (`Tanggal`) joined to every time-only column; local
    timestamp formats read off the values; value tables for status, channel and service words
    (`names`: lower-case service name -> code); a queue number composed with the date."""
    time_only = [c for c in header if _all_match(_TIME_ONLY, column_values(rows, c))]
    date_column = next((c for c in header if normalize(c) in DATE_NAMES
                        and _all_match(_DATE_ONLY, column_values(rows, c))), None)
    if date_column is None:
        date_column = next((c for c in header if normalize(c) in DATE_NAMES), None)
    candidates = [c for c in header if normalize(c) not in DROP_BY_DEFAULT
                  and not (c == date_column and time_only)]
    renamed = suggest(candidates, kind)
    mapping = ImportMapping(kind=kind)
    for source, target in renamed.items():
        if target is None:
            continue
        values = column_values(rows, source)
        words = value_words(target, names)
        if target in VALUE_CHECKED and values and sum(
                v.lower() in words or v.lower() in words.values() for v in values) * 2 < len(values):
            continue
        if target in TIMESTAMP_COLUMNS:
            if source in time_only and date_column:
                mapping.timestamps[target] = import_mapping.TimestampSource(
                    format=timestamp_format(rows, date_column, source) or "%d/%m/%Y %H:%M",
                    date=date_column, time=source)
                continue
            found = local_format(values)
            if found:
                mapping.timestamps[target] = import_mapping.TimestampSource(format=found,
                                                                            column=source)
                continue
        mapping.columns[target] = source
        table = {value: words[value.lower()] for value in dict.fromkeys(values)
                 if value.lower() in words and words[value.lower()] != value}
        if table and target == "service_code":  # every name, not only the sample's
            table = {name: code for name, code in (names or {}).items() if name != code}
        if table:
            mapping.values[target] = table
    for key in KEY_COLUMNS:
        key_source = mapping.columns.get(key)
        if not key_source or not date_column:
            continue
        values = column_values(rows, key_source)
        if normalize(key_source) in QUEUE_NUMBER_NAMES or len(set(values)) < len(values):
            del mapping.columns[key]
            mapping.compose[key] = [date_column, key_source]
    return mapping
