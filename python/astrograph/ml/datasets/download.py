"""Downloaders for the full public data sets, with a local cache.

* Cache folder: ``$ASTROGRAPH_CACHE`` or ``~/.cache/astrograph`` (:func:`cache_dir`).
* Integrity: a ``sha256`` given to :func:`fetch_file` is checked after every
  download and on every cache hit; a mismatch raises
  :class:`~astrograph.errors.ChecksumError` and the bad file is moved aside
  (``*.corrupt``), never returned.
* Resume: partial downloads live in ``<name>.part``; a dropped connection is
  retried with an HTTP ``Range`` request so finished bytes are not fetched again.
* Offline mode: ``offline=True`` or ``ASTROGRAPH_OFFLINE=1`` makes every function
  serve only from the cache and raise :class:`~astrograph.errors.OfflineError`
  instead of touching the network.

Every failure is an :class:`~astrograph.errors.DownloadError` (also a ``RuntimeError``).
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pandas as pd

from ...errors import ChecksumError, DownloadError, InputError, OfflineError

__all__ = [
    "cache_dir",
    "fetch_file",
    "skyserver_sql",
    "fetch_galaxy10",
    "fetch_boss_dr12",
    "PHOTOZ_QUERY",
    "SKYSERVER_URL",
]

SKYSERVER_URL = "https://skyserver.sdss.org/dr18/SkyServerWS/SearchTools/SqlSearch"
GALAXY10_URL = "https://zenodo.org/records/10844811/files/Galaxy10.h5"
BOSS_DR12_URL = "https://data.sdss.org/sas/dr12/boss/lss/"

#: Ready photo-z training query: spectroscopic galaxies with ugriz model
#: magnitudes and their errors (same columns as the MGS photo-z sample).
PHOTOZ_QUERY = """\
SELECT TOP {top}
  s.specobjid, s.z AS zs, s.zerr,
  p.modelMag_u AS u, p.modelMag_g AS g, p.modelMag_r AS r, p.modelMag_i AS i, p.modelMag_z AS z,
  p.modelMagErr_u AS eu, p.modelMagErr_g AS eg, p.modelMagErr_r AS er,
  p.modelMagErr_i AS ei, p.modelMagErr_z AS ez
FROM SpecObj AS s JOIN PhotoObj AS p ON s.bestobjid = p.objid
WHERE s.class = 'GALAXY' AND s.zwarning = 0 AND s.z BETWEEN 0 AND 1
  AND p.petroMag_r < 17.77 AND p.clean = 1
"""


def cache_dir(create: bool = True) -> Path:
    """The download cache: ``$ASTROGRAPH_CACHE`` or ``~/.cache/astrograph``."""
    env = os.environ.get("ASTROGRAPH_CACHE")
    path = Path(env).expanduser() if env else Path.home() / ".cache" / "astrograph"
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def _offline(offline: bool | None) -> bool:
    if offline is not None:
        return offline
    return os.environ.get("ASTROGRAPH_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _verify(path: Path, sha256: str | None) -> None:
    if sha256 is None:
        return
    got = _sha256(path)
    if got != sha256.lower():
        bad = path.with_name(path.name + ".corrupt")
        path.replace(bad)
        raise ChecksumError(
            f"sha256 mismatch for {path.name}: expected {sha256.lower()}, got {got}; "
            f"the file was moved to {bad}"
        )


def _progress(total: int | None, initial: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm  # lazy: tqdm.auto probes for Jupyter widgets on import

    return tqdm(
        total=total, initial=initial, unit="B", unit_scale=True, desc=desc, disable=not enabled,
        leave=False,
    )  # fmt: skip


def _download_once(url: str, part: Path, timeout: float, progress: bool) -> None:
    """One attempt: resume ``part`` from its current size if the server allows."""
    have = part.stat().st_size if part.exists() else 0
    req = urllib.request.Request(url, headers={"User-Agent": "astrograph"})
    if have:
        req.add_header("Range", f"bytes={have}-")
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # we already hold every byte
            return
        raise
    with resp:
        if have and resp.status != 206:  # server ignored Range: start over
            have = 0
        length = resp.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        mode = "ab" if have else "wb"
        with open(part, mode) as fh, _progress(total, have, part.name[:-5], progress) as bar:
            while True:
                chunk = resp.read(1 << 16)
                if not chunk:
                    break
                fh.write(chunk)
                bar.update(len(chunk))
        if total is not None and part.stat().st_size < total:
            raise http.client.IncompleteRead(b"", total - part.stat().st_size)


def fetch_file(
    url: str,
    filename: str | None = None,
    sha256: str | None = None,
    *,
    subdir: str = "",
    offline: bool | None = None,
    progress: bool = True,
    retries: int = 3,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` into the cache (once) and return the local path.

    Parameters
    ----------
    url : str
        Source URL (http, https or file).
    filename : str, optional
        Name in the cache; defaults to the last path component of ``url``.
    sha256 : str, optional
        Expected hex digest; checked on download and on every cache hit.
    subdir : str
        Sub-folder of :func:`cache_dir`.
    offline : bool, optional
        Never touch the network (default: ``ASTROGRAPH_OFFLINE``).
    progress : bool
        Show a tqdm progress bar.
    retries : int
        Extra attempts after a dropped connection; each resumes the partial file.

    Raises
    ------
    astrograph.errors.OfflineError, astrograph.errors.ChecksumError,
    astrograph.errors.DownloadError
    """
    name = filename or Path(urllib.parse.urlparse(url).path).name
    if not name:
        raise InputError(f"cannot infer a file name from {url!r}; pass filename=")
    folder = cache_dir() / subdir
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if target.exists():
        _verify(target, sha256)
        return target
    if _offline(offline):
        raise OfflineError(f"offline mode: {name} is not in the cache {folder} (source {url})")
    part = target.with_name(name + ".part")
    last: Exception | None = None
    for attempt in range(retries + 1):
        try:
            _download_once(url, part, timeout, progress)
            break
        except urllib.error.HTTPError as exc:
            raise DownloadError(f"HTTP {exc.code} fetching {url}: {exc.reason}") from exc
        except (OSError, http.client.HTTPException) as exc:
            last = exc
            time.sleep(min(0.2 * 2**attempt, 5.0))
    else:
        raise DownloadError(
            f"failed to fetch {url} after {retries + 1} attempts ({last!r}); "
            f"{part.stat().st_size if part.exists() else 0} bytes kept in {part} for resuming"
        )
    part.replace(target)
    _verify(target, sha256)
    return target


def skyserver_sql(
    sql: str,
    *,
    url: str = SKYSERVER_URL,
    cache: bool = True,
    offline: bool | None = None,
    timeout: float = 300.0,
) -> pd.DataFrame:
    """Run an SQL query on SDSS SkyServer and return the result as a table.

    Results are cached under ``cache_dir()/skyserver`` keyed by the sha256 of
    the query text and URL, so re-running a notebook is offline-safe.

    Examples
    --------
    >>> df = skyserver_sql(PHOTOZ_QUERY.format(top=1000))  # doctest: +SKIP
    """
    if not sql.strip():
        raise InputError("sql is empty")
    key = hashlib.sha256(f"{url}\n{sql}".encode()).hexdigest()[:32]
    query = urllib.parse.urlencode({"cmd": sql, "format": "csv"})
    sep = "&" if "?" in url else "?"
    if cache:
        path = fetch_file(
            f"{url}{sep}{query}", f"{key}.csv", subdir="skyserver", offline=offline,
            progress=False, timeout=timeout,
        )  # fmt: skip
        text = path.read_text()
    else:
        if _offline(offline):
            raise OfflineError("offline mode: skyserver_sql(cache=False) needs the network")
        with urllib.request.urlopen(f"{url}{sep}{query}", timeout=timeout) as resp:
            text = resp.read().decode()
    # SkyServer CSV starts with a "#Table1" line; errors come back as HTML / text.
    lines = [ln for ln in text.splitlines() if not ln.startswith("#Table")]
    if not lines or "error" in lines[0].lower() or lines[0].lstrip().startswith("<"):
        raise DownloadError(f"SkyServer returned an error: {text[:300]!r}")
    return pd.read_csv(io.StringIO("\n".join(lines)))


def fetch_galaxy10(
    *, url: str = GALAXY10_URL, sha256: str | None = None, offline: bool | None = None
) -> Path:
    """Download Galaxy10 SDSS (``Galaxy10.h5``, ~200 MB, from Zenodo).

    Read it with :func:`astrograph.ml.datasets.load_galaxy10_h5`. The checksum is
    not pinned by default (the file on Zenodo can be re-uploaded); pass
    ``sha256`` to enforce one.
    """
    return fetch_file(url, "Galaxy10.h5", sha256, subdir="galaxy10", offline=offline)


def fetch_boss_dr12(
    kind: str = "galaxy",
    cap: str = "North",
    sample: str = "CMASSLOWZTOT",
    *,
    random_index: int = 0,
    base_url: str = BOSS_DR12_URL,
    sha256: str | None = None,
    offline: bool | None = None,
) -> Path:
    """Download a BOSS DR12 large-scale-structure catalogue (FITS, gzipped).

    Parameters
    ----------
    kind : {"galaxy", "random"}
    cap : {"North", "South"}
    sample : {"CMASSLOWZTOT", "CMASS", "LOWZ"}
    random_index : {0, 1}
        Which of the two random catalogues (``random0`` / ``random1``).
    base_url : str
        SAS folder holding the files (override to use a mirror).
    """
    if kind not in ("galaxy", "random"):
        raise InputError(f"kind must be 'galaxy' or 'random', got {kind!r}")
    if cap not in ("North", "South"):
        raise InputError(f"cap must be 'North' or 'South', got {cap!r}")
    if sample not in ("CMASSLOWZTOT", "CMASS", "LOWZ"):
        raise InputError(f"unknown sample {sample!r}")
    prefix = "galaxy" if kind == "galaxy" else f"random{int(random_index)}"
    name = f"{prefix}_DR12v5_{sample}_{cap}.fits.gz"
    return fetch_file(
        base_url.rstrip("/") + "/" + name, name, sha256, subdir="boss_dr12", offline=offline
    )
