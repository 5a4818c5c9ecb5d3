"""The OpenInsole BLE GATT profile: UUIDs, control opcodes, advertising layout and the device-info record.

This module holds the constants shared by the driver (:mod:`insole.transports.ble_device`) and the insole
emulator (:mod:`insole.emulation.ble_peripheral`); the normative description for firmware authors is
``firmware_protocols/openinsole-ble-gatt.md``. Everything here is plain data and pure functions (no I/O).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from insole.errors import ProtocolError
from insole.protocols.openinsole_v1.messages import ImuInfoMessage

#: Custom 128-bit OpenInsole service and its characteristics (base UUID randomly generated for this project).
INSOLE_SERVICE_UUID = "4f1e0001-8b5a-4c6e-9d2f-3a7b6c5d4e10"
#: Notify: the wire-protocol byte stream (openinsole-v1 COBS frames), cut into notifications of <= ATT_MTU-3 bytes.
INSOLE_DATA_UUID = "4f1e0002-8b5a-4c6e-9d2f-3a7b6c5d4e10"
#: Write (with or without response): openinsole-v1 command frames (START, STOP, SET_RATE, SYNC, GET_STATUS;
#: :func:`insole.protocols.openinsole_v1.encode_command`); replies (sync, status) come on the data stream.
INSOLE_CONTROL_UUID = "4f1e0003-8b5a-4c6e-9d2f-3a7b6c5d4e10"
#: Read: UTF-8 JSON device-info record (:class:`BleDeviceRecord`).
INSOLE_INFO_UUID = "4f1e0004-8b5a-4c6e-9d2f-3a7b6c5d4e10"

#: Nordic UART Service (NUS), used by many DIY insoles; TX notifies device -> host, RX takes host -> device writes.
NUS_SERVICE_UUID = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"
NUS_RX_UUID = "6e400002-b5a3-f393-e0a9-e50e24dcca9e"
NUS_TX_UUID = "6e400003-b5a3-f393-e0a9-e50e24dcca9e"

#: Standard SIG services and characteristics (Bluetooth Assigned Numbers, section 3.4 / 3.8).
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"
DEVICE_INFORMATION_SERVICE_UUID = "0000180a-0000-1000-8000-00805f9b34fb"
MANUFACTURER_NAME_UUID = "00002a29-0000-1000-8000-00805f9b34fb"
MODEL_NUMBER_UUID = "00002a24-0000-1000-8000-00805f9b34fb"
SERIAL_NUMBER_UUID = "00002a25-0000-1000-8000-00805f9b34fb"
FIRMWARE_REVISION_UUID = "00002a26-0000-1000-8000-00805f9b34fb"

#: Service UUIDs an insole may advertise; scans are filtered on these.
SCAN_SERVICE_UUIDS = (INSOLE_SERVICE_UUID, NUS_SERVICE_UUID)

#: Manufacturer-specific advertising data: company id 0xFFFF ("no company", reserved for tests and prototypes by
#: the Bluetooth SIG), then the two bytes ``b"OI"`` and one side byte (:data:`SIDE_BYTES`).
ADV_COMPANY_ID = 0xFFFF
ADV_MAGIC = b"OI"
SIDE_BYTES = {"left": ord("L"), "right": ord("R")}
SIDE_FROM_BYTE = {v: k for k, v in SIDE_BYTES.items()}

#: ATT header of a notification (opcode + handle): a notification carries at most ATT_MTU - 3 bytes.
ATT_NOTIFY_OVERHEAD = 3
#: The ATT MTU every LE link starts with (Core spec vol 3 part F 3.2.8).
ATT_DEFAULT_MTU = 23


def split_notifications(data: bytes, att_mtu: int) -> list[bytes]:
    """Cut a byte stream into notification payloads of at most ``att_mtu - 3`` bytes."""
    size = max(1, att_mtu - ATT_NOTIFY_OVERHEAD)
    return [bytes(data[i : i + size]) for i in range(0, len(data), size)]


@dataclass(frozen=True)
class BleDeviceRecord:
    """The device-info record an insole serves (UTF-8 JSON on :data:`INSOLE_INFO_UUID`).

    Attributes
    ----------
    side : {"left", "right"}
    n_sensors : int
    sampling_rate_hz : float
    units : {"kPa", "N", "raw"}
    protocol : str
        Wire protocol of the data characteristic (``openinsole-v1``; ``csv`` on the Nordic UART variant).
    foot_length_mm : float
        Insole length, used to scale the generic sensor layout.
    model, serial_number, firmware_version : str
    extra : dict
        Unknown keys, kept so that newer firmware does not break older hosts.
    imu : ImuInfoMessage or None
        The optional ``imu`` object: ``{"acc_full_scale_g": 16, "gyr_full_scale_dps": 2000, "axes": [1, 2, 3],
        "calibrated": false}``: the samples' IMU block and how to convert it (openinsole-v1 IMU_INFO fields).
    """

    side: str
    n_sensors: int
    sampling_rate_hz: float
    units: str = "raw"
    protocol: str = "openinsole-v1"
    foot_length_mm: float = 265.0
    model: str = "unknown"
    serial_number: str = "unknown"
    firmware_version: str = "unknown"
    extra: dict[str, Any] = field(default_factory=dict)
    imu: ImuInfoMessage | None = None

    def to_bytes(self) -> bytes:
        """Serialise as compact UTF-8 JSON."""
        doc = {
            "side": self.side,
            "n_sensors": self.n_sensors,
            "rate_hz": self.sampling_rate_hz,
            "units": self.units,
            "protocol": self.protocol,
            "foot_length_mm": self.foot_length_mm,
            "model": self.model,
            "serial": self.serial_number,
            "fw": self.firmware_version,
            **self.extra,
        }
        if self.imu is not None:
            doc["imu"] = {"acc_full_scale_g": self.imu.acc_full_scale_mg / 1000, "gyr_full_scale_dps":
                          self.imu.gyr_full_scale_dps, "axes": list(self.imu.axes),
                          "calibrated": {0: None, 1: False, 2: True}[self.imu.calibration_code]}
        return json.dumps(doc, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes, where: str = "device") -> BleDeviceRecord:
        """Parse a record; ``where`` names the device in error messages.

        Raises
        ------
        ProtocolError
            Not UTF-8 JSON, a required key missing, or a value out of range.
        """
        try:
            doc = json.loads(bytes(data).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ProtocolError(f"{where}: device-info characteristic is not UTF-8 JSON ({exc})") from None
        if not isinstance(doc, dict):
            raise ProtocolError(f"{where}: device-info characteristic must hold a JSON object")
        missing = [k for k in ("side", "n_sensors", "rate_hz") if k not in doc]
        if missing:
            raise ProtocolError(f"{where}: device-info record lacks {', '.join(missing)}")
        side = doc.pop("side")
        if side not in SIDE_BYTES:
            raise ProtocolError(f"{where}: device-info side must be 'left' or 'right', got {side!r}")
        try:
            n_sensors = int(doc.pop("n_sensors"))
            rate_hz = float(doc.pop("rate_hz"))
            foot_length_mm = float(doc.pop("foot_length_mm", 265.0))
        except (TypeError, ValueError) as exc:
            raise ProtocolError(f"{where}: device-info record has a non-numeric value ({exc})") from None
        if not 1 <= n_sensors <= 1024 or not 0 < rate_hz <= 10_000 or not 100 <= foot_length_mm <= 400:
            raise ProtocolError(
                f"{where}: device-info record out of range (n_sensors={n_sensors}, rate_hz={rate_hz}, "
                f"foot_length_mm={foot_length_mm})"
            )
        units = str(doc.pop("units", "raw"))
        if units not in ("kPa", "N", "raw"):
            raise ProtocolError(f"{where}: device-info units must be kPa, N or raw, got {units!r}")
        imu = _imu_of(doc.pop("imu", None), side, where)
        return cls(
            side=side,
            n_sensors=n_sensors,
            sampling_rate_hz=rate_hz,
            units=units,
            protocol=str(doc.pop("protocol", "openinsole-v1")),
            foot_length_mm=foot_length_mm,
            model=str(doc.pop("model", "unknown")),
            serial_number=str(doc.pop("serial", "unknown")),
            firmware_version=str(doc.pop("fw", "unknown")),
            extra=doc,
            imu=imu,
        )


def _imu_of(doc: Any, side: str, where: str) -> ImuInfoMessage | None:
    """The record's ``imu`` object as the IMU_INFO it stands for (None when absent)."""
    if doc is None:
        return None
    try:
        acc_mg = int(round(float(doc["acc_full_scale_g"]) * 1000))
        gyr_dps = int(round(float(doc["gyr_full_scale_dps"])))
        axes = tuple(int(a) for a in doc.get("axes", (0, 0, 0)))
        calibrated = doc.get("calibrated")
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise ProtocolError(f"{where}: device-info imu must be an object with acc_full_scale_g, gyr_full_scale_dps "
                            f"and optionally axes and calibrated ({exc!r})") from None
    if len(axes) != 3 or not 0 < acc_mg <= 0xFFFF or not 0 < gyr_dps <= 0xFFFF:
        raise ProtocolError(f"{where}: device-info imu out of range (full scales {acc_mg} mg and {gyr_dps} deg/s, "
                            f"axes {list(axes)})")
    code = {None: 0, False: 1, True: 2}.get(calibrated, 0)
    return ImuInfoMessage(side, acc_mg, gyr_dps, axes, code)  # type: ignore[arg-type]


def side_from_manufacturer_data(manufacturer_data: dict[int, bytes]) -> str | None:
    """The side an insole advertises in its manufacturer data, or None if absent."""
    payload = manufacturer_data.get(ADV_COMPANY_ID)
    if payload is None or len(payload) < 3 or payload[:2] != ADV_MAGIC:
        return None
    return SIDE_FROM_BYTE.get(payload[2])
