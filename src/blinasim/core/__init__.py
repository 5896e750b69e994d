"""The simulation core: struct-of-arrays agent stores, the per-patient
``mesa.Model`` with its phase list, run seeds, records and the output Dataset.

Imports ``kernels``, ``clinical`` and ``params``; nothing above it.
"""
