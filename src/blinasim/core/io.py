"""Writing run results: netCDF for ``*.nc`` paths, Zarr otherwise.

Writes go to a temporary sibling first and are renamed into place only when
complete, so a failed or interrupted write never leaves a half-written result
under the requested name. The temporary sibling (``.NAME.XXXX.partial``)
holds a ``writer`` file with the host and process id that made it; a later
write into the same directory removes those whose process is gone on this host
(:func:`clean_stale_partials`), never those of a live writer or of another host.
A write that fails for want of space or permission (a full disk, a quota, a
file-size limit, a read-only directory) raises :class:`OutputError` naming the path.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import tempfile
import warnings
from pathlib import Path

import xarray as xr

from blinasim.errors import BlinasimError
from blinasim.extras import requires_extra

#: Name of the file in a ``.partial`` directory that names its writer (``host:pid``).
WRITER_FILE = "writer"


class OutputError(BlinasimError):
    """An output that cannot be written (no space, no permission, a file-size limit): one line per problem."""


def _parent(target: Path) -> Path:
    return target.parent if str(target.parent) else Path(".")


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def writer_id() -> str:
    """``host:pid`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def writer_gone(writer: str) -> bool:
    """Whether the process of a ``host:pid`` is known to be gone (only decidable on this host)."""
    host, _, pid = writer.strip().rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return not pid_alive(int(pid))


def describe_os_error(exc: OSError) -> str:
    """A short reason for a failed write, with what to do for the usual causes."""
    reason = exc.strerror or str(exc)
    hint = {
        errno.ENOSPC: "free disk space or write elsewhere",
        errno.EDQUOT: "the disk quota is exhausted; free space or write elsewhere",
        errno.EFBIG: "a file-size limit was reached (ulimit -f); raise it or write elsewhere",
        errno.EACCES: "no permission to write there; choose a writable directory",
        errno.EPERM: "no permission to write there; choose a writable directory",
        errno.EROFS: "the file system is read-only; choose a writable directory",
    }.get(exc.errno or 0)
    return f"{reason}" + (f" ({hint})" if hint else "")


def check_writable_dir(directory: str | os.PathLike, what: str) -> None:
    """Raise :class:`OutputError` unless a file can be created (and removed) in ``directory``.

    Tries it rather than asking ``os.access``, which is wrong for root, ACLs and read-only mounts.
    """
    d = Path(directory)
    try:
        fd, name = tempfile.mkstemp(prefix=".blinasim-write-test.", dir=d)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        raise OutputError(f"{what}: cannot write in directory {str(d)!r}: {describe_os_error(exc)}") from None


def clean_stale_partials(parent: str | os.PathLike, name: str = "*") -> list[Path]:
    """Remove the ``.NAME.*.partial`` directories in ``parent`` (any name by default) whose writer
    process is gone on this host; return them. Those of a live writer, of another host or without a
    ``writer`` file are left alone."""
    removed = []
    for p in Path(parent).glob(f".{name}.*.partial"):
        try:
            writer = (p / WRITER_FILE).read_text()
        except OSError:
            continue  # no writer file (an older version, or being made right now): leave it alone
        if writer_gone(writer):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def make_partial_dir(target: str | os.PathLike) -> Path:
    """A fresh ``.NAME.XXXX.partial`` directory beside ``target``, naming this process as its writer.

    Stale ones in the same directory (their writer is gone) are removed first.
    """
    target = Path(target)
    parent = _parent(target)
    clean_stale_partials(parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=parent))
    try:
        (tmp / WRITER_FILE).write_text(writer_id())
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp


def _encodable(ds: xr.Dataset) -> xr.Dataset:
    """Strings as fixed-width unicode so that every backend stores them."""
    out = ds.copy()
    for name, var in ds.variables.items():
        if var.dtype == object or var.dtype.kind == "U":
            out[name] = var.astype(str)
    return out


def require_backend(path: str | os.PathLike) -> None:
    """Check that the file format of ``path`` can be written here (netCDF needs the ``netcdf`` extra).

    Raises
    ------
    blinasim.extras.MissingExtraError
        For a ``*.nc`` path when netCDF4 is not installed.
    """
    if Path(path).suffix == ".nc":
        with requires_extra("netcdf", "writing netCDF (*.nc)"):
            import netCDF4  # noqa: F401


def write_dataset(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write ``ds`` to ``path``; return the final path. Refuses to overwrite.

    Raises
    ------
    FileExistsError
        When ``path`` exists.
    FileNotFoundError
        When its directory does not exist.
    OutputError
        When the write fails for want of space or permission; nothing is left under ``path``.
    """
    target = Path(path)
    if target.exists():
        raise FileExistsError(f"output path {str(target)!r} already exists; choose another or remove it")
    parent = _parent(target)
    if not parent.is_dir():
        raise FileNotFoundError(f"output directory {str(parent)!r} does not exist")
    require_backend(target)
    ds = _encodable(ds)
    try:
        tmp = make_partial_dir(target)
    except OSError as exc:
        raise OutputError(f"cannot write {str(target)!r}: {describe_os_error(exc)}") from None
    try:
        if target.suffix == ".nc":
            tmp_file = tmp / target.name
            ds.to_netcdf(tmp_file, engine="netcdf4")
            os.replace(tmp_file, target)
        else:
            tmp_store = tmp / "store"
            with warnings.catch_warnings():
                # Consolidated metadata is what lets ``xarray.open_zarr`` open the
                # store without a fallback warning; zarr 3 notes it is an extension.
                warnings.filterwarnings("ignore", message="Consolidated metadata", category=UserWarning)
                ds.to_zarr(tmp_store, mode="w-", consolidated=True)
            os.replace(tmp_store, target)
        shutil.rmtree(tmp, ignore_errors=True)
    except (OSError, RuntimeError) as exc:  # netCDF/HDF5 reports a full disk as a RuntimeError
        shutil.rmtree(tmp, ignore_errors=True)
        reason = describe_os_error(exc) if isinstance(exc, OSError) else str(exc)
        raise OutputError(f"cannot write {str(target)!r}: {reason}; nothing was written") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
