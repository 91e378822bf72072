"""Recommendation: TF-IDF listener profiles, a cosine-ranked up-next, "more like this", history, mood.

numpy/scipy only (no pandas, no Qt, no TensorFlow). See docs/recommender.md.

    from player.recommend import Recommender, Recommendation, RecommendSettings
    rec = Recommender.from_library(library)
    rec.up_next(user_id, after_track_id=..., mood_labels=[...], n=10)
    rec.similar(track_id, n=10)
"""

from player.recommend.data import LibraryArrays
from player.recommend.engine import Recommendation, RecommendError, Recommender
from player.recommend.settings import RecommendSettings

__all__ = ["Recommender", "Recommendation", "RecommendSettings", "RecommendError", "LibraryArrays"]
