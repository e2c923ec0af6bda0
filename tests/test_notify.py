"""E-mail (issue 25): settings, subscriptions, the Monday digest and alerts, sent to a real SMTP
server (aiosmtpd over TCP in the test process), once with STARTTLS and AUTH."""

from __future__ import annotations

import datetime as dt
import email
import re
import ssl
from email import policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from kpi import audit, mail, notify, review, users
from kpi.__main__ import main
from kpi.i18n import t
from kpi.ingest import ingest_file
from kpi.store import Store
from tests.conftest import EXAMPLE_DIR, copy_store, serial
from tests.helpers import open_view
from tests.smtp_server import smtp_server

pytestmark = serial("mail")

WEEK = "2026-W13"  # the example city's latest complete week
NAMES = {"DINKES": "Dinas Kesehatan Contoh", "PKM-1": "Puskesmas Contoh Satu",
         "PKM-2": "Puskesmas <b>Contoh</b> Dua", "DUKCAPIL": "Disdukcapil Contoh"}
SECRET = "s3cr3t-Pa55"


def texts_of(message: EmailMessage) -> str:
    """Subject, plain text and HTML of a message, decoded: what a reader can see or follow."""
    body = [str(message["Subject"])]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            body.append(part.get_content())
    return "\n".join(body)


def html_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def links_of(message: EmailMessage) -> list[str]:
    import html
    import re

    return [html.unescape(link) for link in re.findall(r'href="([^"]+)"', html_of(message))]


def slow_events(unit: str, service: str, count: int, day: str) -> str:
    """`count` completed events at `unit` on `day`, each two hours long (a red service time)."""
    rows = ["unit_code,service_code,ticket_id,arrived_at,started_at,completed_at,outcome,channel"]
    for number in range(count):
        minute = f"{number % 60:02d}"
        rows.append(f"{unit},{service},SLOW-{unit}-{number},{day} 08:{minute}:00,"
                    f"{day} 08:{minute}:30,{day} 10:{minute}:00,completed,counter")
    return "\n".join(rows) + "\n"


@pytest.fixture(scope="session")
def _city_file(_example_store_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example city with markup in a unit's name, one action per unit (one with markup,
    one overdue), two interventions and four users: an unscoped admin, a reviewer scoped to
    DINKES (the health office and its two Puskesmas), an analyst scoped to PKM-2, a viewer.
    Built once; each test gets a copy (`city`)."""
    from kpi import interventions

    folder = tmp_path_factory.mktemp("city")
    store = copy_store(_example_store_file, folder / "kpi")
    units = (EXAMPLE_DIR / "units.csv").read_text(encoding="utf-8").replace(
        "Puskesmas Contoh Dua", NAMES["PKM-2"])
    (folder / "units.csv").write_text(units, encoding="utf-8")
    assert ingest_file(store, "units", folder / "units.csv", loaded_by="tests").ok
    for unit, title, due in (("PKM-1", "Shorten the queue at Poli umum", dt.date(2026, 3, 20)),
                             ("PKM-2", "Fix <script>alert(1)</script> & the form", dt.date(2026, 5, 1)),
                             ("DUKCAPIL", "Second KTP counter", dt.date(2026, 5, 8))):
        review.create_action(store, "2026-W12", title=title, unit_code=unit,
                             responsible=f"Head of {unit}", due_date=due, by="tests")
    interventions.add(store, unit_code="PKM-2", date="2026-03-02",
                      title="New <i>queue</i> numbers", kpi="service_time_median", by="tests")
    interventions.add(store, unit_code="DUKCAPIL", date="2026-03-09",
                      title="Second KTP desk", by="tests")
    users.add_user(store, "admin@medan.go.id", "admin", by="tests")
    users.add_user(store, "rev@medan.go.id", "reviewer", ["DINKES"], by="tests")
    users.add_user(store, "ana2@medan.go.id", "analyst", ["PKM-2"], by="tests")
    users.add_user(store, "view@medan.go.id", "viewer", by="tests")
    store.close()
    return folder / "kpi"


@pytest.fixture
def city(_city_file: Path, tmp_path: Path) -> Store:
    """A store of its own: a copy of `_city_file`."""
    return copy_store(_city_file, tmp_path / "city")


# -- settings ----------------------------------------------------------------------------------
def test_settings_read_the_url_and_keep_the_password_out_of_sight(monkeypatch):
    monkeypatch.setenv("KPI_SMTP_URL", "smtp://kinerja%40medan.go.id:p%40ss:w0rd@mail.medan.go.id")
    monkeypatch.setenv("KPI_MAIL_FROM", "Kinerja <kinerja@medan.go.id>")
    found = mail.settings()
    assert (found.scheme, found.host, found.port) == ("smtp", "mail.medan.go.id", 587)
    assert (found.username, found.password) == ("kinerja@medan.go.id", "p@ss:w0rd")
    assert found.sender == "Kinerja <kinerja@medan.go.id>"
    assert "w0rd" not in repr(found)
    assert mail.settings("smtps://mail.medan.go.id").port == 465
    with pytest.raises(Exception) as refused:
        mail.settings("http://user:w0rd@mail.medan.go.id")
    assert "w0rd" not in str(refused.value)


@pytest.mark.usefixtures("cli_in_english")  # its CLI lines compared with English
def test_notify_without_a_mail_server_says_so_and_exits_1(city, monkeypatch, capsys):
    monkeypatch.setenv("KPI_DB", str(city.path))
    monkeypatch.delenv("KPI_SMTP_URL", raising=False)
    for command in (["notify", "digest"], ["notify", "alerts"]):
        assert main(command) == 1
        error = capsys.readouterr().err.strip()
        assert error.startswith("No mail server is set") and error.count("\n") == 0


@pytest.mark.usefixtures("cli_in_english")  # its CLI lines compared with English
def test_unreachable_server_is_one_sentence_without_credentials(city, monkeypatch, capsys):
    with smtp_server() as server:
        url = server.url("kinerja", SECRET)
    monkeypatch.setenv("KPI_DB", str(city.path))
    monkeypatch.setenv("KPI_SMTP_URL", url)  # the server is stopped: nothing listens there
    assert main(["notify", "digest"]) == 1
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "could not be reached" in captured.err
    assert SECRET not in captured.err + captured.out
    assert notify.delivery_log(city).empty
    assert SECRET not in audit.trail(city).to_string()


def test_dry_run_writes_eml_files_and_changes_nothing(city, monkeypatch, tmp_path, capsys,
                                                      fingerprint):
    monkeypatch.setenv("KPI_DB", str(city.path))
    monkeypatch.delenv("KPI_SMTP_URL", raising=False)
    before = fingerprint(city)
    assert main(["notify", "digest", "--week", WEEK, "--dry-run", str(tmp_path / "out")]) == 0
    files = sorted(path.name for path in (tmp_path / "out").glob("*.eml"))
    assert files == ["digest-2026-W13-admin@medan.go.id.eml", "digest-2026-W13-rev@medan.go.id.eml"]
    message = email.message_from_bytes((tmp_path / "out" / files[0]).read_bytes(),
                                       policy=policy.default)
    assert message["Subject"] == "Kinerja W13: 1 unit di luar target"
    assert fingerprint(city) == before


# -- subscriptions -----------------------------------------------------------------------------
def test_defaults_by_role_and_changes_audited(city, monkeypatch, capsys):
    found = {who.user.email: (who.digest, who.alerts, who.lang) for who in notify.subscriptions(city)}
    assert found == {"admin@medan.go.id": (True, False, "id"),
                     "rev@medan.go.id": (True, True, "id"),
                     "ana2@medan.go.id": (False, True, "id"),
                     "view@medan.go.id": (False, False, "id")}
    monkeypatch.setenv("KPI_DB", str(city.path))
    assert main(["users", "notify", "ana2@medan.go.id", "--digest", "on", "--lang", "en"]) == 0
    # The CLI speaks KPI_LANG, Indonesian by default, whatever the user's own language.
    assert capsys.readouterr().out.strip() == \
        "ana2@medan.go.id: ringkasan aktif, peringatan aktif, bahasa en"
    row = audit.trail(city, action="notify.subscription").iloc[-1]
    assert row["object"] == "ana2@medan.go.id" and row["who"].startswith("cli:")
    assert '"before":{"alerts":true,"digest":false,"lang":"id"}' in row["details"]
    assert main(["users", "notify", "nobody@medan.go.id", "--digest", "on"]) == 2
    assert capsys.readouterr().err.strip() == t("notify.error_unknown_user", "id",
                                                email="nobody@medan.go.id")
    # A person changes their own settings; only an admin changes someone else's.
    notify.set_subscription(city, "view@medan.go.id", alerts="on", by="view@medan.go.id")
    with pytest.raises(Exception, match="Only an admin"):
        notify.set_subscription(city, "rev@medan.go.id", digest="off", by="view@medan.go.id")
    notify.set_subscription(city, "rev@medan.go.id", digest="off", by="admin@medan.go.id")
    assert not notify.subscription(city, "rev@medan.go.id").digest


# -- the digest --------------------------------------------------------------------------------
def test_digest_gives_each_person_their_scope_in_their_language(city, monkeypatch, capsys):
    notify.set_subscription(city, "ana2@medan.go.id", digest="on", lang="en", by="tests")
    notify.set_subscription(city, "admin@medan.go.id", lang="en", by="tests")
    notify.set_subscription(city, "view@medan.go.id", digest="off", by="tests")
    monkeypatch.setenv("KPI_DB", str(city.path))
    with smtp_server() as server:
        monkeypatch.setenv("KPI_SMTP_URL", server.url())
        assert main(["notify", "digest", "--week", WEEK]) == 0
        inbox = server.inbox
    assert sorted(recipient for recipients, _ in inbox.received for recipient in recipients) \
        == ["admin@medan.go.id", "ana2@medan.go.id", "rev@medan.go.id"]
    admin, = inbox.to("admin@medan.go.id")
    reviewer, = inbox.to("rev@medan.go.id")
    analyst, = inbox.to("ana2@medan.go.id")
    for message in (admin, reviewer, analyst):
        assert len(message.as_bytes()) < 300_000
        assert message.get_content_type() == "multipart/alternative"
        assert "<script>" not in html_of(message) and "<b>Contoh</b>" not in html_of(message)
        assert all(link.startswith("http://localhost:8501/") for link in links_of(message))
        assert "src=\"http" not in html_of(message)  # no remote image
    # The admin: the whole city, its tiles, in English; PKM-1 off target with its reason.
    assert admin["Subject"] == "Kinerja W13: 1 unit off target"
    text = texts_of(admin)
    assert "The city this week" in text
    assert ("Service time (median) 27.8 min, target 22.0 min, off target for 3 weeks"
            in text), text
    for name in ("Puskesmas Contoh Satu", "Disdukcapil Contoh", "Second KTP counter"):
        assert name in text
    assert "Fix &lt;script&gt;alert(1)&lt;/script&gt; &amp; the form" in html_of(admin)
    assert "Puskesmas &lt;b&gt;Contoh&lt;/b&gt; Dua" in html_of(admin)
    # Recent changes with the verdict on their effect (issue 23's engine).
    assert "Did it work? Recent changes" in text
    assert "New &lt;i&gt;queue&lt;/i&gt; numbers" in html_of(admin)
    assert "New <i>queue</i> numbers (Puskesmas <b>Contoh</b> Dua, 2 Mar 2026): " \
           "Service time (median) too early to say" in admin.get_body(("plain",)).get_content()
    images = [part for part in admin.walk() if part.get("Content-ID")]
    assert images and all(part.get_content_type() == "image/jpeg" for part in images)
    assert f'src="cid:{images[0]["Content-ID"].strip("<>")}"' in html_of(admin)
    # The reviewer of DINKES: its subtree only, in Indonesian, no city tiles.
    assert reviewer["Subject"] == "Kinerja W13: 1 unit di luar target"
    text = texts_of(reviewer)
    assert "Kota minggu ini" not in text and "Puskesmas Contoh Satu" in text
    assert "Disdukcapil" not in text and "DUKCAPIL" not in text and "Second KTP" not in text
    assert "Terlambat" in text or "terlambat" in text  # PKM-1's action is overdue
    # The analyst of PKM-2: PKM-2 only, in English: nothing of PKM-1, DINKES or DUKCAPIL.
    assert analyst["Subject"] == "Kinerja W13: no unit off target"
    text = texts_of(analyst)
    for outside in ("PKM-1", "Contoh Satu", "DINKES", "Dinas Kesehatan", "DUKCAPIL",
                    "Disdukcapil", "Shorten the queue", "Second KTP", "The city this week"):
        assert outside not in text, outside
    assert "Fix <script>alert(1)</script> & the form" in analyst.get_body(("plain",)).get_content()
    assert "New <i>queue</i> numbers" in analyst.get_body(("plain",)).get_content()


def test_digest_links_open_the_exact_view(city, monkeypatch, tmp_path):
    monkeypatch.delenv("KPI_SMTP_URL", raising=False)
    monkeypatch.setenv("KPI_BASE_URL", "https://kinerja.medan.go.id")
    notify.set_subscription(city, "admin@medan.go.id", lang="en", by="tests")
    monkeypatch.setenv("KPI_DB", str(city.path))
    assert main(["notify", "digest", "--week", WEEK, "--dry-run", str(tmp_path)]) == 0
    message = email.message_from_bytes(
        (tmp_path / "digest-2026-W13-admin@medan.go.id.eml").read_bytes(), policy=policy.default)
    unit_links = [link for link in links_of(message) if "/unit?" in link]
    exception = dict(parse_qsl(urlsplit(unit_links[0]).query))
    assert exception == {"unit": "PKM-1", "kpi": "service_time_median", "grain": "week",
                         "period": "2026-03-23", "lang": "en"}
    assert urlsplit(unit_links[0]).netloc == "kinerja.medan.go.id"
    lang = exception.pop("lang")
    at = open_view(city, monkeypatch, "unit", lang=lang, **exception)
    assert at.selectbox(key="kinerja_filter_unit").value == "PKM-1"
    assert at.selectbox(key="kinerja_filter_kpi").value == "service_time_median"
    assert at.selectbox(key="kinerja_filter_period").value == "2026-03-23"
    assert at.selectbox(key="kinerja_filter_grain").value == "week"
    # The reviewer's link to their scope opens the overview filtered to DINKES's subtree.
    message = email.message_from_bytes(
        (tmp_path / "digest-2026-W13-rev@medan.go.id.eml").read_bytes(), policy=policy.default)
    scope_link = next(link for link in links_of(message) if "parent=" in link)
    params = dict(parse_qsl(urlsplit(scope_link).query))
    assert urlsplit(scope_link).path == "/" and params == {
        "grain": "week", "period": "2026-03-23", "parent": "DINKES", "lang": "id"}
    at = open_view(city, monkeypatch, None, lang=params.pop("lang"), **params)
    assert at.selectbox(key="kinerja_filter_parent").value == "DINKES"
    assert at.selectbox(key="kinerja_filter_period").value == "2026-03-23"


# -- alerts ------------------------------------------------------------------------------------
def fixed_part(key: str) -> str:
    """The longest text between the placeholders of `key` in Indonesian, the CLI's language
    where KPI_LANG is not set."""
    return max(re.split(r"\{[^}]*\}", t(key, "id")), key=len)


def test_alerts_once_per_event_to_the_units_analyst_and_never_lost(city, monkeypatch, tmp_path,
                                                                   capsys):
    users.add_user(city, "ana1@medan.go.id", "analyst", ["PKM-1"], by="tests")
    users.add_user(city, "ana3@medan.go.id", "analyst", ["DUKCAPIL"], by="tests")
    notify.set_subscription(city, "ana2@medan.go.id", lang="en", by="tests")
    monkeypatch.setenv("KPI_DB", str(city.path))
    (tmp_path / "slow2.csv").write_text(slow_events("PKM-2", "UMUM", 40, "2026-03-24"))
    (tmp_path / "slow3.csv").write_text(slow_events("DUKCAPIL", "KTP", 40, "2026-03-25"))
    with smtp_server() as server:
        monkeypatch.setenv("KPI_SMTP_URL", server.url())
        assert main(["notify", "alerts"]) == 0  # nothing new in the example's week
        assert server.inbox.received == []
        capsys.readouterr()
        assert main(["ingest", "events", str(tmp_path / "slow2.csv"), "--notify"]) == 0
        analyst = server.inbox.to("ana2@medan.go.id")
        assert len(analyst) == 1 and server.inbox.to("ana1@medan.go.id") == []
        assert server.inbox.to("ana3@medan.go.id") == []
        text = texts_of(analyst[0])
        assert "Service time (median) turned red" in text and "PKM-2" in text
        assert "PKM-1" not in text and "DINKES" not in text and "DUKCAPIL" not in text
        assert "Puskesmas &lt;b&gt;Contoh&lt;/b&gt; Dua" in html_of(analyst[0])
        # The reviewer of DINKES hears of PKM-2 and of DINKES (its subtree's median rose too).
        assert len(server.inbox.to("rev@medan.go.id")) == 1
        count = len(server.inbox.received)
        assert main(["notify", "alerts"]) == 0  # a second run sends nothing
        assert len(server.inbox.received) == count
        assert t("notify.nobody", "id") in capsys.readouterr().out  # the CLI's KPI_LANG

        server.stop()  # the mail server is down: the import still succeeds, nothing is lost
        assert main(["ingest", "events", str(tmp_path / "slow3.csv"), "--notify"]) == 0
        captured = capsys.readouterr()
        assert fixed_part("notify.import_alerts_failed") in captured.err
        assert captured.err.count("\n") == 1
        assert main(["notify", "alerts"]) == 1
        captured = capsys.readouterr()
        assert captured.err.count("\n") == 1
        assert fixed_part("mail.error_unavailable") in captured.err
        server.start()
        assert main(["notify", "alerts"]) == 0
        assert len(server.inbox.to("ana3@medan.go.id")) == 1
        assert "Disdukcapil Contoh: Waktu pelayanan (median) menjadi merah" in texts_of(
            server.inbox.to("ana3@medan.go.id")[0])
        assert len(server.inbox.to("ana2@medan.go.id")) == 1
        assert main(["notify", "alerts"]) == 0
        assert len(server.inbox.to("ana3@medan.go.id")) == 1
    log = notify.delivery_log(city)
    assert set(log["result"]) == {"sent"} and set(log["kind"]) == {"alerts"}
    assert main(["notify", "log", "--json"]) == 0
    assert '"email": "ana3@medan.go.id"' in capsys.readouterr().out


# -- STARTTLS and AUTH -------------------------------------------------------------------------
@pytest.mark.usefixtures("cli_in_english")  # its CLI lines compared with English
def test_starttls_and_auth_with_a_certificate_made_for_the_test(city, monkeypatch, tmp_path,
                                                                capsys):
    import trustme

    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    monkeypatch.setenv("KPI_DB", str(city.path))
    with smtp_server(tls=server_context, login=("kinerja", SECRET)) as server:
        monkeypatch.setenv("KPI_SMTP_URL", server.url("kinerja", "wrong-" + SECRET))
        assert main(["notify", "digest", "--week", WEEK]) == 1
        captured = capsys.readouterr()
        assert "could not be reached" in captured.err and "535" in captured.err
        assert SECRET not in captured.err + captured.out
        monkeypatch.setenv("KPI_SMTP_URL", server.url("kinerja", SECRET))
        assert main(["notify", "digest", "--week", WEEK]) == 0
        assert len(server.inbox.received) == 2
        assert server.credentials is not None and server.credentials.attempts[-1] == b"kinerja"
    assert SECRET not in audit.trail(city).to_string()
    assert SECRET not in notify.delivery_log(city).to_string()


def test_a_rebasing_intervention_starts_the_concern_reading_afresh(city, tmp_path):
    from kpi import alerts, interventions

    (tmp_path / "slow3.csv").write_text(slow_events("DUKCAPIL", "KTP", 40, "2026-03-25"))
    assert ingest_file(city, "events", tmp_path / "slow3.csv", loaded_by="tests").ok
    found = {(alert["unit_code"], alert["kpi"], alert["kind"]) for alert in alerts.find(city, WEEK)}
    assert ("DUKCAPIL", "service_time_median", "concern") in found
    assert ("DUKCAPIL", "service_time_median", "red") in found
    # The unit's own rebasing intervention in that week: its new segment has one point, no
    # limits and no run yet, so no signal of concern; the status is still red.
    interventions.add(city, unit_code="DUKCAPIL", date="2026-03-23", title="New KTP queue",
                      kpi="service_time_median", rebase=True, by="tests")
    found = {(alert["unit_code"], alert["kpi"], alert["kind"]) for alert in alerts.find(city, WEEK)}
    assert ("DUKCAPIL", "service_time_median", "concern") not in found
    assert ("DUKCAPIL", "service_time_median", "red") in found


@pytest.mark.usefixtures("cli_in_english")  # its CLI lines compared with English
def test_no_password_without_encryption_and_one_line_subjects(city, monkeypatch, capsys):
    monkeypatch.setenv("KPI_DB", str(city.path))
    with smtp_server() as server:  # no STARTTLS offered
        monkeypatch.setenv("KPI_SMTP_URL", server.url("kinerja", SECRET))
        assert main(["notify", "digest", "--week", WEEK]) == 1
        captured = capsys.readouterr()
        assert captured.err.startswith(f"The mail server 127.0.0.1:{server.port} offers no "
                                       "encryption (STARTTLS): the password was not sent.")
        assert SECRET not in captured.err and server.inbox.received == []
    message = mail.build_message(sender="k@medan.go.id", to="a@medan.go.id",
                                 subject="Kinerja W13: Puskesmas\nBcc: x@evil.test", text="t",
                                 html="<p>t</p>")
    assert message["Subject"] == "Kinerja W13: Puskesmas Bcc: x@evil.test"
    assert "Bcc" not in message.as_string().split("Subject:")[0]
