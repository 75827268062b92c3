"""Pure algorithms of the ML platform: numpy (and optionally torch), never Django."""
