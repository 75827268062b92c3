"""Recommender algorithms. Each fits on a `TrainingSet` and returns a `RecommenderModel`."""
