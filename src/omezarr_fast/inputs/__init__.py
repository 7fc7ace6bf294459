"""Readers for conversion inputs: TIFF (OME, ImageJ, pyramidal), HDF5, .npy and zarr / OME-Zarr.

Every image comes back lazy (nothing is loaded whole) with named axes and
the physical metadata the file carries::

    from omezarr_fast import inputs

    with inputs.open_file("cells.ome.tif") as f:
        for image in f.images:                      # every series
            image.axes, image.pixel_sizes, image.units, image.channels, image.name
            view = inputs.to_ngff_order(image)      # t, c, z, y, x; a lazy view, not a copy
            block = view.data[0, :, :64, :64]

    inputs.open_file("stack.npy", axes="zyx")       # name the axes a file does not name

Units are normalised to UDUNITS-2 names (µm, um, micron -> micrometer);
OME-XML colours become omero's "RRGGBB". Errors are :class:`InputError`.
"""
from omezarr_fast.inputs.axes import (
    AxisOrderView,
    LeadingAxesView,
    check_axes,
    ngff_order,
    require_axes,
    to_ngff_order,
    with_leading_axes,
)
from omezarr_fast.inputs.errors import InputError
from omezarr_fast.inputs.model import (
    NGFF_AXES,
    AcquisitionInfo,
    ChannelInfo,
    InputFile,
    InputImage,
    PlateInfo,
    WellPosition,
)
from omezarr_fast.inputs.omexml import ome_color, parse_ome_xml
from omezarr_fast.inputs.open import open_file
from omezarr_fast.inputs.units import normalize_unit

__all__ = ["NGFF_AXES", "AcquisitionInfo", "AxisOrderView", "ChannelInfo", "InputError", "InputFile",
           "InputImage", "LeadingAxesView", "PlateInfo", "WellPosition", "check_axes", "ngff_order",
           "normalize_unit", "ome_color", "open_file", "parse_ome_xml", "require_axes", "to_ngff_order",
           "with_leading_axes"]
