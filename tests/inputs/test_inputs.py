"""omezarr_fast.inputs: real TIFF / OME-TIFF / ImageJ / HDF5 / npy / OME-Zarr files with real metadata.

Every file is written by tifffile or h5py (tests/input_files.py). For each, the axes,
physical sizes, units, channel names/colours and name must equal what was written,
the pixels must equal the array written, and the metadata must agree with what
tifffile itself and ome-types (an independent OME-XML parser) read from the file.
"""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from helpers import input_files as make

from omezarr_fast import inputs
from omezarr_fast.inputs import InputError, open_file, to_ngff_order

tifffile = pytest.importorskip("tifffile")
h5py = pytest.importorskip("h5py")
ome_types = pytest.importorskip("ome_types")


def check_meta(img, expected):
    assert img.axes == expected["axes"]
    for key in ("name", "pixel_sizes", "units", "time_increment", "time_unit"):
        if key in expected:
            assert getattr(img, key) == pytest.approx(expected[key]) if key == "pixel_sizes" \
                else getattr(img, key) == expected[key], key
    if "channels" in expected:
        assert [(c.name, c.color) for c in img.channels] == expected["channels"]


def check_against_ome_types(opened):
    """The reader's metadata for each OME image equals what ome-types parses from the same XML."""
    doc = ome_types.from_xml(opened.ome_xml)
    assert len(doc.images) == len(opened.images)
    for img, ome in zip(opened.images, doc.images):
        assert img.name == ome.name
        px = ome.pixels
        for axis in "xyz":
            size = getattr(px, f"physical_size_{axis}")
            if size is None:
                assert axis not in img.pixel_sizes
                continue
            assert img.pixel_sizes[axis] == pytest.approx(size)
            assert img.units[axis] == inputs.normalize_unit(getattr(px, f"physical_size_{axis}_unit").value)
        if px.time_increment is not None:
            assert img.time_increment == pytest.approx(px.time_increment)
            assert img.time_unit == inputs.normalize_unit(px.time_increment_unit.value)
        if img.channels:
            assert [c.name for c in img.channels] == [c.name for c in px.channels]
            assert [c.color for c in img.channels] == [
                None if c.color is None or "Color" not in _channel_attrs(opened.ome_xml, ome.id, k)
                else "{:02X}{:02X}{:02X}".format(*c.color.as_rgb_tuple()[:3]) for k, c in enumerate(px.channels)]
    return doc


def _channel_attrs(xml, image_id, k):
    """Attribute names of the k-th Channel of an Image (ome-types fills in the default colour)."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(xml)
    for im in root:
        if im.tag.endswith("Image") and im.get("ID") == image_id:
            pixels = next(p for p in im if p.tag.endswith("Pixels"))
            return set([c for c in pixels if c.tag.endswith("Channel")][k].attrib)
    raise AssertionError(image_id)


def tifffile_step(series, axis):
    """tifffile's own pixel size along an axis (its coords are in micrometers for space axes)."""
    coords = series.coords[axis]
    return float(coords[1] - coords[0])


# ---- OME-TIFF ----------------------------------------------------------------------------------------

def test_ome_tiff_cyx(tmp_path):
    path, data, expected = make.ome_cyx(tmp_path)
    with open_file(path) as f:
        assert f.format == "ome-tiff" and len(f.images) == 1
        img = f.images[0]
        check_meta(img, expected)
        assert img.shape == data.shape and img.dtype == data.dtype
        np.testing.assert_array_equal(img.data[:], data)
        np.testing.assert_array_equal(img.data[1, 5:9, 3:30:4], data[1, 5:9, 3:30:4])
        check_against_ome_types(f)
        with tifffile.TiffFile(path) as t:
            s = t.series[0]
            assert (s.axes, s.shape, s.name) == ("CYX", img.shape, img.name)
            assert f.ome_xml == t.ome_metadata
            assert list(s.coords["C"]) == [c.name for c in img.channels]
            assert tifffile_step(s, "X") == pytest.approx(img.pixel_sizes["x"])


def test_ome_tiff_tzcyx_sizes_time_and_channels(tmp_path):
    path, data, expected = make.ome_tzcyx(tmp_path)
    with open_file(path) as f:
        img = f.images[0]
        check_meta(img, expected)
        np.testing.assert_array_equal(img.data[2, 1:3, 1], data[2, 1:3, 1])
        assert img.axis_scale() == pytest.approx([1.5, 500.0, 1.0, 0.25, 0.2])
        assert img.axis_units() == ["millisecond", "nanometer", None, "micrometer", "micrometer"]
        check_against_ome_types(f)
        with tifffile.TiffFile(path) as t:
            s = t.series[0]
            assert s.axes == "TZCYX"
            # tifffile converts z to micrometers; we keep the file's nanometers
            assert tifffile_step(s, "Z") * 1000 == pytest.approx(img.pixel_sizes["z"])
            assert tifffile_step(s, "T") == pytest.approx(img.time_increment)
        view = to_ngff_order(img)              # tifffile writes T, Z, C; NGFF wants t, c, z
        assert view.axes == "tczyx" and view.axis_scale() == pytest.approx([1.5, 1.0, 500.0, 0.25, 0.2])
        assert view.axis_units() == ["millisecond", None, "nanometer", "micrometer", "micrometer"]
        np.testing.assert_array_equal(np.asarray(view.data), data.transpose(0, 2, 1, 3, 4))


def test_ome_tiff_reordered_to_ngff(tmp_path):
    # TZCYX is what tifffile writes; ZCYX-ordered data as OME ("XYCZT" still) shows the reorder path
    data = make.ramp((5, 2, 8, 12), seed=30)
    path = tmp_path / "zcyx.ome.tif"
    tifffile.imwrite(path, data, ome=True, metadata={"axes": "ZCYX", "PhysicalSizeZ": 3.0})
    with open_file(path) as f:
        img = f.images[0]
        view = to_ngff_order(img)
        assert (img.axes, view.axes) == ("zcyx", "czyx")
        np.testing.assert_array_equal(np.asarray(view.data), data.transpose(1, 0, 2, 3))
        assert view.pixel_sizes == {"z": 3.0} and view.axis_scale() == [1.0, 3.0, 1.0, 1.0]


def test_multi_series_every_series_with_its_own_metadata(tmp_path):
    path, arrays, expected = make.ome_multi_series(tmp_path)
    with open_file(path) as f:
        assert [im.series for im in f.images] == [0, 1, 2]
        for img, data, exp in zip(f.images, arrays, expected):
            check_meta(img, exp)
            np.testing.assert_array_equal(np.asarray(img.data), data)
            assert f"series {img.series}" in img.source
        check_against_ome_types(f)
        with tifffile.TiffFile(path) as t:
            assert [s.name for s in t.series] == [im.name for im in f.images]
            assert [s.axes.lower() for s in t.series] == [im.axes for im in f.images]
            assert f.ome_xml == t.ome_metadata


def test_pyramidal_ome_tiff_levels_are_lazy(tmp_path):
    path, levels, expected = make.ome_pyramid(tmp_path)
    with open_file(path) as f:
        img = f.images[0]
        check_meta(img, expected)
        assert [lv.shape for lv in img.levels] == [lv.shape for lv in levels]
        for got, want in zip(img.levels, levels):
            assert not isinstance(got, np.ndarray)      # compressed: a zarr array over aszarr
            np.testing.assert_array_equal(got[:], want)
        assert img.chunks == (1, 32, 32)
        with tifffile.TiffFile(path) as t:
            assert len(t.series[0].levels) == len(img.levels) and t.series[0].is_pyramidal
        check_against_ome_types(f)


@pytest.mark.parametrize("ome", [False, True])
def test_rgb_samples_become_channels(tmp_path, ome):
    path, data, expected = make.rgb(tmp_path, ome=ome)
    with open_file(path) as f:
        img = f.images[0]
        assert img.file_axes == "YXS"
        check_meta(img, expected)
        view = to_ngff_order(img)
        assert view.axes == "cyx" and view.shape == (3, 20, 30)
        np.testing.assert_array_equal(view.data[:], np.moveaxis(data, 2, 0))
        np.testing.assert_array_equal(view.data[2, 3:7], data[3:7, :, 2])


# ---- ImageJ ------------------------------------------------------------------------------------------

def test_imagej_zcyx_hyperstack_keeps_z_and_c_apart(tmp_path):
    path, data, expected = make.imagej_zcyx(tmp_path)
    with open_file(path) as f:
        assert f.format == "imagej-tiff"
        img = f.images[0]
        check_meta(img, expected)
        assert img.shape == (20, 2, 16, 24)
        view = to_ngff_order(img)
        assert view.axes == "czyx" and view.shape == (2, 20, 16, 24)
        for c in range(2):
            for z in (0, 7, 19):
                np.testing.assert_array_equal(view.data[c, z], data[z, c])
        np.testing.assert_array_equal(view.data[1, 2:5, :3], data[2:5, 1, :3])
        assert view.axis_scale() == pytest.approx([1.0, 1.5, 0.25, 0.25])
        with tifffile.TiffFile(path) as t:
            meta = t.imagej_metadata
            assert (meta["slices"], meta["channels"]) == (20, 2)
            assert img.pixel_sizes["z"] == meta["spacing"]
            assert img.units["z"] == inputs.normalize_unit(meta["unit"])


def test_imagej_time_interval(tmp_path):
    path, data, expected = make.imagej_tzyx(tmp_path)
    with open_file(path) as f:
        check_meta(f.images[0], expected)
        np.testing.assert_array_equal(np.asarray(f.images[0].data), data)


# ---- streaming -----------------------------------------------------------------------------------------

def test_compressed_tiled_tiff_reads_only_the_tiles_asked_for(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from omezarr_fast.inputs import tiles

    path, data, _ = make.tiled_zlib(tmp_path)        # 8 MiB decoded, 256x256 tiles of 128 KiB
    real = tiles._native()
    read = []

    def counting(fd, size, compression, predictor, itemsize, samples, rows, cols, t, *rest):
        read.extend(np.asarray(t)[:, tiles.TT_FIELDS - 1].tolist())     # tile indices
        return real.read_tiff_tiles(fd, size, compression, predictor, itemsize, samples, rows,
                                    cols, t, *rest)

    monkeypatch.setattr(tiles, "_native", lambda: SimpleNamespace(
        read_tiff_tiles=counting, tiff_compressions=real.tiff_compressions))
    with open_file(path) as f:
        img = f.images[0]
        assert isinstance(img.data, tiles.TiffTiles)
        assert img.axes == "yx" and img.chunks == (256, 256)
        tracemalloc.start()
        try:
            block = img.data[512:768, 256:512]        # exactly one tile
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        np.testing.assert_array_equal(block, data[512:768, 256:512])
        assert read == [2 * 8 + 1], read      # 2048 / 256 = 8 tiles a row
        assert peak < 2 << 20, f"reading one 128 KiB tile peaked at {peak} bytes"
        read.clear()
        np.testing.assert_array_equal(img.data[250:260, 250:260], data[250:260, 250:260])
        assert sorted(read) == [0, 1, 8, 9]     # a corner of 4 tiles


def test_uncompressed_tiff_is_read_natively_or_memory_mapped(tmp_path):
    from omezarr_fast.inputs.tiles import TiffTiles

    path, data, _ = make.plain(tmp_path, (6, 16, 24))
    with open_file(path) as f:
        assert isinstance(f.images[0].data, TiffTiles)
        np.testing.assert_array_equal(f.images[0].data, data)
        np.testing.assert_array_equal(f.images[0].data[1:5:2, 15:2:-3, ::5], data[1:5:2, 15:2:-3, ::5])
    tifffile.imwrite(tmp_path / "big_endian.tif", data, byteorder=">", metadata={"axes": "ZYX"})
    with open_file(tmp_path / "big_endian.tif") as f:      # not native: a memory map
        img = f.images[0]
        assert isinstance(img.data, np.memmap) and img.axes == "zyx"
        np.testing.assert_array_equal(img.data[2:4], data[2:4])


# ---- files that do not name their axes -------------------------------------------------------------

def test_plain_tiff_without_metadata(tmp_path):
    path, data, expected = make.plain(tmp_path)
    with open_file(path) as f:
        assert f.format == "tiff" and f.ome_xml is None
        check_meta(f.images[0], expected)
        np.testing.assert_array_equal(np.asarray(f.images[0].data), data)

    path, data, expected = make.plain(tmp_path, (6, 16, 24))
    with open_file(path) as f:
        img = f.images[0]
        check_meta(img, expected)
        with pytest.raises(InputError, match=r"cannot tell which axis is which: the file's axes 'IYX' "
                                             r"include 'I'.*axes='zyx'"):
            to_ngff_order(img)
    with open_file(path, axes="zyx") as f:
        assert f.images[0].axes == "zyx"
        np.testing.assert_array_equal(to_ngff_order(f.images[0]).data[2], data[2])
    with open_file(path, axes="yxz") as f:
        view = to_ngff_order(f.images[0])
        assert view.axes == "zyx" and view.shape == (24, 6, 16)
        np.testing.assert_array_equal(view.data[5], data[:, :, 5])


@pytest.mark.parametrize("axes, message", [
    ("zy", "names 2 axes but the image has 3 dimensions"),
    ("zyy", "names 'y' more than once"),
    ("qyx", "'q' is not an axis name"),
    ("czy", "must include y and x"),
    (3, "must be a string of axis names"),
])
def test_bad_axes_override(tmp_path, axes, message):
    path, _, _ = make.plain(tmp_path, (6, 16, 24))
    with pytest.raises(InputError, match=message):
        open_file(path, axes=axes)


def test_channels_and_samples_together_are_ambiguous():
    img = inputs.InputImage(np.zeros((2, 4, 4, 3), np.uint8), None, "CYXS", source="x.tif")
    with pytest.raises(InputError, match="both channels .C. and RGB samples .S."):
        to_ngff_order(img)


# ---- HDF5 ----------------------------------------------------------------------------------------------

def test_hdf5_element_size_um(tmp_path):
    path, data, expected = make.hdf5_element_size(tmp_path)
    with open_file(f"{path}:/volumes/raw") as f:
        img = f.images[0]
        assert f.format == "hdf5" and isinstance(img.data, h5py.Dataset)
        check_meta(img, expected)
        assert img.chunks == (2, 10, 10)
        np.testing.assert_array_equal(img.data[1:3, 4:9], data[1:3, 4:9])
    with open_file(path) as f:                       # the only dataset: no need to name it
        assert f.images[0].name == "volumes/raw"


def test_hdf5_dimension_labels_and_scales(tmp_path):
    path, data, expected = make.hdf5_dimension_scales(tmp_path)
    with open_file(f"{path}:/img") as f:
        img = f.images[0]
        check_meta(img, expected)
        assert img.file_axes == "t,c,y,x"
        view = to_ngff_order(img)
        assert view.axes == "tcyx" and view is img
        np.testing.assert_array_equal(np.asarray(img.data), data)


def test_hdf5_names_its_datasets_when_none_is_given(tmp_path):
    path = tmp_path / "two.h5"
    with h5py.File(path, "w") as f:
        f["a"] = np.zeros((4, 4))
        f["g/b"] = np.zeros((4, 4))
    with pytest.raises(InputError, match=r"holds 2 datasets; name one as .*two.h5:/DATASET "
                                         r"\(datasets: /a, /g/b\)"):
        open_file(path)
    with pytest.raises(InputError, match="has no dataset '/c'; datasets: /a, /g/b"):
        open_file(f"{path}:/c")


# ---- HCS plate -----------------------------------------------------------------------------------------

def test_ome_tiff_plate(tmp_path):
    path, fields, expected = make.ome_plate(tmp_path)
    with open_file(path) as f:
        assert len(f.plates) == 1 and len(f.images) == 3
        plate = f.plates[0]
        assert (plate.name, plate.rows, plate.columns, plate.field_count) == (
            expected["name"], expected["rows"], expected["columns"], expected["field_count"])
        assert [a.name for a in plate.acquisitions] == expected["acquisitions"]
        got = [(im.well.row, im.well.column, im.well.row_index, im.well.column_index, im.well.field,
                im.well.acquisition) for im in f.images]
        assert got == expected["wells"]
        for img, data in zip(f.images, fields):
            np.testing.assert_array_equal(np.asarray(img.data), data)
            assert img.pixel_sizes == {"x": 0.4, "y": 0.4}
        doc = check_against_ome_types(f)
        for well in doc.plates[0].wells:
            for sample in well.well_samples:
                img = next(im for im, ome in zip(f.images, doc.images) if ome.id == sample.image_ref.id)
                assert (img.well.row_index, img.well.column_index) == (well.row, well.column)


# ---- npy and OME-Zarr ------------------------------------------------------------------------------

def test_npy_is_memory_mapped(tmp_path):
    data = make.ramp((3, 8, 9))
    np.save(tmp_path / "a.npy", data)
    with open_file(tmp_path / "a.npy") as f:
        img = f.images[0]
        assert isinstance(img.data, np.memmap) and img.axes is None
    with open_file(tmp_path / "a.npy", axes="cyx") as f:
        np.testing.assert_array_equal(f.images[0].data[1], data[1])
        assert f.images[0].axes == "cyx"


def test_ome_zarr_input_keeps_metadata(tmp_path):
    import omezarr_fast

    data = make.ramp((2, 4, 32, 32))
    out = omezarr_fast.write_image(
        data, tmp_path / "img.ome.zarr", axes="czyx", scale=[1, 2.0, 0.5, 0.5],
        units={"z": "micrometer", "y": "micrometer", "x": "micrometer"}, name="zarr image",
        channel_names=["nuclei", "membrane"], channel_colors=["0000FF", "FF0000"], levels=2, progress=False)
    with open_file(out) as f:
        img = f.images[0]
        assert f.format == "ome-zarr"
        assert img.axes == "czyx" and img.name == "zarr image"
        assert img.pixel_sizes == {"z": 2.0, "y": 0.5, "x": 0.5}
        assert img.units == {"z": "micrometer", "y": "micrometer", "x": "micrometer"}
        assert [(c.name, c.color) for c in img.channels] == [("nuclei", "0000FF"), ("membrane", "FF0000")]
        # z (2.0) is 4x coarser than y/x (0.5): the default pyramid keeps it (issue 15)
        assert len(img.levels) == 2 and img.levels[1].shape == (2, 4, 16, 16)
        assert "omero" in img.ngff["ome"]
        np.testing.assert_array_equal(img.data[:], data)


# ---- units, colours, OME-XML errors ----------------------------------------------------------------

@pytest.mark.parametrize("text, name", [
    ("µm", "micrometer"), ("\u03bcm", "micrometer"), ("um", "micrometer"), ("micron", "micrometer"),
    ("Microns", "micrometer"), ("micrometre", "micrometer"), ("micrometer", "micrometer"),
    ("nm", "nanometer"), ("mm", "millimeter"), ("Mm", "megameter"), ("cm", "centimeter"), ("m", "meter"),
    ("Å", "angstrom"), ("s", "second"), ("sec", "second"), ("ms", "millisecond"), ("µs", "microsecond"),
    ("min", "minute"), ("h", "hour"), ("pixel", None), ("", None), (None, None),
])
def test_units_normalised_to_udunits(text, name):
    assert inputs.normalize_unit(text) == name


def test_unknown_or_wrong_kind_of_unit():
    with pytest.raises(InputError, match="PhysicalSizeXUnit: unknown unit 'furlong'"):
        inputs.normalize_unit("furlong", what="PhysicalSizeXUnit")
    with pytest.raises(InputError, match="'ms' .millisecond. is not a unit of space"):
        inputs.normalize_unit("ms", "space")


@pytest.mark.parametrize("value, hex_", [(-1, "FFFFFF"), (-16776961, "FF0000"), (16711935, "00FF00"),
                                         (65535, "0000FF"), (255, "000000"), ("-16711681", "FF00FF")])
def test_ome_color_to_omero_hex(value, hex_):
    assert inputs.ome_color(value) == hex_


def test_hostile_ome_xml_names_the_field():
    base = ('<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image ID="Image:0">'
            '<Pixels SizeX="2" SizeY="2" {attrs}><Channel {chan}/></Pixels></Image></OME>')
    with pytest.raises(InputError, match=r"Image\[0\]/Pixels@PhysicalSizeX: expected a number, got 'abc'"):
        inputs.parse_ome_xml(base.format(attrs='PhysicalSizeX="abc"', chan=""))
    with pytest.raises(InputError, match=r"PhysicalSizeX: expected a positive number, got '-1'"):
        inputs.parse_ome_xml(base.format(attrs='PhysicalSizeX="-1"', chan=""))
    with pytest.raises(InputError, match=r"Channel\[0\]@Color: expected a 32-bit RGBA integer"):
        inputs.parse_ome_xml(base.format(attrs="", chan='Color="red"'))
    with pytest.raises(InputError, match="PhysicalSizeYUnit: unknown unit 'parsecs-ish'"):
        inputs.parse_ome_xml(base.format(attrs='PhysicalSizeY="1" PhysicalSizeYUnit="parsecs-ish"', chan=""))
    with pytest.raises(InputError, match="not well-formed"):
        inputs.parse_ome_xml("<OME><Image>")


# ---- the lazy NGFF-order view ----------------------------------------------------------------------

class RecordingArray:
    """An array that records every key it is read with, to prove the view reads blocks, not the whole."""

    def __init__(self, a):
        self.a, self.shape, self.dtype, self.keys = a, a.shape, a.dtype, []

    def __getitem__(self, key):
        self.keys.append(key)
        return self.a[key]


@pytest.mark.parametrize("key", [
    (slice(None),), (1,), (1, 2), (-1, slice(1, 4), slice(None, None, 2)), (Ellipsis, 3),
    (slice(0, 2), Ellipsis, slice(5, 1, -1)), (0, 1, 2, 3), (Ellipsis,),
])
def test_axis_order_view_matches_numpy_transpose(key):
    a = make.ramp((3, 4, 5, 6))
    order = (1, 3, 0, 2)
    view = inputs.AxisOrderView(a, order)
    want = a.transpose(order)[key]
    got = view[key]
    assert got.shape == want.shape and got.flags.c_contiguous
    np.testing.assert_array_equal(got, want)


def test_axis_order_view_reads_only_the_block():
    src = RecordingArray(make.ramp((20, 2, 16, 24)))    # z, c, y, x
    view = inputs.AxisOrderView(src, (1, 0, 2, 3))       # c, z, y, x
    block = view[1, 4:6, 0:8, 8:16]
    assert src.keys == [(slice(4, 6), 1, slice(0, 8), slice(8, 16))]
    np.testing.assert_array_equal(block, src.a[4:6, 1, 0:8, 8:16])
    with pytest.raises(IndexError, match="out of bounds"):
        view[2]
    with pytest.raises(TypeError, match="integers and slices"):
        view[[0, 1]]
    with pytest.raises(InputError, match="not a permutation"):
        inputs.AxisOrderView(src, (0, 0, 1, 2))


def test_ome_zarr_04_and_bioformats2raw_container(tmp_path):
    import json

    import omezarr_fast
    from omezarr_fast import ngff

    root = tmp_path / "container.zarr"
    a, b = make.ramp((2, 16, 16), seed=40), make.ramp((8, 12), seed=41)
    omezarr_fast.write_image(a, root / "0", axes="cyx", scale=[1, 0.3, 0.3], units={"y": "micron", "x": "µm"},
                             channel_names=["a", "b"], version="0.4", levels=1, progress=False)
    omezarr_fast.write_image(b, root / "1", axes="yx", version="0.4", name="second", levels=1, progress=False)
    (root / ".zgroup").write_text(json.dumps({"zarr_format": 2}))
    (root / ".zattrs").write_text(json.dumps(ngff.bioformats2raw_attributes(version="0.4")))
    (root / "OME").mkdir()
    (root / "OME" / ".zgroup").write_text(json.dumps({"zarr_format": 2}))
    (root / "OME" / ".zattrs").write_text(json.dumps(ngff.series_attributes(["0", "1"], version="0.4")))
    (root / "OME" / "METADATA.ome.xml").write_text("<OME/>")
    with open_file(root) as f:
        assert f.format == "ome-zarr" and f.ome_xml == "<OME/>"
        first, second = f.images
        assert (first.series, second.series) == (0, 1)
        assert first.axes == "cyx" and first.pixel_sizes == {"y": 0.3, "x": 0.3}
        assert first.units == {"y": "micrometer", "x": "micrometer"}     # written as spelled, read normalised
        assert [c.name for c in first.channels] == ["a", "b"] and "omero" in first.ngff
        assert second.axes == "yx" and second.name == "second"
        np.testing.assert_array_equal(first.data[:], a)
        np.testing.assert_array_equal(second.data[:], b)
