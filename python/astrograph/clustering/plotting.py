"""Matplotlib figures for pair and N-point results (matplotlib is imported
only when a figure is made)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..errors import AstrographWarning, InputError


def _axes(ax: Any) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt  # lazy: only when a figure is drawn

        _, ax = plt.subplots(figsize=(5, 4))
    return ax


def _errors(result: Any, statistic: Any) -> Any:
    """Jackknife standard errors of a statistic when the result has regions
    (None without regions, or with a warning when they give no errors, as
    with the analytic randoms of a periodic box)."""
    regions = (
        getattr(result, "resampling", None) is not None
        or getattr(result, "jackknife", None) is not None
    )
    if not regions:
        return None
    try:
        return result.std(statistic)
    except InputError as exc:
        warnings.warn(f"no error bars: {exc}", AstrographWarning, stacklevel=3)
        return None


def _masked_errorbar(ax: Any, x: np.ndarray, y: Any, err: Any, fmt: str, **kwargs: Any) -> Any:
    """Points of a masked array (masked ones left out), with errors when given."""
    ok = ~np.ma.getmaskarray(y)
    yerr = None if err is None else np.asarray(err)[ok]
    return ax.errorbar(x[ok], np.ma.getdata(y)[ok], yerr=yerr, fmt=fmt, **kwargs)


def plot_pairs(pc: Any, kind: str = "xi", ax: Any = None, **kwargs: Any) -> Any:
    """xi(s), s^2 xi, multipoles, or xi(s, mu) as an image; with jackknife
    error bars when the counts carry regions."""
    ax = _axes(ax)
    s = pc.bins.centers
    if kind == "xi":
        xi = pc.xi_s()
        err = _errors(pc, "xi_s")
        ax.errorbar(s, np.where(xi > 0, xi, np.nan), yerr=err, fmt="o-", **kwargs)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylabel(r"$\xi(s)$")
    elif kind == "s2xi":
        err = _errors(pc, "xi_s")
        ax.errorbar(
            s, s**2 * pc.xi_s(), yerr=None if err is None else s**2 * err, fmt="o-", **kwargs
        )
        ax.set_ylabel(r"$s^2\xi(s)$")
    elif kind == "multipoles":
        ells = (0, 1, 2, 3, 4) if pc.bins.signed else (0, 2, 4)
        err = _errors(pc, lambda r: r.multipoles(ells))
        for k, (ell, m) in enumerate(zip(ells, pc.multipoles(ells), strict=True)):
            e = None if err is None else s**2 * err[k]
            ax.errorbar(s, s**2 * m, yerr=e, fmt="o-", label=rf"$\ell={ell}$", **kwargs)
        ax.set_ylabel(r"$s^2\xi_\ell(s)$")
        ax.legend()
    elif kind == "xi_smu":
        im = ax.pcolormesh(pc.bins.edges, pc.bins.mu_edges, pc.xi().T, shading="flat", **kwargs)
        ax.figure.colorbar(im, ax=ax, label=r"$\xi(s,\mu)$")
        ax.set_ylabel(r"$\mu$")
    else:
        raise InputError(f"unknown plot kind {kind!r}")
    ax.set_xlabel(r"$s$ [$h^{-1}$Mpc]")
    return ax


def plot_triangles(
    tc: Any, kind: str = "r1r2", ax: Any = None, b1: int = 0, b2: int | None = None, **kwargs: Any
) -> Any:
    """zeta(r1, r2, theta), zeta on equilateral / isosceles configurations, or Q
    (equilateral); with jackknife error bars when the counts carry regions."""
    ax = _axes(ax)
    c = tc.bins.centers
    if kind == "r1r2":
        b2 = b1 if b2 is None else b2
        _, theta, z = tc.zeta_r1r2(b1, b2)
        err = _errors(tc, lambda t: t.zeta_r1r2(b1, b2)[2])
        _masked_errorbar(ax, theta / np.pi, z, err, "o-", **kwargs)
        ax.set_xlabel(r"$\theta/\pi$")
        ax.set_ylabel(rf"$\zeta(r_1={c[b1]:.3g}, r_2={c[b2]:.3g}, \theta)$")
        return ax
    if kind == "equilateral":
        _masked_errorbar(ax, c, tc.equilateral(), _errors(tc, "equilateral"), "o-", **kwargs)
        ax.set_ylabel(r"$\zeta$ (equilateral)")
    elif kind == "isosceles":
        err = _errors(tc, lambda t: t.isosceles(b1))
        _masked_errorbar(ax, c, tc.isosceles(b1), err, "o-", **kwargs)
        ax.set_ylabel(rf"$\zeta(r, r={c[b1]:.3g})$ (isosceles)")
    elif kind == "q":
        i = np.arange(tc.nbins)
        err = _errors(tc, lambda t: t.q()[i, i, i])
        _masked_errorbar(ax, c, tc.q()[i, i, i], err, "o-", **kwargs)
        ax.set_ylabel(r"$Q$ (equilateral)")
    else:
        raise InputError(f"unknown plot kind {kind!r}")
    ax.set_xlabel(r"$r$ [$h^{-1}$Mpc]")
    return ax


def plot_quads(qc: Any, kind: str = "tetrahedra", ax: Any = None, **kwargs: Any) -> Any:
    """The 4-point function on regular tetrahedra (with randoms: eta and its
    connected part, with jackknife error bars when the counts carry regions;
    without: DDDD), or the counts of every shape."""
    ax = _axes(ax)
    if kind == "tetrahedra":
        t = qc.tetrahedra()
        r = qc.bins.centers[qc.shapes[t, 0].astype(int)]
        if qc.randoms is not None:
            eta, conn = qc.eta()[t], qc.connected()[t]
            e_eta = _errors(qc, lambda q: q.eta()[t])
            e_conn = _errors(qc, lambda q: q.connected()[t])
            _masked_errorbar(ax, r, eta, e_eta, "o-", label=r"$\eta$ (full)", **kwargs)
            _masked_errorbar(ax, r, conn, e_conn, "s--", label="connected", **kwargs)
            ax.set_ylabel("4-point function (regular tetrahedra)")
            ax.legend()
        else:
            ax.semilogy(r, qc.counts[0][t], "o-", **kwargs)
            ax.set_ylabel("DDDD (regular tetrahedra)")
        ax.set_xlabel(r"side $r$ [$h^{-1}$Mpc]")
    elif kind == "counts":
        for name, c in zip(("DDDD", "DDDR", "DDRR", "DRRR", "RRRR"), qc.counts, strict=True):
            if c.any():
                ax.semilogy(
                    np.arange(len(c)), np.where(c > 0, c, np.nan), ".", label=name, **kwargs
                )
        ax.set_xlabel("shape index")
        ax.set_ylabel("weighted quads")
        ax.legend()
    else:
        raise InputError(f"unknown plot kind {kind!r}")
    return ax


def plot_angular(ac: Any, kind: str = "wtheta", ax: Any = None, **kwargs: Any) -> Any:
    """w(theta) on log axes, with jackknife errors when counted with regions."""
    if kind != "wtheta":
        raise InputError(f"unknown plot kind {kind!r}: use 'wtheta'")
    ax = _axes(ax)
    e = ac.theta_edges
    theta = np.sqrt(e[1:] * e[:-1]) if e[0] > 0 else 0.5 * (e[1:] + e[:-1])
    w = ac.wtheta()
    err = _errors(ac, "wtheta")
    ax.errorbar(theta, w, yerr=err, fmt="o-", **kwargs)
    ax.set_xscale("log")
    if np.all(w[np.isfinite(w)] > 0):
        ax.set_yscale("log")
    ax.set_xlabel(r"$\theta$ [deg]")
    ax.set_ylabel(r"$w(\theta)$")
    return ax


def plot_projected(pc: Any, kind: str = "wp", ax: Any = None, **kwargs: Any) -> Any:
    """wp(rp) (with jackknife errors when the counts carry regions), or
    xi(rp, pi) as an image."""
    ax = _axes(ax)
    e = pc.rp_edges
    if kind == "wp":
        rp = np.sqrt(e[1:] * e[:-1])
        wp = pc.wp()
        err = _errors(pc, "wp")
        ax.errorbar(rp, wp, yerr=err, fmt="o-", **kwargs)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(r"$r_p$ [$h^{-1}$Mpc]")
        ax.set_ylabel(r"$w_p(r_p)$ [$h^{-1}$Mpc]")
    elif kind == "xi_rppi":
        im = ax.pcolormesh(e, pc.pi_edges, pc.xi().T, shading="flat", **kwargs)
        ax.figure.colorbar(im, ax=ax, label=r"$\xi(r_p, \pi)$")
        ax.set_xlabel(r"$r_p$ [$h^{-1}$Mpc]")
        ax.set_ylabel(r"$\pi$ [$h^{-1}$Mpc]")
    else:
        raise InputError(f"unknown plot kind {kind!r}")
    return ax


def plot_multipoles(
    tm: Any, kind: str = "r1r2", ell: int = 0, ax: Any = None, b1: int | None = None, **kwargs: Any
) -> Any:
    """r1 r2 zeta_ell(r1, r2) as the usual r1-r2 heat map, or its slices at
    fixed r1 (``b1``, default the middle bin) for ell = 0 and 1 (the BAO
    scale shows in both), with jackknife error bars when the multipoles were
    counted with regions."""
    ax = _axes(ax)
    c = tm.bins.centers
    z = tm.zeta()
    if not 0 <= ell <= tm.lmax:
        raise InputError(f"ell must be between 0 and lmax = {tm.lmax}, got {ell}")
    if kind == "r1r2":
        e = tm.bins.edges
        img = ax.pcolormesh(e, e, np.outer(c, c) * z[ell], shading="flat", **kwargs)
        ax.figure.colorbar(img, ax=ax, label=rf"$r_1 r_2 \zeta_{{{ell}}}$")
        ax.set_xlabel(r"$r_1$ [$h^{-1}$Mpc]")
        ax.set_ylabel(r"$r_2$ [$h^{-1}$Mpc]")
        ax.set_aspect("equal")
        return ax
    if kind != "slices":
        raise InputError(f"unknown plot kind {kind!r}: use 'r1r2' or 'slices'")
    b1 = len(c) // 2 if b1 is None else b1
    err = _errors(tm, lambda m: m.zeta()[:2, b1])
    for el in (0, 1):
        if el <= tm.lmax:
            e = None if err is None else c[b1] * c * err[el]
            y = c[b1] * c * z[el, b1]
            ax.errorbar(c, y, yerr=e, fmt="o-", label=rf"$\ell={el}$", **kwargs)
    ax.set_xlabel(r"$r_2$ [$h^{-1}$Mpc]")
    ax.set_ylabel(rf"$r_1 r_2 \zeta_\ell(r_1={c[b1]:.3g}, r_2)$")
    ax.legend()
    return ax


def plot_quad_multipoles(qm: Any, ells: Any = None, ax: Any = None, **kwargs: Any) -> Any:
    """r1 r2 r3 zeta_L against the bin triplets (b1 < b2 < b3, lexicographic)
    for the triples ``ells`` (default (0, 0, 0) and (1, 1, 1) where counted),
    parity-odd ones dashed."""
    ax = _axes(ax)
    z = qm.zeta(edge_correction=qm.randoms is not None and qm.parity == "both")
    c = qm.bins.centers[qm.triplets].prod(axis=1)
    if ells is None:
        ells = [e for e in ((0, 0, 0), (1, 1, 1)) if (qm.ells == e).all(axis=1).any()]
    for ell in ells:
        k = qm.index(*ell)
        style = "--" if qm.odd[k] else "-"
        label = "$\\zeta_{" + "".join(str(int(x)) for x in ell) + "}$"
        ax.plot(c * z[k], style, marker=".", label=label, **kwargs)
    ax.axhline(0.0, color="0.7", lw=0.8)
    ax.set_xlabel(r"bin triplet $(b_1 < b_2 < b_3)$")
    ax.set_ylabel(r"$r_1 r_2 r_3\,\zeta_{\ell_1\ell_2\ell_3}$")
    ax.legend()
    return ax
