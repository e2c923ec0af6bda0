"""`init`, `maintain`, `backup DIR`, `restore DIR`, `migrate OLD`: making the store and keeping
it (contract §3)."""

from __future__ import annotations

import argparse

from kpi import audit, config
from kpi.commands.audit import announce_key
from kpi.commands.common import EXIT_OK, Add, open_store, say


def cmd_init(args: argparse.Namespace) -> int:
    store = open_store(args, create=True)
    if args.partition_by_month:
        store.partition_by_month()
    data_path = store.location.data_path
    print(say("cli.out.store_ready_data", path=store.path, data_path=data_path) if data_path
          else say("cli.out.store_ready", path=store.path))
    announce_key(store)  # the audit key, made here unless configured
    if args.partition_by_month:  # after the key: the row is keyed like every later one
        audit.record_alone(store, None, "store.partition_by_month", store.path)
    return EXIT_OK


def cmd_maintain(args: argparse.Namespace) -> int:
    from kpi import review  # on use: --help stays fast

    store = open_store(args)
    done = store.maintain(config.keep_snapshots_days(), review.pinned_snapshots(store))
    audit.record_alone(store, None, "store.maintain", store.path, done)
    print(say("cli.out.maintained", path=store.path, expired=done["snapshots_expired"],
              deleted=done["files_deleted"]))
    return EXIT_OK


def cmd_backup(args: argparse.Namespace) -> int:
    store = open_store(args)
    target = store.backup(args.dir)
    audit.record_alone(store, None, "store.backup", str(target))
    print(say("cli.out.backup_written", path=target))
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from kpi.store import restore  # on use: --help stays fast

    kept = restore(args.dir, config.store_location(args.db), busy_timeout=config.busy_timeout(),
                   data_path=config.data_path())
    store = open_store(args)
    audit.record_alone(store, None, "store.restore", str(args.dir),
                       {"replaced_store_kept_in": str(kept) if kept else None})
    print(say("cli.out.restored_kept", path=store.path, backup=args.dir, kept=kept) if kept
          else say("cli.out.restored", path=store.path, backup=args.dir))
    return EXIT_OK


def cmd_migrate(args: argparse.Namespace) -> int:
    from kpi import migrate  # on use: --help stays fast

    store = open_store(args, create=True)
    copied = migrate.migrate(store, args.old)
    print(say("cli.out.migrated", old=args.old, path=store.path))
    for table, rows in copied.items():
        print("  " + say("cli.out.migrated_table", table=table, rows=rows))
    return EXIT_OK


def register(add: Add) -> None:
    init = add("init", cmd_init, say("cli.help.init"))
    init.add_argument("--partition-by-month", action="store_true",
                      help=say("cli.help.init_partition_by_month"))
    add("maintain", cmd_maintain, say("cli.help.maintain"))
    backup = add("backup", cmd_backup, say("cli.help.backup"))
    backup.add_argument("dir")
    restore = add("restore", cmd_restore, say("cli.help.restore"))
    restore.add_argument("dir")
    migrate = add("migrate", cmd_migrate, say("cli.help.migrate"))
    migrate.add_argument("old")
