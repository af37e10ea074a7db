"""Opens a forecast's NetCDF with xarray and its GeoTIFF with rioxarray, as their users do,
and checks what they decode: times, coordinates, units, nodata, and that the two files
hold the same values cell by cell. Run by tests/interop.rs (`make test`) in the venv the
Makefile sets up (xarray, netCDF4, rioxarray from PyPI).

usage: interop.py FORECAST.nc FORECAST.tif YEAR
Exit 0 when every check passes; the first failed check raises (exit 1) with what it saw.
"""

import sys

import numpy as np
import pandas as pd
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr

checks = 0


def check(ok, what):
    global checks
    if not ok:
        raise AssertionError(what)
    checks += 1


def main(nc_path, tif_path, year):
    ds = xr.open_dataset(nc_path)  # CF decoding on: times, fill values
    sst = ds["sst"]
    check(sst.dims == ("time", "lat", "lon"), f"sst dims {sst.dims}")
    check(sst.dtype == np.float32, f"sst dtype {sst.dtype}")
    check(sst.attrs.get("units") == "degC", f"sst units {sst.attrs.get('units')}")
    check(sst.attrs.get("standard_name") == "sea_surface_temperature", "sst standard_name")
    check(ds["lat"].attrs.get("units") == "degrees_north", "lat units")
    check(ds["lon"].attrs.get("units") == "degrees_east", "lon units")
    check(bool(np.all(np.diff(ds["lat"].values) < 0)), "latitudes north to south")
    check(bool(np.all(np.diff(ds["lon"].values) > 0)), "longitudes ascending")

    # Times decode to the middle of each month of YEAR; the reference time to its start.
    time = pd.DatetimeIndex(ds["time"].values)
    check(len(time) == 12, f"{len(time)} times")
    check(list(time.year) == [year] * 12, f"years {list(time.year)}")
    check(list(time.month) == list(range(1, 13)), f"months {list(time.month)}")
    check(time[0] == pd.Timestamp(f"{year}-01-16T12:00"), f"first time {time[0]}")
    bounds = pd.DatetimeIndex(ds["time_bnds"].values[:, 0])
    check(bounds[0] == pd.Timestamp(f"{year}-01-01"), f"first bound {bounds[0]}")
    ref = pd.Timestamp(ds["forecast_reference_time"].values)
    check(ref == pd.Timestamp(f"{year}-01-01"), f"forecast_reference_time {ref}")
    check(list(ds["lead"].values) == list(range(1, 13)), "leads 1..12")

    # Fill decoded to NaN, and some cells hold a forecast.
    values = sst.values
    check(np.isnan(values).any(), "land/outside cells are NaN")
    check(np.isfinite(values).any(), "forecast cells are finite")
    finite = values[np.isfinite(values)]
    check(bool(((finite > -3) & (finite < 45)).all()), f"plausible degC {finite.min()}..{finite.max()}")

    # The GeoTIFF, as rioxarray reads it.
    da = xr.open_dataarray(tif_path, engine="rasterio", mask_and_scale=True)
    check(da.rio.crs.to_epsg() == 4326, f"crs {da.rio.crs}")
    nodata = da.rio.encoded_nodata if da.rio.encoded_nodata is not None else da.rio.nodata
    check(nodata is not None and np.isnan(nodata), f"nodata {nodata}")
    check(da.shape == values.shape, f"GeoTIFF {da.shape} vs NetCDF {values.shape}")
    check(da.attrs.get("units") == "degC", f"GeoTIFF units {da.attrs.get('units')}")
    names = da.attrs.get("long_name")
    check(
        isinstance(names, (tuple, list)) and names[0] == f"{year}-01 (lead 1 month)",
        f"band descriptions {names}",
    )

    # Same cells: the GeoTIFF's cell centres are the NetCDF's coordinates (to a thousandth of
    # a cell: float32 inputs are georeferenced on the grid they meant).
    dx = abs(float(da.x[1] - da.x[0]))
    dy = abs(float(da.y[1] - da.y[0]))
    check(np.allclose(da.x.values, ds["lon"].values, atol=1e-3 * dx, rtol=0), "x = lon")
    check(np.allclose(da.y.values, ds["lat"].values, atol=1e-3 * dy, rtol=0), "y = lat")
    left, bottom, right, top = da.rio.bounds()
    lon, lat = ds["lon"].values, ds["lat"].values
    check(abs(left - (lon[0] - dx / 2)) < 1e-3 * dx, f"west edge {left}")
    check(abs(top - (lat[0] + dy / 2)) < 1e-3 * dy, f"north edge {top}")

    # Same values, cell by cell, NaN where NaN.
    tif = da.values
    check(np.array_equal(np.isnan(tif), np.isnan(values)), "same nodata cells")
    check(np.array_equal(tif, values, equal_nan=True), "same values, bit for bit")

    print(f"interop: {checks} checks passed ({nc_path}, {tif_path})")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
