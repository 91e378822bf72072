"""Recommendation: TF-IDF listener profiles, a cosine-ranked up-next, "more like this", history, mood.

numpy/scipy only (no pandas, no Qt, no TensorFlow). See docs/recommender.md.

    from player.recommend import Recommender, Recommendation, RecommendSettings
    rec = Recommender.from_library(library)
    rec.up_next(user_id, after_track_id=..., mood_labels=[...], n=10)
    rec.similar(track_id, n=10)

Building blocks for other features: ``rec.similarity_to(track_id)`` (every song, positions order:
``rec.track_ids``), ``rec.profile_scores(user_id)``, ``rec.history_scores(user_id)``,
``rec.listener(user_id)``, and ``rec.state`` (the immutable :class:`RecommenderState`: its
:class:`LibraryIndex`, profiles and history).
"""

from player.recommend.data import LibraryArrays
from player.recommend.engine import Recommendation, RecommendError, Recommender, RecommenderState
from player.recommend.index import LibraryIndex
from player.recommend.profiles import Listener
from player.recommend.settings import RecommendSettings

__all__ = ["Recommender", "Recommendation", "RecommendSettings", "RecommendError", "LibraryArrays",
           "RecommenderState", "LibraryIndex", "Listener"]
