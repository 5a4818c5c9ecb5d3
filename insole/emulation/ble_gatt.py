"""What an emulated BLE insole serves and advertises: its GATT services and its advertising data.

The layout follows ``firmware_protocols/openinsole-ble-gatt.md``: the insole service (data / control / device
info) or the Nordic UART service, the Battery service and the Device Information service; advertising carries the
flags, the data service UUID and the side in manufacturer data, the name in the scan response.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bumble.core import AdvertisingData
from bumble.gatt import Characteristic, CharacteristicValue, Service

from insole.transports import ble_profile as P

#: Data services an emulator can serve (``none``: a device that is not an insole).
SERVICES = ("insole", "nus", "none")
MANUFACTURER = "open-insole emulator"


@dataclass
class GattServer:
    """The services of one emulator and the characteristics it notifies on.

    Attributes
    ----------
    services : list of bumble.gatt.Service
    data_char : Characteristic or None
        Notifies the wire-protocol byte stream (None for ``service="none"``).
    battery_char : Characteristic
        Battery Level (read, notify).
    """

    services: list[Service]
    data_char: Characteristic | None
    battery_char: Characteristic


def insole_gatt(service: str, record: P.BleDeviceRecord, on_control: Callable[[Any, bytes], None],
                battery_pct: Callable[[], int]) -> GattServer:
    """The GATT server of an emulated insole.

    Parameters
    ----------
    service : {"insole", "nus", "none"}
    record : BleDeviceRecord
        Served on the device-info characteristic (insole service) and, field by field, by Device Information.
    on_control : callable
        ``(connection, value)``: a write to the control characteristic (openinsole-v1 commands).
    battery_pct : callable
        Returns the current battery level in percent (read on demand).
    """
    services: list[Service] = []
    data_char: Characteristic | None = None
    write = Characteristic.Properties.WRITE | Characteristic.Properties.WRITE_WITHOUT_RESPONSE
    if service == "insole":
        data_char = Characteristic(
            P.INSOLE_DATA_UUID, Characteristic.Properties.NOTIFY, Characteristic.Permissions.READABLE, b""
        )
        control = Characteristic(P.INSOLE_CONTROL_UUID, write, Characteristic.Permissions.WRITEABLE,
                                 CharacteristicValue(write=on_control))
        info = Characteristic(P.INSOLE_INFO_UUID, Characteristic.Properties.READ, Characteristic.Permissions.READABLE,
                              record.to_bytes())
        services.append(Service(P.INSOLE_SERVICE_UUID, [data_char, control, info]))
    elif service == "nus":
        data_char = Characteristic(
            P.NUS_TX_UUID, Characteristic.Properties.NOTIFY, Characteristic.Permissions.READABLE, b""
        )
        rx = Characteristic(P.NUS_RX_UUID, write, Characteristic.Permissions.WRITEABLE,
                            CharacteristicValue(write=lambda conn, value: None))
        services.append(Service(P.NUS_SERVICE_UUID, [data_char, rx]))
    battery_char = Characteristic(
        P.BATTERY_LEVEL_UUID,
        Characteristic.Properties.READ | Characteristic.Properties.NOTIFY,
        Characteristic.Permissions.READABLE,
        CharacteristicValue(read=lambda conn: bytes([max(0, min(100, battery_pct()))])),
    )
    services.append(Service(P.BATTERY_SERVICE_UUID, [battery_char]))
    dis = [
        (P.MANUFACTURER_NAME_UUID, MANUFACTURER),
        (P.MODEL_NUMBER_UUID, record.model),
        (P.SERIAL_NUMBER_UUID, record.serial_number),
        (P.FIRMWARE_REVISION_UUID, record.firmware_version),
    ]
    services.append(Service(P.DEVICE_INFORMATION_SERVICE_UUID, [
        Characteristic(u, Characteristic.Properties.READ, Characteristic.Permissions.READABLE, v.encode())
        for u, v in dis
    ]))
    return GattServer(services, data_char, battery_char)


def advertising_data(name: str, side: str, service: str, pack_name_in_advertising: bool) -> tuple[bytes, bytes]:
    """(advertising data, scan response): flags, service UUID and side; the name in the scan response.

    With ``pack_name_in_advertising`` the name is also put into the advertising data (bumble's simulated
    controller does not model scan responses).
    """
    structures: list[tuple[int, bytes]] = [(AdvertisingData.FLAGS, bytes([0x06]))]
    if service != "none":
        uuid = P.INSOLE_SERVICE_UUID if service == "insole" else P.NUS_SERVICE_UUID
        uuid_le = bytes.fromhex(uuid.replace("-", ""))[::-1]
        structures.append((AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS, uuid_le))
    structures.append((
        AdvertisingData.MANUFACTURER_SPECIFIC_DATA,
        P.ADV_COMPANY_ID.to_bytes(2, "little") + P.ADV_MAGIC + bytes([P.SIDE_BYTES[side]]),
    ))
    scan_response = [(AdvertisingData.COMPLETE_LOCAL_NAME, name.encode())]
    if pack_name_in_advertising:
        structures += scan_response
    return bytes(AdvertisingData(structures)), bytes(AdvertisingData(scan_response))
