"""matplotlib reference for `make bench`: ms per global heatmap figure.

Why: issue 4 asks for sstcast's heatmap renderer (`sstcast::render::render_heatmap`) to be
timed against the figure matplotlib would make of the same field. This draws that figure:
the field `sstcast-bench render` wrote (`field.json`: lat, lon, values with null for land,
title, colour limits, contour count, pixel size, coastlines), `pcolormesh` with `coolwarm`,
15 black contours, the coastlines sstcast draws (the same polylines, in degrees and already
split at the polygon cuts along the antimeridian and around the south pole, in one
`LineCollection` of the same width and colour, clipped to the map), a colour bar with units,
a title, lat/lon axis labels, saved as PNG at the same pixel size. Each timed figure is
built, saved and closed; the import and the reading of the field are not timed (one untimed
figure first). Without coastlines in the field (`make coastlines` not run, or
`sstcast-bench render --no-coastlines`), or with `--no-coastlines`, none are drawn.

Usage: python mpl_heatmap.py FIELD_JSON OUT_PNG [--renders 10] [--no-coastlines]. Prints
JSON {matplotlib_version, coastlines (polylines drawn), render_ms: {n, median, p10, p90},
samples_ms}.
"""

import argparse
import json
import statistics
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402


def edges(c):
    c = np.asarray(c, dtype=float)
    mid = (c[1:] + c[:-1]) / 2
    e = np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])
    return e


def figure(f, lat, lon, z, coast, out):
    dpi = 100
    fig, ax = plt.subplots(figsize=(f["width"] / dpi, f["height"] / dpi), dpi=dpi)
    mesh = ax.pcolormesh(
        edges(lon), np.clip(edges(lat), -90, 90), z, cmap="coolwarm", vmin=f["vmin"], vmax=f["vmax"], shading="flat"
    )
    if f["contours"]:
        ax.contour(lon, lat, z, f["contours"], colors="k", linewidths=0.5)
    if coast:
        # sstcast's width in pixels as points at this dpi; one collection, as sstcast strokes
        # all coasts as one path. Limits stay those of the mesh (autolim off).
        ax.add_collection(
            LineCollection(
                coast,
                colors=[tuple(c / 255 for c in f["coast_rgb"])],
                linewidths=f["coast_width_px"] * 72 / dpi,
            ),
            autolim=False,
        )
    ax.set_aspect("equal")
    ax.set_xlabel("Longitude")
    ax.set_ylabel("Latitude")
    ax.set_title(f["title"])
    fig.colorbar(mesh, ax=ax, label=f["units_label"], shrink=0.8)
    fig.savefig(out, dpi=dpi)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("field")
    ap.add_argument("out")
    ap.add_argument("--renders", type=int, default=10)
    ap.add_argument("--no-coastlines", action="store_true", help="draw no coastlines")
    a = ap.parse_args()
    with open(a.field) as fh:
        f = json.load(fh)
    lat, lon = np.array(f["lat"]), np.array(f["lon"])
    v = np.array([np.nan if x is None else x for x in f["values"]], dtype=float)
    z = np.ma.masked_invalid(v.reshape(len(lat), len(lon)))
    coast = [] if a.no_coastlines else [np.asarray(p, dtype=float) for p in f.get("coastlines", [])]
    figure(f, lat, lon, z, coast, a.out)  # warm-up: font cache, first-use imports
    ms = []
    for _ in range(max(a.renders, 1)):
        t0 = time.perf_counter()
        figure(f, lat, lon, z, coast, a.out)
        ms.append((time.perf_counter() - t0) * 1e3)
    ms.sort()
    q = lambda p: float(np.quantile(ms, p))  # noqa: E731
    print(
        json.dumps(
            {
                "matplotlib_version": matplotlib.__version__,
                "coastlines": len(coast),
                "render_ms": {"n": len(ms), "median": statistics.median(ms), "p10": q(0.1), "p90": q(0.9)},
                "samples_ms": ms,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
