"""Transports: the I/O half of device drivers (serial, Bluetooth LE on bleak, and bleak's bumble backend).

Codecs live in :mod:`insole.protocols`; the emulators and rigs used to test these drivers in
:mod:`insole.emulation`, which nothing here imports.
"""
