"""Transports: the I/O half of device drivers (serial now, BLE later); codecs live in :mod:`insole.protocols`."""
