"""The directory as texters meet it: ZIP codes measured in miles, new data without a restart, and outages."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.config import PROJECT_ROOT, load_settings
from bot.storage.db import init_database, make_engine
from bot.web import create_app
from tests.conftest import make_env
from tests.places import shared_places
from tests.twilio_webhooks import Phone, assert_hotlines


def test_a_zip_code_lists_its_county_first_then_services_within_the_radius(phone: Phone) -> None:
    reply = phone.send("32114")
    assert reply.startswith("Local peer support in Volusia County, FL:")
    assert "- Volusia Recovery Alliance: (386) 777-PEER (386-777-7337)\n" in reply
    assert "Also within 25 miles of 32114:\n- Flagler County CORe: (877) 393-CORE (2673) (about 24 mi)" in reply
    assert reply.index("Volusia Recovery Alliance") < reply.index("Flagler County CORe")
    assert_hotlines(reply)


def test_a_county_name_after_a_zip_code_searches_the_county_alone(phone: Phone) -> None:
    phone.send("32114")
    phone.send("1")
    reply = phone.send("volusia")
    assert "Volusia Recovery Alliance" in reply
    assert "Also within" not in reply


def test_the_radius_is_a_setting(tmp_path: Path, database_url: str, redis_url: str, redis_client) -> None:
    settings = load_settings(make_env(tmp_path, database_url, redis_url, ZIP_RADIUS_MILES="10"))
    phone = Phone(create_app(settings, redis_client, places=shared_places()).test_client(), "+13865550177")
    reply = phone.send("32114")
    assert "Flagler County CORe" not in reply
    assert "Volusia Recovery Alliance" in reply


def private_database(tmp_path: Path) -> tuple[str, Path]:
    """A SQLite database of our own, loaded from a copy of the shipped data that the test may change."""
    data = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "data", data)
    url = f"sqlite:///{tmp_path / 'db' / 'helpline.sqlite3'}"
    engine = make_engine(url)
    init_database(engine, data)
    engine.dispose()
    return url, data


def test_changed_data_reaches_a_running_app_without_a_restart(tmp_path: Path, redis_url: str, redis_client) -> None:
    url, data = private_database(tmp_path)
    app = create_app(
        load_settings(make_env(tmp_path, url, redis_url, DIRECTORY_CHECK_SECONDS="0")),
        redis_client,
        places=shared_places(),
    )
    phone = Phone(app.test_client(), "+13865550178")
    assert "Volusia Recovery Alliance" in phone.send("volusia")

    path = data / "resources.yaml"
    renamed = "name: Volusia Recovery Alliance (renamed)\n"
    path.write_text(path.read_text().replace("name: Volusia Recovery Alliance\n", renamed))
    engine = make_engine(url)
    init_database(engine, data)
    engine.dispose()
    phone.send("volusia")  # this lookup starts the check in the background (and may still answer from the old)
    app.extensions["helpline_parts"].directory.wait(timeout=30)

    assert "Volusia Recovery Alliance (renamed)" in phone.send("volusia")


def test_local_listings_survive_a_database_outage(tmp_path: Path, redis_url: str, redis_client) -> None:
    url, _ = private_database(tmp_path)
    app = create_app(
        load_settings(make_env(tmp_path, url, redis_url, DIRECTORY_CHECK_SECONDS="0")),
        redis_client,
        places=shared_places(),
    )
    phone = Phone(app.test_client(), "+13865550179")
    app.extensions["helpline_parts"].db_engine.dispose()
    shutil.move(tmp_path / "db", tmp_path / "db-unplugged")

    for _ in range(3):
        reply = phone.send("putnam")
        assert "Recovery Point: (386) 385-3079" in reply
        assert_hotlines(reply)
        app.extensions["helpline_parts"].directory.wait(timeout=30)
    assert app.test_client().get("/healthz").status_code == 503, "the outage is still visible to load balancers"


def test_without_a_database_at_start_texts_still_get_the_hotlines(tmp_path: Path, redis_url: str, redis_client) -> None:
    url = f"sqlite:///{tmp_path / 'never-created' / 'x' / 'helpline.sqlite3'}"
    app = create_app(
        load_settings(make_env(tmp_path, url, redis_url, DIRECTORY_CHECK_SECONDS="3600")),
        redis_client,
        places=shared_places(),
    )
    shutil.rmtree(tmp_path / "never-created")
    reply = Phone(app.test_client(), "+13865550180").send("volusia")
    assert_hotlines(reply)
