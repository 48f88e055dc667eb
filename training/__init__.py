"""Training: methods (model + loss + sampler + presets), one trainer loop, checkpoints.

Entry points: ``training.workspace.train_workspace`` (catalog folder -> checkpoint, used by
``vidsift train``), ``training.trainer.train`` (any ``FrameSource``), ``training.registry``
(``METHODS``, ``get_method``) and ``training.checkpoint.load_model``. See docs/training.md.
"""
