"""Real input files for the reader tests, written with tifffile and h5py with real metadata.

Each maker writes one file under a directory and returns (path, data, expected), where
``expected`` is what the file says, as the reader should report it.
"""
from __future__ import annotations

import numpy as np

RED, GREEN, BLUE = -16776961, 16711935, 0x0000FFFF   # OME-XML Color: signed 32-bit RGBA
MAGENTA = 0xFF00FFFF - (1 << 32)


def ramp(shape, dtype=np.uint16, seed=0):
    """Distinct values everywhere, so a swapped or shifted axis shows up."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, np.iinfo(dtype).max, size=shape, dtype=dtype)


def ome_cyx(d):
    import tifffile

    data = ramp((2, 24, 32))
    path = d / "cyx.ome.tif"
    tifffile.imwrite(path, data, ome=True, metadata={
        "axes": "CYX", "Name": "two channels", "PhysicalSizeX": 0.65, "PhysicalSizeY": 0.65,
        "PhysicalSizeXUnit": "µm", "PhysicalSizeYUnit": "µm",
        "Channel": {"Name": ["DAPI", "GFP"], "Color": [BLUE, GREEN]}})
    return path, data, {"axes": "cyx", "name": "two channels", "pixel_sizes": {"x": 0.65, "y": 0.65},
                        "units": {"x": "micrometer", "y": "micrometer"},
                        "channels": [("DAPI", "0000FF"), ("GFP", "00FF00")]}


def ome_tzcyx(d):
    import tifffile

    data = ramp((3, 4, 2, 16, 20), seed=1)
    path = d / "tzcyx.ome.tif"
    tifffile.imwrite(path, data, ome=True, metadata={
        "axes": "TZCYX", "Name": "time lapse", "PhysicalSizeX": 0.2, "PhysicalSizeY": 0.25,
        "PhysicalSizeZ": 500.0, "PhysicalSizeZUnit": "nm", "TimeIncrement": 1.5, "TimeIncrementUnit": "ms",
        "Channel": {"Name": ["mCherry", "Cy5"], "Color": [RED, MAGENTA]}})
    return path, data, {"axes": "tzcyx", "name": "time lapse",
                        "pixel_sizes": {"x": 0.2, "y": 0.25, "z": 500.0},
                        "units": {"x": "micrometer", "y": "micrometer", "z": "nanometer"},
                        "time_increment": 1.5, "time_unit": "millisecond",
                        "channels": [("mCherry", "FF0000"), ("Cy5", "FF00FF")]}


def ome_multi_series(d):
    import tifffile

    a, b, c = ramp((2, 16, 24), seed=2), ramp((12, 10), seed=3), ramp((3, 8, 8), np.uint8, seed=4)
    path = d / "multi.ome.tif"
    with tifffile.TiffWriter(path, ome=True) as w:
        w.write(a, metadata={"axes": "CYX", "Name": "first", "PhysicalSizeX": 1.0, "PhysicalSizeY": 1.0})
        w.write(b, metadata={"axes": "YX", "Name": "second", "PhysicalSizeX": 2.0, "PhysicalSizeY": 3.0,
                             "PhysicalSizeXUnit": "mm", "PhysicalSizeYUnit": "mm"})
        w.write(c, metadata={"axes": "ZYX", "Name": "third", "PhysicalSizeZ": 4.0})
    return path, [a, b, c], [
        {"axes": "cyx", "name": "first", "pixel_sizes": {"x": 1.0, "y": 1.0},
         "units": {"x": "micrometer", "y": "micrometer"}},
        {"axes": "yx", "name": "second", "pixel_sizes": {"x": 2.0, "y": 3.0},
         "units": {"x": "millimeter", "y": "millimeter"}},
        {"axes": "zyx", "name": "third", "pixel_sizes": {"z": 4.0}, "units": {"z": "micrometer"}}]


def ome_pyramid(d):
    """Three levels in SubIFDs, zlib-compressed 32x32 tiles."""
    import tifffile

    data = ramp((2, 96, 128), seed=5)
    levels = [data, data[:, ::2, ::2], data[:, ::4, ::4]]
    path = d / "pyramid.ome.tif"
    with tifffile.TiffWriter(path, ome=True) as w:
        w.write(data, subifds=2, tile=(32, 32), compression="zlib",
                metadata={"axes": "CYX", "Name": "pyramid", "PhysicalSizeX": 0.5, "PhysicalSizeY": 0.5})
        for lv in levels[1:]:
            w.write(lv, subfiletype=1, tile=(32, 32), compression="zlib")
    return path, levels, {"axes": "cyx", "name": "pyramid", "pixel_sizes": {"x": 0.5, "y": 0.5},
                          "units": {"x": "micrometer", "y": "micrometer"}}


def rgb(d, ome=False):
    import tifffile

    data = ramp((20, 30, 3), np.uint8, seed=6)
    path = d / ("rgb.ome.tif" if ome else "rgb.tif")
    tifffile.imwrite(path, data, photometric="rgb", ome=ome,
                     metadata={"axes": "YXS", "Name": "colour"} if ome else None)
    return path, data, {"axes": "yxc", "name": "colour" if ome else None,
                        "channels": [(None, "FF0000"), (None, "00FF00"), (None, "0000FF")]}


def imagej_zcyx(d):
    """An ImageJ hyperstack of 20 planes x 2 channels, calibrated: 0.25 µm pixels, 1.5 µm z steps."""
    import tifffile

    data = ramp((20, 2, 16, 24), seed=7)
    luts = np.zeros((2, 3, 256), np.uint8)
    luts[0, 1] = np.arange(256)                    # green
    luts[1, 0] = luts[1, 2] = np.arange(256)       # magenta
    path = d / "hyperstack.tif"
    tifffile.imwrite(path, data, imagej=True, resolution=(1 / 0.25, 1 / 0.25),
                     metadata={"axes": "ZCYX", "spacing": 1.5, "unit": "micron", "LUTs": list(luts)})
    return path, data, {"axes": "zcyx", "name": None, "pixel_sizes": {"x": 0.25, "y": 0.25, "z": 1.5},
                        "units": {"x": "micrometer", "y": "micrometer", "z": "micrometer"},
                        "channels": [(None, "00FF00"), (None, "FF00FF")]}


def imagej_tzyx(d):
    import tifffile

    data = ramp((3, 4, 8, 8), seed=8)
    path = d / "timelapse.tif"
    tifffile.imwrite(path, data, imagej=True, resolution=(2.0, 2.0),
                     metadata={"axes": "TZYX", "spacing": 3.0, "unit": "um", "finterval": 30.0})
    return path, data, {"axes": "tzyx", "pixel_sizes": {"x": 0.5, "y": 0.5, "z": 3.0},
                        "units": {"x": "micrometer", "y": "micrometer", "z": "micrometer"},
                        "time_increment": 30.0, "time_unit": "second"}


def tiled_zlib(d, size=2048, tile=256):
    """A zlib-compressed tiled 2-D TIFF (8 MiB of uint16 at 2048^2)."""
    import tifffile

    yy, xx = np.mgrid[:size, :size]
    data = ((yy * 7 + xx * 3) % 4099).astype(np.uint16)
    path = d / "tiled.tif"
    tifffile.imwrite(path, data, tile=(tile, tile), compression="zlib")
    return path, data, {"axes": "yx"}


def plain(d, shape=(16, 24)):
    import tifffile

    data = ramp(shape, seed=9)
    path = d / f"plain{len(shape)}d.tif"
    tifffile.imwrite(path, data, metadata=None)   # no description: nothing names the axes
    return path, data, {"axes": "yx" if len(shape) == 2 else None, "pixel_sizes": {}, "units": {},
                        "name": None, "channels": []}


def hdf5_element_size(d):
    import h5py

    data = ramp((6, 20, 30), seed=10)
    path = d / "stack.h5"
    with h5py.File(path, "w") as f:
        ds = f.create_dataset("volumes/raw", data=data, chunks=(2, 10, 10), compression="gzip")
        ds.attrs["element_size_um"] = [2.0, 0.5, 0.25]
    return path, data, {"axes": "zyx", "name": "volumes/raw", "pixel_sizes": {"z": 2.0, "y": 0.5, "x": 0.25},
                        "units": {"z": "micrometer", "y": "micrometer", "x": "micrometer"}}


def hdf5_dimension_scales(d):
    """Labelled dimensions (t, c, y, x) with dimension scales on t (seconds) and x/y (nanometers)."""
    import h5py

    data = ramp((4, 2, 12, 16), seed=11)
    path = d / "scales.h5"
    with h5py.File(path, "w") as f:
        ds = f.create_dataset("img", data=data)
        for i, (label, step, unit) in enumerate([("t", 5.0, "s"), ("c", None, None), ("y", 40.0, "nm"),
                                                 ("x", 40.0, "nm")]):
            ds.dims[i].label = label
            if step is None:
                continue
            scale = f.create_dataset(f"{label}_coords", data=np.arange(data.shape[i]) * step + 100.0)
            scale.attrs["units"] = unit
            scale.make_scale(label)
            ds.dims[i].attach_scale(scale)
    return path, data, {"axes": "tcyx", "name": "img", "pixel_sizes": {"y": 40.0, "x": 40.0},
                        "units": {"y": "nanometer", "x": "nanometer"}, "time_increment": 5.0,
                        "time_unit": "second"}


PLATE = """<Plate ID="Plate:0" Name="screen plate" Rows="2" Columns="3" RowNamingConvention="letter"
  ColumnNamingConvention="number">
  <Well ID="Well:0" Row="1" Column="1">
    <WellSample ID="WellSample:0:1" Index="1"><ImageRef ID="Image:1"/></WellSample>
    <WellSample ID="WellSample:0:0" Index="0"><ImageRef ID="Image:0"/></WellSample>
  </Well>
  <Well ID="Well:1" Row="0" Column="2">
    <WellSample ID="WellSample:1:0" Index="2"><ImageRef ID="Image:2"/></WellSample>
  </Well>
  <PlateAcquisition ID="PlateAcquisition:0" Name="run 1">
    <WellSampleRef ID="WellSample:0:0"/><WellSampleRef ID="WellSample:0:1"/>
  </PlateAcquisition>
  <PlateAcquisition ID="PlateAcquisition:1" Name="run 2">
    <WellSampleRef ID="WellSample:1:0"/>
  </PlateAcquisition>
</Plate>"""


def ome_plate(d):
    """Three fields in two wells (B2 with fields 0 and 1, A3 with field 0) of a 2 x 3 plate."""
    import tifffile

    fields = [ramp((2, 16, 16), seed=20 + i) for i in range(3)]
    path = d / "plate.ome.tif"
    with tifffile.TiffWriter(path, ome=True) as w:
        for i, f in enumerate(fields):
            w.write(f, metadata={"axes": "CYX", "Name": f"field {i}", "PhysicalSizeX": 0.4,
                                 "PhysicalSizeY": 0.4})
    with tifffile.TiffFile(path) as t:
        xml = t.ome_metadata
    i = xml.index("<Image ")
    tifffile.tiffcomment(path, xml[:i] + PLATE + xml[i:])
    wells = [("B", "2", 1, 1, 0, 0), ("B", "2", 1, 1, 1, 0), ("A", "3", 0, 2, 0, 1)]
    return path, fields, {"name": "screen plate", "rows": ["A", "B"], "columns": ["1", "2", "3"],
                          "field_count": 2, "acquisitions": ["run 1", "run 2"], "wells": wells}
