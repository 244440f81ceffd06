"""Rate-distortion evaluation of codecs on Kodak, or on a folder of your own photos.

The command is `compression_zoo.evaluate_kodak` (installed as `evaluate-kodak`); see its help (--help).
"""
from compression_zoo.evaluate_kodak import entry_point

if __name__ == "__main__":
  entry_point()
