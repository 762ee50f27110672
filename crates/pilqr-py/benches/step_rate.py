"""The Python side of the step-overhead benchmark (examples/step_rate.rs is the Rust side).

10 000 steps (argument 1) of a task (argument 2, default reacher) with uniform random actions,
resetting every horizon, through gymnasium.make's env (with gymnasium's wrappers), the bare
PilqrEnv and the native TaskEnv. Prints the median microseconds per step of five runs each.
Run it with the project venv: .venv-py/bin/python crates/pilqr-py/benches/step_rate.py
"""

import statistics
import sys
import time

import gymnasium
import numpy as np

import pilqr.gym
from pilqr import _native


def rate(reset, step, actions, horizon):
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for k, u in enumerate(actions):
            if k % horizon == 0:
                reset()
            step(u)
        runs.append((time.perf_counter() - start) * 1e6 / len(actions))
    return statistics.median(runs)


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    task = sys.argv[2] if len(sys.argv) > 2 else "reacher"
    made = gymnasium.make(pilqr.gym.ENV_IDS[task], condition=0)
    bare = made.unwrapped
    rng = np.random.default_rng(0)
    low, high = bare.action_space.low, bare.action_space.high
    actions = [rng.uniform(low, high) for _ in range(steps)]
    horizon = bare.horizon
    native = _native.TaskEnv(task)
    results = {
        "gymnasium.make": rate(lambda: made.reset(seed=0), made.step, actions, horizon),
        "PilqrEnv": rate(lambda: bare.reset(seed=0), bare.step, actions, horizon),
        "TaskEnv": rate(lambda: native.reset(0, 0), native.step, actions, horizon),
    }
    print(f"{task}: {steps} steps, median of 5: " + ", ".join(
        f"{name} {us:.2f} µs/step" for name, us in results.items()))


if __name__ == "__main__":
    main()
