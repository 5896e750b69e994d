"""The simulation core: struct-of-arrays agent stores, the per-patient
``mesa.Model`` with its phase list, run seeds, records and the output Dataset,
and the worker processes that run many patients (``worker``: the one way the
package starts a process pool).

Imports ``kernels``, ``clinical`` and ``params``; nothing above it.
"""
