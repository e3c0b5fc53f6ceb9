"""Annotator agreement, fusion into a gold standard, and reaction-lag compensation.

Array level (numpy): ``stats`` (ICC, Cronbach, Krippendorff, Cohen, Fleiss), ``fusion`` (mean, EWE,
majority vote), ``lag`` (estimate_lags, shift). Project level: ``report`` (agreement tables of a
project) and ``fuse`` (fused tracks written back with their recipe).
"""
from .fusion import ewe_fusion, ewe_weights, majority_vote, mean_fusion
from .lag import LagEstimate, best_lag, estimate_lags, shift
from .stats import cohen_kappa, cronbach_alpha, fleiss_kappa, icc, krippendorff_alpha, pairwise

__all__ = [
    "LagEstimate", "best_lag", "cohen_kappa", "cronbach_alpha", "estimate_lags", "ewe_fusion", "ewe_weights",
    "fleiss_kappa", "icc", "krippendorff_alpha", "majority_vote", "mean_fusion", "pairwise", "shift",
]
