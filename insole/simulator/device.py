"""The simulated insole: a device that walks.

URL: ``sim://PROFILE?side=left&rate_hz=100&sensors=16&seed=1`` with these parameters (all optional):

=================  ==========  ==========================================================================
parameter          default     meaning
=================  ==========  ==========================================================================
side               left        which foot
rate_hz            100         sampling rate of the device clock (10-1000)
sensors            16          cells: 1 (footswitch), 8, 16 or 99 (generic layouts, :mod:`insole.layouts`)
seed               0           random seed; two devices with the same profile and seed are one walker
noise_kpa          1.0         Gaussian sensor noise (SD)
dropout_rate       0           share of frames lost on the link, in bursts
dropout_burst      5           mean burst length of lost frames
saturation_kpa     0           cells clip at this pressure and flag saturation (0 = never)
units              kPa         ``kPa`` or ``raw`` (12-bit counts through a hyperbolic FSR curve)
clock_offset_s     from seed   device clock reading at the start of the walk
clock_drift_ppm    0           device crystal error
latency_ms         2           mean host receive latency
realtime           1           1 = pace samples in real time; 0 = as fast as the reader takes them
walk_s             86400       length of the simulated walk (the device ends after it)
connect_delay_s    0           seconds ``open()`` takes (a slow or absent device)
silent_after_s     0           walk time after which the device stops sending without closing (0 = never)
restart_at_s       0           walk time at which the device reboots: sequence and clock restart (0 = never)
static_kpa         (none)      instead of walking, every cell under this uniform pressure (a calibration bladder)
residual_bw        0.15 / 0    in-shoe load at toe off, body weights (0 for a 1-cell footswitch); see
                               :mod:`insole.simulator.in_shoe` for these five in-shoe parameters
residual_tau_s     0.025       decay time constant of the residual load after toe off
preload_kpa        4           lacing preload on the cells under the laces
dead_band_kpa      2           a cell reads 0 below this pressure
toe_cells          1           0 = the insole has no working cells under the toes
imu                0           1 = the insole has a foot-mounted IMU (:mod:`insole.simulator.imu_model`); its
                               ``imu_*`` parameters (noise, biases, scale errors, tilt, ranges, a wrong
                               ``imu_mount``) are listed in ``IMU_URL_PARAMS`` there
(profile fields)               any :class:`~insole.simulator.profiles.GaitProfile` field, e.g. speed_m_s or
                               foot_length_mm (which also scales the layout)
=================  ==========  ==========================================================================

``side``, ``rate_hz``, ``sensors``, ``units`` and ``foot_length_mm`` mean the same as on ``serial://`` and
``ble://`` URLs; unknown parameters are refused with the list of known ones.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from typing import Any

import numpy as np

import insole
from insole.devices import (
    DeviceEvent,
    DeviceEventKind,
    DeviceInfo,
    InsoleDevice,
    check_url_parameters,
    parse_device_url,
    url_choice,
    url_number,
)
from insole.errors import ConfigurationError, DeviceError
from insole.frames import SIDES, FrameBatch
from insole.layouts import builtin_layout
from insole.simulator.gait_model import SimulatedWalk, simulate_walk
from insole.simulator.imu_model import IMU_URL_PARAMS, SimulatedImu
from insole.simulator.in_shoe import InShoe
from insole.simulator.profiles import GaitProfile, profile_from_query

#: Full-scale count of the simulated 12-bit ADC and the half-scale pressure of its FSR curve.
RAW_FULL_SCALE = 4095
RAW_HALF_SCALE_KPA = 300.0

_DEVICE_PARAMS = {
    "side": "left",
    "rate_hz": "100",
    "sensors": "16",
    "seed": "0",
    "noise_kpa": "1.0",
    "dropout_rate": "0",
    "dropout_burst": "5",
    "saturation_kpa": "0",
    "units": "kPa",
    "clock_offset_s": "",
    "clock_drift_ppm": "0",
    "latency_ms": "2",
    "realtime": "1",
    "walk_s": "86400",
    "connect_delay_s": "0",
    "silent_after_s": "0",
    "restart_at_s": "0",
    "static_kpa": "",
    "residual_bw": "",
    "residual_tau_s": "0.025",
    "preload_kpa": "4",
    "dead_band_kpa": "2",
    "toe_cells": "1",
    **IMU_URL_PARAMS,
}

#: Gait-profile fields that a ``sim://`` URL may override.
_PROFILE_FIELDS = tuple(f.name for f in dataclasses.fields(GaitProfile) if f.name != "name")

#: Host-clock reading of the walk's t = 0 for accelerated (``realtime=0``) devices, which run on a virtual clock.
VIRTUAL_EPOCH_S = 1000.0

# Walkers shared by devices with the same profile and seed, with the host epoch of the walk's t = 0.
_WALKERS: dict[tuple[Any, ...], list[Any]] = {}


def kpa_to_raw(pressure_kpa: np.ndarray) -> np.ndarray:
    """Counts of the simulated FSR: ``4095 * p / (p + 300 kPa)``, the hyperbolic response of a force-sensing
    resistor in a voltage divider (Interlink FSR 402 integration guide)."""
    p = np.maximum(pressure_kpa, 0.0)
    return RAW_FULL_SCALE * p / (p + RAW_HALF_SCALE_KPA)


def _num(query: dict[str, str], key: str, lo: float, hi: float) -> float:
    return url_number("sim://", query, key, lo, hi)


class SimulatedInsole(InsoleDevice):
    """A simulated insole addressed by a ``sim://`` URL (see the module docstring for parameters)."""

    def __init__(self, url: str) -> None:
        scheme, profile_name, query = parse_device_url(url)
        if scheme != "sim":
            raise ConfigurationError(f"SimulatedInsole needs a sim:// URL, got {url!r}")
        self.url = url
        check_url_parameters("sim://", query, [*_DEVICE_PARAMS, *_PROFILE_FIELDS])
        params = dict(_DEVICE_PARAMS)
        overrides = {k: v for k, v in query.items() if k not in _DEVICE_PARAMS}
        params.update({k: v for k, v in query.items() if k in _DEVICE_PARAMS})
        self.profile: GaitProfile = profile_from_query(profile_name or "neutral", overrides)
        self.side = url_choice("sim://", params, "side", SIDES, "left")  # type: ignore[assignment]
        self.rate_hz = _num(params, "rate_hz", 10, 1000)
        n_sensors = int(_num(params, "sensors", 1, 1024))
        self.seed = int(_num(params, "seed", 0, 2**32 - 1))
        self.noise_kpa = _num(params, "noise_kpa", 0, 100)
        self.dropout_rate = _num(params, "dropout_rate", 0, 0.9)
        self.dropout_burst = _num(params, "dropout_burst", 1, 10_000)
        self.saturation_kpa = _num(params, "saturation_kpa", 0, 10_000)
        self.units = url_choice("sim://", params, "units", ("kPa", "raw"), "kPa")
        side_id = 0 if self.side == "left" else 1
        rng = np.random.default_rng([self.seed, side_id, 99])
        default_offset = float(rng.uniform(1.0, 1000.0))
        self.clock_offset_s = (
            default_offset if params["clock_offset_s"] == "" else _num(params, "clock_offset_s", 0, 1e7)
        )
        self.clock_drift_ppm = _num(params, "clock_drift_ppm", -1000, 1000)
        self.latency_ms = _num(params, "latency_ms", 0, 1000)
        self.realtime = bool(int(_num(params, "realtime", 0, 1)))
        self.walk_s = _num(params, "walk_s", 1, 7 * 86400)
        self.connect_delay_s = _num(params, "connect_delay_s", 0, 3600)
        self.silent_after_s = _num(params, "silent_after_s", 0, 7 * 86400)
        self.restart_at_s = _num(params, "restart_at_s", 0, 7 * 86400)
        self.static_kpa = None if params["static_kpa"] == "" else _num(params, "static_kpa", 0, 5000)
        self.layout = builtin_layout(n_sensors, self.profile.foot_length_mm)
        self.in_shoe = InShoe(
            residual_bw=(0.0 if n_sensors == 1 else InShoe.residual_bw) if params["residual_bw"] == ""
            else _num(params, "residual_bw", 0, 1),
            residual_tau_s=_num(params, "residual_tau_s", 0.001, 1),
            preload_kpa=_num(params, "preload_kpa", 0, 100),
            dead_band_kpa=_num(params, "dead_band_kpa", 0, 100),
            toe_cells=bool(int(_num(params, "toe_cells", 0, 1))),
        )
        self.imu = SimulatedImu.from_url(params, self.seed, self.side)
        self._info = DeviceInfo(
            url=url,
            side=self.side,
            n_sensors=n_sensors,
            sampling_rate_hz=self.rate_hz,
            units=self.units,
            layout=self.layout,
            model="insole-simulator",
            serial_number=f"SIM-{self.profile.name}-{self.side}-{self.seed}",
            firmware_version=insole.__version__,
            extra={"simulated": True},
            imu=None if self.imu is None else self.imu.info(self.rate_hz),
        )
        self._walk: SimulatedWalk | None = None
        self._shared: list[Any] | None = None
        self._closed = asyncio.Event()
        self._opened = False

    # ------------------------------------------------------------------ contract
    @property
    def info(self) -> DeviceInfo:
        return self._info

    async def open(self) -> None:
        if self.connect_delay_s:
            await asyncio.sleep(self.connect_delay_s)
        key = (dataclasses.astuple(self.profile), self.seed, self.walk_s, self.realtime)
        shared = _WALKERS.get(key)
        if shared is None:
            shared = [simulate_walk(self.profile, self.walk_s, self.seed), None]
            _WALKERS[key] = shared
        self._shared = shared
        self._walk = shared[0]
        self._opened = True

    async def close(self) -> None:
        self._closed.set()

    @property
    def host_epoch_s(self) -> float:
        """Host monotonic time of the walk's t = 0 (set when the first device of the walker starts)."""
        assert self._shared is not None, "open() the device first"
        if self._shared[1] is None:
            # Accelerated walks run on a virtual host clock; real-time ones on the monotonic clock.
            self._shared[1] = time.monotonic() if self.realtime else VIRTUAL_EPOCH_S
        return float(self._shared[1])

    def ground_truth(self) -> dict[str, Any]:
        if self._walk is None:
            raise DeviceError(f"{self.url}: open() the device before asking for its ground truth")
        ic, to = self._walk.truth(self.side)
        params = {f.name: getattr(self.profile, f.name) for f in dataclasses.fields(self.profile)}
        params.update(seed=self.seed, walking=self._walk.is_walking)
        truth = {"ic_host_s": ic + self.host_epoch_s, "to_host_s": to + self.host_epoch_s, "profile": params}
        if self.imu is not None:  # where the flat foot stood in each of those stances (stride truth)
            truth["foot_position_m"] = self.imu.trajectory(self._walk).flat_positions_m()
        return truth

    async def stream(self) -> AsyncIterator[FrameBatch | DeviceEvent]:
        if not self._opened or self._walk is None:
            raise DeviceError(f"{self.url}: open() the device before streaming")
        walk = self._walk
        epoch = self.host_epoch_s
        side_id = 0 if self.side == "left" else 1
        rng = np.random.default_rng([self.seed, side_id, 5])
        drift = 1.0 + self.clock_drift_ppm * 1e-6
        true_period_s = 1.0 / (self.rate_hz * drift)
        n_total = int(self.walk_s / true_period_s)
        chunk = max(1, int(round(self.rate_hz * (0.05 if self.realtime else 1.0))))
        yield DeviceEvent(DeviceEventKind.CONNECTED, epoch, f"{self.url} streaming")
        dropping = False
        p_enter = self.dropout_rate / max(self.dropout_burst * (1.0 - self.dropout_rate), 1e-12)
        p_leave = 1.0 / self.dropout_burst
        # cells of one insole differ in sensitivity (+-15 %), as FSR cells do: a per-cell calibration matters
        cell_gain = np.random.default_rng([self.seed, side_id, 3]).uniform(0.85, 1.15, self.layout.n_sensors)
        k0 = 0
        k_restart = int(self.restart_at_s / true_period_s) if self.restart_at_s else n_total + 1
        k_silent = int(self.silent_after_s / true_period_s) if self.silent_after_s else n_total + 1
        while k0 < n_total and not self._closed.is_set():
            if k0 >= k_silent:  # the device hangs: nothing more, no goodbye
                await self._closed.wait()
                break
            k = np.arange(k0, min(k0 + chunk, n_total, k_silent))
            k0 = int(k[-1]) + 1
            t = k * true_period_s
            # after a reboot the device counts from 0 and its clock restarts near 0.1 s
            k_dev = np.where(k >= k_restart, k - k_restart, k)
            offset_s = np.where(k >= k_restart, 0.1, self.clock_offset_s)
            device_us = np.round((offset_s * drift + k_dev / self.rate_hz) * 1e6).astype(np.uint64)
            latency = self.latency_ms * 1e-3 * (0.5 + rng.exponential(0.5, len(k)))
            host = epoch + t + latency
            if self.realtime:
                delay = host[-1] - time.monotonic()
                if delay > 0:
                    try:
                        await asyncio.wait_for(self._closed.wait(), timeout=delay)
                    except TimeoutError:
                        pass
                    if self._closed.is_set():
                        break
            else:
                await asyncio.sleep(0)
            if self.static_kpa is None:
                pressure = self.in_shoe.apply(walk, self.side, t, self.layout,
                                              walk.pressure_kpa(self.side, t, self.layout))
            else:
                pressure = np.full((len(k), self.layout.n_sensors), self.static_kpa)
            if self.noise_kpa > 0:
                pressure = pressure + rng.normal(0.0, self.noise_kpa, pressure.shape)
            pressure = np.maximum(pressure, 0.0)
            saturated = np.zeros(len(k), bool)
            if self.saturation_kpa > 0:
                saturated = (pressure >= self.saturation_kpa).any(axis=1)
                pressure = np.minimum(pressure, self.saturation_kpa)
            imu = None if self.imu is None else self.imu.measure(walk, t)
            if self.units == "raw":
                counts = np.round(kpa_to_raw(pressure * cell_gain) + 12.0 + rng.normal(0.0, 2.0, pressure.shape))
                pressure = np.clip(counts, 0, RAW_FULL_SCALE - 1)
            keep = np.ones(len(k), bool)
            if self.dropout_rate > 0:
                u = rng.random(len(k))
                for i in range(len(k)):  # two-state burst model; chunks are small
                    dropping = (u[i] >= p_leave) if dropping else (u[i] < p_enter)
                    keep[i] = not dropping
            if not keep.any():
                continue
            yield FrameBatch(
                side=self.side,
                sequence=(k_dev[keep] % 2**32).astype(np.uint32),
                device_time_us=device_us[keep],
                host_time_s=host[keep],
                pressure=pressure[keep].astype(np.float32),
                saturated=saturated[keep],
                imu=None if imu is None else imu.select(keep),
            )
        yield DeviceEvent(DeviceEventKind.DISCONNECTED, time.monotonic() if self.realtime else float(host[-1]),
                          "walk ended")
