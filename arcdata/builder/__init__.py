"""Building a dataset: plan versions, materialise rows, write shards, write the manifest last."""
