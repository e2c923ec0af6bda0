"""Generate the demo city of Medan in contract format (data/sample/*.csv, *.csv.gz).

Deterministic: one NumPy generator with a fixed seed, vectorised per unit, so that
`python data/sample/make_sample.py` rewrites the committed files byte for byte (gzip is written
with mtime=0 and no file name in its header). The stories the data tells are described in
data/sample/README.md; their dates and sizes are the constants below.

Usage: python data/sample/make_sample.py [--out DIR]
"""

from __future__ import annotations

import argparse
import gzip
import io
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

SAMPLE_DIR = Path(__file__).resolve().parent
ROOT = SAMPLE_DIR.parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from kpi.skm import min_sample  # noqa: E402  (the contract's Krejcie-Morgan minimum)

SEED = 20261122

FIRST_DAY = np.datetime64("2025-05-26")  # a Monday
LAST_DAY = np.datetime64("2026-11-22")  # a Sunday: the last complete ISO week is 2026-11-16..22

OPEN_SECONDS = 7 * 3600 + 30 * 60  # counters open 07:30
CLOSE_WEEKDAY_SECONDS = 15 * 3600  # last arrival on weekdays 15:00
CLOSE_SATURDAY_SECONDS = 12 * 3600  # Saturday half day (Puskesmas, hospital outpatients)
UTC_OFFSET = np.timedelta64(7 * 3600, "s")  # Asia/Jakarta is UTC+7
OFFSET_SHARE = 0.01  # rows whose timestamps carry an explicit offset

# Indonesian national holidays and collective leave (cuti bersama) in the period: closed.
HOLIDAYS = np.array(
    [
        "2025-05-29", "2025-05-30", "2025-06-06", "2025-06-09", "2025-06-27", "2025-08-18",
        "2025-09-05", "2025-12-25", "2025-12-26", "2026-01-01", "2026-01-16", "2026-02-16",
        "2026-02-17", "2026-03-18", "2026-03-19", "2026-03-20", "2026-03-23", "2026-03-24",
        "2026-04-03", "2026-05-01", "2026-05-14", "2026-05-15", "2026-05-27", "2026-06-01",
        "2026-06-16", "2026-08-17", "2026-08-25",
    ],
    dtype="datetime64[D]",
)
RAMADAN = (np.datetime64("2026-02-18"), np.datetime64("2026-03-17"))  # volume x0.85
LEBARAN = (np.datetime64("2026-03-18"), np.datetime64("2026-03-29"))  # volume x0.45 (mudik)
YEAR_END = (np.datetime64("2025-12-22"), np.datetime64("2026-01-02"))  # volume x0.8

# Story dates (see README.md).
PDB_QUEUE_SYSTEM = np.datetime64("2026-01-05")  # Padang Bulan: electronic queue system
PIRNGADI_ONLINE = np.datetime64("2026-06-01")  # RSUD Pirngadi: online registration
BELAWAN_DRIFT_FROM = np.datetime64("2025-09-01")  # Belawan: waits creep up from here on
DUKCAPIL_OUTAGE = np.datetime64("2026-09-07")  # Disdukcapil: SIAK outage + fewer counter staff
HELVETIA_SPIKE = np.datetime64("2026-11-02")  # Helvetia: no-shows/abandonment spike

WEEKDAY_VOLUME = np.array([1.25, 1.10, 1.0, 1.0, 0.85, 0.5, 0.0])  # Mon..Sun (Sat only if open)

EVENT_COLUMNS = ["unit_code", "service_code", "ticket_id", "arrived_at", "started_at",
                 "completed_at", "outcome", "channel"]
SURVEY_COLUMNS = ["unit_code", "response_id", "submitted_at",
                  *[f"u{i}" for i in range(1, 10)],
                  "service_code", "respondent_gender", "respondent_age",
                  "respondent_education", "comment"]
UNIT_COLUMNS = ["unit_code", "name", "type", "parent_code", "district"]
SERVICE_COLUMNS = ["unit_code", "service_code", "name", "standard_minutes"]
TARGET_COLUMNS = ["unit_code", "kpi", "target", "valid_from", "valid_to", "amber_pct"]


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    standard_minutes: int | None
    weight: float  # share of the unit's visits
    work_minutes: float  # median time at the desk/in the room once called
    wait_share: float = 1.0  # this service's wait relative to the unit's (pharmacy: short)


@dataclass
class Unit:
    code: str
    name: str
    type: str
    parent: str
    district: str
    services: list[Service]
    daily_visits: float  # on a plain Wednesday
    wait_minutes: float  # median wait before being called
    saturday: bool = False  # open Saturday morning
    abandon: float = 0.03  # walk-ins leaving before being called
    no_show: float = 0.12  # online/phone bookings that never come
    online: float = 0.15
    phone: float = 0.05
    satisfaction: float = 3.1  # mean answer 1..4 of the SKM elements
    weak_element: int | None = None  # SKM element clearly below the others
    sample_factor: float = 1.15  # responses per quarter relative to the Krejcie-Morgan minimum
    story: Callable[[np.ndarray], dict[str, np.ndarray]] | None = field(default=None, repr=False)


def _puskesmas_services(extra: list[Service] | None = None) -> list[Service]:
    return [
        Service("UMUM", "Poli Umum", 45, 0.36, 14),
        Service("GIGI", "Poli Gigi", 60, 0.10, 22),
        Service("KIA", "Kesehatan Ibu dan Anak (KIA/KB)", 60, 0.15, 18),
        Service("LAB", "Laboratorium", None, 0.12, 20),
        Service("FARMASI", "Farmasi (pengambilan obat)", 30, 0.17, 7, 0.5),
        Service("IMUN", "Imunisasi", 30, 0.10, 9, 0.6),
        *(extra or []),
    ]


def _kecamatan_services() -> list[Service]:
    return [
        Service("SKTM", "Surat Keterangan Tidak Mampu (SKTM)", 30, 0.30, 10),
        Service("SKD", "Surat Keterangan Domisili", 30, 0.30, 10),
        Service("SKU", "Surat Keterangan Usaha", 45, 0.20, 16),
        Service("AHLIWARIS", "Surat Keterangan Ahli Waris", 120, 0.08, 45),
        Service("LEGALISIR", "Legalisasi Dokumen", 30, 0.12, 7),
    ]


# -- stories: multipliers over the days of a unit's events ------------------------------------
def _ramp(days: np.ndarray, start: np.datetime64, weeks: float) -> np.ndarray:
    """0 before `start`, rising linearly to 1 over `weeks` weeks."""
    elapsed = (days - start).astype(float)
    return np.clip(elapsed / (7 * weeks), 0.0, 1.0)


def _padang_bulan(days: np.ndarray) -> dict[str, np.ndarray]:
    done = _ramp(days, PDB_QUEUE_SYSTEM, 3)
    return {"wait": 1.0 - 0.5 * done, "work": 1.0 - 0.15 * done, "abandon": 1.0 - 0.4 * done}


def _pirngadi(days: np.ndarray) -> dict[str, np.ndarray]:
    done = _ramp(days, PIRNGADI_ONLINE, 4)
    return {"wait": 1.0 - 0.45 * done, "online": 1.0 + 2.0 * done}


def _belawan(days: np.ndarray) -> dict[str, np.ndarray]:
    months = np.clip((days - BELAWAN_DRIFT_FROM).astype(float) / 30.4, 0.0, None)
    return {"wait": 1.0 + 0.11 * months + 0.004 * months**2, "abandon": 1.0 + 0.07 * months}


def _dukcapil(days: np.ndarray) -> dict[str, np.ndarray]:
    hit = (days >= DUKCAPIL_OUTAGE).astype(float)
    return {"wait": 1.0 + 0.8 * hit, "work": 1.0 + 0.5 * hit, "abandon": 1.0 + 0.8 * hit}


def _helvetia(days: np.ndarray) -> dict[str, np.ndarray]:
    weeks_in = np.floor((days - HELVETIA_SPIKE).astype(float) / 7)
    spike = np.select([weeks_in == 0, weeks_in == 1, weeks_in >= 2], [3.0, 4.5, 7.0], 1.0)
    return {"abandon": spike, "no_show": spike, "wait": np.where(weeks_in >= 0, 1.3, 1.0)}


def _dpmptsp(days: np.ndarray) -> dict[str, np.ndarray]:
    progress = (days - FIRST_DAY).astype(float) / (LAST_DAY - FIRST_DAY).astype(float)
    return {"work": 1.45 - 0.7 * progress, "wait": 1.3 - 0.5 * progress,
            "online": 0.8 + 0.6 * progress}


UNITS: list[Unit] = [
    Unit("DINKES", "Dinas Kesehatan Kota Medan", "dinas", "", "Medan Petisah",
         [Service("LEGALISIR", "Legalisasi Dokumen Kesehatan", 30, 0.45, 8),
          Service("REKSIP", "Rekomendasi Izin Praktik Tenaga Kesehatan", 120, 0.35, 40),
          Service("PENGADUAN", "Layanan Pengaduan Kesehatan", None, 0.20, 25)],
         daily_visits=8, wait_minutes=10, satisfaction=3.15, sample_factor=1.3),
    Unit("PKM-PDB", "Puskesmas Padang Bulan", "puskesmas", "DINKES", "Medan Baru",
         _puskesmas_services(), daily_visits=66, wait_minutes=24, saturday=True,
         satisfaction=3.62, story=_padang_bulan),
    Unit("PKM-TLD", "Puskesmas Teladan", "puskesmas", "DINKES", "Medan Kota",
         _puskesmas_services(), daily_visits=60, wait_minutes=11, saturday=True,
         satisfaction=3.25),
    Unit("PKM-MJH", "Puskesmas Medan Johor", "puskesmas", "DINKES", "Medan Johor",
         _puskesmas_services(), daily_visits=55, wait_minutes=12, saturday=True,
         satisfaction=3.05),
    Unit("PKM-HLV", "Puskesmas Helvetia", "puskesmas", "DINKES", "Medan Helvetia",
         _puskesmas_services([Service("TB", "Poli TB Paru", 45, 0.05, 15)]),
         daily_visits=58, wait_minutes=12, saturday=True, satisfaction=3.12,
         story=_helvetia),
    Unit("PKM-SGL", "Puskesmas Sunggal", "puskesmas", "DINKES", "Medan Sunggal",
         _puskesmas_services(), daily_visits=52, wait_minutes=14, saturday=True,
         satisfaction=2.95, sample_factor=0.8),
    Unit("PKM-BLW", "Puskesmas Belawan", "puskesmas", "DINKES", "Medan Belawan",
         _puskesmas_services([Service("TB", "Poli TB Paru", 45, 0.06, 15)]),
         daily_visits=50, wait_minutes=11, saturday=True, satisfaction=2.88,
         story=_belawan),
    Unit("PKM-GLD", "Puskesmas Glugur Darat", "puskesmas", "DINKES", "Medan Timur",
         _puskesmas_services(), daily_visits=54, wait_minutes=11, saturday=True,
         satisfaction=3.2),
    Unit("PKM-STB", "Puskesmas Sentosa Baru", "puskesmas", "DINKES", "Medan Perjuangan",
         _puskesmas_services(), daily_visits=42, wait_minutes=10, saturday=True,
         satisfaction=3.3, sample_factor=0.6),
    Unit("PKM-AMP", "Puskesmas Amplas", "puskesmas", "DINKES", "Medan Amplas",
         _puskesmas_services(), daily_visits=48, wait_minutes=14, saturday=True,
         satisfaction=3.08),
    Unit("KLN-BST", "Klinik Bestari", "clinic", "DINKES", "Medan Baru",
         [Service("UMUM", "Poli Umum", 40, 0.6, 14),
          Service("GIGI", "Poli Gigi", 60, 0.25, 22),
          Service("LAB", "Laboratorium", None, 0.15, 15)],
         daily_visits=18, wait_minutes=8, saturday=True, online=0.3,
         satisfaction=3.42, sample_factor=0.7),
    Unit("RSUD-PIR", "RSUD dr. Pirngadi Kota Medan", "hospital", "DINKES", "Medan Timur",
         [Service("PDALAM", "Poli Penyakit Dalam", 120, 0.24, 35),
          Service("ANAK", "Poli Anak", 120, 0.14, 30),
          Service("BEDAH", "Poli Bedah", 120, 0.10, 35),
          Service("IGD", "Instalasi Gawat Darurat (triase)", 60, 0.10, 25, 0.1),
          Service("RAD", "Radiologi", 90, 0.10, 30),
          Service("LABPK", "Laboratorium Patologi Klinik", 90, 0.14, 35),
          Service("FARMASI", "Instalasi Farmasi Rawat Jalan", 60, 0.13, 22),
          Service("MCU", "Medical Check-Up", None, 0.05, 90)],
         daily_visits=130, wait_minutes=50, saturday=True, online=0.12, phone=0.08,
         satisfaction=2.98, story=_pirngadi),
    Unit("DUKCAPIL", "Dinas Kependudukan dan Pencatatan Sipil Kota Medan", "civil_registry", "",
         "Medan Baru",
         [Service("KTP", "KTP Elektronik (KTP-el)", 60, 0.32, 14),
          Service("KK", "Kartu Keluarga", 60, 0.24, 18),
          Service("AKTALHR", "Akta Kelahiran", 120, 0.16, 32),
          Service("AKTAMTI", "Akta Kematian", 120, 0.06, 30),
          Service("PINDAH", "Surat Pindah Datang (SKPWNI)", 90, 0.12, 26),
          Service("KIA", "Kartu Identitas Anak (KIA)", 60, 0.10, 12)],
         daily_visits=110, wait_minutes=20, online=0.22, satisfaction=2.92,
         weak_element=3, story=_dukcapil),
    Unit("DPMPTSP", "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kota Medan",
         "licensing", "", "Medan Petisah",
         [Service("NIB", "Nomor Induk Berusaha (pendampingan OSS)", 60, 0.30, 28),
          Service("PBG", "Persetujuan Bangunan Gedung (PBG)", 90, 0.20, 50),
          Service("SIPNAKES", "Surat Izin Praktik Tenaga Kesehatan", 120, 0.15, 60),
          Service("REKLAME", "Izin Penyelenggaraan Reklame", 90, 0.10, 45),
          Service("KONSULTASI", "Konsultasi Perizinan", 45, 0.25, 18)],
         daily_visits=35, wait_minutes=15, online=0.35, satisfaction=3.22, story=_dpmptsp),
    Unit("TAPEM", "Bagian Tata Pemerintahan Setda Kota Medan", "dinas", "", "Medan Petisah",
         [Service("REKOM", "Surat Rekomendasi Pemerintahan", 120, 0.4, 40),
          Service("LEGALISIR", "Legalisasi Dokumen", 30, 0.35, 8),
          Service("KONSULTASI", "Konsultasi Administrasi Pemerintahan", None, 0.25, 25)],
         daily_visits=4, wait_minutes=10, satisfaction=3.18, sample_factor=0.55),
    Unit("KEC-MBR", "Kantor Camat Medan Baru", "district_office", "TAPEM", "Medan Baru",
         _kecamatan_services(), daily_visits=22, wait_minutes=8, satisfaction=3.28),
    Unit("KEC-MKT", "Kantor Camat Medan Kota", "district_office", "TAPEM", "Medan Kota",
         _kecamatan_services(), daily_visits=20, wait_minutes=9, satisfaction=3.1),
    Unit("KEC-MBL", "Kantor Camat Medan Belawan", "district_office", "TAPEM", "Medan Belawan",
         _kecamatan_services(), daily_visits=15, wait_minutes=11, satisfaction=2.5,
         sample_factor=0.5),
    Unit("KEC-MHV", "Kantor Camat Medan Helvetia", "district_office", "TAPEM",
         "Medan Helvetia", _kecamatan_services(), daily_visits=21, wait_minutes=9,
         satisfaction=3.0, sample_factor=1.05),
]

# (unit_code, kpi, target, valid_from, valid_to, amber_pct); empty = open / default.
TARGETS: list[tuple[str, str, str, str, str, str]] = [
    ("*", "service_time_median", "45", "2025-01-01", "", ""),
    ("*", "wait_time_median", "20", "2025-01-01", "", "25"),
    ("*", "within_standard_pct", "80", "2025-01-01", "2026-06-30", "5"),
    ("*", "within_standard_pct", "85", "2026-07-01", "", "5"),
    ("*", "abandon_rate", "10", "2025-01-01", "", "20"),
    ("*", "ikm", "76.61", "2025-01-01", "", "5"),
    ("RSUD-PIR", "service_time_median", "100", "2025-01-01", "", ""),
    ("RSUD-PIR", "wait_time_median", "45", "2025-01-01", "", ""),
    ("DUKCAPIL", "service_time_median", "60", "2025-01-01", "", ""),
    ("DUKCAPIL", "wait_time_median", "25", "2025-01-01", "", ""),
    ("DPMPTSP", "within_standard_pct", "90", "2026-01-01", "", "10"),
    ("DPMPTSP", "service_time_median", "60", "2025-01-01", "", ""),
    ("KEC-MBL", "service_time_median", "30", "2025-01-01", "", ""),
    ("KEC-MBR", "service_time_median", "30", "2025-01-01", "", ""),
    ("KEC-MKT", "service_time_median", "30", "2025-01-01", "", ""),
    ("KEC-MHV", "service_time_median", "30", "2025-01-01", "", ""),
    ("PKM-PDB", "wait_time_median", "15", "2026-01-01", "", "20"),
    ("DINKES", "ikm", "82", "2026-01-01", "", "5"),
]

COMMENTS_GOOD = [
    "Petugas ramah", "Pelayanan cepat, terima kasih", "Petugas ramah dan sabar menjelaskan",
    "Ruang tunggu bersih dan nyaman", "Antrian sekarang lebih teratur",
    "Pelayanan sudah bagus, pertahankan", "Dokternya teliti", "Tidak dipungut biaya, mantap",
    "Prosesnya jelas dan tidak berbelit", "Terima kasih atas pelayanannya",
    "Sistem antrean online sangat membantu", "Petugas tanggap, informasi jelas",
]
COMMENTS_BAD = [
    "Antrian terlalu lama", "Waktu tunggu lama sekali", "Petugas kurang ramah",
    "Ruang tunggu panas, kipas rusak", "Parkir sempit", "Jaringan sering gangguan",
    "Persyaratan tidak jelas, bolak-balik", "Loket buka terlambat",
    "Kursi ruang tunggu kurang", "Informasi jadwal dokter tidak diumumkan",
    "Pelayanan lambat, petugas sedikit", "Blangko habis, disuruh datang lagi",
    "Toilet kotor", "Nomor antrean dipanggil tidak berurutan",
]
COMMENTS_NEUTRAL = [
    "Cukup baik", "Mohon ditambah petugas loket", "Sebaiknya ada papan informasi",
    "Semoga ke depan lebih baik lagi", "Mohon disediakan air minum",
    "Perlu tambahan kursi roda", "Jam buka sebaiknya diperpanjang",
]
# Comments a spreadsheet would read as formulas: exported files must escape them.
COMMENTS_TRICKY = [
    "=HYPERLINK(\"http://contoh.invalid\",\"klik\")", "@admin tolong perbaiki AC",
    "=1+1 pelayanan oke", "+62 812 6000 111 mohon dihubungi", "-- antrian kacau --",
]
EDUCATION = np.array(["SD", "SMP", "SMA", "D3", "S1", "S2"])
EDUCATION_P = np.array([0.12, 0.16, 0.40, 0.10, 0.19, 0.03])


# -- calendar ----------------------------------------------------------------------------------
def calendar_days() -> tuple[np.ndarray, np.ndarray]:
    """Every day of the period and its weekday (0 = Monday)."""
    days = np.arange(FIRST_DAY, LAST_DAY + 1, dtype="datetime64[D]")
    weekday = (days.astype("int64") - 4) % 7  # 1970-01-01 was a Thursday
    return days, weekday


def _in(days: np.ndarray, span: tuple[np.datetime64, np.datetime64]) -> np.ndarray:
    return (days >= span[0]) & (days <= span[1])


def day_volume_factor(days: np.ndarray, weekday: np.ndarray, saturday: bool) -> np.ndarray:
    """Relative number of visits per day: weekday pattern, closures, Ramadan, Lebaran."""
    factor = WEEKDAY_VOLUME[weekday].copy()
    if not saturday:
        factor[weekday == 5] = 0.0
    factor[np.isin(days, HOLIDAYS)] = 0.0
    factor[_in(days, RAMADAN)] *= 0.85
    factor[_in(days, LEBARAN)] *= 0.45
    factor[_in(days, YEAR_END)] *= 0.8
    return factor


# -- events ------------------------------------------------------------------------------------
def _lognormal(rng: np.random.Generator, median: np.ndarray, sigma: float) -> np.ndarray:
    return median * np.exp(rng.normal(0.0, sigma, size=median.shape))


def unit_events(rng: np.random.Generator, unit: Unit, days: np.ndarray,
                weekday: np.ndarray) -> pd.DataFrame:
    """All visits of one unit; times as integer seconds since the epoch (local), -1 = empty."""
    expected = unit.daily_visits * day_volume_factor(days, weekday, unit.saturday)
    per_day = rng.poisson(expected)
    day = np.repeat(days, per_day)
    is_saturday = np.repeat(weekday, per_day) == 5
    n = day.size
    story = unit.story(day) if unit.story else {}

    def factor(name: str) -> np.ndarray:
        return story.get(name, np.ones(n))

    # Arrival: a morning peak (beta(2, 4) over the opening hours) over seconds of the day.
    close = np.where(is_saturday, CLOSE_SATURDAY_SECONDS, CLOSE_WEEKDAY_SECONDS)
    offset = rng.beta(2.0, 4.0, size=n) * (close - OPEN_SECONDS)
    arrived = day.astype("datetime64[s]").astype("int64") + OPEN_SECONDS + offset.astype("int64")
    hour_of_day = offset / 3600.0

    weights = np.array([s.weight for s in unit.services])
    service_idx = rng.choice(len(unit.services), size=n, p=weights / weights.sum())
    work_median = np.array([s.work_minutes for s in unit.services])[service_idx]
    wait_share = np.array([s.wait_share for s in unit.services])[service_idx]

    online_share = np.clip(unit.online * factor("online"), 0, 0.8)
    draw = rng.random(n)
    channel = np.where(draw < online_share, "online",
                       np.where(draw < online_share + unit.phone, "phone", "counter"))

    booked = channel != "counter"
    draw = rng.random(n)
    p_no_show = np.clip(unit.no_show * factor("no_show"), 0, 0.9)
    p_abandon = np.clip(unit.abandon * factor("abandon"), 0, 0.9)
    outcome = np.full(n, "completed", dtype=object)
    outcome[booked & (draw < p_no_show)] = "no_show"
    outcome[~booked & (draw < p_abandon)] = "abandoned"
    # Some online bookings get abandoned too (came, then left before being called).
    outcome[booked & (draw >= p_no_show) & (draw < p_no_show + p_abandon * 0.5)] = "abandoned"

    # Waits are longest at the morning peak (first two hours).
    peak = np.where(hour_of_day < 2.0, 1.35, np.where(hour_of_day > 5.0, 0.75, 1.0))
    wait_median = unit.wait_minutes * wait_share * peak * factor("wait")
    wait_s = np.round(_lognormal(rng, wait_median, 0.5) * 60).astype("int64")
    work_s = np.maximum(np.round(_lognormal(rng, work_median * factor("work"), 0.45) * 60), 60)
    work_s = work_s.astype("int64")

    completed = outcome == "completed"
    has_start = completed & (rng.random(n) >= 0.06)  # some counters do not log the call
    started = np.where(has_start, arrived + wait_s, -1)
    finished = np.where(completed, arrived + wait_s + work_s, -1)

    return pd.DataFrame({
        "unit_code": unit.code,
        "service_code": np.array([s.code for s in unit.services])[service_idx],
        "arrived": arrived,
        "started": started,
        "completed": finished,
        "outcome": outcome.astype(str),
        "channel": channel,
    })


def _ticket_ids(frame: pd.DataFrame) -> np.ndarray:
    """`YYMMDD-NNN`: the queue number of the day, unique per unit (frame sorted by unit, time)."""
    day_key = frame["arrived"].to_numpy() // 86400
    group = frame["unit_code"].to_numpy() + "|" + day_key.astype(str)
    starts = np.r_[True, group[1:] != group[:-1]]
    first_index = np.maximum.accumulate(np.where(starts, np.arange(len(frame)), 0))
    number = np.arange(len(frame)) - first_index + 1
    if number.max() >= 1000:
        raise ValueError("more than 999 visits in a day at one unit; widen the ticket number")
    prefix = pd.to_datetime(day_key, unit="D").strftime("%y%m%d-").to_numpy().astype(str)
    return np.char.add(prefix, np.char.zfill(number.astype(str), 3))


def format_timestamps(seconds: np.ndarray, offset_kind: np.ndarray) -> np.ndarray:
    """Local epoch seconds (-1 = empty) as text; offset_kind 1 = `+07:00`, 2 = UTC `+00:00`."""
    shifted = np.where(offset_kind == 2, seconds - UTC_OFFSET.astype("int64"), seconds)
    text = np.datetime_as_string(shifted.astype("datetime64[s]"), unit="s")
    text = np.char.replace(text, "T", " ")
    suffix = np.select([offset_kind == 1, offset_kind == 2], ["+07:00", "+00:00"], "")
    text = np.char.add(text, suffix)
    return np.where(seconds < 0, "", text)


def build_events(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The events file, and the raw frame (seconds) the survey sizes are derived from."""
    days, weekday = calendar_days()
    raw = pd.concat([unit_events(rng, unit, days, weekday) for unit in UNITS],
                    ignore_index=True)
    raw = raw.sort_values(["unit_code", "arrived"], kind="stable", ignore_index=True)
    raw["ticket_id"] = _ticket_ids(raw)
    # The file reads like daily exports of each unit, one after the other.
    raw["day"] = raw["arrived"] // 86400
    raw = raw.sort_values(["day", "unit_code", "arrived"], kind="stable", ignore_index=True)

    offset_kind = np.where(rng.random(len(raw)) < OFFSET_SHARE, rng.integers(1, 3, len(raw)), 0)
    events = pd.DataFrame({
        "unit_code": raw["unit_code"],
        "service_code": raw["service_code"],
        "ticket_id": raw["ticket_id"],
        "arrived_at": format_timestamps(raw["arrived"].to_numpy(), offset_kind),
        "started_at": format_timestamps(raw["started"].to_numpy(), offset_kind),
        "completed_at": format_timestamps(raw["completed"].to_numpy(), offset_kind),
        "outcome": raw["outcome"],
        "channel": raw["channel"],
    })
    return events, raw


# -- survey ------------------------------------------------------------------------------------
def _quarter_of(day_numbers: np.ndarray) -> np.ndarray:
    dates = day_numbers.astype("datetime64[D]")
    months = dates.astype("datetime64[M]").astype("int64")
    return months - months % 3  # months since 1970 of the quarter's first month


def unit_survey(rng: np.random.Generator, unit: Unit, raw: pd.DataFrame,
                days: np.ndarray, weekday: np.ndarray) -> pd.DataFrame:
    """SKM responses of one unit: per quarter, the Krejcie-Morgan minimum times its factor."""
    mine = raw[(raw["unit_code"] == unit.code) & (raw["outcome"] == "completed")]
    served_per_quarter = pd.Series(_quarter_of(mine["day"].to_numpy())).value_counts().sort_index()
    open_days = days[day_volume_factor(days, weekday, unit.saturday) > 0]
    open_quarter = _quarter_of(open_days.astype("int64"))

    frames = []
    for quarter, served in served_per_quarter.items():
        size = round(min_sample(int(served)) * unit.sample_factor * rng.uniform(0.97, 1.1))
        quarter_days = open_days[open_quarter == quarter]
        day = rng.choice(quarter_days, size=size)
        frames.append(pd.DataFrame({"day": day}))
    frame = pd.concat(frames, ignore_index=True).sort_values("day", kind="stable",
                                                              ignore_index=True)
    n = len(frame)
    day = frame["day"].to_numpy()

    # Most fill the form at the counter; a third online in the evening.
    at_counter = rng.random(n) < 0.68
    seconds = np.where(at_counter, rng.integers(8 * 3600, 15 * 3600, n),
                       rng.integers(18 * 3600, 23 * 3600, n))
    seconds = seconds - seconds % 60
    submitted = day.astype("datetime64[s]").astype("int64") + seconds

    # Answers: a latent score per respondent and element, rounded into 1..4.
    mood = unit.satisfaction
    if unit.code == "DUKCAPIL":  # the outage also shows in satisfaction
        mood = np.where(day >= DUKCAPIL_OUTAGE, unit.satisfaction - 0.25, unit.satisfaction)
    if unit.code == "PKM-BLW":
        mood = unit.satisfaction - 0.2 * _ramp(day, np.datetime64("2026-01-01"), 40)
    person = rng.normal(0.0, 0.35, n) + mood
    element_shift = rng.normal(0.0, 0.08, 9)
    if unit.weak_element:
        element_shift[unit.weak_element - 1] = -0.7
    latent = person[:, None] + element_shift[None, :] + rng.normal(0.0, 0.45, (n, 9))
    answers = np.clip(np.rint(latent), 1, 4).astype(int).astype(str)
    answers[rng.random((n, 9)) < 0.025] = ""

    services = np.array([s.code for s in unit.services])
    service = np.where(rng.random(n) < 0.6, rng.choice(services, n), "")
    gender = rng.choice(np.array(["L", "P", ""]), n, p=[0.44, 0.50, 0.06])
    age = rng.integers(17, 76, n).astype(str)
    age[rng.random(n) < 0.04] = ""
    education = rng.choice(EDUCATION, n, p=EDUCATION_P)
    education[rng.random(n) < 0.05] = ""

    kind = rng.random(n)
    pick_good = rng.choice(np.array(COMMENTS_GOOD), n)
    pick_bad = rng.choice(np.array(COMMENTS_BAD), n)
    pick_neutral = rng.choice(np.array(COMMENTS_NEUTRAL), n)
    pick_tricky = rng.choice(np.array(COMMENTS_TRICKY), n)
    bad_share = np.clip(0.35 - (person - 3.0) * 0.5, 0.05, 0.8)  # unhappier, more complaints
    comment = np.where(kind < 0.55, "",  # most leave the comment empty
                       np.where(kind < 0.55 + 0.45 * bad_share, pick_bad,
                                np.where(kind < 0.92, pick_good, pick_neutral)))
    comment = np.where(rng.random(n) < 0.006, pick_tricky, comment)

    offset_kind = np.where(rng.random(n) < OFFSET_SHARE, rng.integers(1, 3, n), 0)
    columns = {
        "unit_code": unit.code,
        "response_id": [f"R-{unit.code}-{i:05d}" for i in range(1, n + 1)],
        "submitted_at": format_timestamps(submitted, offset_kind),
    }
    columns.update({f"u{i + 1}": answers[:, i] for i in range(9)})
    columns.update({"service_code": service, "respondent_gender": gender,
                    "respondent_age": age, "respondent_education": education,
                    "comment": comment})
    return pd.DataFrame(columns)


def build_survey(rng: np.random.Generator, raw: pd.DataFrame) -> pd.DataFrame:
    days, weekday = calendar_days()
    frames = [unit_survey(rng, unit, raw, days, weekday) for unit in UNITS]
    return pd.concat(frames, ignore_index=True)


# -- small tables ------------------------------------------------------------------------------
def build_units() -> pd.DataFrame:
    return pd.DataFrame([(u.code, u.name, u.type, u.parent, u.district) for u in UNITS],
                        columns=UNIT_COLUMNS)


def build_services() -> pd.DataFrame:
    rows = [(u.code, s.code, s.name, "" if s.standard_minutes is None else str(s.standard_minutes))
            for u in UNITS for s in u.services]
    return pd.DataFrame(rows, columns=SERVICE_COLUMNS)


def build_targets() -> pd.DataFrame:
    return pd.DataFrame(TARGETS, columns=TARGET_COLUMNS)


# -- output ------------------------------------------------------------------------------------
def _csv_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue().encode("utf-8")


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Plain CSV, or gzip when the name ends in .gz (mtime 0, no name: reproducible bytes)."""
    data = _csv_bytes(frame)
    if path.suffix == ".gz":
        with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw,
                                                     compresslevel=9, mtime=0) as packed:
            packed.write(data)
    else:
        path.write_bytes(data)
    return path


OUTPUT_FILES = {
    "units": "units.csv",
    "services": "services.csv",
    "targets": "targets.csv",
    "events": "events.csv.gz",
    "survey": "survey.csv.gz",
}


def make_sample(out_dir: Path = SAMPLE_DIR) -> dict[str, Path]:
    """Write the demo city into `out_dir`; returns {kind: path}."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    events, raw = build_events(rng)
    survey = build_survey(rng, raw)
    frames = {"units": build_units(), "services": build_services(), "targets": build_targets(),
              "events": events, "survey": survey}
    return {kind: write_csv(frames[kind], out_dir / name) for kind, name in OUTPUT_FILES.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the Medan demo city (contract CSVs).")
    parser.add_argument("--out", type=Path, default=SAMPLE_DIR, help="output folder")
    args = parser.parse_args(argv)
    for kind, path in make_sample(args.out).items():
        print(f"{kind:9s} {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
