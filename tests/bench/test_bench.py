"""omezarr_fast.bench: grid, sampling, Pareto fronts and recommendations on fixed measurements."""
import json

import numpy as np
import pytest

from omezarr_fast import bench
from omezarr_fast.bench import BenchError, Result, Stat
from omezarr_fast.bench.grid import describe, family_of


def fake(name, ratio, dec, enc, family="zstd", codecs=True):
    """A Result with fixed speeds (MB/s) and a ratio, as if measured."""
    def s(v):
        return Stat(v, v, v, [v])

    raw = 1_000_000
    return Result(name, family, [{"name": name}] if codecs else None, "fake", raw, round(raw / ratio),
                  encode_1=s(enc), decode_1=s(dec), encode_n=s(enc), decode_n=s(dec))


# ---- grid -------------------------------------------------------------------------------------------

def test_grid_counts_and_names():
    g = bench.codec_grid("uint16", 3, zstd_levels=(-3, 19), blosc_cnames=("lz4", "zstd"),
                         blosc_shuffles=("shuffle", "bitshuffle"), blosc_clevels=(1, 9), gzip_levels=(6,))
    assert len(g) == 1 + 2 + 2 * 2 * 2 + 1
    names = [c.name for c in g]
    assert names[:3] == ["uncompressed", "zstd -3", "zstd 19"]
    assert "blosc zstd/bitshuffle/9" in names and names[-1] == "gzip 6"
    blosc = next(c for c in g if c.name == "blosc lz4/shuffle/1")
    assert blosc.family == "blosc-lz4"
    assert blosc.codecs == [{"name": "bytes", "configuration": {"endian": "little"}},
                            {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 1, "shuffle": "shuffle",
                                                                "typesize": 2, "blocksize": 0}}]


def test_default_grid_spans_negative_to_19_plus():
    levels = [c.codecs[-1]["configuration"]["level"] for c in bench.codec_grid("uint8", 2) if c.family == "zstd"]
    assert min(levels) < 0 and max(levels) >= 19


def test_grid_transpose_in_front():
    g = bench.codec_grid("float32", 3, zstd_levels=(3,), blosc_cnames=(), gzip_levels=(), uncompressed=False,
                         transposes=(None, (2, 1, 0)))
    assert [c.name for c in g] == ["zstd 3", "T(2,1,0) zstd 3"]
    assert g[1].codecs[0] == {"name": "transpose", "configuration": {"order": [2, 1, 0]}}
    assert g[1].family == "T+zstd"
    with pytest.raises(BenchError, match="permutation"):
        bench.codec_grid("uint8", 3, transposes=((0, 1),))


def test_parse_codecs_json_and_bytes_insertion():
    chain = bench.parse_codecs_json('{"name": "zstd", "configuration": {"level": 5}}')
    full = bench.with_bytes_codec(chain, "uint16")
    assert [c["name"] for c in full] == ["bytes", "zstd"]
    t = bench.parse_codecs_json('[{"name": "transpose", "configuration": {"order": [1, 0]}}, {"name": "gzip"}]')
    assert [c["name"] for c in bench.with_bytes_codec(t, "uint8")] == ["transpose", "bytes", "gzip"]
    with pytest.raises(BenchError, match="not valid JSON"):
        bench.parse_codecs_json("[{")
    with pytest.raises(BenchError, match="unknown codec name 'nope'"):
        bench.with_bytes_codec(bench.parse_codecs_json('[{"name": "nope"}]'), "uint8")


def test_describe_and_family_of_any_chain():
    chain = [{"name": "bytes"}, {"name": "zstd", "configuration": {"level": 3, "checksum": True}},
             {"name": "crc32c"}]
    assert describe(chain) == "zstd 3 +ck crc32c"
    assert family_of(chain) == "zstd"
    assert family_of([{"name": "bytes"}]) == "none"
    shard = [{"name": "sharding_indexed", "configuration": {"chunk_shape": [8], "codecs": chain}}]
    assert describe(shard) == "shard[zstd 3 +ck crc32c]" and family_of(shard) == "shard+zstd"


def test_sharded_chain_runs_through_zarr():
    inner = [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "zstd", "configuration": {"level": 3}}]
    chain = [{"name": "sharding_indexed", "configuration": {"chunk_shape": [8, 8], "codecs": inner}}]
    cfg = bench.make_config(bench.with_bytes_codec(chain, "uint16"))
    a = np.repeat(np.arange(64, dtype=np.uint16), 64).reshape(64, 64)    # smooth: compresses well
    report = bench.run_benchmark(a, [cfg], chunk_shape=(32, 32), repeats=1, threads=2)
    assert report.results[0].engine == "zarr" and report.results[0].ratio > 1.2


# ---- sampling ---------------------------------------------------------------------------------------

def test_sample_chunks_spread_over_whole_array():
    a = np.arange(8 * 40 * 40, dtype=np.int32).reshape(8, 40, 40)
    chunks, pos = bench.sample_chunks(a, (2, 10, 10), max_chunks=5)
    grid = (4, 4, 4)
    assert len(chunks) == 5
    assert pos[0] == (0, 0, 0) and pos[-1] == (3, 3, 3)     # first and last chunk of the grid
    assert len({p[0] for p in pos}) >= 3                    # not clustered in one slab
    for c, p in zip(chunks, pos):
        sel = tuple(slice(i * s, (i + 1) * s) for i, s in zip(p, (2, 10, 10)))
        np.testing.assert_array_equal(c, a[sel])
        assert all(i < g for i, g in zip(p, grid))


def test_sample_chunks_only_whole_chunks_and_clipping():
    a = np.ones((5, 7), np.uint8)
    chunks, pos = bench.sample_chunks(a, (2, 100))
    assert {c.shape for c in chunks} == {(2, 7)}
    assert pos == [(0, 0), (1, 0)]                          # the partial third row-chunk is never taken
    chunks, _ = bench.sample_chunks(a, (2, 2), max_bytes=9)
    assert len(chunks) == 2


def test_sample_chunks_bad_input():
    with pytest.raises(BenchError, match="empty"):
        bench.sample_chunks(np.zeros((0, 4)), (1, 4))
    with pytest.raises(BenchError, match="dimensions"):
        bench.sample_chunks(np.zeros((4, 4)), (4,))


def test_guess_chunk_shape():
    assert bench.guess_chunk_shape((3, 100, 2048, 2048), "uint16") == (1, 25, 128, 128) or \
        np.prod(bench.guess_chunk_shape((3, 100, 2048, 2048), "uint16")) * 2 <= 1 << 20
    assert bench.guess_chunk_shape((10, 10), "uint8") == (10, 10)


def test_synthetic_sample_is_microscopy_like():
    a = bench.synthetic_sample((2, 8, 128, 128))
    assert a.dtype == np.uint16 and a.shape == (2, 8, 128, 128)
    image, labels = a
    assert image.min() > 0 and image.std() > 10                # offset + noise + structure
    assert 0.02 < (labels > 0).mean() < 0.3                     # sparse labels
    assert len(np.unique(labels)) > 2                           # several ids
    np.testing.assert_array_equal(a, bench.synthetic_sample((2, 8, 128, 128)))   # repeatable


# ---- Pareto and recommendation on fixed measurements ------------------------------------------------

RESULTS = [
    fake("none", 1.0, dec=5000, enc=5000, family="none"),
    fake("lz4", 2.0, dec=3000, enc=1500, family="blosc-lz4"),
    fake("zstd1", 2.5, dec=1000, enc=400),
    fake("zstd3", 2.6, dec=900, enc=300),
    fake("gzip6", 2.4, dec=400, enc=60, family="gzip"),     # dominated in both directions
    fake("zstd19", 3.0, dec=950, enc=5),
]


def test_pareto_front_exact():
    assert bench.pareto_front([(1, 5), (2, 3), (2.5, 1), (2.4, 0.4), (3, 0.95)]) == [0, 1, 2, 4]
    assert bench.pareto_front([(2, 2), (2, 2), (1, 1)]) == [0, 1]          # equal points both stay
    assert bench.pareto_front([(1, 1), (1, 2)]) == [1]                      # better speed, same ratio
    assert bench.pareto_front([]) == []


def test_mark_fronts_decode_and_encode():
    from omezarr_fast.bench.pareto import mark_fronts

    mark_fronts(RESULTS)
    assert [r.name for r in RESULTS if r.pareto_decode] == ["none", "lz4", "zstd1", "zstd19"]
    assert [r.name for r in RESULTS if r.pareto_encode] == ["none", "lz4", "zstd1", "zstd3", "zstd19"]


@pytest.mark.parametrize("goal, kw, expected", [
    ("ratio", {}, "zstd19"),
    ("decode", {}, "lz4"),              # 'none' is faster but does not compress
    ("encode", {}, "lz4"),
    # Scaled (ratio, log decode, log encode) over the compressing five: zstd3 (0.6, 0.40, 0.72) is
    # 0.772 from the (1, 1, 1) corner, zstd1 (0.5, 0.45, 0.77) 0.775, lz4 (0, 1, 1) 1.0.
    ("balanced", {}, "zstd3"),
    ("ratio", {"min_decode_mbps": 960}, "zstd1"),
    ("ratio", {"min_decode_mbps": 2000}, "lz4"),
    ("decode", {"min_decode_mbps": 100}, "lz4"),
])
def test_recommend(goal, kw, expected):
    rec = bench.recommend(RESULTS, goal, **kw)
    assert rec.result.name == expected
    assert rec.codecs == [{"name": expected}]
    assert rec.goal == goal and rec.reason


def test_recommend_balanced_prefers_the_knee():
    results = [fake("fast", 1.5, dec=3000, enc=3000), fake("knee", 2.8, dec=2000, enc=1500),
               fake("tight", 3.0, dec=100, enc=5)]
    assert bench.recommend(results, "balanced").result.name == "knee"


def test_recommend_errors():
    with pytest.raises(BenchError, match="goal must be one of"):
        bench.recommend(RESULTS, "smallest")
    with pytest.raises(BenchError, match="no configuration decodes at 9000 MB/s.*none"):
        bench.recommend(RESULTS, "ratio", min_decode_mbps=9000)
    with pytest.raises(BenchError, match="no measured"):
        bench.recommend([fake("memcpy", 1.0, 1, 1, codecs=False)])


# ---- measuring through runners ----------------------------------------------------------------------

class FakeRunner:
    """Stores chunks as raw bytes, halved: a 'ratio 2' codec that counts its calls."""
    engine = "fake"

    def __init__(self):
        self.calls = []

    def encode_batch(self, arrays, threads):
        self.calls.append(("encode", threads))
        return [np.frombuffer(a.tobytes()[: a.nbytes // 2], np.uint8) for a in arrays]

    def decode_batch(self, datas, threads):
        self.calls.append(("decode", threads))
        return [np.zeros((4, 4), np.uint16) for _ in datas]   # the inputs are zeros


def test_run_benchmark_with_fake_runner_and_time_budget():
    src = np.zeros((8, 8), np.uint16)
    configs = [bench.make_config([{"name": "bytes"}, {"name": "zstd", "configuration": {"level": i}}])
               for i in (1, 2)]
    runners = {}

    def factory(cfg, chunk_shape, dtype):
        assert chunk_shape == (4, 4) and dtype == np.uint16
        return runners.setdefault(cfg.name, FakeRunner())

    report = bench.run_benchmark(src, configs, chunk_shape=(4, 4), repeats=2, threads=3,
                                 runner_factory=factory)
    assert [r.name for r in report.results] == ["zstd 1", "zstd 2"]
    assert all(r.ratio == 2.0 and r.engine == "fake" for r in report.results)
    assert len(report.sampled_chunks) == 4 and report.sample_bytes == 128
    assert {t for _, t in runners["zstd 1"].calls} == {1, 3}
    assert len(report.results[0].decode_n.samples) == 2
    assert report.memcpy.ratio == 1.0 and report.memcpy.codecs is None
    d = report.to_dict()
    assert d["results"][0]["codecs"][1]["name"] == "zstd"
    back = bench.BenchReport.from_dict(json.loads(json.dumps(d)))
    assert back.to_dict() == d

    # A budget already spent skips every configuration and says which.
    report = bench.run_benchmark(src, configs, chunk_shape=(4, 4), repeats=1, threads=1, time_budget=1e-9,
                                 runner_factory=factory)
    assert report.results == [] and report.skipped == ["zstd 1", "zstd 2"]


def test_run_benchmark_detects_a_bad_round_trip():
    class Liar(FakeRunner):
        def decode_batch(self, datas, threads):
            return [np.ones((4, 4), np.uint16) for _ in datas]

    liar, honest = bench.make_config([{"name": "bytes"}]), bench.make_config([{"name": "gzip"}])
    report = bench.run_benchmark(np.zeros((4, 4), np.uint16), [liar, honest], repeats=1, threads=1,
                                 runner_factory=lambda cfg, *a: Liar() if cfg is liar else FakeRunner())
    assert report.failed == [("uncompressed", "uncompressed (fake) did not round-trip chunk 0")]
    assert [r.name for r in report.results] == ["gzip ?"]     # the others are still measured
    assert bench.BenchReport.from_dict(report.to_dict()).failed == report.failed


@pytest.mark.parametrize("engine", ["native", "zarr"])
def test_real_engines_agree_on_ratio(engine):
    a = bench.synthetic_sample((2, 4, 64, 64))
    cfg = bench.codec_grid(a.dtype, 4, zstd_levels=(3,), blosc_cnames=("lz4",), blosc_shuffles=("shuffle",),
                           blosc_clevels=(5,), gzip_levels=(1,))
    report = bench.run_benchmark(a, cfg, chunk_shape=(1, 4, 32, 32), repeats=1, threads=2, engine=engine)
    assert {r.engine for r in report.results} == {engine}
    by = {r.name: r.ratio for r in report.results}
    assert by["uncompressed"] == 1.0 and by["zstd 3"] > 1.5 and by["blosc lz4/shuffle/5"] > 1.2


def test_chain_the_native_core_cannot_run_is_measured_by_zarr():
    # numcodecs' delta filter is a zarr codec the native core does not have.
    chain = [{"name": "numcodecs.delta", "configuration": {"dtype": "<u2"}},
             {"name": "bytes", "configuration": {"endian": "little"}},
             {"name": "zstd", "configuration": {"level": 1}}]
    runner = bench.make_runner(chain, (64,), np.uint16)
    assert runner.engine == "zarr"
    a = np.arange(64, dtype=np.uint16)
    np.testing.assert_array_equal(runner.decode_batch(runner.encode_batch([a], 2), 2)[0], a)
    with pytest.raises(BenchError, match="native engine cannot run"):
        bench.make_runner(chain, (64,), np.uint16, engine="native")


def test_slow_configurations_get_fewer_repeats():
    cfg = bench.make_config([{"name": "bytes"}])
    chunks = [np.zeros((4, 4), np.uint16)] * 2
    r = bench.measure_config(cfg, chunks, threads=2, repeats=5, runner=FakeRunner(), max_seconds=0.0, min_time=0)
    assert r.repeats == 1 and len(r.encode_1.samples) == 1 and len(r.decode_n.samples) == 1
    r = bench.measure_config(cfg, chunks, threads=2, repeats=5, runner=FakeRunner(), min_time=0)
    assert r.repeats == 5 and len(r.decode_1.samples) == 5


def test_run_benchmark_restores_the_thread_count():
    import omezarr_fast

    before = omezarr_fast.get_num_threads()
    cfg = bench.codec_grid("uint8", 1, zstd_levels=(1,), blosc_cnames=(), gzip_levels=(), uncompressed=False)
    bench.run_benchmark(np.zeros(64, np.uint8), cfg, chunk_shape=(16,), repeats=1, threads=before + 1)
    assert omezarr_fast.get_num_threads() == before


# ---- what zarr would write; names that differ ------------------------------------------------------

BLOSC_NO_TYPESIZE = [{"name": "bytes", "configuration": {"endian": "little"}},
                     {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle"}}]


def test_blosc_without_typesize_is_measured_as_zarr_writes_it():
    from omezarr_fast.bench.runners import canonical

    a = bench.synthetic_sample((2, 4, 64, 64))
    chain = canonical(BLOSC_NO_TYPESIZE)
    assert "typesize" not in chain[1]["configuration"]       # not zarr's dtype-less default of 1
    report = bench.run_benchmark(a, [bench.make_config(chain)], chunk_shape=(1, 4, 64, 64), repeats=1,
                                 threads=1)
    (r,) = report.results
    assert r.codecs[1]["configuration"]["typesize"] == 2      # uint16, as zarr.create_array would write
    zarr = pytest.importorskip("zarr")
    arr = zarr.create_array(zarr.storage.MemoryStore(), shape=a.shape, chunks=(1, 4, 64, 64), dtype=a.dtype,
                            serializer=chain[0], compressors=[chain[1]])
    assert list(arr.metadata.to_dict()["codecs"]) == r.codecs


def test_identical_chains_once_and_clashing_names_told_apart():
    from omezarr_fast.bench.runners import canonical

    a = bench.synthetic_sample((2, 4, 64, 64))
    grid = bench.codec_grid(a.dtype, 4, zstd_levels=(), blosc_cnames=("lz4",), blosc_shuffles=("shuffle",),
                            blosc_clevels=(5,), gzip_levels=(), uncompressed=False)
    typeless = bench.make_config(canonical(BLOSC_NO_TYPESIZE))
    one = canonical([BLOSC_NO_TYPESIZE[0], {"name": "blosc", "configuration": {
        "cname": "lz4", "clevel": 5, "shuffle": "shuffle", "typesize": 1}}])
    report = bench.run_benchmark(a, [*grid, typeless, bench.make_config(one)], chunk_shape=(1, 4, 64, 64),
                                 repeats=1, threads=1)
    names = [r.name for r in report.results]
    # the typeless chain is the grid's typesize-2 chain: measured once; typesize 1 is a different row
    assert names == ["blosc lz4/shuffle/5 (typesize=2)", "blosc lz4/shuffle/5 (typesize=1)"]
    assert report.results[0].ratio != report.results[1].ratio


def test_quick_grid_has_no_slow_zstd_levels():
    levels = [c.codecs[-1]["configuration"]["level"] for c in bench.codec_grid("uint16", 3, **bench.QUICK)
              if c.family == "zstd"]
    assert levels and max(levels) < 19 and 3 in levels


def test_memcpy_baseline_runs_native_and_restores_threads():
    import omezarr_fast

    before = omezarr_fast.get_num_threads()
    chunks = [np.arange(1001, dtype=np.uint16).reshape(7, 143) + i for i in range(3)]   # 2002 B: 3 leaves a tail
    r = bench.measure_memcpy(chunks, threads=3, repeats=1, min_time=0.001)
    assert r.engine == "native" and r.raw_bytes == 3 * 2002 and r.ratio == 1.0
    assert r.encode_1.median > 0 and r.decode_n.median > 0
    assert omezarr_fast.get_num_threads() == before


def test_plot_names_every_front_point_the_default_and_the_recommendation(tmp_path):
    pytest.importorskip("matplotlib")
    from omezarr_fast.bench import report as rep
    from omezarr_fast.bench.pareto import mark_fronts

    zstd3 = [{"name": "bytes", "configuration": {"endian": "little"}},
             {"name": "zstd", "configuration": {"level": 3, "checksum": False}}]
    # A crowded front: ten points within a few percent of each other.
    results = [fake(f"c{i}", 2.0 + 0.02 * i, dec=1000 - 20 * i, enc=500 - 10 * i) for i in range(10)]
    results.append(fake("zstd 3", 1.5, dec=300, enc=100))
    results[-1].codecs = zstd3
    mark_fronts(results)
    report = bench.BenchReport("fake", False, (4, 4), "uint16", (4, 4), [(0, 0)], 32, 2, 1, results, None)
    rec = bench.recommend(results, "balanced")
    fig = rep.figure(report, rec)
    for ax in fig.axes:
        texts = [t.get_text() for t in ax.texts]
        front = [r.name for r in results if r.pareto_decode] if ax is fig.axes[0] else \
            [r.name for r in results if r.pareto_encode]
        assert len(front) >= 10
        for name in front:
            assert any(t.startswith(name) for t in texts), (name, texts)
        assert "zstd 3 (library default)" in texts
        assert any(t == f"{rec.result.name} (recommended)" for t in texts)
        stars = [ln for ln in ax.lines if ln.get_marker() == "*"]
        assert len(stars) == 1 and list(stars[0].get_ydata()) == [rec.result.ratio]
    rep.plot(report, tmp_path / "p.png", recommended=rec)
    assert (tmp_path / "p.png").stat().st_size > 0


def test_progress_lines_when_not_a_terminal():
    import io

    from omezarr_fast.bench.report import progress_lines

    out = io.StringIO()
    a = bench.synthetic_sample((2, 4, 64, 64))
    configs = bench.codec_grid(a.dtype, 4, zstd_levels=(1,), blosc_cnames=(), gzip_levels=(1,))
    bench.run_benchmark(a, configs, chunk_shape=(1, 4, 64, 64), repeats=1, threads=1,
                        progress=progress_lines(out, every=0))
    lines = out.getvalue().splitlines()
    assert lines[0] == "bench: 0/3 configurations measured; next: uncompressed"
    assert lines[-1] == "bench: 3/3 configurations measured" and len(lines) == 4
