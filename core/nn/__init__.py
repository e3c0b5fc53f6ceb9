"""Multi-task affect networks (MT-VGG, MT-ResNet, ArcFace heads, CNN-RNN, audio fusion), their losses,
the trainer (AMP, DDP), checkpoints and the predictor.

Modules here import torch; this package file does not, so ``core.nn.presets`` can be listed cheaply.
  presets      PRESETS, build_model, parameter_counts
  losses       ccc, ccc_loss, expr_loss, au_loss, MultiTaskLoss
  config       TrainConfig (TOML)
  trainer      Trainer, TrainResult, TrainStatus     run      train_project (project and/or image datasets)
  feed         auto_batch_size, build_feed (whole-batch loaders)    tally    LossTally (lazy loss read-back)
  checkpoint   save/read/model_from_checkpoint, finetune_from, CheckpointError on mismatch
  predictor    Predictor, predict_project, evaluate_model_tracks
  imageeval    ImageModel, evaluate_images, predict_folder (still images)
"""
