"""Tests for reading and validating the data files: the shipped facts, and `file:line: message` errors."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from bot.storage.data_files import DATA_FILES, FORMAT_VERSION, DataFileError, content_hash, load_dataset

SHIPPED_DATA = Path(__file__).resolve().parents[2] / "data"
SEEDS_DIR = Path(os.environ.get("HELPLINE_SEEDS_DIR", "/work/shared/seeds"))

CATEGORY_CODES = {
    "peer-support", "family", "mutual-support", "sober-living", "dual-diagnosis", "treatment",
    "food", "shelter", "jobs", "transportation", "crisis", "talk-now",
}  # fmt: skip

# Every number the project ships, and the form its source prints it in. A new number needs a source first.
SHIPPED_PHONES = {
    ("+18005394228", "(800) 539-4228"),
    ("+13867777337", "(386) 777-PEER"),
    ("+18773932673", "(877) 393-CORE (2673)"),
    ("+19044950625", "(904) 495-0625"),
    ("+17707420706", "(770) 742-0706"),
    ("+13863853079", "(386) 385-3079"),
    ("+13522556985", "(352) 255-6985"),
    ("+12164410200", "(216) 441-0200"),
    ("+18006624357", "1-800-662-HELP (4357)"),
    ("988", "988"),
    ("741741", "741741"),
    ("211", "211"),
}

ONE_SERVICE = """\
- id: test-org
  name: Test Org
  source: https://example.org/directory
  assured_date: 2026-11-27
  services:
    - id: test-service
      name: Test Service
      status: active
      categories: [peer-support]
      phones:
        - number: "+13867777337"
          display: "(386) 777-PEER"
          type: voice
      service_areas:
        - {county: Volusia County, state: FL, fips: "12127"}
"""


def write_resources(data_dir: Path, text: str) -> Path:
    path = data_dir / "resources.yaml"
    path.write_text(text)
    return path


def line_of(text: str, needle: str) -> int:
    """1-based line of the only line containing `needle`."""
    lines = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(lines) == 1, f"{needle!r} found on lines {lines}"
    return lines[0]


def error_for(data_dir: Path, text: str) -> DataFileError:
    write_resources(data_dir, text)
    with pytest.raises(DataFileError) as info:
        load_dataset(data_dir)
    return info.value


def test_shipped_data_loads_with_the_expected_facts() -> None:
    dataset = load_dataset(SHIPPED_DATA)

    assert {c.code for c in dataset.categories} == CATEGORY_CODES
    services = {s.id: s for s in dataset.services}
    vra = services["volusia-recovery-alliance-peer-support"]
    assert [(p.number, p.display, p.type) for p in vra.phones] == [("+13867777337", "(386) 777-PEER", "voice")]
    assert vra.categories == ("peer-support", "family")
    assert [(a.extent, a.county, a.state, a.fips) for a in vra.service_areas] == [
        ("county", "Volusia County", "FL", "12127")
    ]
    assert vra.assured_date == date(2026, 11, 27)
    hotline = services["sma-healthcare-hotline"]
    assert {a.fips for a in hotline.service_areas} == {"12127", "12035", "12109", "12107", "12083"}
    assert services["crisis-text-line"].text_instructions == "Text HOME to 741741"
    assert {s.id for s in dataset.services if not s.phones} == {
        "alcoholics-anonymous-meetings",
        "narcotics-anonymous-meetings",
        "smart-recovery-meetings",
        "al-anon-meetings",
    }


def test_every_shipped_phone_number_is_known_and_has_a_source() -> None:
    dataset = load_dataset(SHIPPED_DATA)
    shipped = set()
    for service in dataset.services:
        for phone in service.phones:
            shipped.add((phone.number, phone.display))
            assert re.match(r"^(https?://\S+|seed:\S+)", service.source), (service.id, service.source)
            seed = re.match(r"^seed:(\S+)", service.source)
            if seed and SEEDS_DIR.is_dir():
                assert phone.display in (SEEDS_DIR / f"{seed.group(1)}.txt").read_text(), (service.id, phone)
    assert shipped == SHIPPED_PHONES


def test_yes_no_on_off_stay_strings(data_dir: Path) -> None:
    (data_dir / "categories.yaml").write_text("peer-support: Peer support\nyes: no\non: off\n")
    write_resources(data_dir, ONE_SERVICE)

    categories = load_dataset(data_dir).categories

    assert [(c.code, c.name) for c in categories] == [("peer-support", "Peer support"), ("yes", "no"), ("on", "off")]


def test_hash_follows_file_content(data_dir: Path) -> None:
    before = content_hash(data_dir)
    assert content_hash(data_dir) == before
    path = data_dir / "categories.yaml"
    path.write_text(path.read_text() + "# an edit\n")
    assert content_hash(data_dir) != before


def test_the_hash_of_a_file_read_in_chunks_is_the_hash_of_its_bytes(data_dir: Path) -> None:
    # A file of several read chunks: the hash must not depend on how it is read (databases store it).
    big = (data_dir / "resources.yaml").read_bytes()
    big += b"# padding\n" * (300_000 - len(big) // 10)
    (data_dir / "resources.yaml").write_bytes(big)
    expected = hashlib.sha256(f"helpline-data-format:{FORMAT_VERSION}\0".encode())
    for name in DATA_FILES:
        raw = (data_dir / name).read_bytes()
        expected.update(f"{name}\0{len(raw)}\0".encode() + raw)

    assert len(big) > 2 * (1 << 20)
    assert content_hash(data_dir) == expected.hexdigest()


def test_broken_yaml_reports_file_and_line(data_dir: Path) -> None:
    text = ONE_SERVICE.replace("categories: [peer-support]", "categories: [peer-support")

    error = error_for(data_dir, text)

    assert error.path == data_dir / "resources.yaml"
    assert error.line == line_of(text, "phones:")
    assert str(error).startswith(f"{data_dir / 'resources.yaml'}:{error.line}: invalid YAML")


def test_duplicate_key_reports_the_second_occurrence(data_dir: Path) -> None:
    text = ONE_SERVICE.replace("      status: active\n", "      status: active\n      name: Again\n")

    error = error_for(data_dir, text)

    assert error.line == line_of(text, "name: Again")
    assert "duplicate key" in error.message


def test_bad_phone_number_names_file_and_line(data_dir: Path) -> None:
    text = ONE_SERVICE.replace('"+13867777337"', '"+1386777733"')

    error = error_for(data_dir, text)

    assert str(error) == (
        f"{data_dir / 'resources.yaml'}:{line_of(text, '+1386777733')}: service 'test-service': phone: "
        "number '+1386777733' is not a valid phone number"
    )


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("+1 386 777 7337", "must be written in E.164 form: '+13867777337'"),
        ("(386) 777-7337", "must be E.164"),
        ("98", "must be E.164"),
        ("1234567", "must be E.164"),
    ],
)
def test_phone_numbers_must_be_e164_or_short_codes(data_dir: Path, number: str, expected: str) -> None:
    text = ONE_SERVICE.replace('"+13867777337"', f'"{number}"')

    error = error_for(data_dir, text)

    assert error.line == line_of(text, "number:")
    assert expected in error.message


def test_short_codes_are_allowed(data_dir: Path) -> None:
    write_resources(data_dir, ONE_SERVICE.replace('"+13867777337"', '"988"').replace('"(386) 777-PEER"', '"988"'))

    (service,) = load_dataset(data_dir).services

    assert [(p.number, p.display) for p in service.phones] == [("988", "988")]


def test_unquoted_number_is_rejected_rather_than_turned_into_an_int(data_dir: Path) -> None:
    text = ONE_SERVICE.replace('"+13867777337"', "+13867777337")

    error = error_for(data_dir, text)

    assert error.line == line_of(text, "number:")
    assert "'number' must be text in quotes, got the number 13867777337" in error.message


def test_display_must_spell_the_number(data_dir: Path) -> None:
    text = ONE_SERVICE.replace('"(386) 777-PEER"', '"(386) 777-PEAR"')

    error = error_for(data_dir, text)

    assert error.line == line_of(text, "display:")
    assert "does not spell the number" in error.message


def test_unknown_category_is_rejected_with_its_line(data_dir: Path) -> None:
    text = ONE_SERVICE.replace("categories: [peer-support]", "categories:\n        - peer-support\n        - housing")

    error = error_for(data_dir, text)

    assert error.line == line_of(text, "- housing")
    assert "unknown category 'housing'" in error.message


def test_duplicate_service_id_is_rejected(data_dir: Path) -> None:
    second = ONE_SERVICE.split("  services:\n")[1]
    text = ONE_SERVICE + second

    error = error_for(data_dir, text)

    assert error.line == len(ONE_SERVICE.splitlines()) + 1
    assert "duplicate service id (first used on line 6)" in error.message


def test_unknown_field_is_rejected_at_its_key(data_dir: Path) -> None:
    text = ONE_SERVICE.replace("      status: active\n", "      status: active\n      phone: x\n")

    error = error_for(data_dir, text)

    assert error.line == line_of(text, "phone: x")
    assert "unknown field 'phone'" in error.message


def test_missing_required_field_points_at_the_mapping(data_dir: Path) -> None:
    text = ONE_SERVICE.replace("      status: active\n", "")

    error = error_for(data_dir, text)

    assert error.line == line_of(text, "- id: test-service")
    assert error.message == "service 'test-service': missing required field 'status'"


def test_status_must_be_known(data_dir: Path) -> None:
    text = ONE_SERVICE.replace("status: active", "status: closed")

    error = error_for(data_dir, text)

    assert error.line == line_of(text, "status:")


def test_bad_date_is_rejected(data_dir: Path) -> None:
    text = ONE_SERVICE.replace("assured_date: 2026-11-27", "assured_date: 27/11/2026")

    error = error_for(data_dir, text)

    assert error.line == line_of(text, "assured_date:")
    assert "ISO date" in error.message


@pytest.mark.parametrize(
    ("area", "expected"),
    [
        ('{county: Volusia County, state: OH, fips: "12127"}', "not in OH"),
        ("{county: Volusia County, state: FL, fips: 12127}", "must be text in quotes"),
        ("{county: Volusia County}", "missing required field 'state'"),
        ("{state: Florida}", "two-letter USPS code"),
        ("{national: false}", "'national' must be true"),
        ("{national: true, state: FL}", "unknown field 'state'"),
    ],
)
def test_service_area_shape_is_checked(data_dir: Path, area: str, expected: str) -> None:
    text = ONE_SERVICE.replace('{county: Volusia County, state: FL, fips: "12127"}', area)

    error = error_for(data_dir, text)

    assert error.line == line_of(text, area)
    assert expected in error.message


def test_statewide_and_national_areas_are_read(data_dir: Path) -> None:
    text = ONE_SERVICE.replace(
        '        - {county: Volusia County, state: FL, fips: "12127"}\n',
        "        - {state: FL}\n        - {national: true}\n",
    )
    write_resources(data_dir, text)

    (service,) = load_dataset(data_dir).services

    assert [(a.extent, a.state) for a in service.service_areas] == [("state", "FL"), ("national", None)]


def test_service_inherits_source_and_date_but_may_override_them(data_dir: Path) -> None:
    text = ONE_SERVICE + ONE_SERVICE.split("  services:\n")[1].replace("test-service", "other").replace(
        "      status: active\n", "      status: active\n      source: seed:001_x\n      assured_date: 2026-01-02\n"
    )
    write_resources(data_dir, text)

    first, second = load_dataset(data_dir).services

    assert (first.source, first.assured_date) == ("https://example.org/directory", date(2026, 11, 27))
    assert (second.source, second.assured_date) == ("seed:001_x", date(2026, 1, 2))


def test_missing_file_is_reported(tmp_path: Path) -> None:
    shutil.copy(SHIPPED_DATA / "categories.yaml", tmp_path / "categories.yaml")

    with pytest.raises(DataFileError) as info:
        load_dataset(tmp_path)

    assert info.value.path == tmp_path / "resources.yaml"
    assert str(info.value).startswith(f"{tmp_path / 'resources.yaml'}:0: cannot read file")
