"""discovery.editorial: the CSV, CMX3600 EDL and OTIO of one event plan name the same frames.

The EDL and the OTIO file are read back with OpenTimelineIO (the EDL through the cmx_3600
adapter plugin when it is installed, and always through a plain parser of the event lines) and
compared with the CSV: same events, same source in/out within one frame.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest

from vidsift.discovery.editorial import (
    CSV_COLUMNS,
    Source,
    check_template,
    nominal_rate,
    plan_events,
    render_name,
    smpte,
    write_clips,
    write_contact_sheet,
    write_csv,
    write_edl,
    write_otio,
)
from vidsift.errors import BadInputError
from vidsift.video.segment import Segment
from vidsift.video.timeline import Timeline


def seg(vid: str, path: str, start: float, end: float, rate: float = 25.0, group: str = "", **kw) -> Segment:
    return Segment(vid, path, start, end, int(round(start * rate)), max(int(round(start * rate)), int(round(end * rate)) - 1),
                   group=group, **kw)


@pytest.fixture
def plan():
    # a: 25 fps, no timeline; b: variable frame rate with a stored timeline; c: 30000/1001
    vfr = Timeline(pts=np.array([0.0, 0.04, 0.08, 0.2, 0.24, 0.28, 0.32, 0.5, 0.54]), keyframes=np.array([0, 3, 7]))
    sources = {
        "a": Source("/v/alpha.mp4", 25.0, 100, has_audio=True),
        "b": Source("/v/beta.mov", 25.0, 9, timeline=vfr),
        "c": Source("/v/gamma.mp4", 29.97002997, 300),
    }
    segments = [
        seg("a", "/v/alpha.mp4", 0.4, 1.0, group="3", best_frame=12, best_time=0.48, distance=0.25),
        seg("b", "/v/beta.mov", 0.1, 0.3, group="3", best_time=0.24, score=0.9),
        seg("c", "/v/gamma.mp4", 2.0, 3.0, 29.97, group="7"),
        seg("a", "/v/alpha.mp4", 3.0, 3.0, group="7"),  # a single hit: one frame
    ]
    return plan_events(segments, sources)


def test_plan_maps_seconds_to_source_frames_and_cumulative_record(plan):
    a, b, c, d = plan
    assert (a.src_in, a.src_out, a.best, a.rec_in, a.rec_out) == (10, 25, 12, 90000, 90015)
    # the timeline decides for b: first frame at/after 0.1 is 3 (0.2 s), at/after 0.3 is 6 (0.32 s);
    # its timecodes count time at 25 fps (as an editor conforms variable-rate footage)
    assert (b.frame_in, b.frame_out, b.best) == (3, 6, 4)
    assert (b.start, b.end) == (0.2, 0.32) and (b.src_in, b.src_out) == (5, 8)
    assert b.rec_in == a.rec_out and b.rec_out == b.rec_in + 3
    assert (a.frame_in, a.frame_out) == (a.src_in, a.src_out)
    assert c.rate == pytest.approx(30000 / 1001) and (c.src_in, c.src_out) == (60, 90)
    assert c.rec_out - c.rec_in == round(30 * 25 / c.rate)  # record at the first source's 25 fps
    assert (d.src_in, d.src_out) == (75, 76)  # at least one frame
    assert [e.reel for e in plan] == ["ALPHA", "BETA", "GAMMA", "ALPHA"]


@pytest.mark.parametrize("rate", [30000 / 1001, 24000 / 1001, 25.0, 60000 / 1001])
def test_the_record_timeline_starts_at_one_hour_at_every_rate(rate):
    """01:00:00:00 is a timecode: at 29.97 it is frame 108000 (30 labels a second), not 3600 s x 29.97."""
    e = plan_events([seg("a", "/v/a.mp4", 0.0, 1.0)], {"a": Source("/v/a.mp4", rate, 100)})[0]
    assert smpte(e.rec_in, e.rec_rate) == "01:00:00:00"
    assert e.rec_out - e.rec_in == e.src_out - e.src_in


def test_plan_pads_and_checks():
    s = [seg("a", "/v/a.mp4", 0.0, 0.4)]
    e = plan_events(s, {"a": Source("/v/a.mp4", 25.0, 20)}, pad=1.0)[0]
    assert (e.src_in, e.src_out) == (0, 20)  # padded, kept inside the video
    with pytest.raises(BadInputError, match="no segments"):
        plan_events([], {})
    with pytest.raises(BadInputError, match="no source information"):
        plan_events(s, {})


def test_timecodes():
    assert smpte(25 * 3600, 25) == "01:00:00:00"
    assert smpte(29, 30000 / 1001) == "00:00:00:29"
    assert nominal_rate(23.976) == pytest.approx(24000 / 1001) and nominal_rate(25.0001) == 25.0
    with pytest.raises(BadInputError, match="not a positive"):
        nominal_rate(0)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return rows


EVENT = re.compile(r"^(\d{3})\s+(\S+)\s+(\S+)\s+C\s+(\S+) (\S+) (\S+) (\S+)$")


def tc_frames(tc: str, rate: float) -> int:
    h, m, s, f = map(int, tc.split(":"))
    n = round(rate)
    return ((h * 60 + m) * 60 + s) * n + f


def test_edl_and_otio_match_the_csv(plan, tmp_path):
    write_csv(tmp_path / "s.csv", plan)
    write_edl(tmp_path / "s.edl", plan, title="test")
    write_otio(tmp_path / "s.otio", plan, title="test")
    rows = read_csv(tmp_path / "s.csv")
    assert list(rows[0]) == list(CSV_COLUMNS) and len(rows) == len(plan)

    # plain parse of the EDL's event lines
    lines = (tmp_path / "s.edl").read_text().splitlines()
    assert lines[:2] == ["TITLE: test", "FCM: NON-DROP FRAME"]
    events = [m.groups() for m in map(EVENT.match, lines) if m]
    assert len(events) == len(rows)
    for ev, row in zip(events, rows, strict=True):
        num, reel, channel, s_in, s_out, r_in, r_out = ev
        rate = float(row["rate"])
        assert int(num) == int(row["index"]) and reel == row["reel"]
        assert abs(tc_frames(s_in, rate) / rate - float(row["start"])) <= 1 / rate + 1e-9
        assert abs(tc_frames(s_out, rate) / rate - float(row["end"])) <= 1 / rate + 1e-9
        assert (s_in, s_out, r_in, r_out) == (row["src_in"], row["src_out"], row["rec_in"], row["rec_out"])
    assert events[0][2] == "AA/V" and events[1][2] == "V"
    assert "* FROM CLIP: /v/alpha.mp4" in lines and "* LOC: 00:00:00:12 GREEN   BEST" in lines

    # the OTIO file, read back by opentimelineio
    tl = otio.adapters.read_from_file(str(tmp_path / "s.otio"))
    clips = list(tl.tracks[0])
    assert len(tl.tracks) == 1 and len(clips) == len(rows)
    for clip, row in zip(clips, rows, strict=True):
        r = clip.source_range
        assert r.start_time.rate == pytest.approx(float(row["rate"]), rel=1e-6)
        assert abs(r.start_time.to_seconds() - float(row["start"])) <= 1 / r.start_time.rate + 1e-9
        assert abs(r.end_time_exclusive().to_seconds() - float(row["end"])) <= 1 / r.start_time.rate + 1e-9
        assert clip.media_reference.target_url == Path(row["path"]).absolute().as_uri()
        meta = clip.metadata["vidsift"]
        assert meta["video_id"] == row["video_id"] and meta["group"] == row["group"]
        assert clip.markers[0].name == "BEST"
    assert clips[0].metadata["vidsift"]["distance"] == 0.25
    assert clips[0].media_reference.available_range.duration.value == 100
    assert tl.global_start_time.value == 90000


def test_edl_read_by_the_otio_cmx3600_adapter(plan, tmp_path):
    if "cmx_3600" not in otio.adapters.available_adapter_names():
        pytest.skip("the otio-cmx3600-adapter plugin is not installed")
    same_rate = [e for e in plan if e.rate == 25.0]  # one EDL rate when read back
    events = plan_events([e.segment for e in same_rate],
                         {e.segment.video_id: e.source for e in same_rate})
    write_csv(tmp_path / "s.csv", events)
    write_edl(tmp_path / "s.edl", events)
    rows = read_csv(tmp_path / "s.csv")
    tl = otio.adapters.read_from_file(str(tmp_path / "s.edl"), rate=25)
    video = next(t for t in tl.tracks if t.kind == otio.schema.TrackKind.Video)
    clips = [c for c in video if isinstance(c, otio.schema.Clip)]
    assert len(clips) == len(rows)
    for clip, row in zip(clips, rows, strict=True):
        r = clip.source_range
        assert abs(r.start_time.to_seconds() - float(row["start"])) <= 1 / 25 + 1e-9
        assert abs(r.end_time_exclusive().to_seconds() - float(row["end"])) <= 1 / 25 + 1e-9
        assert clip.media_reference.target_url == row["path"]
        assert clip.metadata["cmx_3600"]["reel"] == row["reel"]
    assert [a.name for a in tl.tracks] == ["V", "A1", "A2"]  # AA/V: the first source has audio


def test_templates(plan):
    check_template("{index:03d}-{video}-{cluster}-{start}-{end}-{label}-{video_id}-{frame}-{group}")
    for bad, msg in [("../{video}", "leave the export folder"), ("a/{video}", "leave"), ("{video}\\x", "leave"),
                     ("{video.__class__}", "unknown field"), ("{nope}", "unknown field"), ("{video!r}", "unknown field"),
                     ("{video:{index}}", "unknown field"), ("", "empty"), ("{video", "use fields")]:
        with pytest.raises(BadInputError, match=msg):
            check_template(bad)
    assert render_name("{video}-{cluster}-{start}", plan[0]) == "alpha-3-00h00m00s400"
    assert render_name("{index:03d}_{label}_{video}", plan[1]) == "002_beta"  # empty label collapsed
    hostile = plan_events([Segment("x/../y", "../../etc/pa ss?wd.mp4", 0, 1, 0, 24, group="../..")],
                          {"x/../y": Source("../../etc/pa ss?wd.mp4", 25.0)})[0]
    name = render_name("{video}-{cluster}-{video_id}", hostile)
    assert name == "pa_ss_wd-x_y"  # separators and dots collapsed: never a path


def test_write_clips_names_skips_and_caps(plan, tmp_path):
    root = tmp_path.resolve()
    calls = []

    def cutter(src, target, start, end):
        calls.append((src, target.name, start, end))
        target.write_bytes(b"clip")
        return type("R", (), {"mode": "copy", "reason": "ok", "frames": 1})()

    present = tmp_path / "alpha.mp4"
    present.write_bytes(b"x")
    events = plan_events([seg("a", str(present), 0.4, 1.0, group="3"), seg("a", str(present), 0.4, 1.0, group="3"),
                          seg("b", str(tmp_path / "gone.mp4"), 0, 1)],
                         {"a": Source(str(present), 25.0), "b": Source(str(tmp_path / "gone.mp4"), 25.0, exists=False)})
    out = write_clips(events, root, template="{video}-{cluster}-{start}", cutter=cutter)
    assert [(o.mode, o.file) for o in out] == [("copy", "clips/alpha-3-00h00m00s400.mp4"),
                                               ("copy", "clips/alpha-3-00h00m00s400-2.mp4"), ("skipped", None)]
    assert "source file is missing" in out[2].reason
    assert calls[0][2:] == (0.4, 1.0)
    assert len(write_clips(events, root, folder="c2", max_clips=1, cutter=cutter)) == 1


def test_contact_sheet(tmp_path):
    imgs = [np.full((24, 32, 3), 200, np.uint8), None, np.zeros((40, 20, 3), np.uint8)]
    p = write_contact_sheet(tmp_path / "s.jpg", imgs, [["#1", "00:00:00:01"], ["#2", "x" * 80], ["#3", ""]], cols=2)
    from PIL import Image

    with Image.open(p) as im:
        assert im.format == "JPEG" and im.width > 2 * 96 and im.height > 2 * 96
    with pytest.raises(BadInputError, match="captions"):
        write_contact_sheet(tmp_path / "t.png", imgs, [["a"]])


def test_segment_round_trips_through_its_dict():
    s = Segment("v1", "/f/a.mp4", 2.0, 4.5, 50, 111, best_frame=60, best_time=2.4, distance=0.25, group="3", frames=4)
    assert Segment.from_dict(s.to_dict()) == s
    with pytest.raises(ValueError, match="lacks start"):
        Segment.from_dict({"video_id": "v", "path": "p", "end": 1, "first_frame": 0, "last_frame": 1})
