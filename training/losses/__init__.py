"""Embedding losses of the vidsift methods; one class per file, re-exported by name."""

from training.losses.base import EmbeddingLoss
from training.losses.contrastive_loss import ContrastiveLoss
from training.losses.drlim_loss import DrLIMLoss
from training.losses.pair_hinge_loss import PairHingeLoss as PairHingeLoss
from training.losses.quadruplet_loss import QuadrupletLoss
from training.losses.slow_feature_ae_loss import SlowFeatureAELoss
from training.losses.triplet_ranking_loss import TripletRankingLoss

__all__ = [
    "ContrastiveLoss",
    "DrLIMLoss",
    "EmbeddingLoss",
    "QuadrupletLoss",
    "SlowFeatureAELoss",
    "TripletRankingLoss",
]
