"""A throwaway PostgreSQL server on 127.0.0.1 for the tests: Debian's `postgresql` package (installed by
`make test` through `make postgres-server` when missing), a fresh cluster in a temporary folder, password
authentication, stopped and removed at the end.

PostgreSQL refuses to run as root; as root the server runs as the `postgres` system user the package creates.
"""

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SUPERUSER_PASSWORD = "throwaway-superuser"


@dataclass(frozen=True)
class Server:
    port: int
    superuser_dsn: str

    def dsn(self, user: str, password: str, dbname: str = "postgres") -> str:
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{dbname}"


def bin_dir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise RuntimeError(
            "PostgreSQL server binaries are missing: run `make postgres-server` (installs Debian's postgresql)"
        )
    return found[-1].parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(cmd: list, **kwargs) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if done.returncode:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{done.stdout}\n{done.stderr}")


@contextlib.contextmanager
def throwaway_server() -> Iterator[Server]:
    """A fresh cluster in its own folder under the system temp dir (pytest's folders are private to root, and the
    server runs as `postgres` when the tests run as root)."""
    run_as = {}
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        run_as = {"user": user.pw_uid, "group": user.pw_gid}
    root = Path(tempfile.mkdtemp(prefix="kkb-pg-"))
    data, sockets, pwfile = root / "data", root / "sock", root / "pw"
    sockets.mkdir()
    pwfile.write_text(SUPERUSER_PASSWORD + "\n")
    if run_as:
        for p in (root, sockets, pwfile):
            os.chown(p, run_as["user"], run_as["group"])
    binaries = bin_dir()
    _run(
        [binaries / "initdb", "-D", data, "-U", "postgres", "--auth=scram-sha-256", f"--pwfile={pwfile}",
         "--no-sync", "--encoding=UTF8", "--locale=C.UTF-8"],
        **run_as,
    )  # fmt: skip
    port = _free_port()
    log = root / "server.log"
    _run(
        [binaries / "pg_ctl", "-D", data, "-l", log, "-w", "-t", "60", "start",
         "-o", f"-h 127.0.0.1 -p {port} -k {sockets} -c fsync=off"],
        **run_as,
    )  # fmt: skip
    try:
        yield Server(port, f"postgresql://postgres:{SUPERUSER_PASSWORD}@127.0.0.1:{port}/postgres")
    finally:
        subprocess.run([binaries / "pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True, **run_as)
        shutil.rmtree(root, ignore_errors=True)
