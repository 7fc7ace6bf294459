"""convert (issue 15): real TIFF / OME-TIFF / ImageJ / HDF5 inputs with real metadata, written by
tifffile and h5py (tests/helpers/input_files.py), converted to OME-Zarr.

For each: axes (in NGFF order), scale, units, channel names/colours and name in the output
equal the input's; level 0 equals the input's pixels transposed to NGFF order; no pyramid
level mixes channels; the output validates.  Then the layouts (bioformats2raw, plates,
--series), the checks made before anything is written, OME-Zarr inputs, codec chains and
the memory a compressed file takes.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import zarr
from helpers import input_files as make
from helpers.cli import SRC

from omezarr_fast import downsample, ngff, open_image, write_image, write_labels
from omezarr_fast.cli import main
from omezarr_fast.ome.convert import convert

tifffile = pytest.importorskip("tifffile")
h5py = pytest.importorskip("h5py")

NGFF = "tczyx"


def ngff_axes(axes: str) -> str:
    return "".join(sorted(axes, key=NGFF.index))


def check_image(path, data, expected, *, name=None):
    """Metadata, level 0 and channel separation of one converted image against its input."""
    img = open_image(path)
    axes = ngff_axes(expected["axes"])
    ms = img.multiscale
    assert "".join(img.axes) == axes
    want = np.transpose(data, [expected["axes"].index(a) for a in axes])
    np.testing.assert_array_equal(img.levels[0][...], want)
    scale0 = dict(zip(axes, ms.datasets[0].scale))
    units = {a.name: a.unit for a in ms.axes}
    for a in axes:
        if a == "t":
            assert scale0["t"] == pytest.approx(expected.get("time_increment") or 1.0)
            assert units["t"] == expected.get("time_unit")
        elif a == "c":
            assert scale0["c"] == 1.0 and units["c"] is None
        else:
            assert scale0[a] == pytest.approx(expected.get("pixel_sizes", {}).get(a, 1.0)), a
            assert units[a] == expected.get("units", {}).get(a), a
    assert ms.name == (name if name is not None else expected.get("name"))
    if expected.get("channels"):
        chans = img.metadata.omero.channels
        assert [c.color for c in chans] == [c for _, c in expected["channels"]]
        names = [n for n, _ in expected["channels"]]
        assert [c.label for c in chans] == (names if any(names) else [None] * len(names))
    # Windows from the data, not the dtype range.
    if img.metadata.omero is not None and "c" in axes:
        ci = axes.index("c")
        for k, ch in enumerate(img.metadata.omero.channels):
            plane = np.take(want, k, axis=ci)
            assert (ch.window.min, ch.window.max) == (plane.min(), plane.max())
    # No level mixes channels: each channel of level k is that channel of level k-1 downsampled.
    prev = want
    for k in range(1, len(img.levels)):
        f = [round(b / a) for a, b in zip(ms.datasets[k - 1].scale, ms.datasets[k].scale)]
        if "c" in axes:
            assert f[axes.index("c")] == 1
            assert img.levels[k].shape[axes.index("c")] == want.shape[axes.index("c")]
        expect = downsample(prev, f, "mean")
        np.testing.assert_array_equal(img.levels[k][...], expect)
        prev = expect
    res = ngff.validate_path(path)
    assert res, res.message
    return img


SINGLE = {
    "rgb": (make.rgb, {}),
    "imagej_zcyx": (make.imagej_zcyx, {}),
    "imagej_tzyx": (make.imagej_tzyx, {}),
    "hdf5_element_size": (make.hdf5_element_size, {}),
    "hdf5_dimension_scales": (make.hdf5_dimension_scales, {}),
    "plain_2d": (make.plain, {}),
    "tiled_zlib": (lambda d: make.tiled_zlib(d, size=512, tile=128), {}),
}


@pytest.mark.parametrize("kind", sorted(SINGLE))
def test_single_image_inputs(tmp_path, kind):
    maker, _ = SINGLE[kind]
    path, data, expected = maker(tmp_path)
    out = tmp_path / "out.ome.zarr"
    if str(path).endswith(".h5"):
        path = f"{path}:/{expected['name']}"
    r = convert(path, out, levels=2, progress=False)
    assert r.layout == "image" and r.images == [""]
    # Without a name in the file, the file's name stands in.
    stem = Path(str(path).split(":")[0]).name.split(".")[0]
    check_image(out, data, expected, name=expected.get("name") or stem)


OME = {"ome_cyx": make.ome_cyx, "ome_tzcyx": make.ome_tzcyx, "ome_pyramid": make.ome_pyramid,
       "ome_rgb": lambda d: make.rgb(d, ome=True)}


@pytest.mark.parametrize("kind", sorted(OME))
def test_ome_tiff_in_bioformats2raw_layout(tmp_path, kind):
    path, data, expected = OME[kind](tmp_path)
    if kind == "ome_pyramid":
        data = data[0]           # the file's pyramid is rebuilt; level 0 is the data
    out = tmp_path / "out.ome.zarr"
    assert main(["convert", str(path), str(out), "--levels", "2", "--no-progress"]) == 0
    root = ngff.read_attributes(out)
    assert root["ome"]["bioformats2raw.layout"] == 3
    assert ngff.read_attributes(out / "OME")["ome"]["series"] == ["0"]
    with tifffile.TiffFile(path) as t:
        assert (out / "OME" / "METADATA.ome.xml").read_text(encoding="utf-8") == t.ome_metadata
    check_image(out / "0", data, expected)
    assert ngff.validate_path(out)


def test_multi_series_every_one_and_series_option(tmp_path, capsys):
    path, datas, expected = make.ome_multi_series(tmp_path)
    out = tmp_path / "all.ome.zarr"
    assert main(["convert", str(path), str(out), "--no-progress"]) == 0
    assert "3 images: 0, 1, 2" in capsys.readouterr().out
    assert ngff.read_attributes(out / "OME")["ome"]["series"] == ["0", "1", "2"]
    for i, (data, exp) in enumerate(zip(datas, expected)):
        check_image(out / str(i), data, exp)
    # --series N: that one, as a plain image
    one = tmp_path / "one.ome.zarr"
    assert main(["convert", str(path), str(one), "--series", "1", "--no-progress"]) == 0
    check_image(one, datas[1], expected[1])
    assert not (one / "OME").exists()
    assert main(["convert", str(path), str(tmp_path / "x.zarr"), "--series", "3"]) == 2
    assert "series 0..2" in capsys.readouterr().err
    assert not (tmp_path / "x.zarr").exists()


def test_plate_in_ome_xml_becomes_hcs_plate(tmp_path):
    path, fields, expected = make.ome_plate(tmp_path)
    out = tmp_path / "plate.ome.zarr"
    r = convert(path, out, progress=False)
    assert r.layout == "plate"
    meta = ngff.read_metadata(out)
    assert meta.bioformats2raw_layout == 3
    plate = meta.plate
    assert plate.name == expected["name"]
    assert [r["name"] if isinstance(r, dict) else r for r in plate.rows] == expected["rows"]
    assert [c["name"] if isinstance(c, dict) else c for c in plate.columns] == expected["columns"]
    assert plate.field_count == expected["field_count"]
    assert [a["name"] for a in plate.acquisitions] == expected["acquisitions"]
    assert sorted(w.path for w in plate.wells) == ["A/3", "B/2"]
    for i, (row, col, _, _, field, acq) in enumerate(expected["wells"]):
        well = ngff.read_metadata(out / row / col).well
        assert well.images[field].acquisition == acq
        img = open_image(out / row / col / str(field))
        np.testing.assert_array_equal(img.levels[0][...], fields[i])
        assert img.multiscale.name == f"field {i}"
    assert (out / "OME" / "METADATA.ome.xml").is_file()
    res = ngff.validate_path(out)
    assert res, res.message


def test_anisotropic_default_factors_and_explicit_factors_win(tmp_path):
    data = make.ramp((6, 64, 64), seed=3)
    np.save(tmp_path / "a.npy", data)
    out = tmp_path / "a.zarr"
    convert(tmp_path / "a.npy", out, axes="zyx", scale=[5.0, 1.0, 1.0], units="um", levels=4,
            progress=False)
    ms = open_image(out).multiscale
    # z is 5x coarser: kept until y/x reach 4 (within 1.5x of 5), then halved with them
    assert [d.scale for d in ms.datasets] == [[5.0, 1.0, 1.0], [5.0, 2.0, 2.0], [5.0, 4.0, 4.0],
                                              [10.0, 8.0, 8.0]]
    assert [a.unit for a in ms.axes] == ["micrometer"] * 3
    check_image(out, data, {"axes": "zyx", "pixel_sizes": {"z": 5.0, "y": 1.0, "x": 1.0},
                            "units": {a: "micrometer" for a in "zyx"}, "name": "a"})
    # units in different spellings compare in meters: 500 nm vs 0.1 µm is 5x
    convert(tmp_path / "a.npy", tmp_path / "b.zarr", axes="zyx", scale=[500, 0.1, 0.1],
            units=["nm", "µm", "micron"], levels=2, progress=False)
    b = open_image(tmp_path / "b.zarr").multiscale
    assert [a.unit for a in b.axes] == ["nanometer", "micrometer", "micrometer"]
    assert b.datasets[1].scale == [500.0, 0.2, 0.2]
    # explicit factors win
    convert(tmp_path / "a.npy", tmp_path / "c.zarr", axes="zyx", scale=[5.0, 1.0, 1.0],
            factors=[2, 2, 2], levels=2, progress=False)
    assert open_image(tmp_path / "c.zarr").multiscale.datasets[1].scale == [10.0, 2.0, 2.0]


def test_axes_option_reorders_and_overrides(tmp_path):
    data = make.ramp((20, 30, 3), np.uint8)
    np.save(tmp_path / "rgb.npy", data)
    out = tmp_path / "o.zarr"
    assert main(["convert", str(tmp_path / "rgb.npy"), str(out), "--axes", "yxc", "--name", "photo",
                 "--channel-names", "r,g,b", "--channel-colors", "FF0000,00FF00,#0000ff",
                 "--scale", "0.5,0.5,1", "--units", "um,um,", "--no-progress"]) == 0
    img = check_image(out, data, {"axes": "yxc", "pixel_sizes": {"y": 0.5, "x": 0.5},
                                  "units": {"y": "micrometer", "x": "micrometer"},
                                  "channels": [("r", "FF0000"), ("g", "00FF00"), ("b", "0000FF")]},
                      name="photo")
    assert img.levels[0].shape == (3, 20, 30)


@pytest.mark.parametrize("args, message", [
    (["--axes", "zyx"], "names 3 axes but the image has 2"),
    (["--units", "parsecs-ish"], "unknown unit"),
    (["--units", "second"], "not a unit of space"),
    (["--channel-colors", "red"], "not RRGGBB"),
    (["--channel-names", "a,b,c"], "3 entries for 1 channels"),
    (["--codec", '[{"name": "nope"}]'], "no codec named 'nope'"),
    (["--labels", "x=LABEL"], "does not match"),
])
def test_everything_checked_before_writing(tmp_path, capsys, args, message):
    np.save(tmp_path / "img.npy", np.zeros((30, 20), np.uint16))
    np.save(tmp_path / "wrong.npy", np.zeros((30, 21), np.uint8))
    args = [a.replace("LABEL", str(tmp_path / "wrong.npy")) for a in args]
    out = tmp_path / "out.zarr"
    assert main(["convert", str(tmp_path / "img.npy"), str(out), *args, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert not out.exists()


def test_output_exists_is_checked_first(tmp_path, capsys):
    (tmp_path / "out.zarr").mkdir()
    assert main(["convert", str(tmp_path / "missing.tif"), str(tmp_path / "out.zarr")]) == 2
    assert "exists" in capsys.readouterr().err


def test_labels_leading_axes_added_and_bad_label_leaves_nothing(tmp_path, capsys):
    data = make.ramp((2, 4, 32, 24))
    np.save(tmp_path / "img.npy", data)
    seg = (data[0, 0] % 5).astype(np.uint8)            # (y, x) for a (c, z, y, x) image
    np.save(tmp_path / "seg.npy", seg)
    out = tmp_path / "out.zarr"
    assert main(["convert", str(tmp_path / "img.npy"), str(out), "--axes", "czyx", "--levels", "2",
                 "--chunks", "1,4,16,16", "--labels", f"seg={tmp_path / 'seg.npy'}",
                 "--no-progress"]) == 0
    lab = open_image(out).label("seg")
    assert [a.shape for a in lab.levels] == [(1, 1, 32, 24), (1, 1, 16, 12)]
    np.testing.assert_array_equal(lab.levels[0][0, 0], seg)
    # a label that fits no axis: a clear error, and no partial output
    np.save(tmp_path / "bad.npy", np.zeros((4, 33, 24), np.uint8))
    bad = tmp_path / "bad.zarr"
    assert main(["convert", str(tmp_path / "img.npy"), str(bad), "--axes", "czyx",
                 "--labels", f"seg={tmp_path / 'bad.npy'}", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "(4, 33, 24) does not match" in err and "(2, 4, 32, 24)" in err
    assert not bad.exists()


def test_ome_zarr_input_keeps_every_block(tmp_path):
    data = make.ramp((2, 8, 32, 32))
    src = write_image(data, tmp_path / "in.zarr", axes="czyx", scale=[1, 2.0, 0.5, 0.5],
                      units={"z": "micrometer", "y": "micrometer", "x": "micrometer"},
                      translation=[0, 3.0, 1.0, 1.0], name="cells", factors={"z": 1}, levels=2,
                      channel_names=["DAPI", "GFP"], channel_colors=["0000FF", "00FF00"],
                      version="0.4", progress=False)
    write_labels((data[:1] % 3).astype(np.uint8), src, "nuclei", colors={1: (255, 0, 0, 255)},
                 progress=False)
    group = zarr.open_group(str(src), mode="r+")
    attrs = group.attrs.asdict()
    attrs["omero"]["channels"][0]["window"] = {"start": 10, "end": 500, "min": 0, "max": 65535}
    attrs["omero"]["name"] = "cells"
    attrs["acquisition"] = {"microscope": "spinning disk"}       # someone else's block
    attrs["multiscales"][0]["axes"][1]["longName"] = "depth"
    group.attrs.put(attrs)
    out = tmp_path / "out.zarr"
    assert main(["convert", str(src), str(out), "--levels", "3", "--no-progress"]) == 0
    new = ngff.read_attributes(out)
    assert new["acquisition"] == {"microscope": "spinning disk"}
    assert new["ome"]["omero"] == attrs["omero"]
    assert new["ome"]["multiscales"][0]["axes"][1] == {"name": "z", "type": "space",
                                                       "unit": "micrometer", "longName": "depth"}
    img = open_image(out)
    assert img.multiscale.datasets[0].translation == [0.0, 3.0, 1.0, 1.0]
    assert img.multiscale.name == "cells" and len(img.levels) == 3
    assert img.labels == ["nuclei"]
    lab = img.label("nuclei")
    assert lab.metadata.image_label.colors[0].rgba == (255, 0, 0, 255)
    assert len(lab.levels) == 3
    np.testing.assert_array_equal(img.levels[0][...], data)
    # upgrade keeps them too
    up = tmp_path / "up.zarr"
    assert main(["upgrade", str(src), str(up), "--no-progress"]) == 0
    got = ngff.read_attributes(up)
    assert got["acquisition"] == attrs["acquisition"] and got["ome"]["omero"] == attrs["omero"]
    assert ngff.read_attributes(up / "labels" / "nuclei")["ome"]["image-label"]["colors"] == \
        [{"label-value": 1, "rgba": [255, 0, 0, 255]}]


@pytest.mark.parametrize("version", ["0.5", "0.4"])
def test_codec_chains(tmp_path, version):
    data = make.ramp((16, 48, 40))
    from zarr.codecs import BloscCodec, BytesCodec

    chains = {
        "json": [{"name": "bytes", "configuration": {"endian": "little"}},
                 {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5,
                                                     "shuffle": "shuffle"}}],
        "objects": [BytesCodec(), BloscCodec(cname="zstd", clevel=3, shuffle="bitshuffle")],
        "text": '[{"name": "gzip", "configuration": {"level": 2}}]',
    }
    for key, chain in chains.items():
        out = write_image(data, tmp_path / f"{key}.zarr", axes="zyx", codec=chain, levels=2,
                          version=version, progress=False)
        img = open_image(out)
        np.testing.assert_array_equal(img.levels[0][...], data)
        if version == "0.5":
            inner = json.loads((out / "0" / "zarr.json").read_text())["codecs"][0]["configuration"]["codecs"]
            names = [c["name"] for c in inner]
            assert names == (["bytes", "gzip"] if key == "text" else ["bytes", "blosc"])
        else:
            comp = json.loads((out / "0" / ".zarray").read_text())["compressor"]["id"]
            assert comp == {"json": "blosc", "objects": "blosc", "text": "gzip"}[key]
    with pytest.raises(ValueError, match="array->bytes" if version == "0.5" else "one compressor"):
        write_image(data, tmp_path / "bad.zarr", axes="zyx", version=version, progress=False,
                    codec=[{"name": "zstd"}, {"name": "bytes"}] if version == "0.5" else
                    [{"name": "zstd"}, {"name": "gzip"}])
    assert not (tmp_path / "bad.zarr").exists()


MEMORY_SCRIPT = """
import sys
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
from omezarr_fast.ome.convert import convert
import numpy, tifffile, zarr
base = status("VmRSS")
convert(sys.argv[1], sys.argv[2], progress=False, chunks=[1, 256, 256], shards=[1, 1024, 1024])
print(base, status("VmHWM"))
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="VmHWM is Linux's")
def test_compressed_tiled_tiff_streams_in_a_few_shards(tmp_path):
    """A 128 MiB zlib-tiled OME-TIFF: peak RSS above the imports stays within a few shards
    (2 MiB each here) plus a fixed overhead, far below the image (the issue's 200 MiB
    file peaked at 369 MB when it was loaded whole)."""
    yy, xx = np.mgrid[:8192, :4096]
    ch = ((yy * 7 + xx * 3) % 4099).astype(np.uint16)
    data = np.stack([ch, ch[::-1]])
    path = tmp_path / "big.ome.tif"
    tifffile.imwrite(path, data, tile=(256, 256), compression="zlib", ome=True,
                     metadata={"axes": "CYX"})
    del yy, xx, ch
    out = tmp_path / "big.ome.zarr"
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(path), str(out)],
                       capture_output=True, text=True, env=env, timeout=300, check=False)
    assert p.returncode == 0, p.stderr
    base, hwm = map(int, p.stdout.split())
    shard = 1024 * 1024 * 2
    levels = len(open_image(out / "0").levels)
    assert hwm - base < 24 * 2**20 + (levels + 3) * shard, (hwm - base) / 2**20
    assert hwm - base < data.nbytes // 3
    np.testing.assert_array_equal(open_image(out / "0").levels[0][:, 4000:4100, :], data[:, 4000:4100, :])


def test_write_image_normalises_units(tmp_path):
    data = np.zeros((2, 4, 8, 8), np.uint8)
    p = write_image(data, tmp_path / "u.zarr", axes="tzyx", units=["ms", "µm", "um", "micron"],
                    progress=False)
    assert [a.unit for a in open_image(p).multiscale.axes] == ["millisecond"] + ["micrometer"] * 3
    with pytest.raises(ValueError, match="not a unit of space"):
        write_image(data, tmp_path / "v.zarr", axes="tzyx", units={"z": "ms"}, progress=False)
    assert not (tmp_path / "v.zarr").exists()
