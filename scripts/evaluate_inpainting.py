"""Partial-context inpainting on Kodak (paper 2, Table 1): average SSIM per inpainter.

The command is `r2i_tf.evaluate_inpainting` (installed as `evaluate-inpainting`); see its help (--help).
"""
from r2i_tf.evaluate_inpainting import entry_point

if __name__ == "__main__":
  entry_point()
