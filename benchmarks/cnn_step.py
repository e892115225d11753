"""Seconds per training step of GalaxyCNN's networks, and what the layer forms cost.

One jitted step (augmentation, forward, backward, AdamW) on a batch of 32 random
64-px images, for the dihedral default, a wider dihedral network and the plain
CNN. Each is timed twice in this one process: with the layers as the package
writes them (2x2 pooling as a reshape and a max; the dihedral network's batch
norm as column means folded over the 8 orientations) and with the forms they
replaced (``nnx.max_pool``, whose CPU gradient is XLA's select-and-scatter, and
``nnx.BatchNorm`` over the (n, h, w, 8, c) view). The two forms give the same
numbers (tests/ml/test_nn_cnn.py); only the time differs.

    python benchmarks/cnn_step.py            # writes benchmarks/results/cnn_step.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
from pathlib import Path

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from astrograph.ml.nn.augment import augment_images
from astrograph.ml.nn.cnn import MorphologyNet, Task
from astrograph.ml.nn.dihedral import DihedralNet

ROOT = Path(__file__).resolve().parents[1]
BATCH, SIDE, CROP = 32, 64, 56
STEPS_PER_FIT = 1120 // BATCH * 60  # GalaxyCNN() on 4/5 of gz2_spirals


class ReduceWindowPooling:
    """The replaced forms: pooling by ``nnx.max_pool``, and for the dihedral network
    ``nnx.BatchNorm`` on the (n, h, w, 8, c) view of its features."""

    def _features(self, x, train):
        group = isinstance(self, DihedralNet)
        last = len(self.convs) - 1
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            y = conv(x)
            n, h, w, c = y.shape
            if group:
                y = norm(y.reshape(n, h, w, 8, c // 8), use_running_average=not train)
            else:
                y = norm(y, use_running_average=not train)
            x = nnx.relu(y).reshape(n, h, w, c)
            if (i + 1) % self.per_stage == 0 and (i < last or not group):
                x = nnx.max_pool(x, (2, 2), strides=(2, 2))
        if group:
            n, h, w, c = x.shape
            x = x.reshape(n, h * w * 8, c // 8)
            return jnp.concatenate([x.mean(axis=1), x.max(axis=1)], axis=-1)
        return jnp.concatenate([x.mean(axis=(1, 2)), x.max(axis=(1, 2))], axis=-1)

    def _norm(self, c_out, rngs):
        return nnx.BatchNorm(c_out, momentum=0.9, rngs=rngs)


class OldDihedral(ReduceWindowPooling, DihedralNet):
    pass


class OldPlain(ReduceWindowPooling, MorphologyNet):
    pass


def step_seconds(net_class, channels, repeats):
    model = net_class(3, 2, channels=channels, rngs=nnx.Rngs(0))
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    task = Task(False, 2, 0.1)
    tx = optax.adamw(1e-3)
    opt_state = tx.init(params)
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(BATCH, SIDE, SIDE, 3)).astype(np.float32))
    y = jnp.asarray(rng.integers(0, 2, BATCH).astype(np.int32))
    aug = {"flip": True, "rotate": "any", "zoom": (0.9, 1.1), "shift": 3.0}

    @jax.jit
    def step(params, rest, opt_state, key):
        xb = augment_images(key, x, out_size=CROP, **aug)
        m = nnx.merge(graphdef, params, rest)
        (loss, _), grads = nnx.value_and_grad(
            lambda m: task.loss(m(xb, train=True, key=key), y), has_aux=True
        )(m)
        _, params, rest = nnx.split(m, nnx.Param, ...)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), rest, opt_state, loss

    key = jax.random.key(0)
    jax.block_until_ready(step(params, rest, opt_state, key))  # compile
    best = np.inf
    for _ in range(repeats):  # the fastest of several blocks: least disturbed by other jobs
        t0 = time.perf_counter()
        for _ in range(10):
            jax.block_until_ready(step(params, rest, opt_state, key))
        best = min(best, (time.perf_counter() - t0) / 10)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="blocks of 10 steps; the fastest counts")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "cnn_step.json")
    args = ap.parse_args()
    configs = [
        ("dihedral (4, 8, 16, 32), the default", DihedralNet, OldDihedral, (4, 8, 16, 32)),
        ("dihedral (6, 12, 24, 48)", DihedralNet, OldDihedral, (6, 12, 24, 48)),
        ("plain (16, 32, 64, 128)", MorphologyNet, OldPlain, (16, 32, 64, 128)),
    ]
    rows = []
    for name, new, old, channels in configs:
        t_new = step_seconds(new, channels, args.repeats)
        t_old = step_seconds(old, channels, args.repeats)
        row = {
            "network": name,
            "ms_per_step": round(1e3 * t_new, 1),
            "ms_per_step_replaced_forms": round(1e3 * t_old, 1),
            "speed_up": round(t_old / t_new, 2),
            "s_per_fit_of_steps": round(t_new * STEPS_PER_FIT),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((ln.split(":", 1)[1].strip() for ln in lscpu.splitlines()
                  if ln.startswith("Model name")), platform.processor())  # fmt: skip
    result = {
        "batch": BATCH,
        "input": [SIDE, CROP],
        "steps_per_fit": STEPS_PER_FIT,
        "rows": rows,
        "cpu": model,
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg()[0],
        "jax": jax.__version__,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
