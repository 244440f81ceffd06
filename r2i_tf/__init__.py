"""R2I / IR2I: progressive binary coding with inpainting (Baig, Koltun, Torresani). Models arrive with the R2I issue."""
