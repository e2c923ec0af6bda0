"""The page registry: every page's file, title key, icon, section and the role it requires.

dashboard.py builds the router from it; ui.guard checks it on every page, because a page file is
reachable at its URL whether or not the router lists it.
"""

from __future__ import annotations

from dataclasses import dataclass

from kpi.users import ROLES  # least to most privileged; a role opens the pages of those before it


@dataclass(frozen=True)
class PageSpec:
    key: str          # stable id, also the URL path
    path: str         # file under pages/
    title_key: str    # i18n key of the title
    icon: str         # Material icon
    role: str         # least role that may open it
    section_key: str  # i18n key of the navigation section
    needs_data: bool  # shows the start page instead when the store is empty


PAGES: tuple[PageSpec, ...] = (
    PageSpec("overview", "pages/overview.py", "nav.overview", ":material/dashboard:", "viewer", "nav.section_monitor", True),
    PageSpec("unit", "pages/unit.py", "nav.unit", ":material/apartment:", "viewer", "nav.section_monitor", True),
    PageSpec("compare", "pages/compare.py", "nav.compare", ":material/leaderboard:", "viewer", "nav.section_monitor", True),
    PageSpec("satisfaction", "pages/satisfaction.py", "nav.satisfaction", ":material/sentiment_satisfied:", "viewer", "nav.section_monitor", True),
    PageSpec("review", "pages/review.py", "nav.review", ":material/fact_check:", "reviewer", "nav.section_review", True),
    PageSpec("upload", "pages/upload.py", "nav.upload", ":material/upload_file:", "analyst", "nav.section_data", False),
    PageSpec("history", "pages/history.py", "nav.history", ":material/history:", "analyst", "nav.section_data", False),
    PageSpec("targets", "pages/targets.py", "nav.targets", ":material/flag:", "analyst", "nav.section_data", False),
    PageSpec("quality", "pages/quality.py", "nav.quality", ":material/rule:", "analyst", "nav.section_data", True),
    PageSpec("posters", "pages/posters.py", "posters.nav_title", ":material/qr_code_2:", "analyst", "nav.section_data", False),
    PageSpec("users", "pages/users.py", "nav.users", ":material/group:", "admin", "nav.section_admin", False),
    PageSpec("audit", "pages/audit.py", "nav.audit", ":material/policy:", "admin", "nav.section_admin", False),
    # Issue 25: each person's e-mail settings; the admins' log of what was sent.
    PageSpec("email", "pages/email.py", "emailpage.nav", ":material/mail:", "viewer", "nav.section_admin", False),
    PageSpec("mail_log", "pages/mail_log.py", "maillog.nav", ":material/outgoing_mail:", "admin", "nav.section_admin", False),
)

PAGES_BY_KEY = {page.key: page for page in PAGES}


def may_open(role: str | None, page: PageSpec) -> bool:
    """True when `role` ranks at or above the page's required role."""
    if role not in ROLES:
        return False
    return ROLES.index(role) >= ROLES.index(page.role)
