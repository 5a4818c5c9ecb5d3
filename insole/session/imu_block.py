"""The IMU block of a foot, ``/<side>/imu``: how it is created, appended to, validated and read.

Layout (``docs/session-format.md``, "The IMU block"): a group with ``time_s`` (n,) float64 on the session clock,
``acc_m_s2`` and ``gyr_rad_s`` (n, 3) float32 in the foot sensor frame of :mod:`insole.imu`, and the attributes
``sampling_rate_hz``, ``frame``, ``axes``, ``acc_range_m_s2``, ``gyr_range_rad_s``, ``calibrated``, ``description``
and ``frame_aligned`` (row i is frame i of the foot). Before the block existed, the Moticon importer wrote a
``/<side>/imu`` *dataset* (n, 6) in g and deg/s; such files stay valid: the dataset is an optional extra, and the
reader presents it as an IMU block (:func:`read_legacy`).
"""

from __future__ import annotations

import math
from typing import Any

import h5py
import numpy as np

from insole.imu import FOOT_AXES, FRAME_FOOT, FRAMES, RAD_S_PER_DPS, STANDARD_GRAVITY_M_S2, ImuInfo
from insole.session.contents import ImuData
from insole.session.format import CHUNK_FRAMES, MAX_FRAMES, attr_str

#: Name of the block in a foot group.
IMU_GROUP = "imu"
#: Datasets of the block: name -> (dtype, columns or None for 1-D).
IMU_DATASETS: dict[str, tuple[Any, int | None]] = {
    "time_s": (np.float64, None),
    "acc_m_s2": (np.float32, 3),
    "gyr_rad_s": (np.float32, 3),
    "sequence": (np.uint32, None),
    "device_time_us": (np.uint64, None),
}
_REQUIRED = ("time_s", "acc_m_s2", "gyr_rad_s")
_UNITS = {"time_s": "s", "acc_m_s2": "m/s2", "gyr_rad_s": "rad/s"}
_CALIBRATED = {True: "yes", False: "no", None: "unknown"}
#: The columns attribute of the extra dataset the Moticon importer wrote before the IMU block existed.
LEGACY_COLUMNS = "acc_x_g,acc_y_g,acc_z_g,gyro_x_dps,gyro_y_dps,gyro_z_dps"
LEGACY_MOTICON_SOURCE = "Moticon OpenGo insole IMU"
_COMPRESSION = {"compression": "gzip", "compression_opts": 1, "shuffle": True}


def is_block(g: h5py.Group) -> bool:
    """True when the foot group holds an IMU block (a group, not the legacy extra dataset)."""
    return IMU_GROUP in g and isinstance(g[IMU_GROUP], h5py.Group)


def is_legacy(g: h5py.Group) -> bool:
    """True for the (n, 6) extra dataset in g and deg/s of older Moticon imports."""
    if IMU_GROUP not in g or not isinstance(g[IMU_GROUP], h5py.Dataset):
        return False
    ds = g[IMU_GROUP]
    return ds.ndim == 2 and ds.shape[1] == 6 and attr_str(ds.attrs.get("columns", "")) == LEGACY_COLUMNS


# ---------------------------------------------------------------------- writing
def create(g: h5py.Group, info: ImuInfo, *, frame_aligned: bool, with_sequence: bool,
           with_device_time: bool) -> None:
    """Create an empty, resizable IMU block in foot group ``g``."""
    b = g.create_group(IMU_GROUP)
    names = ["time_s", "acc_m_s2", "gyr_rad_s"]
    if with_sequence:
        names.append("sequence")
    if with_device_time:
        names.append("device_time_us")
    for name in names:
        dtype, cols = IMU_DATASETS[name]
        if cols is None:
            b.create_dataset(name, (0,), dtype, maxshape=(None,), chunks=(CHUNK_FRAMES * 4,), **_COMPRESSION)
        else:
            b.create_dataset(name, (0, cols), dtype, maxshape=(None, cols), chunks=(CHUNK_FRAMES, cols),
                             **_COMPRESSION)
        if name in _UNITS:
            b[name].attrs["units"] = _UNITS[name]
    a = b.attrs
    a["sampling_rate_hz"] = float(info.sampling_rate_hz)
    a["frame"] = info.frame
    a["axes"] = FOOT_AXES if info.frame == FRAME_FOOT else "device axes (mounting in the insole not known)"
    a["acc_range_m_s2"] = float(info.acc_range_m_s2)
    a["gyr_range_rad_s"] = float(info.gyr_range_rad_s)
    a["calibrated"] = _CALIBRATED[info.calibrated]
    a["description"] = info.description
    a["frame_aligned"] = bool(frame_aligned)


def append(b: h5py.Group, columns: dict[str, np.ndarray | None]) -> None:
    """Append rows to the block's datasets (optional 1-D columns not given are filled with zeros)."""
    n = len(columns["time_s"])  # type: ignore[arg-type]
    old = b["time_s"].shape[0]
    for name in IMU_DATASETS:
        if name not in b:
            continue
        values = columns.get(name)
        b[name].resize(old + n, axis=0)
        b[name][old:] = np.zeros(n, b[name].dtype) if values is None else values


# ---------------------------------------------------------------------- validation
def check(path: str, g: h5py.Group, where: str, n_frames: int, check_time: bool) -> list[str]:
    """Problems of the IMU block of foot group ``g`` (empty when valid or absent)."""
    if not is_block(g):
        return []
    b = g[IMU_GROUP]
    w = f"{where}/{IMU_GROUP}"
    problems: list[str] = []
    for name in _REQUIRED:
        if name not in b or not isinstance(b[name], h5py.Dataset):
            return [f"missing dataset {w}/{name}"]
    n = b["time_s"].shape[0] if b["time_s"].ndim == 1 else -1
    if n < 0 or n > MAX_FRAMES:
        return [f"{w}/time_s must be 1-D with at most {MAX_FRAMES} rows, has shape {b['time_s'].shape}"]
    for name, (_, cols) in IMU_DATASETS.items():
        if name not in b:
            continue
        ds = b[name]
        want = (n,) if cols is None else (n, cols)
        if not isinstance(ds, h5py.Dataset) or ds.shape != want:
            problems.append(f"{w}/{name} has shape {getattr(ds, 'shape', '(a group)')}, expected {want}")
        elif ds.dtype.kind not in "fiu":
            problems.append(f"{w}/{name} must be numeric, is {ds.dtype}")
    frame = attr_str(b.attrs.get("frame", ""))
    if frame not in FRAMES:
        problems.append(f"{w} attribute frame {frame!r} unknown; expected one of {FRAMES}")
    try:
        rate = float(b.attrs.get("sampling_rate_hz"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        rate = math.nan
    if not rate > 0:
        problems.append(f"{w} has no positive sampling_rate_hz attribute")
    if bool(b.attrs.get("frame_aligned", False)) and n != n_frames:
        problems.append(f"{w} is frame_aligned but has {n} rows for {n_frames} frames")
    if check_time and not problems and n:
        t = b["time_s"]
        last = -math.inf
        for lo in range(0, n, 1 << 20):
            block = t[lo : lo + (1 << 20)]
            d = np.diff(np.concatenate([[last], block]))
            if not np.all(np.isfinite(block)) or not np.all(d > 0):
                problems.append(f"{w}/time_s is not finite and strictly increasing")
                break
            last = float(block[-1])
    return problems


# ---------------------------------------------------------------------- reading
def info_of(g: h5py.Group) -> ImuInfo | None:
    """The :class:`~insole.imu.ImuInfo` of foot group ``g`` (legacy extra included), or None without IMU."""
    if is_block(g):
        a = g[IMU_GROUP].attrs
        calibrated = {"yes": True, "no": False}.get(attr_str(a.get("calibrated", "unknown")))
        return ImuInfo(
            sampling_rate_hz=float(a["sampling_rate_hz"]), acc_range_m_s2=float(a.get("acc_range_m_s2", math.nan)),
            gyr_range_rad_s=float(a.get("gyr_range_rad_s", math.nan)), frame=attr_str(a["frame"]),
            calibrated=calibrated, description=attr_str(a.get("description", "")),
        )
    if is_legacy(g):
        return _legacy_info(g)
    return None


def n_samples(g: h5py.Group) -> int:
    """IMU samples of foot group ``g`` (0 without IMU)."""
    if is_block(g):
        return int(g[IMU_GROUP]["time_s"].shape[0])
    if is_legacy(g):
        return int(g[IMU_GROUP].shape[0])
    return 0


def read(g: h5py.Group, start: int, stop: int | None) -> ImuData | None:
    """Samples ``start:stop`` of the IMU of foot group ``g`` (None without IMU)."""
    info = info_of(g)
    if info is None:
        return None
    n = n_samples(g)
    lo = min(max(int(start), 0), n)
    hi = max(lo, min(n if stop is None else int(stop), n))
    if is_legacy(g):
        return read_legacy(g, info, lo, hi)
    b = g[IMU_GROUP]
    return ImuData(
        info=info, start=lo, time_s=b["time_s"][lo:hi], acc_m_s2=b["acc_m_s2"][lo:hi],
        gyr_rad_s=b["gyr_rad_s"][lo:hi], frame_aligned=bool(b.attrs.get("frame_aligned", False)),
        sequence=b["sequence"][lo:hi] if "sequence" in b else None,
        device_time_us=b["device_time_us"][lo:hi] if "device_time_us" in b else None,
    )


def _legacy_info(g: h5py.Group) -> ImuInfo:
    ds = g[IMU_GROUP]
    moticon = attr_str(ds.attrs.get("source", "")) == LEGACY_MOTICON_SOURCE
    return ImuInfo(
        sampling_rate_hz=float(g.attrs.get("sampling_rate_hz", 100.0)),
        frame=FRAME_FOOT if moticon else "sensor",
        description=("migrated in memory from the extra dataset /imu (g, deg/s) of an older Moticon import; "
                     "Moticon's axes are the foot sensor frame (checked on the exports: gravity on +z at rest, "
                     "toe-up swing about -y on both feet)" if moticon else
                     "migrated in memory from an extra dataset /imu (g, deg/s) of unknown axes"),
    )


def read_legacy(g: h5py.Group, info: ImuInfo, lo: int, hi: int) -> ImuData:
    """The legacy (n, 6) dataset in g and deg/s as an IMU block in m/s² and rad/s (rows are the foot's frames)."""
    values = np.asarray(g[IMU_GROUP][lo:hi], np.float64)
    return ImuData(
        info=info, start=lo, time_s=g["time_s"][lo:hi],
        acc_m_s2=(values[:, :3] * STANDARD_GRAVITY_M_S2).astype(np.float32),
        gyr_rad_s=(values[:, 3:] * RAD_S_PER_DPS).astype(np.float32), frame_aligned=True,
    )
