"""attnmix: read attnmix outputs (cube.h5, analysis.h5) as xarray and pandas.

Install without network access into an environment that has numpy, h5py,
xarray, h5netcdf and pandas (Debian: python3-xarray python3-h5netcdf
python3-pandas), e.g. Debian's /usr/bin/python3:

    /usr/bin/python3 -m venv --system-site-packages .venv
    .venv/bin/pip install ./tools/python
"""
from setuptools import setup

setup(
    name="attnmix",
    version="0.1.0",
    description="Read attnmix attention cubes and analysis files as xarray Datasets and pandas DataFrames",
    packages=["attnmix"],
    python_requires=">=3.9",
    # numpy, h5py, xarray, h5netcdf and pandas come from the system (Debian's
    # h5py registers as "h5py._debian_h5py_serial", which pip would not count
    # as h5py and would try to download): attnmix/__init__.py checks them.
)
