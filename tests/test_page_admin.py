"""The admin pages (Users, Audit trail) and local mode's sidebar, through AppTest (local mode:
no [auth] in the secrets, so the session's role is set as the other page tests do)."""

from __future__ import annotations

from kpi import audit, users
from kpi.i18n import t
from tests.helpers import foreign_strings, open_view, run, texts
from ui.data import forget_version

LOCAL = "local:"


def test_the_users_page_adds_changes_and_removes_users_and_audits_them(example_store,
                                                                         monkeypatch):
    at = open_view(example_store, monkeypatch, "users", role="admin")
    assert texts(at.title) == ["Users"]
    assert texts(at.info) == ["No users yet."]
    at.text_input(key="users_email").set_value("Ana@Medan.go.id")
    at.selectbox(key="users_role").set_value("analyst")
    at.multiselect(key="users_units").set_value(["PKM-1"])
    at.get("form_submit_button")[0].click()
    run(at)
    assert texts(at.success) == ["Saved ana@medan.go.id as analyst."]
    frame = at.dataframe[0].value
    assert frame.to_dict("records")[0] | {"Added": None} == {
        "E-mail": "ana@medan.go.id", "Role": "analyst", "Units": "PKM-1",
        "Added by": frame["Added by"][0], "Added": None}
    assert frame["Added by"][0].startswith(LOCAL)
    # An admin with a unit scope is refused in one sentence, nothing written.
    at.text_input(key="users_email").set_value("boss@medan.go.id")
    at.selectbox(key="users_role").set_value("admin")
    at.get("form_submit_button")[0].click()
    run(at)
    assert texts(at.error) == [
        "A unit scope applies to analysts and reviewers only, not to the admin role."]
    assert list(users.list_users(example_store)["email"]) == ["ana@medan.go.id"]
    at.selectbox(key="users_remove_pick").set_value("ana@medan.go.id")
    at.button(key="users_remove").click()
    run(at)
    assert texts(at.success) == ["Removed ana@medan.go.id."]
    assert users.list_users(example_store).empty
    trail = audit.trail(example_store)
    assert list(trail["action"])[-2:] == ["user.add", "user.remove"]
    assert all(who.startswith(LOCAL) for who in list(trail["who"])[-2:])


def test_the_audit_page_lists_the_trail_newest_first_and_checks_it(example_store, monkeypatch):
    users.add_user(example_store, "ana@medan.go.id", "analyst", by="boss@medan.go.id")
    at = open_view(example_store, monkeypatch, "audit", lang="id", role="admin")
    assert texts(at.title) == ["Jejak audit"]
    head = audit.head(example_store)  # the marker row of the keyed trail, the five loads, ana
    assert texts(at.success) == [
        f"Jejak audit utuh: 7 baris, 7 di antaranya berkunci; kepalanya baris 7, "
        f"{head['sha256'][:16]}."]
    frame = at.dataframe[0].value
    assert list(frame["Siapa"])[:2] == ["boss@medan.go.id", "tests"]
    assert list(frame["Tindakan"])[:2] == ["user.add", "import"]
    assert [b.label for b in at.get("download_button")] == ["CSV", "Excel"]
    at.selectbox(key="audit_who").set_value("boss@medan.go.id")
    run(at)
    assert list(at.dataframe[0].value["Objek"]) == ["ana@medan.go.id"]
    with example_store.transaction() as cur:
        cur.execute("UPDATE audit_log SET who = 'someone' WHERE seq = 2")
    forget_version()  # the app's half-second memo of the data version, as another process sees
    run(at)
    assert texts(at.error) == ["Jejak audit rusak pada baris 2 (diubah): jejak diubah di luar "
                               "Kinerja."]


def test_local_mode_says_so_in_the_sidebar(example_store, monkeypatch):
    at = open_view(example_store, monkeypatch, "overview", lang="id", role="viewer")
    assert "Mode lokal — tanpa masuk" in texts(at.sidebar.caption)


def test_the_audit_page_says_when_the_key_is_missing(example_store, monkeypatch, tmp_path):
    monkeypatch.delenv(audit.KEY_ENV)
    monkeypatch.setenv(audit.KEY_FILE_ENV, str(tmp_path / "audit.key"))  # not there
    rows = example_store.query_value("SELECT count(*) FROM audit_log")
    at = open_view(example_store, monkeypatch, "audit", role="admin")
    assert texts(at.error) == [
        f"The audit trail's {rows} keyed rows cannot be checked: no audit key was found "
        f"({tmp_path / 'audit.key'}); set KPI_AUDIT_KEY or restore the key file."]
    assert len(at.dataframe[0].value) == rows  # the trail itself is still shown


def test_the_audit_page_says_when_the_key_is_unusable(example_store, monkeypatch):
    monkeypatch.setenv(audit.KEY_ENV, "short")
    at = open_view(example_store, monkeypatch, "audit", role="admin")
    assert texts(at.error) == [
        "The audit key from KPI_AUDIT_KEY is too short: it needs at least 32 characters."]
    assert len(at.dataframe) == 1  # the trail itself is still shown


def test_the_users_page_and_its_unit_list_speak_indonesian(example_store, monkeypatch):
    # Issue 22: Streamlit's own "Choose options" stood in the empty unit list.
    at = open_view(example_store, monkeypatch, "users", lang="id", role="admin")
    assert at.multiselect(key="users_units").placeholder == t("forms.units_placeholder", "id")
    assert foreign_strings(at, "id") == []
    assert {element.proto.format for element in
            open_view(example_store, monkeypatch, "audit", lang="id", role="admin").date_input
            } == {"DD/MM/YYYY"}
