"""Unsupervised-learning (UL) layers: the online layer and the closed-form solution (card E)."""

from vidsift.training.ul.closed_form import (
    closed_form_embedding,
    normalized_cut_embedding,
    ul_objective,
)
from vidsift.training.ul.layer import ULLayer

__all__ = ["ULLayer", "closed_form_embedding", "normalized_cut_embedding", "ul_objective"]
