"""What a BLE insole is, from what it serves and what the URL says: its :class:`~insole.devices.DeviceInfo`.

Insoles with the insole service describe themselves (device-info record); Nordic UART insoles do not, so the URL
must give their side (unless advertised), cell count and rate. Either way the layout follows the one policy of
:func:`insole.layouts.layout_for_device` (a cell count without a built-in layout gets the placeholder ``unknown-N``).
"""

from __future__ import annotations

from insole.devices import DeviceInfo
from insole.errors import ConfigurationError, ProtocolError
from insole.frames import Side, check_side
from insole.imu import ImuInfo
from insole.layouts import is_plausible_foot_length_mm, layout_for_device
from insole.protocols import protocol_name
from insole.transports.ble_profile import BleDeviceRecord
from insole.transports.ble_url import BleSettings


def describe_ble_insole(settings: BleSettings, address: str, dis: dict[str, str], record: BleDeviceRecord | None,
                        advertised_side: Side | None) -> tuple[DeviceInfo, str]:
    """The description of a connected insole, and the protocol of its data stream.

    Parameters
    ----------
    settings : BleSettings
        The URL.
    address : str
        The insole's Bluetooth address.
    dis : dict
        What the Device Information service gave (``manufacturer``, ``model``, ``serial_number``,
        ``firmware_version``; any may be missing).
    record : BleDeviceRecord or None
        The insole service's device-info record; None for a Nordic UART insole.
    advertised_side : {"left", "right"} or None
        The side in the advertised manufacturer data.

    Returns
    -------
    info : DeviceInfo
    protocol : str
        Canonical name of the data stream's protocol (the URL's, else the record's, else ``csv`` for Nordic UART).

    Raises
    ------
    ConfigurationError
        The URL's side contradicts the insole's, or a Nordic UART insole lacks side, sensors or rate_hz.
    """
    if record is not None:
        side, n_sensors, rate_hz, units = record.side, record.n_sensors, record.sampling_rate_hz, record.units
        foot_length_mm = (record.foot_length_mm if is_plausible_foot_length_mm(record.foot_length_mm)
                          else settings.foot_length_mm)
        protocol = record.protocol
        model = record.model if record.model != "unknown" else dis.get("model", "unknown")
        serial = record.serial_number if record.serial_number != "unknown" else dis.get("serial_number", "unknown")
        firmware = (record.firmware_version if record.firmware_version != "unknown"
                    else dis.get("firmware_version", "unknown"))
        if settings.side is not None and settings.side != side:
            raise ConfigurationError(
                f"{settings.url}: the URL says side={settings.side} but the insole reports {side}; fix the URL"
            )
    else:
        side = settings.side or advertised_side
        missing = [k for k, v in (("side", side), ("sensors", settings.sensors), ("rate_hz", settings.rate_hz))
                   if v is None]
        if missing:
            raise ConfigurationError(
                f"{settings.url}: a Nordic UART insole does not describe itself; add {', '.join(missing)} to the "
                f"URL, e.g. ble://{settings.target}?side=left&sensors=8&rate_hz=100"
            )
        assert side is not None and settings.sensors is not None and settings.rate_hz is not None
        n_sensors, rate_hz, units = settings.sensors, settings.rate_hz, settings.units
        foot_length_mm, protocol = settings.foot_length_mm, "csv"
        model, serial, firmware = (dis.get(k, "unknown") for k in ("model", "serial_number", "firmware_version"))
    protocol = protocol_name(protocol if settings.protocol == "auto" else settings.protocol)
    imu: ImuInfo | None = None
    if record is not None and record.imu is not None and protocol == "openinsole-v1":
        try:
            imu = record.imu.imu_info(rate_hz, model)
        except ProtocolError as exc:
            raise ProtocolError(f"{settings.url}: the device-info record's imu is unusable: {exc}") from None
    info = DeviceInfo(
        url=settings.url, side=check_side(side), n_sensors=n_sensors, sampling_rate_hz=rate_hz, units=units,
        layout=layout_for_device(n_sensors, foot_length_mm), model=model, serial_number=serial,
        firmware_version=firmware,
        extra={"transport": "ble", "ble_address": address, "ble_name": settings.target,
               "protocol": protocol, "manufacturer": dis.get("manufacturer", "unknown"),
               "ble_service": "insole" if record is not None else "nus"},
        imu=imu,
    )
    return info, protocol
