"""Survey footprints on the sky and random catalogues that follow them.

A :class:`Footprint` is a region of the sky given as

* RA/Dec rectangles (their union), optionally less rectangular holes;
* a polygon with vertices in (RA, Dec), optionally less rectangular holes;
* a HEALPix mask (with ``healpy`` or ``hpgeom``, whichever is installed;
  neither is a dependency of astrograph), optionally less rectangular holes.

:func:`sky_randoms` draws random points uniformly on the sphere inside a
footprint (uniform in RA and in sin Dec) and gives them redshifts drawn from
the data's n(z) smoothed by a Gaussian kernel (:func:`smoothed_nz`). The
smoothing matters: in a thin survey a rich group or a wall is a large part of
all the galaxies at its redshift, and randoms that copy the raw redshifts copy
that clustering along the line of sight and bias the correlation function low.

Conventions: angles in degrees; RA is taken modulo 360; Dec in [-90, 90].
A rectangle (ra_min, ra_max, dec_min, dec_max) holds ra_min <= RA < ra_max
(modulo 360: (350, 370) and (-10, 10) both cross RA = 0) and
dec_min <= Dec <= dec_max.

Examples
--------
The SDSS DR7 stripe of the data README, less the uncovered south-west part and
the gap at RA ~ 153 deg, with randoms whose redshifts follow a smoothed n(z):

>>> import numpy as np
>>> from astrograph.clustering.footprint import Footprint, sky_randoms
>>> fp = Footprint(
...     [(145.0, 190.5, -0.85, 2.0), (171.5, 190.5, -2.0, -0.85)],
...     holes=[(152.8, 153.35, -2.0, 2.0)],
... )
>>> round(fp.area, 1)
149.9
>>> z = np.random.default_rng(1).uniform(0.02, 0.12, 1000)
>>> ra, dec, zr = sky_randoms(5000, fp, z, sigma_z=0.01, zmin=0.02, zmax=0.12, seed=2)
>>> bool(fp.contains(ra, dec).all()), bool(((zr >= 0.02) & (zr <= 0.12)).all())
(True, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError

#: Default Gaussian width (in redshift) of the n(z) smoothing of :func:`sky_randoms`:
#: about 30 h^-1 Mpc along the line of sight at z < 0.2, wider than groups and
#: walls, narrower than the features of a magnitude-limited n(z).
DEFAULT_SIGMA_Z = 0.01
#: Fewest histogram bins per sigma_z in :func:`smoothed_nz`.
BINS_PER_SIGMA = 5
#: Most histogram bins in :func:`smoothed_nz`.
MAX_NZ_BINS = 200_000
#: Candidates drawn at once when sampling a footprint.
MAX_BATCH = 1 << 22
#: Uniform points used to estimate an area that has no closed form.
AREA_SAMPLES = 1_000_000

SQDEG_PER_SR = (180.0 / np.pi) ** 2


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _count(n: Any, what: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise InputError(f"{what} must be a positive integer, got {n!r}")
    if n <= 0:
        raise InputError(f"{what} must be a positive integer, got {n}")
    return int(n)


def _check_dec(dec: np.ndarray, what: str) -> None:
    bad = np.flatnonzero(np.abs(dec) > 90.0)
    if bad.size:
        raise InputError(f"{what}: Dec must lie in [-90, 90] degrees, got {dec.flat[bad[0]]:.6g}")


def _rectangles(value: Any, what: str, allow_empty: bool) -> np.ndarray:
    """Rectangles as rows (ra0 in [0, 360), width in (0, 360], dec_min, dec_max)."""
    try:
        a = np.asarray(value, dtype=np.float64) if value is not None else np.zeros((0, 4))
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"{what} must be rectangles (ra_min, ra_max, dec_min, dec_max) of numbers: {exc}"
        ) from None
    if a.ndim == 1 and a.size in (0, 4):
        a = a.reshape(-1, 4)
    if a.ndim != 2 or a.shape[1] != 4:
        raise InputError(
            f"{what} must be rectangles (ra_min, ra_max, dec_min, dec_max) in degrees: "
            f"one 4-tuple or a list of them; got shape {np.shape(value)}"
        )
    if len(a) == 0 and not allow_empty:
        raise InputError(f"{what}: give at least one rectangle")
    if not np.isfinite(a).all():
        raise InputError(f"{what} contain NaN or inf")
    for i, (ra1, ra2, d1, d2) in enumerate(a):
        if not ra1 < ra2:
            raise InputError(
                f"{what}[{i}]: ra_min ({ra1:g}) must be smaller than ra_max ({ra2:g}); "
                "to cross RA = 0 use e.g. (350, 370) or (-10, 10)"
            )
        if ra2 - ra1 > 360.0:
            raise InputError(
                f"{what}[{i}]: an RA range spans at most 360 degrees, got {ra2 - ra1:g}"
            )
        _check_dec(np.array([d1, d2]), f"{what}[{i}]")
        if not d1 < d2:
            raise InputError(f"{what}[{i}]: dec_min ({d1:g}) must be smaller than dec_max ({d2:g})")
    out = a.copy()
    out[:, 0] = np.mod(a[:, 0], 360.0)
    out[:, 1] = a[:, 1] - a[:, 0]
    return out


def _in_rectangles(ra: np.ndarray, dec: np.ndarray, rects: np.ndarray) -> np.ndarray:
    """How many of the rectangles hold each point (int array)."""
    n = np.zeros(ra.shape, dtype=np.int64)
    for ra0, width, d1, d2 in rects:
        n += (np.mod(ra - ra0, 360.0) < width) & (dec >= d1) & (dec <= d2)
    return n


def _pieces(rects: np.ndarray) -> np.ndarray:
    """Rectangles cut at RA = 360 into pieces within [0, 360], in (RA, sin Dec)."""
    out = []
    for ra0, width, d1, d2 in rects:
        s1, s2 = np.sin(np.radians(d1)), np.sin(np.radians(d2))
        end = ra0 + width
        out.append((ra0, min(end, 360.0), s1, s2))
        if end > 360.0:
            out.append((0.0, end - 360.0, s1, s2))
    return np.array(out, dtype=np.float64).reshape(-1, 4)


def _union_area(include: np.ndarray, holes: np.ndarray) -> float:
    """Exact area (deg^2) of the union of ``include`` less the union of ``holes``:
    (RA, sin Dec) is an equal-area map, so it is the planar area of the cells of
    the grid of all edges that lie in an included rectangle and in no hole."""
    inc, hol = _pieces(include), _pieces(holes)
    both = np.concatenate([inc, hol])
    xs = np.unique(np.concatenate([both[:, 0], both[:, 1]]))
    ys = np.unique(np.concatenate([both[:, 2], both[:, 3]]))
    xc, yc = 0.5 * (xs[1:] + xs[:-1]), 0.5 * (ys[1:] + ys[:-1])
    gx, gy = np.meshgrid(xc, yc, indexing="ij")

    def inside(p: np.ndarray) -> np.ndarray:
        m = np.zeros(gx.shape, dtype=bool)
        for x1, x2, y1, y2 in p:
            m |= (gx > x1) & (gx < x2) & (gy > y1) & (gy < y2)
        return m

    cells = inside(inc) & ~inside(hol)
    dxy = np.outer(np.radians(np.diff(xs)), np.diff(ys))
    return float((dxy * cells).sum() * SQDEG_PER_SR)


def _arc(ra: np.ndarray) -> tuple[float, float]:
    """The shortest RA arc (start, width) holding every angle of ``ra``."""
    r = np.sort(np.mod(ra, 360.0))
    gaps = np.diff(np.concatenate([r, [r[0] + 360.0]]))
    i = int(np.argmax(gaps))
    return float(r[(i + 1) % len(r)]), float(360.0 - gaps[i])


def _healpix_backend() -> tuple[str, Any]:
    """healpy or hpgeom, whichever imports (healpy first)."""
    try:
        import healpy  # lazy: optional, not a dependency of astrograph

        return "healpy", healpy
    except ImportError:
        pass
    try:
        import hpgeom  # lazy: optional, not a dependency of astrograph

        return "hpgeom", hpgeom
    except ImportError:
        pass
    raise InputError(
        "a HEALPix footprint needs healpy or hpgeom, and neither is installed: "
        "`pip install healpy` (or the lighter `pip install hpgeom`)"
    )


class Footprint:
    """A region of the sky: RA/Dec rectangles, a polygon or a HEALPix mask,
    less optional rectangular holes.

    Parameters
    ----------
    rectangles : (ra_min, ra_max, dec_min, dec_max) or a list of them, optional
        Rectangles in degrees whose union is the footprint (they may overlap).
        A rectangle holds ra_min <= RA < ra_max modulo 360 (ra_max - ra_min
        at most 360; (350, 370) or (-10, 10) cross RA = 0) and dec_min <= Dec
        <= dec_max.
    holes : rectangles, optional
        Rectangles taken out of the footprint (any kind of footprint).
    polygon : array_like, shape (nvertices, 2), optional
        Vertices (RA, Dec) in degrees, in order (either sense), at least 3.
        Edges are straight lines in the (RA, Dec) plane (a point is inside by
        the even-odd rule), which is what "simple point-in-polygon" means here.
        Limitations: an edge is not a great circle (for a patch a few degrees
        across away from the poles the two differ by a small fraction of a
        degree; an edge of constant Dec is exact), the polygon cannot go round
        a pole (its vertices must span less than 360 degrees of RA), each edge
        spans less than 180 degrees of RA (RA is unwrapped from one vertex to
        the next along the shorter way), and self-intersections are not
        checked.
    healpix : array_like, shape (12 nside^2,), optional
        A HEALPix map; pixels whose value is > 0 (or True) are in the
        footprint. Needs ``healpy`` or ``hpgeom`` (imported when used; an
        :class:`~astrograph.errors.InputError` says which to install).
    nest : bool
        NESTED pixel ordering of ``healpix`` (default: RING, healpy's default).

    Attributes
    ----------
    area : float
        Solid angle in square degrees: exact for rectangles with holes and
        for a polygon or HEALPix mask without holes; with holes those two are
        estimated from 10^6 uniform points (relative error ~1e-3 / sqrt(fraction kept)).

    Raises
    ------
    InputError
        Not exactly one of ``rectangles``, ``polygon`` and ``healpix``; bad
        ranges (ra_min >= ra_max, dec_min >= dec_max, Dec outside [-90, 90],
        NaN); a polygon round a pole; a mask of a length that is not
        12 nside^2; or an empty footprint (zero area, e.g. holes that cover it).

    Examples
    --------
    >>> from astrograph.clustering.footprint import Footprint
    >>> fp = Footprint([(0.0, 10.0, -5.0, 5.0)], holes=[(4.0, 6.0, -1.0, 1.0)])
    >>> fp.contains([1.0, 5.0, 5.0], [0.0, 0.0, 3.0]).tolist()
    [True, False, True]
    >>> ra, dec = fp.sample(1000, seed=1)
    >>> bool(fp.contains(ra, dec).all())
    True
    >>> tri = Footprint(polygon=[(359.0, -1.0), (2.0, -1.0), (0.5, 2.0)])  # crosses RA = 0
    >>> round(tri.area, 3)
    4.5
    """

    def __init__(
        self,
        rectangles: Any = None,
        *,
        holes: Any = None,
        polygon: Any = None,
        healpix: Any = None,
        nest: bool = False,
    ) -> None:
        kinds = {"rectangles": rectangles, "polygon": polygon, "healpix": healpix}
        given = [k for k, v in kinds.items() if v is not None]
        if len(given) != 1:
            raise InputError(
                "give the footprint as exactly one of rectangles, polygon= or healpix=, "
                f"got {given or 'none'}"
            )
        self.kind: str = given[0]
        self.holes: np.ndarray = _rectangles(holes, "holes", allow_empty=True)
        self._rects = np.zeros((0, 4))
        self._poly = np.zeros((0, 2))
        self._hp: tuple[str, Any, int, np.ndarray, bool] | None = None
        area: float | None = None
        if self.kind == "rectangles":
            self._rects = _rectangles(rectangles, "rectangles", allow_empty=False)
            # proposals: each rectangle, chosen in proportion to its area
            boxes = [(r[0], r[1], r[2], r[3]) for r in self._rects]
            area = _union_area(self._rects, self.holes)
        elif self.kind == "polygon":
            self._poly = self._polygon(polygon)
            lo, hi = self._poly.min(axis=0), self._poly.max(axis=0)
            boxes = [(lo[0] % 360.0, hi[0] - lo[0], lo[1], hi[1])]
            if len(self.holes) == 0:
                area = self._polygon_area()
        else:
            boxes = [self._healpix(healpix, nest)]
            if len(self.holes) == 0:
                assert self._hp is not None
                _, _, nside, mask, _ = self._hp
                area = float(mask.sum() * 4.0 * np.pi / (12 * nside**2) * SQDEG_PER_SR)
        self._boxes = np.array(boxes, dtype=np.float64).reshape(-1, 4)
        s1, s2 = np.sin(np.radians(self._boxes[:, 2])), np.sin(np.radians(self._boxes[:, 3]))
        self._box_sr = np.radians(self._boxes[:, 1]) * (s2 - s1)
        if area is None:
            ra, dec = self._propose(AREA_SAMPLES, np.random.default_rng(12345))
            kept = self._accept(ra, dec, np.random.default_rng(54321)).mean()
            area = float(kept * self._box_sr.sum() * SQDEG_PER_SR)
        self.area: float = area
        if not self.area > 0:
            raise InputError(
                f"the footprint is empty (its {self.kind} less {len(self.holes)} hole(s) "
                "have zero area)"
            )

    # -- construction ---------------------------------------------------------------------
    @staticmethod
    def _polygon(polygon: Any) -> np.ndarray:
        try:
            v = np.asarray(polygon, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError(f"polygon must be (RA, Dec) pairs of numbers: {exc}") from None
        if v.ndim != 2 or v.shape[1] != 2 or len(v) < 3:
            raise InputError(
                f"polygon must be an (nvertices >= 3, 2) array of (RA, Dec) in degrees, got shape {v.shape}"
            )
        if not np.isfinite(v).all():
            raise InputError("polygon vertices contain NaN or inf")
        _check_dec(v[:, 1], "polygon")
        step = np.mod(np.diff(v[:, 0]) + 180.0, 360.0) - 180.0
        ra = np.concatenate([[np.mod(v[0, 0], 360.0)], np.mod(v[0, 0], 360.0) + np.cumsum(step)])
        close = np.mod(v[0, 0] - v[-1, 0] + 180.0, 360.0) - 180.0
        if abs(ra[-1] + close - ra[0]) > 180.0 or ra.max() - ra.min() >= 360.0:
            raise InputError(
                "the polygon goes round a pole (its RA winds through 360 degrees); "
                "polygons must not contain a pole: use rectangles or a HEALPix mask"
            )
        return np.column_stack([ra, v[:, 1]])

    def _polygon_area(self) -> float:
        """Exact area of the (RA, Dec)-straight-edged polygon: Green's theorem
        on cos(Dec) dRA dDec, i.e. the integral of sin(Dec) dRA along the edges."""
        ra, dec = np.radians(self._poly[:, 0]), np.radians(self._poly[:, 1])
        ra2, dec2 = np.roll(ra, -1), np.roll(dec, -1)
        dd = dec2 - dec
        small = np.abs(dd) < 1e-12
        mean_sin = np.where(
            small, np.sin(0.5 * (dec + dec2)), (np.cos(dec) - np.cos(dec2)) / np.where(small, 1, dd)
        )
        return float(abs(np.sum((ra2 - ra) * mean_sin)) * SQDEG_PER_SR)

    def _healpix(self, healpix: Any, nest: bool) -> tuple[float, float, float, float]:
        m = np.asarray(healpix)
        if m.ndim != 1 or m.dtype.kind not in "biuf":
            raise InputError(
                f"healpix must be a 1-D numeric or boolean map, got {m.dtype} {m.shape}"
            )
        npix = len(m)
        nside = int(round(np.sqrt(npix / 12.0)))
        if nside < 1 or 12 * nside**2 != npix:
            raise InputError(f"a HEALPix map has 12 nside^2 pixels; {npix} is not such a number")
        if nest and nside & (nside - 1):
            raise InputError(f"NESTED ordering needs nside a power of 2, got nside = {nside}")
        if m.dtype.kind == "f" and not np.isfinite(m).all():
            raise InputError("healpix map contains NaN or inf (use 0 outside the footprint)")
        mask = m > 0
        name, mod = _healpix_backend()
        self._hp = (name, mod, nside, mask, bool(nest))
        pix = np.flatnonzero(mask)
        if pix.size == 0:
            raise InputError("the footprint is empty: no HEALPix pixel of the mask is > 0")
        if name == "healpy":
            ra, dec = mod.pix2ang(nside, pix, nest=nest, lonlat=True)
            rad = float(np.degrees(mod.max_pixrad(nside)))
        else:
            ra, dec = mod.pixel_to_angle(nside, pix, nest=nest, lonlat=True, degrees=True)
            rad = float(mod.max_pixel_radius(nside, degrees=True))
        rad *= 1.01  # margin: the box must hold every pixel whole
        d1, d2 = max(float(dec.min()) - rad, -90.0), min(float(dec.max()) + rad, 90.0)
        ra0, width = _arc(np.asarray(ra))
        cmax = np.cos(np.radians(float(np.abs(dec).max())))
        sr = np.sin(np.radians(min(rad, 90.0)))
        if d1 <= -90.0 or d2 >= 90.0 or sr >= cmax:
            return 0.0, 360.0, d1, d2
        pad = float(np.degrees(np.arcsin(sr / cmax)))
        if width + 2 * pad >= 360.0:
            return 0.0, 360.0, d1, d2
        return (ra0 - pad) % 360.0, width + 2 * pad, d1, d2

    # -- queries --------------------------------------------------------------------------
    def contains(self, ra: Any, dec: Any) -> np.ndarray:
        """Whether each (RA, Dec) in degrees is in the footprint (boolean array)."""
        ra = np.asarray(ra, dtype=np.float64)
        dec = np.asarray(dec, dtype=np.float64)
        if ra.shape != dec.shape:
            raise InputError(f"ra and dec must have one shape, got {ra.shape} and {dec.shape}")
        if not (np.isfinite(ra).all() and np.isfinite(dec).all()):
            raise InputError("ra and dec must be finite")
        _check_dec(dec, "contains")
        return self._base(ra, dec) & (_in_rectangles(ra, dec, self.holes) == 0)

    def _base(self, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
        if self.kind == "rectangles":
            return _in_rectangles(ra, dec, self._rects) > 0
        if self.kind == "polygon":
            return self._in_polygon(ra, dec)
        assert self._hp is not None
        name, mod, nside, mask, nest = self._hp
        if name == "healpy":
            pix = mod.ang2pix(nside, ra.ravel(), dec.ravel(), nest=nest, lonlat=True)
        else:
            pix = mod.angle_to_pixel(
                nside, ra.ravel(), dec.ravel(), nest=nest, lonlat=True, degrees=True
            )
        return mask[np.asarray(pix, dtype=np.int64)].reshape(ra.shape)

    def _in_polygon(self, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
        x0 = self._poly[:, 0].min()
        x = x0 + np.mod(ra - x0, 360.0)
        inside = np.zeros(ra.shape, dtype=bool)
        px, py = self._poly[:, 0], self._poly[:, 1]
        qx, qy = np.roll(px, -1), np.roll(py, -1)
        for x1, y1, x2, y2 in zip(px, py, qx, qy, strict=True):
            if y1 == y2:
                continue
            crosses = (y1 > dec) != (y2 > dec)
            xcross = x1 + (dec - y1) * (x2 - x1) / (y2 - y1)
            inside ^= crosses & (x < xcross)
        return inside

    # -- sampling -------------------------------------------------------------------------
    def _propose(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` points uniform on the union (with multiplicity) of the proposal boxes."""
        b = self._boxes
        i = (
            rng.choice(len(b), n, p=self._box_sr / self._box_sr.sum())
            if len(b) > 1
            else np.zeros(n, int)
        )
        ra = np.mod(b[i, 0] + rng.uniform(size=n) * b[i, 1], 360.0)
        s1, s2 = np.sin(np.radians(b[i, 2])), np.sin(np.radians(b[i, 3]))
        dec = np.degrees(np.arcsin(np.clip(s1 + rng.uniform(size=n) * (s2 - s1), -1.0, 1.0)))
        return ra, dec

    def _accept(self, ra: np.ndarray, dec: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Which proposals to keep: inside, and for overlapping rectangles with
        probability 1 / (number of rectangles holding the point)."""
        if self.kind == "rectangles":
            k = _in_rectangles(ra, dec, self._rects)
            keep = (k > 0) & (rng.uniform(size=len(ra)) * np.maximum(k, 1) < 1.0)
        else:
            keep = self._base(ra, dec)
        return keep & (_in_rectangles(ra, dec, self.holes) == 0)

    def sample(
        self, n: int, *, seed: int | np.random.Generator | None = 0
    ) -> tuple[np.ndarray, np.ndarray]:
        """``n`` points (RA in [0, 360), Dec) uniform on the sphere inside the
        footprint: uniform in RA and sin Dec, by rejection from boxes that hold
        it. Reproducible for a given seed."""
        n = _count(n)
        rng = _rng(seed)
        frac = self.area / (self._box_sr.sum() * SQDEG_PER_SR)
        ras, decs, got = [], [], 0
        while got < n:
            m = min(MAX_BATCH, int(1.1 * (n - got) / frac) + 64)
            ra, dec = self._propose(m, rng)
            keep = self._accept(ra, dec, rng)
            ras.append(ra[keep])
            decs.append(dec[keep])
            got += int(keep.sum())
        return np.concatenate(ras)[:n], np.concatenate(decs)[:n]

    def __repr__(self) -> str:
        what = {
            "rectangles": f"{len(self._rects)} rectangle(s)",
            "polygon": f"a polygon of {len(self._poly)} vertices",
            "healpix": "a HEALPix mask",
        }[self.kind]
        return f"Footprint({what}, {len(self.holes)} hole(s), {self.area:.6g} deg^2)"


def _redshifts(z: Any, zmin: float | None, zmax: float | None) -> tuple[np.ndarray, float, float]:
    zz = np.asarray(z, dtype=np.float64).ravel()
    if zz.size == 0:
        raise InputError("the data redshifts are empty")
    if not np.isfinite(zz).all():
        raise InputError("the data redshifts contain NaN or inf")
    lo = float(zz.min()) if zmin is None else float(zmin)
    hi = float(zz.max()) if zmax is None else float(zmax)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise InputError(f"zmin and zmax must be finite, got {zmin!r}, {zmax!r}")
    if not lo < hi:
        raise InputError(
            f"zmin ({lo:g}) must be smaller than zmax ({hi:g})"
            + ("" if zmin is not None and zmax is not None else "; give zmin and zmax")
        )
    zz = zz[(zz >= lo) & (zz <= hi)]
    if zz.size == 0:
        raise InputError(f"no data redshift lies in [zmin, zmax] = [{lo:g}, {hi:g}]")
    return zz, lo, hi


def _sigma(sigma_z: Any) -> float:
    s = float(sigma_z)
    if not (np.isfinite(s) and s >= 0):
        raise InputError(f"sigma_z must be a finite width >= 0, got {sigma_z!r}")
    return s


def smoothed_nz(
    z: Any,
    *,
    sigma_z: float = DEFAULT_SIGMA_Z,
    zmin: float | None = None,
    zmax: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The n(z) of the data smoothed by a Gaussian kernel, as a normalised histogram.

    The redshifts in [zmin, zmax] are binned in bins of width at most
    sigma_z / 5 that tile [zmin, zmax] exactly, the histogram is mirrored at
    both edges (so that a sample cut at zmin keeps its density up to zmin
    instead of falling to half of it) and convolved with a Gaussian of width
    ``sigma_z``.

    Parameters
    ----------
    z : array_like
        Data redshifts.
    sigma_z : float
        Gaussian width, > 0 (default :data:`DEFAULT_SIGMA_Z` = 0.01).
    zmin, zmax : float, optional
        The range of the n(z); data outside are ignored. Default: the data's
        smallest and largest redshift.

    Returns
    -------
    edges : ndarray, shape (nbins + 1,)
    pdf : ndarray, shape (nbins,)
        Probability density (integrates to 1 over [zmin, zmax]).

    Examples
    --------
    >>> import numpy as np
    >>> from astrograph.clustering.footprint import smoothed_nz
    >>> z = np.random.default_rng(0).uniform(0.1, 0.3, 5000)
    >>> edges, pdf = smoothed_nz(z, sigma_z=0.01, zmin=0.1, zmax=0.3)
    >>> round(float(np.sum(pdf * np.diff(edges))), 12)
    1.0
    >>> bool(np.all(np.abs(pdf - 5.0) < 1.0))  # flat at 1 / 0.2, edges included
    True
    """
    zz, lo, hi = _redshifts(z, zmin, zmax)
    sigma = _sigma(sigma_z)
    if sigma == 0:
        raise InputError("smoothed_nz needs sigma_z > 0")
    nbins = int(min(MAX_NZ_BINS, max(1, np.ceil((hi - lo) / sigma * BINS_PER_SIGMA))))
    edges = np.linspace(lo, hi, nbins + 1)
    h = (hi - lo) / nbins
    counts, _ = np.histogram(zz, edges)
    half = int(np.ceil(5.0 * sigma / h))
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) * h / sigma) ** 2)
    padded = np.pad(counts.astype(np.float64), half, mode="symmetric")
    smooth = np.convolve(padded, kernel / kernel.sum(), mode="valid")
    return edges, smooth / (smooth.sum() * h)


def sky_randoms(
    n: int,
    footprint: Footprint | Any,
    z: Any,
    *,
    sigma_z: float = DEFAULT_SIGMA_Z,
    zmin: float | None = None,
    zmax: float | None = None,
    seed: int | np.random.Generator | None = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A random catalogue for a survey: sky positions uniform inside a
    footprint, redshifts from the data's smoothed n(z).

    Parameters
    ----------
    n : int
        Number of random points (> 0); a few to tens of times the galaxies.
    footprint : Footprint or rectangles
        Where the survey has coverage: a :class:`Footprint` or, as a shortcut,
        its ``rectangles`` ((ra_min, ra_max, dec_min, dec_max) in degrees, or
        a list of them).
    z : array_like
        The data redshifts whose n(z) the randoms follow.
    sigma_z : float
        Width of the Gaussian smoothing of the n(z) (:func:`smoothed_nz`);
        default :data:`DEFAULT_SIGMA_Z` = 0.01, about 30 h^-1 Mpc along the
        line of sight at low redshift. Choose it wider than the structures
        along the line of sight and narrower than the features of the
        selection. ``sigma_z=0`` draws the data's own redshifts (which copies
        their clustering along the line of sight: not recommended).
    zmin, zmax : float, optional
        Redshift range of the randoms (data outside it are ignored); the
        smoothed n(z) is mirrored at these edges. Default: the data's range.
    seed : int or numpy Generator, optional
        For reproducible catalogues (positions first, then redshifts).

    Returns
    -------
    ra, dec, z : ndarray, shape (n,)
        RA in [0, 360) and Dec in degrees, redshifts in [zmin, zmax].

    Raises
    ------
    InputError
        ``n`` not a positive integer, a bad or empty footprint, no data
        redshift in [zmin, zmax], zmin >= zmax or sigma_z < 0.

    Examples
    --------
    >>> import numpy as np
    >>> from astrograph.clustering.footprint import sky_randoms
    >>> z = np.random.default_rng(0).normal(0.1, 0.03, 2000)
    >>> ra, dec, zr = sky_randoms(10_000, (140.0, 150.0, -2.0, 2.0), z, zmin=0.02, zmax=0.2)
    >>> ra.shape, bool(ra.min() >= 140.0 and ra.max() < 150.0)
    ((10000,), True)
    >>> bool(abs(np.mean(zr) - np.mean(z[(z >= 0.02) & (z <= 0.2)])) < 0.002)
    True
    """
    n = _count(n)
    fp = footprint if isinstance(footprint, Footprint) else Footprint(footprint)
    sigma = _sigma(sigma_z)
    zz, lo, hi = _redshifts(z, zmin, zmax)  # checked before any sampling
    rng = _rng(seed)
    ra, dec = fp.sample(n, seed=rng)
    if sigma == 0:
        return ra, dec, rng.choice(zz, n)
    edges, pdf = smoothed_nz(zz, sigma_z=sigma, zmin=lo, zmax=hi)
    cdf = np.cumsum(pdf * np.diff(edges))
    i = np.minimum(np.searchsorted(cdf, rng.uniform(size=n) * cdf[-1], side="right"), len(pdf) - 1)
    zr = edges[i] + rng.uniform(size=n) * (edges[i + 1] - edges[i])
    return ra, dec, np.clip(zr, lo, hi)


__all__ = ["DEFAULT_SIGMA_Z", "Footprint", "sky_randoms", "smoothed_nz"]
