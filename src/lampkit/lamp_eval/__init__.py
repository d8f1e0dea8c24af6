"""The ``evaluate`` module of the LaMP and LongLaMP scores, shipped inside the package.

``evaluate.load(lampkit.lamp_eval.PATH, "LaMP_3")`` works from an installed lampkit; in a checkout,
``evaluate.load("metrics/lamp_eval", "LaMP_3")`` loads the same module through a thin face.
"""

from pathlib import Path

#: The folder to pass to ``evaluate.load`` (it holds ``lamp_eval.py``).
PATH = str(Path(__file__).parent)
