"""Soak: two insoles for 30 minutes of data (accelerated) on a faulty link, with exact frame accounting.

Bit flips at 1e-3 per byte, noise bursts, burst losses, disconnections, reboots and writer stalls at seeded random
times (:mod:`insole.emulation.soak`). Prints, per foot, frames sent / recorded / in gaps (by cause) and whether the
accounting is exact, corrupt frames stored, then RSS and CPU time sampled during the run (first / last / peak) and
the wall time. Exit status 1 if the accounting is not exact, a corrupt frame was stored or the file does not
validate.

    python benchmarks/soak.py                 # 30 minutes of data
    python benchmarks/soak.py --minutes 3 --seed 7 --json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from insole.emulation.soak import run_soak


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0, help="minutes of data per insole")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--stalls", type=int, default=6, help="writer stalls")
    ap.add_argument("--json", action="store_true", help="print the whole report as JSON")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "soak.h5"
        r = run_soak(path, minutes=args.minutes, seed=args.seed, stalls=args.stalls)
        size_mb = path.stat().st_size / 1e6
    res = r["resources"]
    if args.json:
        print(json.dumps(r, indent=1, default=str))
    print(f"soak: {args.minutes:g} min of data per insole, seed {args.seed}, {r['stalls']} writer stalls of "
          f"{r['stall_s']:g} s; wall {r['wall_s']:.1f} s; file {size_mb:.1f} MB, valid: {r['valid']}; "
          f"stopped because: {r['stopped_because']}")
    ok = r["valid"]
    for side, f in r["feet"].items():
        causes = ", ".join(f"{k} {v}" for k, v in sorted(f["gaps_by_cause"].items()))
        print(f"  {side}: sent {f['sent']}, recorded {f['recorded']}, in gaps {f['in_gaps']} ({causes}); "
              f"recorded + gaps == sent: {f['exact']}; corrupt stored {f['corrupt_stored']}, in order "
              f"{f['in_order']}; damaged on the wire {f['damaged_on_wire']} (CRC failures "
              f"{f['decoder']['crc_failures']}, framing errors {f['decoder']['framing_errors']}); faults planned "
              f"{f['plan']}")
        ok = ok and f["exact"] and f["corrupt_stored"] == 0 and f["in_order"]
    first, last = res[0], res[-1]
    peak = max(res, key=lambda x: x[1])
    print(f"  RSS MB: first {first[1]:.1f}, last {last[1]:.1f}, peak {peak[1]:.1f} (at {peak[0]:.0f} s); "
          f"CPU s: {last[2] - first[2]:.1f} over {last[0]:.0f} s wall ({len(res)} samples)")
    step = max(1, len(res) // 10)
    print("  samples (wall s, RSS MB, CPU s): " + ", ".join(f"({t:.0f}, {m:.1f}, {c:.1f})" for t, m, c in res[::step]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
