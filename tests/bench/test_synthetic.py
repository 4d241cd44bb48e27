"""The synthetic directory: clearly fake, valid as data files, and never loaded by accident."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bench.synthetic import GenerateError, generate, main
from bot.config import PROJECT_ROOT
from bot.storage.data_files import load_dataset
from bot.storage.db import SyntheticDataRefused, init_database, install_dataset


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return generate(tmp_path_factory.mktemp("synthetic"), 120)


def test_the_files_read_back_as_exactly_the_directory_the_generator_made(generated) -> None:  # type: ignore[no-untyped-def]
    assert load_dataset(generated.out) == generated.dataset


def test_everything_in_it_says_it_is_fictional(generated) -> None:  # type: ignore[no-untyped-def]
    dataset = generated.dataset
    assert dataset.synthetic and all(org.synthetic for org in dataset.organizations)
    for service in dataset.services:
        assert service.name.startswith("SYNTHETIC ")
        for phone in service.phones:
            assert re.fullmatch(r"\+1\d{3}55501\d\d", phone.number), phone.number
    assert all(org.locations for org in dataset.organizations)
    assert "NOT REAL SERVICES" in (generated.out / "resources.yaml").read_text()


def test_init_refuses_it_unless_allowed(engine: Engine, generated) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SyntheticDataRefused):
        init_database(engine, generated.out)
    with pytest.raises(SyntheticDataRefused):
        install_dataset(engine, generated.dataset)
    assert init_database(engine, generated.out, allow_synthetic=True).services == 120


def test_it_is_never_written_into_the_real_data_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(GenerateError):
        generate(PROJECT_ROOT / "data", 10, real_data_dirs=(PROJECT_ROOT / "data",))
    exit_code = main(["--services", "10", "--out", str(PROJECT_ROOT / "data")])
    assert exit_code != 0
    assert "refusing" in capsys.readouterr().err


def test_one_state_only(tmp_path: Path) -> None:
    dataset = generate(tmp_path, 40, states=("FL",)).dataset
    assert {area.state for service in dataset.services for area in service.service_areas} <= {"FL", None}
