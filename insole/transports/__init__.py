"""Transports: the I/O half of device drivers (serial, Bluetooth LE and its bumble test rig); codecs live in
:mod:`insole.protocols`."""
