"""Clinical layer: drug exposure (PK), the protocol engine (schedules,
premedication, holds, discontinuation), cytokines and toxicity grades,
combination drugs and every clinical endpoint (each defined once).

Imports ``kernels`` (random streams) and ``params`` only.
"""
