"""`python -m kpi`: the headless interface of the contract (section 3).

Exit status: 0 success, 2 rejected input (with the report), 1 any other error. An error is
one sentence on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kpi import audit, commands, config
from kpi.audit import cli_user
from kpi.commands import notify as notify_commands
from kpi.commands.common import EXIT_ERROR, EXIT_OK, EXIT_REJECTED, open_store
from kpi.errors import FileRejected, InputRejected, KinerjaError, UnknownArgument
from kpi.i18n import t
from kpi.periods import parse_date, parse_week, week_label
from kpi.vocabulary import KINDS, KPIS, PERIODS

if TYPE_CHECKING:  # imported on use: `--help` stays fast
    from kpi.import_mapping import ImportMapping
    from kpi.store import Store


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one sentence and exit status 1."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_ERROR, f"{self.prog}: {message} (see --help)\n")


# -- command handlers: each returns an exit status --------------------------------------------
def cmd_init(args: argparse.Namespace) -> int:
    store = open_store(args, create=True)
    if args.partition_by_month:
        store.partition_by_month()
    print(f"Store ready at {store.path}"
          + (f"; its data files go to {store.location.data_path}" if store.location.data_path
             else ""))
    commands.audit_key.announce_key(store)  # the audit key, made here unless configured
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from kpi import ingest  # on use: --help stays fast

    store = open_store(args, create=True)
    results = ingest.load_demo(store)
    print(t("batches.demo_loaded", "en", path=store.path))
    for result in results:
        if not result.ok:
            return _report_rejected(ingest.rejection_report(result, None), result)
        print("  " + ingest.summary(result))
    return EXIT_OK


def _report_rejected(report: list[str], result) -> int:
    """The rejected rows on stdout, the one sentence on stderr: exit status 2."""
    from kpi import ingest  # on use: --help stays fast

    print("\n".join(report))
    print(ingest.rejected_sentence(result), file=sys.stderr)
    return EXIT_REJECTED


def cmd_ingest(args: argparse.Namespace) -> int:
    from kpi import ingest  # on use: --help stays fast

    store = open_store(args)
    mapping = _mapping_argument(store, args.mapping) if args.mapping else None
    try:
        result = ingest.ingest_file(store, args.kind, args.file, loaded_by=cli_user(),
                                    mapping=mapping, accept_valid=args.accept_valid)
    except FileRejected as error:  # a whole-file problem: its sentence(s) on stderr
        if not args.json:
            raise
        result = ingest.IngestResult(args.kind, Path(args.file).name, "",
                                     problems=error.problems)
    if args.json:
        print(json.dumps(result.to_dict(), indent=1, ensure_ascii=False))
        if result.ok and args.notify:  # issue 25: as below, without a line on stdout
            notify_commands.alerts_after_import(store, quiet=True)
        if not result.ok:
            print(ingest.rejected_sentence(result), file=sys.stderr)
            if args.problems_csv:
                ingest.write_problems(result, args.problems_csv)
        return EXIT_OK if result.ok else EXIT_REJECTED
    if not result.ok:
        return _report_rejected(ingest.rejection_report(result, args.problems_csv), result)
    print(ingest.summary(result))
    if args.notify:  # issue 25: the alerts this import made due (never fails the import)
        notify_commands.alerts_after_import(store)
    return EXIT_OK


def _mapping_argument(store: Store, value: str) -> ImportMapping:
    """`--mapping`: a §1.1 TOML file, or the name of a mapping saved in the store."""
    from kpi import import_mapping, saved_mappings  # on use: --help stays fast

    if Path(value).is_file() or value.endswith(".toml"):
        return import_mapping.load(value)
    return saved_mappings.load_mapping(store, value)


def cmd_mappings(args: argparse.Namespace) -> int:
    from kpi import import_mapping, saved_mappings  # on use: --help stays fast

    store = open_store(args)
    if args.action == "list":
        saved = saved_mappings.list_mappings(store)
        if saved.empty:
            print(t("importmap.none_saved", "en"))
        for row in saved.to_dict("records"):
            print(f"{row['name']}\t{row['kind']}\t{row['saved_by'] or ''}\t{row['saved_at']}")
        return EXIT_OK
    if args.action in ("show", "export"):
        if not args.name:
            raise InputRejected("importmap.name_needed")
        text = saved_mappings.load_mapping(store, args.name).to_toml()
        if args.action == "show":
            print(text, end="")
            return EXIT_OK
        if not args.file:
            raise InputRejected("importmap.file_needed")
        Path(args.file).write_text(text, encoding="utf-8")
        print(t("importmap.exported", "en", name=args.name, file=args.file))
        return EXIT_OK
    # import FILE [--name NAME]: the file is the first positional argument
    path = args.name
    if not path:
        raise InputRejected("importmap.file_needed")
    mapping = import_mapping.load(path)
    name = args.as_name or Path(path).stem
    saved_mappings.save_mapping(store, name, mapping, by=cli_user())
    print(t("importmap.imported", "en", name=name, kind=mapping.kind))
    return EXIT_OK


def cmd_batches(args: argparse.Namespace) -> int:
    from kpi import ingest  # on use: --help stays fast

    batches = ingest.list_batches(open_store(args))
    if args.json:
        records = batches.astype(object).where(batches.notna(), None).to_dict("records")
        print(json.dumps(records, indent=1, ensure_ascii=False, default=str))
    elif batches.empty:
        print(t("batches.none", "en"))
    else:
        shown = batches.drop(columns=["sha256"])
        print(shown.astype(object).where(shown.notna(), "").to_string(index=False))
    return EXIT_OK


def cmd_rollback(args: argparse.Namespace) -> int:
    from kpi import ingest  # on use: --help stays fast

    undone = ingest.rollback(open_store(args), args.batch, by=cli_user())
    print(t("batches.rolled_back", "en", batch=undone["batch_id"], kind=undone["kind"],
            removed=undone["removed"], restored=undone["restored"]))
    return EXIT_OK


def _date_range(args: argparse.Namespace) -> tuple[Any, Any]:
    """`--from` and `--to` as dates (None where not given); one sentence when they are wrong."""

    date_from = parse_date(args.date_from, "--from date") if args.date_from else None
    date_to = parse_date(args.date_to, "--to date") if args.date_to else None
    if date_from and date_to and date_from > date_to:
        raise UnknownArgument("kpi.error.from_after_to", date_from=date_from,
                                      date_to=date_to)
    return date_from, date_to


def cmd_kpis(args: argparse.Namespace) -> int:
    from kpi import metrics  # on use: --help stays fast

    date_from, date_to = _date_range(args)
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
        print("No KPI values in that range.")
    else:
        shown = table.assign(
            value=[f"{value:.{KPIS[kpi].decimals}f}"
                   for value, kpi in zip(table["value"], table["kpi"], strict=True)],
            target=table["target"].map(lambda target: "" if target != target else f"{target:g}"))
        print(shown[list(metrics.KPI_RECORD_KEYS)].to_string(index=False))
    return EXIT_OK


def cmd_ikm(args: argparse.Namespace) -> int:
    from kpi import skm  # on use: --help stays fast

    date_from, date_to = _date_range(args)
    rows = skm.ikm_table(open_store(args), date_from=date_from, date_to=date_to, unit=args.unit)
    if args.format == "json":
        print(json.dumps([{key: value for key, value in row.items() if key != "ikm_rounded"}
                          for row in rows], indent=1, ensure_ascii=False))
    elif not rows:
        print("No survey responses in that range.")
    else:
        for row in rows:
            nrr = " ".join(f"{element}={'-' if value is None else f'{value:.2f}'}"
                           for element, value in row["nrr"].items())
            sample = "ok" if row["sample_ok"] else "sample too small"
            print(f"{row['unit_code']:<12} n={row['n']:<6} IKM {row['ikm_rounded']:6.2f} "
                  f"{row['grade']} {row['label']:<12} min sample {row['min_sample']} ({sample})"
                  f"  {nrr}")
    return EXIT_OK


def cmd_spc(args: argparse.Namespace) -> int:
    from kpi import spc  # on use: --help stays fast

    date_from, date_to = _date_range(args)
    store = open_store(args)
    store.init()  # a store made before the interventions table gets it (idempotent)
    rebase = [parse_date(day.strip(), "--rebase date")
              for day in (args.rebase or "").split(",") if day.strip()]
    chart = spc.spc_series(store, unit=args.unit, kpi=args.kpi, period=args.period,
                           date_from=date_from, date_to=date_to, baseline=args.baseline,
                           rebase=rebase)
    if args.format == "json":
        print(json.dumps(chart, indent=1, ensure_ascii=False))
        return EXIT_OK

    def show(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    print(f"{chart['unit_code']} {chart['kpi']} by {chart['period']}: centre {show(chart['centre'])}"
          f", limits {show(chart['lcl'])} to {show(chart['ucl'])}"
          f"{' (trial)' if chart['trial'] else ''}; variation {chart['variation'] or '-'}, "
          f"assurance {chart['assurance'] or '-'} (target {show(chart['target'])})")
    for point in chart["points"]:
        print(f"  {point['period_start']}  {point['value']:12.3f}  {', '.join(point['signals'])}")
    return EXIT_OK


def cmd_review(args: argparse.Namespace) -> int:
    from kpi.pack import write_pack  # on use: --help stays fast

    week = parse_week(args.week)  # an invalid week fails before the store is opened
    store = open_store(args)
    store.init()  # a store made before the review tables existed gets them (idempotent)
    for path in write_pack(store, week_label(week), args.out, args.lang):
        print(path)
    return EXIT_OK


def cmd_users(args: argparse.Namespace) -> int:
    from kpi import users  # on use: --help stays fast

    store = open_store(args)
    store.init()  # a store made before the users table existed gets it (idempotent)
    if args.users_command == "add":
        try:
            done = users.add_user(store, args.email, args.role, args.units, by=cli_user())
        except InputRejected as error:  # a refused change, not a rejected file: exit 1
            print(str(error), file=sys.stderr)
            return EXIT_ERROR
        scope = ", ".join(done["units"]) or "the whole city"
        print(f"{'Changed' if done['changed'] else 'Added'} {done['email']}: {done['role']}, "
              f"{scope}")
    elif args.users_command == "notify":  # issue 25: what the user receives by e-mail

        return notify_commands.users_notify(args, store)
    elif args.users_command == "remove":
        try:
            users.remove_user(store, args.email, by=cli_user())
        except InputRejected as error:  # a refused change, not a rejected file: exit 1
            print(str(error), file=sys.stderr)
            return EXIT_ERROR
        print(f"Removed {args.email.strip().lower()}")
    else:
        table = users.list_users(store)
        if args.json:
            records = [{"email": row["email"], "role": row["role"],
                        "units": list(users.parse_units(row["units"])),
                        "added_by": row["added_by"], "added_at": str(row["added_at"])}
                       for row in table.to_dict("records")]
            print(json.dumps(records, indent=1, ensure_ascii=False))
        elif table.empty:
            print("No users yet: add the first admin with "
                  "`python -m kpi users add EMAIL --role admin`.")
        else:
            print(table.to_string(index=False))
    return EXIT_OK


def cmd_audit(args: argparse.Namespace) -> int:

    since = parse_date(args.since, "--since date") if args.since else None
    store = open_store(args)
    store.init()
    if args.verify:
        verdict = audit.verify(store)
        print(audit.verdict_sentence(verdict, "en"), file=sys.stdout if verdict.ok else sys.stderr)
        return EXIT_OK if verdict.ok else EXIT_ERROR
    table = audit.trail(store, since=since)
    if args.json:
        records = [{**row, "logged_at": str(row["logged_at"]),
                    "details": json.loads(row["details"])} for row in table.to_dict("records")]
        print(json.dumps(records, indent=1, ensure_ascii=False))
    elif table.empty:
        print("No writes recorded in that range.")
    else:
        print(table.drop(columns=["prev_sha256", "sha256"]).to_string(index=False))
    return EXIT_OK


def cmd_maintain(args: argparse.Namespace) -> int:
    from kpi import review  # on use: --help stays fast

    store = open_store(args)
    done = store.maintain(config.keep_snapshots_days(), review.pinned_snapshots(store))
    audit.record_alone(store, None, "store.maintain", store.path, done)
    print(f"Maintenance done on {store.path}: {done['snapshots_expired']} snapshot(s) expired, "
          f"{done['files_deleted']} file(s) deleted.")
    return EXIT_OK


def cmd_backup(args: argparse.Namespace) -> int:
    store = open_store(args)
    target = store.backup(args.dir)
    audit.record_alone(store, None, "store.backup", str(target))
    print(f"Backup written to {target}")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from kpi.store import restore  # on use: --help stays fast

    kept = restore(args.dir, config.store_location(args.db), busy_timeout=config.busy_timeout(),
                   data_path=config.data_path())
    store = open_store(args)
    audit.record_alone(store, None, "store.restore", str(args.dir),
                       {"replaced_store_kept_in": str(kept) if kept else None})
    print(f"Store {store.path} restored from {args.dir}"
          + (f"; the store it replaced is kept in {kept}" if kept else ""))
    return EXIT_OK


def cmd_migrate(args: argparse.Namespace) -> int:
    from kpi import migrate  # on use: --help stays fast

    store = open_store(args, create=True)
    copied = migrate.migrate(store, args.old)
    print(f"Moved {args.old} into {store.path}:")
    for table, rows in copied.items():
        print(f"  {table}: {rows} row(s)")
    return EXIT_OK


# -- parser -----------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m kpi", description="Kinerja: service-quality KPIs, headless.")
    parser.add_argument("--db", help="the store: a folder, or a postgresql:// catalog URL "
                        "(default: $KPI_DB or data/kpi)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def add(name: str, handler: Callable[[argparse.Namespace], int], help_text: str):
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(handler=handler)
        return command

    init = add("init", cmd_init, "create an empty store (idempotent)")
    init.add_argument("--partition-by-month", action="store_true",
                      help="keep events and responses in monthly files (a province's years)")
    add("demo", cmd_demo, "load the bundled demo city (data/sample)")

    ingest = add("ingest", cmd_ingest, "import one CSV or XLSX file, all or nothing")
    ingest.add_argument("kind", choices=KINDS)
    ingest.add_argument("file")
    ingest.add_argument("--json", action="store_true", help="print the result as JSON")
    ingest.add_argument("--problems-csv", default=None,
                        help="write every rejected row to this CSV file")
    ingest.add_argument("--mapping", default=None, metavar="MAPPING.toml",
                        help="a contract §1.1 mapping (TOML file, or a saved mapping's name)")
    ingest.add_argument("--accept-valid", action="store_true",
                        help="import the valid rows and set the rejected ones aside")
    ingest.add_argument("--notify", action="store_true",
                        help="then e-mail the alerts the import made due (notify alerts)")

    mapping_cmd = add("mappings", cmd_mappings,
                      "saved import mappings: list | show NAME | export NAME FILE | import FILE")
    mapping_cmd.add_argument("action", choices=["list", "show", "export", "import"])
    mapping_cmd.add_argument("name", nargs="?", help="the mapping's name (import: the file)")
    mapping_cmd.add_argument("file", nargs="?", help="export: the TOML file to write")
    mapping_cmd.add_argument("--name", dest="as_name", default=None,
                             help="import: save under this name (default: the file's stem)")

    batches = add("batches", cmd_batches, "list what was loaded, by whom, when, from which file")
    batches.add_argument("--json", action="store_true")

    rollback = add("rollback", cmd_rollback, "undo one load, restoring the rows it replaced")
    rollback.add_argument("batch", type=int)

    kpis = add("kpis", cmd_kpis, "KPI values per unit and period, with targets and status")
    kpis.add_argument("--period", required=True, choices=PERIODS)
    kpis.add_argument("--from", dest="date_from", required=True, metavar="D")
    kpis.add_argument("--to", dest="date_to", required=True, metavar="D")
    kpis.add_argument("--unit")
    kpis.add_argument("--kpi")
    kpis.add_argument("--format", choices=["json", "csv"], default=None)

    ikm = add("ikm", cmd_ikm, "the SKM satisfaction index (IKM) per unit")
    ikm.add_argument("--from", dest="date_from", required=True, metavar="D")
    ikm.add_argument("--to", dest="date_to", required=True, metavar="D")
    ikm.add_argument("--unit")
    ikm.add_argument("--format", choices=["json"], default=None)

    spc = add("spc", cmd_spc, "the XmR chart of one unit's KPI")
    spc.add_argument("--unit", required=True)
    spc.add_argument("--kpi", required=True)
    spc.add_argument("--period", required=True, choices=PERIODS)
    spc.add_argument("--from", dest="date_from", metavar="D")
    spc.add_argument("--to", dest="date_to", metavar="D")
    spc.add_argument("--baseline", type=int)
    spc.add_argument("--rebase", metavar="D[,D...]", default=None,
                     help="start new limits at these dates, besides the stored rebasing "
                          "interventions")
    spc.add_argument("--format", choices=["json"], default=None)

    users = add("users", cmd_users, "who may sign in, with which role and unit scope")
    users_sub = users.add_subparsers(dest="users_command", required=True, parser_class=_Parser)
    users_add = users_sub.add_parser("add", help="add a user, or change an existing one")
    users_add.add_argument("email")
    users_add.add_argument("--role", required=True, choices=["viewer", "analyst", "reviewer",
                                                             "admin"])
    users_add.add_argument("--units", default=None, metavar="CODE[,CODE...]",
                           help="limit an analyst's or reviewer's changes to these units' "
                                "subtrees")
    users_remove = users_sub.add_parser("remove", help="remove a user")
    users_remove.add_argument("email")
    users_list = users_sub.add_parser("list", help="list the users")
    users_list.add_argument("--json", action="store_true")
    commands.notify.add_users_notify(users_sub)  # issue 25: `users notify EMAIL …`

    audit = add("audit", cmd_audit, "the append-only trail of every write")
    audit.add_argument("--since", metavar="YYYY-MM-DD")
    audit.add_argument("--json", action="store_true")
    audit.add_argument("--verify", action="store_true",
                       help="check the hash chain; exit 1 at the first broken row")

    review = add("review", cmd_review, "write the weekly management review pack")
    review.add_argument("--week", required=True, metavar="YYYY-Www")
    review.add_argument("--out", required=True, metavar="DIR")
    review.add_argument("--lang", choices=["en", "id"], default=None)

    add("maintain", cmd_maintain, "merge small files, expire old snapshots (not those of "
        "finalised reviews), delete unused files")
    backup = add("backup", cmd_backup, "copy the embedded store to a new folder")
    backup.add_argument("dir")
    restore = add("restore", cmd_restore, "make the store a copy of a backup (the old one is kept)")
    restore.add_argument("dir")
    migrate = add("migrate", cmd_migrate, "move an earlier single-file store (or its Parquet "
                  "export) into this store")
    migrate.add_argument("old")

    for module in commands.MODULES:  # the commands declared beside their feature
        module.register(add)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except InputRejected as error:
        print(str(error), file=sys.stderr)
        return EXIT_REJECTED
    except KinerjaError as error:
        print(str(error), file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("Interrupted; nothing was written.", file=sys.stderr)
        return EXIT_ERROR
    except Exception as error:  # the contract: one sentence, never a traceback
        print(f"Unexpected error: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
