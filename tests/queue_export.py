"""A queue machine's export built from the example city's visits (contract section 1.1).

The shape of a real Puskesmas export: semicolons and CRLF, Indonesian headers, `dd/mm/yyyy`
dates with the arrival split over a date and a time column, status words (`Selesai`, `Batal`,
`Tidak Hadir`), channel words, and queue numbers that restart every day for every unit (so the
ticket is the date and the queue number, composed). Seconds are kept so that the mapped import
must give exactly the KPIs of the clean one.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

EXAMPLE_EVENTS = Path(__file__).resolve().parent.parent.parent / "shared" / "spec" / "example" / "events.csv"

ZONE = "Asia/Jakarta"  # the example's deployment zone (KPI_TZ default)
STATUS_WORDS = {"completed": "Selesai", "abandoned": "Batal", "no_show": "Tidak Hadir"}
CHANNEL_WORDS = {"counter": "Loket", "online": "Daring", "phone": "Telepon"}
HEADER = ["Tanggal", "No Antrian", "Kode Unit", "Kode Layanan", "Jam Datang", "Waktu Dipanggil",
          "Waktu Selesai", "Status", "Loket"]

MAPPING_TOML = """\
kind = "events"
delimiter = ";"

[columns]
unit_code = "Kode Unit"
service_code = "Kode Layanan"
outcome = "Status"
channel = "Loket"

[timestamps.arrived_at]
date = "Tanggal"
time = "Jam Datang"
format = "%d/%m/%Y %H:%M:%S"

[timestamps.started_at]
column = "Waktu Dipanggil"
format = "%d/%m/%Y %H:%M:%S"

[timestamps.completed_at]
column = "Waktu Selesai"
format = "%d/%m/%Y %H:%M:%S"

[values.outcome]
Selesai = "completed"
Batal = "abandoned"
"Tidak Hadir" = "no_show"

[values.channel]
Loket = "counter"
Daring = "online"
Telepon = "phone"

[compose]
ticket_id = ["Tanggal", "No Antrian"]
"""


def _local_time(text: str) -> pd.Timestamp | None:
    """An example timestamp as local wall-clock time of Asia/Jakarta (offsets converted)."""
    if not text:
        return None
    stamp = pd.Timestamp(text)
    return stamp.tz_convert(ZONE).tz_localize(None) if stamp.tzinfo else stamp


def _local(text: str) -> str:
    stamp = _local_time(text)
    return "" if stamp is None else stamp.strftime("%d/%m/%Y %H:%M:%S")


def queue_frame() -> pd.DataFrame:
    """The export's rows (text), in arrival order; queue numbers restart per unit and day."""
    events = pd.read_csv(EXAMPLE_EVENTS, dtype=str, keep_default_na=False)
    arrived = pd.Series([_local_time(v) for v in events["arrived_at"]], index=events.index,
                        dtype="datetime64[ns]")
    events = events.assign(_arrived=arrived).sort_values(["unit_code", "_arrived"], kind="stable")
    day = events["_arrived"].dt.strftime("%d/%m/%Y")
    number = events.groupby([events["unit_code"], day]).cumcount() + 1
    return pd.DataFrame({
        "Tanggal": day,
        "No Antrian": number.astype(str),
        "Kode Unit": events["unit_code"],
        "Kode Layanan": events["service_code"],
        "Jam Datang": events["_arrived"].dt.strftime("%H:%M:%S"),
        "Waktu Dipanggil": [_local(v) for v in events["started_at"]],
        "Waktu Selesai": [_local(v) for v in events["completed_at"]],
        "Status": events["outcome"].map(STATUS_WORDS),
        "Loket": events["channel"].map(CHANNEL_WORDS).fillna(events["channel"]),
    })[HEADER].reset_index(drop=True)


def write_export(path: Path, frame: pd.DataFrame | None = None) -> Path:
    """The export as the machine writes it: semicolons, CRLF, UTF-8."""
    frame = queue_frame() if frame is None else frame
    path.write_bytes(frame.to_csv(index=False, sep=";", lineterminator="\r\n").encode("utf-8"))
    return path


def write_mapping(path: Path) -> Path:
    path.write_text(MAPPING_TOML, encoding="utf-8")
    return path


# -- a second machine: one date column for every timestamp, service names (issue 22) ---------
EXAMPLE_SERVICES = EXAMPLE_EVENTS.parent / "services.csv"
SPLIT_HEADER = ["Tanggal", "No Antrian", "Kode Unit", "Layanan", "Jam Ambil", "Jam Panggil",
                "Jam Selesai", "Status", "Loket"]
SPLIT_TOML = """\
kind = "events"
delimiter = ";"

[columns]
unit_code = "Kode Unit"
service_code = "Layanan"
outcome = "Status"

[timestamps.arrived_at]
date = "Tanggal"
time = "Jam Ambil"
format = "%d/%m/%Y %H:%M:%S"

[timestamps.started_at]
date = "Tanggal"
time = "Jam Panggil"
format = "%d/%m/%Y %H:%M:%S"

[timestamps.completed_at]
date = "Tanggal"
time = "Jam Selesai"
format = "%d/%m/%Y %H:%M:%S"

[values.service_code]
Rekomendasi = "REK"
"Poli umum" = "UMUM"
Laboratorium = "LAB"
"Kesehatan ibu dan anak" = "KIA"
"KTP elektronik" = "KTP"
"Akta kelahiran" = "AKTA"

[values.outcome]
Selesai = "completed"
Batal = "abandoned"
"Tidak Hadir" = "no_show"

[compose]
ticket_id = ["Tanggal", "No Antrian"]
"""


def split_frame() -> pd.DataFrame:
    """The export of a machine that writes the day once (`Tanggal`) and the times of taking the
    ticket, being called and finishing as times of day; services by name; `Loket` the counter's
    number (no channel). Visits whose times cross midnight are left out (this machine cannot
    write them)."""
    events = pd.read_csv(EXAMPLE_EVENTS, dtype=str, keep_default_na=False)
    names = pd.read_csv(EXAMPLE_SERVICES, dtype=str, keep_default_na=False)
    events = events.merge(names[["unit_code", "service_code", "name"]], how="left",
                          on=["unit_code", "service_code"])
    stamps = {column: pd.Series([_local_time(v) for v in events[column]], index=events.index,
                                dtype="datetime64[ns]")
              for column in ("arrived_at", "started_at", "completed_at")}
    day = stamps["arrived_at"].dt.normalize()
    same_day = ((stamps["started_at"].isna() | (stamps["started_at"].dt.normalize() == day))
                & (stamps["completed_at"].isna()
                   | (stamps["completed_at"].dt.normalize() == day)))
    events = events.assign(**{f"_{c}": s for c, s in stamps.items()})[same_day]
    events = events.sort_values(["unit_code", "_arrived_at"], kind="stable")
    tanggal = events["_arrived_at"].dt.strftime("%d/%m/%Y")
    number = events.groupby([events["unit_code"], tanggal]).cumcount() + 1

    def clock(column: str) -> pd.Series:
        return events[f"_{column}"].dt.strftime("%H:%M:%S").fillna("")

    return pd.DataFrame({
        "Tanggal": tanggal,
        "No Antrian": number.astype(str),
        "Kode Unit": events["unit_code"],
        "Layanan": events["name"],
        "Jam Ambil": clock("arrived_at"),
        "Jam Panggil": clock("started_at"),
        "Jam Selesai": clock("completed_at"),
        "Status": events["outcome"].map(STATUS_WORDS),
        "Loket": (number % 3 + 1).astype(str),
    })[SPLIT_HEADER].reset_index(drop=True)

