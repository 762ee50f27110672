"""Write the "Deep-RL baselines" section of docs/results.md from the baselines' CSVs and the
MDGPS runs of ``pilqr reproduce``.

    python -m baselines.report [--baselines runs/baselines] [--mdgps runs/reproduce] [--docs docs]

MDGPS curves: the held-out rows (``split = test``) of ``<mdgps>/<row>/metrics.csv``, their
success metric averaged over the held-out conditions and then over seeds; the x value of an
iteration is its environment steps, ``samples`` (per condition, cumulative) × training
conditions × horizon. Baseline curves: the CSVs of ``baselines.run`` averaged over seeds. A
baseline "reaches" an MDGPS method's final value at the first evaluation where its seed-mean
held-out metric is at or below it. Only the section between its two markers is replaced, so
running this twice gives the same page.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

import gymnasium

from baselines.tasks import TASKS, conditions

BEGIN = "<!-- baselines:begin -->"
END = "<!-- baselines:end -->"
MDGPS_METHODS = ["mdgps-lqr-flm", "mdgps-pilqr"]


def seed_mean(curves: dict[int, list[tuple[int, float]]]) -> list[tuple[int, float]]:
    """Mean over seeds at the sample counts every seed has."""
    common = set.intersection(*(set(s for s, _ in c) for c in curves.values()))
    by = [dict(c) for c in curves.values()]
    return [(s, sum(d[s] for d in by) / len(by)) for s in sorted(common)]


def baseline_curves(root: Path, task: str) -> dict[str, tuple[list[int], list[tuple[int, float]]]]:
    """algorithm -> (seeds, seed-mean curve)."""
    out = {}
    for d in sorted((root / task).glob("*")):
        curves = {}
        for f in sorted(d.glob("seed*.csv")):
            with open(f) as fh:
                curves[int(f.stem[4:])] = [(int(r["samples"]), float(r["metric"])) for r in csv.DictReader(fh)]
        if curves:
            out[d.name] = (sorted(curves), seed_mean(curves))
    return out


def mdgps_curves(run: Path, n_train: int, horizon: int) -> dict[str, list[tuple[int, float]]]:
    """method -> seed-mean held-out curve, x in environment steps."""
    path = run / "metrics.csv"
    if not path.is_file():
        return {}
    per: dict[str, dict[int, dict[int, list[float]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    with open(path) as fh:
        for r in csv.DictReader(fh):
            if r["split"] == "test" and r["method"] in MDGPS_METHODS:
                per[r["method"]][int(r["seed"])][int(r["samples"]) * n_train * horizon].append(float(r["success_metric"]))
    out = {}
    for method, seeds in per.items():
        curves = {s: [(x, sum(v) / len(v)) for x, v in sorted(c.items())] for s, c in seeds.items()}
        out[method] = seed_mean(curves)
    return out


def first_reach(curve: list[tuple[int, float]], target: float) -> int | None:
    return next((s for s, m in curve if m <= target), None)


def plot(path: Path, task: str, base: dict, mdgps: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, (_, c) in base.items():
        ax.plot([max(s, 1) for s, _ in c], [m for _, m in c], label=name)
    for name, c in mdgps.items():
        ax.plot([s for s, _ in c], [m for _, m in c], "--", marker="o", label=name)
    ax.set_xscale("log")
    ax.set_xlabel("environment steps")
    ax.set_ylabel(TASKS[task].metric, fontsize=7)
    ax.set_title(task)
    ax.legend(fontsize=7)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def section(baselines: Path, mdgps_root: Path, docs: Path) -> str:
    lines = [BEGIN, "## Deep-RL baselines", "",
             "Written by `make baselines` (`python -m baselines.report`; baselines/README.md). "
             "Held-out metric of the deterministic policy on the MDGPS experiment's held-out "
             "conditions; samples are environment steps; values are means over seeds.", ""]
    for task, spec in TASKS.items():
        env = gymnasium.make(spec.env_id).unwrapped
        n_train = len(conditions(spec).train)
        base = baseline_curves(baselines, task)
        mdgps = mdgps_curves(mdgps_root / spec.mdgps_row, n_train, env.horizon)
        lines += [f"### {task}", "", f"Metric: {spec.metric}.", ""]
        if not mdgps:
            lines += [f"No MDGPS run in `{mdgps_root / spec.mdgps_row}`: no ratios.", ""]
        for m, c in mdgps.items():
            lines.append(f"- {m}: final held-out metric {c[-1][1]:.4f} after {c[-1][0]} samples.")
        lines += ["", "| baseline | seeds | budget B | final metric | " + " | ".join(
            f"samples to {m}'s final (ratio)" for m in mdgps) + " |",
            "|---|---|---|---|" + "---|" * len(mdgps)]
        for name, (seeds, c) in base.items():
            cells = []
            for m, mc in mdgps.items():
                x = first_reach(c, mc[-1][1])
                cells.append(f"not reached within {c[-1][0]}" if x is None else f"{x} ({x / mc[-1][0]:.1f}×)")
            lines.append(f"| {name} | {seeds} | {c[-1][0]} | {c[-1][1]:.4f} | " + " | ".join(cells) + " |")
        png = docs / "results" / "baselines" / f"{task}.png"
        if base or mdgps:
            plot(png, task, base, mdgps)
            lines += ["", f"![{task}](results/baselines/{task}.png)"]
        lines.append("")
    lines.append(END)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m baselines.report")
    p.add_argument("--baselines", type=Path, default=Path("runs/baselines"))
    p.add_argument("--mdgps", type=Path, default=Path("runs/reproduce"))
    p.add_argument("--docs", type=Path, default=Path("docs"))
    a = p.parse_args(argv)
    page = a.docs / "results.md"
    text = page.read_text() if page.is_file() else ""
    new = section(a.baselines, a.mdgps, a.docs)
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + new + rest.split(END, 1)[1].lstrip("\n")
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + new
    page.write_text(text)
    print(f"baselines.report: wrote the section of {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
