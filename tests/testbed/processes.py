"""Child processes that never outlive the testbed.

Every child gets PR_SET_PDEATHSIG (SIGTERM when the thread that started it ends) and its own
process group, so `down`, a crash of the agent or its lifetime running out all stop it.
"""

import ctypes
import os
import signal
import socket
import subprocess

_PR_SET_PDEATHSIG = 1


def _child_setup():
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except OSError:
        pass
    os.setpgrp()


def spawn(argv, log_path, env=None, cwd=None):
    """Starts argv with stdout and stderr appended to log_path."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                                preexec_fn=_child_setup)


def terminate(proc, grace=5):
    """SIGTERM the child's process group, then SIGKILL after `grace` seconds."""
    if proc.poll() is not None:
        return proc.returncode
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            return proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    return proc.poll()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def tail(path, limit=600):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - limit))
            return f.read().decode(errors="replace").strip()
    except OSError:
        return ""
