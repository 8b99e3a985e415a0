"""Print the summary table of every figure the benchmark modules wrote in this run."""

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import load_figures, summary_notes, summary_table  # noqa: E402


def main() -> int:
    figures = load_figures()
    if not figures:
        print("bench: no figures were recorded", file=sys.stderr)
        return 1
    print(summary_table(figures))
    notes = summary_notes(figures)
    if notes:
        print("\nNotes:\n" + notes)
    missed = [f.name for f in figures if f.meets_target is False]
    if missed:
        print(f"\n{len(missed)} figure(s) miss their target: {', '.join(missed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
