"""Experiments: configs with arms, samplers and replicates; the resumable Zarr store;
local and Dask executors; reports with confidence intervals and figures."""
