"""Deterministic fault injection, for the fault tests only: KKB_FAULT=<point> kills this process group with SIGKILL
(as a power cut or the OOM killer would: no cleanup, no exception handlers) when the run reaches <point>.

Points: ingest:after_move:<entity> (landing moved into place, manifest not yet committed), dbt:after_models:<n>
(n dbt models done, dbt still running), publish:after_build (new snapshot written, not yet swapped in).
Unset in normal operation; reaching a point then costs one dictionary lookup.
"""

import os
import signal


def reached(point: str) -> None:
    if os.environ.get("KKB_FAULT") == point:
        os.killpg(os.getpgrp(), signal.SIGKILL)
