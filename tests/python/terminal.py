"""Running a command with one of its output streams on a pseudo-terminal (what a person at a
terminal sees), for the tests of summaries and progress bars."""
import os
import pty
import subprocess


def run_on_pty(cmd, stream, timeout=120, env=None):
    """Runs cmd with `stream` ("stdout" or "stderr") on a pseudo-terminal and the other to
    /dev/null; returns (exit code, what it wrote there)."""
    leader, follower = pty.openpty()
    streams = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    streams[stream] = follower
    proc = subprocess.Popen([str(c) for c in cmd], env=env, **streams)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closes when the process exits
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return proc.wait(timeout=timeout), b"".join(chunks).decode()
