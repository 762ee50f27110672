"""The Python side of the step-overhead benchmark (examples/step_rate.rs is the Rust side).

10 000 steps (argument 1) of a task (argument 2, default reacher) with uniform random actions,
resetting every horizon, through gymnasium.make's env (with gymnasium's wrappers), the bare
PilqrEnv and the native TaskEnv. Prints the median microseconds per step of five runs each.
Then the 16-copy PilqrVectorEnv on 1 and 2 worker threads (median µs per copy-step of five
runs of the same number of copy-steps, and the 2-thread speed-up), and the milliseconds per
``render()`` of an rgb_array env (20 renders of one state per run).
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

    copies = 16
    calls = max(1, steps // copies)
    vec_actions = [rng.uniform(low, high, size=(copies, low.size)) for _ in range(calls)]
    vector = {}
    for threads in (1, 2):
        env = pilqr.gym.make_vec(pilqr.gym.ENV_IDS[task], copies, threads=threads, condition=0)
        env.reset(seed=0)
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            for u in vec_actions:
                env.step(u)  # autoreset at the horizon
            runs.append((time.perf_counter() - start) * 1e6 / (calls * copies))
        vector[threads] = statistics.median(runs)
    print(f"{task}: PilqrVectorEnv of {copies} copies, {calls} calls, median of 5: "
          f"1 thread {vector[1]:.2f} µs/copy-step, 2 threads {vector[2]:.2f} µs/copy-step, "
          f"speed-up {vector[1] / vector[2]:.2f}x")

    env = gymnasium.make(pilqr.gym.ENV_IDS[task], render_mode="rgb_array", condition=0)
    renders = []
    for _ in range(5):
        env.reset(seed=0)
        env.step(env.action_space.sample())
        start = time.perf_counter()
        for _ in range(20):
            env.render()
        renders.append((time.perf_counter() - start) * 1e3 / 20)
    shape = env.render().shape
    print(f"{task}: render {shape}, median of 5: {statistics.median(renders):.3f} ms/render")

if __name__ == "__main__":
    main()
