"""The embedded demo project: a drawn face with known affect, simulated annotators, ground truth.

``create_demo(folder)`` makes it; ``load_ground_truth(folder)`` reads back what the video shows.
"""
from .create import DEMO_AU_SET, DEMO_VIDEO, create_demo
from .truth import TRUTH_FILE, DemoTruth, load_ground_truth

__all__ = ["DEMO_AU_SET", "DEMO_VIDEO", "TRUTH_FILE", "DemoTruth", "create_demo", "load_ground_truth"]
