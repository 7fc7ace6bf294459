"""OME-Zarr on storage: NGFF metadata (:mod:`omezarr_fast.ngff`) around the pyramid engine
(:mod:`omezarr_fast.pyramid`) and the zarr pipeline, read and write together.

- :mod:`.image`: ``write_image``, ``open_image`` / :class:`~.image.Image`, ``rebuild_pyramid``;
- :mod:`.labels`: ``write_labels``, copying label images, opening label files;
- :mod:`.plate`: ``write_plate``, ``open_plate`` / :class:`~.plate.Plate`;
- :mod:`.upgrade`: ``upgrade_path``, OME-Zarr 0.4 (zarr v2) -> 0.5 (zarr v3);
- :mod:`.info`: what ``omezarr-fast info`` prints, and validation on any location;
- :mod:`.objects`: whole objects copied between locations (raw chunks, levels moved).
"""
