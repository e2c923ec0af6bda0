"""The public SKM form's questionnaire and the check of one submission (issue 24).

The nine questions and their four options are those of the regulation's template
(PermenPAN-RB 14/2017; glossary): their words are in the catalogues (`skmform.q.<element>`),
their scores here. A submission is judged on what the form offers (every answer given, each a
listed option, every field within its size); the row it makes is then imported exactly like a
row of survey.csv (kpi.survey_queue hands it to kpi.ingest), so the import's rules have the
last word. Field names are survey.csv's columns (contract section 3), plus the form's own
`respondent_occupation`, `csrf` and the honeypot.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from kpi.vocabulary import U_COLUMNS

ANSWERS = ("1", "2", "3", "4")  # the four options of every question, worst to best
GENDERS = ("L", "P")            # laki-laki, perempuan
EDUCATION = ("SD", "SMP", "SMA", "D1-D3", "S1", "S2", "S3")
OCCUPATIONS = ("PNS", "TNI", "POLRI", "SWASTA", "WIRAUSAHA", "LAINNYA")
AGE_RANGE = (10, 120)
CSRF_FIELD = "csrf"
HONEYPOT_FIELD = "website"  # hidden from people; a bot that fills every field gives itself away
# The longest value each field may carry (characters); anything longer refuses the submission.
FIELD_LIMITS: dict[str, int] = {
    **dict.fromkeys(U_COLUMNS, 1),
    "service_code": 64, "respondent_gender": 1, "respondent_age": 3,
    "respondent_education": 8, "respondent_occupation": 16, "comment": 1000,
    "ticket_id": 40, CSRF_FIELD: 400, HONEYPOT_FIELD: 200,
}
# The whole request body: every field at its limit fits well within it (a comment's characters
# may take up to 9 bytes each once URL-encoded).
MAX_BODY_BYTES = 16 * 1024
_TICKET = re.compile(r"[0-9A-Za-z][0-9A-Za-z ./_-]*")


@dataclass
class Submission:
    """A judged submission: `row` (survey.csv's columns, text) when `problems` is empty."""

    values: dict[str, str]                 # what was sent, trimmed (to show the form again)
    problems: dict[str, str] = field(default_factory=dict)  # field -> catalogue key
    row: dict[str, str] = field(default_factory=dict)
    occupation: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def single_values(form: Mapping[str, list[str]]) -> tuple[dict[str, str], set[str]]:
    """Each field's one value (trimmed) and the fields sent more than once (refused)."""
    values = {name: items[0].strip() for name, items in form.items() if items}
    repeated = {name for name, items in form.items() if len(items) > 1}
    return values, repeated


def check(form: Mapping[str, list[str]], services: list[str]) -> Submission:
    """Judge a parsed form body (`urllib.parse.parse_qs` shape) for a unit offering
    `services` (their codes)."""
    values, repeated = single_values(form)
    result = Submission({k: v for k, v in values.items() if k in FIELD_LIMITS})
    problems = result.problems
    for name in sorted(set(values) - set(FIELD_LIMITS)):
        problems[name] = "skmform.problem.unknown_field"
    for name in sorted(repeated & set(FIELD_LIMITS)):
        problems[name] = "skmform.problem.repeated"
    for name, value in values.items():
        if name in FIELD_LIMITS and len(value) > FIELD_LIMITS[name]:
            problems[name] = "skmform.problem.too_long"
    for element in U_COLUMNS:
        if element in problems:
            continue
        answer = values.get(element, "")
        if not answer:
            problems[element] = "skmform.problem.missing_answer"
        elif answer not in ANSWERS:
            problems[element] = "skmform.problem.bad_answer"
    _check_choice(values, problems, "service_code", services)
    _check_choice(values, problems, "respondent_gender", GENDERS)
    _check_choice(values, problems, "respondent_education", EDUCATION)
    _check_choice(values, problems, "respondent_occupation", OCCUPATIONS)
    age = values.get("respondent_age", "")
    if age and "respondent_age" not in problems and not (
            age.isdigit() and AGE_RANGE[0] <= int(age) <= AGE_RANGE[1]):
        problems["respondent_age"] = "skmform.problem.bad_age"
    ticket = values.get("ticket_id", "")
    if ticket and "ticket_id" not in problems and not _TICKET.fullmatch(ticket):
        problems["ticket_id"] = "skmform.problem.bad_ticket"
    comment = values.get("comment", "")
    if "comment" not in problems and any(ord(ch) < 32 and ch not in "\r\n\t" for ch in comment):
        problems["comment"] = "skmform.problem.bad_text"
    if problems:
        return result
    result.row = {element: values[element] for element in U_COLUMNS}
    for name in ("service_code", "respondent_gender", "respondent_age",
                 "respondent_education", "comment", "ticket_id"):
        result.row[name] = values.get(name, "")
    result.occupation = values.get("respondent_occupation", "")
    return result


def _check_choice(values: dict[str, str], problems: dict[str, str], name: str,
                  allowed: list[str] | tuple[str, ...]) -> None:
    value = values.get(name, "")
    if value and name not in problems and value not in allowed:
        problems[name] = "skmform.problem.bad_choice"
