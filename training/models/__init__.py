"""Networks trained by the vidsift methods; one class per file, re-exported by name."""

from vidsift.training.models.alexnet import AlexNetEmbedding
from vidsift.training.models.c3d import C3D as C3D
from vidsift.training.models.resnet import SmallResNet
from vidsift.training.models.slow_ae import SlowAELayer, SlowAEOutput, SlowFeatureAE, l2_pool

__all__ = [
    "AlexNetEmbedding",
    "SlowAELayer",
    "SmallResNet",
    "SlowAEOutput",
    "SlowFeatureAE",
    "l2_pool",
]
