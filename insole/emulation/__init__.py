"""Emulated insoles: the device side of the wire protocols, for tests, demos and the golden vectors.

Runtime code (drivers, recorder, analysis) never imports this package; ``insole emulate`` and
``insole emulate-ble`` import it when they run. Nothing is imported here, so that the serial emulator does not load
the Bluetooth stack.

``openinsole_device``
    openinsole-v1 frame encoders and the decoder of host commands (what a firmware does).
``sample_encoders``
    Per-protocol sample stream of a device (openinsole-v1 frames, csv-text-v1 lines).
``line_faults``
    Byte errors, noise bursts and a wrong-baud receiver for the serial emulator.
``firmware``
    :class:`~insole.emulation.firmware.FirmwareEmulator`: a simulated insole on a serial port (``insole emulate``).
``ble_gatt``, ``ble_peripheral``, ``sample_log``, ``ble_rig``
    BLE insoles as bumble GATT peripherals on a simulated radio link (``insole emulate-ble``), with the truth log of
    every sample they produced.
``moticon_udp``
    :class:`~insole.emulation.moticon_udp.MoticonReplay`: a Moticon OpenGo export replayed over UDP at real pace,
    as the vendor's desktop software streams it (``insole emulate-moticon``; loopback only).
"""
