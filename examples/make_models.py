"""Write examples/models/: the trained reference CNNs the P4 example submissions hand in.

Takes the models the calibration script saved (tests/benchmarks/calibrate_p4.py --save-dir DIR),
drops their optimizer state (the grader never needs it, and it doubles the size) and adds an
untrained network for the weak example:

    python examples/make_models.py DIR [--seed 0] [--baseline-seed 0] [--more-data-seed 1]

baseline_more_data.keras is the course's baseline architecture trained on segments 0-6 for 10 epochs
(the calibration row baseline_0-6; the committed file is seed 1 of a run with KERAS_BACKEND=torch).
Then re-save them with the students' Keras (examples/resave_models.py), as students' files are.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "examples" / "models"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trained", type=Path, help="the calibration run's --save-dir")
    parser.add_argument("--seed", type=int, default=0, help="which seed's improved models to use")
    parser.add_argument("--baseline-seed", type=int, default=0, help="which seed's baseline (segments 0-2)")
    parser.add_argument("--more-data-seed", type=int, default=1, help="which seed's baseline on segments 0-6")
    args = parser.parse_args(argv)

    import keras

    from reference import p4_cnn

    OUT.mkdir(parents=True, exist_ok=True)
    picks = {
        "improved_1.keras": args.trained / f"improved_1_seed{args.seed}.keras",
        "improved_2.keras": args.trained / f"improved_2_seed{args.seed}.keras",
        "baseline.keras": args.trained / f"baseline_0-2_seed{args.baseline_seed}.keras",
        "baseline_more_data.keras": args.trained / f"baseline_0-6_seed{args.more_data_seed}.keras",
    }
    for name, source in picks.items():
        model = keras.models.load_model(source, safe_mode=True, compile=False)
        p4_cnn.save_model(model, OUT / name)
        print(f"wrote examples/models/{name} from {source.name} ({model.count_params():,} parameters)")
    keras.utils.set_random_seed(0)
    untrained = keras.models.clone_model(p4_cnn.build_improved_2())
    p4_cnn.save_model(untrained, OUT / "untrained.keras")
    print("wrote examples/models/untrained.keras (improved_2's architecture, never trained)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
