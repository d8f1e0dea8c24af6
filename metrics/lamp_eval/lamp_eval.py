"""lamp_eval: the official LaMP and LongLaMP scores, offline, as an ``evaluate`` module (card: README.md).

A face over ``lampkit.lamp_eval.lamp_eval``, where the module lives so that an installed lampkit has it too
(``evaluate.load(lampkit.lamp_eval.PATH, "LaMP_3")``). One config per task:
``evaluate.load("metrics/lamp_eval", "LaMP_3")``.
"""

from lampkit.lamp_eval.lamp_eval import LampEval

__all__ = ["LampEval"]
