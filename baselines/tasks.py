"""The two comparison tasks and their held-out evaluation, taken from the MDGPS experiment files.

Training conditions and held-out conditions are read from ``experiments/<name>.toml`` (the files
``pilqr reproduce`` runs), so the baselines train on the conditions MDGPS trains on and are
scored on the conditions MDGPS is scored on, with the task's own success metric (the reacher's
final tip-target distance, the door's final hinge angle minus the target angle; lower is better
for both, and ``<= 0`` / ``< 0.03`` is success).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import gymnasium
import numpy as np

import pilqr.gym  # noqa: F401  (registers the pilqr/... environments)

ROOT = Path(__file__).resolve().parent.parent


class TaskSetupError(Exception):
    """The experiment file and the environment disagree, or a file cannot be read."""


@dataclass(frozen=True)
class TaskSpec:
    """One comparison task: the gymnasium id and the MDGPS experiment it mirrors."""

    key: str
    """Short name used in paths and tables (``reacher``, ``door``)."""
    env_id: str
    experiment: Path
    """The MDGPS experiment file the conditions come from."""
    mdgps_row: str
    """The row (run directory name) of ``pilqr reproduce`` for that experiment."""
    metric: str
    """What the success metric measures, for tables and plots."""


TASKS: dict[str, TaskSpec] = {
    "reacher": TaskSpec(
        "reacher",
        "pilqr/Reacher-v0",
        ROOT / "experiments" / "reacher_mdgps.toml",
        "reacher_mdgps",
        "final tip-target distance (m), mean over held-out targets",
    ),
    "door": TaskSpec(
        "door",
        "pilqr/DoorOpening-v0",
        ROOT / "experiments" / "door_mdgps.toml",
        "door_mdgps",
        "final hinge angle minus target angle (rad; <= 0 opens the door), held-out offset",
    ),
}


@dataclass(frozen=True)
class Conditions:
    """Condition indices of one task: those trained on and those held out."""

    train: list[int]
    test: list[int]


def conditions(spec: TaskSpec) -> Conditions:
    """The experiment file's training and held-out conditions as indices of the environment.

    Raises ``TaskSetupError`` when a name is unknown or when the environment's own training
    split (what it draws from per reset) differs from the experiment's training conditions.
    """
    try:
        with open(spec.experiment, "rb") as f:
            experiment = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise TaskSetupError(f"{spec.experiment}: {e}") from e
    env = gymnasium.make(spec.env_id).unwrapped
    names = [name for name, _ in env.conditions]

    def indices(field: str) -> list[int]:
        listed = experiment.get(field)
        if not isinstance(listed, list) or not listed:
            raise TaskSetupError(f"{spec.experiment}: `{field}` is not a non-empty list")
        unknown = [c for c in listed if c not in names]
        if unknown:
            raise TaskSetupError(
                f"{spec.experiment}: `{field}` names {unknown}, not conditions of {spec.env_id} {names}"
            )
        return [names.index(c) for c in listed]

    result = Conditions(indices("conditions"), indices("test_conditions"))
    if sorted(result.train) != sorted(env.train_conditions):
        raise TaskSetupError(
            f"{spec.experiment}: trains on {[names[i] for i in result.train]} but "
            f"{spec.env_id} draws its resets from {[names[i] for i in env.train_conditions]}"
        )
    return result


@dataclass(frozen=True)
class HeldOutScore:
    """The deterministic policy on the held-out conditions."""

    metric: float
    """Mean of the task's success metric over the held-out conditions."""
    success: float
    """Fraction of held-out conditions the task's success test accepts."""


def evaluate_held_out(
    spec: TaskSpec, test: list[int], act: Callable[[np.ndarray], np.ndarray]
) -> HeldOutScore:
    """Roll ``act`` (observation -> action, deterministic) out once from each held-out condition
    for the task's horizon and score each episode with the task's success test, as the MDGPS
    runner scores its network (one noise-free rollout per held-out condition)."""
    env = gymnasium.make(spec.env_id)
    metrics, successes = [], []
    for c in test:
        obs, _ = env.reset(seed=0, options={"condition": c})
        info: dict = {}
        truncated = False
        while not truncated:
            obs, _, _, truncated, info = env.step(act(obs))
        metrics.append(float(info["metric"]))
        successes.append(bool(info["success"]))
    return HeldOutScore(float(np.mean(metrics)), float(np.mean(successes)))
