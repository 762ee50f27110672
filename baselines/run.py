"""Train the baselines and record held-out learning curves.

    python -m baselines.run --budget 20000 --eval-every 5000 --seeds 0,1,2
    python -m baselines.run --hours 1            # budgets from baselines/step_rates.toml

Each (task, algorithm, seed) is one job in its own process (torch pinned to one thread), up to
``--jobs`` at a time; a job's results do not depend on how many run beside it. A job writes
``OUT/<task>/<algorithm>/seed<S>.csv`` with columns ``samples,metric,success``: after every
``eval_every`` environment steps (and at 0) the deterministic policy is rolled out once from
each held-out condition of the MDGPS experiment and scored with the task's success metric.
Timing goes to ``seed<S>.json`` beside it (kept out of the CSV so the CSV is bit-identical
between runs of the same seed).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import multiprocessing
import os
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

RATES = Path(__file__).resolve().parent / "step_rates.toml"


@dataclass(frozen=True)
class Job:
    """One training run."""

    task: str
    algorithm: str
    seed: int
    budget: int
    eval_every: int
    out: Path

    @property
    def csv(self) -> Path:
        return self.out / self.task / self.algorithm / f"seed{self.seed}.csv"


def run_job(job: Job) -> dict:
    """Train one baseline; returns its timing record (also written beside the CSV)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch
    from stable_baselines3.common.callbacks import BaseCallback

    from baselines.algorithms import ALGORITHMS, build
    from baselines.tasks import TASKS, conditions, evaluate_held_out

    torch.set_num_threads(1)
    spec = TASKS[job.task]
    test = conditions(spec).test
    built = build(ALGORITHMS[job.algorithm], spec.env_id, job.seed)
    rows: list[tuple[int, float, float]] = []
    eval_seconds = 0.0

    def evaluate(samples: int) -> None:
        nonlocal eval_seconds
        clock = time.perf_counter()
        score = evaluate_held_out(spec, test, built.act)
        eval_seconds += time.perf_counter() - clock
        rows.append((samples, score.metric, score.success))

    class Evaluator(BaseCallback):
        """Evaluates whenever another ``eval_every`` env steps have been taken."""

        def _on_step(self) -> bool:
            if self.num_timesteps >= (len(rows)) * job.eval_every:
                evaluate(self.num_timesteps)
            return True

    evaluate(0)
    eval_seconds = 0.0  # only the evaluations during learning are taken out of the rate
    clock = time.perf_counter()
    built.model.learn(total_timesteps=job.budget, callback=Evaluator())
    seconds = time.perf_counter() - clock
    if rows[-1][0] < built.model.num_timesteps:
        evaluate(built.model.num_timesteps)
    job.csv.parent.mkdir(parents=True, exist_ok=True)
    partial = job.csv.with_suffix(".csv.partial")
    with open(partial, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["samples", "metric", "success"])
        for samples, metric, success in rows:
            w.writerow([samples, repr(metric), repr(success)])
    partial.replace(job.csv)
    train_seconds = seconds - eval_seconds
    timing = {
        "task": job.task,
        "algorithm": job.algorithm,
        "seed": job.seed,
        "samples": int(built.model.num_timesteps),
        "train_seconds": train_seconds,
        "eval_seconds": eval_seconds,
        "steps_per_second": built.model.num_timesteps / train_seconds if train_seconds > 0 else None,
        "load_average": os.getloadavg()[0],
    }
    job.csv.with_suffix(".json").write_text(json.dumps(timing, indent=1) + "\n")
    return timing


def hour_budgets(hours: float, cores: int, jobs_per_pair: dict[tuple[str, str], int]) -> dict:
    """Budget (env steps) of each (task, algorithm): every job gets the same share of
    ``hours × cores``, turned into steps with the measured rates of baselines/step_rates.toml
    (a warm-up of random steps at its own rate, then the training rate)."""
    with open(RATES, "rb") as f:
        rates = tomllib.load(f)["rate"]
    total_jobs = sum(jobs_per_pair.values())
    share = hours * 3600.0 * cores / total_jobs
    budgets = {}
    for task, algorithm in jobs_per_pair:
        r = rates[task][algorithm]
        warm = r.get("warmup_steps", 0)
        warm_seconds = warm / r["warmup_rate"] if warm else 0.0
        left = max(0.0, share - warm_seconds)
        budgets[(task, algorithm)] = int(min(warm, share * r.get("warmup_rate", 0.0)) + left * r["rate"])
    return budgets


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module documentation)."""
    p = argparse.ArgumentParser(prog="python -m baselines.run", description=__doc__.split("\n")[0])
    p.add_argument("--tasks", default="reacher,door")
    p.add_argument("--algorithms", default="ppo,sac,td3,trpo")
    p.add_argument("--seeds", default="0,1,2")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--budget", type=int, help="env steps per job, every job")
    g.add_argument("--hours", type=float, help="wall time of the whole set on --cores cores")
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--eval-every", type=int, default=None,
                   help="env steps between held-out evaluations (default: budget / 40)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--out", type=Path, default=Path("runs/baselines"))
    a = p.parse_args(argv)

    from baselines.algorithms import ALGORITHMS
    from baselines.tasks import TASKS

    tasks = a.tasks.split(",")
    algorithms = a.algorithms.split(",")
    for t in tasks:
        if t not in TASKS:
            p.error(f"unknown task {t!r}; tasks: {', '.join(TASKS)}")
    for al in algorithms:
        if al not in ALGORITHMS:
            p.error(f"unknown algorithm {al!r}; algorithms: {', '.join(ALGORITHMS)}")
    try:
        seeds = [int(s) for s in a.seeds.split(",")]
    except ValueError:
        p.error(f"--seeds {a.seeds!r} is not a comma-separated list of integers")
    pairs = {(t, al): len(seeds) for t in tasks for al in algorithms}
    if a.budget is not None:
        if a.budget <= 0:
            p.error("--budget must be positive")
        budgets = {pair: a.budget for pair in pairs}
    else:
        budgets = hour_budgets(a.hours, a.cores, pairs)
    jobs = []
    for (t, al), budget in budgets.items():
        every = a.eval_every or max(1, math.ceil(budget / 40))
        jobs += [Job(t, al, s, budget, every, a.out) for s in seeds]
    for (t, al), budget in budgets.items():
        print(f"baselines: {t}/{al}: {budget} env steps per seed, seeds {seeds}", flush=True)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(max(1, min(a.jobs, len(jobs)))) as pool:
        for timing in pool.imap_unordered(run_job, jobs):
            print(
                f"baselines: {timing['task']}/{timing['algorithm']}/seed{timing['seed']}: "
                f"{timing['samples']} steps, {timing['steps_per_second'] or 0:.0f} steps/s "
                f"(load {timing['load_average']:.1f})",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
