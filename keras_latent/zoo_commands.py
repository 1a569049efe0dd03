"""The command-line frame of the commands that add files to trained presets in place
(:mod:`keras_latent.zoo_samplers`, :mod:`keras_latent.zoo_figures`): the presets named, or
every one that can take the addition, each reported on one line."""

import argparse
import sys
from pathlib import Path

from keras_latent import presets


def parser(module, doc):
    """The arguments of the command ``python -m module`` (described by the first line of
    ``doc``): preset names, ``--data-dir`` and ``--root``."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=doc.split("\n")[0])
    parser.add_argument("names", nargs="*", help="presets (default: every one that can)")
    parser.add_argument("--data-dir", type=Path, help="folder of the datasets' files")
    parser.add_argument("--root", type=Path, default=presets.ZOO_DIR, help="the zoo folder")
    return parser


def trained_presets(root):
    """``{name: metadata}`` of the presets under ``root`` with trained weights (recorded in
    ``metadata.json`` and present), in name order."""
    from keras_latent import zoo

    found = {}
    for folder in sorted(Path(root).iterdir()):
        meta = zoo.read_metadata(folder) if (folder / zoo.CONFIG_FILE).is_file() else {}
        if meta.get("weights") and (folder / zoo.WEIGHTS_FILE).is_file():
            found[folder.name] = meta
    return found


def each_preset(args, candidates, unable, add, skipped):
    """Call ``add(folder)`` (it returns the line to print) for each preset ``args.names`` names
    under ``args.root``, else for every one ``candidates(args.root)`` lists. A named preset
    not among those is reported with ``unable``; one whose ``add`` raises FileNotFoundError or
    ValueError (its data or files not found) with ``skipped``, the error after it. Returns the
    exit status: 2 where ``args.root`` is no folder, 1 where a named preset got nothing."""
    if not args.root.is_dir():
        print(f"error: {args.root} is not a folder", file=sys.stderr)
        return 2
    able = candidates(args.root)
    failed = False
    for name in args.names or able:
        if name not in able:
            print(f"{name}: skipped: {unable}")
            failed = True
            continue
        try:
            print(f"{name}: {add(args.root / name)}")
        except (FileNotFoundError, ValueError) as error:
            print(f"{name}: skipped: {skipped}: {error}")
            failed = failed or bool(args.names)
    return 1 if failed else 0


def preset_dataset(folder, meta, purpose):
    """The ``keras_latent.datasets`` name preset ``folder``'s metadata ``meta`` records; a
    ValueError saying it cannot ``purpose`` (e.g. "fit a sampler on") where it records none."""
    data = (meta.get("dataset") or {}).get("data")
    if data is None:
        raise ValueError(f"{Path(folder) / 'metadata.json'} names no dataset to {purpose}")
    return data


def command_line(module, folder, data):
    """The command that adds to preset ``folder`` (of dataset ``data``), as its record keeps
    it: image data take ``--data-dir``, the lines are generated."""
    command = f"python -m {module} {Path(folder).name}"
    return command if data == "lines" else command + " --data-dir DATA_DIR"
