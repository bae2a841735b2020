"""Where a model runs: the one list of device names, and whether a device is there.

`check_device` validates a name without importing anything (the CLI and
every library entry point that takes a device use it); `pick_device` resolves a
device for torch, which it imports, and says plainly when a requested one is
missing instead of letting the model load fail with a misleading message.
"""

from __future__ import annotations

import re

from tldr._exceptions import ConfigError, EmbedderError

__all__ = ["DEVICE_CHOICES", "check_device", "pick_device"]

DEVICE_CHOICES = ("cpu", "cuda", "mps")
_CUDA_INDEX = re.compile(r"^cuda:\d+$")


def check_device(name: str | None) -> str | None:
    """`name` when it is a device tldrf knows (`cpu`, `cuda`, `cuda:N`, `mps`); None stays None.

    Raises:
        ConfigError: any other name, with the valid choices.
    """
    if name is None or name in DEVICE_CHOICES or _CUDA_INDEX.match(name):
        return name
    choices = ", ".join(sorted((*DEVICE_CHOICES, "cuda:N")))
    raise ConfigError(
        f"unknown device {name!r}; choose one of: {choices} "
        "(or leave it unset to pick the best available)"
    )


def pick_device(requested: str | None = None) -> str:
    """`requested` when this machine has it, else the best available: cuda > mps > cpu.

    Raises:
        ConfigError: `requested` is not a device name.
        EmbedderError: `requested` names a device torch cannot use here.
    """
    check_device(requested)
    if requested == "cpu":
        return requested
    import torch

    cuda = bool(torch.cuda.is_available())
    mps_backend = getattr(torch.backends, "mps", None)
    mps = mps_backend is not None and bool(mps_backend.is_available())
    if requested is None:
        return "cuda" if cuda else "mps" if mps else "cpu"
    if requested.startswith("cuda"):
        if torch.version.cuda is None:  # a CPU build of torch, whatever the machine has
            raise _unavailable(requested, "this torch build has no CUDA support")
        count = torch.cuda.device_count() if cuda else 0
        index = int(requested.partition(":")[2] or 0)
        if index >= count:
            seen = f"{count} CUDA device(s)" if count else "no CUDA device"
            raise _unavailable(requested, f"torch sees {seen}")
    elif not mps:
        raise _unavailable(requested, "torch sees no Apple GPU")
    return requested


def _unavailable(device: str, why: str) -> EmbedderError:
    return EmbedderError(
        f"device {device!r} is not available on this machine ({why}); use --device cpu, "
        "or leave --device and TLDR_DEVICE unset to pick the best available"
    )
