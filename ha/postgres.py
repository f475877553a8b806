"""The cluster's own PostgreSQL for the audit trail (Debian's package; the machine's own
server on 5432 is left alone): its own port, its own data folder, run as the
``postgres`` user (PostgreSQL refuses root) with ``setpriv`` so that the pid the cluster
records is the server's own. The nodes connect as ``idportal`` with a password from a
file of mode 600 (scram-sha-256 on 127.0.0.1 only)."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

from ha import procs

USER = "idportal"
DATABASE = "idportal"


def bin_dir() -> Path:
    """The newest installed server's programs (apt installs postgresql when missing)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if not found:
        procs.require_binary("pg_ctlcluster", "postgresql")
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if not found:
        raise procs.ProcError("PostgreSQL is missing: sudo apt-get install postgresql")
    return found[-1].parent


def _as_postgres(argv: list[str]) -> list[str]:
    setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
    return [setpriv, "--reuid=postgres", "--regid=postgres", "--init-groups", "--", *argv]


def data_dir(run_dir: Path) -> Path:
    """Where the data folder is: outside the run folder, which the postgres user may not
    be able to enter (it is the operator's, mode 700 under pytest); its path is kept in
    ``<run dir>/postgres.dir``."""
    marker = run_dir / "postgres.dir"
    if marker.exists():
        return Path(marker.read_text().strip())
    folder = Path(tempfile.mkdtemp(prefix="idportal-pg-"))
    shutil.chown(folder, "postgres", "postgres")
    folder.chmod(0o700)
    marker.write_text(str(folder))
    return folder


def password_file(secrets_dir: Path) -> Path:
    path = secrets_dir / "postgres-idportal.secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32) + "\n")
        path.chmod(0o600)
    return path


def init(run_dir: Path, secrets_dir: Path) -> tuple[Path, Path]:
    """``initdb`` once; the data folder and the password file."""
    data = data_dir(run_dir)
    if not (data / "PG_VERSION").exists():
        subprocess.run(_as_postgres([str(bin_dir() / "initdb"), "-D", str(data), "-U",
                                     "postgres", "-E", "UTF8", "--auth-local=trust",
                                     "--auth-host=scram-sha-256", "--no-instructions"]),
                       check=True, capture_output=True, cwd="/")
    return data, password_file(secrets_dir)


def server_argv(data: Path, port: int) -> list[str]:
    return _as_postgres([str(bin_dir() / "postgres"), "-D", str(data), "-p", str(port),
                         "-c", "listen_addresses=127.0.0.1",
                         "-c", f"unix_socket_directories={data}",
                         "-c", "log_destination=stderr", "-c", "logging_collector=off"])


def create_database(data: Path, port: int, password: Path) -> None:
    """The idportal role (its password through stdin, never a command line) and its
    database, once."""
    psql = _as_postgres([str(bin_dir() / "psql"), "-h", str(data), "-p", str(port), "-U",
                         "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-d", "postgres"])
    secret = password.read_text().strip()
    # Our own constants and our own random secret (token_urlsafe: no quote in it).
    script = (f"SELECT 'CREATE ROLE {USER} LOGIN' WHERE NOT EXISTS "  # noqa: S608
              f"(SELECT FROM pg_roles WHERE rolname = '{USER}')\\gexec\n"
              f"ALTER ROLE {USER} PASSWORD '{secret}';\n"
              f"SELECT 'CREATE DATABASE {DATABASE} OWNER {USER}' WHERE NOT EXISTS "
              f"(SELECT FROM pg_database WHERE datname = '{DATABASE}')\\gexec\n")
    subprocess.run(psql, input=script, text=True, check=True, capture_output=True, cwd="/")


def dsn(port: int) -> str:
    return f"postgresql://{USER}@127.0.0.1:{port}/{DATABASE}"


def remove(run_dir: Path) -> None:
    """The data folder (``cluster down``)."""
    marker = run_dir / "postgres.dir"
    if marker.exists():
        shutil.rmtree(marker.read_text().strip(), ignore_errors=True)
        marker.unlink()
