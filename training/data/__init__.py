"""Frame sources (decoded files or arrays), samplers that build batches in DataLoader workers,
the patch tracker of the triplet method and small synthetic scene videos for tests."""
