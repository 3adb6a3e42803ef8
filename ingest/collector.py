"""The garbage collector's settings for a process that writes fills.

The fold keeps about ten objects per fill alive until its batch is written (the fills, position
states, outcomes, folded fills and rows of 100,000 fills), and CPython's default thresholds
collect once per 700 new objects: hundreds of collections per batch, the older generations
among them walking every object the process holds. Measured on 100,000 simulated fills, that
was two thirds of the fold's time (16.3 µs per fill, 5.2 with the collector off, 7.5 with
:data:`WRITER_THRESHOLDS`; docs/operations.md). The fold's objects hold no reference cycles
(``tests/ingest/test_collector.py`` checks it), so reference counting frees them as soon as a
batch is done, and the collector, which exists for cycles, can run a hundred times less often
without letting memory grow.
"""

from __future__ import annotations

import gc

#: (new objects between young collections, young collections between middle ones, middle
#: collections between full ones); CPython's defaults are (700, 10, 10).
WRITER_THRESHOLDS = (100_000, 50, 100)


def tune_for_writing() -> None:
    """Collect reference cycles less often: call once when a process starts writing fills."""
    gc.set_threshold(*WRITER_THRESHOLDS)
