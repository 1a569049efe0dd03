"""Generate the top-level ``zoo/`` from the tables of :mod:`keras_latent.presets`.

python -m keras_latent.zoo_build            # rewrite zoo/ (keeps trained weights)
python -m keras_latent.zoo_build --check    # exit 1 if zoo/ differs from the tables
python -m keras_latent.zoo_build acai_mnist # only these presets

Its model cards (``cards.model_card(meta, generated=True)``) are the only ones that quote the
paper's figures and say "do not edit by hand"; a folder ``keras_latent.zoo.save_preset`` or
``keras-latent train`` writes gets a card of its own (its name, data and origin).
"""

import argparse
import sys
from pathlib import Path

from keras_latent.presets import ZOO_DIR, build_presets, stale_folders


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m keras_latent.zoo_build", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--output", type=Path, default=ZOO_DIR, help=f"default {ZOO_DIR}")
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 on change")
    parser.add_argument("names", nargs="*", help="presets to generate (default: all)")
    args = parser.parse_args(argv)
    try:
        changed = build_presets(args.output, names=args.names or None, check=args.check)
    except (ValueError, TypeError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in changed:
        print(("differs: " if args.check else "wrote: ") + str(path))
    stale = [] if args.names else stale_folders(args.output)
    for path in stale:
        print(f"not a preset of keras_latent.presets (remove it by hand): {path}")
    if args.check and (changed or stale):
        print("zoo/ is out of date: run python -m keras_latent.zoo_build", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
