"""The table at the end of ``bench/run``: the machine, then every recorded ratio.

    .venv/bin/python bench/summary.py RESULTS.jsonl

Prints Markdown, ready for docs/performance.md.
"""

import json
import sys
from pathlib import Path

from harness import machine


def main() -> None:
    lines = [json.loads(line) for line in Path(sys.argv[1]).read_text().splitlines() if line]
    facts = machine()
    print("\n## Machine\n")
    for name, value in facts.items():
        print(f"- {name}: {value}")
    print("\n## Results\n")
    print("| benchmark | measure | value | target | verdict |")
    print("|---|---|---|---|---|")
    for line in lines:
        verdict = {True: "meets", False: "**short**", None: ""}[line["ok"]]
        measure = line["measure"] + (f" ({line['detail']})" if line["detail"] else "")
        print(
            f"| {line['bench']} | {measure} | {line['value']:.3g} | {line['target']} | {verdict} |"
        )
    short = [line for line in lines if line["ok"] is False]
    print(f"\n{len(short)} of {sum(line['ok'] is not None for line in lines)} targets missed.")


if __name__ == "__main__":
    main()
