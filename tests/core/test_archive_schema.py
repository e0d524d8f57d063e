"""The archive's schema (core.archive_schema): docs/archive.schema.json is generated from it and
current, accepts every archive `export` writes and refuses each malformed case the importer
refuses; and the schema's fast path never takes an archive the field-by-field reader would
refuse, nor reads one differently.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from core.archive_in import import_archive, parse_json, read_archive_bytes, read_archive_document
from core.archive_out import archive_bytes
from core.archive_rows import IncomingArchive
from core.archive_schema import schema_text
from core.demo import load_demo_data
from core.errors import ValidationError
from tests.core.test_export import BROKEN_ARCHIVES, MALFORMED_FIELDS, _hand_archive
from tests.core.test_hostile_input import FUZZ, JSON_VALUES, _drop, _paths, _report, _set

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "archive.schema.json"
VALIDATOR = Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))

# The importer's refusals that no JSON Schema can state, each with its reason.
BEYOND_THE_SCHEMA = {
    "duplicate seq": "seq numbers 1, 2, 3 … in order span the messages of a session",
    "NUL byte": "a NUL character is text-level; the importer screens the raw JSON for it",
    "half of a surrogate pair": "the same: a lone surrogate is text-level",
    "repeated id": "ids that must not repeat span the records of the archive",
    "missing user": "valid for `import --user`, which gives every record to one coach",
}
NOT_JSON = ("not JSON", "truncated file", "NaN is not a JSON number", "is empty", "not UTF-8")


def _json_or_none(raw: str | bytes) -> Any:
    """The document as the importer parses it, or None when it is not JSON at all."""
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
        return json.loads(text, parse_constant=lambda name: 1 / 0)
    except (ValueError, ZeroDivisionError):
        return None


def _schema_errors(document: Any) -> list[str]:
    return [error.message for error in VALIDATOR.iter_errors(document)]


def test_the_schema_file_is_generated_from_the_schema():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "docs/archive.schema.json is stale: python -m core.archive_schema > "
        "docs/archive.schema.json"
    )
    Draft202012Validator.check_schema(json.loads(schema_text()))


def test_every_archive_export_writes_is_valid(store, coach):
    load_demo_data(store, users=3, sessions=40, messages=900, seed=7)
    archives = [archive_bytes(store, user.id) for user in store.list_users()]
    assert sum(len(json.loads(raw)["sessions"]) for raw in archives) >= 40
    hand = _hand_archive()
    hand["sessions"][0]["messages"][1]["blocks"] = [{"type": "text", "text": "hi"}]
    for raw in [*archives, json.dumps(hand).encode()]:
        document = json.loads(raw)
        assert _schema_errors(document) == []
        # …and the importer's fast path takes it whole, as the schema says.
        assert read_archive_bytes(raw, need_users=True) is not None


def test_the_schema_refuses_each_malformed_case_the_importer_refuses(store, coach):
    cases = [(name, change) for name, (change, _) in BROKEN_ARCHIVES.items()]
    cases += [(message, change) for change, message in MALFORMED_FIELDS]
    repeated = _hand_archive()
    repeated["sessions"][1]["id"] = repeated["sessions"][0]["id"]
    cases.append(("repeated id", lambda archive: json.dumps(repeated)))
    anonymous = _hand_archive()
    del anonymous["sessions"][0]["user"]
    cases.append(("missing user", lambda archive: json.dumps(anonymous)))
    refused_by_schema = refused_as_json = 0
    for name, change in cases:
        raw = change(_hand_archive())
        with pytest.raises(ValidationError):
            import_archive(store, raw)  # the importer refuses every one
        document = _json_or_none(raw)
        if document is None:
            assert any(part in name for part in NOT_JSON), name
            refused_as_json += 1
        elif any(part in name for part in BEYOND_THE_SCHEMA):
            assert _schema_errors(document) == [], name
        else:
            assert _schema_errors(document), f"the schema takes the malformed case {name!r}"
            refused_by_schema += 1
    assert refused_as_json == len(NOT_JSON)
    assert refused_by_schema == len(cases) - len(NOT_JSON) - len(BEYOND_THE_SCHEMA)


def _near_now(value: Any) -> bool:
    return isinstance(value, datetime) and abs(datetime.now(UTC) - value) < timedelta(minutes=5)


def _rows(archive: IncomingArchive) -> list[Any]:
    """Everything an import writes from the archive; a drill's time left to now counts as now."""
    found: list[Any] = []
    for incoming in archive.sessions:
        found.append((incoming.id, incoming.username, incoming.drill_ref, incoming.row))
        found.append((incoming.tags, incoming.messages, incoming.tool_calls))
    for drill in archive.drills:
        row = {key: "now" if _near_now(value) else value for key, value in drill.row.items()}
        found.append((drill.id, drill.username, drill.source_ref, row))
    return found


def test_the_fast_path_never_takes_what_the_reader_refuses(store, coach, capsys):
    load_demo_data(store, users=1, sessions=4, messages=40, seed=3)
    original = json.loads(archive_bytes(store, store.get_user("coach1").id))
    original["drills"] = _hand_archive("coach1")["drills"]
    outcomes = {"taken by both": 0, "refused by both": 0, "left to the reader": 0}

    @FUZZ
    @given(data=st.data())
    def damage(data) -> None:
        document = copy.deepcopy(original)
        path = data.draw(st.sampled_from(_paths(document)))
        if data.draw(st.booleans()):
            document = _set(document, path, data.draw(JSON_VALUES))
        else:
            document = _drop(document, path)
        raw = json.dumps(document).encode()
        need_users = data.draw(st.booleans())
        fast = read_archive_bytes(raw, need_users=need_users)
        try:
            slow = read_archive_document(
                parse_json(raw.decode()), raw.decode(), need_users=need_users
            )
        except ValidationError:
            slow = None
        if fast is not None:
            assert slow is not None, "the fast path took an archive the reader refuses"
            assert _rows(fast) == _rows(slow)
            assert _schema_errors(document) == []
            outcomes["taken by both"] += 1
        else:
            outcomes["refused by both" if slow is None else "left to the reader"] += 1

    damage()
    assert outcomes["taken by both"] > 10 and outcomes["refused by both"] > 10, outcomes
    _report(
        capsys, f"Damaged archives, fast path against the reader {outcomes}", sum(outcomes.values())
    )


def test_a_nul_under_a_key_with_a_line_break_is_named_on_one_line(store, coach):
    archive = _hand_archive()
    archive["sessions"][0]["metadata"] = {"line\nbreak": "warm\x00up"}
    with pytest.raises(ValidationError) as refused:
        import_archive(store, json.dumps(archive))
    assert str(refused.value) == (
        'sessions[0].metadata."line\\nbreak" contains a NUL character, which cannot be stored.'
    )
