"""The gazetteer read from its cache file is the one built from the `zipcodes` table."""

from __future__ import annotations

from pathlib import Path

from bot.core.places import Gazetteer
from bot.storage.gazetteer_cache import cache_path, load_gazetteer, towns_path


def test_the_cached_gazetteer_is_the_same_as_the_one_from_zipcodes(tmp_path: Path) -> None:
    fresh = load_gazetteer(tmp_path)
    assert cache_path(tmp_path).exists() and towns_path(tmp_path).exists()
    cached = load_gazetteer(tmp_path)
    reference = Gazetteer.from_zipcodes()
    towns = sorted(reference.each_town(), key=lambda t: t.key)
    for gaz in (fresh, cached):
        assert gaz.counties == reference.counties
        assert gaz.zip_to_county == reference.zip_to_county
        assert gaz.zip_points == reference.zip_points
        assert gaz.centroids == reference.centroids
        assert sorted(gaz.each_town(), key=lambda t: t.key) == towns
    assert cached.resolve("volusa").county == reference.counties["FL:volusia county"]
    palatka = cached.resolve("I live near Palatka")
    assert palatka.town is not None and palatka.town.counties == ("FL:putnam county", "FL:marion county")


def test_an_unreadable_cache_is_rebuilt(tmp_path: Path) -> None:
    cache_path(tmp_path).write_text("not\ta\tgazetteer\n")
    assert load_gazetteer(tmp_path).county_for_zip("32114").name == "Volusia County"
