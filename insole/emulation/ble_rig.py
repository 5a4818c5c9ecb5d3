"""A rig of BLE insole emulators on one simulated radio link, reachable by the ble:// driver.

The driver reaches the rig either in-process (bumble transport ``local:NAME``, registered with the bumble backend)
or from another process through an HCI transport such as ``tcp-server:_:19001`` (``insole emulate-ble``).
"""

from __future__ import annotations

import contextlib
import itertools
from typing import Any

from bumble import hci, ll
from bumble.controller import Controller
from bumble.link import LocalLink

from insole.emulation.ble_peripheral import InsoleEmulator
from insole.transports.bumble_hub import register_local_link, unregister_local_link

_RIG_IDS = itertools.count(1)


class _HostController(Controller):
    """The controller a host in another process drives: an HCI Reset from a new host (e.g. the next
    ``insole record``) ends the links a vanished host left behind, so the emulators advertise again."""

    def on_hci_reset_command(self, command: hci.HCI_Reset_Command) -> Any:
        for peer, connection in list(self.le_connections.items()):
            with contextlib.suppress(Exception):
                connection.send_ll_control_pdu(ll.TerminateInd(hci.HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR))
            self.le_connections.pop(peer, None)
        return super().on_hci_reset_command(command)


class EmulatorRig:
    """Emulators on one simulated link, reachable by the driver in-process or over an HCI transport.

    Parameters
    ----------
    name : str or None
        The in-process transport becomes ``local:NAME`` (unique per rig by default).
    """

    def __init__(self, name: str | None = None) -> None:
        self.link = LocalLink()
        self.name = name or f"rig{next(_RIG_IDS)}"
        self.emulators: list[InsoleEmulator] = []
        self._transports: list[Any] = []
        self._controllers: list[Controller] = []
        register_local_link(self.name, self.link)

    @property
    def transport(self) -> str:
        """bumble transport name of this rig for an in-process driver."""
        return f"local:{self.name}"

    def url(self, target: str, **params: Any) -> str:
        """A ``ble://`` URL of ``target`` (name or address) on this rig."""
        query = "&".join(f"{k}={v}" for k, v in {"transport": self.transport, **params}.items())
        return f"ble://{target}?{query}"

    def add(self, name: str, side: str, **kwargs: Any) -> InsoleEmulator:
        """Add an emulator (see :class:`InsoleEmulator` for the keyword arguments); call :meth:`start` after."""
        address = f"F0:00:00:00:00:{len(self.emulators) + 1:02X}"
        emu = InsoleEmulator(name, side, self.link, address, **kwargs)
        self.emulators.append(emu)
        return emu

    async def serve_hci(self, transport_name: str) -> None:
        """Attach one more controller to the link whose host side is an HCI transport (e.g. ``tcp-server:_:19001``),
        for a driver in another process (``ble://NAME?transport=tcp-client:127.0.0.1:19001``)."""
        from bumble.transport import open_transport

        transport = await open_transport(transport_name)
        self._transports.append(transport)
        self._controllers.append(
            _HostController(f"hci{len(self._transports)}", host_source=transport.source, host_sink=transport.sink,
                            link=self.link)
        )

    async def start(self) -> None:
        """Start every emulator."""
        for emu in self.emulators:
            await emu.start()

    async def stop(self) -> None:
        """Stop every emulator and close the transports."""
        for emu in self.emulators:
            await emu.stop()
        for t in self._transports:
            with contextlib.suppress(Exception):
                await t.close()
        unregister_local_link(self.name)

    async def __aenter__(self) -> EmulatorRig:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
