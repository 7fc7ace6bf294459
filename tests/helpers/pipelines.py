"""zarr configurations that pick a codec pipeline: ours, or zarr's default."""
OURS = {"codec_pipeline.path": "omezarr_fast.CodecPipeline"}
ZARR = {"codec_pipeline.path": "zarr.core.codec_pipeline.BatchedCodecPipeline"}
