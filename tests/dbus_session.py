"""A private D-Bus session bus for tests (a real dbus-daemon on a socket in a temp folder), and gdbus
as the independent client. The player under test runs on the test's Qt event loop, so a gdbus call
runs as a child process while ``qtbot.waitUntil`` keeps that loop turning."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def need(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (Debian: dev.sh's APT_TEST_PACKAGES)")


@pytest.fixture
def session_bus(tmp_path):
    """The address of a fresh dbus-daemon, killed afterwards."""
    need("dbus-daemon", "gdbus")
    folder = tmp_path / "bus"
    folder.mkdir()
    config = folder / "session.conf"
    config.write_text(CONFIG.format(dir=folder))
    proc = subprocess.Popen(["dbus-daemon", f"--config-file={config}", "--print-address=1", "--nofork"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    address = proc.stdout.readline().strip()
    if not address:
        proc.kill()
        pytest.fail(f"dbus-daemon did not start: {proc.stderr.read()}")
    yield address
    proc.kill()
    proc.wait(10)


class Gdbus:
    """gdbus against ``address``; every call waits with the Qt loop running."""

    def __init__(self, qtbot, address: str, dest: str | None = None):
        self.qtbot = qtbot
        self.env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": address}
        self.dest = dest

    def run(self, *args: str, check: bool = True) -> str:
        proc = subprocess.Popen(["gdbus", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=self.env)
        self.qtbot.waitUntil(lambda: proc.poll() is not None, timeout=30000)
        out, err = proc.communicate()
        if check and proc.returncode != 0:
            raise AssertionError(f"gdbus {' '.join(args)} failed: {err.strip()}")
        return out if proc.returncode == 0 else err

    def call(self, path: str, method: str, *args: str, check: bool = True) -> str:
        return self.run("call", "--session", "--dest", self.dest, "--object-path", path, "--method", method,
                        *args, check=check)

    def get(self, path: str, interface: str, prop: str) -> str:
        return self.call(path, "org.freedesktop.DBus.Properties.Get", interface, prop).strip()

    def monitor(self, out: Path, path: str) -> subprocess.Popen:
        """``gdbus monitor`` of ``dest`` line-buffered into ``out``."""
        fh = open(out, "w")
        cmd = ["gdbus", "monitor", "--session", "--dest", self.dest, "--object-path", path]
        if shutil.which("stdbuf"):
            cmd = ["stdbuf", "-oL", *cmd]
        return subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=self.env)
