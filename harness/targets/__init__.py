"""Where firmware runs: one registered backend module per kind of target.

    from harness.targets import create_target
    with create_target("qemu", board="netduinoplus2") as target:
        target.start(image)              # -> "socket://127.0.0.1:PORT"
        client = target.connect()        # a DeviceClient that has seen BOOT
        print(client.info())

A backend is a module in this package that decorates its Target subclass with
``@register_target("name")``. Modules are discovered with pkgutil (like the CLI commands), so
adding a backend is adding one file; nothing here names a backend.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterator, TypeVar

from harness.errors import ConfigError

if TYPE_CHECKING:
    from harness.link.client import DeviceClient
    from harness.link.protocol import DeviceInfo
    from harness.targets.base import Target

_REGISTRY: dict[str, type["Target"]] = {}
_discovered = False
T = TypeVar("T", bound=type)


def register_target(name: str) -> Callable[[T], T]:
    """Class decorator: make a Target subclass available as ``create_target(name)``."""

    def decorate(cls: T) -> T:
        existing = _REGISTRY.get(name)
        if existing is not None and existing is not cls:
            raise ConfigError(f"target name '{name}' registered twice: {existing.__module__} and {cls.__module__}")
        cls.name = name  # type: ignore[attr-defined]
        _REGISTRY[name] = cls  # type: ignore[assignment]
        return cls

    return decorate


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        importlib.import_module(f"{__name__}.{module_info.name}")
    _discovered = True


def available_targets() -> list[str]:
    _discover()
    return sorted(_REGISTRY)


def target_class(name: str) -> type["Target"]:
    _discover()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(f"unknown target '{name}'; known targets: {', '.join(sorted(_REGISTRY)) or 'none'}") from None


def create_target(name: str, **options) -> "Target":
    """A new, not yet started target of backend ``name``. Unknown names/options raise ConfigError."""
    cls = target_class(name)
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ConfigError(f"target '{name}' has no option {', '.join(unknown)}; "
                          f"its options are: {', '.join(accepted)}")
    return cls(**options)


@dataclass
class RunningDevice:
    """A started target and a client connected to it (BOOT already received)."""

    target: "Target"
    client: "DeviceClient"
    boot_info: "DeviceInfo"

    def reset_device(self, timeout_s: float | None = None) -> "DeviceClient":
        """``target.reset_device()`` (the device may be hung) and take the new client."""
        self.client = self.target.reset_device(timeout_s)
        self.boot_info = self.client.boot_info  # type: ignore[assignment]
        return self.client


@contextmanager
def running_device(name: str, image, *, boot_timeout_s: float | None = None,
                   **options) -> Iterator[RunningDevice]:
    """Start target ``name`` with ``image``, connect, wait for BOOT; stop everything on exit."""
    target = create_target(name, **options)
    with target:
        target.start(image)
        client = target.connect(boot_timeout_s)
        yield RunningDevice(target, client, client.boot_info)  # type: ignore[arg-type]


__all__ = ["register_target", "available_targets", "target_class", "create_target",
           "RunningDevice", "running_device"]
