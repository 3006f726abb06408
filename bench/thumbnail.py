"""``/thumbnail`` of a 24-megapixel JPEG, cold and warm, against Pillow alone.

    .venv/bin/python bench/thumbnail.py [--copies 5] [--warm 50]

A 6000×4000 JPEG is generated with Pillow and copied ``--copies`` times (each copy is a
new file, so its first ``/thumbnail`` finds the cache empty: cold). For each copy in
turn, this process makes the thumbnail with Pillow alone (open, draft, thumbnail to
200 px, save JPEG) and then asks docrelay for it; then the first copy is asked for
``--warm`` more times (from docrelay's disk cache). The cold ratio is the median of the
per-copy ratios; the warm one is of medians.
"""

from __future__ import annotations

import argparse
import io
import shutil
import time
from pathlib import Path

import httpx
from harness import AUTH, Servers, median, record, work_folder
from PIL import Image

BENCH = "thumbnail"
WIDTH, HEIGHT = 6000, 4000


def make_photo(path: Path) -> None:
    """Colour fields with grain, about 9 MiB at quality 90, as a camera's 24 MP JPEG is."""
    small = Image.effect_noise((60, 40), 80).convert("L")
    red = small.resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC)
    green = Image.linear_gradient("L").resize((WIDTH, HEIGHT))
    blue = green.transpose(Image.Transpose.ROTATE_90).resize((WIDTH, HEIGHT))
    grain = Image.effect_noise((WIDTH, HEIGHT), 40)
    photo = Image.merge(
        "RGB", (Image.blend(red, grain, 0.18), Image.blend(green, grain, 0.35), blue)
    )
    photo.save(path, "JPEG", quality=90)


def pillow_alone(path: Path) -> float:
    started = time.perf_counter()
    with Image.open(path) as image:
        image.draft("RGB", (200, 800))
        image.thumbnail((200, 800))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=85)
    return (time.perf_counter() - started) * 1000


def from_docrelay(client: httpx.Client, url: str, item_id: str) -> float:
    started = time.perf_counter()
    response = client.get(url, params={"id": item_id, "size": "200"})
    response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200 or response.headers["content-type"] != "image/jpeg":
        raise RuntimeError(f"thumbnail: {response.status_code} {response.headers}")
    with Image.open(io.BytesIO(response.content)) as image:
        if image.size[0] != 200:
            raise RuntimeError(f"thumbnail of {image.size}: an icon, not a preview?")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=5)
    parser.add_argument("--warm", type=int, default=50)
    options = parser.parse_args()
    with work_folder(BENCH) as work, Servers(work) as servers:
        root = work / "root"
        root.mkdir()
        make_photo(root / "photo-0.jpg")
        for index in range(1, options.copies):
            shutil.copyfile(root / "photo-0.jpg", root / f"photo-{index}.jpg")
        size_mib = (root / "photo-0.jpg").stat().st_size / 1024**2
        print(
            f"/thumbnail of a {WIDTH}x{HEIGHT} JPEG ({size_mib:.1f} MiB), "
            f"{options.copies} cold, {options.warm} warm",
            flush=True,
        )
        docrelay = servers.docrelay(root)
        url = docrelay.url("/api/thumbnail")
        with httpx.Client(headers=AUTH, timeout=60) as client:
            listing = client.get(docrelay.url("/api/files"), params={"parentId": "/"}).json()
            ids = {item["title"]: item["id"] for item in listing}
            pillow_alone(root / "photo-0.jpg")  # load the decoder once, as a server has
            pillow, cold = [], []
            for index in range(options.copies):
                pillow.append(pillow_alone(root / f"photo-{index}.jpg"))
                cold.append(from_docrelay(client, url, ids[f"photo-{index}.jpg"]))
            warm = [from_docrelay(client, url, ids["photo-0.jpg"]) for _ in range(options.warm)]
        for name, times in (
            ("Pillow alone", pillow),
            ("docrelay cold", cold),
            ("docrelay warm", warm),
        ):
            shown = ", ".join(f"{value:.1f}" for value in times[:8])
            more = ", …" if len(times) > 8 else ""
            print(f"  {name:<14} median {median(times):8.2f} ms  ({shown}{more})")
        # per copy, Pillow and docrelay back to back: steadier than a ratio of medians
        ratio = median([ours / theirs for ours, theirs in zip(cold, pillow, strict=True)])
        record(BENCH, "docrelay cold / Pillow alone", ratio, target="<= 1.5", ok=ratio <= 1.5)
        record(BENCH, "Pillow alone / docrelay warm", median(pillow) / median(warm))


if __name__ == "__main__":
    main()
