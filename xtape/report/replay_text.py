"""The terminal form of a :class:`~xtape.replay.report.ReplayReport` (``xtape replay``
without ``--json``) and the one-line forms a plot shows beside its picture."""

from __future__ import annotations

from typing import TYPE_CHECKING

from xtape.units import plural

if TYPE_CHECKING:
    from xtape.replay.report import ReplayReport


def replay_lines(report: ReplayReport, *, dry_run: bool = False, seed: int | None = None) -> list[str]:
    """What ``xtape replay`` prints when it is done: the counts, the lateness, the seed,
    what Redis refused, reconnects and an interruption (a dry run has no lateness)."""
    verb = "scheduled" if dry_run else "published"
    lines = [
        f"{verb} {plural(report.published, 'event')} to {plural(len(report.streams), 'stream')} in "
        f"{report.duration_s:.3f} s ({report.rate:,.0f}/s, {report.pacing}"
        + (f", {report.iterations} passes" if report.iterations > 1 else "")
        + ")"
    ]
    if report.lateness is not None and not dry_run:
        lines.append(lateness_line(report))
    if report.copies:
        lines.append(copies_line(report))
    if seed is not None:
        lines.append(f"seed: {seed} (pass --seed {seed} to repeat these events)")
    if report.errors:
        lines.append(f"errors: {plural(report.errors, 'entry', 'entries')} refused by Redis")
        lines.extend(f"  {message}" for message in report.error_messages)
    if report.reconnects:
        lines.append(f"reconnects: {report.reconnects} (entries Redis had not confirmed were sent again)")
    if report.interrupted:
        lines.append("interrupted: stopped early by Ctrl-C or SIGTERM")
    return lines


def copies_line(report: ReplayReport) -> str:
    """``copies (--multiply 3): 1: 1,000, 2: 1,000, 3: 1,000``."""
    each = ", ".join(f"{k}: {n:,}" for k, n in report.copies.items())
    return f"copies (--multiply {len(report.copies)}): {each}"


def refused_lines(report: ReplayReport) -> list[str]:
    """``xtape replay -q``: only what went wrong (nothing when Redis refused nothing)."""
    if not report.errors:
        return []
    head = f"xtape: error: {plural(report.errors, 'entry', 'entries')} refused by Redis"
    return [head, *(f"  {message}" for message in report.error_messages)]


def lateness_line(report: ReplayReport) -> str:
    """``lateness vs schedule: p50 ... ms, p99 ... ms, max ... ms`` (or why there is none)."""
    lat = report.lateness
    if lat is None:
        return "lateness: none measured (max speed: no schedule to be late against)"
    return f"lateness vs schedule: p50 {lat.p50_ms:.2f} ms, p99 {lat.p99_ms:.2f} ms, max {lat.max_ms:.2f} ms"


def summary_line(report: ReplayReport) -> str:
    """``replay (speed 1x): 1,000 published in 2.000 s (500/s)``, then what went wrong."""
    text = f"replay ({report.pacing}): {report.published:,} published in {report.duration_s:.3f} s ({report.rate:,.0f}/s)"
    extra = [
        f"{report.errors:,} refused" if report.errors else "",
        f"{report.reconnects} reconnects" if report.reconnects else "",
        "interrupted" if report.interrupted else "",
    ]
    return ", ".join([text, *(e for e in extra if e)])


__all__ = ["copies_line", "lateness_line", "refused_lines", "replay_lines", "summary_line"]
