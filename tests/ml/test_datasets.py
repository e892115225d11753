"""Readers on ../shared/data, and the downloaders against a local HTTP server.

The server runs on 127.0.0.1 (port chosen by the OS) in a thread and serves
``../shared/data`` plus a corrupted copy of a file; one path drops the
connection half-way through the body on its first request so that the
resumable (HTTP Range) code path is exercised. Nothing leaves the machine.
"""

from __future__ import annotations

import hashlib
import http.server
import shutil
import threading
import urllib.parse
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")

from astrograph.errors import ChecksumError, DownloadError, OfflineError  # noqa: E402
from astrograph.ml.datasets import (  # noqa: E402
    cache_dir,
    fetch_boss_dr12,
    fetch_file,
    load_galaxy_zoo_features,
    load_sdss_dr14_classes,
    load_sdss_mgs_photoz,
    skyserver_sql,
)
from astrograph.ml.datasets.download import PHOTOZ_QUERY  # noqa: E402

TRAIN_SHA = "f16579e52e5bdafcb7afda2e98353d671cc446216b73068a16d7558ab0e09c04"
CSV_SHA = "3194c88b7be7d61983c36c50433428676f1e745b1c0f16904bfb554f2b013f66"


# ---------------------------------------------------------------- readers
def test_mgs_reader_uses_true_column_order(shared_data):
    tr = load_sdss_mgs_photoz(shared_data, "train")
    te = load_sdss_mgs_photoz(shared_data / "sdss_mgs_photoz" / "SDSS_MGS.test")
    assert tr.mags.shape == te.mags.shape == (5000, 5)
    assert 0.003 < tr.z_spec.min() and tr.z_spec.max() < 0.277
    r = tr.mags[:, 2]
    assert 12.5 < r.min() and r.max() < 17.9
    # The file's header mislabels errors; with the right order eu > eg (u is the noisy band)
    # and the colour error eu-g is the quadrature sum of eu and eg.
    f = tr.frame
    assert np.median(f["eu"]) > 3 * np.median(f["eg"])
    np.testing.assert_allclose(f["eu-g"], np.hypot(f["eu"], f["eg"]), rtol=0.05, atol=2e-3)
    np.testing.assert_allclose(f["u-g"], f["u"] - f["g"], atol=1e-5)


def test_dr14_and_galaxy_zoo_readers(shared_data):
    dr = load_sdss_dr14_classes(shared_data)
    counts = dict(zip(*np.unique(dr.labels, return_counts=True), strict=True))
    assert counts == {"GALAXY": 4998, "STAR": 4152, "QSO": 850}
    gz = load_galaxy_zoo_features(shared_data / "galaxy_zoo_features")
    assert gz.features.shape == (780, 16) and len(gz.feature_names) == 16
    assert set(np.unique(gz.labels, return_counts=True)[1]) == {260}


def test_reader_errors(tmp_path, shared_data, monkeypatch):
    monkeypatch.delenv("ASTROGRAPH_DATA", raising=False)
    with pytest.raises(ValueError, match="ASTROGRAPH_DATA"):
        load_sdss_mgs_photoz()
    monkeypatch.setenv("ASTROGRAPH_DATA", str(shared_data))
    assert load_sdss_mgs_photoz(split="test").mags.shape == (5000, 5)
    with pytest.raises(FileNotFoundError, match="SDSS_MGS.train"):
        load_sdss_mgs_photoz(tmp_path)
    with pytest.raises(ValueError, match="split"):
        load_sdss_mgs_photoz(shared_data, "valid")
    bad = tmp_path / "SDSS_MGS.train"
    bad.write_text("# zs u g\n0.1 18 17\n")
    with pytest.raises(ValueError, match="has 3 columns; expected 19"):
        load_sdss_mgs_photoz(bad)
    csv = tmp_path / "skyserver_dr14_10k.csv"
    csv.write_text("u,g,r,i,z,class\n18,17,16,16,16,STAR\n18,17,16,16,16,COMET\n")
    with pytest.raises(ValueError, match=r"unknown class labels \['COMET'\]"):
        load_sdss_dr14_classes(csv)


# ---------------------------------------------------------------- local HTTP server
class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files with Range support; /drop/<path> cuts the first response short."""

    roots: dict[str, Path] = {}
    dropped: set[str] = set()
    requests: list[tuple[str, str | None]] = []

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):  # noqa: N802
        parsed = urllib.parse.urlparse(self.path)
        self.requests.append((parsed.path, self.headers.get("Range")))
        prefix, _, rest = parsed.path.lstrip("/").partition("/")
        if prefix == "skyserver":
            cmd = urllib.parse.parse_qs(parsed.query).get("cmd", [""])[0]
            body = (
                "#Table1\nobjid,ra,dec\n1,10.5,-1.25\n2,11.0,2.5\n"
                if "SELECT" in cmd
                else "ERROR: bad"
            ).encode()
            self._send(200, body, len(body))
            return
        root = self.roots.get("data" if prefix == "drop" else prefix)
        file = (root / rest) if root else None
        if file is None or not file.is_file():
            self.send_error(404)
            return
        data = file.read_bytes()
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
            if start >= len(data):
                self.send_error(416)
                return
        if prefix == "drop" and parsed.path not in self.dropped:
            self.dropped.add(parsed.path)
            # Promise the whole file, send half, hang up.
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self._send(206 if start else 200, data[start:], len(data), start)

    def _send(self, code, body, total, start=0):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        if code == 206:
            self.send_header("Content-Range", f"bytes {start}-{total - 1}/{total}")
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server(shared_data, tmp_path, monkeypatch):
    bad = tmp_path / "bad"
    bad.mkdir()
    corrupt = bytearray((shared_data / "sdss_mgs_photoz" / "SDSS_MGS.train").read_bytes())
    corrupt[1000] ^= 0xFF  # one flipped byte
    (bad / "SDSS_MGS.train").write_bytes(bytes(corrupt))
    boss = tmp_path / "boss"
    boss.mkdir()
    shutil.copy(
        shared_data / "galaxy_zoo_features" / "galaxy_catalogue.npy",
        boss / "galaxy_DR12v5_CMASSLOWZTOT_North.fits.gz",
    )
    _Handler.roots = {"data": shared_data, "bad": bad, "boss": boss}
    _Handler.dropped = set()
    _Handler.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("ASTROGRAPH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("ASTROGRAPH_OFFLINE", raising=False)
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_cache_dir_env(tmp_path, monkeypatch):
    monkeypatch.setenv("ASTROGRAPH_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c" and (tmp_path / "c").is_dir()


def test_fetch_verifies_and_reuses_cache(server, shared_data):
    url = f"{server}/data/sdss_mgs_photoz/SDSS_MGS.train"
    path = fetch_file(url, sha256=TRAIN_SHA, progress=False)
    assert path.parent == cache_dir()
    assert path.read_bytes() == (shared_data / "sdss_mgs_photoz" / "SDSS_MGS.train").read_bytes()
    n = len(_Handler.requests)
    again = fetch_file(url, sha256=TRAIN_SHA, progress=False)
    assert again == path and len(_Handler.requests) == n  # served from the cache
    assert load_sdss_mgs_photoz(path).mags.shape == (5000, 5)


def test_checksum_mismatch_raises(server):
    with pytest.raises(ChecksumError, match="sha256 mismatch for SDSS_MGS.train"):
        fetch_file(f"{server}/bad/SDSS_MGS.train", sha256=TRAIN_SHA, progress=False)
    assert not (cache_dir() / "SDSS_MGS.train").exists()  # the bad file is never returned
    assert (cache_dir() / "SDSS_MGS.train.corrupt").exists()


def test_dropped_connection_resumes_with_range(server, shared_data):
    url = f"{server}/drop/sdss_dr14_classes/skyserver_dr14_10k.csv"
    path = fetch_file(url, sha256=CSV_SHA, progress=False)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == CSV_SHA
    ranges = [r for p, r in _Handler.requests if p.startswith("/drop/")]
    size = (shared_data / "sdss_dr14_classes" / "skyserver_dr14_10k.csv").stat().st_size
    assert ranges == [None, f"bytes={size // 2}-"]  # second request resumed half-way
    assert not path.with_name(path.name + ".part").exists()


def test_gives_up_with_clear_error(server):
    with pytest.raises(DownloadError, match="HTTP 404"):
        fetch_file(f"{server}/data/nope.txt", progress=False)
    with pytest.raises(DownloadError, match="after 1 attempts"):
        fetch_file(
            f"{server}/drop/sdss_dr14_classes/skyserver_dr14_10k.csv", retries=0, progress=False
        )


def test_offline_mode_never_touches_network(server, monkeypatch):
    url = f"{server}/data/sdss_mgs_photoz/SDSS_MGS.test"
    with pytest.raises(OfflineError, match="offline mode"):
        fetch_file(url, offline=True, progress=False)
    monkeypatch.setenv("ASTROGRAPH_OFFLINE", "1")
    with pytest.raises(OfflineError):
        fetch_file(url, progress=False)
    with pytest.raises(OfflineError):
        skyserver_sql("SELECT TOP 1 ra FROM PhotoObj", url=f"{server}/skyserver")
    assert _Handler.requests == []
    monkeypatch.setenv("ASTROGRAPH_OFFLINE", "0")
    fetch_file(url, progress=False)
    monkeypatch.setenv("ASTROGRAPH_OFFLINE", "1")
    assert fetch_file(url, progress=False).is_file()  # cached copies still work offline


def test_skyserver_sql_table_and_cache(server):
    sky = f"{server}/skyserver"
    df = skyserver_sql("SELECT TOP 2 objid, ra, dec FROM PhotoObj", url=sky)
    assert list(df.columns) == ["objid", "ra", "dec"] and df["dec"].tolist() == [-1.25, 2.5]
    n = len(_Handler.requests)
    skyserver_sql("SELECT TOP 2 objid, ra, dec FROM PhotoObj", url=sky, offline=True)
    assert len(_Handler.requests) == n
    with pytest.raises(DownloadError, match="SkyServer returned an error"):
        skyserver_sql("bogus", url=sky)
    assert "modelMag_u" in PHOTOZ_QUERY.format(top=10) and "TOP 10" in PHOTOZ_QUERY.format(top=10)


def test_boss_dr12_names_and_mirror(server):
    path = fetch_boss_dr12("galaxy", "North", base_url=f"{server}/boss")
    assert (
        path.name == "galaxy_DR12v5_CMASSLOWZTOT_North.fits.gz" and path.parent.name == "boss_dr12"
    )
    with pytest.raises(ValueError, match="cap"):
        fetch_boss_dr12("galaxy", "East")
    with pytest.raises(OfflineError, match="random1_DR12v5_LOWZ_South.fits.gz"):
        fetch_boss_dr12("random", "South", "LOWZ", random_index=1, offline=True)
