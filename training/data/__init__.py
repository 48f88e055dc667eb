"""Frame sources (decoded files or arrays), samplers that build batches in DataLoader workers
and the patch tracker of the triplet method (synthetic test videos: ``video.synthetic``)."""
