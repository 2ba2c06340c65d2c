"""The mechanism file format: validation with file, line and path; dump and parse round trip."""

import datetime as dt

import pytest

from stcoord.institutions.mechanism_file import (
    MechanismFileError,
    dump_mechanism,
    parse_mechanism,
)
from stcoord.reference import mechanism_files
from tests.conftest import FIXTURES, fixture_text

HEADER = """format: stcoord-mechanism/1
jurisdiction: {code: KR, name: Korea}
fields:
  - {key: ai, name: AI}
"""


def problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(MechanismFileError) as info:
        parse_mechanism(text, "kr.yaml")
    assert all(p.file == "kr.yaml" for p in info.value.problems)
    return [(p.line, p.path, p.message) for p in info.value.problems]


def test_the_fixture_parses() -> None:
    spec = parse_mechanism(fixture_text("mini.yaml"), "mini.yaml")
    assert spec.jurisdiction.code == "XA"
    assert [b.key for b in spec.bodies][:2] == ["head", "council"]
    assert spec.bodies[1].established == "2001-01-06"  # a YAML date stays text
    assert spec.relations[0].from_body == "council"


def test_unknown_body_names_line_and_path() -> None:
    text = (
        HEADER
        + """bodies:
  - key: pacst
    name: PACST
    kind: council
    level: supra_ministerial
    parent: president
"""
    )
    assert problems(text) == [(10, "bodies[0].parent", "unknown body 'president'")]


def test_duplicate_body_keys_and_duplicate_mapping_keys() -> None:
    text = (
        HEADER
        + """bodies:
  - {key: msit, name: MSIT, kind: ministry, level: ministerial}
  - {key: msit, name: MSIT again, kind: ministry, level: ministerial}
relations: []
relations: []
"""
    )
    found = problems(text)
    assert (9, "relations", "duplicate key in mapping") in found
    assert (7, "bodies[1].key", "duplicate body key 'msit'") in found


def test_cycle_in_reports_to_is_reported_with_the_loop() -> None:
    text = (
        HEADER
        + """bodies:
  - {key: a, name: A, kind: council, level: supra_ministerial}
  - {key: b, name: B, kind: council, level: supra_ministerial}
  - {key: c, name: C, kind: council, level: supra_ministerial}
relations:
  - {from: a, to: b, type: reports_to}
  - {from: b, to: c, type: reports_to}
  - {from: c, to: a, type: reports_to}
  - {from: a, to: c, type: advises}
"""
    )
    assert problems(text) == [(12, "relations[2]", "cycle in reports_to: a -> b -> c -> a")]


def test_cycle_in_parents() -> None:
    text = (
        HEADER
        + """bodies:
  - {key: a, name: A, kind: council, level: supra_ministerial, parent: b}
  - {key: b, name: B, kind: council, level: supra_ministerial, parent: a}
"""
    )
    found = problems(text)
    assert len(found) == 1
    assert found[0][1] == "bodies[0].parent"
    assert "cycle in parent: a -> b -> a" in found[0][2]


def test_composition_rule_the_seats_break() -> None:
    text = (
        HEADER
        + """bodies:
  - key: pacst
    name: PACST
    kind: council
    level: supra_ministerial
    seats:
      - {role: chair, holder_type: head_of_government, title: President}
      - {role: member, holder_type: minister, title: Ministers, count: 5}
      - {role: member, holder_type: expert_academia, title: Experts, count: 2}
    composition:
      - rule: experts >= half of members
      - rule: members <= 10
      - rule: ministers <= plenty
"""
    )
    found = problems(text)
    assert found[0][:2] == (15, "bodies[0].composition[0].rule")
    assert "experts >= half of members: 2 vs 3.50 (broken)" in found[0][2]
    assert found[1][:2] == (17, "bodies[0].composition[2].rule")
    assert "bad expression" in found[1][2]
    assert len(found) == 2


def test_wrong_types_and_unknown_keys_are_all_reported() -> None:
    text = (
        HEADER
        + """bodies:
  - key: pacst
    name: PACST
    kind: parliament
    level: supra_ministerial
    colour: blue
    seats:
      - {role: chair, holder_type: head_of_government, title: President, count: many}
    mandates:
      - {affair: budgetary, power: allocate, scope: [ai, robots]}
"""
    )
    found = problems(text)
    paths = {p for _, p, _ in found}
    assert {"bodies[0].kind", "bodies[0].colour", "bodies[0].seats[0].count"} <= paths
    lines = {p: line for line, p, _ in found}
    assert lines["bodies[0].kind"] == 8
    assert lines["bodies[0].colour"] == 10
    assert lines["bodies[0].seats[0].count"] == 12


def test_unknown_field_in_a_mandate_scope() -> None:
    text = (
        HEADER
        + """bodies:
  - key: pacst
    name: PACST
    kind: council
    level: supra_ministerial
    mandates:
      - {affair: budgetary, power: allocate, scope: [ai, robots]}
"""
    )
    assert problems(text) == [
        (11, "bodies[0].mandates[0].scope[1]", "unknown strategic field 'robots'")
    ]


def test_yaml_syntax_error_has_a_line() -> None:
    assert problems("jurisdiction: {code: KR\nbodies: [") == [
        (2, "", "YAML syntax error: did not find expected ',' or '}'")
    ]


def test_not_a_mapping() -> None:
    assert problems("- a\n- b\n") == [(1, "", "a mechanism file must be a YAML mapping")]


def test_dump_then_parse_gives_the_same_spec() -> None:
    spec = parse_mechanism(fixture_text("mini.yaml"))
    again = parse_mechanism(dump_mechanism(spec))
    assert again == spec


@pytest.mark.parametrize("path", mechanism_files(), ids=lambda p: p.name)
def test_reference_files_parse_and_round_trip(path) -> None:  # type: ignore[no-untyped-def]
    spec = parse_mechanism(path.read_text(encoding="utf-8"), path.name)
    assert parse_mechanism(dump_mechanism(spec)) == spec


def test_unreadable_quorum_is_reported_at_load_time() -> None:
    text = (
        HEADER
        + """bodies:
  - key: pacst
    name: PACST
    kind: council
    level: supra_ministerial
    decision: {rule: majority, quorum: the chair and most members}
"""
    )
    found = problems(text)
    assert [(line, path) for line, path, _ in found] == [(10, "bodies[0].decision.quorum")]
    assert "bad quorum part" in found[0][2]


def test_keys_are_taken_as_written_not_as_yaml_booleans() -> None:
    from stcoord.institutions.yaml_locations import load_located

    assert load_located("on: 2021-02-10\nno: x\nyes: 1\n").data == {
        "on": dt.date(2021, 2, 10),
        "no": "x",
        "yes": 1,
    }


@pytest.mark.parametrize("path", [*mechanism_files(), FIXTURES / "mini.yaml"], ids=lambda p: p.name)
def test_fast_and_located_readers_agree(path) -> None:  # type: ignore[no-untyped-def]
    from stcoord.institutions.yaml_locations import load_fast, load_located

    text = path.read_text(encoding="utf-8")
    assert load_fast(text) == load_located(text).data


def test_duplicate_key_found_even_when_the_fast_reader_is_tried_first() -> None:
    assert problems(HEADER + "bodies: []\nbodies: []\n") == [
        (6, "bodies", "duplicate key in mapping")
    ]
