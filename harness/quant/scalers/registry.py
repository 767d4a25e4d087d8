"""The registry of scaler kinds: ``register_scaler`` (a class decorator), ``make_scaler(name)``,
``from_export(d)`` and ``parse_scaler_spec("robust:clip_lo=-1")``. Not an if-chain: a new kind
is a registered Scaler subclass."""

from __future__ import annotations

from harness.errors import ScalerError
from harness.quant.scalers.base import EXPORT_FORMAT, Scaler

_REGISTRY: dict[str, type[Scaler]] = {}


def register_scaler(cls: type[Scaler]) -> type[Scaler]:
    if not cls.name or cls.name in _REGISTRY:
        raise ScalerError(f"scaler name '{cls.name}' is empty or already registered")
    _REGISTRY[cls.name] = cls
    return cls


def scaler_names() -> list[str]:
    return sorted(_REGISTRY)


def scaler_class(name: str) -> type[Scaler]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ScalerError(f"unknown scaler '{name}'; known scalers: {', '.join(scaler_names())}") from None


def make_scaler(name: str, **params) -> Scaler:
    """A new, unfitted scaler of the registered kind ``name``."""
    return scaler_class(name)(**params)


def from_export(exported: dict) -> Scaler:
    """Rebuild a fitted scaler from ``Scaler.export()``."""
    if not isinstance(exported, dict) or "kind" not in exported:
        raise ScalerError("exported scaler must be a dict with a 'kind' field")
    if exported.get("format", EXPORT_FORMAT) != EXPORT_FORMAT:
        raise ScalerError(f"exported scaler format {exported.get('format')} is not {EXPORT_FORMAT}")
    return scaler_class(exported["kind"]).from_export(exported)


def parse_scaler_spec(spec: str) -> Scaler:
    """``"robust"`` or ``"robust:clip_lo=-1,clip_hi=1"`` or ``"zscore:clip=none"`` -> unfitted scaler."""
    name, _, args = spec.partition(":")
    cls = scaler_class(name.strip())
    params = {}
    for item in filter(None, (a.strip() for a in args.split(","))):
        key, sep, text = item.partition("=")
        if not sep:
            raise ScalerError(f"scaler option '{item}' in '{spec}' is not key=value")
        key = key.strip()
        default = cls.defaults.get(key)
        text = text.strip()
        if text.lower() == "none":
            params[key] = None if not isinstance(default, str) else "none"
        elif isinstance(default, str):
            params[key] = text
        else:
            try:
                params[key] = float(text)
            except ValueError as e:
                raise ScalerError(f"scaler option {key}={text} in '{spec}' is not a number") from e
    return cls(**params)
