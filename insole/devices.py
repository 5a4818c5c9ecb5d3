"""The device contract shared by every insole source, and the URL factory that opens one.

Devices are addressed by URL, as in pyserial's ``serial_for_url``:

``sim://PROFILE?side=left&rate_hz=100&sensors=16&seed=1``
    The simulated insole (:mod:`insole.simulator.device`).
``serial:///dev/ttyUSB0?baud=921600&protocol=openinsole-v1``
    A serial insole (``insole.transports.serial_device``).
``ble://NAME_OR_ADDRESS``
    A Bluetooth Low Energy insole (``insole.transports.ble_device``).

Parameters that mean the same on several schemes have one name everywhere: ``side``, ``rate_hz``, ``sensors``,
``units``, ``foot_length_mm``, ``protocol`` and ``reconnect_s`` (after a link loss, keep trying this long, then
give up). Every scheme refuses unknown parameters with the list of known ones (:func:`check_url_parameters`),
and old names (:data:`RENAMED_PARAMETERS`) with the name to use instead.

Every device is an async context manager whose :meth:`InsoleDevice.stream` yields :class:`~insole.frames.FrameBatch`
objects and :class:`DeviceEvent` notices (connection changes, outages, battery). A recorder consumes all devices
through this one contract, so it cannot tell a simulated insole from hardware; it decides on an event's
:class:`DeviceEventKind` and structured fields, never on its message.
"""

from __future__ import annotations

import abc
import enum
import importlib
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from insole.errors import ConfigurationError, DeviceError
from insole.frames import FrameBatch, Side
from insole.imu import ImuInfo
from insole.layouts import SensorLayout

#: Seconds without a frame after which a streaming device counts as silent, unless its transport says otherwise.
DEFAULT_SILENCE_TIMEOUT_S = 5.0

#: URL parameter names that were replaced: old -> new. Refused with a message naming the new one.
RENAMED_PARAMETERS = {"foot_mm": "foot_length_mm", "give_up_s": "reconnect_s"}


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
    imu : ImuInfo or None
        The insole's inertial sensor, when it has one that it describes: its batches then carry
        :attr:`FrameBatch.imu <insole.frames.FrameBatch.imu>` values (foot sensor frame, m/s², rad/s).
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
    imu: ImuInfo | None = None


class DeviceEventKind(enum.StrEnum):
    """What a :class:`DeviceEvent` reports."""

    #: The device streams (again).
    CONNECTED = "connected"
    #: The link is gone; ``reconnecting`` says whether the driver keeps trying (else the stream ends).
    DISCONNECTED = "disconnected"
    #: The driver starts reconnection attempt number ``attempt``.
    RECONNECTING = "reconnecting"
    #: A host-time interval without data, known once it is over: ``start_host_s`` to ``end_host_s``;
    #: ``recovered`` is False when the link was lost for good.
    OUTAGE = "outage"
    #: Battery charge ``battery_pct``.
    BATTERY = "battery"
    #: Something the user should see (``message``); the data keeps flowing.
    WARNING = "warning"


@dataclass(frozen=True)
class DeviceEvent:
    """A notice from a device that is not a sample.

    Consumers decide on ``kind`` and the structured fields; ``message`` is for people (live view, logs, gap
    records) and is never parsed.

    Attributes
    ----------
    kind : DeviceEventKind
        A plain string naming a kind (``"outage"``) is converted.
    host_time_s : float
        Host monotonic time of the notice.
    message : str
        Human-readable detail.
    start_host_s, end_host_s : float or None
        ``OUTAGE``: the host-time interval without data (both required).
    recovered : bool
        ``OUTAGE``: data flows again after it (False: the device is gone for good).
    battery_pct : float or None
        ``BATTERY``: the charge in percent (required).
    reconnecting : bool
        ``DISCONNECTED``: the driver tries to reconnect.
    attempt : int or None
        ``RECONNECTING``: the number of the attempt starting; ``OUTAGE``: the attempts it took to reconnect.

    Raises
    ------
    DeviceError
        Unknown kind, or a kind without the fields it requires (a driver bug).
    """

    kind: DeviceEventKind
    host_time_s: float
    message: str = ""
    start_host_s: float | None = None
    end_host_s: float | None = None
    recovered: bool = True
    battery_pct: float | None = None
    reconnecting: bool = False
    attempt: int | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "kind", DeviceEventKind(self.kind))
        except ValueError:
            raise DeviceError(
                f"unknown device event kind {self.kind!r}; known: {', '.join(k.value for k in DeviceEventKind)}"
            ) from None
        if self.kind is DeviceEventKind.OUTAGE and (self.start_host_s is None or self.end_host_s is None):
            raise DeviceError("an outage event needs start_host_s and end_host_s")
        if self.kind is DeviceEventKind.BATTERY and self.battery_pct is None:
            raise DeviceError("a battery event needs battery_pct")


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

    @property
    def silence_timeout_s(self) -> float:
        """Seconds without a frame after which a streaming device counts as silent (an outage is shown).

        Transports with their own setting return it (``serial://...?timeout_s=``); the default is
        :data:`DEFAULT_SILENCE_TIMEOUT_S`.
        """
        return DEFAULT_SILENCE_TIMEOUT_S

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
    "moticon-udp": "insole.transports.moticon_udp:MoticonUdpInsole",
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


def check_url_parameters(where: str, query: Mapping[str, str], known: Iterable[str]) -> None:
    """Refuse renamed and unknown URL parameters.

    Parameters
    ----------
    where : str
        Starts the error message (the URL, or ``"sim://"``).
    query : mapping
        The URL's parameters.
    known : iterable of str
        Every parameter the scheme accepts.

    Raises
    ------
    ConfigurationError
        A parameter was renamed (the message names the new one) or is unknown (the message lists the known ones).
    """
    renamed = [k for k in query if k in RENAMED_PARAMETERS]
    if renamed:
        old = renamed[0]
        raise ConfigurationError(
            f"{where}: parameter {old} is now called {RENAMED_PARAMETERS[old]}; write "
            f"{RENAMED_PARAMETERS[old]}={query[old]} instead"
        )
    known_set = set(known)
    unknown = sorted(set(query) - known_set)
    if unknown:
        raise ConfigurationError(
            f"{where}: unknown parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(known_set))}"
        )


def url_choice(where: str, query: Mapping[str, str], key: str, choices: Iterable[str], default: str) -> str:
    """A URL parameter that must be one of ``choices`` (``default`` when absent or empty).

    Raises
    ------
    ConfigurationError
        A value outside ``choices``; the message lists them.
    """
    value = query.get(key) or default
    allowed = tuple(choices)
    if value not in allowed:
        raise ConfigurationError(f"{where} parameter {key} must be one of {', '.join(allowed)}, got {value!r}")
    return value


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
