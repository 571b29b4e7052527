"""The model every reader of a poll shares, in plain Python: the snapshot (its nodes,
typed) and the judgement's vocabulary (findings, severities, changes, the summary).
No pydantic, no API, no analysis: a follower draws a stored poll with this alone."""
