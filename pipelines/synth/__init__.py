"""Realistic demo source data with a known truth (`kkb synth`).

Independent of the pipeline on purpose: nothing here imports `pipelines.lib`, so the ground truth it writes can
catch a wrong model in the pipeline. Entry point: `synthesize()`.
"""

from pipelines.synth.generate import synthesize

__all__ = ["synthesize"]
