"""settle_analysis: read settle's HDF5/SONATA output files, compute spike statistics, plot.

    import settle_analysis as sa
    exc = sa.load_spikes("run.h5", "exc")              # Spikes: timestamps (ms), node_ids
    rates = sa.stats.firing_rates(exc.trains(), exc.t_start, exc.t_stop)   # Hz per neuron

Figures live in settle_analysis.plots (imported on demand: it loads matplotlib); the command
line is `python3 -m settle_analysis plot FILE.h5`. `to_neo_spiketrains` and `to_neo_block` give
spikes as Neo objects (they import neo when called).
"""

from . import stats
from .io import (
    IncompleteFileWarning,
    Report,
    ReportLayout,
    RunMetadata,
    SettleAnalysisError,
    SettleFile,
    Spikes,
    load_metadata,
    load_metrics,
    load_report,
    load_spikes,
)
from .neo_export import to_neo_block, to_neo_spiketrains

__version__ = "0.1.0"

__all__ = [
    "IncompleteFileWarning",
    "Report",
    "ReportLayout",
    "RunMetadata",
    "SettleAnalysisError",
    "SettleFile",
    "Spikes",
    "load_metadata",
    "load_metrics",
    "load_report",
    "load_spikes",
    "stats",
    "to_neo_block",
    "to_neo_spiketrains",
]
