"""The Spark engine: the stages whose cost grows with the ratings (reading and validating them, the latest
rating wins, per-title scores, the models' training input), run on Apache Spark. Everything else stays in
pandas on the driver, and the release is the same as the pandas engine's (docs/scale.md)."""
