-- Kinerja store schema (DuckLake). Idempotent: every statement is IF NOT EXISTS.
-- DuckLake has no keys, indexes or sequences: keys are enforced by the import, ids are
-- max + 1 under the writer lock (Store.next_id), and the lake's snapshot id is the data version.
-- Timestamps are local wall-clock time of the deployment time zone (KPI_TZ, default
-- Asia/Jakarta); the import converts timestamps that carry an offset.
-- Keys are enforced by the import (one hash join per batch) rather than by indexes, so that a
-- ten-million-row import stays close to DuckDB's raw load speed.

CREATE TABLE IF NOT EXISTS meta (
    key   VARCHAR NOT NULL,
    value BIGINT  NOT NULL
);
INSERT INTO meta SELECT 'schema_version', 2 WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = 'schema_version');

-- One row per import (file upload, CLI ingest, editor save).
CREATE TABLE IF NOT EXISTS batches (
    batch_id       BIGINT  NOT NULL,
    kind           VARCHAR NOT NULL,   -- units, services, events, survey, targets
    file_name      VARCHAR,
    sha256         VARCHAR,
    rows_in_file   BIGINT  NOT NULL DEFAULT 0,
    rows_inserted  BIGINT  NOT NULL DEFAULT 0,
    rows_replaced  BIGINT  NOT NULL DEFAULT 0,
    loaded_by      VARCHAR,
    loaded_at      TIMESTAMP NOT NULL,  -- local time of the deployment zone
    status         VARCHAR NOT NULL DEFAULT 'committed',  -- committed | rolled_back
    rolled_back_at TIMESTAMP,
    rolled_back_by VARCHAR
);

CREATE TABLE IF NOT EXISTS units (
    unit_code   VARCHAR NOT NULL,
    name        VARCHAR NOT NULL,
    type        VARCHAR NOT NULL,
    parent_code VARCHAR,
    district    VARCHAR,
    batch_id    BIGINT
);

CREATE TABLE IF NOT EXISTS services (
    unit_code        VARCHAR NOT NULL,
    service_code     VARCHAR NOT NULL,
    name             VARCHAR NOT NULL,
    standard_minutes DOUBLE,
    batch_id         BIGINT
);

CREATE TABLE IF NOT EXISTS events (
    unit_code    VARCHAR   NOT NULL,
    service_code VARCHAR   NOT NULL,
    ticket_id    VARCHAR   NOT NULL,
    arrived_at   TIMESTAMP NOT NULL,
    started_at   TIMESTAMP,
    completed_at TIMESTAMP,
    outcome      VARCHAR   NOT NULL,
    channel      VARCHAR,
    batch_id     BIGINT
);

CREATE TABLE IF NOT EXISTS survey_responses (
    unit_code           VARCHAR   NOT NULL,
    response_id         VARCHAR   NOT NULL,
    submitted_at        TIMESTAMP NOT NULL,
    u1 UTINYINT, u2 UTINYINT, u3 UTINYINT, u4 UTINYINT, u5 UTINYINT,
    u6 UTINYINT, u7 UTINYINT, u8 UTINYINT, u9 UTINYINT,
    service_code        VARCHAR,
    respondent_gender   VARCHAR,
    respondent_age      INTEGER,
    respondent_education VARCHAR,
    comment             VARCHAR,
    batch_id            BIGINT
);

CREATE TABLE IF NOT EXISTS targets (
    unit_code  VARCHAR NOT NULL,   -- a unit, or '*' for every unit
    kpi        VARCHAR NOT NULL,
    target     DOUBLE  NOT NULL,
    valid_from DATE    NOT NULL,
    valid_to   DATE,
    amber_pct  DOUBLE  NOT NULL DEFAULT 10,
    batch_id   BIGINT
);

-- Rows a batch replaced, kept so that rolling the batch back restores them exactly.
CREATE TABLE IF NOT EXISTS units_replaced            AS SELECT *, NULL::BIGINT AS replaced_by FROM units            WITH NO DATA;
CREATE TABLE IF NOT EXISTS services_replaced         AS SELECT *, NULL::BIGINT AS replaced_by FROM services         WITH NO DATA;
CREATE TABLE IF NOT EXISTS events_replaced           AS SELECT *, NULL::BIGINT AS replaced_by FROM events           WITH NO DATA;
CREATE TABLE IF NOT EXISTS survey_responses_replaced AS SELECT *, NULL::BIGINT AS replaced_by FROM survey_responses WITH NO DATA;
CREATE TABLE IF NOT EXISTS targets_replaced          AS SELECT *, NULL::BIGINT AS replaced_by FROM targets          WITH NO DATA;

-- Column mappings saved on the Upload page, reused for next week's file from the same system.
-- mapping is the TOML of contract section 1.1 (stores saved before it hold rename-only JSON:
-- {"file column": "contract column" or null (= drop the column)}, still read).
CREATE TABLE IF NOT EXISTS column_mappings (
    name     VARCHAR   NOT NULL,   -- unique, chosen by the analyst
    kind     VARCHAR   NOT NULL,   -- units, services, events, survey, targets
    mapping  VARCHAR   NOT NULL,
    saved_by VARCHAR,
    saved_at TIMESTAMP NOT NULL
);

-- Management review (ISO 9001 clause 9.3): one review per ISO week, its minutes, and the action
-- log carried from review to review. A finalised review keeps its record as JSON with a
-- sha256 checksum; kpi/review.py refuses every change to it (ReviewLocked).
CREATE TABLE IF NOT EXISTS reviews (
    week          VARCHAR   NOT NULL,   -- ISO week, e.g. 2026-W47
    week_start    DATE      NOT NULL,   -- its Monday
    status        VARCHAR   NOT NULL DEFAULT 'draft',  -- draft | final
    attendees     VARCHAR,              -- one name a line
    decisions     VARCHAR,              -- the meeting's general decisions
    created_at    TIMESTAMP NOT NULL,
    created_by    VARCHAR,
    finalised_at  TIMESTAMP,
    finalised_by  VARCHAR,
    record_json   VARCHAR,              -- the finalised record: agenda, numbers, minutes
    record_sha256 VARCHAR,
    snapshot_id   BIGINT                -- the lake snapshot its numbers were read from (pinned)
);

-- Notes and decision per agenda item of a review (item_key as built by kpi/review.py).
CREATE TABLE IF NOT EXISTS review_minutes (
    week       VARCHAR   NOT NULL,
    item_key   VARCHAR   NOT NULL,
    note       VARCHAR,
    decision   VARCHAR,
    updated_at TIMESTAMP NOT NULL,
    updated_by VARCHAR
);

-- The management review per scope (issue 26): a review record belongs to (week, scope), the
-- scope being what its reviewers may see: '*' for the whole store, or a city user's unit codes
-- sorted and comma-joined (kpi/review.py scope_key). Added by name, so that a store made before
-- gets it when it applies this file; its rows keep NULL, which kpi/review.py reads as '*'.
ALTER TABLE reviews ADD COLUMN IF NOT EXISTS scope VARCHAR;
ALTER TABLE review_minutes ADD COLUMN IF NOT EXISTS scope VARCHAR;

CREATE TABLE IF NOT EXISTS actions (
    action_id   BIGINT    NOT NULL,
    title       VARCHAR   NOT NULL,     -- what is to be done
    unit_code   VARCHAR   NOT NULL,     -- the owning unit ('*' = the city)
    responsible VARCHAR   NOT NULL,     -- the person answerable for it
    due_date    DATE      NOT NULL,
    kpi         VARCHAR,                -- the KPI it is meant to move
    raised_week VARCHAR   NOT NULL,     -- the review that raised it
    item_key    VARCHAR,                -- the agenda item it came from
    status      VARCHAR   NOT NULL DEFAULT 'open',  -- open | in_progress | done | dropped
    created_at  TIMESTAMP NOT NULL,
    created_by  VARCHAR
);

-- Every status change of an action, with its comment: the history is never overwritten.
CREATE TABLE IF NOT EXISTS action_updates (
    action_id  BIGINT    NOT NULL,
    week       VARCHAR,                 -- the review it was made in (NULL: outside a review)
    status     VARCHAR   NOT NULL,
    comment    VARCHAR,
    updated_at TIMESTAMP NOT NULL,
    updated_by VARCHAR
);

-- Rows an import run with "import the valid rows" (`--accept-valid`) set aside: the rejected
-- rows of that batch, with their cells as the source had them and their problems, until a later
-- import of the same kind supplies their key (resolved_by = that batch).
CREATE TABLE IF NOT EXISTS set_aside_rows (
    batch_id    BIGINT  NOT NULL,   -- the accept-valid import
    kind        VARCHAR NOT NULL,   -- units, services, events, survey, targets
    line        BIGINT  NOT NULL,   -- the row's line in the source file (header = line 1)
    key_text    VARCHAR,            -- its contract key, parts joined by U+001F (NULL: incomplete)
    cells       VARCHAR NOT NULL,   -- JSON {"header": [...], "cells": [...]} as in the source
    reasons     VARCHAR NOT NULL,   -- JSON [[message key, params], ...]
    delimiter   VARCHAR NOT NULL,   -- the source's delimiter and line ending, for the download
    line_ending VARCHAR NOT NULL,
    resolved_by BIGINT              -- the later batch that supplied its key
);

-- Set-aside rows an analyst dismissed (issue 22): a row whose fix came in under another key is
-- never resolved by an import, so the analyst says it is done with; the audit trail has who and
-- when too. kpi/set_aside.py is the only writer.
CREATE TABLE IF NOT EXISTS set_aside_dismissals (
    batch_id     BIGINT    NOT NULL,   -- the set-aside row's batch and line
    line         BIGINT    NOT NULL,
    dismissed_by VARCHAR   NOT NULL,
    dismissed_at TIMESTAMP NOT NULL
);

-- Who may sign in (issue 11): one row per e-mail address (kept lower case). `units` is the
-- comma-separated list of unit codes whose subtrees an analyst or reviewer may change; NULL is
-- the whole city. kpi/users.py is the only writer.
CREATE TABLE IF NOT EXISTS users (
    email    VARCHAR   NOT NULL,
    role     VARCHAR   NOT NULL,    -- viewer | analyst | reviewer | admin
    units    VARCHAR,
    added_by VARCHAR   NOT NULL,
    added_at TIMESTAMP NOT NULL
);

-- The append-only audit trail: one row per write, written inside the write's own transaction
-- (kpi/audit.py). Each row's sha256 covers the previous row's sha256 and its own content, so an
-- edited or deleted row breaks the chain (`python -m kpi audit --verify`).
CREATE TABLE IF NOT EXISTS audit_log (
    seq         BIGINT    NOT NULL,  -- 1, 2, 3, … in the order of writing
    logged_at   TIMESTAMP NOT NULL,  -- local time of the deployment zone
    who         VARCHAR   NOT NULL,  -- the signed-in e-mail, or cli:<os user>
    action      VARCHAR   NOT NULL,  -- e.g. import, rollback, user.add, review.finalise
    object      VARCHAR   NOT NULL,  -- what it was done to: batch 7, week 2026-W47, an e-mail
    details     VARCHAR   NOT NULL,  -- canonical JSON
    prev_sha256 VARCHAR   NOT NULL,
    sha256      VARCHAR   NOT NULL
);

-- KPI values precomputed from the raw rows (kpi/precompute.py): per unit subtree ('*' = the
-- city), KPI, period grain (day, week, month, quarter, year) and period (its first date); only
-- values with n > 0. Refreshed inside every write transaction that changes their inputs; the
-- pages and the CLI read these instead of scanning the raw rows. Targets are not stored here.
CREATE TABLE IF NOT EXISTS kpi_values (
    unit_code    VARCHAR NOT NULL,
    kpi          VARCHAR NOT NULL,
    grain        VARCHAR NOT NULL,
    period_start DATE    NOT NULL,
    value        DOUBLE  NOT NULL,
    n            BIGINT  NOT NULL,
    parts        BIGINT[]            -- ikm only: the answer sums and counts its grade is judged on
);

-- Each unit's own rows per local day (kpi/precompute.py, refreshed with kpi_values): which units
-- have reported for a period (kpi/reporting.py) without a scan of the raw rows.
CREATE TABLE IF NOT EXISTS unit_days (
    unit_code VARCHAR NOT NULL,
    day       DATE    NOT NULL,   -- the local date of arrived_at / submitted_at
    events    BIGINT  NOT NULL,   -- the unit's own events that day (its subtree's not counted)
    responses BIGINT  NOT NULL    -- the unit's own survey responses that day
);

-- The public SKM form and the published results (issue 24) ------------------------------------
-- survey.csv's optional ticket_id (contract section 1): the respondent's visit at the same unit.
-- Added by name (a store made before it gets it when it applies this file); the import's moves
-- to and from survey_responses_replaced go BY NAME, so the two tables' column orders may differ.
ALTER TABLE survey_responses ADD COLUMN IF NOT EXISTS ticket_id VARCHAR;
ALTER TABLE survey_responses_replaced ADD COLUMN IF NOT EXISTS ticket_id VARCHAR;

-- Every address a unit's public form has had (kpi/survey_links.py): the unit's current one has
-- revoked_at NULL; revoking makes a new one, and the old address stops working.
CREATE TABLE IF NOT EXISTS survey_links (
    unit_code  VARCHAR   NOT NULL,
    token      VARCHAR   NOT NULL,   -- the random part of the address /skm/<token>
    created_at TIMESTAMP NOT NULL,
    created_by VARCHAR   NOT NULL,
    revoked_at TIMESTAMP,
    revoked_by VARCHAR
);

-- The units whose SKM results the public page /publik shows (`python -m kpi publish`).
CREATE TABLE IF NOT EXISTS published_units (
    unit_code    VARCHAR   NOT NULL,
    published_at TIMESTAMP NOT NULL,
    published_by VARCHAR   NOT NULL
);

-- What a public form's response says beyond survey.csv's columns: how it came in and the
-- respondent's occupation (a profile question of the regulation's template), by response.
CREATE TABLE IF NOT EXISTS survey_form_details (
    unit_code   VARCHAR NOT NULL,
    response_id VARCHAR NOT NULL,
    channel     VARCHAR NOT NULL,   -- public_form
    occupation  VARCHAR,            -- PNS, TNI, POLRI, SWASTA, WIRAUSAHA, LAINNYA
    batch_id    BIGINT  NOT NULL
);

-- Interventions (issue 23): dated changes at one unit, shown on its charts; `rebase` starts a new
-- SPC segment at the date (contract §2 "Segments"); `kpi` NULL = every KPI of the unit;
-- `action_id` the review action it carries out. kpi/interventions.py is the only writer.
CREATE TABLE IF NOT EXISTS interventions (
    intervention_id BIGINT    NOT NULL,  -- Store.next_id under the writer lock
    unit_code       VARCHAR   NOT NULL,  -- a unit, or '*' for the city
    date            DATE      NOT NULL,  -- the day the change took effect
    title           VARCHAR   NOT NULL,  -- exactly as typed
    kpi             VARCHAR,
    rebase          BOOLEAN   NOT NULL DEFAULT false,
    action_id       BIGINT,
    recorded_by     VARCHAR   NOT NULL,
    recorded_at     TIMESTAMP NOT NULL   -- local time of the deployment zone
);

-- E-mail notifications (issue 25), kpi/notify.py the only writer.
-- What each user receives: one row per e-mail address once someone changed the defaults
-- (admins and reviewers get the digest, analysts and reviewers get alerts; the deployment's
-- language). A user without a row has the defaults of their role.
CREATE TABLE IF NOT EXISTS notify_subscriptions (
    email      VARCHAR   NOT NULL,   -- a users.email (lower case)
    digest     BOOLEAN   NOT NULL,   -- the Monday digest
    alerts     BOOLEAN   NOT NULL,   -- alerts for the units of their scope
    lang       VARCHAR   NOT NULL,   -- id | en
    changed_by VARCHAR   NOT NULL,
    changed_at TIMESTAMP NOT NULL
);
-- Every alert found (contract §2 "Alerts"): one row per (unit, KPI, week, kind), ever.
-- `closed_at` is set once every recipient it was due to has it (or nobody was to get it).
CREATE TABLE IF NOT EXISTS notify_alerts (
    alert_id   BIGINT    NOT NULL,
    unit_code  VARCHAR   NOT NULL,
    kpi        VARCHAR   NOT NULL,
    week_start DATE      NOT NULL,   -- the Monday of the ISO week
    kind       VARCHAR   NOT NULL,   -- red | concern
    details    VARCHAR   NOT NULL,   -- JSON: value, target, status, signals, centre, …
    found_at   TIMESTAMP NOT NULL,
    closed_at  TIMESTAMP
);
-- Which recipient got which alert, in which message (so nobody gets one twice).
CREATE TABLE IF NOT EXISTS notify_alert_sends (
    alert_id    BIGINT  NOT NULL,
    email       VARCHAR NOT NULL,
    delivery_id BIGINT  NOT NULL
);
-- The delivery log: one row per message tried (digest or alerts), sent or not.
CREATE TABLE IF NOT EXISTS notify_deliveries (
    delivery_id BIGINT    NOT NULL,
    email       VARCHAR   NOT NULL,
    kind        VARCHAR   NOT NULL,   -- digest | alerts
    subject     VARCHAR   NOT NULL,
    message_id  VARCHAR   NOT NULL,
    week        VARCHAR,              -- YYYY-Www of a digest
    items       BIGINT    NOT NULL,   -- exceptions (digest) or alerts in the message
    bytes       BIGINT    NOT NULL,
    tried_at    TIMESTAMP NOT NULL,
    result      VARCHAR   NOT NULL,   -- sent | failed
    error       VARCHAR               -- the server's answer when it failed (never credentials)
);

-- Province totals (issue 26): in a store that defers them (meta defer_province_totals = 1), the
-- `*` periods of the month, quarter and year a weekly import made stale, until
-- `python -m kpi totals --refresh` (kpi/precompute.py: refresh_pending) recomputes them.
CREATE TABLE IF NOT EXISTS kpi_pending (
    source       VARCHAR   NOT NULL,   -- events or survey
    grain        VARCHAR   NOT NULL,   -- month, quarter or year
    period_start DATE      NOT NULL,
    since        TIMESTAMP NOT NULL    -- local time of the first import that made it stale
);
