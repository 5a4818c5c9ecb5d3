"""The additive SessionWriter methods used by importers: optional extra datasets and bulk gaps."""

from __future__ import annotations

import numpy as np
import pytest

from insole.errors import SessionFileError
from insole.layouts import builtin_layout
from insole.session import Gap, GapCause, SessionMetadata, SessionWriter, gap_intervals_s, open_session, read_session


def test_extras_are_written_and_tolerated_by_validation(tmp_path):
    path = tmp_path / "s.h5"
    with SessionWriter(path, SessionMetadata(subject_id="S1"), source="imported") as w:
        w.add_foot("left", builtin_layout(8), units="N", sampling_rate_hz=100)
        w.append("left", np.arange(5) / 100, np.ones((5, 8)))
        w.write_extra("left", "temperature_c", np.arange(30.0).reshape(5, 6), columns="a,b,c,d,e,f")
        w.write_extra("vendor_events/left", "ic_s", np.array([0.01, 0.03]), event="initial contact")
        w.write_extra("vendor_signals/left", "labels", np.array(["a", "b"]))
        w.set_attrs("vendor_events", vendor_computed=True)
        w.add_gaps("left", [Gap(0.01, 0.01, 1, GapCause.NO_DATA, "one"), Gap(0.03, 0.02, 1, GapCause.NO_DATA, "two")])
        for where, name in (("left", "pressure"), ("left", "gaps"), ("left/gaps", "cause"), ("left/sensors", "x_mm"),
                            ("left", "imu"), ("left/imu", "acc_m_s2")):
            with pytest.raises(SessionFileError, match="core member"):
                w.write_extra(where, name, np.zeros((5, 8)))
        with pytest.raises(SessionFileError, match="takes Gap records"):
            w.add_gaps("left", [(0.0, 0.0, "x")])  # type: ignore[list-item]
    s = read_session(path)
    gaps = s.feet["left"].gaps
    np.testing.assert_array_equal(gap_intervals_s(gaps), [[0.01, 0.01], [0.03, 0.03]])  # end never before start
    assert [(g.cause, g.n_frames, g.message) for g in gaps] == [(GapCause.NO_DATA, 1, "one"),
                                                                 (GapCause.NO_DATA, 1, "two")]
    with open_session(path) as sf:
        assert sf.extras() == ["left/temperature_c", "vendor_events/left/ic_s", "vendor_signals/left/labels"]
        assert sf.extra_groups() == ["vendor_events", "vendor_signals"]
        extra = sf.read_extra("left/temperature_c")
        assert isinstance(extra, np.ndarray) and extra.shape == (5, 6)
        assert sf.extra_attrs("left/temperature_c")["columns"] == "a,b,c,d,e,f"
        np.testing.assert_array_equal(sf.read_extra("vendor_events/left/ic_s"), [0.01, 0.03])
        assert list(sf.read_extra("vendor_signals/left/labels")) == ["a", "b"]
        assert sf.extra_attrs("vendor_events")["vendor_computed"] is True
        with pytest.raises(SessionFileError, match="no optional dataset /left/pressure"):
            sf.read_extra("left/pressure")
