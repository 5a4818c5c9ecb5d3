"""The device contract shared by every insole source, and the URL factory that opens one.

Devices are addressed by URL, as in pyserial's ``serial_for_url``:

``sim://PROFILE?side=left&rate_hz=100&sensors=16&seed=1``
    The simulated insole (:mod:`insole.simulator.device`).
``serial:///dev/ttyUSB0?baud=921600&protocol=openinsole-v1``
    A serial insole (``insole.transports.serial_device``).
``ble://NAME_OR_ADDRESS``
    A Bluetooth Low Energy insole (``insole.transports.ble_device``).

Every device is an async context manager whose :meth:`InsoleDevice.stream` yields :class:`~insole.frames.FrameBatch`
objects and :class:`DeviceEvent` notices (connection changes, outages, battery). A recorder consumes all devices
through this one contract, so it cannot tell a simulated insole from hardware.
"""

from __future__ import annotations

import abc
import importlib
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from insole.errors import ConfigurationError
from insole.frames import FrameBatch, Side
from insole.layouts import SensorLayout

EventKind = Literal["connected", "disconnected", "outage", "battery", "warning", "status"]


@dataclass(frozen=True)
class DeviceInfo:
    """What a device says about itself once opened.

    Attributes
    ----------
    url : str
    side : {"left", "right"}
    n_sensors : int
    sampling_rate_hz : float
        Nominal sampling rate.
    units : {"kPa", "N", "raw"}
        Units of the pressure values the device sends.
    layout : SensorLayout
    model, serial_number, firmware_version : str
    extra : dict
        Any other attributes worth keeping in the session file.
    """

    url: str
    side: Side
    n_sensors: int
    sampling_rate_hz: float
    units: str
    layout: SensorLayout
    model: str = "unknown"
    serial_number: str = "unknown"
    firmware_version: str = "unknown"
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeviceEvent:
    """A notice from a device that is not a sample.

    Attributes
    ----------
    kind : {"connected", "disconnected", "outage", "battery", "warning", "status"}
    host_time_s : float
        Host monotonic time of the notice.
    message : str
        Human-readable detail.
    start_host_s, end_host_s : float or None
        For ``outage``: the host-time interval without data.
    value : float or None
        For ``battery``: the charge in percent.
    """

    kind: EventKind
    host_time_s: float
    message: str = ""
    start_host_s: float | None = None
    end_host_s: float | None = None
    value: float | None = None


class InsoleDevice(abc.ABC):
    """Contract of every insole source.

    Subclasses implement :meth:`open`, :meth:`close` and :meth:`stream`. ``info`` is valid after :meth:`open`.
    """

    url: str

    @property
    @abc.abstractmethod
    def info(self) -> DeviceInfo:
        """What the device said about itself (valid once open)."""

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect and read the device's description."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Stop streaming and release the connection. Safe to call twice."""

    @abc.abstractmethod
    def stream(self) -> AsyncIterator[FrameBatch | DeviceEvent]:
        """Yield samples and notices until the device ends or :meth:`close` is called."""

    def ground_truth(self) -> dict[str, Any] | None:
        """True gait events of a simulated device, in host monotonic seconds; None for real hardware."""
        return None

    async def __aenter__(self) -> InsoleDevice:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


# scheme -> "module:factory"; imported on first use so that, e.g., BLE libraries load only for ble:// URLs.
_SCHEMES: dict[str, str] = {
    "sim": "insole.simulator.device:SimulatedInsole",
    "serial": "insole.transports.serial_device:SerialInsole",
    "ble": "insole.transports.ble_device:BleInsole",
}


def register_scheme(scheme: str, target: str) -> None:
    """Register ``"module:callable"`` as the factory for URLs of ``scheme``."""
    _SCHEMES[scheme] = target


def parse_device_url(url: str) -> tuple[str, str, dict[str, str]]:
    """Split a device URL into ``(scheme, location, query)``.

    ``sim://neutral?side=left`` -> ``("sim", "neutral", {"side": "left"})``;
    ``serial:///dev/ttyUSB0?baud=115200`` -> ``("serial", "/dev/ttyUSB0", {"baud": "115200"})``.

    Raises
    ------
    ConfigurationError
        No scheme, or a parameter given twice.
    """
    parts = urlsplit(url)
    if not parts.scheme:
        raise ConfigurationError(
            f"device {url!r} has no scheme; use e.g. sim://neutral, serial:///dev/ttyUSB0 or ble://NAME"
        )
    location = parts.netloc + parts.path
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query: dict[str, str] = {}
    for key, value in pairs:
        if key in query:
            raise ConfigurationError(f"device {url!r}: parameter {key!r} is given twice")
        query[key] = value
    return parts.scheme, location, query


def url_number(
    where: str, query: Mapping[str, str], key: str, lo: float, hi: float, default: float | None = None
) -> float:
    """A numeric URL parameter, checked against ``[lo, hi]``.

    ``where`` starts the error message (``"sim://"``, ``"serial://"`` or ``"ble://InsoleL:"``). An absent or empty
    parameter gives ``default`` (an error when there is none).

    Raises
    ------
    ConfigurationError
        Not a number, out of range, or missing without a default.
    """
    raw = query.get(key)
    if raw is None or raw == "":
        if default is None:
            raise ConfigurationError(f"{where} parameter {key} is required")
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{where} parameter {key} must be a number, got {raw!r}") from None
    if not lo <= value <= hi:
        raise ConfigurationError(f"{where} parameter {key} must be between {lo:g} and {hi:g}, got {raw}")
    return value


def open_device(url: str) -> InsoleDevice:
    """Create (but do not yet open) the device addressed by ``url``.

    Raises
    ------
    ConfigurationError
        Unknown scheme or bad parameters.
    """
    scheme, _, _ = parse_device_url(url)
    target = _SCHEMES.get(scheme)
    if target is None:
        raise ConfigurationError(f"unknown device scheme {scheme!r} in {url!r}; known: {', '.join(sorted(_SCHEMES))}")
    module_name, _, attr = target.partition(":")
    factory: Callable[[str], InsoleDevice] = getattr(importlib.import_module(module_name), attr)
    return factory(url)
