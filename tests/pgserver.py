"""A throw-away PostgreSQL server for the tests: initdb into a temporary folder, pg_ctl on a free
loopback port with its socket in that folder, fsync off; stopped (and deleted) at the end.

When the tests run as root (CI does), the server runs as Debian's ``postgres`` user
(``runuser -u postgres --``): PostgreSQL refuses to run as root. ``find_binaries`` says why the
server cannot start (the binaries are absent) so that the PostgreSQL tests skip with that reason.

Logins: the ``postgres`` superuser is trusted from 127.0.0.1 (the tests' own databases); the
role ``briefgen_pw`` must give its password (scram-sha-256), for the authentication tests.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

PASSWORD_ROLE, PASSWORD = "briefgen_pw", "s3cret-test-only"
_HBA = f"""\
local all all trust
host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 trust
"""


def find_binaries() -> tuple[Path | None, str]:
    """Return the folder of initdb/pg_ctl (newest version), or None and the reason."""
    override = os.environ.get("BRIEFGEN_TEST_PG_BIN")
    candidates = [override] if override else []
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                         key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
                         reverse=True)
    which = shutil.which("initdb")
    if which:
        candidates.append(str(Path(which).resolve().parent))
    for folder in candidates:
        if folder and (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder), ""
    return None, ("PostgreSQL server binaries (initdb, pg_ctl) not found; install Debian's "
                  "`postgresql` package (bash scripts/system-deps.sh)")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """One PostgreSQL server in a temporary folder; ``url(db)`` gives a login URL."""

    def __init__(self, bindir: Path, *, durable: bool = False) -> None:
        self.bindir = bindir
        self.durable = durable
        self.folder = Path(tempfile.mkdtemp(prefix="briefgen-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = free_port()
        self.run_as: list[str] = []
        self._names = itertools.count(1)
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise RuntimeError("running as root, but there is no `postgres` user to run the server") from exc
            os.chown(self.folder, pw.pw_uid, pw.pw_gid)
            self.run_as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        res = subprocess.run([*self.run_as, *args], capture_output=True, text=True, timeout=120,
                             check=False, cwd=self.folder)
        if res.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed: {res.stdout}{res.stderr}\n{log}")
        return res

    def init(self) -> None:
        """Create the cluster (no fsync, C.UTF-8) and its pg_hba.conf."""
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")
        hba = self.data / "pg_hba.conf"
        owner = hba.stat()
        hba.write_text(_HBA)
        os.chown(hba, owner.st_uid, owner.st_gid)

    def start(self) -> None:
        """Start the server on its port, socket in its folder; wait until it accepts logins.

        ``durable`` False (the tests): no fsync, so that nothing waits for the disk. True (the
        benchmarks): PostgreSQL's durability defaults, and 1 GB of shared buffers.
        """
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=60"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        else:  # the benchmarks: a server set up as a database server would be (its own memory)
            options += " -c shared_buffers=1GB -c effective_cache_size=4GB"
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                  "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: sessions are disconnected, their transactions rolled back)."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def server_cpu_seconds(self) -> float:
        """Return the CPU time (user + system) the server's processes have used so far."""
        total = 0.0
        tick = os.sysconf("SC_CLK_TCK")
        pid_file = self.data / "postmaster.pid"
        postmaster = int(pid_file.read_text().split()[0]) if pid_file.exists() else -1
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(entry) == postmaster:  # reaped backends are counted in its children's times
                total += sum(int(f) for f in fields[11:15]) / tick
            elif int(fields[1]) == postmaster:
                total += sum(int(f) for f in fields[11:13]) / tick
        return total

    def running(self) -> bool:
        res = subprocess.run([*self.run_as, str(self.bindir / "pg_ctl"), "-D", str(self.data), "status"],
                             capture_output=True, text=True, check=False, cwd=self.folder)
        return res.returncode == 0

    def url(self, database: str = "postgres", user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.url(), autocommit=True)

    def new_database(self, prefix: str = "t") -> str:
        """Create an empty database (default collation en-US through ICU when available, so
        that code relying on byte order must say COLLATE "C"); return its URL."""
        name = f"{prefix}_{next(self._names)}"
        with self.admin() as con:
            try:
                con.execute(f"CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu "
                            "ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'")
            except psycopg.Error:
                con.execute(f"CREATE DATABASE {name} TEMPLATE template0")
            con.execute(f"GRANT ALL ON DATABASE {name} TO {PASSWORD_ROLE}")
        with psycopg.connect(self.url(name), autocommit=True) as con:
            con.execute(f"GRANT ALL ON SCHEMA public TO {PASSWORD_ROLE}")
        return self.url(name)

    def setup_roles(self) -> None:
        with self.admin() as con:
            con.execute(f"CREATE ROLE {PASSWORD_ROLE} LOGIN PASSWORD '{PASSWORD}'")

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            if self.running():
                self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


def start_server(*, durable: bool = False) -> PgServer:
    """Start a fresh server, or raise RuntimeError saying why it cannot start (FileNotFoundError:
    no binaries). ``durable``: keep PostgreSQL's default fsync settings (the benchmarks)."""
    bindir, reason = find_binaries()
    if bindir is None:
        raise FileNotFoundError(reason)
    server = PgServer(bindir, durable=durable)
    try:
        server.init()
        for _ in range(3):  # the free port may be taken between the probe and the start
            try:
                server.start()
                break
            except RuntimeError:
                server.port = free_port()
        else:
            server.start()
        server.setup_roles()
    except BaseException:
        server.destroy()
        raise
    return server
