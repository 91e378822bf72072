"""Model folders for tests: the shipped ones when present, else freshly initialised real Keras models
(same architectures and config format as the shipped ones, random weights)."""

from __future__ import annotations

import shutil
from pathlib import Path

SHIPPED = Path(__file__).resolve().parent.parent / "models"


def shipped_models_present() -> bool:
    from player.analysis import registry

    try:
        registry.default_name("tags", SHIPPED)
        registry.default_name("genre", SHIPPED)
        return True
    except registry.ModelError:
        return False


def make_random_models(root: Path, genre_arch: str = "cnn_lstm", version: int = 1, tags=None) -> Path:
    """Write a tagger and a genre model folder under ``root`` with initialised weights."""
    import keras

    from player.analysis import architectures as A
    from player.analysis import features as F
    from player.analysis import registry

    tags = tags or [f"tag{i}" for i in range(50)]
    genres = ["Electronic", "Experimental", "Folk", "Hip-Hop", "Instrumental", "International", "Pop", "Rock"]
    keras.utils.set_random_seed(0)
    for name, arch, labels, preset in (("fcn_tagger", "fcn_tagger", tags, "tagger"),
                                       (genre_arch, genre_arch, genres, "genre")):
        frontend = F.frontend_preset(preset)
        shape = list(F.feature_shape(frontend))
        model = A.build(arch, len(labels), shape)
        cfg = {"name": name, "version": version, "task": "tags" if preset == "tagger" else "genre",
               "architecture": arch, "input_shape": shape, "frontend": frontend}
        registry.write_model_folder(root / name, model, cfg, labels, card="test model\n")
    return root


def models_for_tests(tmp_path: Path) -> Path:
    """A models folder: a copy of the shipped one when it is complete, else random real models."""
    if shipped_models_present():
        return SHIPPED
    return make_random_models(tmp_path / "models")


def copy_models(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst
