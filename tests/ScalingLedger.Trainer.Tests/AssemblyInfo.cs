// Torch's thread count is process-wide and determinism is per thread count: run these tests one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
