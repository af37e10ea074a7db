//! Files in and out. Every byte sstcast reads from or writes to disk passes through here.
//!
//! - [`inputs`]: the input patterns expanded into a file list.
//! - [`netcdf`]: the CF NetCDF reader (any SST product into the canonical cube) and the
//!   forecast writer; [`geotiff`]: the GeoTIFF writer (GDAL).
//! - [`atomic`]: every file is written under a temporary name and renamed when complete;
//!   [`staging`]: the files of one run are put in place together or not at all;
//!   [`sweep`]: what killed runs left behind is removed.
//!
//! The figures arrive here as PNG bytes ([`crate::render`] draws, it does not write).

pub mod atomic;
pub mod geotiff;
pub mod inputs;
pub mod netcdf;
pub mod staging;
pub mod sweep;
