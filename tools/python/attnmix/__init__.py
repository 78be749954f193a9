"""Read the outputs of attnmix (docs/schema.md) as xarray and pandas.

    import attnmix
    run = attnmix.open("out/demo")                       # the experiment's output_dir
    run.cube("qwen3-tiny")                               # xarray Dataset, tokens on query and key
    run.map("qwen3-tiny", "math", 0.5, layer=3, head=1)  # the valid n x n map, token labels
    run.analysis["/points"]                              # every group of analysis.h5
    run.points                                           # /points as one pandas DataFrame
    run.to_circuitsvis(...), run.to_bertviz(...)         # plain arrays + tokens for those viewers
"""
try:
    import h5netcdf  # noqa: F401
    import h5py  # noqa: F401
    import pandas  # noqa: F401
    import xarray  # noqa: F401
except ImportError as _ex:  # pragma: no cover
    raise ImportError(f"attnmix needs numpy, h5py, xarray, h5netcdf and pandas ({_ex}); on Debian: apt-get install "
                      "python3-h5py python3-xarray python3-h5netcdf python3-pandas, and use /usr/bin/python3 "
                      "(or a venv made with --system-site-packages)") from _ex

from ._reader import (AttnmixError, Run, TokenDecoder, TokenFallbackWarning, analysis_groups, open_analysis,
                      open_cube, points, unit_tokens)

__version__ = "0.1.0"
__all__ = ["open", "Run", "open_cube", "open_analysis", "analysis_groups", "points", "unit_tokens", "TokenDecoder",
           "AttnmixError", "TokenFallbackWarning"]


def open(out_dir):  # noqa: A001 (the package's entry point, as xarray.open_dataset)
    """An attnmix output directory (the config's output_dir) as a Run."""
    return Run(out_dir)
