"""Hardware transports: Bluetooth Low Energy (bleak) and the bumble-based test rig."""
