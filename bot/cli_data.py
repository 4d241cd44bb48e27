"""`helpline data generate`: writes a SYNTHETIC national directory for benchmarks (added to `helpline data`)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from bot.config import PROJECT_ROOT, ConfigError, load_settings


@click.command("generate")
@click.option("--services", "count", type=int, required=True, help="How many services to generate.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write (default: INSTANCE_DIR/synthetic-N). Never the real data folder.",
)
@click.option("--seed", type=int, default=6, show_default=True, help="The same seed writes the same files.")
@click.option("--state", "states", multiple=True, help="Only this state (USPS code; repeat for several).")
@click.option(
    "--load",
    is_flag=True,
    help="Also load it into DATABASE_URL without re-parsing the YAML (needs ALLOW_SYNTHETIC_DATA=1).",
)
def generate_command(count: int, out: Path | None, seed: int, states: tuple[str, ...], load: bool) -> None:
    """Write a SYNTHETIC national directory (fictional services, 555-01xx numbers) for benchmarks only."""
    from bot.storage.synthetic import GenerateError, generate

    settings = None
    try:
        settings = load_settings()
        instance_dir, data_dir = settings.instance_dir, settings.data_dir
    except ConfigError:
        if load:
            raise
        # Writing files needs no secrets; fall back to the default folders.
        instance_dir, data_dir = PROJECT_ROOT / "instance", PROJECT_ROOT / "data"
    if load and settings is not None and not settings.allow_synthetic_data:
        raise click.ClickException("--load needs ALLOW_SYNTHETIC_DATA=1 (and a benchmark database in DATABASE_URL)")
    target = out or instance_dir / f"synthetic-{count}"
    started = time.perf_counter()
    try:
        result = generate(
            target, count, seed=seed, real_data_dirs=(data_dir, PROJECT_ROOT / "data"),
            states=tuple(s.upper() for s in states),
        )
    except GenerateError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"wrote SYNTHETIC directory: {result.services} services in {result.counties} counties "
        f"(from {result.zip_codes} ZIP codes) to {result.out} in {time.perf_counter() - started:.1f} s"
    )
    if load and settings is not None:
        from bot.storage.db import install_dataset, make_engine

        started = time.perf_counter()
        engine = make_engine(settings.database_url)
        try:
            loaded = install_dataset(engine, result.dataset, allow_synthetic=True)
        finally:
            engine.dispose()
        state = "loaded" if loaded.changed else "already loaded"
        click.echo(f"{state} into the database in {time.perf_counter() - started:.1f} s: {loaded.services} services")
    else:
        click.echo(
            f"load it only into a benchmark database: ALLOW_SYNTHETIC_DATA=1 DATA_DIR={result.out} helpline init"
        )
