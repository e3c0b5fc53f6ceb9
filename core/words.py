"""The words and defaults that the engine, the command line and the app share, each defined once.

Free of torch and Qt, so the GUI process, `affecttrace --help` and the engine read the same values: a job's
end state written by a child process is the state the app shows, a choice offered in a dialog is a choice
the command accepts, and a default shown in a form is the default the command applies.
"""
from __future__ import annotations

from enum import Enum


class EndState(str, Enum):
    """How a job or a training run ended (compares equal to its value, e.g. ``state == "cancelled"``)."""

    FINISHED = "finished"
    CANCELLED = "cancelled"
    EARLY_STOPPED = "early-stopped"
    DIVERGED = "diverged"  # training: the loss became NaN or infinite
    FAILED = "failed"  # an error, or the process died

    def __str__(self) -> str:
        return self.value


END_STATES = tuple(s.value for s in EndState)
FAILED_STATES = (EndState.FAILED.value, EndState.DIVERGED.value)

# Mixed precision of training and prediction: auto is bf16 on CUDA, none on a CPU.
AMP_CHOICES = ("auto", "bf16", "fp16", "none")
# Devices offered by choice lists; the commands also take cuda:N.
DEVICE_CHOICES = ("auto", "cpu", "cuda")
DEVICE_HELP = "auto | cpu | cuda | cuda:N"
# Face backends: auto is fan when face-alignment and its weights are present, else dlib.
FACE_BACKENDS = ("auto", "fan", "dlib", "reference")

# Suggestions (core.suggest): how many segments to list, and how long one segment is.
SUGGESTION_COUNT = 20
SEGMENT_SECONDS = 2.0

# Track and manifest names.
FUSED_TRACK = "fused"  # the track `affecttrace fuse` writes
AFFWILD2_EXTRA_KEY = "affwild2"  # a video's manifest ``extra`` entry with what the Aff-Wild2 import found

# Training without a validation video holds out this share of the training videos in time blocks
# (core.data.splits.time_blocks), so best.pt is chosen on held-out frames, never on the training loss.
DEFAULT_VAL_BLOCKS = 0.2
