"""Tastebuds: a desktop music player that listens to your music and learns your taste.

Nothing heavy is imported here: the GUI, TensorFlow and the camera are loaded lazily by the
modules that need them.
"""

__version__ = "0.1.0"
APP_NAME = "tastebuds"
