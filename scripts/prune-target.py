#!/usr/bin/env python3
"""Delete stale executables from a cargo target folder that is kept between builds.

Every change to a dependency or to the build profile gives each test binary, example and bench a new
hash; cargo never removes the old ones, and with about thirty test binaries of a few hundred MiB each a
kept target folder grows by ~10 GiB per such change (and per clone path: a path crate's hash includes its
path). This keeps the newest executable of each name in debug/ and release/ (deps/ and examples/) and
deletes the rest, with their .d files. With --all it deletes every one of them: CI does that around each
run, since a fresh clone relinks every test binary anyway, so between runs the kept folder holds only the
compiled dependencies.

Usage: prune-target.py [--all] TARGET_DIR...
"""
import collections
import os
import sys


def prune(folder, keep):
    groups = collections.defaultdict(list)
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if "." in name or not os.path.isfile(path) or not os.access(path, os.X_OK):
            continue
        groups[name.rsplit("-", 1)[0]].append(path)
    freed = 0
    for paths in groups.values():
        paths.sort(key=os.path.getmtime)
        for path in paths[: len(paths) - keep]:
            freed += os.path.getsize(path)
            os.remove(path)
            if os.path.exists(path + ".d"):
                os.remove(path + ".d")
    return freed


def main(args):
    keep = 0 if "--all" in args else 1
    for root in (a for a in args if a != "--all"):
        for profile in ("debug", "release"):
            for sub in ("deps", "examples"):
                folder = os.path.join(root, profile, sub)
                if os.path.isdir(folder):
                    freed = prune(folder, keep)
                    if freed:
                        print(f"prune-target: {folder}: {freed / 2**20:.0f} MiB of stale executables removed")


if __name__ == "__main__":
    main(sys.argv[1:])
