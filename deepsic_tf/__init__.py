"""DeepSIC: deep semantic image compression (Luo, Yang, Song): one code that reconstructs the image and carries its class."""
