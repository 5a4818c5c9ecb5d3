"""The additive SessionWriter methods used by importers: optional extra datasets and bulk gaps."""

from __future__ import annotations

import numpy as np
import pytest

from insole.errors import SessionFileError
from insole.layouts import builtin_layout
from insole.session_file import SessionMetadata, SessionWriter, open_session, read_session


def test_extras_are_written_and_tolerated_by_validation(tmp_path):
    path = tmp_path / "s.h5"
    with SessionWriter(path, SessionMetadata(subject_id="S1"), source="imported") as w:
        w.add_foot("left", builtin_layout(8), units="N", sampling_rate_hz=100)
        w.append("left", np.arange(5) / 100, np.ones((5, 8)))
        w.write_extra("left", "imu", np.arange(30.0).reshape(5, 6), columns="a,b,c,d,e,f")
        w.write_extra("vendor_events/left", "ic_s", np.array([0.01, 0.03]), event="initial contact")
        w.set_attrs("vendor_events", vendor_computed=True)
        w.add_gaps("left", np.array([[0.01, 0.01], [0.03, 0.02]]), ["one", "two"])
        with pytest.raises(SessionFileError, match="core dataset"):
            w.write_extra("left", "pressure", np.zeros((5, 8)))
        with pytest.raises(SessionFileError, match="2 gaps but 1 causes"):
            w.add_gaps("left", np.zeros((2, 2)), ["x"])
    s = read_session(path)
    np.testing.assert_array_equal(s.feet["left"].gaps, [[0.01, 0.01], [0.03, 0.03]])  # end never before start
    assert s.feet["left"].gap_causes == ["one", "two"]
    with open_session(path) as sf:
        assert sf.h5["left/imu"].shape == (5, 6) and sf.h5["left/imu"].attrs["columns"] == "a,b,c,d,e,f"
        np.testing.assert_array_equal(sf.h5["vendor_events/left/ic_s"][()], [0.01, 0.03])
        assert sf.h5["vendor_events"].attrs["vendor_computed"]
