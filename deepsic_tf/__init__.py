"""DeepSIC: deep semantic image compression (Luo, Yang, Song). Models arrive with the DeepSIC issue."""
