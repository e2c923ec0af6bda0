"""`kpis`, `ikm`, `spc`: the figures of contract §2 for scripts (contract §3). Their JSON and
CSV are fixed by the contract to the byte (shared/spec/example); the text forms are for people,
in the CLI's language."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys

from kpi.commands.common import EXIT_OK, Add, codes, open_store, say
from kpi.errors import UnknownArgument
from kpi.periods import parse_date
from kpi.vocabulary import KPIS, PERIODS


def _date_range(args: argparse.Namespace) -> tuple[dt.date | None, dt.date | None]:
    """`--from` and `--to` as dates (None where not given); one sentence when they are wrong."""
    date_from = parse_date(args.date_from, say("cli.what.from_date")) if args.date_from else None
    date_to = parse_date(args.date_to, say("cli.what.to_date")) if args.date_to else None
    if date_from and date_to and date_from > date_to:
        raise UnknownArgument("kpi.error.from_after_to", date_from=date_from, date_to=date_to)
    return date_from, date_to


def _required_range(args: argparse.Namespace) -> tuple[dt.date, dt.date]:
    """`--from` and `--to` of a command whose parser requires both."""
    date_from, date_to = _date_range(args)
    assert date_from is not None and date_to is not None  # required=True in register()
    return date_from, date_to


def cmd_kpis(args: argparse.Namespace) -> int:
    from kpi import metrics  # on use: --help stays fast

    date_from, date_to = _required_range(args)
    store = open_store(args)
    table = metrics.kpi_table(
        store, period=args.period, date_from=date_from, date_to=date_to,
        units=[args.unit] if args.unit else None, kpis=[args.kpi] if args.kpi else None)
    records = metrics.kpi_records(table)
    if args.format == "json":
        print(json.dumps(records, indent=1, ensure_ascii=False))
    elif args.format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=list(metrics.KPI_RECORD_KEYS),
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    elif not records:
        print(say("cli.out.kpis_none"))
    else:
        shown = table.assign(
            value=[f"{value:.{KPIS[kpi].decimals}f}"
                   for value, kpi in zip(table["value"], table["kpi"], strict=True)],
            target=table["target"].map(lambda target: "" if target != target else f"{target:g}"))
        print(shown[list(metrics.KPI_RECORD_KEYS)].to_string(index=False))
    return EXIT_OK


def cmd_ikm(args: argparse.Namespace) -> int:
    from kpi import skm  # on use: --help stays fast

    date_from, date_to = _required_range(args)
    rows = skm.ikm_table(open_store(args), date_from=date_from, date_to=date_to, unit=args.unit)
    if args.format == "json":
        print(json.dumps([{key: value for key, value in row.items() if key != "ikm_rounded"}
                          for row in rows], indent=1, ensure_ascii=False))
    elif not rows:
        print(say("cli.out.ikm_none"))
    else:
        for row in rows:
            nrr = " ".join(f"{element}={'-' if value is None else f'{value:.2f}'}"
                           for element, value in row["nrr"].items())
            sample = say("cli.out.ikm_sample_ok" if row["sample_ok"] else "cli.out.ikm_sample_small")
            print(say("cli.out.ikm_line", unit=row["unit_code"], n=row["n"],
                      ikm=row["ikm_rounded"], grade=row["grade"], label=row["label"],
                      min_sample=row["min_sample"], sample=sample, nrr=nrr))
    return EXIT_OK


def cmd_spc(args: argparse.Namespace) -> int:
    from kpi import spc  # on use: --help stays fast

    date_from, date_to = _date_range(args)
    store = open_store(args)
    store.init()  # a store made before the interventions table gets it (idempotent)
    rebase = [parse_date(day, say("cli.what.rebase_date")) for day in codes(args.rebase)]
    chart = spc.spc_series(store, unit=args.unit, kpi=args.kpi, period=args.period,
                           date_from=date_from, date_to=date_to, baseline=args.baseline,
                           rebase=rebase)
    if args.format == "json":
        print(json.dumps(chart, indent=1, ensure_ascii=False))
        return EXIT_OK

    def show(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    print(say("cli.out.spc_header", unit=chart["unit_code"], kpi=chart["kpi"],
              period=chart["period"], centre=show(chart["centre"]), lcl=show(chart["lcl"]),
              ucl=show(chart["ucl"]), trial=say("cli.out.spc_trial") if chart["trial"] else "",
              variation=chart["variation"] or "-", assurance=chart["assurance"] or "-",
              target=show(chart["target"])))
    for point in chart["points"]:
        print(f"  {point['period_start']}  {point['value']:12.3f}  {', '.join(point['signals'])}")
    return EXIT_OK


def register(add: Add) -> None:
    kpis = add("kpis", cmd_kpis, say("cli.help.kpis"))
    kpis.add_argument("--period", required=True, choices=PERIODS)
    kpis.add_argument("--from", dest="date_from", required=True, metavar="D")
    kpis.add_argument("--to", dest="date_to", required=True, metavar="D")
    kpis.add_argument("--unit")
    kpis.add_argument("--kpi")
    kpis.add_argument("--format", choices=["json", "csv"], default=None)

    ikm = add("ikm", cmd_ikm, say("cli.help.ikm"))
    ikm.add_argument("--from", dest="date_from", required=True, metavar="D")
    ikm.add_argument("--to", dest="date_to", required=True, metavar="D")
    ikm.add_argument("--unit")
    ikm.add_argument("--format", choices=["json"], default=None)

    spc = add("spc", cmd_spc, say("cli.help.spc"))
    spc.add_argument("--unit", required=True)
    spc.add_argument("--kpi", required=True)
    spc.add_argument("--period", required=True, choices=PERIODS)
    spc.add_argument("--from", dest="date_from", metavar="D")
    spc.add_argument("--to", dest="date_to", metavar="D")
    spc.add_argument("--baseline", type=int)
    spc.add_argument("--rebase", metavar="D[,D...]", default=None, help=say("cli.help.spc_rebase"))
    spc.add_argument("--format", choices=["json"], default=None)
