"""Printing and plotting a benchmark report (the JSON `python -m bench` writes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def summary(report: dict[str, Any]) -> str:
    """The report as a few readable tables."""
    lines = [f"helpline benchmark, {report['environment']['when']} (git {report['environment']['git']}), "
             f"{report['environment']['cpus']} CPUs, load average {report['environment']['load_average_at_start']} "
             f"at start, {report['environment'].get('load_average_at_end')} at end"]
    http = report.get("http")
    if http and "ratio_full_to_floor_spread" in http:
        lines.append(headline(http))
        if "beyond_floor_us" in http:
            lines.append(budget(http, report.get("stages")))
    lines.append(report["environment"]["note"])
    for run in report.get("micro", []):
        lines.append(f"\nin-process, {run['directory']} ({run['services']} services; index loaded in "
                     f"{run['index_load_seconds']} s), microseconds per call:")
        lines.append(f"  {'':58} {'p50':>9} {'p99':>9} {'p99 q.':>9}   {'dict p50':>8} {'dict p99':>8}")
        for r in run["results"]:
            b = r["baseline"]
            lines.append(f"  {r['name']:58} {r['p50_us']:9.1f} {r['p99_us']:9.1f} {r['p99_us_quietest_round']:9.1f}"
                         f"   {b['p50_us']:8.2f} {b['p99_us']:8.2f}")
        lines.append("  (p50, p99 over 5 rounds; p99 q.: of the quietest round; dict: a dict lookup of the same "
                     "answer)")
        reading = run.get("reading")
        if reading:
            lines.append(f"  reading one message: {reading['messages']} messages, against {reading['towns']} towns "
                         "and every county:")
            for r in reading["results"]:
                quiet = r.get("p99_us_quietest_round", r["p99_us"])
                lines.append(f"  {r['name']:58} {r['p50_us']:9.1f} {r['p99_us']:9.1f} {quiet:9.1f}")
    stages = report.get("stages")
    if stages:
        lines.append("\nwhere one text's time goes (in-process, real Redis and database), microseconds per call:")
        lines.append(f"  {'':58} {'p50':>9} {'p99':>9} {'mean':>9}")
        for r in stages["results"]:
            lines.append(f"  {r['name']:58} {r['p50_us']:9.1f} {r['p99_us']:9.1f} {r['mean_us']:9.1f}")
    scale = report.get("scale")
    if scale:
        lines.append("\none web worker (a fresh process building the app as gunicorn does) by directory size:")
        for r in scale:
            lines.append(f"  {r['size']:34} {r['services']:7d} services: app built in {r['app_seconds']:5.1f} s, "
                         f"memory {r['rss_mb']:5.0f} MB after (peak {r['peak_rss_mb']:.0f} MB while loading; "
                         f"{r['rss_before_app_mb']:.0f} MB of it is the libraries"
                         + (f"; build process {r['child_peak_rss_mb']:.0f} MB" if r.get("child_peak_rss_mb") else "")
                         + ")")
    if http:
        lines.append(f"\nHTTP ({http['command']}), wrk with signed traffic:")
        heads = ("req/s", "p50 ms", "p95 ms", "p99 ms", "max ms")
        lines.append(f"  {'':22} " + " ".join(f"{h:>8}" for h in heads) + f" {'errors':>7} {'bad':>5}")
        for r in http["runs"]:
            lat, err = r["latency_ms"], r["errors"]
            errors = err["connect"] + err["read"] + err["write"] + err["status"] + err["timeout"]
            lines.append(f"  {r['label']:22} {r['rps']:8.1f} {lat['p50']:8.2f} {lat['p95']:8.2f} {lat['p99']:8.2f} "
                         f"{lat['max']:8.1f} {errors:7d} {err['bad_reply']:5d}")
        pauses = [f"{r['label']} {r['longest_worker_pause']['ms']:.0f} ms" for r in http["runs"]
                  if r.get("longest_worker_pause")]
        if pauses:
            lines.append("  longest any full worker went without answering (from its log): " + ", ".join(pauses))
        rounds = http.get("rounds", [])
        if rounds:
            lines.append(f"  full-speed rows: the median round of {len(rounds)} alternating rounds of "
                         f"{http['round_seconds']} s (bare, floor, full); req/s and full / floor by round:")
            for number, r in enumerate(rounds, 1):
                lines.append(f"    round {number}: bare {r['bare_rps']:.0f}, floor {r['floor_rps']:.0f}, "
                             f"full {r['full_rps']:.0f}; full / floor {r['full_to_floor']:.2f}, "
                             f"full / bare {r['full_to_bare']:.2f}, floor / bare {r['floor_to_bare']:.2f}")
        for key, name, why in (("full_to_floor", "full / floor", ": the headline"),
                               ("full_to_bare", "full / bare", ""),
                               ("floor_to_bare", "floor / bare", ": signature, form, two Redis round trips and "
                                "TwiML, nothing else (bench/floor.py)")):
            if f"ratio_{key}" in http:
                lines.append(f"  throughput ratio {name}: {http[f'ratio_{key}']:.2f}{spread(http, key)}{why}")
        for name, workers in http["memory_mb"].items():
            peaks = ", ".join(f"peak RSS {w['peak_rss_mb']:.0f} MB (now {w['rss_mb']:.0f}, PSS {w['pss_mb']:.0f})"
                              for w in workers)
            lines.append(f"  memory per {name} worker: {peaks}")
    out = report.get("outbound")
    if out:
        if "skipped" in out:
            lines.append(f"\noutbound: skipped: {out['skipped']}")
        else:
            lines.append(f"\noutbound: {out['texts']} texts into a fake Twilio API limited to {out['rate_limit']:g}/s:")
            for r in out["runs"]:
                lines.append(f"  {r['workers']} worker(s): {r['messages_per_second']:.1f} msg/s, at most "
                             f"{r['peak_per_second']} in any one second, {r['refused_429']} refused with 429 and "
                             f"retried, lost {r['lost']}, sent twice {r['duplicates']}, {r['seconds']:.1f} s in all")
    return "\n".join(lines)


def spread(http: dict[str, Any], key: str) -> str:
    """The spread of a ratio the rounds measured, as " (median; LOW-HIGH over N rounds)"; else nothing."""
    low_high = http.get(f"ratio_{key}_spread")
    if not low_high:
        return ""
    return f" (median; {low_high[0]:.2f}-{low_high[1]:.2f} over {len(http.get('rounds', []))} rounds)"


def headline(http: dict[str, Any]) -> str:
    """The figure the benchmark is read for, first: the full pipeline's throughput against the floor's."""
    return (f"HEADLINE full pipeline / floor throughput: {http['ratio_full_to_floor']:.2f}"
            f"{spread(http, 'full_to_floor')}; full / bare {http['ratio_full_to_bare']:.2f}"
            f"{spread(http, 'full_to_bare')}; target >= {http.get('target_full_to_floor', 0.9):g} of the floor")


def budget(http: dict[str, Any], stages: dict[str, Any] | None) -> str:
    """The headline in time: what a text costs the machine beyond the floor, what the target leaves for it, and
    the engine step's share of that (the one part no helpline can leave out)."""
    line = ("per text beyond the floor (CPUs x seconds / requests, median of rounds): "
            f"{http['beyond_floor_us']:.0f} us; the target leaves {http['beyond_floor_at_target_us']:.0f} us")
    engine = next((r for r in (stages or {}).get("results", []) if r["name"].strip() == "engine step"), None)
    if engine is not None:
        line += f"; the engine step alone takes {engine['mean_us']:.0f} us (mean, in-process)"
    return line


def plot(report: dict[str, Any], path: Path) -> None:
    """Throughput, latency and per-call time on one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [p for p in ("http", "micro") if report.get(p)]
    if not panels:
        return
    http = report.get("http")
    columns = (2 if http else 0) + (1 if report.get("micro") else 0)
    fig, axes = plt.subplots(1, columns, figsize=(6 * columns, 5))
    axes = list(axes) if columns > 1 else [axes]
    i = 0
    if http:
        runs = http["runs"]
        ax = axes[i]
        i += 1
        labels = [r["label"] for r in runs]
        shades = {"bare": "#999999", "floor": "#bbbbbb"}
        colors = [shades.get(r["server"], "#2b7bb9") for r in runs]
        ax.bar(labels, [r["rps"] for r in runs], color=colors)
        ax.set_ylabel("requests / s")
        ax.set_title(f"throughput (full / floor {http['ratio_full_to_floor']:.2f}, "
                     f"full / bare {http['ratio_full_to_bare']:.2f}: medians of rounds)")
        ax.tick_params(axis="x", rotation=20)
        ax = axes[i]
        i += 1
        width = 0.25
        for k, pct in enumerate(("p50", "p95", "p99")):
            ax.bar([x + k * width for x in range(len(runs))], [r["latency_ms"][pct] for r in runs], width, label=pct)
        ax.set_xticks([x + width for x in range(len(runs))], labels, rotation=20)
        ax.set_ylabel("latency, ms")
        ax.set_yscale("log")
        ax.set_title("latency")
        ax.legend()
    if report.get("micro"):
        ax = axes[i]
        run = report["micro"][-1]
        names = [r["name"].split(" (")[0].replace("lookup ", "") for r in run["results"]]
        y = range(len(names))
        ax.barh([v + 0.2 for v in y], [r["p99_us"] for r in run["results"]], 0.4, label="p99", color="#d95f02")
        ax.barh([v - 0.2 for v in y], [r["p50_us"] for r in run["results"]], 0.4, label="p50", color="#1b9e77")
        ax.scatter([r["baseline"]["p50_us"] for r in run["results"]], list(y), marker="|", s=200, color="black",
                   label="dict lookup (baseline)")
        ax.set_yticks(list(y), names, fontsize=7)
        ax.set_xscale("log")
        ax.set_xlabel("microseconds per call")
        ax.set_title(f"in-process, {run['directory']}")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
