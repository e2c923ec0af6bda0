"""`python -m kpi audit-key`: make the audit key and key the trail (issue 20 item 5)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from kpi import audit
from kpi.commands.common import EXIT_OK, open_store
from kpi.i18n import t

if TYPE_CHECKING:
    from kpi.store import Store


def announce_key(store: Store) -> None:
    """Make the key file when no key is configured (saying loudly where it is and that it must
    be kept), then key the trail: what `init` and `audit-key` both do."""
    made = audit.make_key_file()
    if made is None:
        print(t("audit.key_exists", "en", source=audit.key_source()))
    else:
        print("Warning: " + t("audit.key_made", "en", path=made))
    keyed = audit.key_trail(store)
    if keyed is not None:
        print(t("audit.keyed_now", "en", seq=keyed[0], unkeyed=keyed[1]))


def cmd_audit_key(args: argparse.Namespace) -> int:
    announce_key(open_store(args))
    return EXIT_OK


def register(add) -> None:
    add("audit-key", cmd_audit_key,
        "make the audit key (unless one is configured) and key the audit trail from now on")
