"""Embedding losses of the vidsift methods; one class per file, re-exported by name."""

from vidsift.training.losses.base import EmbeddingLoss
from vidsift.training.losses.contrastive_loss import ContrastiveLoss
from vidsift.training.losses.drlim_loss import DrLIMLoss
from vidsift.training.losses.false_negative_filter import FalseNegativeFilter
from vidsift.training.losses.info_nce_loss import InfoNCELoss
from vidsift.training.losses.l2_normalized import L2Normalized
from vidsift.training.losses.pair_hinge_loss import PairHingeLoss as PairHingeLoss
from vidsift.training.losses.quadruplet_loss import QuadrupletLoss
from vidsift.training.losses.slow_feature_ae_loss import SlowFeatureAELoss
from vidsift.training.losses.triplet_ranking_loss import TripletRankingLoss

__all__ = [
    "ContrastiveLoss",
    "DrLIMLoss",
    "EmbeddingLoss",
    "FalseNegativeFilter",
    "InfoNCELoss",
    "L2Normalized",
    "QuadrupletLoss",
    "SlowFeatureAELoss",
    "TripletRankingLoss",
]
