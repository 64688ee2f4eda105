"""Where and how models run: the device, bf16 mixed precision, torch.compile.

One rule for every command (train, predict, perturb, report): ``auto`` turns
bf16 autocast and compilation on for CUDA devices only; parameters,
gradients and losses stay fp32.
"""

from __future__ import annotations

import time
from contextlib import nullcontext

import torch

from .errors import ChromoflowError
from .log import warn


def pick_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device not in ("cpu", "cuda") and not (device.startswith("cuda:") and device[5:].isdigit()):
        raise ChromoflowError(f"--device {device!r}: expected auto, cpu, cuda or cuda:N")
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ChromoflowError(f"--device {device}: no CUDA device is available (use --device cpu or auto)")
        if ":" in device and int(device[5:]) >= torch.cuda.device_count():
            raise ChromoflowError(f"--device {device}: only {torch.cuda.device_count()} CUDA device(s) here")
    return torch.device(device)


def _auto_on_cuda(flag: str, option: str, device: torch.device, on: str, off: str) -> bool:
    """An ``auto|on|off``-style option: ``auto`` is on for CUDA devices only."""
    if option not in ("auto", on, off):
        raise ChromoflowError(f"{flag} {option!r}: expected auto, {on} or {off}")
    return option == on or (option == "auto" and device.type == "cuda")


def use_bf16(option: str, device: torch.device) -> bool:
    """``--precision``: ``auto`` = bf16 mixed precision on CUDA, fp32 on CPU; ``bf16`` or ``fp32`` anywhere."""
    return _auto_on_cuda("--precision", option, device, "bf16", "fp32")


def autocast(device: torch.device, bf16: bool | None = None):
    """bf16 autocast (default: ``--precision auto``); parameters, gradients and the loss stay fp32."""
    if bf16 is None:
        bf16 = use_bf16("auto", device)
    return torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else nullcontext()


class Compiled:
    """A model's forward pass through ``torch.compile``, falling back cleanly to eager execution.

    The first call compiles (its time is kept in ``compile_seconds``); if the
    compiler is missing or fails on this machine, a warning says so and the
    model runs eagerly from then on. Varying pCRE counts are dynamic
    dimensions, so one graph serves every batch. Calling it is calling the
    model: ``objective.outputs`` takes it in the model's place.
    """

    def __init__(self, model, enabled: bool):
        self.model = model
        self.compiled = torch.compile(model, dynamic=True) if enabled else None
        self.compile_seconds = None

    def __call__(self, batch):
        if self.compiled is None:
            return self.model(batch)
        first = self.compile_seconds is None
        start = time.perf_counter()
        try:
            out = self.compiled(batch)
        except Exception as exc:  # noqa: BLE001 - any compiler failure: run eagerly instead
            warn(f"torch.compile failed ({type(exc).__name__}: {' '.join(str(exc).split())[:160]}); running eagerly")
            self.compiled = None
            return self.model(batch)
        if first:
            self.compile_seconds = time.perf_counter() - start
        return out


def use_compile(option: str, device: torch.device) -> bool:
    """``auto``: compile on CUDA (launch-bound), not on CPU (compiling takes minutes there and gains little)."""
    return _auto_on_cuda("--compile", option, device, "on", "off")
