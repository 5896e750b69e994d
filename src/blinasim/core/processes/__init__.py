"""One module per process of a tick: its rate formulas, its phase function, its kernel's caller.

Each module holds, side by side:

* the **rate formulas** of the process: pure functions of the config (and of
  the current drug level, cytokines or counts) that turn parameters into the
  per-tick or per-slow-step numbers a kernel takes. The Mesa reference
  (:mod:`blinasim.reference.mesa_model`) imports the same functions, so both
  implementations compute every rate once, in one place;
* the **phase function** (``run(model)``, or two for a process with two clocks)
  that the phase list (:data:`blinasim.core.phases.PHASES`) runs: it computes
  the rates and calls the kernel on the model's stores;
* a docstring naming the config keys the process reads, its kernel in
  :mod:`blinasim.kernels` and its mirror in the reference.

A phase function takes the model (:class:`blinasim.core.model.BlinatumomabModel`)
and changes its state and counters; the rate formulas take no model. Parameter
values, bounds and sources stay in :mod:`blinasim.params`.
"""
