"""OME-NGFF (OME-Zarr) metadata: build, read, validate and upgrade 0.4 and 0.5 metadata.

Pure Python and JSON only: nothing here reads or writes array data.

    >>> from omezarr_fast import ngff
    >>> axes = ngff.make_axes("czyx", units={"z": "micrometer", "y": "micrometer",
    ...                                      "x": "micrometer"})
    >>> ms = ngff.build_multiscale(axes, [1, 2.0, 0.5, 0.5], [[1, 2, 2, 2]] * 2,
    ...                            name="image", method="mean")
    >>> attrs = ngff.image_attributes(ms, version="0.5")  # zarr.json "attributes"
    >>> bool(ngff.validate(attrs))
    True
    >>> ngff.parse_attributes(attrs).multiscales[0].datasets[1].translation
    [0.0, 1.0, 0.25, 0.25]

Errors are :class:`NgffError` (a ``ValueError``) carrying the JSON path of the field.
"""
from .attributes import (
    LATEST,
    VERSIONS,
    OmeAttributes,
    bioformats2raw_attributes,
    detect_version,
    image_attributes,
    label_image_attributes,
    labels_attributes,
    parse_attributes,
    plate_attributes,
    read_attributes,
    read_metadata,
    read_node,
    read_node_with,
    series_attributes,
    well_attributes,
)
from .axes import SPACE_UNITS, TIME_UNITS, Axis, make_axes, unit_scale
from .errors import NgffError
from .hierarchy import validate_path, validate_store
from .labels import ImageLabel, LabelColor, build_image_label
from .multiscales import Dataset, Multiscale, build_multiscale, method_metadata
from .omero import Channel, Omero, Window, build_omero
from .paths import check_relative_path
from .plate import Plate, Well, WellImage, WellRef, build_plate, build_well
from .transforms import Transforms, pyramid_transforms
from .upgrade import upgrade_attributes
from .validate import Problem, ValidationResult, validate

__all__ = [
    "LATEST", "VERSIONS", "SPACE_UNITS", "TIME_UNITS",
    "Axis", "Channel", "Dataset", "ImageLabel", "LabelColor", "Multiscale", "NgffError",
    "OmeAttributes", "Omero", "Plate", "Problem", "Transforms", "ValidationResult", "Well",
    "WellImage", "WellRef", "Window",
    "bioformats2raw_attributes", "build_image_label", "build_multiscale", "build_omero",
    "build_plate", "build_well", "check_relative_path", "detect_version", "image_attributes",
    "label_image_attributes", "labels_attributes", "make_axes", "method_metadata",
    "parse_attributes", "plate_attributes", "pyramid_transforms", "read_attributes",
    "read_metadata", "read_node", "read_node_with", "series_attributes", "unit_scale",
    "upgrade_attributes", "validate", "validate_path", "validate_store", "well_attributes",
]

