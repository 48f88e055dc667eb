"""Training: methods (model + loss + sampler + presets), one trainer loop, checkpoints.

Entry points: ``vidsift.services.train.train_workspace`` (the use case: catalog folder -> checkpoint, used by
``vidsift train``), ``training.trainer.train`` (any ``FrameSource``), ``training.registry``
(``METHODS``, ``get_method``) and ``training.checkpoint.load_model``. See docs/training.md.
"""
