"""Admin commands: `helpline flows ...`, `helpline data ...`, `helpline chat` and `helpline reload`.

Everything an admin needs to change the bot without a developer: check a flow or data edit, test it with
transcripts, see it (a simulator and a diagram), and publish it to the running helpline. None of these
commands needs the Twilio token or the hash secret; only `reload` needs the database and Redis.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.admin import checks
from bot.config import ConfigError, Settings, load_settings
from bot.core.places import Gazetteer
from bot.storage.data_check import check_data_dir

PATH = click.Path(path_type=Path)
EXISTING_DIR = click.Path(path_type=Path, exists=True, file_okay=False)


def offline_settings() -> Settings:
    """Settings for tools that never talk to Twilio or store a number."""
    try:
        return load_settings(require_secrets=False)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def places_for(settings: Settings) -> Gazetteer:
    """The county/ZIP table for one command (from the cache in `INSTANCE_DIR` that serving keeps too)."""
    from bot.storage.gazetteer_cache import load_gazetteer

    return load_gazetteer(settings.instance_dir)


def _echo_problems(lines: list[str]) -> None:
    for line in lines:
        click.echo(line)


# -- flows ----------------------------------------------------------------------------------------------------


@click.group("flows")
def flows() -> None:
    """Check, test and draw the conversation flows (FLOWS_DIR, default flows/)."""


@flows.command("check")
@click.argument("directory", required=False, type=EXISTING_DIR)
@click.option("--data", "data_dir", type=EXISTING_DIR, help="Data folder to check against (default DATA_DIR).")
@click.option("--no-data", is_flag=True, help="Skip the checks that need the data (topics, listings in the budget).")
def flows_check(directory: Path | None, data_dir: Path | None, no_data: bool) -> None:
    """Check every flow file: prints `file:line: problem` and exits 1 if there is any."""
    settings = offline_settings()
    directory = directory or settings.flows_dir
    data = None
    places = places_for(settings)
    if not no_data:
        data = check_data_dir(data_dir or settings.data_dir, settings, places=places)
        if data.dataset is None:
            click.echo(
                f"note: the data in {data.path} does not load, so flows are checked without it "
                f"(run `helpline data check`)",
                err=True,
            )
    reports = checks.check_flows_dir(directory, settings, data, places=places)
    if not reports:
        raise click.ClickException(f"no flow files (*.yaml) in {directory}")
    failed = 0
    for report in reports:
        if report.ok and report.flow is None:
            click.echo(f"{report.path}: ok ({report.kind})")
        elif report.ok:
            assert report.flow is not None
            languages = ", ".join(report.flow.languages)
            click.echo(f"{report.path}: ok ({len(report.flow.states)} states, languages {languages}: "
                       f"every text, label, message, keyword and phrase list in each)")
            _echo_segments(report, settings.sms_segment_budget)
        else:
            failed += 1
            _echo_problems([str(p) for p in report.problems])
    if failed:
        click.echo(f"{failed} of {len(reports)} flow file(s) have problems", err=True)
        sys.exit(1)


def _echo_segments(report: checks.FlowReport, budget: int) -> None:
    """The worst case of each state's text, one column per language, as the budget check measured it."""
    if not report.segments:
        return
    languages = list(dict.fromkeys(m.language for m in report.segments))
    rows: dict[str, dict[str, str]] = {}
    for m in report.segments:
        rows.setdefault(m.what, {})[m.language] = f"{m.segments.segments} ({m.segments.encoding}, {m.segments.units})"
    width = max(len(what) for what in rows)
    click.echo(f"  segments, worst case (budget {budget}):")
    click.echo("    " + "".join([" " * width, *(f"  {lang:<18}" for lang in languages)]).rstrip())
    for what, cells in rows.items():
        columns = "".join(f"  {cells.get(lang, '-'):<18}" for lang in languages)
        click.echo(f"    {what:<{width}}{columns}".rstrip())


@flows.command("crisis-eval")
@click.argument("statements", required=False, type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option(
    "--crisis",
    "crisis_file",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="Crisis phrase file (default FLOWS_DIR/crisis.yaml).",
)
def flows_crisis_eval(statements: Path | None, crisis_file: Path | None) -> None:
    """Score the crisis screen on labelled STATEMENTS (default tests/crisis/statements.yaml): recall and false
    positives per class and language, and every miss; exits 1 below the targets."""
    from bot.admin import crisis_eval
    from bot.core.flows import CRISIS_FILE, FlowError
    from bot.core.safety import load_crisis

    settings = offline_settings()
    source = statements or crisis_eval.DEFAULT_SET
    try:
        screen = load_crisis(crisis_file or settings.flows_dir / CRISIS_FILE)
        evaluation = crisis_eval.evaluate(screen, crisis_eval.load_statements(source))
    except FlowError as exc:
        _echo_problems([str(p) for p in exc.problems])
        sys.exit(1)
    _echo_problems(crisis_eval.report(evaluation, str(source)))
    if not evaluation.ok:
        sys.exit(1)


@flows.command("test")
@click.argument("directory", required=False, type=EXISTING_DIR)
@click.option("--data", "data_dir", type=EXISTING_DIR, help="Data folder for the directory (default DATA_DIR).")
@click.option("-k", "select", help="Run only the conversations whose name contains this.")
@click.option("-v", "--verbose", is_flag=True, help="Print every conversation, passed or not.")
def flows_test(directory: Path | None, data_dir: Path | None, select: str | None, verbose: bool) -> None:
    """Run the transcripts in DIRECTORY/tests/ through the real engine and directory."""
    from bot.admin.run import run_transcript_files

    settings = offline_settings()
    directory = directory or settings.flows_dir
    result = run_transcript_files(settings, directory, data_dir or settings.data_dir, places_for(settings), select)
    for line in result.problems:
        click.echo(line)
    for outcome in result.outcomes:
        if verbose or not outcome.passed:
            from bot.admin.transcripts import explain

            click.echo(explain(outcome))
    for flow_name, missing in result.uncovered.items():
        click.echo(f"note: no transcript visits {flow_name} state(s): {', '.join(missing)}")
    passed = sum(o.passed for o in result.outcomes)
    failed = len(result.outcomes) - passed
    click.echo(f"{passed} passed, {failed} failed")
    if failed or result.problems or not result.outcomes:
        sys.exit(1)


@flows.command("graph")
@click.argument("flow_file", required=False, type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "dot", "svg", "png"]),
    default="mermaid",
    show_default=True,
    help="svg and png need Graphviz's `dot` program.",
)
@click.option("-o", "--output", type=PATH, help="Write here instead of standard output.")
def flows_graph(flow_file: Path | None, fmt: str, output: Path | None) -> None:
    """Draw a flow: every state, option and global word (default: FLOWS_DIR/main.yaml)."""
    from bot.admin import graph
    from bot.core.flows import FlowError, load_flow

    settings = offline_settings()
    path = flow_file or settings.flows_dir / "main.yaml"
    try:
        flow = load_flow(path)
    except FlowError as exc:
        _echo_problems([str(p) for p in exc.problems])
        sys.exit(1)
    if fmt == "mermaid":
        content: str | bytes = graph.mermaid(flow)
    elif fmt == "dot":
        content = graph.dot(flow)
    else:
        try:
            content = graph.render(flow, fmt)
        except graph.GraphvizMissing as exc:
            raise click.ClickException(str(exc)) from exc
    if output is None:
        if isinstance(content, bytes):
            raise click.ClickException(f"{fmt} is binary: give --output FILE")
        click.echo(content, nl=not content.endswith("\n"))
    else:
        output.write_bytes(content if isinstance(content, bytes) else content.encode())
        click.echo(f"wrote {output}", err=True)


# -- data -----------------------------------------------------------------------------------------------------


@click.group("data")
def data() -> None:
    """Check, import and export the resource directory (DATA_DIR, default data/)."""


@data.command("check")
@click.argument("directory", required=False, type=EXISTING_DIR)
@click.option("--strict", is_flag=True, help="Fail on warnings (stale listings, unused categories) too.")
def data_check(directory: Path | None, strict: bool) -> None:
    """Check the data files: prints `file:line: problem` and exits 1 on any error."""
    settings = offline_settings()
    report = check_data_dir(directory or settings.data_dir, settings, places=places_for(settings))
    _echo_problems([str(f) for f in report.findings])
    warnings = len(report.findings) - len(report.errors)
    if report.dataset is not None:
        ds = report.dataset
        click.echo(
            f"{report.path}: {len(ds.organizations)} organizations, {len(ds.services)} services, "
            f"{len(ds.categories)} categories; {len(report.errors)} error(s), {warnings} warning(s)"
        )
    if not report.ok or (strict and warnings):
        sys.exit(1)


@data.command("export")
@click.argument("output", type=PATH)
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    default="csv",
    show_default=True,
    help="csv: a folder of HSDS 3.0 CSV files with datapackage.json; json: one HSDS JSON file.",
)
@click.option("--data", "data_dir", type=EXISTING_DIR, help="Data folder to export (default DATA_DIR).")
def data_export(output: Path, fmt: str, data_dir: Path | None) -> None:
    """Write the directory as Open Referral HSDS 3.0 (a tabular package, or JSON)."""
    from bot.admin import hsds
    from bot.storage.data_files import DataFileError, load_dataset

    settings = offline_settings()
    try:
        dataset = load_dataset(data_dir or settings.data_dir)
    except DataFileError as exc:
        raise click.ClickException(str(exc)) from exc
    if fmt == "csv":
        files = hsds.export_package(dataset, output)
        click.echo(f"wrote {len(files)} files to {output}")
    else:
        hsds.export_json(dataset, output)
        click.echo(f"wrote {output}")


@data.command("import")
@click.argument("source", type=click.Path(path_type=Path, exists=True))
@click.option("--into", "into", type=PATH, help="Data folder to write (default DATA_DIR).")
@click.option("--source-url", help="Where the facts came from, for records that do not say (an http(s) URL).")
@click.option("--assured-date", help="When the facts were last checked, for records that do not say (YYYY-MM-DD).")
@click.option("--force", is_flag=True, help="Replace existing data files.")
def data_import(source: Path, into: Path | None, source_url: str | None, assured_date: str | None, force: bool) -> None:
    """Read an HSDS 3.0 package (folder with datapackage.json, or HSDS JSON) into data files, then check them."""
    from datetime import date

    from bot.admin import hsds

    settings = offline_settings()
    target = into or settings.data_dir
    try:
        day = date.fromisoformat(assured_date) if assured_date else None
    except ValueError as exc:
        raise click.BadParameter(f"not a date: {assured_date!r}", param_hint="--assured-date") from exc
    try:
        written = hsds.import_into(source, target, source_url=source_url, assured_date=day, force=force)
    except hsds.ImportProblem as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {', '.join(str(p) for p in written)}")
    report = check_data_dir(target, settings, places=places_for(settings))
    _echo_problems([str(f) for f in report.findings])
    if not report.ok:
        click.echo("the imported data has errors: fix them before `helpline reload`", err=True)
        sys.exit(1)
    click.echo("checked: ok. Publish with `helpline reload`.")


# -- chat -----------------------------------------------------------------------------------------------------


@click.command("chat")
@click.option("--voice", is_flag=True, help="Be a caller: type digits (1, 32114#) or words said aloud.")
@click.option(
    "--flow",
    "flow_file",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="Flow file (default FLOWS_DIR/main.yaml).",
)
@click.option("--data", "data_dir", type=EXISTING_DIR, help="Data folder (default DATA_DIR).")
@click.option("--language", help="Start in this language of the flow.")
def chat(voice: bool, flow_file: Path | None, data_dir: Path | None, language: str | None) -> None:
    """Talk to the real engine and data in the terminal (reads standard input when it is not a terminal)."""
    from bot.admin.chat import run_chat

    settings = offline_settings()
    code = run_chat(
        settings,
        flow_file or settings.flows_dir / "main.yaml",
        data_dir or settings.data_dir,
        voice=voice,
        language=language,
        stdin=sys.stdin,
        interactive=sys.stdin.isatty(),
    )
    sys.exit(code)


# -- reload ---------------------------------------------------------------------------------------------------


@click.command("reload")
def reload_command() -> None:
    """Publish flows/ and data/ to the running helpline: check, load the data, tell every worker."""
    from bot.admin.publish import publish

    try:
        settings = load_settings(require_secrets=False)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if not settings.redis_url:
        raise click.ClickException("REDIS_URL is not set: the running helpline's Redis is how workers hear of a reload")
    result = publish(settings)
    _echo_problems(result.problems)
    click.echo(result.summary)
    if not result.ok:
        sys.exit(1)
