"""The checkpointing mechanisms the plan (fortran_ad/checkpoint/) chooses between: loop
checkpoints (store or recompute per loop) and split calls."""
